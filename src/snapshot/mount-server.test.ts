import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MountCallError, MountServer } from "./mount-server.js";
import { isMountPoint, mountAll, unmountAll } from "./mount.js";

const asRoot = process.getuid?.() === 0;

async function scratch(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "gantry-mount-server-"));
  t.after(async () => {
    await unmountAll(join(dir, "target")).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });
  for (const d of ["a", "b", "upper", "work", "target"]) await mkdir(join(dir, d));
  await writeFile(join(dir, "a", "from-a"), "a");
  await writeFile(join(dir, "b", "from-b"), "b");
  return dir;
}

test("the helper reports a failed call's errno by name, without root too", async (t) => {
  const srv = MountServer.start();
  if (srv === undefined) return t.skip("no mount helper on this architecture");
  t.after(() => srv.close());
  // umount2 of a path that does not exist fails with ENOENT for root and non-root alike.
  const err = await srv.umount("/nonexistent/gantry-mount-server-test", 0).catch((e: unknown) => e);
  assert.ok(err instanceof MountCallError);
  assert.equal(err.code, "ENOENT");
  assert.match(err.message, /no such file/i);
});

test("read-only bind mounts, overlays and stacked unmounts go through the helper", { skip: !asRoot && "needs root" }, async (t) => {
  const dir = await scratch(t);
  const target = join(dir, "target");
  await mountAll([{ type: "bind", source: join(dir, "a"), options: ["rbind", "ro"] }], target);
  assert.equal(await readFile(join(target, "from-a"), "utf8"), "a");
  await assert.rejects(writeFile(join(target, "new"), "x"), { code: "EROFS" });
  // A second mount stacked on the first; one unmountAll takes both away.
  await mountAll([{
    type: "overlay", source: "overlay",
    options: [`lowerdir=${join(dir, "a")}:${join(dir, "b")}`, `upperdir=${join(dir, "upper")}`, `workdir=${join(dir, "work")}`],
  }], target);
  assert.equal(await readFile(join(target, "from-b"), "utf8"), "b");
  await writeFile(join(target, "written"), "w");
  assert.equal(await readFile(join(dir, "upper", "written"), "utf8"), "w");
  await unmountAll(target);
  assert.equal(await isMountPoint(target), false);
  await unmountAll(target); // nothing mounted: a no-op, not an error
});

test("a mount the kernel refuses names the mount, the target and the reason", { skip: !asRoot && "needs root" }, async (t) => {
  const dir = await scratch(t);
  await assert.rejects(
    mountAll([{ type: "bind", source: join(dir, "missing"), options: ["rbind"] }], join(dir, "target")),
    (err: Error) => err.message === `Cannot mount bind ${join(dir, "missing")} on ${join(dir, "target")}: no such file or directory.`,
  );
  await assert.rejects(
    mountAll([{ type: "overlay", source: "overlay", options: ["lowerdir=/nonexistent-gantry"] }], join(dir, "target")),
    /Cannot mount overlay overlay on .*target: /,
  );
});

test("calls after the helper is closed reject, so callers can fall back", async (t) => {
  const srv = MountServer.start();
  if (srv === undefined) return t.skip("no mount helper on this architecture");
  srv.close();
  // Wait for the helper's exit itself: how long perl takes to see its stdin close depends on the machine's load.
  const deadline = Date.now() + 30_000;
  while (!srv.dead && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.equal(srv.dead, true);
  await assert.rejects(srv.umount("/", 0), (err: Error) => !(err instanceof MountCallError));
});
