import type { Client } from "./client.js";
import { openEmbeddedClient } from "./embedded.js";
import { GrpcClient, type TlsOptions } from "./grpc-client.js";

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
  if (!addr) return openEmbeddedClient({ root: opts.root });
  return new GrpcClient(addr, opts.tls);
}
