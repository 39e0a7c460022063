import { test } from "node:test";
import assert from "node:assert/strict";
import { lstat, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GoMode, chmodBitsFromGo, goModeFromPosix, isRegularGoMode, posixModeFromGo, statFromFs } from "./fsutil-stat.js";

test("POSIX modes map to Go FileMode bits and back", () => {
  const cases: Array<[number, number]> = [
    [0o100644, 0o644],
    [0o040755, GoMode.dir | 0o755],
    [0o120777, GoMode.symlink | 0o777],
    [0o010600, GoMode.namedPipe | 0o600],
    [0o020666, GoMode.device | GoMode.charDevice | 0o666],
    [0o060660, GoMode.device | 0o660],
    [0o104755, GoMode.setuid | 0o755],
    [0o102755, GoMode.setgid | 0o755],
    [0o041777, GoMode.dir | GoMode.sticky | 0o777],
  ];
  for (const [posix, go] of cases) {
    assert.equal(goModeFromPosix(posix), go >>> 0, posix.toString(8));
    assert.equal(posixModeFromGo(go >>> 0), posix, posix.toString(8));
  }
  assert.equal(GoMode.dir, 2 ** 31);
  assert.equal(chmodBitsFromGo((GoMode.dir | GoMode.sticky | 0o777) >>> 0), 0o1777);
  assert.ok(isRegularGoMode(0o644));
  assert.ok(!isRegularGoMode(GoMode.symlink | 0o777));
});

test("statFromFs fills a Stat like fsutil (ns mtime, no dir size, symlink target)", async () => {
  const dir = await mkdtemp(join(tmpdir(), "gantry-stat-"));
  try {
    await writeFile(join(dir, "f"), "hello");
    await symlink("f", join(dir, "l"));
    const f = statFromFs("f", await lstat(join(dir, "f"), { bigint: true }));
    const raw = await lstat(join(dir, "f"), { bigint: true });
    assert.equal(f.size, 5n);
    assert.equal(f.modTime, raw.mtimeNs);
    assert.equal(f.mode, Number(raw.mode) & 0o777);
    const l = statFromFs("l", await lstat(join(dir, "l"), { bigint: true }), "f");
    assert.equal(l.linkname, "f");
    assert.equal(l.mode & GoMode.symlink, GoMode.symlink);
    const d = statFromFs("d", await lstat(dir));
    assert.equal(d.size, 0n);
    assert.ok((d.mode & GoMode.dir) !== 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
