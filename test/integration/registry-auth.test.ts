// Issue 6's credentials against a real docker-registry with htpasswd auth: the push and the pull take
// credentials from $DOCKER_CONFIG/config.json (`auths`, a `credsStore` helper, `credHelpers`), answering
// the registry's Basic challenge; a wrong password fails with one clear line and pushes nothing.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmod, mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { image, marshalDefinition } from "../../src/llb/state.js";
import { startAuthRegistry, type AuthRegistry } from "./helpers/auth-registry.js";
import { runGantry, type CliResult } from "./helpers/gantry-cli.js";
import { missing, requires } from "./helpers/requires.js";

const NEEDS = { root: true, runc: true, overlay: true, registry: true, tools: ["skopeo", "docker-registry", "python3"] } as const;
const base = join(process.env.GANTRY_TEST_DIR ?? tmpdir(), "registry-auth");
const RUN = `${process.pid}-${Date.now().toString(36)}`;
let reg: AuthRegistry | undefined;

before(async () => {
  if (!missing(NEEDS)) reg = await startAuthRegistry();
});
after(async () => {
  await reg?.stop();
});

function registry(): AuthRegistry {
  assert.ok(reg, "the htpasswd registry runs");
  return reg;
}

/** A DOCKER_CONFIG directory holding `config`. */
async function dockerConfig(config: unknown): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "gantry-dockercfg-"));
  await writeFile(join(dir, "config.json"), JSON.stringify(config));
  return dir;
}

function basicAuth(user: string, password: string): string {
  return Buffer.from(`${user}:${password}`).toString("base64");
}

async function build(def: Uint8Array, output: string, env: Record<string, string>, root = join(base, "root")): Promise<CliResult> {
  await mkdir(base, { recursive: true });
  return runGantry(["--root", root, "build", "--progress", "plain", "--output", output], { stdin: def, env });
}

/** The repositories the registry holds, read with the right password. */
async function catalog(r: AuthRegistry): Promise<string[]> {
  const res = await fetch(`http://${r.host}/v2/_catalog`, { headers: { authorization: `Basic ${basicAuth(r.user, r.password)}` } });
  assert.equal(res.status, 200);
  return ((await res.json()) as { repositories?: string[] }).repositories ?? [];
}

function skopeoInspect(ref: string, creds: string): { Digest: string; Layers: string[] } {
  const out = execFileSync("skopeo", ["inspect", "--tls-verify=false", "--no-tags", "--creds", creds, `docker://${ref}`], { encoding: "utf8" });
  return JSON.parse(out) as { Digest: string; Layers: string[] };
}

const pushed = marshalDefinition(image("localhost:5000/cf/busybox:1").run({ shell: `echo ${RUN} > /f` }).root());

test("push and pull with credentials from config.json auths", async (t) => {
  if (!requires(t, NEEDS)) return;
  const r = registry();
  const cfg = await dockerConfig({ auths: { [r.host]: { auth: basicAuth(r.user, r.password) } } });
  const ref = `${r.host}/auth/app:1`;
  const res = await build(pushed, `type=image,name=${ref},push=true`, { DOCKER_CONFIG: cfg });
  assert.equal(res.code, 0, res.stderr);
  const info = skopeoInspect(ref, `${r.user}:${r.password}`);
  assert.equal(info.Layers.length, 2);
  const copyDir = await mkdtemp(join(tmpdir(), "gantry-authcopy-"));
  execFileSync("skopeo", ["copy", "--src-tls-verify=false", "--src-creds", `${r.user}:${r.password}`, `docker://${ref}`, `oci:${copyDir}:x`], { stdio: "pipe" });

  // A fresh root pulls the pushed image back through the same challenge.
  const pulled = marshalDefinition(image(ref).run({ shell: "test \"$(cat /f)\" = " + RUN }).root());
  const back = await build(pulled, `type=oci,dest=${join(copyDir, "out.tar")}`, { DOCKER_CONFIG: cfg }, join(base, `pull-root-${RUN}`));
  assert.equal(back.code, 0, back.stderr);
});

test("a wrong password fails with a clear error and pushes nothing", async (t) => {
  if (!requires(t, NEEDS)) return;
  const r = registry();
  const cfg = await dockerConfig({ auths: { [r.host]: { auth: basicAuth(r.user, "not-the-password") } } });
  const repo = `auth/wrong-${RUN}`;
  const res = await build(pushed, `type=image,name=${r.host}/${repo}:1,push=true`, { DOCKER_CONFIG: cfg });
  assert.equal(res.code, 1);
  const errors = res.stderr.split("\n").filter((l) => l.startsWith("error:"));
  assert.equal(errors.length, 1, res.stderr);
  assert.match(errors[0], new RegExp(`${r.host.replace(/\./g, "\\.")}.*(unauthorized|authentication required|denied|credentials)`, "i"));
  assert.doesNotMatch(res.stderr, /\n\s+at /, "no stack trace");
  assert.ok(!(await catalog(r)).includes(repo), "the repository was not created");
});

test("no credentials at all is refused with a clear error", async (t) => {
  if (!requires(t, NEEDS)) return;
  const r = registry();
  const cfg = await dockerConfig({});
  const res = await build(pushed, `type=image,name=${r.host}/auth/anon-${RUN}:1,push=true`, { DOCKER_CONFIG: cfg });
  assert.equal(res.code, 1);
  assert.match(res.stderr, /^error: .*(unauthorized|authentication required|credentials)/im);
  assert.doesNotMatch(res.stderr, /\n\s+at /);
});

/** A docker credential helper answering `get` for the registry, as `docker-credential-<name>`. */
async function credentialHelper(name: string, r: AuthRegistry): Promise<string> {
  const bin = await mkdtemp(join(tmpdir(), "gantry-credhelper-"));
  const file = join(bin, `docker-credential-${name}`);
  const answer = JSON.stringify({ ServerURL: r.host, Username: r.user, Secret: r.password });
  await writeFile(file, `#!/bin/sh\n[ "$1" = get ] || exit 1\nread server\n[ "$server" = "${r.host}" ] || { echo "credentials not found in native keychain"; exit 1; }\necho '${answer}'\n`);
  await chmod(file, 0o755);
  return bin;
}

test("a credsStore helper and a per-host credHelpers entry supply the password", async (t) => {
  if (!requires(t, NEEDS)) return;
  const r = registry();
  const bin = await credentialHelper("gantrytest", r);
  const path = `${bin}:${process.env.PATH ?? ""}`;
  for (const [what, config] of [
    ["credsStore", { credsStore: "gantrytest" }],
    ["credHelpers", { credHelpers: { [r.host]: "gantrytest" } }],
  ] as const) {
    const cfg = await dockerConfig(config);
    const ref = `${r.host}/auth/helper-${what.toLowerCase()}-${RUN}:1`;
    const res = await build(pushed, `type=image,name=${ref},push=true`, { DOCKER_CONFIG: cfg, PATH: path });
    assert.equal(res.code, 0, `${what}: ${res.stderr}`);
    assert.match(skopeoInspect(ref, `${r.user}:${r.password}`).Digest, /^sha256:/);
  }
});
