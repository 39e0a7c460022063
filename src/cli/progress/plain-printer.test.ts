import { test } from "node:test";
import assert from "node:assert/strict";
import type { ProgressEvent } from "../../util/progress-event.js";
import { PlainPrinter } from "./plain-printer.js";
import { CapturingStream, log, status, vtx, warning } from "./test-events.js";

const FROM = "sha256:aaa";
const RUN = "sha256:bbb";
const COPY = "sha256:ccc";
const EXPORT = "sha256:ddd";
const EXIT_1 = 'process "/bin/sh -c false" did not complete successfully: exit code: 1';

function render(events: ProgressEvent[], opts: { truncateNames?: boolean } = {}): { text: string; printer: PlainPrinter } {
  const out = new CapturingStream();
  const printer = new PlainPrinter(out as unknown as NodeJS.WritableStream, opts);
  for (const ev of events) printer.write(ev);
  printer.finish();
  return { text: out.text, printer };
}

const SCRIPT: ProgressEvent[] = [
  // The graph is announced up front; nothing prints until a vertex starts.
  vtx(FROM, "[1/3] FROM docker.io/library/alpine:latest"),
  vtx(RUN, "[2/3] RUN make", { inputs: [FROM] }),
  vtx(COPY, "[3/3] COPY . /app"),
  vtx(EXPORT, "exporting to image"),
  vtx(FROM, "[1/3] FROM docker.io/library/alpine:latest", { started: 0, cached: true }),
  vtx(FROM, "[1/3] FROM docker.io/library/alpine:latest", { started: 0, completed: 0.01, cached: true }),
  vtx(RUN, "[2/3] RUN make", { started: 1 }),
  log(RUN, 1.123, "building "),
  log(RUN, 1.5, "step 1\nstep 2\nstep"),
  // COPY starts while RUN is running: no header until it has something to show.
  vtx(COPY, "[3/3] COPY . /app", { started: 2 }),
  status(COPY, "transferring context:", { t: 2.5, started: 2, current: 1_050_000, total: 3_370_000 }),
  // Under 5 % and 5 s since the last line: not reprinted.
  status(COPY, "transferring context:", { t: 2.6, started: 2, current: 1_100_000, total: 3_370_000 }),
  log(COPY, 3, "oops\n"),
  status(COPY, "transferring context:", { t: 3.25, started: 2, current: 3_370_000, total: 3_370_000, done: true }),
  log(RUN, 3.3, " 3 done\n"),
  vtx(RUN, "[2/3] RUN make", { started: 1, completed: 4.2 }),
  vtx(COPY, "[3/3] COPY . /app", { started: 2, completed: 4.5, error: EXIT_1 }),
  vtx(EXPORT, "exporting to image", { started: 5 }),
  warning(EXPORT, "something odd"),
  vtx(EXPORT, "exporting to image", { started: 5, completed: 5.5, error: "rpc error: code = Canceled desc = context canceled" }),
];

const GOLDEN = `#1 [1/3] FROM docker.io/library/alpine:latest
#1 CACHED

#2 [2/3] RUN make
#2 0.123 building step 1
#2 0.500 step 2
#2 0.500 step
#2 ...

#3 [3/3] COPY . /app
#3 transferring context: 1.05MB / 3.37MB 0.5s
#3 1.000 oops
#3 transferring context: 3.37MB / 3.37MB 1.2s done
#3 ...

#2 [2/3] RUN make
#2 0.500 step 3 done
#2 DONE 3.2s

#3 [3/3] COPY . /app
#3 ERROR: ${EXIT_1}

#4 exporting to image
#4 WARN: something odd
#4 CANCELED
`;

test("plain output of a scripted build matches buildctl's shape line for line", () => {
  assert.equal(render(SCRIPT).text, GOLDEN);
});

test("a vertex never started prints nothing; a repeated completion prints once", () => {
  const { text } = render([
    vtx(FROM, "never started", { completed: 1, cached: true }),
    vtx(RUN, "once", { started: 0, completed: 0, cached: true }),
    vtx(RUN, "once", { started: 0, completed: 0, cached: true }),
  ]);
  assert.equal(text, "#1 once\n#1 CACHED\n");
});

test("DONE sums merged run intervals; log times use 3, 2 then 1 decimals", () => {
  const { text } = render([
    vtx(RUN, "run", { started: 0 }),
    log(RUN, 9.9996, "a\n"),
    log(RUN, 12.345, "b\n"),
    log(RUN, 123.45, "c\n"),
    vtx(RUN, "run", { started: 0, completed: 124 }),
    // A second run overlapping the first adds only its new part: 0..124 ∪ 100..130 = 130 s. It arrives
    // before the closing line is due, so the block goes on and closes once.
    vtx(RUN, "run", { started: 100, completed: 130 }),
  ]);
  assert.equal(text, "#1 run\n#1 10.00 a\n#1 12.35 b\n#1 123.5 c\n#1 DONE 130.0s\n");
});

// Recorded from buildkitd v0.11.6 pulling localhost:5000/cf/busybox:1 (times relative to the first start):
// the image vertex runs three times (resolve, pull, extract) and is re-sent completed in between.
const UPSTREAM_PULL: ProgressEvent[] = [
  vtx(RUN, "/bin/sh -c echo hi", { inputs: [FROM] }),
  vtx(FROM, "docker-image://localhost:5000/cf/busybox:1"),
  vtx(FROM, "docker-image://localhost:5000/cf/busybox:1", { started: 0 }),
  status(FROM, "resolve localhost:5000/cf/busybox:1", { t: 0.014, started: 0.014, current: 0, total: 0 }),
  status(FROM, "resolve localhost:5000/cf/busybox:1", { t: 0.107, started: 0.014, current: 0, total: 0, done: true }),
  vtx(FROM, "docker-image://localhost:5000/cf/busybox:1", { started: 0, completed: 0.108 }),
  vtx(FROM, "docker-image://localhost:5000/cf/busybox:1", { started: 0.108, completed: 0.108 }),
  vtx(FROM, "docker-image://localhost:5000/cf/busybox:1", { started: 0.108 }),
  vtx(FROM, "docker-image://localhost:5000/cf/busybox:1", { started: 0.108, completed: 0.172 }),
  vtx(FROM, "docker-image://localhost:5000/cf/busybox:1", { started: 0.183 }),
  status(FROM, "sha256:6f64", { t: 0.247, started: 0.205, current: 1035971, total: 1035971, done: true }),
  vtx(FROM, "docker-image://localhost:5000/cf/busybox:1", { started: 0.183, completed: 0.247 }),
  vtx(FROM, "docker-image://localhost:5000/cf/busybox:1", { started: 0.256 }),
  status(FROM, "extracting sha256:6f64", { t: 0.256, started: 0.256, current: 0, total: 0 }),
  vtx(FROM, "docker-image://localhost:5000/cf/busybox:1", { started: 0.256, completed: 0.438 }),
  status(FROM, "extracting sha256:6f64", { t: 0.438, started: 0.256, current: 0, total: 0, done: true }),
  vtx(RUN, "/bin/sh -c echo hi", { started: 0.44, inputs: [FROM] }),
  log(RUN, 0.627, "hi\n"),
  vtx(RUN, "/bin/sh -c echo hi", { started: 0.44, completed: 0.65, inputs: [FROM] }),
];

test("upstream's repeated runs of one vertex print as one block, as buildctl shows them", () => {
  assert.equal(render(UPSTREAM_PULL).text, [
    "#1 docker-image://localhost:5000/cf/busybox:1",
    "#1 resolve localhost:5000/cf/busybox:1",
    "#1 resolve localhost:5000/cf/busybox:1 0.1s done",
    "#1 sha256:6f64 1.04MB / 1.04MB 0.0s done",
    "#1 extracting sha256:6f64",
    "#1 extracting sha256:6f64 0.2s done",
    "#1 DONE 0.4s",
    "",
    "#2 /bin/sh -c echo hi",
    "#2 0.187 hi",
    "#2 DONE 0.2s",
    "",
  ].join("\n"));
});

test("a vertex that starts again after its closing line was printed gets a new block", async () => {
  const out = new CapturingStream();
  const printer = new PlainPrinter(out as unknown as NodeJS.WritableStream);
  printer.write(vtx(FROM, "local://context", { started: 0, completed: 0 }));
  await new Promise((r) => setTimeout(r, 150));
  printer.write(vtx(FROM, "local://context", { started: 1 }));
  printer.write(status(FROM, "transferring context:", { t: 1.2, started: 1, current: 45, total: 0, done: true }));
  printer.write(vtx(FROM, "local://context", { started: 1, completed: 1.2 }));
  printer.finish();
  assert.equal(out.text, "#1 local://context\n#1 DONE 0.0s\n\n#1 local://context\n#1 transferring context: 45B 0.2s done\n#1 DONE 0.2s\n");
});

test("statuses: no size when zero, current alone without total, no time under 10 ms, unstarted ones hidden", () => {
  const { text } = render([
    vtx(RUN, "pull", { started: 0 }),
    status(RUN, "resolve", { t: 0.005, started: 0, current: 0, total: 0, done: true }),
    status(RUN, "sha256:1234", { t: 2, started: 0, current: 77, total: 0 }),
    status(RUN, "sha256:1234", { t: 8, started: 0, current: 78, total: 0 }),
    status(RUN, "never started", { t: 1, current: 5, total: 10, done: true }),
    status(RUN, "sha256:1234", { t: 8.04, started: 0, current: 2_000_000, total: 0, done: true }),
  ]);
  assert.equal(
    text,
    "#1 pull\n#1 resolve done\n#1 sha256:1234 77B 2.0s\n#1 sha256:1234 78B 8.0s\n#1 sha256:1234 2.00MB 8.0s done\n",
  );
});

test("a partial line is joined with the next chunk and keeps the time it began at", () => {
  const { text } = render([vtx(RUN, "run", { started: 0 }), log(RUN, 0.1, "hel"), log(RUN, 0.9, "lo\nwor"), log(RUN, 2, "ld")]);
  // The unfinished "world" is printed when the build ends.
  assert.equal(text, "#1 run\n#1 0.100 hello\n#1 0.900 world\n");
});

test("an unfinished line is printed before the vertex's completion line", () => {
  const { text } = render([vtx(RUN, "run", { started: 0 }), log(RUN, 0.25, "no newline"), vtx(RUN, "run", { started: 0, completed: 1 })]);
  assert.equal(text, "#1 run\n#1 0.250 no newline\n#1 DONE 1.0s\n");
});

test("PROGRESS_NO_TRUNC=0 style truncation cuts names at 72 characters", () => {
  const name = "x".repeat(80);
  assert.equal(render([vtx(RUN, name, { started: 0 })], { truncateNames: true }).text, `#1 ${"x".repeat(72)}...\n`);
  assert.equal(render([vtx(RUN, name, { started: 0 })], { truncateNames: false }).text, `#1 ${name}\n`);
});
