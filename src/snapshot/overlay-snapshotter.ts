// Snapshots as overlayfs layers (needs root and overlayfs).
//
// Layout under `root`: `snapshots/<id>/fs` (the layer: an active snapshot's upper dir, later the
// committed layer), `snapshots/<id>/work` (overlay's work dir while active), `snapshots/<id>/record.json`
// (see snapshot-records.ts), and `empty/`, an always-empty bottom layer.
// A committed snapshot is its chain of layer ids; a merge is only a new chain over existing layers.
//
// Limits: the kernel caps mount options at one page (4096 bytes) and overlay at 500 lower layers. With
// absolute paths each lower dir costs `<root>/snapshots/<id>/fs:`, so keep `root` short: with a 20-byte
// root about 100 layers fit; beyond that `prepare`/`view` fail with ResourceExhausted. Going further needs
// mounting with cwd-relative lower dirs, which Mount/mountAll cannot express today.
import { access, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { GantryError } from "../util/errors.js";
import { diskUsage } from "./disk-usage.js";
import type { LayerChainer } from "./layer-chainer.js";
import type { ReadonlyMounter } from "./readonly-mounter.js";
import { removeDir } from "./remove-dir.js";
import { dedupeChain, infoOf, SnapshotRecords, type SnapshotRecord } from "./snapshot-records.js";
import type { LayerDiffer, LayerDir, Mount, SnapshotInfo, SnapshotOptions, Snapshotter, Usage } from "./snapshotter.js";

const MAX_OPTIONS_BYTES = 4000;

/** Opens (creating if needed) an overlay snapshotter rooted at `root`, removing crash leftovers. */
export async function openOverlaySnapshotter(root: string): Promise<OverlaySnapshotter> {
  await mkdir(join(root, "empty"), { recursive: true });
  const records = await SnapshotRecords.open(root);
  // With the overlay index feature on, a lower dir shared by two mounts can be refused; turn it off.
  const hasIndex = await access("/sys/module/overlay/parameters/index").then(() => true, () => false);
  return new OverlaySnapshotter(root, records, hasIndex ? ["index=off"] : []);
}

/**
 * The overlayfs Snapshotter; also a LayerDiffer (each layer's fs dir is its diff), a LayerChainer and a
 * ReadonlyMounter (a read-only overlay of the layers needs no snapshot directory of its own).
 */
export class OverlaySnapshotter implements Snapshotter, LayerDiffer, LayerChainer, ReadonlyMounter {
  readonly #root: string;
  readonly #records: SnapshotRecords;
  readonly #extraOptions: string[];
  #closed = false;

  constructor(root: string, records: SnapshotRecords, extraOptions: string[]) {
    this.#root = root;
    this.#records = records;
    this.#extraOptions = extraOptions;
  }

  async prepare(key: string, parent?: string, opts: SnapshotOptions = {}): Promise<Mount[]> {
    return this.#createMounted(key, "active", parent, opts);
  }

  async view(key: string, parent?: string, opts: SnapshotOptions = {}): Promise<Mount[]> {
    return this.#createMounted(key, "view", parent, opts);
  }

  async mounts(key: string): Promise<Mount[]> {
    this.#check();
    const rec = this.#records.get(key);
    if (rec.kind === "committed") {
      throw new GantryError("FailedPrecondition", `Snapshot "${key}" is committed: mount a view of it instead.`);
    }
    return this.#recordMounts(rec);
  }

  async readonlyMounts(name: string): Promise<Mount[]> {
    this.#check();
    const rec = this.#records.committed(name);
    return this.#chainMounts(rec.chain, rec.name, undefined);
  }

  async commit(name: string, key: string, opts: SnapshotOptions = {}): Promise<void> {
    this.#check();
    const rec = this.#records.get(key);
    if (rec.kind !== "active") {
      throw new GantryError("FailedPrecondition", `Cannot commit snapshot "${key}": it is ${rec.kind}, not active.`);
    }
    const work = join(this.#records.dirOf(rec.id), "work");
    // The work dir is overlay's scratch space, never mounted after the commit point: it goes while the
    // record is rewritten (one wait instead of two), and comes back if the commit fails.
    const removed = removeDir(work, ["work"]);
    try {
      await this.#records.commit(key, name, async () => undefined, opts.labels);
    } catch (err) {
      await removed.catch(() => undefined);
      if (rec.chain.length > 0) await mkdir(work).catch(() => undefined);
      throw err;
    }
    await removed;
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
    await this.#records.create({ name, kind: "committed", chain, labels: { ...opts.labels } }, async () => undefined);
  }

  async chain(name: string): Promise<string[]> {
    this.#check();
    return [...this.#records.committed(name).chain];
  }

  async layers(name: string): Promise<LayerDir[]> {
    this.#check();
    return this.#records.committed(name).chain.map((id) => ({ path: this.#fs(id) }));
  }

  async stat(key: string): Promise<SnapshotInfo> {
    this.#check();
    return infoOf(this.#records.get(key));
  }

  async usage(key: string): Promise<Usage> {
    this.#check();
    const rec = this.#records.get(key);
    return diskUsage(this.#records.dirOf(rec.id));
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

  async #createMounted(key: string, kind: "active" | "view", parent: string | undefined, opts: SnapshotOptions):
    Promise<Mount[]> {
    const rec = await this.#create(key, kind, parent, opts);
    try {
      return this.#recordMounts(rec);
    } catch (err) {
      // Unmountable (too many layers): leave nothing behind.
      await this.#records.remove(key);
      throw err;
    }
  }

  async #create(key: string, kind: "active" | "view", parent: string | undefined, opts: SnapshotOptions):
    Promise<SnapshotRecord> {
    this.#check();
    const chain = this.#records.parentChain(parent);
    return this.#records.create({ name: key, kind, parent: parent || undefined, chain, labels: { ...opts.labels } },
      async (dir) => {
        // Independent directories: create them together.
        await Promise.all([mkdir(join(dir, "fs")), kind === "active" && chain.length > 0 ? mkdir(join(dir, "work")) : undefined]);
      });
  }

  #recordMounts(rec: SnapshotRecord): Mount[] {
    if (rec.kind === "active") return this.#chainMounts(rec.chain, rec.name, undefined, this.#records.dirOf(rec.id));
    return this.#chainMounts(rec.chain, rec.name, rec.chain.length === 0 ? this.#fs(rec.id) : undefined);
  }

  /**
   * Mounts of `chain` (bottom → top): writable with the upper and work dirs of `active` (a snapshot
   * directory), read-only otherwise; an empty chain binds `emptyDir` (read-only) or active's own layer.
   */
  #chainMounts(chain: readonly string[], name: string, emptyDir: string | undefined, active?: string): Mount[] {
    const rw = active !== undefined;
    if (chain.length === 0) {
      return [{ type: "bind", source: active !== undefined ? join(active, "fs") : emptyDir ?? join(this.#root, "empty"), options: ["rbind", rw ? "rw" : "ro"] }];
    }
    const lowers = [...chain].reverse().map((id) => this.#fs(id));
    // Overlay needs two lower dirs without an upper; the empty bottom layer also keeps whiteouts of a lone
    // layer (a diff) hidden, which a plain read-only bind mount would show as 0/0 devices.
    if (!rw && lowers.length === 1) lowers.push(join(this.#root, "empty"));
    const lowerdir = `lowerdir=${lowers.join(":")}`;
    if (lowerdir.length > MAX_OPTIONS_BYTES) {
      throw new GantryError("ResourceExhausted",
        `Cannot mount snapshot "${name}": its ${lowers.length} layers exceed the kernel's mount option size.`,
        { hint: "Use a shorter snapshotter root directory or fewer layers." });
    }
    const options = active !== undefined
      ? [lowerdir, `upperdir=${join(active, "fs")}`, `workdir=${join(active, "work")}`]
      : [lowerdir, "ro"];
    return [{ type: "overlay", source: "overlay", options: [...options, ...this.#extraOptions] }];
  }

  #fs(id: string): string {
    return join(this.#records.dirOf(id), "fs");
  }

  #check(): void {
    if (this.#closed) throw new GantryError("FailedPrecondition", `The snapshotter at ${this.#root} is closed.`);
  }
}
