// Git sources: upstream names them `git://<host>/<path>[#<ref>[:<subdir>]]` whatever the transport, so
// https and ssh remotes of one repository share an identifier; the real URL travels in git.fullurl.
import { posix } from "node:path";
import { GantryError } from "../util/errors.js";
import { Attrs, Caps } from "./keys.js";
import type { OpOptions } from "./vertex.js";
import { SourceVertex } from "./source-op.js";

/** Options of `git()`. */
export interface GitOptions extends OpOptions {
  keepGitDir?: boolean;
  /** Secret names for http auth; defaults GIT_AUTH_TOKEN / GIT_AUTH_HEADER as upstream. */
  authTokenSecret?: string;
  authHeaderSecret?: string;
  /** known_hosts lines for ssh remotes. */
  knownSshHosts?: string;
  /** SSH agent id to mount for ssh remotes (default "default"). */
  mountSshSock?: string;
  /** Expected commit. */
  checksum?: string;
  subdir?: string;
  skipSubmodules?: boolean;
}

interface GitRemote {
  scheme: string;
  host: string;
  path: string;
  /** The URL without fragment or query. */
  remote: string;
}

const SUPPORTED = new Set(["http", "https", "ssh", "git"]);
const SCP_RE = /^(?:([^@/]+)@)?([^:/]+):(.*)$/;

function parseGitUrl(url: string): GitRemote | undefined {
  const proto = /^([a-zA-Z0-9]+):\/\//.exec(url);
  if (proto) {
    const scheme = proto[1].toLowerCase();
    if (!SUPPORTED.has(scheme)) {
      throw new GantryError("InvalidArgument", `Unsupported git URL "${url}": the protocol ${scheme} is not http, https, ssh or git.`);
    }
    const u = new URL(url);
    u.hash = "";
    u.search = "";
    return { scheme, host: u.host, path: decodeURIComponent(u.pathname), remote: u.toString() };
  }
  const scp = SCP_RE.exec(url.split("#")[0]);
  if (!scp) return undefined;
  const [, user, host, path] = scp;
  return { scheme: "ssh", host, path, remote: `${user ? `${user}@` : ""}${host}:${path}` };
}

/** A git repository at `ref` (branch, tag or commit; the remote's default when empty). */
export function gitSource(url: string, ref = "", opts: GitOptions = {}): SourceVertex {
  let remote = parseGitUrl(url);
  if (remote === undefined) {
    url = `https://${url}`;
    remote = parseGitUrl(url);
  }
  if (remote === undefined) throw new GantryError("InvalidArgument", `Invalid git URL "${url}".`);
  const subdir = posix.join("/", opts.subdir ?? "").replace(/^\//, "");
  let id = remote.host + posix.join("/", remote.path);
  if (ref !== "" || subdir !== "") id += `#${ref}${subdir !== "" ? `:${subdir}` : ""}`;

  const attrs: Record<string, string> = {};
  const caps: string[] = [];
  if (opts.keepGitDir) {
    attrs[Attrs.gitKeepDir] = "true";
    caps.push(Caps.sourceGitKeepDir);
  }
  attrs[Attrs.gitFullURL] = remote.remote;
  caps.push(Caps.sourceGitFullURL);
  attrs[Attrs.gitAuthTokenSecret] = opts.authTokenSecret ?? "GIT_AUTH_TOKEN";
  attrs[Attrs.gitAuthHeaderSecret] = opts.authHeaderSecret ?? "GIT_AUTH_HEADER";
  if (opts.authTokenSecret !== undefined || opts.authHeaderSecret !== undefined) caps.push(Caps.sourceGitHTTPAuth);
  if (remote.scheme === "ssh") {
    if (opts.knownSshHosts) attrs[Attrs.gitKnownSSHHosts] = opts.knownSshHosts;
    caps.push(Caps.sourceGitKnownSSHHosts);
    attrs[Attrs.gitMountSSHSock] = opts.mountSshSock || "default";
    caps.push(Caps.sourceGitMountSSHSock);
  }
  if (opts.checksum) {
    attrs[Attrs.gitChecksum] = opts.checksum;
    caps.push(Caps.sourceGitChecksum);
  }
  if (opts.skipSubmodules) {
    attrs[Attrs.gitSkipSubmodules] = "true";
    caps.push(Caps.sourceGitSkipSubmodules);
  }
  caps.push(Caps.sourceGit);
  return new SourceVertex(`git://${id}`, attrs, caps, opts);
}
