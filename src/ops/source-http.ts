// `http://` and `https://` sources: one downloaded file in an otherwise empty snapshot. The cache key is the
// content's digest (or the pinned checksum), so a changed download re-runs what depends on it.
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { chmod, chown, copyFile, mkdtemp, rm, utimes } from "node:fs/promises";
import { join, posix } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { SourceOp } from "../gen/pb/ops_pb.js";
import { Attrs } from "../llb/keys.js";
import type { CacheMap, Op, OpContext } from "../solver/types.js";
import { DigestHasher, sha256, type Digest } from "../util/digest.js";
import { GantryError, messageOf } from "../util/errors.js";
import type { OpDeps } from "./op-deps.js";
import { fillSnapshot } from "./with-mounted.js";
import { WorkerRef } from "./worker-ref.js";

interface Download {
  path: string;
  digest: Digest;
  lastModified?: Date;
}

function filenameOf(url: URL, attr: string | undefined): string {
  if (attr) return attr;
  const base = posix.basename(url.pathname);
  return base && base !== "/" ? base : "index";
}

function intAttr(src: SourceOp, key: string): number | undefined {
  const v = src.attrs[key];
  if (v === undefined || v === "") return undefined;
  const n = Number.parseInt(v, v.startsWith("0") && v.length > 1 ? 8 : 10);
  if (Number.isNaN(n)) throw new GantryError("InvalidArgument", `HTTP source ${src.identifier}: ${key} "${v}" is not a number.`);
  return n;
}

export function createHttpSourceOp(src: SourceOp, deps: OpDeps): Op<WorkerRef> {
  const url = new URL(src.identifier);
  const filename = filenameOf(url, src.attrs[Attrs.httpFilename]);
  const perm = intAttr(src, Attrs.httpPerm) ?? 0o600;
  const uid = intAttr(src, Attrs.httpUID) ?? 0;
  const gid = intAttr(src, Attrs.httpGID) ?? 0;
  const checksum = src.attrs[Attrs.httpChecksum];
  let download: Promise<Download> | undefined;
  const fetchOnce = (ctx: OpContext): Promise<Download> => {
    download ??= fetchToFile(url, deps.tmpDir, ctx);
    download.catch(() => (download = undefined));
    return download;
  };
  const keyOf = (digest: string): string => sha256(JSON.stringify({ type: "http", digest, filename, perm, uid, gid }));
  return {
    async cacheMap(ctx): Promise<CacheMap<WorkerRef>> {
      return { digest: keyOf(checksum || (await fetchOnce(ctx)).digest), deps: [] };
    },
    async exec(ctx): Promise<WorkerRef[]> {
      const d = await fetchOnce(ctx);
      try {
        if (checksum && d.digest !== checksum) {
          throw new GantryError("FailedPrecondition", `digest mismatch for ${url.href}: expected ${checksum}, got ${d.digest}`);
        }
        const { ref } = await fillSnapshot(deps.refs, deps.tmpDir, {
          parent: null,
          signal: ctx.signal,
          fill: async (dir) => {
            const target = join(dir, filename);
            await copyFile(d.path, target);
            await chown(target, uid, gid);
            await chmod(target, perm);
            if (d.lastModified) await utimes(target, d.lastModified, d.lastModified);
          },
        });
        return [new WorkerRef(ref)];
      } finally {
        await rm(posix.dirname(d.path), { recursive: true, force: true });
      }
    },
  };
}

async function fetchToFile(url: URL, tmpDir: string, ctx: OpContext): Promise<Download> {
  let res: Response;
  try {
    res = await fetch(url, { signal: ctx.signal, redirect: "follow" });
  } catch (err) {
    throw new GantryError("Unavailable", `Cannot download ${url.href}: ${messageOf((err as { cause?: unknown }).cause ?? err)}.`, { cause: err });
  }
  if (!res.ok || !res.body) {
    throw new GantryError(res.status === 404 ? "NotFound" : "Unavailable", `invalid response status ${res.status} from ${url.href}`);
  }
  const dir = await mkdtemp(join(tmpDir, `http-${randomBytes(4).toString("hex")}-`));
  const path = join(dir, "data");
  const hasher = new DigestHasher();
  const total = Number(res.headers.get("content-length") ?? 0);
  const status = `downloading ${url.href}`;
  const body = Readable.fromWeb(res.body as import("node:stream/web").ReadableStream<Uint8Array>);
  body.on("data", (c: Buffer) => {
    hasher.update(c);
    ctx.progress.status(status, hasher.size, total);
  });
  await pipeline(body, createWriteStream(path), { signal: ctx.signal });
  ctx.progress.statusDone(status, hasher.size, total);
  const lm = res.headers.get("last-modified");
  return { path, digest: hasher.digest(), ...(lm ? { lastModified: new Date(lm) } : {}) };
}
