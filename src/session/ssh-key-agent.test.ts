import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { isInvalidArgument } from "../util/errors.js";
import { resolveSshAgents } from "./ssh-agent-sockets.js";

// The agent runs in this process: anything talking to it must not block the event loop.
const run = promisify(execFile);

// openssh-client comes with scripts/install-deps.sh; under CI its absence fails rather than skips.
const HAS_SSH = Boolean(process.env.CI) || (() => {
  try {
    execFileSync("sh", ["-c", "command -v ssh-keygen && command -v ssh-add"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

async function keyFile(dir: string, name: string, args: string[]): Promise<string> {
  const path = join(dir, name);
  execFileSync("ssh-keygen", ["-q", "-N", "", "-C", `${name}@test`, "-f", path, ...args]);
  return path;
}

const KINDS: Array<[string, string[]]> = [
  ["ed25519", ["-t", "ed25519"]],
  ["rsa", ["-t", "rsa", "-b", "2048"]],
  ["rsa-pem", ["-t", "rsa", "-b", "2048", "-m", "PEM"]],
  ["ecdsa256", ["-t", "ecdsa", "-b", "256"]],
  ["ecdsa384-pkcs8", ["-t", "ecdsa", "-b", "384", "-m", "PKCS8"]],
];

test("key files are served by an in-process agent that ssh-add lists and ssh-keygen signs through", { skip: !HAS_SSH && "needs openssh-client" }, async () => {
  const dir = await mkdtemp(join(tmpdir(), "ssh-key-agent-"));
  const message = join(dir, "message.txt");
  await writeFile(message, "signed through the --ssh key agent\n");
  for (const [name, args] of KINDS) {
    const key = await keyFile(dir, name, args);
    const agents = await resolveSshAgents([{ id: "default", paths: [key] }]);
    const env = { ...process.env, SSH_AUTH_SOCK: agents.default };
    const listed = (await run("ssh-add", ["-l"], { env })).stdout;
    const expected = execFileSync("ssh-keygen", ["-l", "-f", `${key}.pub`], { encoding: "utf8" }).split(" ")[1];
    assert.ok(listed.includes(expected), `${name}: ${listed} lists ${expected}`);
    // ssh-keygen -Y sign with only the public key asks the agent to sign; -Y verify checks it independently.
    const sig = `${message}.sig`;
    execFileSync("rm", ["-f", sig]);
    await run("ssh-keygen", ["-Y", "sign", "-f", `${key}.pub`, "-n", "gantry", message], { env });
    const signers = join(dir, "allowed_signers");
    await writeFile(signers, `signer@test ${(await readFile(`${key}.pub`, "utf8")).trim()}\n`);
    const verified = execFileSync("ssh-keygen", ["-Y", "verify", "-f", signers, "-I", "signer@test", "-n", "gantry", "-s", sig],
      { input: await readFile(message), encoding: "utf8" });
    assert.match(verified, /Good "gantry" signature/, `${name}: ${verified}`);
  }
});

test("encrypted keys and a socket mixed with key files are refused naming the flag", { skip: !HAS_SSH && "needs openssh-client" }, async () => {
  const dir = await mkdtemp(join(tmpdir(), "ssh-key-agent-"));
  const locked = join(dir, "locked");
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "secret", "-f", locked]);
  await assert.rejects(resolveSshAgents([{ id: "default", paths: [locked] }]),
    (e: unknown) => isInvalidArgument(e) && /--ssh key file .*locked: passphrase-protected/.test(String(e)));
  const plain = await keyFile(dir, "plain", ["-t", "ed25519"]);
  const agents = await resolveSshAgents([{ id: "a", paths: [plain] }]);
  await assert.rejects(resolveSshAgents([{ id: "b", paths: [agents.a, plain] }]), (e: unknown) => isInvalidArgument(e) && /--ssh b=/.test(String(e)));
});
