import { test } from "node:test";
import assert from "node:assert/strict";
import { CapturingStream, log, status, vtx, warning } from "./test-events.js";
import { RawJsonPrinter } from "./rawjson-printer.js";

function setup(): { out: CapturingStream; printer: RawJsonPrinter } {
  const out = new CapturingStream();
  return { out, printer: new RawJsonPrinter(out as unknown as NodeJS.WritableStream) };
}

test("events of one tick become one JSON line in Go's SolveStatus shape", async () => {
  const { out, printer } = setup();
  printer.write(vtx("sha256:b", "[2/2] RUN <make> & co", { inputs: ["sha256:a"] }));
  printer.write(vtx("sha256:a", "[1/2] FROM alpine", { started: 0, completed: 0.25, cached: true }));
  printer.write(status("sha256:b", "sha256:layer", { t: 1.5, started: 1, current: 50, total: 100 }));
  printer.write(status("sha256:b", "resolve", { t: 2, started: 1, current: 0, total: 0, done: true }));
  printer.write(log("sha256:b", 1.123, "hi\n", 2));
  printer.write(warning("sha256:b", "slow"));
  assert.equal(out.text, "", "nothing is written before the tick ends");
  await Promise.resolve();
  assert.equal(
    out.text,
    "{" +
      '"vertexes":[' +
      '{"digest":"sha256:b","inputs":["sha256:a"],"name":"[2/2] RUN \\u003cmake\\u003e \\u0026 co"},' +
      '{"digest":"sha256:a","name":"[1/2] FROM alpine","started":"2024-01-02T03:04:05Z","completed":"2024-01-02T03:04:05.25Z","cached":true}],' +
      '"statuses":[' +
      '{"id":"sha256:layer","vertex":"sha256:b","total":100,"current":50,"timestamp":"2024-01-02T03:04:06.5Z","started":"2024-01-02T03:04:06Z"},' +
      '{"id":"resolve","vertex":"sha256:b","current":0,"timestamp":"2024-01-02T03:04:07Z","started":"2024-01-02T03:04:06Z","completed":"2024-01-02T03:04:07Z"}],' +
      '"logs":[{"vertex":"sha256:b","stream":2,"data":"aGkK","timestamp":"2024-01-02T03:04:06.123Z"}],' +
      '"warnings":[{"vertex":"sha256:b","level":1,"short":"c2xvdw=="}]' +
      "}\n",
  );
});

test("empty lists are omitted and separate ticks give separate lines", async () => {
  const { out, printer } = setup();
  printer.write(vtx("sha256:a", "a", { started: 0, error: "exit code: 1", completed: 1 }));
  await Promise.resolve();
  printer.write(log("sha256:a", 0.5, ""));
  await Promise.resolve();
  const lines = out.text.trimEnd().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(lines, [
    { vertexes: [{ digest: "sha256:a", name: "a", started: "2024-01-02T03:04:05Z", completed: "2024-01-02T03:04:06Z", error: "exit code: 1" }] },
    { logs: [{ vertex: "sha256:a", stream: 1, data: "", timestamp: "2024-01-02T03:04:05.5Z" }] },
  ]);
});

test("finish writes the pending update at once; nothing more after", async () => {
  const { out, printer } = setup();
  printer.write(warning("v", "w"));
  printer.finish();
  assert.equal(out.text, '{"warnings":[{"vertex":"v","level":1,"short":"dw=="}]}\n');
  await Promise.resolve();
  printer.finish();
  assert.equal(out.text.split("\n").length, 2);
  assert.equal(printer.table.rows.size, 0, "rawjson keeps no table, so no error summary is printed");
});
