// Build history in gantryd: every build gets a record (request, outcome, step counts, a logs blob of its
// progress); ListenBuildHistory replays and follows them; UpdateBuildHistory pins and deletes; prune
// leaves log blobs alone; records and `debug logs`-style Status replay survive a restart.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { connect as netConnect } from "node:net";
import { access, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { BuildHistoryEventType, Control, type BuildHistoryEvent, type BuildHistoryRecord } from "../../src/gen/moby/buildkit/v1/control_pb.js";
import { openLocalContentStore } from "../../src/content/local-content-store.js";
import { readStatusLog } from "../../src/control/history-log-writer.js";
import { parseDigest, digestHex } from "../../src/util/digest.js";
import { requires } from "./helpers/requires.js";
import { runGantry } from "./helpers/gantry-cli.js";
import { startDaemon, type RunningDaemon } from "./helpers/daemon.js";

const NEEDS = { root: true, runc: true, overlay: true, registry: true } as const;
const base = process.env.GANTRY_TEST_DIR ?? tmpdir();
const sock = join(base, "gantryd-history.sock");
const root = join(base, "gantryd-history-root");
let daemon: RunningDaemon | undefined;

before(async () => {
  if (process.getuid?.() !== 0) return;
  await rm(root, { recursive: true, force: true });
  daemon = await startDaemon(["--root", root, "--addr", `unix://${sock}`]);
});
after(async () => daemon?.stop());

function control(): Client<typeof Control> {
  return createClient(Control, createGrpcTransport({ baseUrl: "http://localhost", nodeOptions: { createConnection: () => netConnect(sock) } }));
}

async function records(c: Client<typeof Control>): Promise<BuildHistoryEvent[]> {
  const out: BuildHistoryEvent[] = [];
  for await (const e of c.listenBuildHistory({ EarlyExit: true })) out.push(e);
  return out;
}

async function build(dockerfile: string, extra: string[] = []): Promise<{ code: number; stderr: string }> {
  const dir = await mkdtemp(join(tmpdir(), "gantry-hist-"));
  await writeFile(join(dir, "Dockerfile"), dockerfile);
  const res = await runGantry(["--addr", `unix://${sock}`, "build", "--frontend", "dockerfile.v0", "--local", `context=${dir}`,
    "--local", `dockerfile=${dir}`, "--progress", "plain", ...extra]);
  return { code: res.code, stderr: res.stderr };
}

/** The vertexes in a record's logs blob, read straight from the daemon's content store. */
async function vertexNames(rec: BuildHistoryRecord): Promise<Array<{ name: string; error: string }>> {
  assert.equal(rec.logs?.mediaType, "application/vnd.buildkit.status.v0");
  const content = await openLocalContentStore(join(root, "content"));
  const vertexes: Array<{ name: string; error: string }> = [];
  for await (const m of readStatusLog(content, parseDigest(rec.logs.digest))) vertexes.push(...m.vertexes.map((v) => ({ name: v.name, error: v.error })));
  return vertexes;
}

const blobPath = (digest: string): string => join(root, "content", "blobs", "sha256", digestHex(parseDigest(digest)));
const exists = (p: string): Promise<boolean> => access(p).then(() => true, () => false);

let okRec: BuildHistoryRecord | undefined;
let badRec: BuildHistoryRecord | undefined;

test("a successful and a failing build each get a complete record with logs", async (t) => {
  if (!requires(t, NEEDS)) return;
  const out = join(await mkdtemp(join(tmpdir(), "gantry-hist-out-")), "image.tar");
  const ok = await build("FROM localhost:5000/cf/busybox:1\nRUN echo history-ok > /ok\n", ["--output", `type=oci,dest=${out}`]);
  assert.equal(ok.code, 0, ok.stderr);
  const bad = await build("FROM localhost:5000/cf/busybox:1\nRUN echo history-bad && exit 3\n");
  assert.equal(bad.code, 1);
  const c = control();
  const events = await records(c);
  assert.equal(events.length, 2, JSON.stringify(events.map((e) => e.record?.Ref)));
  assert.ok(events.every((e) => e.type === BuildHistoryEventType.COMPLETE));
  okRec = events.map((e) => e.record!).find((r) => !r.error);
  badRec = events.map((e) => e.record!).find((r) => r.error);
  assert.ok(okRec && badRec);
  assert.equal(okRec.Frontend, "dockerfile.v0");
  assert.deepEqual(okRec.Exporters.map((e) => e.Type), ["oci"]);
  assert.equal(okRec.Exporters[0].Attrs.dest, undefined, "the record shows the export as the client sent it");
  assert.match(okRec.ExporterResponse["containerimage.digest"] ?? "", /^sha256:[0-9a-f]{64}$/);
  assert.equal(okRec.Result?.ResultDeprecated?.digest, okRec.ExporterResponse["containerimage.digest"]);
  assert.ok(okRec.numTotalSteps >= 2 && okRec.numCompletedSteps === okRec.numTotalSteps, `${okRec.numCompletedSteps}/${okRec.numTotalSteps}`);
  assert.ok(okRec.CreatedAt && okRec.CompletedAt);
  assert.notEqual(badRec.error?.code, 0);
  assert.match(badRec.error?.message ?? "", /exit code: 3/);
  // As upstream counts: a step that failed has ended too (its vertex has Completed and Error set).
  assert.ok(badRec.numTotalSteps >= 2, `${badRec.numTotalSteps}`);
  assert.ok((await vertexNames(okRec)).some((v) => v.name.includes("RUN echo history-ok") && !v.error));
  assert.ok((await vertexNames(badRec)).some((v) => v.name.includes("RUN echo history-bad") && /exit code: 3/.test(v.error)));
});

test("a live listener sees STARTED, then COMPLETE for a new build", async (t) => {
  if (!requires(t, NEEDS)) return;
  const c = control();
  const stop = new AbortController();
  const seen: Array<[BuildHistoryEventType, string]> = [];
  const known = new Set([okRec?.Ref, badRec?.Ref]);
  // The daemon subscribes before it sends the existing records: once both are here, the build below is live.
  let snapshotSeen: () => void = () => undefined;
  const snapshot = new Promise<void>((r) => (snapshotSeen = r));
  const listening = (async () => {
    try {
      for await (const e of c.listenBuildHistory({}, { signal: stop.signal })) {
        seen.push([e.type, e.record!.Ref]);
        if (seen.filter(([, ref]) => known.has(ref)).length >= known.size) snapshotSeen();
        if (e.type === BuildHistoryEventType.COMPLETE && !known.has(e.record!.Ref)) stop.abort();
      }
    } catch (err) {
      if (!stop.signal.aborted) throw err;
    }
  })();
  await Promise.race([snapshot, listening]);
  const third = await build("FROM localhost:5000/cf/busybox:1\nRUN echo history-third > /t\n");
  assert.equal(third.code, 0, third.stderr);
  await listening;
  const fresh = seen.filter(([, ref]) => !known.has(ref));
  assert.deepEqual(fresh.map(([type]) => BuildHistoryEventType[type]), ["STARTED", "COMPLETE"]);
  assert.deepEqual(seen.slice(0, 2).map(([type]) => type), [BuildHistoryEventType.COMPLETE, BuildHistoryEventType.COMPLETE]);
});

test("pin, delete and prune --all: the pinned record's logs stay, the deleted one's go", async (t) => {
  if (!requires(t, NEEDS)) return;
  assert.ok(okRec && badRec);
  const c = control();
  await c.updateBuildHistory({ Ref: okRec.Ref, Pinned: true });
  await c.updateBuildHistory({ Ref: badRec.Ref, Delete: true });
  const byRef = new Map((await records(c)).map((e) => [e.record!.Ref, e.record!]));
  assert.equal(byRef.get(okRec.Ref)?.pinned, true);
  assert.equal(byRef.get(okRec.Ref)?.Generation, 1);
  assert.equal(byRef.has(badRec.Ref), false);
  assert.equal(await exists(blobPath(badRec.logs!.digest)), false, "deleting a record removes its logs blob");
  await assert.rejects(c.updateBuildHistory({ Ref: "no-such-build", Pinned: true }), /No completed build record/);
  const prune = await runGantry(["--addr", `unix://${sock}`, "prune", "--all"]);
  assert.equal(prune.code, 0, prune.stderr);
  assert.equal(await exists(blobPath(okRec.logs!.digest)), true, "prune keeps history log blobs");
  assert.equal(byRef.size, 2);
});

test("records survive a daemon restart, and Status replays a finished build's logs", async (t) => {
  if (!requires(t, NEEDS)) return;
  assert.ok(okRec && daemon);
  await daemon.stop();
  daemon = await startDaemon(["--root", root, "--addr", `unix://${sock}`]);
  const c = control();
  const after = (await records(c)).map((e) => e.record!);
  assert.equal(after.length, 2);
  const ok = after.find((r) => r.Ref === okRec!.Ref);
  assert.equal(ok?.pinned, true);
  assert.equal(ok?.ExporterResponse["containerimage.digest"], okRec.ExporterResponse["containerimage.digest"]);
  const names: string[] = [];
  for await (const m of c.status({ Ref: okRec.Ref })) names.push(...m.vertexes.map((v) => v.name));
  assert.ok(names.some((n) => n.includes("RUN echo history-ok")), names.join("\n"));
});
