// Ownership of what the tree copier creates: it skips chown when a new entry already has the wanted owner,
// so these cases check the kernel's group rules (a setgid directory hands its group on) are followed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, chownSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { copy } from "./copy.js";
import { listTree, tempDir } from "./testing/fs-fixture.js";

const asRoot = process.geteuid?.() === 0;

function source(): string {
  const src = tempDir("gantry-tc-src-");
  mkdirSync(join(src, "sub"));
  writeFileSync(join(src, "root-owned"), "r");
  writeFileSync(join(src, "group-1234"), "g");
  chownSync(join(src, "group-1234"), 0, 1234);
  writeFileSync(join(src, "sub/user"), "u");
  chownSync(join(src, "sub/user"), 1000, 1000);
  symlinkSync("../root-owned", join(src, "sub/link"));
  return src;
}

/** A dest root holding `/g`, a setgid directory of group 1234. */
function setgidDest(): string {
  const dest = tempDir("gantry-tc-dest-");
  mkdirSync(join(dest, "g"));
  chownSync(join(dest, "g"), 0, 1234);
  chmodSync(join(dest, "g"), 0o2775);
  return dest;
}

test("inside a setgid directory, copies keep the source owners (new entries there get its group)", { skip: !asRoot && "needs root" }, async () => {
  const src = source();
  const dest = setgidDest();
  await copy(src, dest, { src: "/", dest: "/g/", dirCopyContents: true, createDestPath: true });
  assert.deepEqual(listTree(join(dest, "g")), [
    "/group-1234 file 0644 0:1234 g", "/root-owned file 0644 0:0 r", "/sub dir 0755 0:0",
    "/sub/link symlink 0777 0:0 ../root-owned", "/sub/user file 0644 1000:1000 u",
  ]);
});

test("--chown 0:0 into a setgid directory still gives 0:0; outside one, new entries are ours already", { skip: !asRoot && "needs root" }, async () => {
  const src = source();
  const dest = setgidDest();
  const owner = { uid: 0, gid: 0 };
  await copy(src, dest, { src: "/", dest: "/g/in/", dirCopyContents: true, createDestPath: true, owner });
  await copy(src, dest, { src: "/", dest: "/plain/", dirCopyContents: true, createDestPath: true, owner });
  const want = ["/group-1234 file 0644 0:0 g", "/root-owned file 0644 0:0 r", "/sub dir 0755 0:0",
    "/sub/link symlink 0777 0:0 ../root-owned", "/sub/user file 0644 0:0 u"];
  assert.deepEqual(listTree(join(dest, "g/in")), want);
  assert.deepEqual(listTree(join(dest, "plain")), want);
});
