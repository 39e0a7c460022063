// The embedded mode: the engine runs in this process. The controller module is loaded on demand so that the
// CLI starts fast for commands that never build, and so the client layer does not depend on the engine.
import type { BuildSession } from "../session/build-session.js";
import type { Client, PruneOptions, SolveOptions, SolveResult, UsageRecord, WorkerInfo } from "./client.js";
import type { ExportEntry } from "./client.js";
import type { ProgressSink } from "../util/progress-event.js";

/** What this file needs of control/controller.ts, declared here because client/ may not import control/. */
interface EngineSolveRequest {
  definition?: Uint8Array;
  frontend?: string;
  frontendAttrs: Record<string, string>;
  exports: ExportEntry[];
  session: BuildSession;
  noCache: boolean;
  cacheExports?: ExportEntry[];
  cacheImports?: ExportEntry[];
}

interface Engine {
  solve(req: EngineSolveRequest, opts: { signal?: AbortSignal; progress: ProgressSink }): Promise<SolveResult>;
  diskUsage(filters: string[]): Promise<UsageRecord[]>;
  prune(opts: PruneOptions, onRecord: (r: UsageRecord) => void): Promise<void>;
  listWorkers(): Promise<WorkerInfo[]>;
  info(): Promise<{ version: string; revision: string; package: string }>;
  close(): Promise<void>;
}

interface ControllerModule {
  openController(opts: { root?: string }): Promise<Engine>;
}

export interface EmbeddedOptions {
  /** State directory; defaults to /var/lib/gantry (root) or $XDG_DATA_HOME/gantry. */
  root?: string;
}

/** Opens the engine in-process. Close the client to release the state directory. */
export async function openEmbeddedClient(opts: EmbeddedOptions = {}): Promise<Client> {
  const mod = (await import("../control/controller.js")) as unknown as ControllerModule;
  const engine = await mod.openController({ root: opts.root });
  return {
    async solve(o: SolveOptions): Promise<SolveResult> {
      // Loaded here, not at the top: `du` and `prune` never sync a directory.
      const { createDirectSession } = await import("../session/direct-session.js");
      const direct = createDirectSession({ locals: o.locals ?? {}, secrets: o.secrets ?? {} });
      const session = o.ssh && Object.keys(o.ssh).length
        ? (await import("../session/ssh-agent-service.js")).withSshAgents(direct, o.ssh) : direct;
      return engine.solve(
        {
          definition: o.definition,
          frontend: o.frontend,
          frontendAttrs: o.frontendAttrs ?? {},
          exports: o.exports ?? [],
          session,
          noCache: o.noCache ?? false,
          cacheExports: o.cacheExports,
          cacheImports: o.cacheImports,
        },
        { signal: o.signal, progress: o.onProgress ?? (() => {}) },
      );
    },
    diskUsage: (filters) => engine.diskUsage(filters ?? []),
    prune: (o, onRecord) => engine.prune(o, onRecord ?? (() => {})),
    listWorkers: () => engine.listWorkers(),
    info: () => engine.info(),
    close: () => engine.close(),
  };
}
