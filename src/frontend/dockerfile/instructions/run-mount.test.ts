import { test } from "node:test";
import assert from "node:assert/strict";
import { parseRunMount } from "./run-mount.js";

const id = (w: string): string => w;

test("defaults: bind is read-only, cache and tmpfs are writable", () => {
  assert.equal(parseRunMount("target=/t", id).readonly, true);
  assert.equal(parseRunMount("type=cache,target=/t", id).readonly, false);
  assert.equal(parseRunMount("type=tmpfs,target=/t,size=64m", id).sizeLimit, 64 * 1024 * 1024);
  assert.equal(parseRunMount("target=/t,rw", id).readonly, false);
});

test("secret, ssh and cache options", () => {
  const s = parseRunMount("type=secret,id=tok,target=/etc/t,mode=0440,uid=1000,required", id);
  assert.deepEqual([s.id, s.target, s.mode, s.uid, s.required], ["tok", "/etc/t", 0o440, 1000, true]);
  const c = parseRunMount("type=cache,id=go,target=/root/.cache,sharing=locked,from=base,source=/x", id);
  assert.deepEqual([c.id, c.sharing, c.from, c.source], ["go", "locked", "base", "/x"]);
  assert.equal(parseRunMount("type=secret,id=e,env=TOKEN", id).env, "TOKEN");
});

test("invalid mounts are rejected with upstream's messages", () => {
  assert.throws(() => parseRunMount("type=bind,target=/t,mode=0700", id), /mode not allowed for "bind" type mounts/);
  assert.throws(() => parseRunMount("type=cahce,target=/t", id), /unsupported mount type "cahce" \(did you mean cache\?\)/);
  assert.throws(() => parseRunMount("target=/t,sharing=locked", id), /invalid cache sharing set for bind mount/);
  assert.throws(() => parseRunMount("type=secret,from=x,id=a", id), /secret mount should not have a from/);
  assert.throws(() => parseRunMount("target=/t,bogus=1", id), /unexpected key 'bogus'/);
});

test("values are expanded only at dispatch", () => {
  assert.equal(parseRunMount("type=cache,target=$T").target, "");
  assert.equal(parseRunMount("type=cache,target=$T", (w) => w.replace("$T", "/x")).target, "/x");
});
