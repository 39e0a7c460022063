// The OCI image layout (image-spec `image-layout.md`), as a tarball or a directory: `oci-layout`,
// `index.json` and `blobs/sha256/<hex>`. The tarball can also carry Docker's `manifest.json` and
// `repositories` so `docker load` accepts it. Tar entries are sorted by name, as containerd writes them.
import { createWriteStream } from "node:fs";
import { mkdir, readFile, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { finished, pipeline } from "node:stream/promises";
import { once } from "node:events";
import { randomBytes } from "node:crypto";
import { pack, type Pack } from "tar-stream";
import { atomicWrite } from "../util/atomic-write.js";
import { digestHex } from "../util/digest.js";
import { canceledError, errnoOf, GantryError, throwIfAborted } from "../util/errors.js";
import { isIndexMediaType, isManifestMediaType } from "./media-types.js";
import { parseReference } from "./reference.js";
import type { Descriptor, Index, Manifest } from "./types.js";
import type { Digest } from "../util/digest.js";

/** Where layout blobs come from: a content store's provider side (declared here; `oci` sits below `content`). */
export interface BlobSource {
  /** A whole small blob (manifests, indexes). */
  readBlob(digest: Digest): Promise<Buffer>;
  /** A stream of a blob that fails if its bytes do not match the digest. */
  reader(digest: Digest, opts?: { signal?: AbortSignal }): Promise<Readable>;
}

/** Annotation holding an image's full name on index.json entries (containerd's). */
export const IMAGE_NAME_ANNOTATION = "io.containerd.image.name";
/** Annotation holding the OCI ref name (the tag) on index.json entries. */
export const REF_NAME_ANNOTATION = "org.opencontainers.image.ref.name";
const LAYOUT_FILE = JSON.stringify({ imageLayoutVersion: "1.0.0" });

export interface ImageLayoutOptions {
  /** Where blobs are read from. */
  provider: BlobSource;
  /** The index.json entries: manifests (or indexes) with their name annotations. */
  manifests: Descriptor[];
  signal?: AbortSignal;
}

export interface ImageLayoutTarOptions extends ImageLayoutOptions {
  /** Also write `manifest.json` and `repositories` for `docker load`. */
  dockerCompat?: boolean;
  /** End `out` when done (default true); false for stdout. */
  end?: boolean;
}

function blobPath(d: Descriptor): string {
  return `blobs/sha256/${digestHex(d.digest)}`;
}

/** Every blob the entries reach (themselves, configs, layers, children of indexes), de-duplicated. */
export async function collectBlobs(provider: BlobSource, roots: Descriptor[]): Promise<Descriptor[]> {
  const seen = new Map<string, Descriptor>();
  const visit = async (d: Descriptor): Promise<void> => {
    if (seen.has(d.digest)) return;
    seen.set(d.digest, d);
    if (isManifestMediaType(d.mediaType)) {
      const m = JSON.parse((await provider.readBlob(d.digest)).toString("utf8")) as Manifest;
      for (const child of [m.config, ...m.layers]) await visit(child);
    } else if (isIndexMediaType(d.mediaType)) {
      const idx = JSON.parse((await provider.readBlob(d.digest)).toString("utf8")) as Index;
      for (const child of idx.manifests) await visit(child);
    }
  };
  for (const r of roots) await visit(r);
  return [...seen.values()];
}

/** Docker's `manifest.json` (one record per manifest) and legacy `repositories` file. */
async function dockerFiles(provider: BlobSource, manifests: Descriptor[]): Promise<{ manifestJson: string; repositories: string }> {
  const byDigest = new Map<string, { d: Descriptor; tags: string[] }>();
  for (const d of manifests) {
    if (!isManifestMediaType(d.mediaType)) continue;
    const rec = byDigest.get(d.digest) ?? { d, tags: [] };
    const name = d.annotations?.[IMAGE_NAME_ANNOTATION];
    if (name) rec.tags.push(parseReference(name).familiar);
    byDigest.set(d.digest, rec);
  }
  const records = [];
  const repositories: Record<string, Record<string, string>> = {};
  for (const { d, tags } of byDigest.values()) {
    const m = JSON.parse((await provider.readBlob(d.digest)).toString("utf8")) as Manifest;
    records.push({ Config: blobPath(m.config), RepoTags: tags.length > 0 ? tags : null, Layers: m.layers.map(blobPath) });
    for (const t of tags) {
      const ref = parseReference(t);
      if (ref.tag === undefined) continue;
      const repo = ref.familiar.slice(0, ref.familiar.length - ref.tag.length - 1);
      (repositories[repo] ??= {})[ref.tag] = digestHex(m.config.digest);
    }
  }
  return { manifestJson: JSON.stringify(records), repositories: JSON.stringify(repositories) };
}

interface TarRecord {
  name: string;
  mode: number;
  dir?: boolean;
  data?: string;
  blob?: Descriptor;
}

/**
 * Streams the layout as a tarball into `out`. Blobs are read through `provider` (which checks digests).
 * Errors: NotFound for a missing blob, Canceled on abort; `out` is destroyed on failure when `end` is true.
 */
export async function writeImageLayoutTar(out: Writable, opts: ImageLayoutTarOptions): Promise<void> {
  let records: TarRecord[];
  try {
    throwIfAborted(opts.signal);
    records = await tarRecords(opts);
  } catch (err) {
    if (opts.end !== false) out.destroy();
    throw err;
  }
  await streamRecords(out, records, opts);
}

async function tarRecords(opts: ImageLayoutTarOptions): Promise<TarRecord[]> {
  const blobs = await collectBlobs(opts.provider, opts.manifests);
  const records: TarRecord[] = [
    { name: "oci-layout", mode: 0o444, data: LAYOUT_FILE },
    { name: "index.json", mode: 0o644, data: JSON.stringify({ schemaVersion: 2, manifests: opts.manifests }) },
    { name: "blobs/", mode: 0o755, dir: true },
    { name: "blobs/sha256/", mode: 0o755, dir: true },
    ...blobs.map((b) => ({ name: blobPath(b), mode: 0o444, blob: b })),
  ];
  if (opts.dockerCompat) {
    const files = await dockerFiles(opts.provider, opts.manifests);
    records.push({ name: "manifest.json", mode: 0o644, data: files.manifestJson });
    if (files.repositories !== "{}") records.push({ name: "repositories", mode: 0o644, data: files.repositories });
  }
  return records.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

async function streamRecords(out: Writable, records: TarRecord[], opts: ImageLayoutTarOptions): Promise<void> {
  const tar = pack();
  const pumped = pump(tar, out, opts.end !== false, opts.signal);
  // If the destination fails, nothing drains the pack: destroying it unblocks the record writer.
  pumped.catch((err: unknown) => tar.destroy(err instanceof Error ? err : new Error(String(err))));
  const written = (async () => {
    for (const r of records) await writeRecord(tar, r, opts);
    tar.finalize();
  })();
  const [w, p] = await Promise.allSettled([written, pumped]);
  const failure = p.status === "rejected" ? p.reason : w.status === "rejected" ? w.reason : undefined;
  if (failure !== undefined) {
    tar.destroy();
    if (opts.end !== false) out.destroy();
    throw opts.signal?.aborted ? canceledError(opts.signal) : failure;
  }
}

/** Copies the pack's bytes into `out` with backpressure; ends `out` and waits for it when `end`. */
async function pump(tar: Pack, out: Writable, end: boolean, signal?: AbortSignal): Promise<void> {
  let error: Error | undefined;
  // Listen for the whole copy: a write error between awaits must not become an uncaught event.
  const onError = (e: Error): void => {
    error ??= e;
  };
  out.on("error", onError);
  try {
    for await (const chunk of tar as AsyncIterable<Buffer>) {
      if (error) throw error;
      if (!out.write(chunk)) await once(out, "drain", { signal });
    }
    if (error) throw error;
    if (end) {
      out.end();
      await finished(out, { readable: false });
    }
  } finally {
    out.off("error", onError);
  }
}

async function writeRecord(tar: Pack, r: TarRecord, opts: ImageLayoutOptions): Promise<void> {
  throwIfAborted(opts.signal);
  const base = { name: r.name, mode: r.mode, mtime: new Date(0), uid: 0, gid: 0 };
  if (r.dir) {
    await new Promise<void>((res, rej) => tar.entry({ ...base, type: "directory" }, (e) => (e ? rej(e) : res())));
  } else if (r.data !== undefined) {
    const data = Buffer.from(r.data);
    await new Promise<void>((res, rej) => tar.entry({ ...base, type: "file" }, data, (e) => (e ? rej(e) : res())));
  } else if (r.blob) {
    const src: Readable = await opts.provider.reader(r.blob.digest, { signal: opts.signal });
    let settle: (e?: Error | null) => void = () => undefined;
    const entryDone = new Promise<void>((res, rej) => {
      settle = (e) => (e ? rej(e) : res());
    });
    const entry = tar.entry({ ...base, type: "file", size: r.blob.size }, (e) => settle(e));
    // tar-stream's entries are streamx streams: feed them by hand rather than through Node's pipeline.
    for await (const chunk of src as AsyncIterable<Buffer>) {
      if (!entry.write(chunk)) await new Promise<void>((res) => entry.once("drain", () => res()));
    }
    entry.end(undefined); // streamx types require an argument; undefined means "no more data"
    await entryDone;
  }
}

/**
 * Writes the layout into directory `dir` (created if needed): missing blobs are copied in (each via a
 * temp file and rename), and `index.json` gains the entries, replacing older entries of the same name.
 */
export async function writeImageLayoutDir(dir: string, opts: ImageLayoutOptions): Promise<void> {
  throwIfAborted(opts.signal);
  const blobDir = join(dir, "blobs", "sha256");
  await mkdir(blobDir, { recursive: true });
  await atomicWrite(join(dir, "oci-layout"), LAYOUT_FILE);
  for (const b of await collectBlobs(opts.provider, opts.manifests)) {
    const target = join(dir, blobPath(b));
    if (await sizeOf(target) === b.size) continue; // named by digest: present means written whole
    const tmp = `${target}.${randomBytes(6).toString("hex")}.tmp`;
    try {
      await pipeline(await opts.provider.reader(b.digest, { signal: opts.signal }), createWriteStream(tmp));
      await rename(tmp, target);
    } catch (err) {
      await rm(tmp, { force: true });
      throw opts.signal?.aborted ? canceledError(opts.signal) : err;
    }
  }
  const index = await readIndex(join(dir, "index.json"));
  const names = new Set(opts.manifests.map((m) => m.annotations?.[IMAGE_NAME_ANNOTATION]).filter((n) => n !== undefined));
  const kept = index.manifests.filter((m) => {
    const n = m.annotations?.[IMAGE_NAME_ANNOTATION];
    return n === undefined ? !opts.manifests.some((x) => x.digest === m.digest) : !names.has(n);
  });
  await atomicWrite(join(dir, "index.json"), JSON.stringify({ ...index, schemaVersion: 2, manifests: [...kept, ...opts.manifests] }));
}

async function sizeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch (err) {
    if (errnoOf(err) === "ENOENT") return undefined; // not there yet
    throw err;
  }
}

async function readIndex(path: string): Promise<Index> {
  let raw: string;
  try {
    raw = await readFile(path, "utf8");
  } catch (err) {
    if (errnoOf(err) === "ENOENT") return { schemaVersion: 2, manifests: [] }; // a new layout
    throw err;
  }
  try {
    const idx = JSON.parse(raw) as Index;
    if (!Array.isArray(idx.manifests)) throw new Error("manifests is not a list");
    return idx;
  } catch (err) {
    throw new GantryError("FailedPrecondition", `Cannot update ${path}: it is not a valid OCI index.`, { cause: err });
  }
}
