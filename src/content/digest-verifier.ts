// A pass-through stream that hashes what flows through it and fails at the end when the bytes do not
// match the digest (or size) they were read under, so readers never trust a blob without checking it.
import { Transform, type TransformCallback } from "node:stream";
import { DigestHasher, type Digest } from "../util/digest.js";
import { GantryError } from "../util/errors.js";

/**
 * Returns a Transform that passes chunks through unchanged and, when the input ends, errors with
 * FailedPrecondition if the sha256 of everything seen is not `expected` (or its length is not
 * `size`, when given). `what` names the blob in the message ("blob sha256:… in /var/lib/…").
 */
export function createDigestVerifier(expected: Digest, what: string, size?: number): Transform {
  const hasher = new DigestHasher();
  return new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
      hasher.update(chunk);
      done(null, chunk);
    },
    flush(done: TransformCallback): void {
      if (size !== undefined && hasher.size !== size) {
        done(new GantryError("FailedPrecondition",
          `Cannot read ${what}: expected ${size} bytes, got ${hasher.size}.`));
        return;
      }
      const actual = hasher.digest();
      done(actual === expected ? null : new GantryError("FailedPrecondition",
        `Cannot read ${what}: its content has digest ${actual}, not ${expected}.`));
    },
  });
}
