// The client side of LLBBridge as a FrontendBridge: what a frontend running in a gateway container (or any
// process holding an LLBBridge connection) uses, so Gantry's own frontends run unchanged out of process.
// It loads only the session's gRPC client, the generated messages and the frontend types: no engine.
import { fromBinary } from "@bufbuild/protobuf";
import { LLBBridge } from "../../gen/moby/buildkit/v1/frontend/gateway_pb.js";
import type { Stat } from "../../gen/fsutil/types/stat_pb.js";
import { DefinitionSchema } from "../../gen/pb/ops_pb.js";
import type { BridgeRef, FileStat, FrontendBridge, FrontendResult, ResolvedImageConfig } from "../../frontend/frontend.js";
import type { FrontendCaller } from "../../frontend/gateway/frontend-caller.js";
import { marshalDefinitionMessage } from "../../llb/marshal.js";
import type { Platform } from "../../oci/types.js";
import type { GrpcH2Client } from "../../session/grpc-h2-client.js";
import { callUnary } from "../../session/grpc-typed.js";
import { GantryError } from "../../util/errors.js";
import { frontendResultOf, resultMessageOf } from "./bridge-result.js";

export class GrpcFrontendBridge implements FrontendBridge, FrontendCaller {
  readonly #client: GrpcH2Client;
  readonly #signal?: AbortSignal;

  /** Calls LLBBridge on `client`; `signal` (the process's end) aborts every call. */
  constructor(client: GrpcH2Client, opts: { signal?: AbortSignal } = {}) {
    this.#client = client;
    this.#signal = opts.signal;
  }

  #opts(signal?: AbortSignal): { signal?: AbortSignal } {
    const s = signal && this.#signal ? AbortSignal.any([signal, this.#signal]) : signal ?? this.#signal;
    return s ? { signal: s } : {};
  }

  /** Checks that the server answers LLBBridge (upstream's clients ping first to learn the caps). */
  async ping(opts: { signal?: AbortSignal } = {}): Promise<string[]> {
    const pong = await callUnary(this.#client, LLBBridge.method.ping, {}, this.#opts(opts.signal));
    return pong.FrontendAPICaps.filter((c) => c.Enabled).map((c) => c.ID);
  }

  async solve(definition: Uint8Array, opts: { signal?: AbortSignal } = {}): Promise<BridgeRef> {
    const res = await callUnary(this.#client, LLBBridge.method.solve, {
      ...(definition.length ? { Definition: fromBinary(DefinitionSchema, definition) } : {}),
      allowResultReturn: true, Evaluate: true,
    }, this.#opts(opts.signal));
    const r = res.result?.result;
    if (r?.case === "ref") return { id: r.value.id };
    if (res.ref !== "" || r === undefined) return { id: res.ref };
    throw new GantryError("Internal", `LLBBridge Solve answered a definition with a ${r.case} result.`);
  }

  async solveFrontend(name: string, attrs: Record<string, string>, opts: { signal?: AbortSignal } = {}): Promise<FrontendResult> {
    const res = await callUnary(this.#client, LLBBridge.method.solve, {
      Frontend: name, FrontendOpt: attrs, allowResultReturn: true, allowResultArrayRef: true,
    }, this.#opts(opts.signal));
    // This server sends definitions inline, so no result needs looking up by id here.
    if (!res.result) throw new GantryError("Internal", `Frontend ${name} returned no result over LLBBridge.`);
    return frontendResultOf(res.result, () => undefined);
  }

  async readFile(ref: BridgeRef, path: string, range?: { offset: number; length: number }): Promise<Uint8Array> {
    const res = await callUnary(this.#client, LLBBridge.method.readFile, {
      Ref: ref.id, FilePath: path, ...(range ? { Range: { Offset: BigInt(range.offset), Length: BigInt(range.length) } } : {}),
    }, this.#opts());
    return res.Data;
  }

  async readDir(ref: BridgeRef, path: string, includePattern?: string): Promise<FileStat[]> {
    const res = await callUnary(this.#client, LLBBridge.method.readDir, { Ref: ref.id, DirPath: path, IncludePattern: includePattern ?? "" }, this.#opts());
    return res.entries.map(fileStatOf);
  }

  async statFile(ref: BridgeRef, path: string): Promise<FileStat> {
    const res = await callUnary(this.#client, LLBBridge.method.statFile, { Ref: ref.id, Path: path }, this.#opts());
    if (!res.stat) throw new GantryError("Internal", `LLBBridge StatFile answered no stat for ${path}.`);
    return fileStatOf(res.stat);
  }

  async resolveImageConfig(ref: string, opts: { platform?: Platform; signal?: AbortSignal }): Promise<ResolvedImageConfig> {
    const p = opts.platform;
    const res = await callUnary(this.#client, LLBBridge.method.resolveImageConfig, {
      Ref: ref, ...(p ? { Platform: { OS: p.os, Architecture: p.architecture, Variant: p.variant ?? "" } } : {}),
    }, this.#opts(opts.signal));
    return { ref: res.Ref || ref, digest: res.Digest, config: res.Config };
  }

  async inputs(): Promise<Record<string, Uint8Array>> {
    const res = await callUnary(this.#client, LLBBridge.method.inputs, {}, this.#opts());
    return Object.fromEntries(Object.entries(res.Definitions).map(([k, d]) => [k, marshalDefinitionMessage(d)]));
  }

  warn(w: Parameters<FrontendBridge["warn"]>[0]): void {
    const enc = new TextEncoder();
    // Warnings are advisory: one lost with the connection must not fail the build.
    callUnary(this.#client, LLBBridge.method.warn, {
      level: BigInt(w.level ?? 1), short: enc.encode(w.short), detail: (w.detail ?? []).map((d) => enc.encode(d)), url: w.url ?? "",
      ...(w.location ? { info: { filename: w.location.filename, language: "Dockerfile" } } : {}),
      ranges: (w.ranges ?? []).map((r) => ({ start: r.start, end: r.end })),
    }, this.#opts()).catch(() => undefined);
  }

  /** Hands the frontend's outcome to the server: a result, or the error that ended it. */
  async return(outcome: { result: FrontendResult } | { error: { code: number; message: string } }): Promise<void> {
    if ("error" in outcome) {
      await callUnary(this.#client, LLBBridge.method.return, { error: outcome.error }, this.#opts());
      return;
    }
    await callUnary(this.#client, LLBBridge.method.return, { result: resultMessageOf(outcome.result, { single: "", refs: {} }) }, this.#opts());
  }
}

function fileStatOf(s: Stat): FileStat {
  return {
    path: s.path, mode: s.mode, uid: s.uid, gid: s.gid, size: Number(s.size), modTime: Number(s.modTime),
    ...(s.linkname ? { linkname: s.linkname } : {}),
  };
}
