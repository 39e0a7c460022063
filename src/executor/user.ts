// Resolving a `USER` spec against the image's /etc/passwd and /etc/group, with upstream's rules
// (moby/sys/user GetExecUser as BuildKit calls it): names or numbers on either side of the colon, numeric
// ids that have no entry are taken as they are, and supplementary groups come from /etc/group only when
// no group was given.
import { open } from "node:fs/promises";
import { resolveInRoot } from "./resolve-in-root.js";
import { GantryError, errnoOf } from "../util/errors.js";

export interface ExecUser {
  uid: number;
  gid: number;
  /** Supplementary groups; always starts with `gid`, as the OCI spec upstream writes does. */
  additionalGids: number[];
}

/** Files bigger than this are refused rather than read: a user database is never that large. */
const MAX_USER_FILE_BYTES = 10 << 20;
const MAX_ID = 2 ** 31 - 1;

interface PasswdEntry { name: string; uid: number; gid: number }
interface GroupEntry { name: string; gid: number; members: string[] }

function rows(text: string | undefined): string[][] {
  if (text === undefined) return [];
  return text.split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#")).map((l) => l.split(":"));
}

function num(s: string | undefined): number {
  const n = Number.parseInt(s ?? "", 10);
  return Number.isNaN(n) ? 0 : n;
}

function parsePasswd(text: string | undefined): PasswdEntry[] {
  return rows(text).map((f) => ({ name: f[0], uid: num(f[2]), gid: num(f[3]) }));
}

function parseGroup(text: string | undefined): GroupEntry[] {
  return rows(text).map((f) => ({ name: f[0], gid: num(f[2]), members: (f[3] ?? "").split(",").filter(Boolean) }));
}

/** A decimal id, undefined when `s` is a name; out-of-range numbers are InvalidArgument. */
function numericId(s: string, spec: string): number | undefined {
  if (!/^[+-]?\d+$/.test(s)) return undefined;
  const n = Number(s);
  if (n < 0 || n > MAX_ID) {
    throw new GantryError("InvalidArgument", `Cannot use user ${spec}: uids and gids must be in range 0-${MAX_ID}.`);
  }
  return n;
}

function withPrimary(gid: number, sgids: number[]): ExecUser["additionalGids"] {
  return sgids.includes(gid) ? sgids : [gid, ...sgids];
}

/** The `uid:gid` fast path: both sides numeric (or `root`), no files read. */
function parseUidGid(spec: string): { uid: number; gid: number } | undefined {
  const parts = spec.split(":");
  if (parts.length !== 2) return undefined;
  const ids = parts.map((p) => (p === "root" ? 0 : /^\d+$/.test(p) ? Number(p) : undefined));
  if (ids[0] === undefined || ids[1] === undefined || ids[0] > 0xffffffff || ids[1] > 0xffffffff) return undefined;
  return { uid: ids[0], gid: ids[1] };
}

/**
 * Resolves `spec` (`""`, `uid`, `name`, `uid:gid`, `name:group`, …) given the text of /etc/passwd and
 * /etc/group (undefined when the file is absent). An unknown name is InvalidArgument
 * ("unable to find user X"); an empty spec means root and never fails.
 */
export function parseExecUser(spec: string, passwd?: string, group?: string): ExecUser {
  if (spec === "") {
    try {
      return parseExecUser("0", passwd, group);
    } catch {
      // Upstream falls back to root silently when even uid 0 cannot be looked up.
      return { uid: 0, gid: 0, additionalGids: [0] };
    }
  }
  const fast = parseUidGid(spec);
  if (fast) return { ...fast, additionalGids: [fast.gid] };

  const [userArg, groupArg = ""] = spec.split(":");
  const uidArg = numericId(userArg, spec);
  const gidArg = groupArg === "" ? undefined : numericId(groupArg, spec);

  let uid = 0;
  let gid = 0;
  let matchedName: string | undefined;
  const user = parsePasswd(passwd).find((u) => (uidArg !== undefined ? u.uid === uidArg : u.name === userArg));
  if (user) {
    ({ uid, gid } = user);
    matchedName = user.name;
  } else if (uidArg !== undefined) {
    uid = uidArg;
  } else {
    throw new GantryError("InvalidArgument", `unable to find user ${userArg}: no matching entries in passwd file`);
  }

  let sgids: number[] = [];
  if (groupArg !== "") {
    const g = parseGroup(group).find((e) => (gidArg !== undefined ? e.gid === gidArg : e.name === groupArg));
    if (g) gid = g.gid;
    else if (gidArg !== undefined) gid = gidArg;
    else throw new GantryError("InvalidArgument", `unable to find group ${groupArg}: no matching entries in group file`);
  } else if (matchedName !== undefined) {
    const name = matchedName;
    sgids = parseGroup(group).filter((e) => e.members.includes(name)).map((e) => e.gid);
  }
  return { uid, gid, additionalGids: withPrimary(gid, sgids) };
}

async function readUserFile(rootfs: string, p: string): Promise<string | undefined> {
  const { hostPath } = await resolveInRoot(rootfs, p);
  let fh;
  try {
    fh = await open(hostPath, "r");
  } catch (err) {
    // An image without the file (scratch, distroless) is normal: numeric users still work.
    if (errnoOf(err) === "ENOENT" || errnoOf(err) === "ENOTDIR") return undefined;
    throw err;
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) return undefined;
    if (st.size > MAX_USER_FILE_BYTES) {
      throw new GantryError("InvalidArgument", `Cannot read ${p}: it exceeds ${MAX_USER_FILE_BYTES} bytes.`);
    }
    return await fh.readFile("utf8");
  } finally {
    await fh.close();
  }
}

/** Resolves `spec` against the passwd and group files of the root filesystem mounted at `rootfs`. */
export async function resolveUser(rootfs: string, spec: string): Promise<ExecUser> {
  const fast = spec === "" ? undefined : parseUidGid(spec);
  if (fast) return { ...fast, additionalGids: [fast.gid] };
  const [passwd, group] = await Promise.all([readUserFile(rootfs, "/etc/passwd"), readUserFile(rootfs, "/etc/group")]);
  return parseExecUser(spec, passwd, group);
}
