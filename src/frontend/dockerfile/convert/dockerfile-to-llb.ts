// Dockerfile → LLB state + image config (upstream dockerfile2llb.Dockerfile2LLB): parse, build the stage
// graph, resolve the bases the target needs, dispatch every needed stage, then wire the build context.

import { hostPlatform } from "../../../oci/platform.js";
import type { Platform } from "../../../oci/types.js";
import type { ArgCommand, ArgPair } from "../instructions/commands.js";
import type { ShellLex } from "../shell/shell-lex.js";
import type { MarshalOptions } from "../../../llb/vertex.js";
import type { State } from "../../../llb/state.js";
import { Caps } from "../../../llb/keys.js";
import { GantryError, LocationError } from "../../../util/errors.js";
import { parseDockerfile } from "../parser/parser.js";
import { DockerfileParseError } from "../parser/parse-error.js";
import { nodeLocation } from "../parser/node.js";
import { createShellLex } from "../shell/shell-lex.js";
import { createDockerfileChecks } from "../checks/dockerfile-checks.js";
import { toBridgeWarning } from "../checks/linter.js";
import { argsToMap, evaluateMetaArgs, proxyEnvFromBuildArgs } from "./build-args.js";
import { resolveBaseImages } from "./base-images.js";
import { contextSource, DeferredOutput, deferredState } from "./build-context.js";
import { readFrontendSettings, type ConvertOptions, type ConvertWarning, type FrontendSettings } from "./convert-options.js";
import { dispatchCommand, dispatchOnbuildTriggers } from "./dispatch.js";
import type { DispatchContext } from "./dispatch-context.js";
import { findCircularDependency, isReachable, type DispatchState, type DispatchStates } from "./dispatch-state.js";
import { dispatchUser } from "./config-commands.js";
import { cloneImage, defaultPathEnv, envKey, marshalImageConfig, type DockerImage } from "./image-config.js";
import { locationError } from "./location-error.js";
import { platformArgs } from "./platform-args.js";
import { createDispatchStates, findTarget, linkCommands } from "./stage-graph.js";
import { dispatchWorkdir } from "./workdir.js";

/** The converted build. */
export interface ConvertResult {
  /** The target stage's final state. */
  state: State;
  /** The target's image config (the `containerimage.config` object). */
  imageConfig: DockerImage;
  /** The image config as the JSON bytes the exporter reads. */
  imageConfigBytes: Uint8Array;
  platform: Platform;
  /** Options to marshal `state` with (platform default, caps, upstream's op layout). */
  marshalOptions: MarshalOptions;
  warnings: ConvertWarning[];
}

/** Daemon capabilities the converter assumes: Gantry's engine sets the default PATH itself. */
const ENGINE_CAPS: ReadonlySet<string> = new Set([Caps.execMetaSetsDefaultPath, Caps.mergeOp]);

/** A Dockerfile whose stages were dispatched (upstream's toDispatchState): what the subrequests read. */
export interface DispatchedDockerfile {
  all: DispatchStates;
  target: DispatchState;
  /** The ARG instructions before the first FROM. */
  metaArgCmds: ArgCommand[];
  /** The predefined platform args (before build-arg overrides). */
  platformArgs: ArgPair[];
  settings: FrontendSettings;
  shlex: ShellLex;
  targetPlatform: Platform;
  /** The context paths the dispatched stages read. */
  ctxPaths: Set<string>;
  warnings: ConvertWarning[];
}

/**
 * Converts a Dockerfile. Throws LocationError (InvalidArgument unless the cause says otherwise) for parse
 * and semantic errors, naming `Dockerfile:N`; base image failures keep the resolver's code.
 */
export async function dockerfileToLLB(dockerfile: Uint8Array | string, opts: ConvertOptions): Promise<ConvertResult> {
  const { target, settings, targetPlatform, ctxPaths, warnings, contextOut } = await dispatchWithContext(dockerfile, opts);
  const contextName = opts.contextName ?? "context";
  const contextOutput = contextSource(contextName, opts.dockerignorePatterns ?? [], ctxPaths).output();
  if (contextOutput) contextOut.resolve(contextOutput);
  finishTarget(target, settings, opts.platform ?? settings.platform);
  return {
    state: target.state,
    imageConfig: target.image,
    imageConfigBytes: marshalImageConfig(target.image),
    platform: targetPlatform,
    marshalOptions: {
      platform: targetPlatform, caps: ENGINE_CAPS, fileOpPlatform: true,
      ...(opts.localUniqueId ? { localUniqueId: opts.localUniqueId } : {}),
    },
    warnings,
  };
}

/**
 * Parses, checks and dispatches the stages the target needs (all of them with `opts.allStages`) without
 * building anything. Throws as `dockerfileToLLB`, including the `check=error=true` violation error.
 */
export async function dispatchDockerfile(dockerfile: Uint8Array | string, opts: ConvertOptions): Promise<DispatchedDockerfile> {
  const { contextOut: _unused, ...rest } = await dispatchWithContext(dockerfile, opts);
  return rest;
}

async function dispatchWithContext(dockerfile: Uint8Array | string, opts: ConvertOptions): Promise<DispatchedDockerfile & { contextOut: DeferredOutput }> {
  const filename = opts.filename ?? "Dockerfile";
  if (dockerfile.length === 0) throw new GantryError("InvalidArgument", "the Dockerfile cannot be empty");
  const settings = readFrontendSettings(opts.attrs ?? {});
  const buildPlatform = opts.buildPlatform ?? hostPlatform();
  const targetPlatform = opts.platform ?? settings.platform ?? buildPlatform;
  const parsed = parseWithLocation(dockerfile, filename);
  const warnings: ConvertWarning[] = [];
  const checks = createDockerfileChecks({
    buildArgs: settings.buildArgs, dockerignore: opts.dockerignorePatterns ?? [],
    warn: opts.onCheckWarning ?? ((w) => warnings.push(toBridgeWarning(w, filename))),
    ...(parsed.directives.check !== undefined ? { directive: parsed.directives.check } : {}),
  });
  const { stages, metaArgs: metaArgCmds } = withParseLocation(filename, () => checks.parseStages(parsed));
  if (stages.length === 0) throw new GantryError("InvalidArgument", `${filename} has no build stage: it needs a FROM instruction.`);
  const shlex = createShellLex(parsed.escapeToken);
  const platArgs = platformArgs(buildPlatform, targetPlatform);
  checks.checkStages({ stages, metaArgs: metaArgCmds, platformArgs: platArgs, shlex });
  const metaArgs = evaluateMetaArgs(platArgs, metaArgCmds, settings.buildArgs, shlex);
  const all = await createDispatchStates(stages, {
    shlex, globalArgs: argsToMap(metaArgs), settings, targetPlatform, filename,
    ...(opts.namedContexts ? { namedContexts: opts.namedContexts } : {}),
  });
  const target = findTarget(all, settings.target);
  linkCommands(all, filename);
  const cycle = findCircularDependency(all.states);
  if (cycle) throw new GantryError("InvalidArgument", `circular dependency detected on stage: ${cycle.stageName}`);
  if (all.states.length === 1) all.states[0].stageName = "";
  await resolveBaseImages(all, target, {
    resolveImageConfig: opts.resolveImageConfig, targetPlatform, filename, allStages: opts.allStages === true,
    ...(opts.namedContexts ? { namedContexts: opts.namedContexts } : {}), ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const contextOut = new DeferredOutput();
  const ctx: DispatchContext = {
    all, metaArgs, buildArgValues: settings.buildArgs, shlex,
    runShlex: createShellLex(parsed.escapeToken, { rawQuotes: true, skipUnsetEnv: true }),
    heredocShlex: createShellLex("\\", { skipProcessQuotes: true }),
    buildContext: deferredState(contextOut),
    proxyEnv: proxyEnvFromBuildArgs(settings.buildArgs),
    cacheIdNamespace: settings.buildArgs.get("BUILDKIT_CACHE_MOUNT_NS") ?? "",
    targetPlatform, filename, checks,
  };
  const ctxPaths = dispatchStages(all, target, ctx, opts.allStages === true);
  checks.finish();
  return { all, target, metaArgCmds, platformArgs: platArgs, settings, shlex, targetPlatform, ctxPaths, warnings, contextOut };
}

/** Dispatches every stage the target needs, in file order; returns the context paths they read. */
function dispatchStages(all: DispatchStates, target: DispatchState, ctx: DispatchContext, allStages: boolean): Set<string> {
  const ctxPaths = new Set<string>();
  for (const d of all.states) {
    if ((!allStages && !isReachable(target, d)) || d.noinit) continue;
    initStage(d, ctx);
    const triggers = d.image.config.OnBuild ?? [];
    d.image.config.OnBuild = null;
    try {
      dispatchOnbuildTriggers(d, triggers, ctx);
    } catch (err) {
      if (err instanceof LocationError) throw err;
      throw locationError(ctx.filename, d.stage.location, err instanceof Error ? err.message : String(err), err);
    }
    for (const sc of d.commands) dispatchCommand(d, sc, ctx);
    for (const p of d.ctxPaths) ctxPaths.add(p);
  }
  return ctxPaths;
}

/** Starts a stage from its base: env (PATH ensured), working dir and user of the base config. */
function initStage(d: DispatchState, ctx: DispatchContext): void {
  if (d.base) {
    d.state = d.base.state;
    if (d.base.platform) d.platform = d.base.platform;
    d.image = cloneImage(d.base.image);
  }
  const env = d.image.config.Env ?? [];
  if (!env.some((e) => envKey(e) === "PATH")) {
    d.image.config.Env = [...env, `PATH=${defaultPathEnv(d.platform?.os)}`];
  }
  for (const entry of d.image.config.Env ?? []) {
    const eq = entry.indexOf("=");
    d.state = d.state.env(eq < 0 ? entry : entry.slice(0, eq), eq < 0 ? "" : entry.slice(eq + 1));
  }
  try {
    if (d.image.config.WorkingDir) dispatchWorkdir(d, { path: d.image.config.WorkingDir, code: "" });
    if (d.image.config.User) dispatchUser(d, { user: d.image.config.User }, false);
  } catch (err) {
    throw locationError(ctx.filename, d.stage.location, err instanceof Error ? err.message : String(err), err);
  }
}

function finishTarget(target: DispatchState, settings: FrontendSettings, explicit: Platform | undefined): void {
  if (settings.labels.size > 0) {
    const labels = { ...(target.image.config.Labels ?? {}) };
    for (const [k, v] of settings.labels) labels[k] = v;
    target.image.config.Labels = labels;
  }
  if (explicit) {
    target.image.os = explicit.os;
    target.image.architecture = explicit.architecture;
    if (explicit.variant) target.image.variant = explicit.variant;
    else delete target.image.variant;
  }
}

function parseWithLocation(dockerfile: Uint8Array | string, filename: string): ReturnType<typeof parseDockerfile> {
  return withParseLocation(filename, () => parseDockerfile(dockerfile));
}

/** Runs `fn`, turning a DockerfileParseError into a LocationError for its lines. */
function withParseLocation<T>(filename: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (!(err instanceof DockerfileParseError)) throw err;
    const location = nodeLocation({ startLine: err.line, endLine: err.endLine });
    throw new LocationError(filename, location, err);
  }
}
