import { test } from "node:test";
import assert from "node:assert/strict";
import { codeOf, canceledError } from "../util/errors.js";
import { BuildTracker } from "./build-tracker.js";
import { DaemonMetrics } from "./daemon-metrics.js";

function until(signal: AbortSignal, ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => resolve("done"), ms);
    signal.addEventListener("abort", () => {
      clearTimeout(t);
      reject(canceledError(signal));
    }, { once: true });
  });
}

test("drain lets short builds finish, cancels long ones after the grace period, and refuses new builds", async () => {
  const metrics = new DaemonMetrics();
  const tracker = new BuildTracker(metrics);
  const none = new AbortController().signal;
  const short = tracker.track(none, (s) => until(s, 50));
  const long = tracker.track(none, (s) => until(s, 60_000));
  const failing = tracker.track(none, async () => {
    throw new Error("boom");
  });
  await assert.rejects(failing, /boom/);
  assert.equal(metrics.running, 2);
  const started = Date.now();
  const canceled = await tracker.drain(300);
  assert.equal(canceled, 1);
  assert.ok(Date.now() - started < 30_000, "the long build was canceled, not waited for (60 s)");
  assert.equal(await short, "done");
  await assert.rejects(long, (err) => codeOf(err) === "Canceled");
  await assert.rejects(tracker.track(none, async () => "late"), (err) => codeOf(err) === "Unavailable");
  const text = metrics.render({ records: 3, bytes: 4096 });
  assert.match(text, /^gantry_builds_started_total 3$/m);
  assert.match(text, /^gantry_builds_finished_total\{status="success"\} 1$/m);
  assert.match(text, /^gantry_builds_finished_total\{status="failure"\} 1$/m);
  assert.match(text, /^gantry_builds_finished_total\{status="canceled"\} 1$/m);
  assert.match(text, /^gantry_builds_running 0$/m);
  assert.match(text, /^gantry_build_duration_seconds_count 3$/m);
  assert.match(text, /^# TYPE gantry_cache_bytes gauge\ngantry_cache_bytes 4096$/m);
});

test("drain with nothing running returns at once", async () => {
  const tracker = new BuildTracker(new DaemonMetrics());
  const started = Date.now();
  assert.equal(await tracker.drain(10_000), 0);
  assert.ok(Date.now() - started < 5000, "the 10 s grace was not waited out");
  assert.equal(tracker.accepting, false);
});
