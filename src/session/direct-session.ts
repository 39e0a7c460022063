// The embedded mode's session: the client's directories and secrets are on this host, so "transfer" is a
// filtered copy and secrets are read straight from their files or environment variables.
import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { hostname } from "node:os";
import { resolve } from "node:path";
import { GantryError, errnoOf } from "../util/errors.js";
import type { BuildSession, LocalSyncOptions, LocalSyncStats } from "./build-session.js";
import { syncLocalTree } from "./local-tree-sync.js";

export type DirectSecret = { file: string } | { env: string };

export interface DirectSessionOptions {
  locals: Record<string, string>;
  secrets: Record<string, DirectSecret>;
}

/**
 * A session shared key naming this set of local directories on this machine: the same directories next
 * time are "the same context", so the engine may sync into its earlier copy and move only what changed.
 * The machine (its machine-id and host name) and the user are part of it, as buildx's per-node key is: a
 * shared daemon must not take another client's copy for this one's, since the sync trusts size and time.
 */
export function localsSharedKey(locals: Record<string, string>): string {
  const dirs = Object.entries(locals).map(([n, d]) => [n, resolve(d)]).sort();
  return createHash("sha256").update(JSON.stringify([machineIdentity(), process.getuid?.() ?? -1, dirs])).digest("hex");
}

function machineIdentity(): string {
  let id = "";
  try {
    id = readFileSync("/etc/machine-id", "utf8").trim();
  } catch {
    // not every system has one; the host name still tells machines apart
  }
  return `${id}/${hostname()}`;
}

export function createDirectSession(opts: DirectSessionOptions): BuildSession {
  const id = randomBytes(13).toString("hex").slice(0, 25);
  return {
    id,
    sharedKey: localsSharedKey(opts.locals),
    async syncLocal(name: string, dest: string, o: LocalSyncOptions): Promise<LocalSyncStats> {
      const src = opts.locals[name];
      if (!src) {
        throw new GantryError("NotFound", `The build needs the local directory "${name}", but none was given: add --local ${name}=<dir>.`);
      }
      try {
        if (!(await stat(src)).isDirectory()) throw new GantryError("InvalidArgument", `--local ${name}=${src} is not a directory.`);
      } catch (err) {
        if (errnoOf(err) === "ENOENT") throw new GantryError("NotFound", `--local ${name}=${src}: no such directory.`, { cause: err });
        throw err;
      }
      return syncLocalTree(src, dest, o);
    },
    async getSecret(secretId: string): Promise<Uint8Array> {
      const s = opts.secrets[secretId];
      if (!s) throw new GantryError("NotFound", `Secret "${secretId}" was not given: add --secret id=${secretId},src=<file>.`);
      if ("file" in s) {
        try {
          return await readFile(s.file);
        } catch (err) {
          throw new GantryError("NotFound", `Cannot read secret "${secretId}" from ${s.file}: ${errnoOf(err) ?? "error"}.`, { cause: err });
        }
      }
      const v = process.env[s.env];
      if (v === undefined) throw new GantryError("NotFound", `Secret "${secretId}": environment variable ${s.env} is not set.`);
      return Buffer.from(v);
    },
  };
}
