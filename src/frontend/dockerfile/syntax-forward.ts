// `# syntax=<image>` (or `--opt build-arg:BUILDKIT_SYNTAX=<image> …`): the Dockerfile names the frontend
// image that should build it, and this frontend hands the build to `gateway.v0` with `source=<image>` and
// `cmdline=<the whole directive value>`, as upstream's builder does. The frontend run that way sees
// `cmdline` among its options and does not forward again.
//
// Refs naming Docker's own Dockerfile frontend (`docker/dockerfile:1`, `docker.io/docker/dockerfile:1.7-labs`,
// `docker/dockerfile-upstream@sha256:…`) are served by this built-in frontend, without a warning: those
// images are Go programs pulled from Docker Hub, which a Gantry build cannot reach or should not need.
import type { FrontendBridge, FrontendResult } from "../frontend.js";
import { canCallFrontends } from "../gateway/frontend-caller.js";
import { detectSyntax } from "./parser/directives.js";

const SYNTAX_ARG = "build-arg:BUILDKIT_SYNTAX";
const BUILTIN_IMAGE = /^(?:(?:docker\.io|index\.docker\.io|registry-1\.docker\.io)\/)?docker\/dockerfile(?:-upstream)?(?::[\w][\w.-]*)?(?:@sha256:[0-9a-f]{64})?$/;

/** The frontend image a build should be forwarded to, or undefined when this frontend builds it. */
export function syntaxTarget(dockerfile: string, attrs: Record<string, string>): { source: string; cmdline: string } | undefined {
  if (attrs.cmdline !== undefined) return undefined; // we are the frontend a forward started
  const fromArg = attrs[SYNTAX_ARG];
  const cmdline = fromArg !== undefined ? fromArg.trim() : detectSyntax(dockerfile)?.cmdline;
  if (!cmdline) return undefined;
  const source = cmdline.split(" ", 1)[0];
  if (isBuiltinFrontend(source)) return undefined;
  return { source, cmdline };
}

/** True for refs of Docker's Dockerfile frontend image (and `dockerfile.v0`), which this frontend serves. */
export function isBuiltinFrontend(ref: string): boolean {
  return ref === "dockerfile.v0" || BUILTIN_IMAGE.test(ref);
}

/**
 * Forwards the build to `gateway.v0` when the Dockerfile asks for another frontend image and the bridge can
 * run frontends; undefined means "build it here". The forwarded frontend gets every option this one got.
 */
export async function forwardSyntax(bridge: FrontendBridge, dockerfile: string, attrs: Record<string, string>,
  opts: { signal?: AbortSignal }): Promise<FrontendResult | undefined> {
  const target = syntaxTarget(dockerfile, attrs);
  if (!target || !canCallFrontends(bridge)) return undefined;
  return bridge.solveFrontend("gateway.v0", { ...attrs, source: target.source, cmdline: target.cmdline }, opts);
}
