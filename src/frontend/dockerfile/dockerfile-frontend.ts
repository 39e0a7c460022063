// The `dockerfile.v0` frontend: loads the Dockerfile and .dockerignore through the bridge, converts the
// Dockerfile to LLB and returns the definition with the image config, or answers a subrequest (`requestid`:
// lint, outline, targets, describe) with metadata only.

import type { BridgeRef, Frontend, FrontendBridge, FrontendResult } from "../frontend.js";
import { parsePlatform, platformId } from "../../oci/platform.js";
import { local, marshalDefinition } from "../../llb/state.js";
import { isNotFound, throwIfAborted } from "../../util/errors.js";
import { readDockerignore } from "../../util/pattern-matcher.js";
import { createNamedContextResolver } from "./convert/named-contexts.js";
import { dockerfileToLLB } from "./convert/dockerfile-to-llb.js";
import { toBridgeWarning } from "./checks/linter.js";
import { forwardSyntax } from "./syntax-forward.js";
import { answerSubrequest } from "./subrequests/answer-subrequest.js";
import { REQUEST_ID_KEY } from "./subrequests/keys.js";

const DEFAULT_FILENAME = "Dockerfile";
const CONFIG_KEY = "containerimage.config";

type FrontendPlatformResult = Pick<FrontendResult, "definition" | "metadata">;

/**
 * Creates the Dockerfile frontend. `solve` throws LocationError (`Dockerfile:N: …`) for Dockerfile
 * errors, NotFound when the Dockerfile is missing, and the bridge's errors otherwise.
 */
export function createDockerfileFrontend(): Frontend {
  return { solve: solveDockerfile };
}

/** The context's .dockerignore load, started at most once: `ref` starts it, `settled` waits for it if started. */
interface ContextIgnore {
  ref(): Promise<BridgeRef>;
  settled(): Promise<void>;
}

async function solveDockerfile(bridge: FrontendBridge, attrs: Record<string, string>,
  opts: { signal?: AbortSignal }): Promise<FrontendResult> {
  const signal = opts.signal;
  const filename = attrs.filename || DEFAULT_FILENAME;
  const dockerfileLocal = attrs.dockerfilekey || "dockerfile";
  const contextLocal = attrs.contextkey || "context";
  const defRef = bridge.solve(marshalDefinition(local(dockerfileLocal, {
    followPaths: [filename, `${filename}.dockerignore`],
    sharedKeyHint: dockerfileLocal,
    customName: `[internal] load build definition from ${filename}`,
    differ: { type: "none" },
  })), signal ? { signal } : {});
  const contextIgnore = contextIgnoreLoad(bridge, contextLocal, signal);
  // A build loads the context's .dockerignore together with the Dockerfile, as upstream's frontend does
  // (used only when the Dockerfile has no ignore file of its own); subrequests load it only if lint asks.
  if (!attrs[REQUEST_ID_KEY]) void contextIgnore.ref().catch(() => undefined);
  try {
    return await solveWithIgnore(bridge, attrs, await defRef, contextIgnore, signal);
  } finally {
    // No solve outlives this one, used or not.
    await contextIgnore.settled();
  }
}

function contextIgnoreLoad(bridge: FrontendBridge, contextLocal: string, signal: AbortSignal | undefined): ContextIgnore {
  let started: Promise<BridgeRef> | undefined;
  const ref = (): Promise<BridgeRef> => (started ??= bridge.solve(marshalDefinition(local(contextLocal, {
    followPaths: [".dockerignore"],
    sharedKeyHint: `${contextLocal}-dockerignore`,
    customName: "[internal] load .dockerignore",
    differ: { type: "none" },
  })), signal ? { signal } : {}));
  return { ref, settled: async () => { await started?.catch(() => undefined); } };
}

/** The frontend once the Dockerfile's local is loaded (`defRef`); `contextIgnore` may still be loading. */
async function solveWithIgnore(bridge: FrontendBridge, attrs: Record<string, string>, defRef: BridgeRef,
  contextIgnore: ContextIgnore, signal: AbortSignal | undefined): Promise<FrontendResult> {
  const filename = attrs.filename || DEFAULT_FILENAME;
  const contextLocal = attrs.contextkey || "context";
  const dockerfile = await bridge.readFile(defRef, filename);
  throwIfAborted(signal);
  // `# syntax=<image>` hands the whole build to that frontend image.
  const forwarded = await forwardSyntax(bridge, new TextDecoder().decode(dockerfile), attrs, signal ? { signal } : {});
  if (forwarded) return forwarded;
  const loadIgnore = (): Promise<string | undefined> => readIgnoreFile(bridge, defRef, filename, contextIgnore.ref);
  const resolveImageConfig = bridge.resolveImageConfig.bind(bridge);
  const requestId = attrs[REQUEST_ID_KEY];
  if (requestId !== undefined && requestId !== "") {
    // Subrequests answer without building; only lint needs the context's .dockerignore.
    return answerSubrequest(requestId, dockerfile, {
      convert: {
        attrs, filename, contextName: contextLocal, resolveImageConfig,
        namedContexts: createNamedContextResolver(attrs, resolveImageConfig, signal),
        onCheckWarning: (w) => bridge.warn(toBridgeWarning(w, filename)),
        ...(signal ? { signal } : {}),
      },
      dockerignore: async () => {
        const text = await loadIgnore();
        return text === undefined ? [] : readDockerignore(text);
      },
    });
  }
  const ignoreText = await loadIgnore();
  const convert = async (platformAttrs: Record<string, string>, reportChecks: boolean): Promise<FrontendPlatformResult> => {
    const result = await dockerfileToLLB(dockerfile, {
      attrs: platformAttrs, filename, contextName: contextLocal, resolveImageConfig,
      namedContexts: createNamedContextResolver(platformAttrs, resolveImageConfig, signal),
      dockerignorePatterns: ignoreText === undefined ? [] : readDockerignore(ignoreText),
      // Check warnings go out as found, so those before a build error still reach the client.
      onCheckWarning: reportChecks ? (w) => bridge.warn(toBridgeWarning(w, filename)) : () => undefined,
      ...(signal ? { signal } : {}),
    });
    return {
      definition: marshalDefinition(result.state, result.marshalOptions),
      metadata: { [CONFIG_KEY]: result.imageConfigBytes },
    };
  };
  const platforms = targetPlatforms(attrs.platform);
  if (platforms.length <= 1) return convert(attrs, true);
  // One conversion per target platform; the checks are the same for each, so only the first reports them.
  const refs: Record<string, FrontendPlatformResult> = {};
  for (const [i, p] of platforms.entries()) refs[p] = await convert({ ...attrs, platform: p }, i === 0);
  const first = refs[platforms[0]];
  return { definition: first.definition, metadata: {}, refs };
}

/** The `platform` attr's comma list, normalised, without duplicates (upstream dedupes them too). */
function targetPlatforms(attr: string | undefined): string[] {
  const list = (attr ?? "").split(",").map((p) => p.trim()).filter((p) => p !== "");
  return [...new Set(list.map((p) => platformId(parsePlatform(p))))];
}

/** `<filename>.dockerignore` beside the Dockerfile, else the context's `.dockerignore`; undefined when neither exists. */
async function readIgnoreFile(bridge: FrontendBridge, defRef: BridgeRef, filename: string,
  contextIgnore: () => Promise<BridgeRef>): Promise<string | undefined> {
  const own = await readOptional(bridge, defRef, `${filename}.dockerignore`);
  if (own !== undefined) return own;
  return readOptional(bridge, await contextIgnore(), ".dockerignore");
}

async function readOptional(bridge: FrontendBridge, ref: Awaited<ReturnType<FrontendBridge["solve"]>>,
  path: string): Promise<string | undefined> {
  try {
    return new TextDecoder().decode(await bridge.readFile(ref, path));
  } catch (err) {
    if (isNotFound(err)) return undefined; // no ignore file: nothing is excluded
    throw err;
  }
}
