// The sequence upstream `buildctl build --frontend dockerfile.v0` sends (UPSTREAM-REFERENCE Appendix A),
// replayed against gantryd: Session, Control.Solve with no frontend and no definition, then LLBBridge
// Ping → Solve{dockerfile.v0} → Return, tagged with the build id. Checked by hand with buildctl v0.11.6 too.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { connect as netConnect } from "node:net";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Control } from "../../src/gen/moby/buildkit/v1/control_pb.js";
import { LLBBridge } from "../../src/gen/moby/buildkit/v1/frontend/gateway_pb.js";
import { ClientSession, newSessionId } from "../../src/session/client-session.js";
import { attachSession } from "./helpers/attach-session.js";
import { requires } from "./helpers/requires.js";
import { startDaemon, type RunningDaemon } from "./helpers/daemon.js";

const base = process.env.GANTRY_TEST_DIR ?? tmpdir();
const sock = join(base, "gantryd-llbbridge.sock");
let daemon: RunningDaemon | undefined;

before(async () => {
  if (process.getuid?.() !== 0) return;
  daemon = await startDaemon(["--root", join(base, "gantryd-llbbridge-root"), "--addr", `unix://${sock}`]);
});
after(async () => daemon?.stop());

test("a client-driven Dockerfile build over LLBBridge exports to the client", async (t) => {
  if (!requires(t, { root: true, runc: true, overlay: true, registry: true })) return;
  const transport = createGrpcTransport({ baseUrl: "http://localhost", nodeOptions: { createConnection: () => netConnect(sock) } });
  const control = createClient(Control, transport);
  const bridge = createClient(LLBBridge, transport);
  const ctx = await mkdtemp(join(tmpdir(), "gantry-llbb-"));
  await writeFile(join(ctx, "Dockerfile"), "FROM localhost:5000/cf/busybox:1\nCOPY a.txt /a.txt\nRUN echo ran > /ran\n");
  await writeFile(join(ctx, "a.txt"), "from the context\n");
  const out = join(ctx, "out");
  const session = new ClientSession({ locals: { context: ctx, dockerfile: ctx }, exports: [{ type: "dir", path: out }] });
  const attachment = attachSession(control, session);
  const ref = newSessionId();
  try {
    const solve = control.solve({ Ref: ref, Session: session.id, Frontend: "", ExporterDeprecated: "local", ExporterAttrsDeprecated: {} });
    const md = { headers: { "buildkit-controlapi-buildid": ref } };
    const pong = await bridge.ping({}, md);
    const capIds = pong.FrontendAPICaps.map((c) => c.ID);
    for (const id of ["solve.base", "solve.inlinereturn", "return", "returnmap", "proto.refarray", "readfile", "resolveimage", "frontend.inputs"]) {
      assert.ok(capIds.includes(id), `Ping advertises ${id}`);
    }
    assert.ok(pong.LLBCaps.some((c) => c.ID === "soruce.http.uidgid"), "upstream's typo'd cap id is advertised");
    const res = await bridge.solve({ Frontend: "dockerfile.v0", FrontendOpt: {}, allowResultReturn: true, allowResultArrayRef: true }, md);
    assert.equal(res.result?.result.case, "ref");
    assert.ok(res.result?.metadata["containerimage.config"], "the frontend returns the image config");
    await bridge.return({ result: res.result }, md);
    await solve;
    assert.equal(await readFile(join(out, "a.txt"), "utf8"), "from the context\n");
    assert.equal(await readFile(join(out, "ran"), "utf8"), "ran\n");
  } finally {
    session.close();
    await attachment.detach();
  }
});
