import type { Client } from "./client.js";
import type { TlsOptions } from "./grpc-client.js";

export interface ConnectOptions {
  /** `unix://…` or `tcp://…`; absent (and no BUILDKIT_HOST) means the embedded engine. */
  addr?: string;
  /** State directory of the embedded engine. */
  root?: string;
  /** Certificates for `tcp://` with TLS (mutual when cert and key are given). */
  tls?: TlsOptions;
}

/** Connects to gantryd (or buildkitd) at `addr`, or opens the engine in this process when no address is given. */
export async function connect(opts: ConnectOptions = {}): Promise<Client> {
  const addr = opts.addr ?? process.env.BUILDKIT_HOST;
  // Each transport is loaded only when chosen: the gRPC stack costs the embedded engine start-up time and
  // the engine costs a remote client far more.
  if (!addr) return (await import("./embedded.js")).openEmbeddedClient({ root: opts.root });
  const { GrpcClient } = await import("./grpc-client.js");
  return new GrpcClient(addr, opts.tls);
}
