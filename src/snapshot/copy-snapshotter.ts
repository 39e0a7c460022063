// Snapshots as full copies, for hosts without overlayfs (rootless, odd filesystems).
//
// Layout under `root`: `snapshots/<id>/fs` (the full tree: an active snapshot's writable copy of its
// parent, or a committed snapshot's content), `snapshots/<id>/diff` (a committed snapshot's own layer in
// overlay form, computed at commit by walking parent and child) and `record.json`. Mounts are bind mounts.
// `prepare` copies the parent (reflinks where the filesystem can); a view binds the parent read-only;
// a merge or chain commit builds its tree by applying each layer in order, so `layers()` and chains
// behave exactly as in the overlay snapshotter.
import { mkdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { GantryError } from "../util/errors.js";
import { applyLayerDir } from "./apply-layer-dir.js";
import { diskUsage } from "./disk-usage.js";
import type { LayerChainer } from "./layer-chainer.js";
import { dedupeChain, infoOf, SnapshotRecords, type SnapshotRecord } from "./snapshot-records.js";
import type { LayerDiffer, LayerDir, Mount, SnapshotInfo, SnapshotOptions, Snapshotter, Usage } from "./snapshotter.js";
import { copyTree } from "./tree-copy.js";
import { writeTreeDiff } from "./tree-diff.js";

/** Opens (creating if needed) a copying snapshotter rooted at `root`, removing crash leftovers. */
export async function openCopySnapshotter(root: string): Promise<CopySnapshotter> {
  const records = await SnapshotRecords.open(root);
  for (const rec of records.all()) {
    // A diff being written when the process died; an active snapshot's diff is stale by definition.
    const dir = records.dirOf(rec.id);
    await rm(join(dir, "diff.tmp"), { recursive: true, force: true });
    if (rec.kind !== "committed") await rm(join(dir, "diff"), { recursive: true, force: true });
  }
  return new CopySnapshotter(root, records);
}

/** The copying Snapshotter; also a LayerDiffer and a LayerChainer. */
export class CopySnapshotter implements Snapshotter, LayerDiffer, LayerChainer {
  readonly #root: string;
  readonly #records: SnapshotRecords;
  #closed = false;

  constructor(root: string, records: SnapshotRecords) {
    this.#root = root;
    this.#records = records;
  }

  async prepare(key: string, parent?: string, opts: SnapshotOptions = {}): Promise<Mount[]> {
    this.#check();
    const chain = this.#records.parentChain(parent);
    const from = parent ? this.#fs(this.#records.committed(parent)) : undefined;
    const rec = await this.#records.create(
      { name: key, kind: "active", parent: parent || undefined, chain, labels: { ...opts.labels } },
      async (dir) => {
        await mkdir(join(dir, "fs"));
        if (from) await copyTree(from, join(dir, "fs"), opts);
      });
    return this.#mountsOf(rec);
  }

  async view(key: string, parent?: string, opts: SnapshotOptions = {}): Promise<Mount[]> {
    this.#check();
    const chain = this.#records.parentChain(parent);
    const rec = await this.#records.create(
      { name: key, kind: "view", parent: parent || undefined, chain, labels: { ...opts.labels } },
      (dir) => mkdir(join(dir, "fs")));
    return this.#mountsOf(rec);
  }

  async mounts(key: string): Promise<Mount[]> {
    this.#check();
    const rec = this.#records.get(key);
    if (rec.kind === "committed") {
      throw new GantryError("FailedPrecondition", `Snapshot "${key}" is committed: mount a view of it instead.`);
    }
    return this.#mountsOf(rec);
  }

  async commit(name: string, key: string, opts: SnapshotOptions = {}): Promise<void> {
    this.#check();
    await this.#records.commit(key, name, async (rec) => {
      const dir = this.#records.dirOf(rec.id);
      const lower = rec.parent ? this.#fs(this.#records.committed(rec.parent)) : undefined;
      await rm(join(dir, "diff.tmp"), { recursive: true, force: true });
      await mkdir(join(dir, "diff.tmp"));
      await writeTreeDiff(lower, join(dir, "fs"), join(dir, "diff.tmp"), opts);
      await rename(join(dir, "diff.tmp"), join(dir, "diff"));
    }, opts.labels);
  }

  async merge(name: string, parents: string[], opts: SnapshotOptions = {}): Promise<void> {
    this.#check();
    const chain = parents.flatMap((p) => this.#records.committed(p).chain);
    await this.commitChain(name, dedupeChain(chain), opts);
  }

  async commitChain(name: string, chain: readonly string[], opts: SnapshotOptions = {}): Promise<void> {
    this.#check();
    for (const id of chain) {
      if (!this.#records.isLayer(id)) throw new GantryError("NotFound", `Layer ${id} of snapshot "${name}" does not exist.`);
    }
    await this.#records.create({ name, kind: "committed", chain, labels: { ...opts.labels } }, async (dir) => {
      await mkdir(join(dir, "fs"));
      for (const id of chain) await applyLayerDir(this.#diff(id), join(dir, "fs"), opts);
    });
  }

  async chain(name: string): Promise<string[]> {
    this.#check();
    return [...this.#records.committed(name).chain];
  }

  async layers(name: string): Promise<LayerDir[]> {
    this.#check();
    return this.#records.committed(name).chain.map((id) => ({ path: this.#diff(id) }));
  }

  async stat(key: string): Promise<SnapshotInfo> {
    this.#check();
    return infoOf(this.#records.get(key));
  }

  async usage(key: string): Promise<Usage> {
    this.#check();
    return diskUsage(this.#records.dirOf(this.#records.get(key).id));
  }

  async remove(key: string): Promise<void> {
    this.#check();
    await this.#records.remove(key);
  }

  async walk(fn: (info: SnapshotInfo) => void | Promise<void>): Promise<void> {
    this.#check();
    for (const rec of this.#records.all()) await fn(infoOf(rec));
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #mountsOf(rec: SnapshotRecord): Mount[] {
    if (rec.kind === "active") return [{ type: "bind", source: this.#fs(rec), options: ["rbind", "rw"] }];
    // A view never changes, so it binds its parent's tree (kept alive: remove refuses a parent in use).
    const src = rec.parent ? this.#fs(this.#records.committed(rec.parent)) : this.#fs(rec);
    return [{ type: "bind", source: src, options: ["rbind", "ro"] }];
  }

  #fs(rec: SnapshotRecord): string {
    return join(this.#records.dirOf(rec.id), "fs");
  }

  #diff(id: string): string {
    return join(this.#records.dirOf(id), "diff");
  }

  #check(): void {
    if (this.#closed) throw new GantryError("FailedPrecondition", `The snapshotter at ${this.#root} is closed.`);
  }
}
