import { test } from "node:test";
import assert from "node:assert/strict";
import { fromBinary } from "@bufbuild/protobuf";
import { DefinitionSchema, OpSchema } from "../../gen/pb/ops_pb.js";
import { GantryError, LocationError } from "../../util/errors.js";
import type { BridgeRef, FrontendBridge } from "../frontend.js";
import { createDockerfileFrontend } from "./dockerfile-frontend.js";
import { createFakeResolver } from "./convert/testing/cf-images.js";

interface FakeBridge extends FrontendBridge {
  warnings: string[];
  solved: { name: string; attrs: Record<string, string> }[];
}

/** A bridge whose locals are in-memory file maps; each solve of a local source yields a ref to it. */
function fakeBridge(locals: Record<string, Record<string, string>>): FakeBridge {
  const solved: FakeBridge["solved"] = [];
  const warnings: string[] = [];
  const resolve = createFakeResolver();
  return {
    solved, warnings,
    async solve(definition) {
      const def = fromBinary(DefinitionSchema, definition);
      const op = fromBinary(OpSchema, def.def[0]);
      assert.equal(op.op.case, "source");
      const name = op.op.value.identifier.replace("local://", "");
      solved.push({ name, attrs: { ...op.op.value.attrs } });
      return { id: name };
    },
    async readFile(ref: BridgeRef, path: string) {
      const content = locals[ref.id]?.[path];
      if (content === undefined) throw new GantryError("NotFound", `${path} not found in ${ref.id}`);
      return new TextEncoder().encode(content);
    },
    async readDir() { return []; },
    async statFile() { throw new GantryError("Unimplemented", "statFile"); },
    resolveImageConfig: (ref) => resolve(ref),
    async inputs() { return {}; },
    warn(w) { warnings.push(w.short); },
  };
}

test("loads the Dockerfile and .dockerignore through the bridge and returns LLB plus config", async () => {
  const bridge = fakeBridge({
    dockerfile: { "Dockerfile": "FROM localhost:5000/cf/busybox:1\nCOPY . /app\nCMD [\"sh\"]\n" },
    context: { ".dockerignore": "*.log\n" },
  });
  const result = await createDockerfileFrontend().solve(bridge, { platform: "linux/amd64" }, {});
  assert.deepEqual(bridge.solved[0], {
    name: "dockerfile",
    attrs: { "local.followpaths": "[\"Dockerfile\",\"Dockerfile.dockerignore\"]", "local.sharedkeyhint": "dockerfile",
      "local.differ": "none", "local.unique": bridge.solved[0].attrs["local.unique"] },
  });
  assert.equal(bridge.solved[1].attrs["local.followpaths"], "[\".dockerignore\"]");
  const config = JSON.parse(new TextDecoder().decode(result.metadata["containerimage.config"]));
  assert.deepEqual(config.config.Cmd, ["sh"]);
  const def = fromBinary(DefinitionSchema, result.definition);
  const ctx = def.def.map((b) => fromBinary(OpSchema, b)).find((o) => o.op.case === "source" && o.op.value.identifier === "local://context");
  assert.ok(ctx && ctx.op.case === "source");
  assert.equal(ctx.op.value.attrs["local.excludepatterns"], "[\"*.log\"]");
});

test("a Dockerfile-specific ignore file wins and a custom filename is honoured", async () => {
  const bridge = fakeBridge({
    dockerfile: { "build.Dockerfile": "FROM scratch\nCOPY a /\n", "build.Dockerfile.dockerignore": "secret\n" },
  });
  const result = await createDockerfileFrontend().solve(bridge, { filename: "build.Dockerfile" }, {});
  // The context's .dockerignore is loaded at the same time (its absence here is no error), but not used.
  assert.deepEqual(bridge.solved.map((s) => s.name), ["dockerfile", "context"]);
  assert.ok(new TextDecoder().decode(result.definition).includes("[\"secret\"]"));
});

test("the context's .dockerignore loads together with the Dockerfile; an unused one is waited for and its failure ignored", async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (err: unknown): void => void unhandled.push(err);
  process.on("unhandledRejection", onUnhandled);
  try {
    const cases: Array<Record<string, string>> = [{ "Dockerfile": "FROM scratch\n", "Dockerfile.dockerignore": "x\n" }, {}];
    for (const files of cases) {
      const bridge = fakeBridge({ dockerfile: files });
      const started: string[] = [];
      let finishContext: (err: Error) => void = () => undefined;
      let dockerfileDone: () => void = () => undefined;
      const solve = bridge.solve.bind(bridge);
      bridge.solve = async (def, o) => {
        const ref = await solve(def, o);
        started.push(ref.id);
        if (ref.id === "context") {
          // Fails only after the Dockerfile's load has completed: the frontend must still be waiting for it.
          return new Promise((_, reject) => (finishContext = reject));
        }
        dockerfileDone();
        return ref;
      };
      const dockerfileLoaded = new Promise<void>((resolve) => (dockerfileDone = resolve));
      let settled = false;
      const run = createDockerfileFrontend().solve(bridge, {}, {}).finally(() => (settled = true));
      run.catch(() => undefined);
      await dockerfileLoaded;
      assert.deepEqual(started.sort(), ["context", "dockerfile"], "both loads are under way at once");
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(settled, false, "the frontend waits for the context's load");
      finishContext(new GantryError("Unavailable", "context load failed"));
      if ("Dockerfile" in files) await run;
      else await assert.rejects(run, { code: "NotFound" }, "a missing Dockerfile is still the error reported");
    }
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(unhandled, []);
  } finally {
    process.off("unhandledRejection", onUnhandled);
  }
});

test("errors carry the Dockerfile line; parser warnings go to bridge.warn", async () => {
  const bridge = fakeBridge({ dockerfile: { "Dockerfile": "FROM scratch\nRUN a \\\n\n  b\nFROOB x\n" } });
  await assert.rejects(createDockerfileFrontend().solve(bridge, {}, {}), (err: unknown) =>
    err instanceof LocationError && err.code === "InvalidArgument" && err.ranges[0].start.line === 5 &&
    /unknown instruction: FROOB/.test(err.message));
  const ok = fakeBridge({ dockerfile: { "Dockerfile": "FROM scratch\nCOPY a \\\n\n  b\n" } });
  await createDockerfileFrontend().solve(ok, {}, {});
  assert.equal(ok.warnings.length, 1);
  assert.match(ok.warnings[0], /Empty continuation line/);
});

test("a missing Dockerfile is NotFound", async () => {
  await assert.rejects(createDockerfileFrontend().solve(fakeBridge({}), {}, {}), { code: "NotFound" });
});

test("a platform list converts once per platform and returns a ref for each", async () => {
  const bridge = fakeBridge({ dockerfile: { "Dockerfile": "from scratch\nARG TARGETARCH\nCOPY a /$TARGETARCH\n" } });
  const result = await createDockerfileFrontend().solve(bridge, { platform: "linux/amd64, linux/arm64,linux/amd64" }, {});
  assert.deepEqual(Object.keys(result.refs ?? {}), ["linux/amd64", "linux/arm64"], "normalised, without the duplicate");
  for (const [platform, arch] of [["linux/amd64", "amd64"], ["linux/arm64", "arm64"]]) {
    const ref = result.refs?.[platform];
    assert.ok(ref);
    const config = JSON.parse(new TextDecoder().decode(ref.metadata["containerimage.config"])) as { architecture: string };
    assert.equal(config.architecture, arch);
    assert.ok(new TextDecoder().decode(ref.definition).includes(`/${arch}`), `COPY lands in /${arch}`);
  }
  // The same check failure (lower-case `from`) is reported once, not per platform.
  assert.equal(bridge.warnings.filter((w) => /casing/i.test(w)).length, 1, bridge.warnings.join("; "));
});
