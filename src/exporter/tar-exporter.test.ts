import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { after, before, test } from "node:test";
import { isInvalidArgument } from "../util/errors.js";
import { createTarExporter } from "./tar-exporter.js";
import { testExportSource } from "./testing/overlay-export-source.js";

let root: string;
let rootfs: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), "tar-exporter-"));
  rootfs = join(root, "rootfs");
  await mkdir(join(rootfs, "bin"), { recursive: true });
  await writeFile(join(rootfs, "bin/sh"), "#!", { mode: 0o755 });
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

test("writes the rootfs as a tar file", async () => {
  const dest = join(root, "out.tar");
  await (await createTarExporter().resolve({ dest, "source-date-epoch": "86400" })).export(testExportSource({ layers: [], rootfs }));
  const list = execFileSync("tar", ["-tvf", dest, "--utc"]).toString();
  assert.match(list, /^drwx.* bin\/$/m);
  assert.match(list, /^-rwxr-xr-x .* 1970-01-02 00:00 bin\/sh$/m);
});

test("dest=- streams to stdout and leaves it open", async () => {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on("data", (c: Buffer) => chunks.push(c));
  await (await createTarExporter({ stdout: out }).resolve({ dest: "-" })).export(testExportSource({ layers: [], rootfs }));
  assert.ok(!out.writableEnded);
  assert.ok(Buffer.concat(chunks).includes(Buffer.from("bin/sh")));
});

test("attrs are checked", async () => {
  await assert.rejects(createTarExporter().resolve({}), isInvalidArgument);
  await assert.rejects(createTarExporter().resolve({ dest: "/x", name: "y" }), /name/);
  const tty = Object.assign(new PassThrough(), { isTTY: true });
  await assert.rejects(createTarExporter({ stdout: tty }).resolve({ dest: "-" }), /terminal/);
});
