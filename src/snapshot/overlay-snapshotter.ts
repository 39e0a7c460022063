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
import { access, mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { GantryError } from "../util/errors.js";
import { diskUsage } from "./disk-usage.js";
import type { LayerChainer } from "./layer-chainer.js";
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

/** The overlayfs Snapshotter; also a LayerDiffer (each layer's fs dir is its diff) and a LayerChainer. */
export class OverlaySnapshotter implements Snapshotter, LayerDiffer, LayerChainer {
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
    return this.#mountsOf(rec);
  }

  async commit(name: string, key: string, opts: SnapshotOptions = {}): Promise<void> {
    this.#check();
    const rec = await this.#records.commit(key, name, async () => undefined, opts.labels);
    // After the commit point the work dir is never mounted again.
    await rm(join(this.#records.dirOf(rec.id), "work"), { recursive: true, force: true });
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
      return this.#mountsOf(rec);
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
        await mkdir(join(dir, "fs"));
        if (kind === "active" && chain.length > 0) await mkdir(join(dir, "work"));
      });
  }

  #mountsOf(rec: SnapshotRecord): Mount[] {
    const own = this.#fs(rec.id);
    const rw = rec.kind === "active";
    if (rec.chain.length === 0) return [{ type: "bind", source: own, options: ["rbind", rw ? "rw" : "ro"] }];
    const lowers = [...rec.chain].reverse().map((id) => this.#fs(id));
    // Overlay needs two lower dirs without an upper; the empty bottom layer also keeps whiteouts of a lone
    // layer (a diff) hidden, which a plain read-only bind mount would show as 0/0 devices.
    if (!rw && lowers.length === 1) lowers.push(join(this.#root, "empty"));
    const lowerdir = `lowerdir=${lowers.join(":")}`;
    if (lowerdir.length > MAX_OPTIONS_BYTES) {
      throw new GantryError("ResourceExhausted",
        `Cannot mount snapshot "${rec.name}": its ${lowers.length} layers exceed the kernel's mount option size.`,
        { hint: "Use a shorter snapshotter root directory or fewer layers." });
    }
    const options = rw
      ? [lowerdir, `upperdir=${own}`, `workdir=${join(this.#records.dirOf(rec.id), "work")}`]
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
