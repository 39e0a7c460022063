// Named contexts (`--opt context:NAME=…`): replace a stage, an image or a COPY --from source with an
// image (`docker-image://ref`), another local directory (`local:name`), a git repository (`git://…`,
// `https://….git#ref:subdir`, `git@host:repo`) or a file downloaded over http(s).

import { http, image, local } from "../../../llb/state.js";
import { normalizeImageRef } from "../../../llb/image-ref.js";
import type { Platform } from "../../../oci/types.js";
import { GantryError } from "../../../util/errors.js";
import type { ImageConfigResolver, NamedContext, NamedContextResolver } from "./convert-options.js";
import { parseImageConfig } from "./image-config.js";
import { gitState, parseGitRef } from "./remote-sources.js";

/** A resolver over the `context:` attrs; names are matched as given and, for images, normalised. */
export function createNamedContextResolver(attrs: Readonly<Record<string, string>>, resolve: ImageConfigResolver,
  signal?: AbortSignal): NamedContextResolver {
  const byName = new Map<string, string>();
  for (const [k, v] of Object.entries(attrs)) {
    if (!k.startsWith("context:")) continue;
    const name = k.slice("context:".length).split("::")[0];
    byName.set(name, v);
    byName.set(normalizedOrSelf(name), v);
  }
  return async (name, platform) => {
    if (name.toLowerCase() === "scratch" || name.toLowerCase() === "context") return undefined;
    const value = byName.get(name) ?? byName.get(normalizedOrSelf(name));
    if (value === undefined) return undefined;
    return namedContext(name, value, platform, resolve, signal);
  };
}

async function namedContext(name: string, value: string, platform: Platform, resolve: ImageConfigResolver,
  signal?: AbortSignal): Promise<NamedContext> {
  if (value.startsWith("docker-image://")) {
    const ref = normalizeImageRef(value.slice("docker-image://".length));
    const resolved = await resolve(ref, { platform, ...(signal ? { signal } : {}) });
    const pinned = ref.includes("@") ? ref : `${ref}@${resolved.digest}`;
    const img = parseImageConfig(resolved.config);
    delete img.created;
    return { state: image(pinned, { platform, customName: `[context ${name}] ${pinned}` }), image: img };
  }
  if (value.startsWith("local:")) {
    const localName = value.slice("local:".length);
    return { state: local(localName, { sharedKeyHint: localName, customName: `[context ${name}] load from client` }) };
  }
  const gitRef = parseGitRef(value);
  if (gitRef) return { state: gitState(gitRef, { checksum: "", customName: `[context ${name}] ${gitRef.remote}` }) };
  if (value.startsWith("https://") || value.startsWith("http://")) {
    return { state: http(value, { customName: `[context ${name}] ${value}` }) };
  }
  throw new GantryError("Unimplemented",
    `The named context ${name}=${value} is not supported: use docker-image://, local:, a git URL or an http(s) URL.`);
}

function normalizedOrSelf(name: string): string {
  try {
    return normalizeImageRef(name);
  } catch {
    return name; // not an image reference: a stage name only
  }
}
