import assert from "node:assert/strict";
import { link, lstat, mkdir, mkdtemp, readFile, readlink, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { isInvalidArgument } from "../util/errors.js";
import { createLocalExporter } from "./local-exporter.js";
import { testExportSource } from "./testing/overlay-export-source.js";

let root: string;
let rootfs: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), "local-exporter-"));
  rootfs = join(root, "rootfs");
  await mkdir(join(rootfs, "etc"), { recursive: true });
  await writeFile(join(rootfs, "etc/conf"), "x", { mode: 0o640 });
  await link(join(rootfs, "etc/conf"), join(rootfs, "etc/conf2"));
  await symlink("etc/conf", join(rootfs, "conf-link"));
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

test("copies the rootfs keeping modes, symlinks and hard links", async () => {
  const dest = join(root, "out");
  const inst = await createLocalExporter().resolve({ dest });
  assert.equal(inst.name, "exporting to client directory");
  const res = await inst.export(testExportSource({ layers: [], rootfs }));
  assert.deepEqual(res.response, {});
  assert.equal(await readFile(join(dest, "etc/conf"), "utf8"), "x");
  assert.equal((await stat(join(dest, "etc/conf"))).mode & 0o777, 0o640);
  assert.equal((await stat(join(dest, "etc/conf"))).ino, (await stat(join(dest, "etc/conf2"))).ino);
  assert.equal(await readlink(join(dest, "conf-link")), "etc/conf");
});

test("source-date-epoch sets every mtime", async () => {
  const dest = join(root, "out-epoch");
  await (await createLocalExporter().resolve({ dest, "source-date-epoch": "1000" })).export(testExportSource({ layers: [], rootfs }));
  for (const p of ["", "etc", "etc/conf", "conf-link"]) assert.equal((await lstat(join(dest, p))).mtimeMs, 1_000_000, p);
});

test("attrs are checked", async () => {
  await assert.rejects(createLocalExporter().resolve({}), (e: unknown) => isInvalidArgument(e) && /dest/.test(String(e)));
  await assert.rejects(createLocalExporter().resolve({ dest: "/x", nope: "1" }), /nope/);
  await assert.rejects(createLocalExporter().resolve({ dest: "/x", mode: "delete" }), /mode/);
});
