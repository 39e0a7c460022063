import { GantryError } from "../util/errors.js";
import type { Client } from "./client.js";
import { openEmbeddedClient } from "./embedded.js";

export interface ConnectOptions {
  /** `unix://…` or `tcp://…`; absent (and no BUILDKIT_HOST) means the embedded engine. */
  addr?: string;
  /** State directory of the embedded engine. */
  root?: string;
}

/** Connects to gantryd at `addr`, or opens the engine in this process when no address is given. */
export async function connect(opts: ConnectOptions = {}): Promise<Client> {
  const addr = opts.addr ?? process.env.BUILDKIT_HOST;
  if (!addr) return openEmbeddedClient({ root: opts.root });
  throw new GantryError("Unimplemented", `Cannot connect to ${addr}: this build of gantry has no daemon transport yet; run without --addr to build in-process.`);
}
