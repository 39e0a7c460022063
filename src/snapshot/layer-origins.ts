// Which blob a committed layer directory was unpacked from. A pulled image's layers are unpacked into
// snapshots; when such a layer is exported again, the exporter can hand out the original blob (same digest
// as the base image's, nothing re-tarred or re-uploaded) instead of tarring the directory anew.
// One small JSON file per layer directory, so the facts outlive the process that pulled the image.
import { createHash } from "node:crypto";
import { mkdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { atomicWrite } from "../util/atomic-write.js";
import { isDigest, type Digest } from "../util/digest.js";
import { errnoOf } from "../util/errors.js";

/** The blob a layer directory holds the content of. */
export interface LayerOrigin {
  mediaType: string;
  digest: Digest;
  size: number;
  /** Digest of the uncompressed tar (the image config's diff id). */
  diffId: Digest;
}

/**
 * Layer origins kept under `dir`. A record names the layer directory by path, inode and change time, so
 * a removed snapshot whose path is later reused for other content never inherits the old record.
 * Missing or unreadable records read as "unknown"; nothing here throws for them.
 */
export class LayerOrigins {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
  }

  /** Remembers that committed `layerPath` is the content of `origin`; a record already there is kept. */
  async record(layerPath: string, origin: LayerOrigin): Promise<void> {
    const file = await this.#file(layerPath);
    if (file === undefined || (await readOrigin(file)) !== undefined) return;
    await mkdir(this.#dir, { recursive: true });
    await atomicWrite(file, JSON.stringify(origin));
  }

  /** The blob `layerPath` was unpacked from, if recorded. */
  async lookup(layerPath: string): Promise<LayerOrigin | undefined> {
    const file = await this.#file(layerPath);
    return file === undefined ? undefined : readOrigin(file);
  }

  async #file(layerPath: string): Promise<string | undefined> {
    let st;
    try {
      st = await stat(layerPath);
    } catch (err) {
      if (errnoOf(err) === "ENOENT") return undefined; // no such layer: nothing recorded for it
      throw err;
    }
    const id = createHash("sha256").update(`${layerPath}\0${st.dev}:${st.ino}:${st.ctimeMs}`).digest("hex");
    return join(this.#dir, `origin-${id}.json`);
  }
}

async function readOrigin(file: string): Promise<LayerOrigin | undefined> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, "utf8"));
  } catch {
    return undefined; // absent or torn: treated as unknown, the layer is then tarred as usual
  }
  return isOrigin(parsed) ? parsed : undefined;
}

function isOrigin(v: unknown): v is LayerOrigin {
  if (typeof v !== "object" || v === null) return false;
  const o = v as Record<string, unknown>;
  return typeof o.mediaType === "string" && typeof o.digest === "string" && isDigest(o.digest)
    && typeof o.size === "number" && typeof o.diffId === "string" && isDigest(o.diffId);
}
