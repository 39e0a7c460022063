import { test } from "node:test";
import assert from "node:assert/strict";
import { ListingOrder } from "./diffcopy-order.js";

test("listing paths must be clean, inside the destination, in byte order and after their parent", () => {
  for (const bad of ["", ".", "/etc", "a/", "a//b", "./a", "a/./b", "a/.", "a/../b", "a/.."]) {
    assert.throws(() => new ListingOrder().check(bad, false), /invalid path/, JSON.stringify(bad));
  }
  for (const out of ["..", "../x", "../../etc/passwd"]) {
    assert.throws(() => new ListingOrder().check(out, false), /outside the destination/, out);
  }
  const o = new ListingOrder();
  o.check("a", true);
  o.check("a/.hidden", false);
  o.check("a/b..c", false);
  o.check("a/z", true);
  o.check("a/z/deep", false);
  o.check("b", false);
  assert.throws(() => o.check("a0", false), /out of order/);
  assert.throws(() => o.check("c/x", false), /before its parent/);
  // A non-directory entry cannot be a parent (a symlink named like a directory).
  const s = new ListingOrder();
  s.check("link", false);
  assert.throws(() => s.check("link/passwd", false), /before its parent/);
  // Byte order, not UTF-16 order: U+FF5E sorts before U+1F600 in UTF-8.
  const u = new ListingOrder();
  u.check("\uff5e", false);
  u.check("\u{1f600}", false);
  assert.throws(() => u.check("\uff5f", false), /out of order/);
});
