// `--chown` owners: numeric ids, or names looked up in /etc/passwd and /etc/group of a root filesystem
// (upstream's readUser). Unknown names silently resolve to 0, as upstream v0.11 does.
import { open } from "node:fs/promises";
import { GantryError, throwIfAborted } from "../../util/errors.js";
import { isErrno } from "./fs-error.js";
import { resolveInRoot } from "./root-path.js";

/** A numeric owner applied with lchown. */
export interface Owner {
  uid: number;
  gid: number;
}

/** One side of a chown: a numeric id or a name to look up. */
export type UserSpec = { id: number } | { name: string };

/** LLB's ChownOpt: either side may be absent. */
export interface ChownSpec {
  user?: UserSpec;
  group?: UserSpec;
}

/** Where names are looked up: one root for both, or the user's and the group's roots apart. */
export type OwnerRoots = string | { user?: string; group?: string };

/**
 * Resolves a chown spec to ids. `undefined` spec → `undefined` (keep the sources' owners). A user by
 * name takes uid and gid from passwd; by id, uid = gid = id; a group then overrides the gid. A name
 * with no root to read from is InvalidArgument; a missing passwd/group file or name gives 0.
 */
export async function resolveOwner(spec: ChownSpec | undefined, roots: OwnerRoots,
  opts: { signal?: AbortSignal } = {}): Promise<Owner | undefined> {
  if (spec === undefined) return undefined;
  throwIfAborted(opts.signal);
  const userRoot = typeof roots === "string" ? roots : roots.user;
  const groupRoot = typeof roots === "string" ? roots : roots.group;
  const owner: Owner = { uid: 0, gid: 0 };
  if (spec.user !== undefined) {
    if ("id" in spec.user) {
      owner.uid = spec.user.id;
      owner.gid = spec.user.id;
    } else {
      const name = spec.user.name;
      if (userRoot === undefined) throw missingRoot("user", name);
      const entry = (await readDatabase(userRoot, "/etc/passwd")).find((f) => f[0] === name);
      if (entry !== undefined) {
        owner.uid = goAtoi(entry[2]);
        owner.gid = goAtoi(entry[3]);
      }
    }
  }
  if (spec.group !== undefined) {
    if ("id" in spec.group) {
      owner.gid = spec.group.id;
    } else {
      const name = spec.group.name;
      if (groupRoot === undefined) throw missingRoot("group", name);
      const entry = (await readDatabase(groupRoot, "/etc/group")).find((f) => f[0] === name);
      if (entry !== undefined) owner.gid = goAtoi(entry[2]);
    }
  }
  return owner;
}

function missingRoot(kind: string, name: string): GantryError {
  return new GantryError("InvalidArgument",
    `Cannot resolve ${kind} ${JSON.stringify(name)}: no filesystem was given to read its database from.`);
}

/** The colon-separated lines of a passwd-style file inside a root; none when it does not exist. */
async function readDatabase(root: string, file: string): Promise<string[][]> {
  const p = await resolveInRoot(root, file);
  let text: string;
  try {
    const fh = await open(p, "r");
    try {
      if (!(await fh.stat()).isFile()) {
        throw new GantryError("FailedPrecondition", `Cannot read ${file}: it is not a regular file.`);
      }
      text = await fh.readFile("utf8");
    } finally {
      await fh.close();
    }
  } catch (err) {
    // Like upstream, a missing database means "no such user", not an error.
    if (isErrno(err, "ENOENT", "ENOTDIR")) return [];
    throw err;
  }
  return text.split("\n").map((l) => l.trim()).filter((l) => l !== "").map((l) => l.split(":"));
}

/** Go's strconv.Atoi as runc's parser uses it: anything not a plain decimal gives 0. */
function goAtoi(s: string | undefined): number {
  if (s === undefined || !/^[+-]?\d+$/.test(s)) return 0;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : 0;
}
