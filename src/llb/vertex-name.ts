// Display names of vertices, as progress streams show them: the llb.customname description when the
// sender set one, otherwise a name derived from the op (upstream's solver/llbsolver/vertex.go rules).
import type { FileAction, Op, OpMetadata } from "../gen/pb/ops_pb.js";
import type { Digest } from "../util/digest.js";
import type { LoadedDefinition } from "./definition.js";
import { Attrs, CustomNameKey } from "./keys.js";

/**
 * The default name of an op. `inputName` gives the display name of an input vertex by digest (merge
 * and diff names embed them).
 */
export function defaultVertexName(op: Op, inputName: (digest: string) => string): string {
  const kind = op.op;
  switch (kind.case) {
    case "source":
      return sourceName(kind.value.identifier, kind.value.attrs);
    case "exec":
      return (kind.value.meta?.args ?? []).join(" ");
    case "file":
      return fileActionsName(kind.value.actions);
    case "build":
      return "build";
    case "merge":
      return `merge (${op.inputs.map((i) => inputName(i.digest)).join(", ")})`;
    case "diff": {
      const side = (input: bigint | undefined): string => {
        if (input === undefined || input < 0n) return "scratch";
        const ref = op.inputs[Number(input)];
        return ref === undefined ? "scratch" : `(${inputName(ref.digest)})`;
      };
      return `diff ${side(kind.value.lower?.input)} -> ${side(kind.value.upper?.input)}`;
    }
    case "passthrough":
      return `passthrough ${kind.value.id}`;
    default:
      return "unknown";
  }
}

/** The custom name from metadata, else the default name. */
export function vertexDisplayName(op: Op, metadata: OpMetadata | undefined,
  inputName: (digest: string) => string): string {
  return metadata?.description[CustomNameKey] ?? defaultVertexName(op, inputName);
}

/** Display names of every vertex of a loaded definition, computed once each (inputs first). */
export function vertexNames(def: LoadedDefinition): Map<Digest, string> {
  const names = new Map<Digest, string>();
  const nameOf = (digest: string): string => {
    const known = names.get(digest as Digest);
    if (known !== undefined) return known;
    const entry = def.ops.get(digest as Digest);
    if (entry === undefined) return digest;
    const name = vertexDisplayName(entry.op, def.metadata.get(digest), nameOf);
    names.set(entry.digest, name);
    return name;
  };
  // Walk in definition order: inputs precede their users there, so recursion stays shallow.
  for (const entry of def.entries.slice(0, -1)) nameOf(entry.digest);
  return names;
}

function sourceName(identifier: string, attrs: Record<string, string>): string {
  // A local source narrowed to one pattern shows it, e.g. "local://context (Dockerfile)".
  if (identifier.startsWith("local://")) {
    const only = singlePattern(attrs[Attrs.localIncludePatterns]);
    if (only !== undefined) return `${identifier} (${only})`;
  }
  return identifier;
}

function singlePattern(json: string | undefined): string | undefined {
  if (json === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(json);
    return Array.isArray(parsed) && parsed.length === 1 && typeof parsed[0] === "string" ? parsed[0] : undefined;
  } catch {
    // A malformed attr fails later in the local source; the name just omits it.
    return undefined;
  }
}

/** `mkdir /p, copy /a /b, …` for the actions of a FileOp. */
export function fileActionsName(actions: FileAction[]): string {
  const names: string[] = [];
  for (const { action } of actions) {
    switch (action.case) {
      case "mkdir": names.push(`mkdir ${action.value.path}`); break;
      case "mkfile": names.push(`mkfile ${action.value.path}`); break;
      case "rm": names.push(`rm ${action.value.path}`); break;
      case "copy": names.push(`copy ${action.value.src} ${action.value.dest}`); break;
      case "symlink": names.push(`symlink ${action.value.newpath} -> ${action.value.oldpath}`); break;
      default: break;
    }
  }
  return names.join(", ");
}
