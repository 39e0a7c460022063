import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { metadataFileContent, writeMetadataFile } from "./metadata-file.js";

const DIGEST = "sha256:19ffeab6f8bc9293ac2c3fdf94ebe28396254c993aea0b5a542cfb02e0883fa3";
const CONFIG = "sha256:2937f66a9722f7f4a2df583de2f8cb97fc9196059a410e7f00072fc918930e66";
const DESCRIPTOR_JSON =
  `{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"${DIGEST}","size":506,` +
  `"annotations":{"org.opencontainers.image.created":"2022-02-08T19:21:03Z"}}`;
const b64 = (s: string): string => Buffer.from(s).toString("base64");

// The cases of upstream's TestWriteMetadataFile (cmd/buildctl/buildctl_test.go).
const CASES: { name: string; response: Record<string, string>; expected: Record<string, unknown> }[] = [
  {
    name: "common",
    response: { "containerimage.config.digest": CONFIG, "containerimage.descriptor": b64(DESCRIPTOR_JSON), "containerimage.digest": DIGEST },
    expected: {
      "containerimage.config.digest": CONFIG,
      "containerimage.descriptor": {
        annotations: { "org.opencontainers.image.created": "2022-02-08T19:21:03Z" },
        digest: DIGEST,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        size: 506,
      },
      "containerimage.digest": DIGEST,
    },
  },
  { name: "b64json", response: { key: "MTI=", "containerimage.digest": DIGEST }, expected: { key: "MTI=", "containerimage.digest": DIGEST } },
  { name: "emptyjson", response: { key: "e30=", "containerimage.digest": DIGEST }, expected: { key: "e30=", "containerimage.digest": DIGEST } },
  { name: "invalidjson", response: { key: "W10=", "containerimage.digest": DIGEST }, expected: { key: "W10=", "containerimage.digest": DIGEST } },
  {
    name: "nullobject",
    response: { key: "eyJmb28iOm51bGwsImJhciI6ImJheiJ9", "containerimage.digest": DIGEST },
    expected: { key: { foo: null, bar: "baz" }, "containerimage.digest": DIGEST },
  },
];

for (const c of CASES) {
  test(`upstream case ${c.name}: base64 JSON objects are inlined, everything else stays a string`, () => {
    assert.deepEqual(JSON.parse(metadataFileContent(c.response)), c.expected);
  });
}

test("the text is Go's MarshalIndent: sorted keys, 2-space indent, inlined JSON in its own order", () => {
  const text = metadataFileContent({ "containerimage.digest": DIGEST, "containerimage.descriptor": b64(DESCRIPTOR_JSON), "containerimage.config.digest": CONFIG });
  assert.equal(
    text,
    [
      "{",
      `  "containerimage.config.digest": "${CONFIG}",`,
      `  "containerimage.descriptor": {`,
      `    "mediaType": "application/vnd.oci.image.manifest.v1+json",`,
      `    "digest": "${DIGEST}",`,
      `    "size": 506,`,
      `    "annotations": {`,
      `      "org.opencontainers.image.created": "2022-02-08T19:21:03Z"`,
      "    }",
      "  },",
      `  "containerimage.digest": "${DIGEST}"`,
      "}",
    ].join("\n"),
  );
});

test("inlined JSON keeps number spelling, empty containers and escapes; <>& are escaped like Go", () => {
  const raw = '{ "b": 1.50, "a": [], "c": {}, "s": "x\\"<y>&", "n": [1, {"z": true}] }';
  const text = metadataFileContent({ k: b64(raw), "image.name": "a<b>&c" });
  assert.equal(
    text,
    [
      "{",
      '  "image.name": "a\\u003cb\\u003e\\u0026c",',
      '  "k": {',
      '    "b": 1.50,',
      '    "a": [],',
      '    "c": {},',
      '    "s": "x\\"\\u003cy\\u003e\\u0026",',
      '    "n": [',
      "      1,",
      "      {",
      '        "z": true',
      "      }",
      "    ]",
      "  }",
      "}",
    ].join("\n"),
  );
});

test("an empty response is {} and non-base64 or empty strings stay strings", () => {
  assert.equal(metadataFileContent({}), "{}");
  assert.deepEqual(JSON.parse(metadataFileContent({ a: "", b: "not base64!", c: "e30" })), { a: "", b: "not base64!", c: "e30" });
});

test("writeMetadataFile writes the content atomically, leaving no temp file", async () => {
  const dir = await mkdtemp(join(tmpdir(), "gantry-md-"));
  try {
    const path = join(dir, "md.json");
    await writeMetadataFile(path, { "containerimage.digest": DIGEST });
    assert.equal(await readFile(path, "utf8"), `{\n  "containerimage.digest": "${DIGEST}"\n}`);
    assert.deepEqual(await readdir(dir), ["md.json"]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
