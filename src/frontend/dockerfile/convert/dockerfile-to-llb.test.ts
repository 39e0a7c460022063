import { test } from "node:test";
import assert from "node:assert/strict";
import { MountType } from "../../../gen/pb/ops_pb.js";
import { LocationError } from "../../../util/errors.js";
import { dockerfileToLLB, type ConvertResult } from "./dockerfile-to-llb.js";
import type { ConvertOptions } from "./convert-options.js";
import { createFakeResolver } from "./testing/cf-images.js";
import { decodeOps, execOps } from "./testing/ops.js";

const AMD64 = { os: "linux", architecture: "amd64" };
const BB = "FROM localhost:5000/cf/busybox:1\n";

function convert(text: string, opts: Partial<ConvertOptions> = {}): Promise<ConvertResult> {
  return dockerfileToLLB(text, { resolveImageConfig: createFakeResolver(), platform: AMD64, ...opts });
}

function historyOf(r: ConvertResult): string[] {
  return r.imageConfig.history.filter((h) => h.comment === "buildkit.dockerfile.v0").map((h) => h.created_by ?? "");
}

function execMeta(r: ConvertResult, i = 0) {
  const op = execOps(r)[i].op.op;
  assert.equal(op.case, "exec");
  return op.value;
}

test("only the stages the target needs are resolved", async () => {
  const asked: string[] = [];
  await convert("FROM localhost:5000/cf/missing:1 AS a\nFROM localhost:5000/cf/busybox:1 AS b\nRUN x\n",
    { resolveImageConfig: createFakeResolver(asked), attrs: { target: "b" } });
  assert.deepEqual(asked, ["localhost:5000/cf/busybox:1"]);
});

test("platform args and build args reach RUN and its history", async () => {
  const r = await convert(`ARG BASE=localhost:5000/cf/busybox:1\nFROM --platform=$BUILDPLATFORM $BASE\nARG TARGETARCH\nARG V=def\nRUN echo $V\n`,
    { attrs: { "build-arg:V": "cli" }, buildPlatform: AMD64, platform: { os: "linux", architecture: "arm64", variant: "v8" } });
  const meta = execMeta(r).meta;
  assert.ok(meta?.env.includes("TARGETARCH=arm64"));
  assert.ok(meta?.env.includes("V=cli"));
  assert.equal(historyOf(r).at(-1), "RUN |2 TARGETARCH=arm64 V=cli /bin/sh -c echo $V # buildkit");
  assert.equal(r.imageConfig.architecture, "arm64");
  assert.equal(r.imageConfig.variant, "v8");
});

test("RUN mounts: cache with id and namespace, secret, bind from a stage, tmpfs", async () => {
  const r = await convert(`${BB}FROM localhost:5000/cf/busybox:1 AS src\nRUN touch /f\nFROM src\n` +
    "RUN --mount=type=cache,target=/root/.cache --mount=type=secret,id=tok --mount=from=src,source=/bin,target=/b " +
    "--mount=type=tmpfs,target=/tmp/t --network=host make\n", { attrs: { "build-arg:BUILDKIT_CACHE_MOUNT_NS": "ns" } });
  const exec = execMeta(r, 1);
  assert.equal(exec.network, 1);
  const byDest = new Map(exec.mounts.map((m) => [m.dest, m]));
  assert.equal(byDest.get("/root/.cache")?.cacheOpt?.ID, "ns//root/.cache");
  assert.equal(byDest.get("/run/secrets/tok")?.secretOpt?.ID, "tok");
  assert.equal(byDest.get("/run/secrets/tok")?.secretOpt?.optional, true);
  assert.equal(byDest.get("/b")?.selector, "/bin");
  assert.equal(byDest.get("/b")?.readonly, true);
  assert.equal(byDest.get("/tmp/t")?.mountType, MountType.TMPFS);
});

test("COPY --link copies onto scratch and merges", async () => {
  const r = await convert(`${BB}COPY --link a /a\n`);
  const merge = decodeOps(r).find((o) => o.op.op.case === "merge");
  assert.equal(merge?.name, "[2/2] LINK COPY --link a /a");
  const file = decodeOps(r).find((o) => o.op.op.case === "file");
  assert.ok(file && file.op.op.case === "file");
  assert.equal(file.op.op.value.actions[0].input, -1n);
});

test("config instructions and their history strings", async () => {
  const r = await convert("FROM localhost:5000/cf/config:1\nEXPOSE 80 53/udp 8000-8001\n" +
    "HEALTHCHECK --interval=5s --timeout=3s --start-period=1m30s --retries=4 CMD [\"/bin/true\"]\n" +
    "VOLUME /v\nSTOPSIGNAL SIGTERM\nSHELL [\"/bin/bash\", \"-c\"]\nENTRYPOINT run me\nLABEL a=b\n");
  assert.deepEqual(historyOf(r), [
    "EXPOSE map[53/udp:{} 80/tcp:{} 8000/tcp:{} 8001/tcp:{}]",
    "HEALTHCHECK &{[\"CMD\" \"/bin/true\"] \"5s\" \"3s\" \"1m30s\" '\\x04'}",
    "VOLUME [/v]",
    "STOPSIGNAL SIGTERM",
    "SHELL [/bin/bash -c]",
    "ENTRYPOINT [\"/bin/bash\" \"-c\" \"run me\"]",
    "LABEL a=b",
  ]);
  const c = r.imageConfig.config;
  assert.equal(c.Cmd, null, "ENTRYPOINT drops the inherited CMD");
  assert.deepEqual(Object.keys(c.ExposedPorts ?? {}).sort(), ["53/udp", "80/tcp", "8000/tcp", "8001/tcp", "8080/tcp"]);
  assert.deepEqual(c.Volumes, { "/basevol": {}, "/v": {} });
  assert.equal(c.Healthcheck?.Retries, 4);
  assert.equal(c.WorkingDir, "/srv");
});

test("ONBUILD triggers of a base image run first and are not inherited", async () => {
  const r = await convert("FROM localhost:5000/cf/onbuild:1\nRUN true\n");
  assert.deepEqual(historyOf(r), [
    "ARG OB_ARG=ob-default",
    "RUN |1 OB_ARG=ob-default /bin/sh -c echo \"onbuild run: $OB_ARG $OB_BASE\" > /opt/onbuild-run.txt # buildkit",
    "COPY ob-ctx.txt /opt/onbuild-copied/ # buildkit",
    "ENV FROM_ONBUILD=yes",
    "LABEL onbuild.trigger=ran",
    "RUN |1 OB_ARG=ob-default /bin/sh -c true # buildkit",
  ]);
  assert.equal(r.imageConfig.config.OnBuild, null);
  assert.deepEqual(r.imageConfig.config.Labels, { "onbuild.trigger": "ran" });
});

test("the context source gets follow paths and .dockerignore excludes", async () => {
  const r = await convert(`${BB}COPY b.txt a.txt /d/\nADD dir /x\nADD http://example.invalid/f.tgz /u/\n`,
    { dockerignorePatterns: ["*.log"] });
  const src = decodeOps(r).find((o) => o.op.op.case === "source" && o.op.op.value.identifier === "local://context");
  assert.ok(src && src.op.op.case === "source");
  assert.equal(src.op.op.value.attrs["local.followpaths"], JSON.stringify(["a.txt", "b.txt", "dir"]));
  assert.equal(src.op.op.value.attrs["local.excludepatterns"], JSON.stringify(["*.log"]));
  assert.equal(src.name, "[internal] load build context");
  const http = decodeOps(r).find((o) => o.op.op.case === "source" && o.op.op.value.identifier.startsWith("http"));
  assert.ok(http && http.op.op.case === "source");
  assert.equal(http.op.op.value.attrs["http.filename"], "f.tgz");
});

test("WORKDIR after USER creates the directory owned by that user", async () => {
  const r = await convert(`${BB}USER app\nWORKDIR /home/app\n`);
  const file = decodeOps(r).find((o) => o.op.op.case === "file");
  assert.ok(file && file.op.op.case === "file");
  const action = file.op.op.value.actions[0].action;
  assert.equal(action.case, "mkdir");
  assert.equal(action.case === "mkdir" ? action.value.owner?.user?.user.case : "", "byName");
  assert.equal(file.name, "[2/2] WORKDIR /home/app");
});

test("attrs: target, labels, no-cache", async () => {
  const r = await convert(`${BB}RUN a\nFROM localhost:5000/cf/busybox:1 AS last\nRUN b\n`,
    { attrs: { target: "last", "label:org.x": "1", "no-cache": "" } });
  assert.deepEqual(r.imageConfig.config.Labels, { "org.x": "1" });
  const { metadata } = r.state.marshal(r.marshalOptions);
  assert.ok([...metadata.values()].some((m) => m.ignoreCache));
  assert.equal(execOps(r).length, 1);
});

test("named contexts replace images", async () => {
  const r = await convert("FROM alpine\nRUN x\n", {
    namedContexts: async (name) => (name === "docker.io/library/alpine:latest"
      ? { state: (await import("../../../llb/state.js")).image("localhost:5000/cf/busybox:1") } : undefined),
  });
  const src = decodeOps(r).find((o) => o.op.op.case === "source");
  assert.ok(src && src.op.op.case === "source");
  assert.equal(src.op.op.value.identifier, "docker-image://localhost:5000/cf/busybox:1");
});

test("semantic errors are LocationErrors naming the line", async () => {
  await assert.rejects(convert(`${BB}ENV X=\${U:?needed}\n`), (err: unknown) =>
    err instanceof LocationError && err.message === "Dockerfile:2: failed to process \"${U:?needed}\": U: needed");
  await assert.rejects(convert(`${BB}COPY --from=7 a b\n`), /Dockerfile:2: invalid stage index 7/);
  await assert.rejects(convert(BB, { attrs: { target: "nope" } }), /target stage nope could not be found/);
  await assert.rejects(convert("FROM localhost:5000/cf/nope:1\n"), /Dockerfile:1: localhost:5000\/cf\/nope:1: /);
  await assert.rejects(convert(`${BB}COPY --chmod=9999 a b\n`), /invalid chmod parameter/);
});
