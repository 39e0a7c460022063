// RuncCli against a fake `runc` shell script, so its process handling is tested without root.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RuncCli } from "./runc-cli.js";
import { codeOf } from "../util/errors.js";

// The fake reads its behaviour from $DIR/mode and records kill attempts in $DIR/kills; `kill` fails twice
// (as if the container were not created yet) before it kills the running `run`.
const FAKE = `#!/bin/sh
DIR=$(dirname "$0")
while :; do case "$1" in --root|--log|--log-format) shift 2;; *) break;; esac; done
cmd=$1; shift
case "$cmd" in
run)
  while [ "$1" != "--pid-file" ]; do shift; done; pidfile=$2
  case $(cat "$DIR/mode") in
  exit7) echo out; echo err >&2; echo $$ > "$pidfile"; exit 7;;
  badexec) echo '{"level":"error","msg":"runc run failed: unable to start container process: exec: \\"nope\\": executable file not found in $PATH"}' > "$DIR/log"; exit 1;;
  sleep) echo $$ > "$DIR/runpid"; echo $$ > "$pidfile"; sleep 30 & wait; exit 137;;
  esac;;
kill)
  echo x >> "$DIR/kills"
  [ "$(wc -l < "$DIR/kills")" -lt 3 ] && { echo "container does not exist" >&2; exit 1; }
  pkill -KILL -P "$(cat "$DIR/runpid")"; kill -KILL "$(cat "$DIR/runpid")"; exit 0;;
delete) echo "$2" >> "$DIR/deletes"; echo "container \\"$2\\" does not exist" >&2; exit 1;;
esac
`;

describe("RuncCli", () => {
  let dir: string;
  let cli: RuncCli;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "gantry-runc-"));
    await writeFile(join(dir, "runc"), FAKE);
    await chmod(join(dir, "runc"), 0o755);
    cli = new RuncCli(join(dir, "runc"), join(dir, "state"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const opts = () => ({ pidFile: join(dir, "pid"), logFile: join(dir, "log") });

  it("streams output and resolves with the exit code", async () => {
    await writeFile(join(dir, "mode"), "exit7");
    const got: string[] = [];
    const code = await cli.run("c1", dir, { ...opts(), output: (s, d) => got.push(`${s}:${Buffer.from(d).toString()}`) });
    assert.equal(code, 7);
    assert.deepEqual(got.sort(), ["1:out\n", "2:err\n"]);
  });

  it("turns a failed start into InvalidArgument with runc's reason", async () => {
    await rm(join(dir, "pid"), { force: true });
    await writeFile(join(dir, "mode"), "badexec");
    await assert.rejects(cli.run("c2", dir, opts()), (err: unknown) => {
      assert.equal(codeOf(err), "InvalidArgument");
      assert.match((err as Error).message, /executable file not found/);
      return true;
    });
  });

  it("on abort retries kill until it works, then rejects with Canceled", async () => {
    await writeFile(join(dir, "mode"), "sleep");
    await writeFile(join(dir, "kills"), "");
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const start = Date.now();
    await assert.rejects(cli.run("c3", dir, { ...opts(), signal: ac.signal }), (err: unknown) => codeOf(err) === "Canceled");
    // Under the 10 s grace after which runc itself would be killed (and far under the 30 s sleep); each try
    // spawns a shell, which a loaded machine may take a while to start.
    assert.ok(Date.now() - start < 9000, `the kill took ${Date.now() - start} ms`);
    assert.ok((await readFile(join(dir, "kills"), "utf8")).split("\n").filter(Boolean).length >= 3);
  });

  it("treats deleting a missing container as done", async () => {
    await cli.delete("gone");
  });

  it("deleteLeftover calls runc delete only when runc still has state for the container", async () => {
    await rm(join(dir, "deletes"), { force: true });
    await cli.deleteLeftover("cleaned");
    await mkdir(join(dir, "state", "left"), { recursive: true });
    await cli.deleteLeftover("left");
    assert.deepEqual((await readFile(join(dir, "deletes"), "utf8")).split("\n").filter(Boolean), ["left"]);
  });
});
