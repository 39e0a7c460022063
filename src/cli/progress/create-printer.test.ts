import { test } from "node:test";
import assert from "node:assert/strict";
import { GantryError } from "../../util/errors.js";
import { createPrinter, PROGRESS_MODES } from "./create-printer.js";
import { PlainPrinter } from "./plain-printer.js";
import { RawJsonPrinter } from "./rawjson-printer.js";
import { CapturingStream } from "./test-events.js";
import { TtyPrinter } from "./tty-printer.js";

function stream(isTTY: boolean): NodeJS.WriteStream {
  const s = new CapturingStream();
  s.isTTY = isTTY;
  return s as unknown as NodeJS.WriteStream;
}

test("each mode picks its printer; auto follows whether the stream is a terminal", () => {
  assert.deepEqual(PROGRESS_MODES, ["auto", "tty", "plain", "rawjson", "quiet"]);
  assert.equal(createPrinter("quiet", stream(true)), undefined);
  assert.ok(createPrinter("plain", stream(true)) instanceof PlainPrinter);
  assert.ok(createPrinter("plain", stream(false)) instanceof PlainPrinter);
  assert.ok(createPrinter("rawjson", stream(true)) instanceof RawJsonPrinter);
  assert.ok(createPrinter("auto", stream(false)) instanceof PlainPrinter);
  const tty = createPrinter("auto", stream(true));
  assert.ok(tty instanceof TtyPrinter);
  tty.finish();
  const forced = createPrinter("tty", stream(true));
  assert.ok(forced instanceof TtyPrinter);
  forced.finish();
});

test("tty mode on something that is not a terminal is an InvalidArgument", () => {
  assert.throws(() => createPrinter("tty", stream(false)), (e: unknown) => e instanceof GantryError && e.code === "InvalidArgument" && /--progress tty/.test(e.message));
});
