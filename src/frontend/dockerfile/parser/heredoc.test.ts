import { test } from "node:test";
import assert from "node:assert/strict";
import { chompHeredocContent, heredocsFromLine, parseHeredoc } from "./heredoc.js";
import type { Heredoc } from "./node.js";
import { parseDockerfile } from "./parser.js";

const doc = (name: string, content: string, extra: Partial<Heredoc> = {}): Heredoc =>
  ({ name, fileDescriptor: 0, expand: true, chomp: false, content, ...extra });

void test("heredoc bodies, names, quoting and descriptors", () => {
  const text = [
    "FROM alpine:3.6", "ENV NAME=me", "RUN ls", "USER <<INVALID", "INVALID",
    "RUN <<EMPTY", "EMPTY", "RUN 3<<EMPTY2", "EMPTY2", "RUN \"<<NOHEREDOC\"",
    "RUN <<INDENT", "\tfoo", "\tbar", "INDENT",
    "RUN <<-UNINDENT", "\tbaz", "\tquux", "\tUNINDENT",
    "RUN <<-'NOEXPAND'", "\tdon't expand $NAME", "NOEXPAND",
    "RUN <<COMMENT", "# internal comment", "echo hi # trailing", "COMMENT",
    "RUN --mount=type=cache,target=/foo <<MOUNT", "echo hello", "MOUNT",
    "COPY <<FILE1 <<FILE2 /dest", "content 1", "FILE1", "content 2", "FILE2",
    "COPY <<X <<Y /dest", "Y", "X", "X", "Y",
    "RUN <<COMPLEX python3", "print('hello world')", "COMPLEX",
    "RUN <<eo'f'", "echo foo", "eof",
    "RUN <<eo\\'f", "echo foo", "eo'f",
    "RUN <<'e'o\\'f", "echo foo", "eo'f",
    "RUN <<'one two'", "echo bar", "one two",
    "RUN <<$EOF", "$EOF",
    "RUN <<  EOF  > foo", "EOF",
    "RUN [\"<<EOF\"]",
    "ONBUILD RUN <<EOF", "inner", "EOF",
    "",
  ].join("\n");
  const { ast } = parseDockerfile(text);
  const expected: Array<Heredoc[]> = [
    [], [], [], [], [], [doc("EMPTY", "")], [doc("EMPTY2", "", { fileDescriptor: 3 })], [],
    [doc("INDENT", "\tfoo\n\tbar\n")],
    [doc("UNINDENT", "\tbaz\n\tquux\n", { chomp: true })],
    [doc("NOEXPAND", "\tdon't expand $NAME\n", { chomp: true, expand: false })],
    [doc("COMMENT", "# internal comment\necho hi # trailing\n")],
    [doc("MOUNT", "echo hello\n")],
    [doc("FILE1", "content 1\n"), doc("FILE2", "content 2\n")],
    [doc("X", "Y\n"), doc("Y", "X\n")],
    [doc("COMPLEX", "print('hello world')\n")],
    [doc("eof", "echo foo\n", { expand: false })],
    [doc("eo'f", "echo foo\n")],
    [doc("eo'f", "echo foo\n", { expand: false })],
    [doc("one two", "echo bar\n", { expand: false })],
    [doc("$EOF", "")],
    [doc("EOF", "")],
    [],
    [doc("EOF", "inner\n")],
  ];
  assert.deepEqual(ast.children.map((c) => c.heredocs), expected);
  const mount = ast.children[12];
  assert.deepEqual([mount.startLine, mount.endLine], [26, 28]);
});

void test("heredoc marker words", () => {
  for (const src of ["", "EOF", "<<", "<<-", "<EOF", "<<<EOF", "<<EOF sh"]) assert.equal(parseHeredoc(src), undefined, src);
  for (const src of ["<<EOF", "<<'EOF'", "<<\"EOF\"", "<<-EOF", "<<-'EOF'", "<<-\"EOF\"", "<<EO\"F\"", "<< EOF", "<<- EOF"]) {
    assert.equal(parseHeredoc(src)?.name, "EOF", src);
  }
  for (const src of ["<<'EOF", "<<\"EOF", "<<EOF'", "<<EOF\""]) assert.throws(() => parseHeredoc(src), src);
  const names = (line: string): string[] => heredocsFromLine(line).map((h) => h.name);
  // Only `<< ` keeps the following word attached; `<<- EOF` splits into two words, as upstream.
  assert.deepEqual(names("RUN <<- EOF"), []);
  assert.deepEqual(names("RUN << -EOF"), ["-EOF"]);
  assert.deepEqual(names("RUN 4<<EOF"), ["EOF"]);
  assert.deepEqual(names("RUN <<EOF <<EOF2"), ["EOF", "EOF2"]);
  assert.deepEqual(names("RUN '<<EOF'"), []);
  assert.deepEqual(names("RUN \"<<EOF\""), []);
  assert.equal(chompHeredocContent("\thello\n\t\tworld\n"), "hello\nworld\n");
});
