// Answers `frontend.outline`: dispatches the target's stages without building and reports the build args
// they read (global ARGs through the FROM lines and the defaults that reference them), the secrets, SSH
// sockets and cache mounts they mount. Mirrors upstream's Dockerfile2Outline.

import type { SourceRange } from "../../../util/errors.js";
import type { ConvertOptions } from "../convert/convert-options.js";
import { dispatchDockerfile, type DispatchedDockerfile } from "../convert/dockerfile-to-llb.js";
import type { DispatchState } from "../convert/dispatch-state.js";
import { withBuildArgValue } from "../convert/build-args.js";
import type { OutlineMount } from "../convert/stage-outline.js";
import { parseDockerfile } from "../parser/parser.js";
import { commentsByLine, docComment } from "./doc-comment.js";
import { goBytes } from "./marshal-indent.js";
import { compareLocations, toPbLocation } from "./pb-location.js";
import type { Outline, OutlineArg, OutlineCacheMount, OutlineRequirement } from "./outline.js";

/** A build arg definition: its settled value, where it is, and the global ARGs its default read. */
interface ArgInfo {
  value?: string;
  description: string;
  location: SourceRange[];
  deps: Set<string>;
}

type Comments = Map<number, readonly string[]>;

/** Outlines the target of `opts.attrs` (the last stage by default). Throws as `dockerfileToLLB`. */
export async function outlineDockerfile(dockerfile: Uint8Array, opts: ConvertOptions): Promise<Outline> {
  const dispatched = await dispatchDockerfile(dockerfile, opts);
  const comments = commentsByLine(parseDockerfile(dockerfile).ast);
  return buildOutline(dispatched, comments, dockerfile);
}

/** The outline of a dispatched Dockerfile; `comments` are the comments above each instruction line. */
export function buildOutline(d: DispatchedDockerfile, comments: Comments, dockerfile: Uint8Array): Outline {
  const globals = globalArgInfos(d, comments);
  const target = d.target;
  const out: Outline = {};
  if (target.stage.name !== "") out.name = target.stage.name;
  const description = docComment(commentAt(comments, target.stage.location), target.stage.name);
  if (description !== "") out.description = description;
  const args = stageArgs(target, globals, comments, new Set()).sort(byLocationThenName);
  if (args.length > 0) out.args = args;
  const secrets = requirements(target, (s) => s.outline.secrets);
  if (secrets.length > 0) out.secrets = secrets;
  const ssh = requirements(target, (s) => s.outline.ssh);
  if (ssh.length > 0) out.ssh = ssh;
  const cache = cacheMounts(target);
  if (cache.length > 0) out.cache = cache;
  out.sources = [goBytes(dockerfile)];
  return out;
}

// Upstream's buildMetaArgs bookkeeping: each global ARG's value and the globals its default read; an ARG
// that extends itself (`ARG A=${A}x`) keeps what its earlier definition read.
function globalArgInfos(d: DispatchedDockerfile, comments: Comments): Map<string, ArgInfo> {
  const env = new Map(d.platformArgs.map((a) => withBuildArgValue(a, d.settings.buildArgs)).map((a) => [a.key, a.value ?? ""]));
  const infos = new Map<string, ArgInfo>();
  for (const cmd of d.metaArgCmds) {
    for (const arg of cmd.args) {
      const info: ArgInfo = {
        description: docComment(commentAt(comments, cmd.location), arg.key), location: cmd.location, deps: new Set(),
      };
      let value = d.settings.buildArgs.get(arg.key);
      if (value === undefined && arg.value !== undefined) {
        const r = expandWithMatches(d, arg.value, env);
        value = r.result;
        info.deps = r.matched;
        if (info.deps.delete(arg.key)) for (const dep of infos.get(arg.key)?.deps ?? []) info.deps.add(dep);
      }
      if (value !== undefined) {
        env.set(arg.key, value);
        info.value = value;
      }
      infos.set(arg.key, info);
    }
  }
  return infos;
}

function expandWithMatches(d: DispatchedDockerfile, word: string, env: Map<string, string>): { result: string; matched: Set<string> } {
  try {
    const r = d.shlex.processWordWithMatches(word, env);
    return { result: r.result, matched: new Set(r.matched) };
  } catch {
    return { result: "", matched: new Set() }; // the converter treats a bad default as empty, too
  }
}

// The args a stage reads (its FROM's globals, its own ARGs and what their definitions read), then its
// base's and its dependencies', each name once.
function stageArgs(ds: DispatchState, globals: Map<string, ArgInfo>, comments: Comments, visited: Set<string>,
  seen = new Set<DispatchState>()): OutlineArg[] {
  if (seen.has(ds)) return [];
  seen.add(ds);
  const defs = new Map(globals);
  const used = new Set(ds.outline.fromArgs);
  for (const a of ds.outline.args) {
    used.add(a.key);
    if (a.inherited) continue;
    defs.set(a.key, {
      ...(a.value !== undefined ? { value: a.value } : {}),
      description: docComment(commentAt(comments, a.location), a.key), location: a.location, deps: new Set(),
    });
  }
  for (const key of [...used]) markUsed(key, defs, used);
  const out: OutlineArg[] = [];
  for (const key of used) {
    const def = defs.get(key);
    if (def === undefined || visited.has(key)) continue;
    visited.add(key);
    out.push({
      name: key,
      ...(def.description !== "" ? { description: def.description } : {}),
      ...(def.value ? { value: def.value } : {}),
      location: toPbLocation(def.location),
    });
  }
  for (const next of related(ds)) out.push(...stageArgs(next, globals, comments, visited, seen));
  return out;
}

function markUsed(key: string, defs: Map<string, ArgInfo>, used: Set<string>, visiting = new Set<string>()): void {
  if (visiting.has(key)) return;
  visiting.add(key);
  used.add(key);
  for (const dep of defs.get(key)?.deps ?? []) markUsed(dep, defs, used, visiting);
}

function requirements(target: DispatchState, pick: (s: DispatchState) => Map<string, OutlineMount>): OutlineRequirement[] {
  const out: OutlineRequirement[] = [];
  const names = new Set<string>();
  for (const s of reachable(target)) {
    for (const [name, m] of pick(s)) {
      if (names.has(name)) continue;
      names.add(name);
      out.push({ name, ...(m.required ? { required: true } : {}), location: toPbLocation(m.location) });
    }
  }
  return out.sort(byLocationThenName);
}

function cacheMounts(target: DispatchState): OutlineCacheMount[] {
  const out: OutlineCacheMount[] = [];
  const ids = new Set<string>();
  for (const s of reachable(target)) {
    for (const [id, location] of s.outline.cache) {
      if (ids.has(id)) continue;
      ids.add(id);
      out.push({ ID: id, location: toPbLocation(location) });
    }
  }
  return out.sort((a, b) => compareLocations(a.location, b.location) || (a.ID < b.ID ? -1 : a.ID > b.ID ? 1 : 0));
}

/** The stage, then its base chain and the stages it reads, depth first, each once. */
function reachable(ds: DispatchState, seen = new Set<DispatchState>()): DispatchState[] {
  if (seen.has(ds)) return [];
  seen.add(ds);
  return [ds, ...related(ds).flatMap((s) => reachable(s, seen))];
}

function related(ds: DispatchState): DispatchState[] {
  return [...(ds.base ? [ds.base] : []), ...ds.deps];
}

function commentAt(comments: Comments, location: readonly SourceRange[]): readonly string[] {
  const line = location[0]?.start.line;
  return line === undefined ? [] : comments.get(line) ?? [];
}

function byLocationThenName(a: { name: string; location?: OutlineArg["location"] }, b: { name: string; location?: OutlineArg["location"] }): number {
  return compareLocations(a.location, b.location) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}
