// COPY and ADD: one FileOp copying local, stage, URL, git and heredoc sources to the destination; with
// --link the copy goes onto scratch and is merged.

import { posix } from "node:path";
import { randomBytes } from "node:crypto";
import type { CopyOptions, FileAction } from "../../../llb/file-actions.js";
import { copy, merge, mkfile, scratch, type State } from "../../../llb/state.js";
import { GantryError } from "../../../util/errors.js";
import type { SourcesAndDest } from "../instructions/commands.js";
import { stateEnv, type DispatchContext } from "./dispatch-context.js";
import type { DispatchState } from "./dispatch-state.js";
import { commitToHistory } from "./history.js";
import { gitState, httpState, isHttpSource, parseGitRef } from "./remote-sources.js";
import { internalName, prefixCommand, processCmdEnv, uppercaseCmd } from "./vertex-names.js";

/** What one COPY or ADD asks for, after expansion. */
export interface CopyConfig {
  params: SourcesAndDest;
  source: State;
  isAdd: boolean;
  code: string;
  chown: string;
  chmod: string;
  link: boolean;
  excludePatterns: string[];
  parents: boolean;
  keepGitDir?: boolean;
  checksum: string;
  unpack?: boolean;
}

/** Dispatches COPY/ADD onto the stage's state and records a layer in history. */
export function dispatchCopy(d: DispatchState, cfg: CopyConfig, ctx: DispatchContext): void {
  const dest = destPath(d, cfg.params.destPath);
  const common: CopyOptions = {};
  if (cfg.chown !== "") common.owner = cfg.chown;
  if (cfg.excludePatterns.length > 0) common.exclude = [...cfg.excludePatterns];
  const mode = parseChmod(cfg.chmod);
  if (mode !== undefined) common.mode = mode;
  checkChecksum(cfg);
  const env = stateEnv(d);
  const name = uppercaseCmd(processCmdEnv(ctx.shlex, cfg.code, env));
  const pgName = prefixCommand(d, name);
  let msg = cfg.isAdd ? "ADD" : "COPY";
  let action: FileAction | undefined;
  const add = (from: State, src: string, opts: CopyOptions): void => {
    action = action ? action.copy(from, src, dest, opts) : copy(from, src, dest, opts);
  };
  for (const src of cfg.params.sourcePaths) {
    msg += ` ${src}`;
    addSource(src, cfg, common, pgName, add);
  }
  for (const content of cfg.params.sourceContents) {
    msg += ` <<${content.path}`;
    const st = scratch().file(mkfile(content.path, 0o664, content.data), { customName: internalName("preparing inline document") });
    add(st, content.path, { ...common, createDestPath: true });
  }
  msg += ` ${cfg.params.destPath}`;
  if (action === undefined) throw new GantryError("InvalidArgument", `${cfg.isAdd ? "ADD" : "COPY"} has no sources`);
  applyCopy(d, action, cfg, pgName, name);
  commitToHistory(d.image, msg, true, true);
}

function addSource(src: string, cfg: CopyConfig, common: CopyOptions, pgName: string,
  add: (from: State, src: string, opts: CopyOptions) => void): void {
  const gitRef = parseGitRef(src);
  if (gitRef !== undefined) {
    if (!cfg.isAdd) throw new GantryError("InvalidArgument", "source can't be a git ref for COPY");
    add(gitState(gitRef, { keepGitDir: cfg.keepGitDir, checksum: cfg.checksum, customName: pgName }), "/",
      { ...common, createDestPath: true });
    return;
  }
  if (isHttpSource(src)) {
    if (!cfg.isAdd) throw new GantryError("InvalidArgument", "source can't be a URL for COPY");
    const { state, filename } = httpState(src, cfg.checksum);
    add(state, filename, { ...common, createDestPath: true, ...(cfg.unpack ? { attemptUnpack: true } : {}) });
    return;
  }
  const opts: CopyOptions = {
    ...common, followSymlinks: true, copyDirContentsOnly: true, attemptUnpack: cfg.unpack ?? cfg.isAdd,
    createDestPath: true, allowWildcard: true, allowEmptyWildcard: true,
  };
  let from = src;
  if (cfg.parents) {
    // `dir/./pattern` copies `pattern` keeping its path below the pivot `dir`.
    const pivot = src.indexOf("/./");
    const pattern = posix.join("/", pivot < 0 ? src : src.slice(pivot + 3)).slice(1);
    from = pivot < 0 ? "/" : src.slice(0, pivot);
    opts.include = [pattern];
    if (!hasWildcards(from) && !hasWildcards(pattern)) opts.requiredPaths = [posix.join("/", from, pattern)];
  }
  add(cfg.source, posix.join("/", from), opts);
}

function applyCopy(d: DispatchState, action: FileAction, cfg: CopyConfig, pgName: string, name: string): void {
  if (cfg.link && cfg.chmod === "") {
    // --link: the copy is made on scratch (so it is cached independently of the base) and merged on top.
    const id = newProgressGroupId();
    d.cmdIndex--;
    const linkName = prefixCommand(d, `LINK ${name}`);
    const layer = scratch().file(action, { progressGroup: { id, name: pgName, weak: true }, ...(d.ignoreCache ? { ignoreCache: true } : {}) });
    const merged = merge([d.state, layer], {
      customName: linkName, progressGroup: { id, name: pgName }, ...(d.ignoreCache ? { ignoreCache: true } : {}),
    });
    d.state = d.state.withOutput(merged.output());
    return;
  }
  d.state = d.state.file(action, { customName: pgName, ...(d.ignoreCache ? { ignoreCache: true } : {}) });
}

/** The absolute destination; a trailing `/` (or `.`) is kept because it means "into this directory". */
function destPath(d: DispatchState, p: string): string {
  const rel = posix.isAbsolute(p) ? p : posix.join(d.state.getDir(), p);
  let dest = posix.join("/", rel);
  if (p === "." || p === "" || p.endsWith("/")) dest += "/";
  return dest;
}

/** Octal modes become numbers; anything else must be a symbolic mode (`u+x`). */
function parseChmod(chmod: string): number | string | undefined {
  if (chmod === "") return undefined;
  if (/^[0-7]+$/.test(chmod)) {
    const mode = parseInt(chmod, 8);
    if (mode > 0o7777) throw invalidChmod(chmod);
    return mode;
  }
  if (/^\d+$/.test(chmod)) throw invalidChmod(chmod);
  if (!/^([ugoa]*[-+=]([rwxXst]*|[ugo]))(,[ugoa]*[-+=]([rwxXst]*|[ugo]))*$/.test(chmod)) {
    throw new GantryError("InvalidArgument", `invalid chmod parameter: '${chmod}'`);
  }
  return chmod;
}

function invalidChmod(chmod: string): GantryError {
  return new GantryError("InvalidArgument", `invalid chmod parameter: '${chmod}'. it should be octal string and between 0 and 07777`);
}

function checkChecksum(cfg: CopyConfig): void {
  if (cfg.checksum === "") return;
  if (!cfg.isAdd) throw new GantryError("InvalidArgument", "checksum can't be specified for COPY");
  if (cfg.params.sourcePaths.length !== 1) throw new GantryError("InvalidArgument", "checksum can't be specified for multiple sources");
  const src = cfg.params.sourcePaths[0];
  if (!isHttpSource(src) && parseGitRef(src) === undefined) {
    throw new GantryError("InvalidArgument", "checksum requires HTTP(S) or Git sources");
  }
}

function hasWildcards(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    if (name[i] === "\\") i++;
    else if (name[i] === "*" || name[i] === "?" || name[i] === "[") return true;
  }
  return false;
}

// Upstream's identity.NewID(): 128 random bits in base 36, 25 characters.
function newProgressGroupId(): string {
  return BigInt(`0x${randomBytes(16).toString("hex")}`).toString(36).padStart(25, "0");
}
