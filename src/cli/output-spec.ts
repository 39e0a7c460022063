// `--output` as buildctl takes it: `type=local,dest=dir`, `type=tar,dest=out.tar` (or stdout),
// `type=oci|docker,dest=…`, `type=image,name=…`. Checked on the client so mistakes fail before building.
import { GantryError } from "../util/errors.js";
import type { ExportEntry } from "../client/client.js";
import { parseCsvAttrs } from "./csv-attrs.js";

const TYPES = new Set(["local", "tar", "oci", "docker", "image", "registry"]);

/**
 * Parses one `--output` value into an export entry. A value with no `=` is shorthand (as in buildx): `-` is
 * a tar stream on stdout, anything else a local directory. A tarball bound for stdout is refused when stdout
 * is a terminal; its `dest` becomes `-`. Throws InvalidArgument naming the value at fault.
 */
export function parseOutput(value: string, stdoutIsTty: boolean): ExportEntry {
  if (value !== "" && !value.includes("=")) {
    if (value !== "-") return { type: "local", attrs: { dest: value } };
    return checkStdout({ type: "tar", attrs: {} }, stdoutIsTty);
  }
  const attrs = parseCsvAttrs(value, "--output");
  let type = attrs.type?.toLowerCase();
  delete attrs.type;
  if (!type) throw new GantryError("InvalidArgument", `Invalid --output "${value}": type= is required (local, tar, oci, docker, image or registry).`);
  if (!TYPES.has(type)) throw new GantryError("InvalidArgument", `Invalid --output "${value}": unknown type "${type}".`);
  if (attrs.output !== undefined) {
    throw new GantryError("InvalidArgument", `Invalid --output "${value}": output= is not an attribute; did you mean dest=${attrs.output}?`);
  }
  if (type === "registry") {
    type = "image";
    attrs.push = "true";
  }
  if (type === "image" && attrs.dest) {
    throw new GantryError("InvalidArgument", `Invalid --output "${value}": the image exporter takes no dest (use name=<ref>).`);
  }
  const toDir = type === "local" || ((type === "oci" || type === "docker") && isFalse(attrs.tar));
  if (toDir && !attrs.dest) {
    throw new GantryError("InvalidArgument", `Invalid --output "${value}": type=${type}${type === "local" ? "" : ",tar=false"} needs dest=<directory>.`);
  }
  if (type === "tar" || type === "oci" || type === "docker") return checkStdout({ type, attrs }, stdoutIsTty);
  return { type, attrs };
}

/** A tarball with no file goes to stdout as `dest=-`, unless stdout is a terminal. */
function checkStdout(entry: ExportEntry, stdoutIsTty: boolean): ExportEntry {
  const { attrs, type } = entry;
  if (isFalse(attrs.tar) || (attrs.dest && attrs.dest !== "-")) return entry;
  if (stdoutIsTty) {
    throw new GantryError("InvalidArgument", `--output type=${type} with no dest would write a tarball to the terminal: add dest=<file> or redirect stdout.`);
  }
  attrs.dest = "-";
  return entry;
}

/** Go's strconv.ParseBool false spellings, which buildctl uses for `tar=`. */
function isFalse(v: string | undefined): boolean {
  return v !== undefined && ["0", "f", "F", "false", "FALSE", "False"].includes(v);
}
