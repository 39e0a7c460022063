import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { buildHostsFile } from "./hosts-file.js";

describe("buildHostsFile", () => {
  it("names the default sandbox hostname", () => {
    assert.equal(buildHostsFile(undefined), "127.0.0.1\tlocalhost buildkitsandbox\n::1\tlocalhost ip6-localhost ip6-loopback\n");
  });

  it("uses the op's hostname and appends extra hosts in order", () => {
    assert.equal(buildHostsFile("box", [{ host: "a.test", ip: "10.0.0.1" }, { host: "b.test", ip: "::2" }]),
      "127.0.0.1\tlocalhost box\n::1\tlocalhost ip6-localhost ip6-loopback\n10.0.0.1\ta.test\n::2\tb.test\n");
  });
});
