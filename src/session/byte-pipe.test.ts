import { test } from "node:test";
import assert from "node:assert/strict";
import { createBytePipe } from "./byte-pipe.js";
import { Channel } from "./testing/memory-pipe.js";

test("the duplex reads what arrives and its writes come out in order, half-close ending the output", async () => {
  const incoming = new Channel<Uint8Array>();
  const pipe = createBytePipe(incoming);
  incoming.push(Buffer.from("ab"));
  incoming.push(new Uint8Array(0));
  incoming.push(Buffer.from("c"));
  incoming.end();
  const read: Buffer[] = [];
  for await (const chunk of pipe.duplex.iterator({ destroyOnReturn: false })) read.push(chunk as Buffer);
  assert.equal(Buffer.concat(read).toString(), "abc");

  pipe.duplex.write("x");
  pipe.duplex.write("yz");
  pipe.duplex.end();
  const out: string[] = [];
  for await (const chunk of pipe.outgoing) out.push(Buffer.from(chunk).toString());
  assert.deepEqual(out, ["x", "yz"]);
});

test("a write completes only when the consumer takes it, and stopping early destroys the duplex", async () => {
  const pipe = createBytePipe(new Channel<Uint8Array>());
  const state: { written: boolean | Error } = { written: false };
  pipe.duplex.on("error", () => undefined);
  pipe.duplex.write("1", (err) => (state.written = err ?? true));
  const it = pipe.outgoing[Symbol.asyncIterator]();
  const first = await it.next();
  assert.equal(Buffer.from(first.value as Uint8Array).toString(), "1");
  await new Promise((r) => setImmediate(r));
  assert.equal(state.written, false);
  await it.return?.();
  assert.equal(pipe.duplex.destroyed, true);
  await new Promise((r) => setImmediate(r));
  const after: unknown = state.written;
  assert.ok(after instanceof Error, "the write that never left fails");
});
