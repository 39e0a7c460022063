import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { isInvalidArgument } from "../../../util/errors.js";
import { createShellLex } from "./shell-lex.js";
import { sharedPath } from "../../../util/testing/shared-path.js";

const DATA = sharedPath("conformance/upstream/shell") + "/";
const BASE_ENV = { PWD: "/home", SHELL: "bash", KOREAN: "한국어", NULL: "" };

interface EnvVarCase { line: number; input: string; expected: string }

function envVarCases(): EnvVarCase[] {
  const cases: EnvVarCase[] = [];
  readFileSync(DATA + "envVarTest", "utf8").split("\n").forEach((raw, i) => {
    if (raw.startsWith("#") || raw.trim() === "") return;
    const cols = raw.trim().split("|");
    assert.equal(cols.length, 3, `envVarTest line ${i + 1} has three columns`);
    const platform = cols[0].trim();
    assert.ok(["A", "U", "W"].includes(platform), `envVarTest line ${i + 1} platform`);
    if (platform === "W") return;
    cases.push({ line: i + 1, input: cols[1].trim(), expected: cols[2].trim() });
  });
  return cases;
}

void test("envVarTest: every unix vector, with a record and with a Map", () => {
  const lex = createShellLex("\\");
  const cases = envVarCases();
  assert.equal(cases.length, 228);
  for (const env of [BASE_ENV, new Map(Object.entries(BASE_ENV))]) {
    for (const c of cases) {
      const where = `line ${c.line}: ${c.input}`;
      if (c.expected === "error") {
        assert.throws(() => lex.processWord(c.input, env), (e: unknown) => isInvalidArgument(e), where);
      } else {
        assert.equal(lex.processWord(c.input, env), c.expected, where);
      }
    }
  }
});

void test("wordsTest: every vector, word splitting after expansion", () => {
  const lex = createShellLex("\\");
  const env = new Map<string, string>();
  let count = 0;
  readFileSync(DATA + "wordsTest", "utf8").split("\n").forEach((line, i) => {
    if (line.startsWith("#") || line === "") return;
    if (line.startsWith("ENV ")) {
      const assignment = line.slice(3).replace(/^ +/, "");
      const eq = assignment.indexOf("=");
      env.set(assignment.slice(0, eq), assignment.slice(eq + 1));
      return;
    }
    const cols = line.split("|");
    assert.equal(cols.length, 2, `wordsTest line ${i + 1}`);
    const expected = cols[1].replace(/^ +/, "").split(",");
    let result: string[];
    try {
      result = lex.processWords(cols[0].trim(), env);
    } catch {
      result = ["error"];
    }
    assert.deepEqual(result, expected, `wordsTest line ${i + 1}: ${cols[0]}`);
    count++;
  });
  assert.equal(count, 24);
});

void test("mandatory variables report upstream's messages", () => {
  const lex = createShellLex();
  assert.equal(lex.processWord("${VAR:?message here$ARG}", { VAR: "plain", ARG: "x" }), "plain");
  assert.throws(() => lex.processWord("${VAR:?message here$ARG}", { VAR: "", ARG: "x" }), /VAR: message herex/);
  assert.throws(() => lex.processWord("${VAR?message here$ARG}", { ARG: "x" }), /VAR: message herex/);
  assert.equal(lex.processWord("${VAR?message}", { VAR: "" }), "");
  assert.throws(() => lex.processWord("${UNSET:?must_be_set}", {}),
    { message: "failed to process \"${UNSET:?must_be_set}\": UNSET: must_be_set" });
  assert.throws(() => lex.processWord("${x:?}", {}), { message: "failed to process \"${x:?}\": x: is not allowed to be unset" });
  assert.throws(() => lex.processWord("${x:?}", { x: "" }), { message: "failed to process \"${x:?}\": x: is not allowed to be empty" });
});

interface MatchCase { input: string; env: Record<string, string>; expected?: string; matched?: string[]; unmatched?: string[] }

const MATCH_CASES: MatchCase[] = [
  { input: "x ${UNUSED}", env: { DUMMY: "d" }, expected: "x ", unmatched: ["UNUSED"] },
  { input: "${FOO-aaa} ${BAR-bbb} ${BAZ-ccc}", env: { FOO: "xxx", BAR: "" }, expected: "xxx  ccc", matched: ["FOO", "BAR"], unmatched: ["BAZ"] },
  { input: "${FOO:-aaa} ${BAR:-bbb} ${BAZ:-ccc}", env: { FOO: "xxx", BAR: "" }, expected: "xxx bbb ccc", matched: ["FOO", "BAR"], unmatched: ["BAZ"] },
  { input: "${FOO+aaa} ${BAR+bbb} ${BAZ+ccc}", env: { FOO: "xxx", BAR: "" }, expected: "aaa bbb ", matched: ["FOO", "BAR"], unmatched: ["BAZ"] },
  { input: "${FOO:+aaa} ${BAR:+bbb} ${BAZ:+ccc}", env: { FOO: "xxx", BAR: "" }, expected: "aaa  ", matched: ["FOO", "BAR"], unmatched: ["BAZ"] },
  { input: "${BAZ?ccc}", env: {} },
  { input: "${BAR:?bbb}", env: { BAR: "" } },
  { input: "${FOO=aaa}", env: { FOO: "x" } },
  { input: "${FOO=}", env: {} },
  { input: "${FOO#()[]{\\}^$.\\*\\?|\\\\}", env: { FOO: "()[]{}^$.*?|\\x" }, expected: "x", matched: ["FOO"] },
  { input: "${FOO%%\\**}", env: { FOO: "xx**" }, expected: "xx", matched: ["FOO"] },
  { input: "${FOO#*x*y}", env: { FOO: "xxyy" }, expected: "y", matched: ["FOO"] },
  { input: "${FOO#*}", env: { FOO: "xxyy" }, expected: "xxyy", matched: ["FOO"] },
  { input: "${FOO#$BAR}", env: { FOO: "xxyy", BAR: "x" }, expected: "xyy", matched: ["FOO", "BAR"] },
  { input: "${FOO##*x}", env: { FOO: "xxyy" }, expected: "yy", matched: ["FOO"] },
  { input: "${FOO#?\\?}", env: { FOO: "???y" }, expected: "?y", matched: ["FOO"] },
  { input: "${ABC:-.}${FOO%x}${ABC:-.}", env: { FOO: "xxyy" }, expected: ".xxyy.", matched: ["FOO"], unmatched: ["ABC"] },
  { input: "${FOO%%\\**\\*}", env: { FOO: "a***yy*" }, expected: "a", matched: ["FOO"] },
  { input: "${FOO%y*}", env: { FOO: "xxyy" }, expected: "xxy", matched: ["FOO"] },
  { input: "${FOO%%y*}", env: { FOO: "xxyy" }, expected: "xx", matched: ["FOO"] },
  { input: "${FOO:#}", env: {} },
  { input: "${FOO:%%}", env: {} },
  { input: "${FOO/$NEEDLE/.} - ${FOO//$NEEDLE/.}", env: { FOO: "/foo*/*/*.txt", NEEDLE: "\\*/" }, expected: "/foo.*/*.txt - /foo..*.txt", matched: ["FOO", "NEEDLE"] },
  { input: "${FOO/$NEEDLE/} - ${FOO//$NEEDLE/}", env: { FOO: "/tmp/tmp/bar.txt", NEEDLE: "/tmp" }, expected: "/tmp/bar.txt - /bar.txt", matched: ["FOO", "NEEDLE"] },
  { input: "${FOO/$NEEDLE/$R} - ${FOO//$NEEDLE/$R}", env: { FOO: "/a/foo/b/c.txt", NEEDLE: "/?/", R: "/" }, expected: "/foo/b/c.txt - /foo/c.txt", matched: ["FOO", "NEEDLE", "R"] },
  { input: "${FOO//\\//\\/}", env: { FOO: "/tmp/foo.txt" }, expected: "\\/tmp\\/foo.txt", matched: ["FOO"] },
  { input: "${FOO/$BAR/ww}", env: { FOO: "xxyy", BAR: "" }, expected: "wwxxyy", matched: ["FOO", "BAR"] },
  { input: "${FOO//ww}", env: { FOO: "xxyy" } },
  { input: "${FOO///}", env: { FOO: "xxyy" }, expected: "xxyy", matched: ["FOO"] },
  { input: "${FOO///}", env: {}, expected: "", unmatched: ["FOO"] },
  { input: "${FOO/x$/y}", env: { FOO: "x$" }, expected: "y", matched: ["FOO"] },
];

void test("processWordWithMatches: results and which variables were used or unset", () => {
  const lex = createShellLex();
  for (const c of MATCH_CASES) {
    if (c.expected === undefined) {
      assert.throws(() => lex.processWordWithMatches(c.input, c.env), (e: unknown) => isInvalidArgument(e), c.input);
      continue;
    }
    const r = lex.processWordWithMatches(c.input, c.env);
    assert.equal(r.result, c.expected, c.input);
    assert.deepEqual([...r.matched].sort(), [...(c.matched ?? [])].sort(), `${c.input} matched`);
    assert.deepEqual([...r.unmatched].sort(), [...(c.unmatched ?? [])].sort(), `${c.input} unmatched`);
  }
});

void test("release file name pattern with a nested alternative", () => {
  const lex = createShellLex();
  const word = "something-${VERSION}.${TARGETOS}-${TARGETARCH}${TARGETVARIANT:+-${TARGETVARIANT}}.tar.gz";
  const base = { VERSION: "v1.2.3", TARGETOS: "linux" };
  assert.equal(lex.processWord(word, { ...base, TARGETARCH: "arm", TARGETVARIANT: "v7" }), "something-v1.2.3.linux-arm-v7.tar.gz");
  assert.equal(lex.processWord(word, { ...base, TARGETARCH: "arm64", TARGETVARIANT: "" }), "something-v1.2.3.linux-arm64.tar.gz");
  assert.equal(lex.processWord(word, { ...base, TARGETARCH: "arm64" }), "something-v1.2.3.linux-arm64.tar.gz");
});

void test("backtick escape token", () => {
  const lex = createShellLex("`");
  assert.equal(lex.processWord("a`$PWD\\x", { PWD: "/home" }), "a$PWD\\x");
  assert.equal(lex.processWord("\"a`\"b\"", {}), "a\"b");
  assert.deepEqual(lex.processWords("a` b c", {}), ["a b", "c"]);
  assert.throws(() => createShellLex("x"), /invalid escape token/);
});

void test("options: raw quotes, raw escapes, skip unset variables, skip quotes", () => {
  const keep = createShellLex("\\", { rawQuotes: true, skipUnsetEnv: true });
  assert.equal(keep.processWord("'a b' \"$X\" $Y ${Z} ${Z:-d} ${Z/a/b}", { X: "x" }), "'a b' \"x\" $Y ${Z} ${Z:-d} ${Z/a/b}");
  assert.deepEqual(keep.processWords("<<'EOF' x", {}), ["<<'EOF'", "x"]);
  const rawEsc = createShellLex("\\", { rawEscapes: true });
  assert.equal(rawEsc.processWord("a\\ b", {}), "a\\ b");
  const noQuotes = createShellLex("\\", { skipProcessQuotes: true });
  assert.deepEqual(noQuotes.processWords("'a b' c", {}), ["'a", "b'", "c"]);
});

void test("word splitting keeps quoted empty text out and heredoc markers together", () => {
  const lex = createShellLex();
  assert.deepEqual(lex.processWords("a \"\" b", {}), ["a", "b"]);
  assert.deepEqual(lex.processWords("RUN <<  EOF  > foo", {}), ["RUN", "<<  EOF", ">", "foo"]);
  assert.deepEqual(lex.processWords("a${X:-b c}d", {}), ["ab", "cd"]);
  assert.deepEqual(lex.processWords("x${E}y", { E: "" }), ["xy"]);
});

void test("syntax errors are InvalidArgument with the word quoted as Go does", () => {
  const lex = createShellLex();
  assert.throws(() => lex.processWord("he${PWD", {}), { message: "failed to process \"he${PWD\": syntax error: missing '}'" });
  assert.throws(() => lex.processWord("${}", {}), { message: "failed to process \"${}\": syntax error: bad substitution" });
  assert.throws(() => lex.processWord("\"a\tb", {}),
    { message: "failed to process \"\\\"a\\tb\": unexpected end of statement while looking for matching double-quote" });
  assert.throws(() => lex.processWord("${X#\\x}", { X: "a" }), /invalid pattern \(\\x\) in substitution: invalid escape '\\x'/);
});
