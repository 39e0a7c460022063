import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseExecUser, resolveUser } from "./user.js";
import { codeOf } from "../util/errors.js";

const PASSWD = [
  "root:x:0:0:root:/root:/bin/sh",
  "# a comment",
  "daemon:x:1:1::/usr/sbin:/usr/sbin/nologin",
  "app:x:1000:1000::/home/app:/bin/sh",
  "",
].join("\n");
const GROUP = ["root:x:0:", "daemon:x:1:", "app:x:1000:", "staff:x:50:app,other", "wheel:x:10:root,app", ""].join("\n");

describe("parseExecUser", () => {
  it("defaults to root for an empty spec, even without files", () => {
    assert.deepEqual(parseExecUser("", undefined, undefined), { uid: 0, gid: 0, additionalGids: [0] });
    assert.deepEqual(parseExecUser("", PASSWD, GROUP), { uid: 0, gid: 0, additionalGids: [0, 10] });
  });

  it("resolves a name with its groups from /etc/group", () => {
    assert.deepEqual(parseExecUser("app", PASSWD, GROUP), { uid: 1000, gid: 1000, additionalGids: [1000, 50, 10] });
  });

  it("resolves a numeric uid through passwd when it has an entry", () => {
    assert.deepEqual(parseExecUser("1000", PASSWD, GROUP), { uid: 1000, gid: 1000, additionalGids: [1000, 50, 10] });
  });

  it("takes a numeric uid without an entry as it is, with gid 0", () => {
    assert.deepEqual(parseExecUser("4242", PASSWD, GROUP), { uid: 4242, gid: 0, additionalGids: [0] });
    assert.deepEqual(parseExecUser("4242", undefined, undefined), { uid: 4242, gid: 0, additionalGids: [0] });
  });

  it("uses the uid:gid fast path without supplementary groups", () => {
    assert.deepEqual(parseExecUser("1000:50", PASSWD, GROUP), { uid: 1000, gid: 50, additionalGids: [50] });
    assert.deepEqual(parseExecUser("root:root", undefined, undefined), { uid: 0, gid: 0, additionalGids: [0] });
  });

  it("resolves name:group and drops supplementary groups in the explicit form", () => {
    assert.deepEqual(parseExecUser("app:staff", PASSWD, GROUP), { uid: 1000, gid: 50, additionalGids: [50] });
    assert.deepEqual(parseExecUser("app:77", PASSWD, GROUP), { uid: 1000, gid: 77, additionalGids: [77] });
    assert.deepEqual(parseExecUser("1000:staff", PASSWD, GROUP), { uid: 1000, gid: 50, additionalGids: [50] });
  });

  it("fails on an unknown user or group name with InvalidArgument", () => {
    assert.throws(() => parseExecUser("ghost", PASSWD, GROUP), (err: unknown) => {
      assert.equal(codeOf(err), "InvalidArgument");
      assert.match((err as Error).message, /^unable to find user ghost: no matching entries in passwd file$/);
      return true;
    });
    assert.throws(() => parseExecUser("ghost", undefined, undefined), /unable to find user ghost/);
    assert.throws(() => parseExecUser("app:ghosts", PASSWD, GROUP), /unable to find group ghosts/);
  });

  it("rejects ids out of range", () => {
    assert.throws(() => parseExecUser("-1", PASSWD, GROUP), (err: unknown) => codeOf(err) === "InvalidArgument");
  });
});

describe("resolveUser", () => {
  it("reads passwd and group through symlinks inside the root", async () => {
    const root = await mkdtemp(join(tmpdir(), "gantry-user-"));
    try {
      await mkdir(join(root, "etc"));
      await mkdir(join(root, "real"));
      await writeFile(join(root, "real/passwd"), PASSWD);
      await symlink("/real/passwd", join(root, "etc/passwd"));
      await writeFile(join(root, "etc/group"), GROUP);
      assert.deepEqual(await resolveUser(root, "app"), { uid: 1000, gid: 1000, additionalGids: [1000, 50, 10] });
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it("works on a root without /etc for numeric users", async () => {
    const root = await mkdtemp(join(tmpdir(), "gantry-user-"));
    try {
      assert.deepEqual(await resolveUser(root, "5"), { uid: 5, gid: 0, additionalGids: [0] });
      await assert.rejects(resolveUser(root, "app"), /unable to find user app/);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
