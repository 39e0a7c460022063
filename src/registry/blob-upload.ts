// One blob into one repository, the cheapest way the distribution spec allows: a HEAD finds it already
// there; a cross-repository mount links it from another repository of the same registry; otherwise a
// monolithic upload (POST for a session, then one PUT with the whole blob streamed from the content store),
// or, for blobs over the chunk size, a chunked one (PATCH per chunk, then an empty PUT with the digest), so a
// failed request resends one chunk rather than the whole blob.
import { createReadStream } from "node:fs";
import { Readable } from "node:stream";
import type { ContentProvider } from "../content/content-store.js";
import type { Reference } from "../oci/reference.js";
import type { Descriptor } from "../oci/types.js";
import { discard } from "./http-retry.js";
import type { HttpResponse } from "./http-transport.js";
import type { RegistryClient } from "./registry-client.js";
import { RegistryError, registryErrorFromResponse } from "./registry-error.js";

/** How a blob came to be in the target repository. */
export type BlobOutcome = "exists" | "mounted" | "uploaded";

export interface BlobPushOptions {
  client: RegistryClient;
  target: Pick<Reference, "registry" | "repository">;
  blob: Descriptor;
  contentStore: ContentProvider;
  /** Repositories of the same registry that may hold the blob already (mount candidates), best first. */
  mountFrom?: readonly string[];
  /** Blobs larger than this many bytes go up in chunks of this size; default 64 MiB; 0 = always monolithic. */
  chunkSize?: number;
  signal?: AbortSignal;
}

const PUSH = ["push", "pull"];
export const DEFAULT_CHUNK_SIZE = 64 * 1024 * 1024;

/**
 * Makes `target` hold `blob`; returns how. Errors are RegistryErrors naming the blob and repository
 * (FailedPrecondition for 401/403, so the caller can stop pushing), Canceled on abort.
 */
export async function pushBlob(opts: BlobPushOptions): Promise<BlobOutcome> {
  if (await blobExists(opts)) return "exists";
  let location: string | undefined;
  for (const from of opts.mountFrom ?? []) {
    if (from === opts.target.repository) continue;
    const res = await startUpload(opts, `?mount=${encodeURIComponent(opts.blob.digest)}&from=${encodeURIComponent(from)}`);
    if (res.status === 201) {
      await discard(res);
      return "mounted";
    }
    location = await uploadLocation(opts, res);
    break; // a 202 is a fresh upload session: use it rather than asking again
  }
  location ??= await uploadLocation(opts, await startUpload(opts, ""));
  const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (chunkSize > 0 && opts.blob.size > chunkSize) {
    location = await patchChunks(opts, location, chunkSize);
    await putBlob(opts, location, false);
  } else {
    await putBlob(opts, location, true);
  }
  return "uploaded";
}

function what(opts: BlobPushOptions): string {
  return `push blob ${opts.blob.digest} to ${opts.target.registry}/${opts.target.repository}`;
}

async function blobExists(opts: BlobPushOptions): Promise<boolean> {
  const action = what(opts);
  const res = await opts.client.request({
    ref: opts.target, path: `blobs/${opts.blob.digest}`, method: "HEAD", actions: PUSH, action, signal: opts.signal,
  });
  await discard(res);
  if (res.ok) return true;
  if (res.status === 404) return false;
  throw await registryErrorFromResponse(res, action, opts.target.registry);
}

function startUpload(opts: BlobPushOptions, query: string): Promise<HttpResponse> {
  return opts.client.request({
    ref: opts.target, path: `blobs/uploads/${query}`, method: "POST", actions: PUSH, action: what(opts),
    headers: { "Content-Length": "0" }, body: () => new Uint8Array(0), signal: opts.signal,
  });
}

/** The absolute upload URL from a 202 answer; any other answer is the error. */
async function uploadLocation(opts: BlobPushOptions, res: HttpResponse): Promise<string> {
  if (res.status !== 202) {
    if (!res.ok) throw await registryErrorFromResponse(res, what(opts), opts.target.registry);
    await discard(res);
    throw new RegistryError("Internal", `Cannot ${what(opts)}: the registry answered ${res.status} to the upload request.`, { status: res.status });
  }
  await discard(res);
  const location = res.headers.get("location");
  if (!location) throw new RegistryError("Internal", `Cannot ${what(opts)}: the registry gave no upload Location.`);
  return new URL(location, opts.client.repositoryUrl(opts.target)).toString();
}

/** Sends each chunk with its Content-Range; returns the Location for the closing PUT. */
async function patchChunks(opts: BlobPushOptions, location: string, chunkSize: number): Promise<string> {
  const action = what(opts);
  const file = opts.contentStore.path(opts.blob.digest);
  for (let start = 0; start < opts.blob.size; start += chunkSize) {
    const end = Math.min(start + chunkSize, opts.blob.size) - 1;
    const res = await opts.client.request({
      ref: opts.target, path: "", url: location, method: "PATCH", actions: PUSH, action, signal: opts.signal,
      headers: { "Content-Type": "application/octet-stream", "Content-Range": `${start}-${end}`, "Content-Length": String(end - start + 1) },
      body: () => createReadStream(file, { start, end, signal: opts.signal }),
    });
    // The registry answers each chunk with where the next one goes.
    location = await uploadLocation(opts, res);
  }
  return location;
}

/** Closes the upload with the digest, sending the whole blob (monolithic) or nothing (after chunks). */
async function putBlob(opts: BlobPushOptions, location: string, withBody: boolean): Promise<void> {
  const url = new URL(location);
  url.searchParams.set("digest", opts.blob.digest);
  const action = what(opts);
  const res = await opts.client.request({
    ref: opts.target, path: "", url: url.toString(), method: "PUT", actions: PUSH, action, signal: opts.signal,
    headers: { "Content-Type": "application/octet-stream", "Content-Length": withBody ? String(opts.blob.size) : "0" },
    body: withBody ? () => lazyBlobStream(opts.contentStore, opts.blob, opts.signal) : () => new Uint8Array(0),
  });
  if (res.status === 201 || res.ok) {
    await discard(res);
    return;
  }
  throw await registryErrorFromResponse(res, action, opts.target.registry);
}

/** A body stream that opens the blob only when the request starts reading, so each attempt reads afresh. */
function lazyBlobStream(store: ContentProvider, blob: Descriptor, signal?: AbortSignal): Readable {
  async function* chunks(): AsyncGenerator<Uint8Array> {
    yield* (await store.reader(blob.digest, { signal })) as AsyncIterable<Uint8Array>;
  }
  return Readable.from(chunks(), { objectMode: false });
}
