// Image names as the oci/docker exporters write them: the `name` attr is a comma-separated list,
// each normalised (`foo` → `docker.io/library/foo:latest`); index.json carries the full name and the
// OCI ref name (the tag part), docker's manifest.json the familiar form (`foo:latest`).
import { parseReference } from "../oci/reference.js";
import { GantryError } from "../util/errors.js";

/** Normalised names from the `name` attr; [] for "". InvalidArgument naming the bad name. */
export function normalizedNames(attr: string): string[] {
  if (attr === "") return [];
  return attr.split(",").map((n) => {
    try {
      return parseReference(n).toString();
    } catch (err) {
      throw new GantryError("InvalidArgument", `Invalid image name "${n}" in the name attr.`, { cause: err });
    }
  });
}

/** `docker.io/library/foo:latest` → `foo:latest` (docker's manifest.json RepoTags). */
export function familiarName(name: string): string {
  return parseReference(name).familiar;
}

/**
 * The `org.opencontainers.image.ref.name` value for a full name: what follows the repository (`latest`,
 * `v1@sha256:…`, or `@sha256:…` for a digest-only name), as containerd's archive writer sets it.
 */
export function ociRefName(name: string): string {
  const slash = name.indexOf("/");
  const path = slash < 0 ? name : name.slice(slash + 1);
  const at = path.search(/[:@]/);
  if (at < 0) return name;
  const object = path.slice(at);
  return object.startsWith(":") ? object.slice(1) : object;
}
