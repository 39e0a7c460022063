import { createHash } from "node:crypto";
import { GantryError } from "./errors.js";

declare const digestBrand: unique symbol;
/** A content digest, `sha256:<64 hex>`. Branded so it cannot be confused with other ids. */
export type Digest = string & { readonly [digestBrand]: true };

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

export function isDigest(s: string): s is Digest {
  return DIGEST_RE.test(s);
}

/** Validates a digest received from outside (a manifest, a request, a file name). */
export function parseDigest(s: string): Digest {
  if (!isDigest(s)) throw new GantryError("InvalidArgument", `Invalid digest "${s}": expected sha256:<64 hex digits>.`);
  return s;
}

export function sha256(data: string | Uint8Array): Digest {
  return `sha256:${createHash("sha256").update(data).digest("hex")}` as Digest;
}

/** The hex part of a digest, as used in blob paths. */
export function digestHex(d: Digest): string {
  return d.slice("sha256:".length);
}

/** An incremental sha256 for streams: feed chunks, then read the digest once. */
export class DigestHasher {
  readonly #hash = createHash("sha256");
  #size = 0;

  update(chunk: Uint8Array): void {
    this.#hash.update(chunk);
    this.#size += chunk.length;
  }

  get size(): number {
    return this.#size;
  }

  digest(): Digest {
    return `sha256:${this.#hash.digest("hex")}` as Digest;
  }
}
