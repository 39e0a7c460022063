// Docker image reference normalisation (the rules of distribution/reference's ParseNormalizedNamed
// plus TagNameOnly): `busybox` → `docker.io/library/busybox:latest`.
import { GantryError } from "../util/errors.js";

const COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const DOMAIN_PART = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN = `(?:${DOMAIN_PART}(?:\\.${DOMAIN_PART})*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?`;
const PATH_RE = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
const DOMAIN_RE = new RegExp(`^${DOMAIN}$`);
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const DIGEST_RE = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;

/** A parsed, normalised reference. */
export interface ImageRef {
  domain: string;
  path: string;
  tag?: string;
  digest?: string;
}

/**
 * Parses a reference the way docker does, filling in `docker.io`, `library/` and, when neither a tag
 * nor a digest is given, `:latest`. Throws InvalidArgument naming the reference when it is invalid.
 */
export function parseImageRef(ref: string): ImageRef {
  const invalid = (why: string): GantryError =>
    new GantryError("InvalidArgument", `Invalid image reference "${ref}": ${why}.`);
  if (/^[a-f0-9]{64}$/.test(ref)) throw invalid("a 64-character hex string is an image id, not a name");
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST_RE.test(digest)) throw invalid(`"${digest}" is not a valid digest`);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_RE.test(tag)) throw invalid(`"${tag}" is not a valid tag`);
  }
  let domain = "docker.io";
  let path = rest;
  const slash = rest.indexOf("/");
  const first = slash >= 0 ? rest.slice(0, slash) : "";
  if (slash >= 0 && (/[.:]/.test(first) || first === "localhost" || first.toLowerCase() !== first)) {
    domain = first;
    path = rest.slice(slash + 1);
  }
  if (domain === "index.docker.io") domain = "docker.io";
  if (domain === "docker.io" && !path.includes("/")) path = `library/${path}`;
  if (!DOMAIN_RE.test(domain)) throw invalid(`"${domain}" is not a valid registry host`);
  if (!PATH_RE.test(path)) throw invalid("the repository name must be lowercase letters, digits and separators");
  return { domain, path, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

/** The normalised string form, with `:latest` added when the reference has neither tag nor digest. */
export function normalizeImageRef(ref: string): string {
  const r = parseImageRef(ref);
  const tag = r.tag ?? (r.digest === undefined ? "latest" : undefined);
  return `${r.domain}/${r.path}${tag !== undefined ? `:${tag}` : ""}${r.digest !== undefined ? `@${r.digest}` : ""}`;
}
