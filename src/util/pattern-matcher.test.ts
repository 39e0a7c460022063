import { test } from "node:test";
import assert from "node:assert/strict";
import { posix } from "node:path";
import { createPatternMatcher, matchGlob, readDockerignore, type MatchInfo } from "./pattern-matcher.js";
import { GantryError } from "./errors.js";

/** Upstream's package-level `Matches`: cleans the path and never matches `.`. */
function legacyMatches(file: string, patterns: string[]): boolean {
  const pm = createPatternMatcher(patterns);
  const clean = posix.normalize(file).replace(/(.)\/$/, "$1");
  if (clean === ".") return false;
  return pm.matches(clean);
}

test("simple wildcard, exclusion order and folder exclusions", () => {
  assert.equal(legacyMatches("fileutils.go", ["*"]), true);
  assert.equal(legacyMatches("fileutils.go", ["*.go"]), true);
  assert.equal(legacyMatches("fileutils.go", ["!fileutils.go", "*.go"]), true);
  assert.equal(legacyMatches("docs/README.md", ["docs", "!docs/README.md"]), false);
  assert.equal(legacyMatches("docs/README.md", ["docs/", "!docs/README.md"]), false);
  assert.equal(legacyMatches("docs/README.md", ["docs/*", "!docs/README.md"]), false);
  assert.equal(legacyMatches("fileutils.go", ["*.go", "!fileutils.go"]), false);
  assert.equal(legacyMatches(".", ["*.go"]), false);
  assert.equal(legacyMatches("/any/path/there", []), false);
});

test("bad patterns are InvalidArgument errors naming the pattern", () => {
  for (const p of ["!", "[", "[^", "a[", "\\", "[]a]", "[-]", "[x-]", "[-x]", "[a-b-c]", "[^bc"]) {
    assert.throws(() => createPatternMatcher([p]), (err: unknown) => {
      assert.ok(err instanceof GantryError);
      assert.equal(err.code, "InvalidArgument");
      assert.ok(err.message.includes(JSON.stringify(p)), err.message);
      return true;
    }, p);
  }
  // Passes Go's syntax check but is not a valid regexp (reversed range): rejected up front here.
  assert.throws(() => createPatternMatcher(["[Local-Only]/"]), /Local-Only/);
});

const cases: Array<[string, string, boolean]> = [
  ["**", "file", true], ["**", "file/", true], ["**/", "file", true], ["**/", "file/", true],
  ["**", "/", true], ["**/", "/", true], ["**", "dir/file", true], ["**/", "dir/file", true],
  ["**", "dir/file/", true], ["**/", "dir/file/", true], ["**/**", "dir/file", true], ["**/**", "dir/file/", true],
  ["dir/**", "dir/file", true], ["dir/**", "dir/file/", true], ["dir/**", "dir/dir2/file", true],
  ["dir/**", "dir/dir2/file/", true], ["**/dir", "dir", true], ["**/dir", "dir/file", true],
  ["**/dir2/*", "dir/dir2/file", true], ["**/dir2/*", "dir/dir2/file/", true],
  ["**/dir2/**", "dir/dir2/dir3/file", true], ["**/dir2/**", "dir/dir2/dir3/file/", true],
  ["**file", "file", true], ["**file", "dir/file", true], ["**/file", "dir/file", true],
  ["**file", "dir/dir/file", true], ["**/file", "dir/dir/file", true], ["**/file*", "dir/dir/file", true],
  ["**/file*", "dir/dir/file.txt", true], ["**/file*txt", "dir/dir/file.txt", true],
  ["**/file*.txt", "dir/dir/file.txt", true], ["**/file*.txt*", "dir/dir/file.txt", true],
  ["**/**/*.txt", "dir/dir/file.txt", true], ["**/**/*.txt2", "dir/dir/file.txt", false],
  ["**/*.txt", "file.txt", true], ["**/**/*.txt", "file.txt", true], ["a**/*.txt", "a/file.txt", true],
  ["a**/*.txt", "a/dir/file.txt", true], ["a**/*.txt", "a/dir/dir/file.txt", true],
  ["a/*.txt", "a/dir/file.txt", false], ["a/*.txt", "a/file.txt", true], ["a/*.txt**", "a/file.txt", true],
  ["a[b-d]e", "ae", false], ["a[b-d]e", "ace", true], ["a[b-d]e", "aae", false], ["a[^b-d]e", "aze", true],
  [".*", ".foo", true], [".*", "foo", false], ["abc.def", "abcdef", false], ["abc.def", "abc.def", true],
  ["abc.def", "abcZdef", false], ["abc?def", "abcZdef", true], ["abc?def", "abcdef", false],
  ["a\\\\", "a\\", true], ["**/foo/bar", "foo/bar", true], ["**/foo/bar", "dir/foo/bar", true],
  ["**/foo/bar", "dir/dir2/foo/bar", true], ["abc/**", "abc", false], ["abc/**", "abc/def", true],
  ["abc/**", "abc/def/ghi", true], ["**/.foo", ".foo", true], ["**/.foo", "bar.foo", false],
  ["a(b)c/def", "a(b)c/def", true], ["a(b)c/def", "a(b)c/xyz", false], ["a.|)$(}+{bc", "a.|)$(}+{bc", true],
  ["dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", true],
  ["dist/*.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", true],
  ["a\\*b", "a*b", true],
];
const multiCases: Array<[string[], string, boolean]> = [
  [["**", "!util/docker/web"], "util/docker/web/foo", false],
  [["**", "!util/docker/web", "util/docker/web/foo"], "util/docker/web/foo", true],
  [["**", "!dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl"], "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", false],
  [["**", "!dist/*.whl"], "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", false],
];
const allCases: Array<[string[], string, boolean]> = [...cases.map(([p, t, r]): [string[], string, boolean] => [[p], t, r]), ...multiCases];

test("matchesOrParentMatches table", () => {
  for (const [patterns, text, want] of allCases) {
    assert.equal(createPatternMatcher(patterns).matchesOrParentMatches(text), want, `${JSON.stringify(patterns)} ${text}`);
  }
});

test("matchesUsingParentResults walking from the top gives the same answers", () => {
  for (const [patterns, text, want] of allCases) {
    const pm = createPatternMatcher(patterns);
    const dir = text.slice(0, text.lastIndexOf("/") + 1).replace(/\/+$/, "");
    let info: MatchInfo | undefined;
    if (dir !== "") {
      const parts = dir.split("/");
      for (let i = 1; i <= parts.length; i++) info = pm.matchesUsingParentResults(parts.slice(0, i).join("/"), info).info;
    }
    assert.equal(pm.matchesUsingParentResults(text, info).matched, want, `${JSON.stringify(patterns)} ${text}`);
    // With no parent context it must check the parents itself.
    assert.equal(pm.matchesUsingParentResults(text).matched, want, `no context: ${JSON.stringify(patterns)} ${text}`);
  }
});

test("pattern cleaning: empty dropped, whitespace trimmed, exclusions detected", () => {
  assert.deepEqual(createPatternMatcher(["docs", "config", ""]).patterns, ["docs", "config"]);
  assert.equal(createPatternMatcher(["docs", "  !docs/README.md"]).hasExclusions, true);
  assert.equal(createPatternMatcher(["docs", "!docs/README.md  "]).hasExclusions, true);
  assert.equal(createPatternMatcher(["docs"]).hasExclusions, false);
  assert.deepEqual(createPatternMatcher(["./a/../b/", "!c//d/."]).patterns, ["b", "!c/d"]);
});

// Go's filepath.Match table, through the legacy Matches entry point as upstream tests it.
const globCases: Array<[string, string, boolean, boolean]> = [
  ["abc", "abc", true, false], ["*", "abc", true, false], ["*c", "abc", true, false], ["a*", "a", true, false],
  ["a*", "abc", true, false], ["a*", "ab/c", true, false], ["a*/b", "abc/b", true, false], ["a*/b", "a/c/b", false, false],
  ["a*b*c*d*e*/f", "axbxcxdxe/f", true, false], ["a*b*c*d*e*/f", "axbxcxdxexxx/f", true, false],
  ["a*b*c*d*e*/f", "axbxcxdxe/xxx/f", false, false], ["a*b*c*d*e*/f", "axbxcxdxexxx/fff", false, false],
  ["a*b?c*x", "abxbbxdbxebxczzx", true, false], ["a*b?c*x", "abxbbxdbxebxczzy", false, false],
  ["ab[c]", "abc", true, false], ["ab[b-d]", "abc", true, false], ["ab[e-g]", "abc", false, false],
  ["ab[^c]", "abc", false, false], ["ab[^b-d]", "abc", false, false], ["ab[^e-g]", "abc", true, false],
  ["a\\*b", "a*b", true, false], ["a\\*b", "ab", false, false], ["a?b", "a☺b", true, false],
  ["a[^a]b", "a☺b", true, false], ["a???b", "a☺b", false, false], ["a[^a][^a][^a]b", "a☺b", false, false],
  ["[a-ζ]*", "α", true, false], ["*[a-ζ]", "A", false, false], ["a?b", "a/b", false, false], ["a*b", "a/b", false, false],
  ["[\\]a]", "]", true, false], ["[\\-]", "-", true, false], ["[x\\-]", "x", true, false], ["[x\\-]", "-", true, false],
  ["[x\\-]", "z", false, false], ["[\\-x]", "x", true, false], ["[\\-x]", "-", true, false], ["[\\-x]", "a", false, false],
  ["[]a]", "]", false, true], ["[-]", "-", false, true], ["[x-]", "x", false, true], ["[x-]", "-", false, true],
  ["[x-]", "z", false, true], ["[-x]", "x", false, true], ["[-x]", "-", false, true], ["[-x]", "a", false, true],
  ["\\", "a", false, true], ["[a-b-c]", "a", false, true], ["[", "a", false, true], ["[^", "a", false, true],
  ["[^bc", "a", false, true], ["a[", "a", false, true], ["a[", "ab", false, true], ["*x", "xxx", true, false],
];

test("Go filepath.Match table through the matcher", () => {
  for (const [pattern, s, want, bad] of globCases) {
    if (bad) {
      assert.throws(() => legacyMatches(s, [pattern]), GantryError, pattern);
      continue;
    }
    assert.equal(legacyMatches(s, [pattern]), want, `${pattern} ${s}`);
  }
});

test("matchGlob is Go's filepath.Match", () => {
  for (const [pattern, s, want, bad] of globCases) {
    if (bad) assert.throws(() => matchGlob(pattern, s), GantryError, pattern);
    // The matcher also tries parents ("ab" for "ab/c"); a bare glob does not.
    else assert.equal(matchGlob(pattern, s), pattern === "a*" && s === "ab/c" ? false : want, `${pattern} ${s}`);
  }
  assert.equal(matchGlob("*.txt", "dir/a.txt"), false);
  assert.equal(matchGlob("*/*.txt", "dir/a.txt"), true);
  // A malformed tail is reported even when the head already fails.
  assert.throws(() => matchGlob("x*[", "abc"), GantryError);
});

test("match kinds follow upstream's classification", () => {
  // `**file` is a plain suffix test, so it matches names ending in "file" too.
  assert.equal(createPatternMatcher(["**file"]).matchesOrParentMatches("dir/myfile"), true);
  // `dir/**` is a prefix test and does not match the directory itself.
  assert.equal(createPatternMatcher(["dir/**"]).matchesOrParentMatches("dir"), false);
  assert.equal(createPatternMatcher(["dir/**"]).matchesOrParentMatches("dirx/a"), false);
  // Regexp metacharacters outside Go's glob syntax are literal.
  assert.equal(createPatternMatcher(["a+b*"]).matchesOrParentMatches("a+bc"), true);
  assert.equal(createPatternMatcher(["a+b*"]).matchesOrParentMatches("aabc"), false);
  assert.equal(createPatternMatcher(["x[*]"]).matchesOrParentMatches("x*"), true);
});

test("matches (legacy) only checks the parent prefix as long as the pattern", () => {
  const pm = createPatternMatcher(["a/b"]);
  assert.equal(pm.matches("a/b/c/d"), true);
  assert.equal(createPatternMatcher(["b"]).matches("a/b/c"), false);
  assert.equal(createPatternMatcher(["b"]).matchesOrParentMatches("a/b/c"), false);
  assert.equal(createPatternMatcher(["a"]).matchesOrParentMatches("a/b/c"), true);
  assert.equal(createPatternMatcher(["*/b"]).matches("a/b/c"), true);
});

test("dockerignore-like rules: directory exclusion with a re-included file", () => {
  const pm = createPatternMatcher(readDockerignore(
    "# comment line\n*.log\n!keep.log\nlogs\n!logs/keep.txt\n**/*.tmp\nbuild/\ndocs/*\n!docs/readme.md\n.hidden\n"));
  const m = (p: string): boolean => pm.matchesOrParentMatches(p);
  assert.equal(m("a.log"), true);
  assert.equal(m("keep.log"), false);
  assert.equal(m("logs/x.txt"), true);
  assert.equal(m("logs/keep.txt"), false);
  assert.equal(m("src/a/b/x.tmp"), true);
  assert.equal(m("build/out/bin"), true);
  assert.equal(m("docs/other.md"), true);
  assert.equal(m("docs/readme.md"), false);
  assert.equal(m("docs"), false);
  assert.equal(m(".hidden"), true);
  assert.equal(m("src/main.c"), false);
});

test("readDockerignore", () => {
  assert.deepEqual(readDockerignore(""), []);
  const content = "test1\n/test2\n/a/file/here\n\nlastfile\n# this is a comment\n! /inverted/abs/path\n!\n! ";
  assert.deepEqual(readDockerignore(content),
    ["test1", "test2", "a/file/here", "lastfile", "!inverted/abs/path", "!", "!"]);
  assert.deepEqual(readDockerignore("\uFEFF#c\r\n  a/../b/  \r\n  # not a comment\n/\n"), ["b", "# not a comment", "/"]);
  assert.deepEqual(readDockerignore("\uFEFFx\n\uFEFFy"), ["x", "\uFEFFy"]);
});
