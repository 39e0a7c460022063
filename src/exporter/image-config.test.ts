import assert from "node:assert/strict";
import { test } from "node:test";
import type { Digest } from "../util/digest.js";
import { isInvalidArgument } from "../util/errors.js";
import { buildImageConfig, normalizeHistory } from "./image-config.js";

const d1 = `sha256:${"1".repeat(64)}` as Digest;
const d2 = `sha256:${"2".repeat(64)}` as Digest;
const now = new Date("2024-05-01T10:00:00.000Z");
const platform = { os: "linux", architecture: "amd64" };

function parse(b: Buffer): Record<string, unknown> {
  return JSON.parse(b.toString()) as Record<string, unknown>;
}

test("the default config is upstream's: PATH, WorkingDir, sorted keys, history per layer", () => {
  const out = buildImageConfig({ platform, diffIds: [d1], layerInfo: [{ description: "RUN x", createdAt: now }], now });
  const text = out.toString();
  assert.ok(text.startsWith('{"architecture":"amd64","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"WorkingDir":"/"},"created":"2024-05-01T10:00:00Z","history":'), text);
  const c = parse(out);
  assert.deepEqual(c.rootfs, { type: "layers", diff_ids: [d1] });
  assert.deepEqual(c.history, [{ created: "2024-05-01T10:00:00Z", created_by: "RUN x", comment: "buildkit.exporter.image.v0" }]);
});

test("scratch with no config has null diff_ids and history, like Go's nil slices", () => {
  const c = parse(buildImageConfig({ platform, diffIds: [], layerInfo: [], now }));
  assert.deepEqual(c.rootfs, { type: "layers", diff_ids: null });
  assert.equal(c.history, null);
  assert.equal(c.created, null);
});

test("frontend fields are kept, buildinfo dropped, HTML characters escaped like Go", () => {
  const cfg = { os: "linux", architecture: "arm64", variant: "v8", config: { Cmd: ["sh", "-c", "a && b > c"] }, "moby.buildkit.buildinfo.v1": "x", extra: { z: 1, a: 2 } };
  const out = buildImageConfig({ imageConfig: Buffer.from(JSON.stringify(cfg)), platform, diffIds: [], layerInfo: [], now }).toString();
  assert.ok(out.includes('"Cmd":["sh","-c","a \\u0026\\u0026 b \\u003e c"]'), out);
  assert.ok(!out.includes("buildinfo"));
  assert.ok(out.includes('"extra":{"z":1,"a":2}'));
  assert.equal(parse(Buffer.from(out)).variant, "v8");
});

test("missing os or architecture is InvalidArgument", () => {
  assert.throws(() => buildImageConfig({ imageConfig: Buffer.from('{"os":"linux"}'), platform, diffIds: [], layerInfo: [], now }), isInvalidArgument);
  assert.throws(() => buildImageConfig({ imageConfig: Buffer.from("[1]"), platform, diffIds: [], layerInfo: [], now }), isInvalidArgument);
});

test("surplus history layers are marked empty from the bottom", () => {
  const h = normalizeHistory([
    { created_by: "a", created: "2020-01-01T00:00:00Z" },
    { created_by: "b" },
    { created_by: "c", empty_layer: true },
    { created_by: "d" },
  ], { diffIds: [d1], layerInfo: [], now });
  assert.deepEqual(h.map((x) => [x.created_by, !!x.empty_layer]), [["a", false], ["b", true], ["c", true], ["d", true]]);
  // Entries without a time take the previous one.
  assert.ok(h.every((x) => x.created === "2020-01-01T00:00:00Z"));
});

test("missing history entries are added for the extra layers", () => {
  const h = normalizeHistory([{ created_by: "base", created: "2020-01-01T00:00:00Z" }, { created_by: "ENV", empty_layer: true }],
    { diffIds: [d1, d2], layerInfo: [{}, { description: "COPY x", createdAt: now }], now });
  assert.equal(h.length, 3);
  assert.deepEqual(h[2], { created: "2024-05-01T10:00:00Z", created_by: "COPY x", comment: "buildkit.exporter.image.v0" });
  // The empty ENV entry gets the first new layer's time, not the base image's.
  assert.equal(h[1].created, "2024-05-01T10:00:00Z");
});

test("SOURCE_DATE_EPOCH clamps history and created", () => {
  const epoch = new Date(1_000_000_000_000);
  const cfg = { os: "linux", architecture: "amd64", created: "2030-01-01T00:00:00Z", history: [{ created: "1990-01-01T00:00:00Z", created_by: "old" }] };
  const c = parse(buildImageConfig({ imageConfig: Buffer.from(JSON.stringify(cfg)), platform, diffIds: [d1, d2], layerInfo: [], now, epoch }));
  assert.equal(c.created, "2001-09-09T01:46:40Z");
  const history = c.history as Array<{ created: string }>;
  assert.equal(history[0].created, "1990-01-01T00:00:00Z");
  assert.equal(history[1].created, "2001-09-09T01:46:40Z");
});
