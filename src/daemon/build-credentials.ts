// Which registry credentials a build uses in gantryd: those its client offers over the session (Auth/
// Credentials), as upstream's daemon does, so each client pulls and pushes as itself. A client that offers
// none leaves the daemon's own docker config in charge, as before.
import type { HandlerContext } from "@connectrpc/connect";
import type { DescService } from "@bufbuild/protobuf";
import { withBuildCredentials, type CredentialSource } from "../registry/docker-config-auth.js";
import type { GrpcBuildSession } from "../session/grpc-build-session.js";

/** Finds a build's session (waits briefly: Session and Solve race). */
export type SessionFinder = (id: string, opts: { timeoutMs: number; signal?: AbortSignal }) => Promise<GrpcBuildSession>;

/** The credential scope of each running build, by build ref. One per daemon. */
export class BuildCredentialScopes {
  readonly #find: SessionFinder;
  readonly #byRef = new Map<string, CredentialSource>();

  constructor(find: SessionFinder) {
    this.#find = find;
  }

  /**
   * Runs a Solve call's work in the scope of its session's credentials. Without a session (the Solve call
   * reports that itself) or without Auth on it, `fn` runs unscoped.
   */
  async runSolve<T>(ref: string, sessionId: string, signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
    let source: CredentialSource | undefined;
    try {
      source = (await this.#find(sessionId, { timeoutMs: 5000, signal })).registryCredentials();
    } catch {
      source = undefined; // the Solve call finds the session again and reports why it cannot
    }
    if (!source) return fn();
    this.#byRef.set(ref, source);
    try {
      return await withBuildCredentials(source, fn);
    } finally {
      if (this.#byRef.get(ref) === source) this.#byRef.delete(ref);
    }
  }

  /**
   * Wraps the unary methods of `impl` (a service of `desc`) so that each runs in the scope of the build
   * its `header` names: a client-driven build's image resolution and sub-solves arrive over LLBBridge,
   * outside the Solve call's async context.
   */
  scopeUnaryCalls<S extends object>(desc: DescService, impl: S, header: string): S {
    const methods = impl as Record<string, unknown>;
    for (const m of desc.methods) {
      const original = methods[m.localName];
      if (m.methodKind !== "unary" || typeof original !== "function") continue;
      methods[m.localName] = (req: unknown, ctx: HandlerContext): unknown => {
        const source = this.#byRef.get(ctx.requestHeader.get(header) ?? "");
        const call = (): unknown => (original as (r: unknown, c: HandlerContext) => unknown).call(impl, req, ctx);
        return source ? withBuildCredentials(source, call) : call();
      };
    }
    return impl;
  }
}
