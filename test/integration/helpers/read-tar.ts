// Reads a tar file into a map of entries, for assertions on exported filesystems.
import { createReadStream } from "node:fs";
import { createGunzip } from "node:zlib";
import { extract } from "tar-stream";

export interface TarEntry {
  type: string;
  mode: number;
  uid: number;
  gid: number;
  linkname?: string;
  content?: Buffer;
}

export async function readTar(path: string, opts: { gzip?: boolean } = {}): Promise<Map<string, TarEntry>> {
  const entries = new Map<string, TarEntry>();
  const ex = extract();
  const src = createReadStream(path);
  (opts.gzip ? src.pipe(createGunzip()) : src).pipe(ex);
  for await (const entry of ex) {
    const h = entry.header;
    const chunks: Buffer[] = [];
    for await (const c of entry) chunks.push(c as Buffer);
    const name = h.name.replace(/^\.?\//, "").replace(/\/$/, "");
    entries.set(name, {
      type: h.type ?? "file",
      mode: h.mode ?? 0,
      uid: h.uid ?? 0,
      gid: h.gid ?? 0,
      linkname: h.linkname ?? undefined,
      content: h.type === "file" ? Buffer.concat(chunks) : undefined,
    });
  }
  return entries;
}
