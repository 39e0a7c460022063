// ADD of a git repository: served over dumb HTTP from a repository made here, pinned to a branch and a
// subdirectory; a moved branch re-runs the step.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn, type ChildProcessByStdio } from "node:child_process";
import { mkdtemp, readFile, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { connect } from "../../src/client/connect.js";
import { requires } from "./helpers/requires.js";

function sh(cmd: string, cwd: string): void {
  execFileSync("sh", ["-c", cmd], { cwd, stdio: "pipe", env: { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@t", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@t" } });
}

/**
 * The port python's http.server took (it was given 0), read from the line it prints once it listens: a
 * free port chosen by the kernel, and no guess at how long python needs to start on a busy machine.
 */
function listeningPort(server: ChildProcessByStdio<null, Readable, null>): Promise<number> {
  return new Promise((resolve, reject) => {
    let out = "";
    server.stdout.setEncoding("utf8");
    server.stdout.on("data", (text: string) => {
      out += text;
      const m = /Serving HTTP on \S+ port (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    server.once("error", reject);
    server.once("exit", (code) => reject(new Error(`python3 -m http.server exited (${code}) before listening:\n${out}`)));
  });
}

test("ADD <git url>#branch:subdir copies that directory of the branch", async (t) => {
  if (!requires(t, { root: true, runc: true, overlay: true, registry: true, tools: ["git", "python3"] })) return;
  const served = await mkdtemp(join(tmpdir(), "gantry-git-"));
  const work = join(served, "work");
  await mkdir(join(work, "sub"), { recursive: true });
  await writeFile(join(work, "sub", "hello.txt"), "v1\n");
  sh("git init -q -b main . && git add -A && git commit -qm one && git clone -q --bare . ../repo.git && cd ../repo.git && git update-server-info", work);
  // -u: the "Serving HTTP" line must not wait in python's pipe buffer.
  const server = spawn("python3", ["-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", served], { stdio: ["ignore", "pipe", "ignore"] });
  try {
    const port = await listeningPort(server);
    const ctx = await mkdtemp(join(tmpdir(), "gantry-gitctx-"));
    await writeFile(join(ctx, "Dockerfile"), `FROM scratch\nADD http://127.0.0.1:${port}/repo.git#main:sub /src\n`);
    const client = await connect({ root: join(process.env.GANTRY_TEST_DIR ?? tmpdir(), "git-root") });
    try {
      const build = async (): Promise<string> => {
        const out = await mkdtemp(join(tmpdir(), "gantry-gitout-"));
        await client.solve({ frontend: "dockerfile.v0", locals: { context: ctx, dockerfile: ctx }, exports: [{ type: "local", attrs: { dest: out } }] });
        return readFile(join(out, "src", "hello.txt"), "utf8");
      };
      assert.equal(await build(), "v1\n");
      await writeFile(join(work, "sub", "hello.txt"), "v2\n");
      sh("git commit -qam two && git push -q ../repo.git main && cd ../repo.git && git update-server-info", work);
      assert.equal(await build(), "v2\n", "a moved branch is fetched again");
      const checkouts = await client.diskUsage(["type==source.git.checkout"]);
      assert.ok(checkouts.some((r) => r.description.startsWith(`git snapshot for http://127.0.0.1:${port}/repo.git#main`)),
        JSON.stringify(checkouts.map((r) => r.description)));
    } finally {
      await client.close();
    }
  } finally {
    server.kill();
  }
});
