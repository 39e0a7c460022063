import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { buildResolvConf, isLoopbackAddress } from "./resolv-conf.js";

describe("buildResolvConf", () => {
  const host = "# generated\nnameserver 127.0.0.53\nnameserver 10.0.0.2\nsearch a.example\nsearch b.example c.example\n" +
    "options ndots:2\noptions edns0\nsortlist 10.0.0.0\nnameserver bogus\n";

  it("drops loopback nameservers without the host's network", () => {
    assert.equal(buildResolvConf(host, "none"),
      "nameserver 10.0.0.2\nsearch b.example c.example\noptions ndots:2 edns0\nsortlist 10.0.0.0\n");
  });

  it("keeps loopback nameservers with the host's network", () => {
    assert.match(buildResolvConf(host, "host"), /^nameserver 127\.0\.0\.53\nnameserver 10\.0\.0\.2\n/);
    assert.match(buildResolvConf(host, "sandbox"), /^nameserver 127\.0\.0\.53\n/);
  });

  it("falls back to the public defaults when no nameserver is left", () => {
    const expected = "nameserver 8.8.8.8\nnameserver 8.8.4.4\nnameserver 2001:4860:4860::8888\nnameserver 2001:4860:4860::8844\n";
    assert.equal(buildResolvConf("nameserver 127.0.0.1\nnameserver ::1\n", "none"), expected);
    assert.equal(buildResolvConf(undefined, "host"), expected);
  });

  it("recognises loopback addresses in any spelling", () => {
    for (const a of ["127.0.0.1", "127.9.8.7", "::1", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1"]) assert.ok(isLoopbackAddress(a), a);
    for (const a of ["10.0.0.1", "::2", "fe80::1%eth0", "::ffff:10.0.0.1", "nonsense"]) assert.ok(!isLoopbackAddress(a), a);
  });
});
