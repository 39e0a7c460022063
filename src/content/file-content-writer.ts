// One ingest in progress: bytes go to a private file under `ingest/` and are hashed as they are written; a
// commit checks the expected digest and size, syncs the file and renames it into `blobs/`, so a blob path
// either does not exist or holds the whole, checked blob.
import { chmod, mkdir, open, rename, rm, stat, type FileHandle } from "node:fs/promises";
import { dirname } from "node:path";
import { DigestHasher, type Digest } from "../util/digest.js";
import { GantryError, errnoOf } from "../util/errors.js";
import type { ContentWriter } from "./content-store.js";

export interface FileContentWriterOptions {
  ref: string;
  /** The private file the bytes are written to. */
  ingestPath: string;
  /** Where the blob of a digest lives once committed. */
  blobPath: (digest: Digest) => string;
  /** Called once when the writer is committed or aborted (frees the ref). */
  onClose: () => void;
}

/** A `ContentWriter` over a local file. Open it with `openFileContentWriter`. */
export class FileContentWriter implements ContentWriter {
  readonly #fh: FileHandle;
  readonly #opts: FileContentWriterOptions;
  readonly #hasher = new DigestHasher();
  #queue: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(fh: FileHandle, opts: FileContentWriterOptions) {
    this.#fh = fh;
    this.#opts = opts;
  }

  /** Appends a chunk. Calls are applied in order even if the caller does not await each one. */
  write(chunk: Uint8Array): Promise<void> {
    try {
      this.#assertOpen("write to");
    } catch (err) {
      return Promise.reject(err);
    }
    const next = this.#queue.then(async () => {
      this.#hasher.update(chunk);
      await writeAll(this.#fh, chunk);
    });
    // Keep the chain alive after a failure; the failure itself reaches this call's caller.
    this.#queue = next.catch(() => undefined);
    return next;
  }

  /** See `ContentWriter.commit`. On a mismatch the ingest is removed and FailedPrecondition thrown. */
  async commit(expected: { digest?: Digest; size?: number } = {}): Promise<Digest> {
    this.#assertOpen("commit");
    await this.#queue;
    const size = this.#hasher.size;
    const digest = this.#hasher.digest();
    const ref = this.#opts.ref;
    if (expected.size !== undefined && expected.size !== size) {
      await this.abort();
      throw new GantryError("FailedPrecondition",
        `Cannot commit content "${ref}": expected ${expected.size} bytes, got ${size}.`);
    }
    if (expected.digest !== undefined && expected.digest !== digest) {
      await this.abort();
      throw new GantryError("FailedPrecondition",
        `Cannot commit content "${ref}": expected digest ${expected.digest}, got ${digest}.`);
    }
    try {
      await this.#fh.sync();
    } finally {
      await this.#close();
    }
    await this.#publish(digest);
    return digest;
  }

  /** Drops the ingest. Safe to call more than once and after a failed commit. */
  async abort(): Promise<void> {
    if (!this.#closed) {
      await this.#queue;
      await this.#close();
    }
    await rm(this.#opts.ingestPath, { force: true });
  }

  async #publish(digest: Digest): Promise<void> {
    const target = this.#opts.blobPath(digest);
    if (await exists(target)) {
      // Another writer committed the same bytes first: the blob is already whole, ours is redundant.
      await rm(this.#opts.ingestPath, { force: true });
      return;
    }
    await chmod(this.#opts.ingestPath, 0o444);
    try {
      await rename(this.#opts.ingestPath, target);
    } catch (err) {
      // The store creates blobs/sha256 when it opens; only another layout needs the directory made here.
      if (errnoOf(err) !== "ENOENT") throw err;
      await mkdir(dirname(target), { recursive: true });
      await rename(this.#opts.ingestPath, target);
    }
    await syncDir(dirname(target));
  }

  async #close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#fh.close();
    } finally {
      this.#opts.onClose();
    }
  }

  #assertOpen(what: string): void {
    if (this.#closed) {
      throw new GantryError("FailedPrecondition", `Cannot ${what} content "${this.#opts.ref}": the writer is already closed.`);
    }
  }
}

/** Opens (truncating any leftover from a crash) the ingest file and returns its writer. */
export async function openFileContentWriter(opts: FileContentWriterOptions): Promise<FileContentWriter> {
  await mkdir(dirname(opts.ingestPath), { recursive: true });
  const fh = await open(opts.ingestPath, "w", 0o644);
  return new FileContentWriter(fh, opts);
}

async function writeAll(fh: FileHandle, chunk: Uint8Array): Promise<void> {
  // A write may take fewer bytes than offered; loop until the chunk is in.
  for (let off = 0; off < chunk.length;) {
    const { bytesWritten } = await fh.write(chunk, off, chunk.length - off);
    off += bytesWritten;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if (errnoOf(err) === "ENOENT") return false;
    throw err;
  }
}

/** Makes a rename durable: without syncing the directory a crash may forget the new name. */
async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
