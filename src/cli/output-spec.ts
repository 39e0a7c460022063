// `--output` as buildctl takes it: `type=local,dest=dir`, `type=tar,dest=out.tar` (or stdout),
// `type=oci|docker,dest=…`, `type=image,name=…`. Checked on the client so mistakes fail before building.
import { GantryError } from "../util/errors.js";
import type { ExportEntry } from "../client/client.js";
import { parseCsvAttrs } from "./csv-attrs.js";

const TYPES = new Set(["local", "tar", "oci", "docker", "image", "registry"]);

export function parseOutput(value: string, stdoutIsTty: boolean): ExportEntry {
  const attrs = parseCsvAttrs(value, "--output");
  let type = attrs.type;
  delete attrs.type;
  if (!type) {
    // buildctl accepts a bare path as shorthand for a local export.
    if (Object.keys(attrs).length === 0 && !value.includes("=")) return { type: "local", attrs: { dest: value } };
    throw new GantryError("InvalidArgument", `Invalid --output "${value}": type= is required (local, tar, oci, docker or image).`);
  }
  type = type.toLowerCase();
  if (!TYPES.has(type)) throw new GantryError("InvalidArgument", `Invalid --output "${value}": unknown type "${type}".`);
  if (type === "registry") {
    type = "image";
    attrs.push = "true";
  }
  if (type === "local" && !attrs.dest) throw new GantryError("InvalidArgument", `Invalid --output "${value}": type=local needs dest=<directory>.`);
  const toStdout = (type === "tar" || type === "oci" || type === "docker") && attrs.tar !== "false" && (!attrs.dest || attrs.dest === "-");
  if (toStdout) {
    if (stdoutIsTty) throw new GantryError("InvalidArgument", `--output type=${type} with no dest would write a tarball to the terminal: add dest=<file> or redirect stdout.`);
    attrs.dest = "-";
  }
  if (type === "oci" || type === "docker") {
    if (attrs.tar === "false" && !attrs.dest) throw new GantryError("InvalidArgument", `Invalid --output "${value}": tar=false needs dest=<directory>.`);
  }
  return { type, attrs };
}
