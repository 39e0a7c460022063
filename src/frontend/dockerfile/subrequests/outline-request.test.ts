import { test } from "node:test";
import assert from "node:assert/strict";
import { createFakeResolver } from "../convert/testing/cf-images.js";
import { outlineDockerfile } from "./outline-request.js";
import { printOutline, type Outline } from "./outline.js";

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const line = (o: { location?: { ranges?: Array<{ start?: { line?: number } }> } }): number | undefined => o.location?.ranges?.[0]?.start?.line;

// Upstream's testOutlineArgs with its images swapped for the test registry's; the lines are the same.
const ARGS_DOCKERFILE = `
ARG inherited=box:1
ARG inherited2=box2
ARG unused=abc\${inherited2}
# sfx is a suffix
ARG sfx="usy\${inherited}"

FROM localhost:5000/cf/b\${sfx} AS first
# this is not assigned to anything
ARG FOO=123
# BAR is a number
ARG BAR=456
RUN true

FROM alpine\${unused} AS second
ARG BAZ
RUN true

FROM scratch AS third
ARG ABC=a
# check=skip=all
ARG password
# alternate_password will show up in the outline
# check=skip=all
ARG alternate_password

# target defines build target
FROM third AS target
COPY --from=first /etc/passwd /

FROM second
`;

test("outline lists the args the target reads, with values, doc comments and lines, as upstream", async () => {
  const asked: string[] = [];
  const o = await outlineDockerfile(enc(ARGS_DOCKERFILE), {
    attrs: { "build-arg:BAR": "678", target: "target" }, resolveImageConfig: createFakeResolver(asked),
  });
  assert.equal(o.name, "target");
  assert.equal(o.description, "defines build target");
  assert.deepEqual(o.sources, [Buffer.from(ARGS_DOCKERFILE).toString("base64")]);
  assert.deepEqual(o.args?.map((a) => [a.name, a.value ?? "", a.description ?? "", line(a)]), [
    ["inherited", "box:1", "", 2],
    ["sfx", "usybox:1", "is a suffix", 6],
    ["FOO", "123", "", 10],
    ["BAR", "678", "is a number", 12],
    ["ABC", "a", "", 20],
    ["password", "", "", 22],
    ["alternate_password", "", "will show up in the outline", 25],
  ]);
  // The unreachable stage's base is never resolved: nothing but the target's needs is looked up.
  assert.deepEqual(asked, ["localhost:5000/cf/busybox:1"]);
});

test("outline lists the target's secrets and SSH sockets with expanded ids and required flags", async () => {
  const dockerfile = `
FROM localhost:5000/cf/busybox:1 AS first
RUN --mount=type=secret,target=/etc/passwd,required=true --mount=type=ssh true

FROM alpine AS second
RUN --mount=type=secret,id=unused --mount=type=ssh,id=ssh2 true

FROM scratch AS third
ARG BAR
RUN --mount=type=secret,id=second\${BAR} true

FROM third AS target
COPY --from=first /foo /
RUN --mount=type=ssh,id=ssh3,required true

FROM second
`;
  const o = await outlineDockerfile(enc(dockerfile), {
    attrs: { "build-arg:BAR": "678", target: "target" }, resolveImageConfig: createFakeResolver(),
  });
  assert.deepEqual(o.secrets?.map((s) => [s.name, s.required === true, line(s)]), [["passwd", true, 3], ["second678", false, 10]]);
  assert.deepEqual(o.ssh?.map((s) => [s.name, s.required === true, line(s)]), [["default", false, 3], ["ssh3", true, 14]]);
});

test("outline follows global args through the defaults that read them (upstream's recursive case)", async () => {
  const dockerfile = `
ARG FOO=123
ARG ABC=abc
ARG DEF=def
ARG FOO=\${FOO}\${ABC}
ARG BAR=\${FOO}456
ARG FOO=\${FOO}456\${BAR}
FROM scratch
ARG FOO
ARG INFOO=123
ARG INBAR=\${INFOO}456
ARG INFOO=\${INFOO}456\${INBAR}
`;
  const o = await outlineDockerfile(enc(dockerfile), { resolveImageConfig: createFakeResolver() });
  assert.deepEqual(o.args?.map((a) => [a.name, a.value]), [
    ["ABC", "abc"], ["BAR", "123abc456"], ["FOO", "123abc456123abc456"], ["INBAR", "123456"], ["INFOO", "123456123456"],
  ]);
  assert.equal(o.name, undefined);
});

test("outline reports cache mounts by id and fails like the build for a bad Dockerfile", async () => {
  const o = await outlineDockerfile(enc("FROM scratch\nRUN --mount=type=cache,target=/root/.cache true\nRUN --mount=type=cache,id=go,target=/go true\n"),
    { resolveImageConfig: createFakeResolver() });
  assert.deepEqual(o.cache?.map((c) => [c.ID, line(c)]), [["/root/.cache", 2], ["go", 3]]);
  await assert.rejects(outlineDockerfile(enc("FROM scratch\nBADCMD x\n"), { resolveImageConfig: createFakeResolver() }),
    /unknown instruction: BADCMD/);
});

test("the outline's text has upstream's tables, each followed by a blank line", () => {
  const o: Outline = {
    name: "target", description: "defines build target",
    args: [{ name: "inherited", value: "box" }, { name: "sfx", value: "usybox", description: "is a suffix" }],
    secrets: [{ name: "passwd", required: true }, { name: "second678" }],
    ssh: [{ name: "default" }],
  };
  assert.equal(printOutline(o), [
    "TARGET:      target",
    "DESCRIPTION: defines build target",
    "",
    "BUILD ARG   VALUE    DESCRIPTION",
    "inherited   box      ",
    "sfx         usybox   is a suffix",
    "",
    "SECRET      REQUIRED",
    "passwd      true",
    "second678   ",
    "",
    "SSH       REQUIRED",
    "default   ",
    "",
    "",
  ].join("\n"));
  assert.equal(printOutline({ sources: [] }), "");
});
