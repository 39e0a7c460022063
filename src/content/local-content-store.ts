// The content store on local disk, in OCI layout:
//   <root>/blobs/sha256/<hex>            committed blobs (read-only files, whole and checked)
//   <root>/ingest/<sha256 of ref>        ingests being written (private; swept when stale)
//   <root>/labels/sha256/<hex>.json      labels of a blob, if it has any (written atomically)
// Labels live in a sidecar file rather than in memory because GC roots (`containerd.io/gc.*`-style labels)
// must survive a restart; a blob without labels has no sidecar. One process owns a root at a time.
import { createHash, randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, readFile, readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { addAbortSignal, type Readable } from "node:stream";
import { atomicWrite } from "../util/atomic-write.js";
import { digestHex, isDigest, sha256, type Digest } from "../util/digest.js";
import { GantryError, errnoOf, throwIfAborted } from "../util/errors.js";
import type { ContentInfo, ContentStore, ContentWriter } from "./content-store.js";
import { createDigestVerifier } from "./digest-verifier.js";
import { openFileContentWriter } from "./file-content-writer.js";

const STALE_INGEST_MS = 24 * 60 * 60 * 1000;

/**
 * Opens (creating if needed) a content store under `root`, and removes ingests left over for more than a
 * day by a crashed process.
 */
export async function openLocalContentStore(root: string): Promise<LocalContentStore> {
  await mkdir(join(root, "blobs", "sha256"), { recursive: true });
  await mkdir(join(root, "ingest"), { recursive: true });
  const store = new LocalContentStore(root);
  await sweepStaleIngests(join(root, "ingest"), Date.now() - STALE_INGEST_MS);
  return store;
}

/** `ContentStore` over a directory; see the file comment for the layout. */
export class LocalContentStore implements ContentStore {
  readonly root: string;
  readonly #activeRefs = new Set<string>();
  readonly #labelLocks = new Map<Digest, Promise<unknown>>();

  constructor(root: string) {
    this.root = root;
  }

  path(digest: Digest): string {
    return join(this.root, "blobs", "sha256", digestHex(digest));
  }

  async info(digest: Digest): Promise<ContentInfo> {
    let st;
    try {
      st = await stat(this.path(digest));
    } catch (err) {
      if (errnoOf(err) === "ENOENT") throw notFound(digest);
      throw err;
    }
    return { digest, size: st.size, createdAt: st.mtime, labels: await this.#readLabels(digest) };
  }

  /** See `ContentProvider.reader`; the stream checks size and digest as it ends. */
  async reader(digest: Digest, opts: { signal?: AbortSignal } = {}): Promise<Readable> {
    throwIfAborted(opts.signal);
    const { size } = await this.info(digest);
    const file = createReadStream(this.path(digest));
    const verified = createDigestVerifier(digest, `blob ${digest} in the content store ${this.root}`, size);
    file.on("error", (err) => verified.destroy(err));
    verified.on("close", () => file.destroy());
    if (opts.signal) addAbortSignal(opts.signal, verified);
    return file.pipe(verified);
  }

  async readBlob(digest: Digest): Promise<Buffer> {
    let data: Buffer;
    try {
      data = await readFile(this.path(digest));
    } catch (err) {
      if (errnoOf(err) === "ENOENT") throw notFound(digest);
      throw err;
    }
    const actual = sha256(data);
    if (actual !== digest) {
      throw new GantryError("FailedPrecondition",
        `Cannot read blob ${digest} in the content store ${this.root}: its content has digest ${actual}.`);
    }
    return data;
  }

  /** See `ContentIngester.writer`. A second writer for a ref still open is Unavailable (retry later). */
  async writer(opts: { ref: string }): Promise<ContentWriter> {
    const { ref } = opts;
    if (this.#activeRefs.has(ref)) {
      throw new GantryError("Unavailable", `Cannot open a writer for content "${ref}": another writer holds it.`);
    }
    this.#activeRefs.add(ref);
    try {
      return await openFileContentWriter({
        ref,
        ingestPath: join(this.root, "ingest", createHash("sha256").update(ref).digest("hex")),
        blobPath: (d) => this.path(d),
        onClose: () => this.#activeRefs.delete(ref),
      });
    } catch (err) {
      this.#activeRefs.delete(ref);
      throw err;
    }
  }

  async putBlob(data: Uint8Array, expected?: Digest): Promise<Digest> {
    // Every build stores its base image's config and manifest again: a stat spares a write and two syncs.
    if (expected !== undefined && sha256(data) === expected && (await this.#has(expected))) return expected;
    const w = await this.writer({ ref: `put-${randomUUID()}` });
    try {
      await w.write(data);
    } catch (err) {
      await w.abort();
      throw err;
    }
    return w.commit({ digest: expected });
  }

  /** See `ContentIngester.ingest`; more bytes than `size` stops the copy early with FailedPrecondition. */
  async ingest(source: AsyncIterable<Uint8Array>,
    opts: { expected?: Digest; size?: number; signal?: AbortSignal } = {}): Promise<{ digest: Digest; size: number }> {
    throwIfAborted(opts.signal);
    const ref = `ingest-${opts.expected ?? "unknown"}-${randomUUID()}`;
    const w = await this.writer({ ref });
    let written = 0;
    try {
      for await (const chunk of source) {
        throwIfAborted(opts.signal);
        written += chunk.length;
        if (opts.size !== undefined && written > opts.size) {
          throw new GantryError("FailedPrecondition",
            `Cannot ingest ${opts.expected ?? "content"}: got more than the expected ${opts.size} bytes.`);
        }
        await w.write(chunk);
      }
      throwIfAborted(opts.signal);
    } catch (err) {
      await w.abort();
      throw err;
    }
    const digest = await w.commit({ digest: opts.expected, size: opts.size });
    return { digest, size: written };
  }

  /** Calls `fn` for each committed blob, in directory order. */
  async walk(fn: (info: ContentInfo) => void | Promise<void>): Promise<void> {
    const names = await readdir(join(this.root, "blobs", "sha256"));
    for (const hex of names) {
      const digest = `sha256:${hex}`;
      if (!isDigest(digest)) continue;
      let info: ContentInfo;
      try {
        info = await this.info(digest);
      } catch (err) {
        // Deleted while we walked: nothing to report.
        if (err instanceof GantryError && err.code === "NotFound") continue;
        throw err;
      }
      await fn(info);
    }
  }

  /** Removes a blob and its labels; NotFound if it is not there. */
  async delete(digest: Digest): Promise<void> {
    try {
      await rm(this.path(digest));
    } catch (err) {
      if (errnoOf(err) === "ENOENT") throw notFound(digest);
      throw err;
    }
    await rm(this.#labelPath(digest), { force: true });
  }

  /**
   * Merges `labels` into the blob's labels; a key set to "" is removed (containerd's convention).
   * Updates of one blob are applied one at a time. NotFound if the blob is not there.
   */
  update(digest: Digest, labels: Record<string, string>): Promise<ContentInfo> {
    const prev = this.#labelLocks.get(digest) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(() => this.#applyLabels(digest, labels));
    this.#labelLocks.set(digest, next);
    void next.finally(() => {
      if (this.#labelLocks.get(digest) === next) this.#labelLocks.delete(digest);
    }).catch(() => undefined);
    return next;
  }

  async #has(digest: Digest): Promise<boolean> {
    return stat(this.path(digest)).then(() => true, () => false);
  }

  async #applyLabels(digest: Digest, labels: Record<string, string>): Promise<ContentInfo> {
    const info = await this.info(digest);
    const merged = { ...info.labels };
    for (const [k, v] of Object.entries(labels)) {
      if (v === "") delete merged[k];
      else merged[k] = v;
    }
    const path = this.#labelPath(digest);
    if (Object.keys(merged).length === 0) {
      await rm(path, { force: true });
    } else {
      await mkdir(join(this.root, "labels", "sha256"), { recursive: true });
      await atomicWrite(path, JSON.stringify(merged));
    }
    return { ...info, labels: merged };
  }

  async #readLabels(digest: Digest): Promise<Record<string, string>> {
    let text: string;
    try {
      text = await readFile(this.#labelPath(digest), "utf8");
    } catch (err) {
      if (errnoOf(err) === "ENOENT") return {};
      throw err;
    }
    const parsed: unknown = JSON.parse(text);
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      throw new GantryError("Internal", `Cannot read the labels of blob ${digest} in ${this.root}: not a JSON object.`);
    }
    return Object.fromEntries(Object.entries(parsed).filter(([, v]) => typeof v === "string")) as Record<string, string>;
  }

  #labelPath(digest: Digest): string {
    return join(this.root, "labels", "sha256", `${digestHex(digest)}.json`);
  }
}

function notFound(digest: Digest): GantryError {
  return new GantryError("NotFound", `Cannot find blob ${digest} in the content store.`);
}

async function sweepStaleIngests(dir: string, olderThan: number): Promise<void> {
  for (const name of await readdir(dir)) {
    const p = join(dir, name);
    try {
      if ((await stat(p)).mtimeMs < olderThan) await rm(p, { recursive: true, force: true });
    } catch (err) {
      // Another sweep or writer got there first.
      if (errnoOf(err) !== "ENOENT") throw err;
    }
  }
}
