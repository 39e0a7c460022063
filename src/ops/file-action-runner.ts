// Runs one FileOp action on mounted directories, translating the protobuf action into the file engine's
// options (owners resolved against the named input's /etc/passwd and /etc/group).
import type { ChownOpt, FileAction, UserOpt } from "../gen/pb/ops_pb.js";
import { GantryError } from "../util/errors.js";
import { copy } from "./file/copy.js";
import { mkdir } from "./file/mkdir.js";
import { mkfile } from "./file/mkfile.js";
import { resolveOwner, type ChownSpec, type Owner, type UserSpec } from "./file/resolve-owner.js";
import { rm } from "./file/rm.js";
import { symlink } from "./file/symlink.js";

export interface ActionDirs {
  /** The action's target filesystem, mounted writable. */
  base: string;
  /** The copy source, mounted read-only (copy only). */
  secondary?: string;
  /** Mounted directory of an input or action output, by its FileAction index, for chown by name. */
  dirOf(index: number): Promise<string | undefined>;
}

function timestampOf(ns: bigint): Date | undefined {
  return ns < 0n ? undefined : new Date(Number(ns / 1_000_000n));
}

function userSpec(u: UserOpt | undefined): { spec?: UserSpec; input?: number } {
  if (!u) return {};
  if (u.user.case === "byID") return { spec: { id: u.user.value } };
  if (u.user.case === "byName") return { spec: { name: u.user.value.name }, input: Number(u.user.value.input) };
  return {};
}

async function ownerOf(opt: ChownOpt | undefined, dirs: ActionDirs, signal?: AbortSignal): Promise<Owner | undefined> {
  if (!opt || (!opt.user && !opt.group)) return undefined;
  const user = userSpec(opt.user);
  const group = userSpec(opt.group);
  const spec: ChownSpec = { ...(user.spec ? { user: user.spec } : {}), ...(group.spec ? { group: group.spec } : {}) };
  const rootFor = async (i: number | undefined): Promise<string | undefined> => (i === undefined ? undefined : (await dirs.dirOf(i)) ?? dirs.base);
  return resolveOwner(spec, { user: await rootFor(user.input), group: await rootFor(group.input) }, { signal });
}

export async function runFileAction(action: FileAction, dirs: ActionDirs, signal?: AbortSignal): Promise<void> {
  const a = action.action;
  switch (a.case) {
    case "mkdir":
      return mkdir(dirs.base, { path: a.value.path, mode: a.value.mode, makeParents: a.value.makeParents,
        owner: await ownerOf(a.value.owner, dirs, signal), timestamp: timestampOf(a.value.timestamp), signal });
    case "mkfile":
      return mkfile(dirs.base, { path: a.value.path, mode: a.value.mode, data: a.value.data,
        owner: await ownerOf(a.value.owner, dirs, signal), timestamp: timestampOf(a.value.timestamp), signal });
    case "rm":
      return rm(dirs.base, { path: a.value.path, allowNotFound: a.value.allowNotFound, allowWildcard: a.value.allowWildcard, signal });
    case "symlink":
      return symlink(dirs.base, { oldpath: a.value.oldpath, newpath: a.value.newpath,
        owner: await ownerOf(a.value.owner, dirs, signal), timestamp: timestampOf(a.value.timestamp), signal });
    case "copy": {
      const c = a.value;
      const mode = c.modeStr ? parseInt(c.modeStr, 8) : c.mode >= 0 ? c.mode : undefined;
      return copy(dirs.secondary ?? dirs.base, dirs.base, {
        src: c.src, dest: c.dest, owner: await ownerOf(c.owner, dirs, signal),
        ...(mode !== undefined && !Number.isNaN(mode) ? { mode } : {}),
        followSymlink: c.followSymlink, dirCopyContents: c.dirCopyContents,
        attemptUnpackDockerCompatibility: c.attemptUnpackDockerCompatibility, createDestPath: c.createDestPath,
        allowWildcard: c.allowWildcard, allowEmptyWildcard: c.allowEmptyWildcard, timestamp: timestampOf(c.timestamp),
        includePatterns: c.includePatterns, excludePatterns: c.excludePatterns,
        alwaysReplaceExistingDestPaths: c.alwaysReplaceExistingDestPaths, signal,
      });
    }
    default:
      throw new GantryError("InvalidArgument", "A file op action has no operation.");
  }
}
