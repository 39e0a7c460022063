// The content store contract: blobs addressed by digest, written through ingest writers and visible only
// once committed with a checked digest. Layout on disk is OCI's `blobs/sha256/<hex>`.
import type { Readable } from "node:stream";
import type { Digest } from "../util/digest.js";

export interface ContentInfo {
  digest: Digest;
  size: number;
  createdAt: Date;
  labels: Record<string, string>;
}

export interface ContentProvider {
  /** NotFound when the blob is not in the store. */
  info(digest: Digest): Promise<ContentInfo>;
  /** A stream of the blob; it errors with FailedPrecondition if the bytes on disk do not match the digest. */
  reader(digest: Digest, opts?: { signal?: AbortSignal }): Promise<Readable>;
  /** The whole blob in memory: for small blobs only (manifests, configs). */
  readBlob(digest: Digest): Promise<Buffer>;
  /** The blob's file path, for tools that read files (tar, skopeo). */
  path(digest: Digest): string;
}

export interface ContentWriter {
  write(chunk: Uint8Array): Promise<void>;
  /**
   * Makes the blob visible. With `expected`, a different digest or size is FailedPrecondition and nothing
   * is kept. Resolves with the digest even when the blob already existed (AlreadyExists is success).
   */
  commit(expected?: { digest?: Digest; size?: number }): Promise<Digest>;
  abort(): Promise<void>;
}

export interface ContentIngester {
  /** `ref` names the ingest so concurrent writers of the same blob do not collide. */
  writer(opts: { ref: string }): Promise<ContentWriter>;
  /** Writes a whole small blob and returns its digest. */
  putBlob(data: Uint8Array, expected?: Digest): Promise<Digest>;
  /** Ingests a stream; hashes while writing; checks `expected` if given. */
  ingest(source: AsyncIterable<Uint8Array>, opts?: { expected?: Digest; size?: number; signal?: AbortSignal }): Promise<{ digest: Digest; size: number }>;
}

export interface ContentManager {
  walk(fn: (info: ContentInfo) => void | Promise<void>): Promise<void>;
  delete(digest: Digest): Promise<void>;
  update(digest: Digest, labels: Record<string, string>): Promise<ContentInfo>;
}

export type ContentStore = ContentProvider & ContentIngester & ContentManager;
