import assert from "node:assert/strict";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { codeOf } from "../util/errors.js";
import { dockerConfigCredentials } from "./docker-config-auth.js";

let dir: string;
let binDir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "gantry-dockercfg-"));
  binDir = await mkdtemp(join(tmpdir(), "gantry-helpers-"));
  // A credential helper that knows one host, answers "not found" for others, and records its stdin.
  await writeFile(join(binDir, "docker-credential-fake"), `#!/bin/sh
read -r server
echo "$server" >> "${binDir}/asked"
case "$server" in
  helper.example) echo '{"ServerURL":"helper.example","Username":"hu","Secret":"hs"}' ;;
  https://index.docker.io/v1/) echo '{"ServerURL":"x","Username":"<token>","Secret":"refresh-tok"}' ;;
  broken.example) echo 'boom secret-ish output' >&2; exit 3 ;;
  *) echo "credentials not found in native keychain"; exit 1 ;;
esac
`);
  await chmod(join(binDir, "docker-credential-fake"), 0o755);
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
  await rm(binDir, { recursive: true, force: true });
});

async function writeConfig(config: unknown): Promise<void> {
  await writeFile(join(dir, "config.json"), JSON.stringify(config));
}

const env = (): NodeJS.ProcessEnv => ({ PATH: `${binDir}:${process.env.PATH ?? ""}`, DOCKER_CONFIG: dir });
const b64 = (s: string): string => Buffer.from(s).toString("base64");

test("a missing config file means anonymous", async () => {
  const src = dockerConfigCredentials({ env: { DOCKER_CONFIG: join(dir, "nope") } });
  assert.equal(await src("localhost:5000"), undefined);
});

test("auths entries: base64 auth, username/password, URL-shaped keys, docker hub aliases", async () => {
  await writeConfig({
    auths: {
      "localhost:5000": { auth: b64("alice:pa:ss") },
      "https://ghcr.io/v2/": { username: "bob", password: "pw" },
      "https://index.docker.io/v1/": { auth: b64("hub:hubpw") },
      "tok.example": { identitytoken: "idt" },
    },
  });
  const src = dockerConfigCredentials({ env: env() });
  assert.deepEqual(await src("localhost:5000"), { username: "alice", password: "pa:ss" });
  assert.deepEqual(await src("ghcr.io"), { username: "bob", password: "pw" });
  assert.deepEqual(await src("docker.io"), { username: "hub", password: "hubpw" });
  assert.deepEqual(await src("tok.example"), { identityToken: "idt" });
  assert.equal(await src("other.example"), undefined);
});

test("configDir option overrides the environment", async () => {
  await writeConfig({ auths: { "a.example": { auth: b64("u:p") } } });
  const src = dockerConfigCredentials({ configDir: dir, env: {} });
  assert.deepEqual(await src("a.example"), { username: "u", password: "p" });
});

test("credHelpers and credsStore run docker-credential-<name> get", async () => {
  await writeConfig({
    credHelpers: { "helper.example": "fake", "broken.example": "fake" },
    credsStore: "fake",
    auths: { "fallback.example": { auth: b64("f:fp") } },
  });
  const src = dockerConfigCredentials({ env: env() });
  assert.deepEqual(await src("helper.example"), { username: "hu", password: "hs" });
  assert.deepEqual(await src("docker.io"), { identityToken: "refresh-tok" });
  // The store has nothing for this host: fall back to auths, then to anonymous.
  assert.deepEqual(await src("fallback.example"), { username: "f", password: "fp" });
  assert.equal(await src("nobody.example"), undefined);
  await assert.rejects(src("broken.example"), (err: unknown) => {
    assert.equal(codeOf(err), "FailedPrecondition");
    assert.match((err as Error).message, /docker-credential-fake: it exited with status 3/);
    assert.ok(!(err as Error).message.includes("secret-ish"));
    return true;
  });
});

test("a missing helper program is FailedPrecondition with a hint", async () => {
  await writeConfig({ credsStore: "does-not-exist" });
  const src = dockerConfigCredentials({ env: env() });
  await assert.rejects(src("x.example"), (err: unknown) => {
    assert.equal(codeOf(err), "FailedPrecondition");
    assert.match((err as Error).message, /docker-credential-does-not-exist: the program is not installed/);
    return true;
  });
});

test("invalid files are reported without echoing secrets", async () => {
  await writeFile(join(dir, "config.json"), "{not json");
  await assert.rejects(dockerConfigCredentials({ env: env() })("x"), /Cannot parse docker config .*config\.json/);
  await writeConfig({ auths: { "bad.example": { auth: b64("nocolonsecret") } } });
  await assert.rejects(dockerConfigCredentials({ env: env() })("bad.example"), (err: unknown) => {
    assert.match((err as Error).message, /not base64 of user:password/);
    assert.ok(!(err as Error).message.includes("nocolonsecret"));
    return true;
  });
});

test("a helper that hangs is stopped after the timeout", async () => {
  await writeFile(join(binDir, "docker-credential-slow"), "#!/bin/sh\nsleep 30\n");
  await chmod(join(binDir, "docker-credential-slow"), 0o755);
  await writeConfig({ credsStore: "slow" });
  const started = Date.now();
  await assert.rejects(dockerConfigCredentials({ env: env(), helperTimeoutMs: 200 })("x.example"),
    /docker-credential-slow: it did not answer within 200 ms/);
  assert.ok(Date.now() - started < 20_000, "stopped, not waited for (the helper sleeps 30 s)");
});
