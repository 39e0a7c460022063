// Builds driven by a client-side frontend (what `buildctl build` does): Control.Solve arrives with no
// definition and no frontend, and waits; the client then talks LLBBridge, tagged with the build's ref,
// until it calls Return. This registry joins the two halves.
import type { Frontend, FrontendBridge, FrontendResult } from "../frontend/frontend.js";
import { GantryError } from "../util/errors.js";

export interface ClientBuild {
  ref: string;
  bridge: FrontendBridge;
  finish(result: FrontendResult): void;
  fail(err: unknown): void;
}

const WAIT_MS = 5000;

export class ClientBuilds {
  readonly #builds = new Map<string, ClientBuild>();
  readonly #waiters = new Map<string, Set<() => void>>();

  /** The frontend the controller runs for build `ref`: it parks until the client returns a result. */
  frontendFor(ref: string): Frontend {
    return {
      solve: (bridge, _attrs, opts) => new Promise<FrontendResult>((resolve, reject) => {
        const build: ClientBuild = {
          ref, bridge,
          finish: (r) => {
            this.#builds.delete(ref);
            resolve(r);
          },
          fail: (e) => {
            this.#builds.delete(ref);
            reject(e);
          },
        };
        this.#builds.set(ref, build);
        for (const w of this.#waiters.get(ref) ?? []) w();
        this.#waiters.delete(ref);
        opts.signal?.addEventListener("abort", () => build.fail(new GantryError("Canceled", "The build was canceled.")), { once: true });
      }),
    };
  }

  /** The build an LLBBridge call names; waits briefly, as the call may beat Control.Solve. */
  async get(ref: string): Promise<ClientBuild> {
    const now = this.#builds.get(ref);
    if (now) return now;
    await new Promise<void>((resolve) => {
      const set = this.#waiters.get(ref) ?? new Set();
      this.#waiters.set(ref, set);
      const done = (): void => {
        clearTimeout(timer);
        set.delete(done);
        resolve();
      };
      const timer = setTimeout(done, WAIT_MS);
      set.add(done);
    });
    const build = this.#builds.get(ref);
    if (!build) throw new GantryError("NotFound", `No build with id "${ref}" is waiting for a frontend.`);
    return build;
  }
}
