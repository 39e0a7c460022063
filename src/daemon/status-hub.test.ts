import { test, mock } from "node:test";
import assert from "node:assert/strict";
import type { ProgressEvent } from "../util/progress-event.js";
import { StatusHub } from "./status-hub.js";

function log(msg: string): ProgressEvent {
  return { type: "log", vertex: "sha256:a", stream: 1, data: new TextEncoder().encode(msg), timestamp: new Date(0) };
}

test("the end of a build flushes a subscriber's pending batch without waiting out the batch tick", async () => {
  // With timers mocked and never advanced, a subscriber that waited for its batch timer would never finish.
  mock.timers.enable({ apis: ["setTimeout"] });
  try {
    const hub = new StatusHub();
    const { sink, end } = hub.open("ref1");
    sink(log("first"));
    const batches: ProgressEvent[][] = [];
    const reading = (async () => {
      for await (const b of hub.subscribe("ref1")) batches.push(b);
    })();
    await new Promise((r) => setImmediate(r));
    sink(log("second"));
    sink(log("third"));
    end();
    await reading;
    assert.deepEqual(batches.map((b) => b.length), [1, 2], "the replayed event, then the last two in one batch");
  } finally {
    mock.timers.reset();
  }
});

test("events that arrive while a build runs are batched per tick", async () => {
  mock.timers.enable({ apis: ["setTimeout"] });
  try {
    const hub = new StatusHub();
    const { sink, end } = hub.open("ref2");
    const batches: ProgressEvent[][] = [];
    const reading = (async () => {
      for await (const b of hub.subscribe("ref2")) batches.push(b);
    })();
    await new Promise((r) => setImmediate(r));
    sink(log("a"));
    await new Promise((r) => setImmediate(r));
    sink(log("b"));
    sink(log("c"));
    await new Promise((r) => setImmediate(r));
    assert.equal(batches.length, 0, "nothing is sent before the tick passes");
    mock.timers.tick(50);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(batches.map((b) => b.length), [3]);
    end();
    await reading;
  } finally {
    mock.timers.reset();
  }
});
