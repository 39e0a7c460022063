import { test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import type { ProgressEvent } from "../../util/progress-event.js";
import { CapturingStream, log, status, vtx, warning } from "./test-events.js";
import { TtyPrinter, type TtyPrinterOptions } from "./tty-printer.js";

const LOCAL_START = 1_000_000;

/** A printer on a fake terminal whose clock reads LOCAL_START + `clock.s` seconds. */
function setup(columns: number, rows: number, opts: TtyPrinterOptions = {}): { out: CapturingStream; printer: TtyPrinter; clock: { s: number } } {
  const out = new CapturingStream();
  out.columns = columns;
  out.rows = rows;
  const clock = { s: 0 };
  const printer = new TtyPrinter(out as unknown as NodeJS.WriteStream, { color: false, refreshMs: 1e6, now: () => LOCAL_START + clock.s * 1000, ...opts });
  return { out, printer, clock };
}

/** A line of the frame: text on the left, the time right-aligned to end one column before the edge. */
function row(left: string, time: string, width: number): string {
  return left.padEnd(width - 1 - time.length) + time;
}

function frameLines(text: string): string[] {
  return text.split("\n").slice(0, -1).map((l) => l.replace(/^(\x1b\[\d+A\r)?\x1b\[2K/, ""));
}

const BUILD: ProgressEvent[] = [
  vtx("a", "[1/3] FROM docker.io/library/alpine:3.19"),
  vtx("b", "[2/3] RUN make"),
  vtx("c", "[3/3] RUN false"),
  vtx("d", "exporting to image"),
  vtx("a", "[1/3] FROM docker.io/library/alpine:3.19", { started: 0, completed: 0, cached: true }),
  vtx("b", "[2/3] RUN make", { started: 1 }),
  status("b", "sha256:abc", { t: 2, started: 1, current: 1_050_000, total: 3_370_000 }),
  log("b", 1.5, "compiling\n"),
  warning("b", "slow step"),
  vtx("b", "[2/3] RUN make", { started: 1, completed: 3.25 }),
  vtx("c", "[3/3] RUN false", { started: 3, completed: 3.5, error: "exit code: 1" }),
];

test("the final frame: header with counts, one line per started vertex, statuses and warnings beneath", () => {
  const { out, printer, clock } = setup(60, 30);
  for (const ev of BUILD) printer.write(ev);
  clock.s = 4;
  printer.finish();
  assert.deepEqual(frameLines(out.text), [
    "[+] Building 4.0s (3/4) ".padEnd(60),
    row(" => CACHED [1/3] FROM docker.io/library/alpine:3.19", "0.0s", 60),
    row(" => [2/3] RUN make", "2.2s", 60), // 2.25 s rounds to even, as Go prints it
    row(" => => sha256:abc 1.05MB / 3.37MB", "3.0s", 60),
    row(" => WARN: slow step", "2.2s", 60),
    row(" => ERROR [3/3] RUN false", "0.5s", 60),
  ]);
  assert.ok(!out.text.includes("\x1b[2m"), "no output tail in the final frame");
});

test("FINISHED and colors once every vertex completed: blue done, red error, yellow canceled", () => {
  const { out, printer, clock } = setup(50, 30, { color: true });
  printer.write(vtx("a", "ok", { started: 0, completed: 1 }));
  printer.write(vtx("b", "bad", { started: 0, completed: 1, error: "exit code: 1" }));
  printer.write(vtx("c", "stop", { started: 0, completed: 1, error: "rpc error: context canceled" }));
  clock.s = 12.34;
  printer.finish();
  const lines = out.text.split("\n");
  assert.equal(lines[0], `\x1b[2K${"[+] Building 12.3s (3/3) FINISHED".padEnd(50)}`);
  assert.equal(lines[1], `\x1b[2K\x1b[34m${row(" => ok", "1.0s", 50)}\x1b[0m`);
  assert.equal(lines[2], `\x1b[2K\x1b[31m${row(" => ERROR bad", "1.0s", 50)}\x1b[0m`);
  assert.equal(lines[3], `\x1b[2K\x1b[33m${row(" => CANCELED stop", "1.0s", 50)}\x1b[0m`);
});

test("running frames redraw in place, time running vertices by the local clock and show a faint output tail", async () => {
  const { out, printer, clock } = setup(40, 30, { refreshMs: 2 });
  printer.write(vtx("b", "[2/3] RUN a-very-long-command-line-that-will-not-fit", { started: 100 }));
  printer.write(log("b", 100.1, Array.from({ length: 8 }, (_, i) => `out ${i + 1}\n`).join("")));
  clock.s = 1.5;
  await sleep(30);
  printer.finish();
  const frames = out.text.split("\x1b[2K[+]");
  assert.ok(frames.length >= 3, "at least two timed frames and the final one");
  const running = frames[1].split("\n").slice(0, -1).map((l) => l.replace(/^\x1b\[2K/, ""));
  assert.deepEqual(running, [
    " Building 1.5s (0/1) ".padEnd(37),
    row(" => [2/3] RUN a-very-long-command", "1.5s", 40), // names are cut to leave room for the time
    ...["out 3", "out 4", "out 5", "out 6", "out 7", "out 8"].map((l) => `\x1b[2m => => # ${l}\x1b[0m`),
  ]);
  // Each later frame first moves the cursor back up over the previous one (8 lines).
  assert.match(frames[1], /\x1b\[8A\r$/);
  const final = frames.at(-1) ?? "";
  assert.ok(!final.includes("out 8"), "the final frame drops the tail");
});

test("no tail when the terminal is too short, and no vertex lines when it is too narrow", () => {
  const short = setup(40, 8);
  short.printer.write(vtx("b", "run", { started: 0 }));
  short.printer.write(log("b", 0.1, "hello\n"));
  short.printer.finish();
  assert.ok(!short.out.text.includes("hello"));
  const narrow = setup(20, 30);
  narrow.printer.write(vtx("b", "run", { started: 0, completed: 1 }));
  narrow.printer.finish();
  assert.deepEqual(frameLines(narrow.out.text), ["[+] Building 0.0s (1/1) FINISHED".slice(0, 20)]);
});
