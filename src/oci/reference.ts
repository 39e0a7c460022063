// Image references (`busybox`, `localhost:5000/cf/busybox:1`, `host/repo@sha256:…`), parsed and normalised
// the way Docker does, so that names Gantry prints and pins match the ones buildctl and docker print.
import { GantryError } from "../util/errors.js";
import { isDigest, type Digest } from "../util/digest.js";

/** The registry that short names (`busybox`, `user/app`) live on. */
export const DEFAULT_REGISTRY = "docker.io";
const DEFAULT_TAG = "latest";
const OFFICIAL_PREFIX = "library/";
const MAX_NAME_LENGTH = 255;

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`);
const TAG = /^[\w][\w.-]{0,127}$/;
const ANY_DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const HEX64 = /^[a-f0-9]{64}$/;

/** A parsed, normalised image reference. Immutable; `toString()` gives the fully qualified form. */
export interface Reference {
  /** Registry host as users write it (`docker.io`, `localhost:5000`); see `registryApiHost` for the wire host. */
  readonly registry: string;
  /** Repository path inside the registry (`library/busybox`, `cf/busybox`). */
  readonly repository: string;
  /** The tag; `latest` when the input named neither tag nor digest. */
  readonly tag?: string;
  readonly digest?: Digest;
  /** `registry/repository`, without tag or digest. */
  readonly name: string;
  /** The short form docker prints: `busybox:latest`, `user/app:1`, `localhost:5000/x:1`. */
  readonly familiar: string;
  /** `registry/repository[:tag][@digest]`. */
  toString(): string;
}

class ParsedReference implements Reference {
  readonly registry: string;
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: Digest;

  constructor(registry: string, repository: string, tag: string | undefined, digest: Digest | undefined) {
    this.registry = registry;
    this.repository = repository;
    if (tag !== undefined) this.tag = tag;
    if (digest !== undefined) this.digest = digest;
    Object.freeze(this);
  }

  get name(): string {
    return `${this.registry}/${this.repository}`;
  }

  get familiar(): string {
    let name = this.name;
    if (this.registry === DEFAULT_REGISTRY) {
      name = this.repository;
      const rest = name.slice(OFFICIAL_PREFIX.length);
      if (name.startsWith(OFFICIAL_PREFIX) && !rest.includes("/")) name = rest;
    }
    return name + this.#suffix();
  }

  toString(): string {
    return this.name + this.#suffix();
  }

  #suffix(): string {
    return (this.tag === undefined ? "" : `:${this.tag}`) + (this.digest === undefined ? "" : `@${this.digest}`);
  }
}

/**
 * Parses and normalises an image reference: a short name gains `docker.io/` (and `library/` for a single
 * component), `index.docker.io` becomes `docker.io`, and a reference with neither tag nor digest gets
 * `:latest`. Only sha256 digests are accepted. Throws InvalidArgument naming the input.
 */
export function parseReference(input: string): Reference {
  const fail = (why: string): never => {
    throw new GantryError("InvalidArgument", `Invalid image reference "${redactUserinfo(input)}": ${why}.`);
  };
  if (input === "") fail("it is empty");
  if (input !== input.trim()) fail("it has leading or trailing whitespace");

  let rest = input;
  let digest: Digest | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    const d = rest.slice(at + 1);
    if (!ANY_DIGEST.test(d)) fail(`"${d}" is not a valid digest`);
    if (!isDigest(d)) fail(`digest "${d}" is not supported (expected sha256:<64 lowercase hex digits>)`);
    digest = d as Digest;
    rest = rest.slice(0, at);
  }

  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) fail(`"${tag}" is not a valid tag`);
  }
  if (rest === "") fail("the repository name is missing");
  if (rest.length > MAX_NAME_LENGTH) fail(`the repository name is longer than ${MAX_NAME_LENGTH} characters`);

  const { registry, repository } = splitRegistry(rest);
  if (!DOMAIN.test(registry)) fail(`"${registry}" is not a valid registry host`);
  if (repository !== repository.toLowerCase()) fail("the repository name must be lowercase");
  for (const part of repository.split("/")) {
    if (!PATH_COMPONENT.test(part)) fail(`"${repository}" is not a valid repository name`);
  }
  if (registry === DEFAULT_REGISTRY && HEX64.test(rest)) fail("a 64-hex-digit string cannot be used as a repository name");

  if (tag === undefined && digest === undefined) tag = DEFAULT_TAG;
  return new ParsedReference(registry, repository, tag, digest);
}

/** Builds a reference from parts (validated and normalised like `parseReference`). */
export function createReference(parts: { registry: string; repository: string; tag?: string; digest?: Digest }): Reference {
  const tag = parts.tag === undefined ? "" : `:${parts.tag}`;
  const digest = parts.digest === undefined ? "" : `@${parts.digest}`;
  return parseReference(`${parts.registry}/${parts.repository}${tag}${digest}`);
}

/** The same reference pinned to `digest`, keeping its tag (`docker.io/library/busybox:latest@sha256:…`). */
export function withDigest(ref: Reference, digest: Digest): Reference {
  return new ParsedReference(ref.registry, ref.repository, ref.tag, digest);
}

/** The host the distribution API is served on: `registry-1.docker.io` for `docker.io`, else the registry itself. */
export function registryApiHost(registry: string): string {
  return registry === DEFAULT_REGISTRY ? "registry-1.docker.io" : registry;
}

function splitRegistry(name: string): { registry: string; repository: string } {
  const slash = name.indexOf("/");
  const first = slash < 0 ? "" : name.slice(0, slash);
  const looksLikeHost = first !== "" &&
    (first.includes(".") || first.includes(":") || first === "localhost" || first !== first.toLowerCase());
  let registry = looksLikeHost ? first : DEFAULT_REGISTRY;
  let repository = looksLikeHost ? name.slice(slash + 1) : name;
  if (registry === "index.docker.io") registry = DEFAULT_REGISTRY;
  if (registry === DEFAULT_REGISTRY && !repository.includes("/")) repository = OFFICIAL_PREFIX + repository;
  return { registry, repository };
}

/** Hides `user:password@` if someone pasted a URL with credentials into a reference. */
function redactUserinfo(s: string): string {
  return s.replace(/^([a-z]+:\/\/)?[^/@\s]+:[^/@\s]+@(?=[^/]*\/)/i, "$1<redacted>@");
}
