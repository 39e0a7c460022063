// File actions (mkdir, mkfile, rm, copy, symlink) chained into one FileOp like upstream's
// client/llb/fileop.go: each action after the first reads the result of the one before it, encoded as
// `numInputs + k`.
import { posix } from "node:path";
import { create } from "@bufbuild/protobuf";
import {
  ChownOptSchema, FileActionCopySchema, FileActionMkDirSchema, FileActionMkFileSchema, FileActionRmSchema,
  FileActionSchema, FileActionSymlinkSchema, FileOpSchema, NamedUserOptSchema, UserOptSchema,
  type ChownOpt, type FileAction as PbFileAction, type Input, type UserOpt,
} from "../gen/pb/ops_pb.js";
import type { Platform } from "../oci/types.js";
import { Caps } from "./keys.js";
import { baseOp, type BuiltOp, type MarshalContext, type OpOptions, type Output, type Vertex } from "./vertex.js";

/** What a file action needs from a state (State implements it). */
export interface FileBase {
  output(): Output | undefined;
  getDir(): string;
  getPlatform(): Platform | undefined;
}

/** `"1000:1000"`, `"app"`, `"app:staff"`, or ids/names given separately. */
export type Owner = string | { user?: string | number; group?: string | number };

/** Unix nanoseconds as bigint, or a Date; unset means -1 ("now"/"keep"), as upstream. */
export type CreatedTime = Date | bigint;

export interface MkdirOptions { parents?: boolean; owner?: Owner; createdTime?: CreatedTime }
export interface MkfileOptions { owner?: Owner; createdTime?: CreatedTime }
export interface RmOptions { allowNotFound?: boolean; allowWildcard?: boolean }
export interface SymlinkOptions { owner?: Owner; createdTime?: CreatedTime }
export interface CopyOptions {
  followSymlinks?: boolean;
  copyDirContentsOnly?: boolean;
  createDestPath?: boolean;
  allowWildcard?: boolean;
  allowEmptyWildcard?: boolean;
  /** Unpack archives like Docker's ADD. */
  attemptUnpack?: boolean;
  /** Permission bits, or a symbolic mode string such as "u+x". Unset keeps the source's. */
  mode?: number | string;
  owner?: Owner;
  include?: string[];
  exclude?: string[];
  requiredPaths?: string[];
  alwaysReplaceExistingDestPaths?: boolean;
  createdTime?: CreatedTime;
}

type Action =
  | { kind: "mkdir"; path: string; mode: number; opts: MkdirOptions }
  | { kind: "mkfile"; path: string; mode: number; data: Uint8Array; opts: MkfileOptions }
  | { kind: "rm"; path: string; opts: RmOptions }
  | { kind: "copy"; from: FileBase; src: string; dest: string; opts: CopyOptions }
  | { kind: "symlink"; oldpath: string; newpath: string; opts: SymlinkOptions };

/** An immutable chain of file actions; each method returns a longer chain. */
export class FileAction {
  readonly #prev: FileAction | undefined;
  readonly #action: Action;

  constructor(prev: FileAction | undefined, action: Action) {
    this.#prev = prev;
    this.#action = action;
  }

  mkdir(path: string, mode: number, opts: MkdirOptions = {}): FileAction {
    return new FileAction(this, { kind: "mkdir", path, mode, opts });
  }

  mkfile(path: string, mode: number, data: Uint8Array | string, opts: MkfileOptions = {}): FileAction {
    return new FileAction(this, { kind: "mkfile", path, mode, data: toBytes(data), opts });
  }

  rm(path: string, opts: RmOptions = {}): FileAction {
    return new FileAction(this, { kind: "rm", path, opts });
  }

  copy(from: FileBase, src: string, dest: string, opts: CopyOptions = {}): FileAction {
    return new FileAction(this, { kind: "copy", from, src, dest, opts });
  }

  symlink(oldpath: string, newpath: string, opts: SymlinkOptions = {}): FileAction {
    return new FileAction(this, { kind: "symlink", oldpath, newpath, opts });
  }

  /** The actions, first to last. */
  list(): readonly Action[] {
    return [...(this.#prev?.list() ?? []), this.#action];
  }
}

/** Starts a chain with a mkdir (`parents` creates missing parents). */
export function mkdir(path: string, mode: number, opts: MkdirOptions = {}): FileAction {
  return new FileAction(undefined, { kind: "mkdir", path, mode, opts });
}

/** Starts a chain with a new file holding `data`. */
export function mkfile(path: string, mode: number, data: Uint8Array | string, opts: MkfileOptions = {}): FileAction {
  return new FileAction(undefined, { kind: "mkfile", path, mode, data: toBytes(data), opts });
}

/** Starts a chain with a removal. */
export function rm(path: string, opts: RmOptions = {}): FileAction {
  return new FileAction(undefined, { kind: "rm", path, opts });
}

/** Starts a chain with a copy of `src` (relative to `from`'s dir) to `dest`. */
export function copy(from: FileBase, src: string, dest: string, opts: CopyOptions = {}): FileAction {
  return new FileAction(undefined, { kind: "copy", from, src, dest, opts });
}

/** Starts a chain with a symlink at `newpath` pointing to `oldpath`. */
export function symlink(oldpath: string, newpath: string, opts: SymlinkOptions = {}): FileAction {
  return new FileAction(undefined, { kind: "symlink", oldpath, newpath, opts });
}

/** A FileOp applying a chain to a base state. */
export class FileVertex implements Vertex {
  readonly #base: FileBase;
  readonly #actions: readonly Action[];
  readonly #opts: OpOptions;

  constructor(base: FileBase, action: FileAction, opts: OpOptions) {
    this.#base = base;
    this.#actions = action.list();
    this.#opts = opts;
  }

  // Same order as upstream (base, then copy sources from the last action back) so definitions list
  // vertices identically.
  inputs(): readonly Output[] {
    const seen = new Set<Output>();
    const base = this.#base.output();
    if (base) seen.add(base);
    for (const a of [...this.#actions].reverse()) {
      const src = a.kind === "copy" ? a.from.output() : undefined;
      if (src) seen.add(src);
    }
    return [...seen];
  }

  build(ctx: MarshalContext): BuiltOp {
    const inputs: Input[] = [];
    const addInput = (out: Output | undefined): number => {
      if (out === undefined) return -1;
      const inp = ctx.input(out);
      const i = inputs.findIndex((x) => x.digest === inp.digest && x.index === inp.index);
      return i >= 0 ? i : inputs.push(inp) - 1;
    };
    const planned = this.#actions.map((a) => ({
      a,
      base: addInput(this.#base.output()),
      secondary: a.kind === "copy" ? addInput(a.from.output()) : -1,
    }));
    const caps = new Set<string>([Caps.fileBase]);
    const dir = this.#base.getDir();
    const file = create(FileOpSchema);
    planned.forEach(({ a, base, secondary }, k) => {
      const pa = create(FileActionSchema, {
        input: BigInt(k === 0 ? base : inputs.length + k - 1),
        secondaryInput: BigInt(secondary),
        output: BigInt(k === planned.length - 1 ? 0 : -1),
      });
      pa.action = toPbAction(a, dir, base, caps);
      file.actions.push(pa);
    });
    const platform = ctx.options.fileOpPlatform ? (this.#opts.platform ?? this.#base.getPlatform()) : null;
    const built = baseOp(ctx, this.#opts, caps, platform);
    const { op } = built;
    op.inputs = inputs;
    op.op = { case: "file", value: file };
    return built;
  }
}

function toPbAction(a: Action, dir: string, base: number, caps: Set<string>): PbFileAction["action"] {
  switch (a.kind) {
    case "mkdir":
      return { case: "mkdir", value: create(FileActionMkDirSchema, {
        path: normalizePath(dir, a.path, false), mode: a.mode & 0o777, makeParents: a.opts.parents ?? false,
        owner: chown(a.opts.owner, base), timestamp: timestamp(a.opts.createdTime),
      }) };
    case "mkfile":
      return { case: "mkfile", value: create(FileActionMkFileSchema, {
        path: normalizePath(dir, a.path, false), mode: a.mode & 0o777, data: a.data,
        owner: chown(a.opts.owner, base), timestamp: timestamp(a.opts.createdTime),
      }) };
    case "rm":
      return { case: "rm", value: create(FileActionRmSchema, {
        path: normalizePath(dir, a.path, false), allowNotFound: a.opts.allowNotFound ?? false,
        allowWildcard: a.opts.allowWildcard ?? false,
      }) };
    case "symlink":
      caps.add(Caps.fileSymlinkCreate);
      return { case: "symlink", value: create(FileActionSymlinkSchema, {
        oldpath: a.oldpath, newpath: a.newpath, owner: chown(a.opts.owner, base), timestamp: timestamp(a.opts.createdTime),
      }) };
    case "copy":
      return { case: "copy", value: copyAction(a, dir, base, caps) };
  }
}

function copyAction(a: Extract<Action, { kind: "copy" }>, dir: string, base: number, caps: Set<string>) {
  const o = a.opts;
  const src = goClean(a.src);
  const c = create(FileActionCopySchema, {
    src: posix.isAbsolute(src) ? src : goClean(posix.join(a.from.getDir() || "/", src)),
    dest: normalizePath(dir, a.dest, true),
    owner: chown(o.owner, base),
    includePatterns: o.include ?? [],
    excludePatterns: o.exclude ?? [],
    requiredPaths: o.requiredPaths ?? [],
    allowWildcard: o.allowWildcard ?? false,
    allowEmptyWildcard: o.allowEmptyWildcard ?? false,
    followSymlink: o.followSymlinks ?? false,
    dirCopyContents: o.copyDirContentsOnly ?? false,
    attemptUnpackDockerCompatibility: o.attemptUnpack ?? false,
    createDestPath: o.createDestPath ?? false,
    timestamp: timestamp(o.createdTime),
    alwaysReplaceExistingDestPaths: o.alwaysReplaceExistingDestPaths ?? false,
    mode: typeof o.mode === "number" ? o.mode : -1,
    modeStr: typeof o.mode === "string" ? o.mode : "",
  });
  if (typeof o.mode === "string") {
    c.mode = 0;
    caps.add(Caps.fileCopyModeStringFormat);
  }
  if (o.include?.length || o.exclude?.length) caps.add(Caps.fileCopyIncludeExcludePatterns);
  if (o.requiredPaths?.length) caps.add(Caps.fileCopyRequiredPaths);
  if (o.alwaysReplaceExistingDestPaths) caps.add(Caps.fileCopyAlwaysReplaceExistingDestPaths);
  return c;
}

function chown(owner: Owner | undefined, base: number): ChownOpt | undefined {
  if (owner === undefined) return undefined;
  const [user, group] = typeof owner === "string" ? owner.split(/:(.*)/s, 2) : [owner.user, owner.group];
  const out = create(ChownOptSchema);
  if (user !== undefined && user !== "") out.user = userOpt(user, base);
  if (group !== undefined && group !== "") out.group = userOpt(group, base);
  return out;
}

// Numbers and "root" become ids; anything else is a name resolved in the base's /etc files.
function userOpt(v: string | number, base: number): UserOpt {
  const id = typeof v === "number" ? v : v === "root" ? 0 : /^[+-]?\d+$/.test(v) ? Number(v) : undefined;
  if (id !== undefined && Number.isInteger(id) && id >= 0 && id <= 0x7fffffff) {
    return create(UserOptSchema, { user: { case: "byID", value: id } });
  }
  return create(UserOptSchema, {
    user: { case: "byName", value: create(NamedUserOptSchema, { name: String(v), input: BigInt(base) }) },
  });
}

function timestamp(t: CreatedTime | undefined): bigint {
  if (t === undefined) return -1n;
  return typeof t === "bigint" ? t : BigInt(t.getTime()) * 1_000_000n;
}

/** Go's path.Clean: like posix.normalize but without a trailing slash and "." for empty. */
export function goClean(p: string): string {
  const n = posix.normalize(p === "" ? "." : p);
  return n.length > 1 && n.endsWith("/") ? n.slice(0, -1) : n;
}

// Relative paths resolve against the state's dir; a trailing "/" or "/." on dest is kept, as it
// changes copy semantics.
function normalizePath(parent: string, p: string, keepSlash: boolean): string {
  let out = goClean(p);
  if (!posix.isAbsolute(out)) out = goClean(posix.join("/", parent, out));
  if (keepSlash) {
    if (p.endsWith("/") && !out.endsWith("/")) out += "/";
    else if (p.endsWith("/.")) out = `${out === "/" ? "" : out}/.`;
  }
  return out;
}

function toBytes(data: Uint8Array | string): Uint8Array {
  return typeof data === "string" ? new TextEncoder().encode(data) : data;
}
