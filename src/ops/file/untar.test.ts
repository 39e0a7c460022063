import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pack } from "tar-stream";
import { GantryError } from "../../util/errors.js";
import { copy, type CopyOptions } from "./copy.js";
import { listTree, tempDir } from "./testing/fs-fixture.js";
import { isArchive, untar } from "./untar.js";

const ADD: Omit<CopyOptions, "src" | "dest"> = {
  followSymlink: true, dirCopyContents: true, createDestPath: true, allowWildcard: true, allowEmptyWildcard: true,
  attemptUnpackDockerCompatibility: true,
};

/** A tar of a small tree made by GNU tar, with owners 123:456, then compressed by `tool`. */
function makeArchive(dir: string, name: string, tool?: string): string {
  const content = join(dir, "content");
  mkdirSync(join(content, "sub"), { recursive: true });
  writeFileSync(join(content, "a.txt"), "a");
  writeFileSync(join(content, "sub/b.txt"), "b");
  symlinkSync("a.txt", join(content, "link"));
  const tarPath = join(dir, name.replace(/\.(gz|bz2|xz|zst)$/, ""));
  execFileSync("tar", ["--owner=123", "--group=456", "--numeric-owner", "-cf", tarPath, "-C", content, "a.txt", "sub", "link"]);
  if (tool === undefined) return tarPath;
  execFileSync(tool, tool === "zstd" ? ["-q", "--rm", tarPath] : [tarPath]);
  return join(dir, name);
}

async function tarBytes(entries: Array<{ name: string; type?: "file" | "symlink" | "link" | "directory"; linkname?: string; data?: string }>): Promise<Buffer> {
  const p = pack();
  for (const e of entries) {
    p.entry({ name: e.name, type: e.type ?? "file", linkname: e.linkname, mode: e.type === "directory" ? 0o755 : 0o644 }, e.data ?? "");
  }
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

for (const [name, tool] of [["x.tar", undefined], ["x.tar.gz", "gzip"], ["x.tar.bz2", "bzip2"], ["x.tar.xz", "xz"], ["x.tar.zst", "zstd"]] as const) {
  test(`ADD extracts ${name} keeping the archive's owners; --chown only owns the dest dir it creates`, async () => {
    const src = tempDir("gantry-src-");
    const dest = tempDir("gantry-dest-");
    makeArchive(src, name, tool);
    assert.equal(await isArchive(join(src, name)), true);
    await copy(src, dest, { ...ADD, src: name, dest: "/out", owner: { uid: 7, gid: 8 } });
    assert.deepEqual(listTree(dest), [
      "/out dir 0755 7:8", "/out/a.txt file 0644 123:456 a", "/out/link symlink 0777 123:456 a.txt",
      "/out/sub dir 0755 123:456", "/out/sub/b.txt file 0644 123:456 b",
    ]);
  });
}

test("files that only look like archives are copied as they are", async () => {
  const src = tempDir("gantry-src-");
  const dest = tempDir("gantry-dest-");
  writeFileSync(join(src, "notes.tar"), "plain text, not a tar");
  writeFileSync(join(src, "small.txt"), "x");
  writeFileSync(join(src, "data.txt"), "some data");
  execFileSync("gzip", [join(src, "data.txt")]);
  for (const f of ["notes.tar", "small.txt", "data.txt.gz"]) assert.equal(await isArchive(join(src, f)), false, f);
  await copy(src, dest, { ...ADD, src: "*", dest: "/o/" });
  assert.deepEqual(listTree(dest).map((l) => l.split(" ")[0]), ["/o", "/o/data.txt.gz", "/o/notes.tar", "/o/small.txt"]);
});

test("an archive inside an added directory is not extracted; without the ADD flag nothing is", async () => {
  const src = tempDir("gantry-src-");
  const dest = tempDir("gantry-dest-");
  mkdirSync(join(src, "dir"));
  makeArchive(join(src, "dir"), "nested.tar");
  await copy(src, dest, { ...ADD, src: "dir", dest: "/added-dir" });
  assert.equal(existsSync(join(dest, "added-dir/nested.tar")), true);
  assert.equal(existsSync(join(dest, "added-dir/a.txt")), false);
  await copy(src, dest, { ...ADD, attemptUnpackDockerCompatibility: false, src: "dir/nested.tar", dest: "/plain/" });
  assert.equal(existsSync(join(dest, "plain/nested.tar")), true);
});

test("archive entries cannot escape the destination", async () => {
  const parent = tempDir();
  const dest = join(parent, "dest");
  mkdirSync(join(dest, "out"), { recursive: true });
  symlinkSync("/", join(dest, "out/preexisting"));
  const archive = join(parent, "evil.tar");
  writeFileSync(archive, await tarBytes([
    { name: "../../escaped.txt", data: "1" },
    { name: "/abs.txt", data: "2" },
    { name: "rootlink", type: "symlink", linkname: "/" },
    { name: "rootlink/via-link.txt", data: "3" },
    { name: "uplink", type: "symlink", linkname: "../../../.." },
    { name: "uplink/via-up.txt", data: "4" },
    { name: "preexisting/via-old-link.txt", data: "5" },
  ]));
  await untar(archive, join(dest, "out"));
  for (const f of ["escaped.txt", "abs.txt", "via-link.txt", "via-up.txt", "via-old-link.txt"]) {
    assert.equal(existsSync(join(parent, f)), false, f);
    assert.equal(existsSync(join(dest, "out", f)), true, f);
  }
});

test("existing paths are replaced, directories merged; hard links resolve inside the dest", async () => {
  const parent = tempDir();
  const dest = join(parent, "out");
  mkdirSync(join(dest, "d"), { recursive: true });
  writeFileSync(join(dest, "d/keep"), "keep");
  mkdirSync(join(dest, "was-dir"));
  writeFileSync(join(dest, "was-dir/x"), "x");
  chownSync(join(dest, "d"), 9, 9);
  const archive = join(parent, "a.tar");
  writeFileSync(archive, await tarBytes([
    { name: "d/", type: "directory" },
    { name: "d/new", data: "new" },
    { name: "was-dir", data: "now a file" },
    { name: "hl", type: "link", linkname: "/d/new" },
  ]));
  await untar(archive, dest);
  assert.equal(readFileSync(join(dest, "d/keep"), "utf8"), "keep");
  assert.equal(readFileSync(join(dest, "was-dir"), "utf8"), "now a file");
  assert.deepEqual(listTree(dest).filter((l) => l.startsWith("/hl") || l.startsWith("/d ")),
    ["/d dir 0755 0:0", "/hl hardlink 0644 0:0 /d/new"]);
});

test("a corrupt compressed archive fails with an error", async () => {
  const parent = tempDir();
  const archive = makeArchive(parent, "x.tar.gz", "gzip");
  const bytes = readFileSync(archive);
  const broken = join(parent, "broken.tar.gz");
  writeFileSync(broken, bytes.subarray(0, Math.floor(bytes.length / 2)));
  mkdirSync(join(parent, "out"));
  await assert.rejects(untar(broken, join(parent, "out")), GantryError);
});
