import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { codeOf } from "../util/errors.js";
import { parseSshSpec, resolveSshAgents } from "./ssh-agent-sockets.js";

test("--ssh values: default, a bare id, an id with paths", () => {
  assert.deepEqual(parseSshSpec("default"), { id: "default", paths: [] });
  assert.deepEqual(parseSshSpec("deploy"), { id: "deploy", paths: [] });
  assert.deepEqual(parseSshSpec("deploy=/a.sock"), { id: "deploy", paths: ["/a.sock"] });
  assert.deepEqual(parseSshSpec("k=/a,/b"), { id: "k", paths: ["/a", "/b"] });
  assert.throws(() => parseSshSpec("=/a.sock"), (err) => codeOf(err) === "InvalidArgument");
});

test("agents resolve to sockets; $SSH_AUTH_SOCK for default; unusable key files and bad paths are refused", async () => {
  const dir = await mkdtemp(join(tmpdir(), "gantry-sshspec-"));
  const sock = join(dir, "agent.sock");
  const server = createServer();
  await new Promise<void>((r) => server.listen(sock, r));
  try {
    const key = join(dir, "id_ed25519");
    await writeFile(key, "-----BEGIN OPENSSH PRIVATE KEY-----\n");
    assert.deepEqual(await resolveSshAgents([{ id: "default", paths: [] }], { env: { SSH_AUTH_SOCK: sock } }), { default: sock });
    assert.deepEqual(await resolveSshAgents([{ id: "x", paths: [sock] }], { env: {} }), { x: sock });
    await assert.rejects(resolveSshAgents([{ id: "default", paths: [] }], { env: {} }),
      (err) => codeOf(err) === "InvalidArgument" && /SSH_AUTH_SOCK is set/.test(String(err)));
    // Key files go to an in-process agent (ssh-key-agent.test.ts); one that does not parse is refused naming it.
    await assert.rejects(resolveSshAgents([{ id: "k", paths: [key] }]), (err) => codeOf(err) === "InvalidArgument" && /--ssh key file .*id_ed25519/.test(String(err)));
    await assert.rejects(resolveSshAgents([{ id: "k", paths: [join(dir, "nope")] }]), (err) => codeOf(err) === "NotFound");
    await assert.rejects(resolveSshAgents([{ id: "a", paths: [sock] }, { id: "a", paths: [sock] }]), (err) => codeOf(err) === "InvalidArgument");
  } finally {
    server.close();
    await rm(dir, { recursive: true, force: true });
  }
});
