// The server side of `moby.buildkit.v1.frontend.LLBBridge` for one frontend run, independent of the
// transport: the gateway frontend serves it over a container's stdio. Results are handed out by id and
// solved on first use (or at once when the request asks to evaluate); every solve goes through the
// build's bridge, so sub-solves share its solver, session, progress and release.
import { randomBytes } from "node:crypto";
import { fromBinary, type MessageInitShape } from "@bufbuild/protobuf";
import type {
  EvaluateRequest, PongResponseSchema, ReadDirRequest, ReadDirResponseSchema, ReadFileRequest, ReadFileResponseSchema,
  ResolveImageConfigRequest, ResolveImageConfigResponseSchema, ReturnRequest, SolveRequest, SolveResponseSchema, StatFileRequest,
  StatFileResponseSchema, WarnRequest, InputsResponseSchema,
} from "../../gen/moby/buildkit/v1/frontend/gateway_pb.js";
import type { StatSchema } from "../../gen/fsutil/types/stat_pb.js";
import { DefinitionSchema } from "../../gen/pb/ops_pb.js";
import type { BridgeRef, FileStat, Frontend, FrontendBridge, FrontendResult } from "../../frontend/frontend.js";
import { marshalDefinitionMessage } from "../../llb/marshal.js";
import { parsePlatform } from "../../oci/platform.js";
import { errorFromGrpcStatus } from "../../session/grpc-status.js";
import { GantryError, sourceRangeOf } from "../../util/errors.js";
import { FRONTEND_CAPS, LLB_CAPS, enabledCaps } from "./bridge-caps.js";
import { frontendResultOf, resultMessageOf, type KnownResult } from "./bridge-result.js";

/** How a frontend run ended, as its Return call said. */
export type ReturnOutcome = { result: FrontendResult } | { error: GantryError };

/** A worker as Controller.listWorkers reports it. */
export interface BridgeWorker {
  id: string;
  labels: Record<string, string>;
  platforms: string[];
}

export interface LlbBridgeHandlerOptions {
  /** The build's bridge: every solve, file read and image resolution goes through it. */
  bridge: FrontendBridge;
  /** Built-in frontends by name, for Solve requests that name one. */
  frontend(name: string): Frontend | undefined;
  /** The workers Ping reports. */
  workers(): Promise<BridgeWorker[]>;
  /** Called once, with the first Return's outcome. */
  onReturn(outcome: ReturnOutcome): void;
}

interface Entry extends KnownResult {
  solved?: Promise<BridgeRef>;
}

type Init<S extends Parameters<typeof fromBinary>[0]> = MessageInitShape<S>;

export class LlbBridgeHandlers {
  readonly #o: LlbBridgeHandlerOptions;
  readonly #results = new Map<string, Entry>();
  #returned = false;

  constructor(opts: LlbBridgeHandlerOptions) {
    this.#o = opts;
  }

  /** True once the frontend has called Return. */
  get returned(): boolean {
    return this.#returned;
  }

  async ping(): Promise<Init<typeof PongResponseSchema>> {
    return pongResponse(await this.#o.workers());
  }

  /** A definition (registered, evaluated when asked) or a named frontend's result. */
  async solve(req: SolveRequest, signal?: AbortSignal): Promise<Init<typeof SolveResponseSchema>> {
    if (req.Frontend) {
      const fe = this.#o.frontend(req.Frontend);
      if (!fe) throw new GantryError("InvalidArgument", `Unknown frontend "${req.Frontend}" in an LLBBridge Solve request.`);
      const res = await fe.solve(this.#o.bridge, { ...req.FrontendOpt }, { signal });
      const single = this.#register(res);
      const refs = res.refs ? Object.fromEntries(Object.entries(res.refs).map(([p, part]) => [p, this.#register(part)])) : undefined;
      if (!req.allowResultReturn) return { ref: single };
      return { result: resultMessageOf(res, { single, ...(refs ? { refs } : {}) }) };
    }
    const definition = req.Definition ? marshalDefinitionMessage(req.Definition) : new Uint8Array();
    const id = this.#register({ definition, metadata: {} });
    if (req.Evaluate) await this.#solved(id, signal);
    if (!req.allowResultReturn) return { ref: id };
    return { result: { result: { case: "ref", value: { id, ...(req.Definition ? { def: req.Definition } : {}) } } } };
  }

  async return(req: ReturnRequest): Promise<void> {
    if (this.#returned) throw new GantryError("FailedPrecondition", "The frontend called Return twice.");
    this.#returned = true;
    if (req.error && req.error.code !== 0) {
      this.#o.onReturn({ error: errorFromGrpcStatus(req.error.code, req.error.message, "The frontend") });
      return;
    }
    try {
      this.#o.onReturn({ result: frontendResultOf(req.result, (id) => this.#results.get(id)) });
    } catch (err) {
      this.#o.onReturn({ error: err instanceof GantryError ? err : new GantryError("Internal", String(err), { cause: err }) });
    }
  }

  async readFile(req: ReadFileRequest, signal?: AbortSignal): Promise<Init<typeof ReadFileResponseSchema>> {
    const ref = await this.#solved(req.Ref, signal);
    const range = req.Range ? { offset: Number(req.Range.Offset), length: Number(req.Range.Length) } : undefined;
    return { Data: await this.#o.bridge.readFile(ref, req.FilePath, range) };
  }

  async readDir(req: ReadDirRequest, signal?: AbortSignal): Promise<Init<typeof ReadDirResponseSchema>> {
    const ref = await this.#solved(req.Ref, signal);
    const entries = await this.#o.bridge.readDir(ref, req.DirPath, req.IncludePattern || undefined);
    return { entries: entries.map(statMessage) };
  }

  async statFile(req: StatFileRequest, signal?: AbortSignal): Promise<Init<typeof StatFileResponseSchema>> {
    const ref = await this.#solved(req.Ref, signal);
    return { stat: statMessage(await this.#o.bridge.statFile(ref, req.Path)) };
  }

  async resolveImageConfig(req: ResolveImageConfigRequest, signal?: AbortSignal): Promise<Init<typeof ResolveImageConfigResponseSchema>> {
    const p = req.Platform;
    const res = await this.#o.bridge.resolveImageConfig(req.Ref, {
      ...(p?.OS ? { platform: { os: p.OS, architecture: p.Architecture, ...(p.Variant ? { variant: p.Variant } : {}) } } : {}),
      ...(signal ? { signal } : {}),
    });
    return { Digest: res.digest, Config: res.config, Ref: res.ref };
  }

  async inputs(): Promise<Init<typeof InputsResponseSchema>> {
    const inputs = await this.#o.bridge.inputs();
    return { Definitions: Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, fromBinary(DefinitionSchema, v)])) };
  }

  warn(req: WarnRequest): void {
    const text = (b: Uint8Array) => Buffer.from(b).toString("utf8");
    this.#o.bridge.warn({
      short: text(req.short), detail: req.detail.map(text), ...(req.url ? { url: req.url } : {}), level: Number(req.level),
      ...(req.info?.filename ? { location: { filename: req.info.filename, line: req.ranges[0]?.start?.line ?? 0 } } : {}),
      ...(req.ranges.length ? { ranges: req.ranges.map(sourceRangeOf) } : {}),
    });
  }

  async evaluate(req: EvaluateRequest, signal?: AbortSignal): Promise<void> {
    await this.#solved(req.Ref, signal);
  }

  #register(r: KnownResult): string {
    const id = randomBytes(12).toString("hex");
    this.#results.set(id, { definition: r.definition, metadata: r.metadata });
    return id;
  }

  /** The bridge ref of result `id`, solving it once; the empty id is the empty filesystem. */
  #solved(id: string, signal?: AbortSignal): Promise<BridgeRef> {
    let entry = this.#results.get(id);
    if (!entry && id === "") this.#results.set(id, entry = { definition: new Uint8Array(), metadata: {} });
    if (!entry) return Promise.reject(new GantryError("NotFound", `Unknown result id "${id}".`));
    if (entry.solved) return entry.solved;
    const e = entry;
    const solved = this.#o.bridge.solve(e.definition, signal ? { signal } : {});
    e.solved = solved;
    solved.catch(() => (e.solved = undefined)); // a canceled or failed solve may be asked again
    return solved;
  }
}

/** Ping's answer: the caps this engine serves and its workers. */
export function pongResponse(workers: BridgeWorker[]): Init<typeof PongResponseSchema> {
  return {
    FrontendAPICaps: enabledCaps(FRONTEND_CAPS), LLBCaps: enabledCaps(LLB_CAPS),
    Workers: workers.map((w) => ({
      ID: w.id, Labels: w.labels,
      platforms: w.platforms.map(parsePlatform).map((p) => ({ OS: p.os, Architecture: p.architecture, Variant: p.variant ?? "" })),
    })),
  };
}

function statMessage(e: FileStat): Init<typeof StatSchema> {
  return { path: e.path, mode: e.mode, uid: e.uid, gid: e.gid, size: BigInt(e.size), modTime: BigInt(e.modTime), linkname: e.linkname ?? "" };
}
