// ADD sources that are not in the context: URLs (an http source) and git repositories.

import { git, http, type State } from "../../../llb/state.js";
import { GantryError } from "../../../util/errors.js";

/** A git source named by an ADD argument. */
export interface GitRef {
  remote: string;
  ref: string;
  subdir: string;
  keepGitDir?: boolean;
  checksum?: string;
}

export function isHttpSource(src: string): boolean {
  return (src.startsWith("http://") || src.startsWith("https://")) && parseGitRef(src) === undefined;
}

/**
 * A git reference (`git@host:repo`, `git://…`, `ssh://…`, `https://….git`), with an optional
 * `#ref[:subdir]` or `#ref=…,subdir=…,keep-git-dir=…,checksum=…` fragment; undefined for anything else.
 */
export function parseGitRef(src: string): GitRef | undefined {
  const hash = src.indexOf("#");
  const remote = hash < 0 ? src : src.slice(0, hash);
  const fragment = hash < 0 ? "" : src.slice(hash + 1);
  const isGit = /^git@[^:]+:/.test(remote) || /^(git|ssh):\/\//.test(remote) ||
    (/^https?:\/\//.test(remote) && /\.git\/?$/.test(new URL(remote).pathname));
  if (!isGit) return undefined;
  const out: GitRef = { remote, ref: "", subdir: "" };
  if (fragment.includes("=")) {
    for (const kv of fragment.split(",")) {
      const [k, v = ""] = kv.split("=", 2);
      if (k === "ref" || k === "tag" || k === "branch") out.ref = v;
      else if (k === "subdir") out.subdir = v;
      else if (k === "keep-git-dir") out.keepGitDir = v === "true";
      else if (k === "checksum" || k === "commit") out.checksum = v;
      else throw new GantryError("InvalidArgument", `unexpected key '${k}' in git fragment of ${remote}`);
    }
  } else if (fragment !== "") {
    const colon = fragment.indexOf(":");
    out.ref = colon < 0 ? fragment : fragment.slice(0, colon);
    out.subdir = colon < 0 ? "" : fragment.slice(colon + 1);
  }
  return out;
}

/** The git source state for ADD, after checking the flags agree with the fragment. */
export function gitState(ref: GitRef, opts: { keepGitDir?: boolean; checksum: string; customName: string }): State {
  if (opts.keepGitDir !== undefined && ref.keepGitDir !== undefined && opts.keepGitDir !== ref.keepGitDir) {
    throw new GantryError("InvalidArgument", "inconsistent keep-git-dir configuration");
  }
  if (opts.checksum !== "" && ref.checksum !== undefined && opts.checksum !== ref.checksum) {
    throw new GantryError("InvalidArgument", `checksum mismatch "${opts.checksum}" != "${ref.checksum}"`);
  }
  const keep = ref.keepGitDir ?? opts.keepGitDir ?? false;
  const checksum = ref.checksum ?? opts.checksum;
  return git(ref.remote, ref.ref, {
    ...(keep ? { keepGitDir: true } : {}),
    ...(checksum ? { checksum } : {}),
    ...(ref.subdir ? { subdir: ref.subdir } : {}),
    customName: opts.customName,
  });
}

/** The http source state for ADD <url> and the file name it is stored under. */
export function httpState(src: string, checksum: string): { state: State; filename: string } {
  let filename = "__unnamed__";
  try {
    const base = new URL(src).pathname.split("/").filter((p) => p !== "").pop();
    if (base !== undefined && base !== ".") filename = base;
  } catch {
    // Upstream falls back to the placeholder name when the URL does not parse.
  }
  if (checksum !== "" && !/^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(checksum)) {
    throw new GantryError("InvalidArgument", `invalid checksum digest format: ${checksum}`);
  }
  // v0.11.6 tags the source with an empty command description; kept for identical op metadata.
  const state = http(src, { filename, ...(checksum ? { checksum } : {}), description: { "com.docker.dockerfile.v1.command": "" } });
  return { state, filename };
}
