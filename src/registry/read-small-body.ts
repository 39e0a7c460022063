// Reads a response body that must be small (a manifest, an index, an image config) into memory, refusing
// more than a limit so a hostile or broken registry cannot make us buffer a layer by mistake.
import { canceledError, GantryError } from "../util/errors.js";
import { bodyChunks } from "./body-chunks.js";
import { discard } from "./http-retry.js";
import type { HttpResponse } from "./http-transport.js";
import { registryErrorFromNetwork } from "./registry-error.js";

export interface ReadSmallBodyOptions {
  limit: number;
  /** Completes "Cannot …" in errors. */
  action: string;
  /** The registry, named in transport errors. */
  host: string;
  signal?: AbortSignal;
}

/**
 * The whole body. More than `limit` bytes is FailedPrecondition; a body cut off by the network is
 * RegistryError (Unavailable, retryable); an abort is Canceled.
 */
export async function readSmallBody(res: HttpResponse, opts: ReadSmallBodyOptions): Promise<Buffer> {
  const declared = Number(res.headers.get("content-length") ?? "NaN");
  if (declared > opts.limit) {
    await discard(res);
    throw tooLarge(opts);
  }
  const parts: Uint8Array[] = [];
  let size = 0;
  if (!res.body) return Buffer.alloc(0);
  try {
    for await (const chunk of bodyChunks(res.body, opts.signal)) {
      size += chunk.length;
      // Leaving the loop cancels the stream, which frees the connection.
      if (size > opts.limit) throw tooLarge(opts);
      parts.push(chunk);
    }
  } catch (err) {
    if (err instanceof GantryError) throw err;
    if (opts.signal?.aborted) throw canceledError(opts.signal);
    throw registryErrorFromNetwork(err, opts.action, opts.host);
  }
  return Buffer.concat(parts);
}

function tooLarge(opts: ReadSmallBodyOptions): GantryError {
  return new GantryError("FailedPrecondition", `Cannot ${opts.action}: the registry sent more than ${opts.limit} bytes.`);
}
