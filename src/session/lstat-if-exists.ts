import type { BigIntStats } from "node:fs";
import { lstat } from "node:fs/promises";
import { errnoOf } from "../util/errors.js";

/** lstat with nanosecond fields, or undefined when nothing is at `path`. */
export async function lstatIfExists(path: string): Promise<BigIntStats | undefined> {
  try {
    return await lstat(path, { bigint: true });
  } catch (err) {
    if (errnoOf(err) === "ENOENT") return undefined;
    throw err;
  }
}
