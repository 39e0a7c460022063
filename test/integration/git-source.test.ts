// ADD of a git repository: served over dumb HTTP from a repository made here, pinned to a branch and a
// subdirectory; a moved branch re-runs the step.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdtemp, readFile, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "../../src/client/connect.js";
import { requires } from "./helpers/requires.js";

const PORT = 18766;

function sh(cmd: string, cwd: string): void {
  execFileSync("sh", ["-c", cmd], { cwd, stdio: "pipe", env: { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@t", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@t" } });
}

test("ADD <git url>#branch:subdir copies that directory of the branch", async (t) => {
  if (!requires(t, { root: true, runc: true, overlay: true, registry: true, tools: ["git", "python3"] })) return;
  const served = await mkdtemp(join(tmpdir(), "gantry-git-"));
  const work = join(served, "work");
  await mkdir(join(work, "sub"), { recursive: true });
  await writeFile(join(work, "sub", "hello.txt"), "v1\n");
  sh("git init -q -b main . && git add -A && git commit -qm one && git clone -q --bare . ../repo.git && cd ../repo.git && git update-server-info", work);
  const server = spawn("python3", ["-m", "http.server", String(PORT), "--bind", "127.0.0.1", "--directory", served], { stdio: "ignore" });
  try {
    await new Promise((r) => setTimeout(r, 500));
    const ctx = await mkdtemp(join(tmpdir(), "gantry-gitctx-"));
    await writeFile(join(ctx, "Dockerfile"), `FROM scratch\nADD http://127.0.0.1:${PORT}/repo.git#main:sub /src\n`);
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
      assert.ok(checkouts.some((r) => r.description.startsWith(`git snapshot for http://127.0.0.1:${PORT}/repo.git#main`)),
        JSON.stringify(checkouts.map((r) => r.description)));
    } finally {
      await client.close();
    }
  } finally {
    server.kill();
  }
});
