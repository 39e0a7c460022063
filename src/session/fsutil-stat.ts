// fsutil's Stat carries Go's os.FileMode, whose type and special bits sit in the high bits, not POSIX
// st_mode. These conversions are the one place that knows both layouts.
import type { BigIntStats, Stats } from "node:fs";
import { constants } from "node:fs";
import type { Stat } from "../gen/fsutil/types/stat_pb.js";
import { newStat } from "./diffcopy-codec.js";

// POSIX special bits (absent from Node's typed fs.constants).
const S_ISUID = 0o4000;
const S_ISGID = 0o2000;
const S_ISVTX = 0o1000;

/** Go os.FileMode bits (unsigned 32-bit). */
export const GoMode = {
  dir: 0x80000000,
  append: 0x40000000,
  exclusive: 0x20000000,
  temporary: 0x10000000,
  symlink: 0x08000000,
  device: 0x04000000,
  namedPipe: 0x02000000,
  socket: 0x01000000,
  setuid: 0x00800000,
  setgid: 0x00400000,
  charDevice: 0x00200000,
  sticky: 0x00100000,
  irregular: 0x00080000,
  perm: 0o777,
} as const;

/** Go's os.ModeType: every bit that makes an entry something other than a regular file. */
export const GO_MODE_TYPE = (GoMode.dir | GoMode.symlink | GoMode.namedPipe | GoMode.socket | GoMode.device
  | GoMode.charDevice | GoMode.irregular) >>> 0;

/** POSIX st_mode → Go FileMode, as Go's os.Lstat builds it. */
export function goModeFromPosix(mode: number): number {
  let m = mode & 0o777;
  switch (mode & constants.S_IFMT) {
    case constants.S_IFDIR: m |= GoMode.dir; break;
    case constants.S_IFLNK: m |= GoMode.symlink; break;
    case constants.S_IFIFO: m |= GoMode.namedPipe; break;
    case constants.S_IFSOCK: m |= GoMode.socket; break;
    case constants.S_IFBLK: m |= GoMode.device; break;
    case constants.S_IFCHR: m |= GoMode.device | GoMode.charDevice; break;
    default: break;
  }
  if (mode & S_ISUID) m |= GoMode.setuid;
  if (mode & S_ISGID) m |= GoMode.setgid;
  if (mode & S_ISVTX) m |= GoMode.sticky;
  return m >>> 0;
}

/** Go FileMode → POSIX st_mode (type bits plus permission and special bits). */
export function posixModeFromGo(goMode: number): number {
  let m = goMode & 0o777;
  if (goMode & GoMode.dir) m |= constants.S_IFDIR;
  else if (goMode & GoMode.symlink) m |= constants.S_IFLNK;
  else if (goMode & GoMode.namedPipe) m |= constants.S_IFIFO;
  else if (goMode & GoMode.socket) m |= constants.S_IFSOCK;
  else if (goMode & GoMode.charDevice) m |= constants.S_IFCHR;
  else if (goMode & GoMode.device) m |= constants.S_IFBLK;
  else m |= constants.S_IFREG;
  if (goMode & GoMode.setuid) m |= S_ISUID;
  if (goMode & GoMode.setgid) m |= S_ISGID;
  if (goMode & GoMode.sticky) m |= S_ISVTX;
  return m;
}

/** The permission and special bits (what chmod takes) of a Go FileMode. */
export function chmodBitsFromGo(goMode: number): number {
  return posixModeFromGo(goMode) & 0o7777;
}

/** True for a regular file: only those have content a receiver may request. */
export function isRegularGoMode(goMode: number): boolean {
  return (goMode & GO_MODE_TYPE) === 0;
}

/** True for a directory. */
export function isDirGoMode(goMode: number): boolean {
  return (goMode & GoMode.dir) !== 0;
}

/** True for a symbolic link. */
export function isSymlinkGoMode(goMode: number): boolean {
  return (goMode & GoMode.symlink) !== 0;
}

/**
 * An fsutil Stat for `path` (relative, slash-separated) from lstat results. Pass BigIntStats for
 * nanosecond mtimes. `linkname` is the symlink target (read by the caller). Like fsutil, sizes are 0 for
 * directories and the socket bit is dropped.
 */
export function statFromFs(path: string, st: Stats | BigIntStats, linkname = ""): Stat {
  const mode = goModeFromPosix(Number(st.mode));
  const isDev = (mode & GoMode.device) !== 0;
  // Only devices need rdev split up; the BigInt work is skipped for the files that make up a listing.
  const rdev = isDev ? BigInt(st.rdev) : 0n;
  return newStat({
    path,
    mode: (mode & ~GoMode.socket) >>> 0,
    uid: Number(st.uid),
    gid: Number(st.gid),
    size: (mode & GoMode.dir) !== 0 ? 0n : BigInt(st.size),
    modTime: "mtimeNs" in st ? st.mtimeNs : BigInt(Math.round(st.mtimeMs * 1e6)),
    linkname,
    devmajor: isDev ? (rdev >> 8n) & 0xfffn : 0n,
    devminor: isDev ? (rdev & 0xffn) | ((rdev >> 12n) & 0xfff00n) : 0n,
  });
}
