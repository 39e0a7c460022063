// Loading a received LLB Definition: decode, digest every vertex over the bytes exactly as received
// (never re-marshalled, so digests match the sender's), and check the graph is well formed.
import { fromBinary } from "@bufbuild/protobuf";
import { DefinitionSchema, OpSchema, type Definition, type Op, type OpMetadata, type Source } from "../gen/pb/ops_pb.js";
import { sha256, type Digest } from "../util/digest.js";
import { GantryError, messageOf } from "../util/errors.js";

/** One decoded vertex with the bytes its digest was computed from. */
export interface LoadedOp {
  digest: Digest;
  op: Op;
  /** The exact bytes from `Definition.def`; hash these, never a re-encoding. */
  bytes: Uint8Array;
}

/** Points at one output of one vertex. */
export interface OutputRef {
  digest: Digest;
  index: number;
}

/** A validated definition, ready for the solver to build its graph from. */
export interface LoadedDefinition {
  /** Every vertex except the terminal pseudo-op, by digest. */
  ops: Map<Digest, LoadedOp>;
  /** Vertex metadata by digest string, as sent (keys may name vertices that are absent). */
  metadata: Map<string, OpMetadata>;
  /** The build result: the terminal's single input. */
  terminal: OutputRef;
  /** Every `def` entry in the order received, the terminal last (dumps keep this order). */
  entries: LoadedOp[];
  /** The source map, when the sender attached one. */
  source?: Source;
}

/**
 * Decodes and validates Definition bytes. Throws `InvalidArgument` when the bytes are not a
 * Definition, it has fewer than two entries, the last entry is not a terminal (no op, one input),
 * an input names an unknown vertex, or the inputs form a cycle.
 */
export function loadDefinition(bytes: Uint8Array): LoadedDefinition {
  let def: Definition;
  try {
    def = fromBinary(DefinitionSchema, bytes);
  } catch (err) {
    throw malformed(`the bytes are not a protobuf Definition (${messageOf(err)})`, err);
  }
  return loadDefinitionMessage(def);
}

/** Validates an already decoded Definition message; same contract as `loadDefinition`. */
export function loadDefinitionMessage(def: Definition): LoadedDefinition {
  if (def.def.length < 2) {
    throw malformed(`it has ${def.def.length} ${def.def.length === 1 ? "entry" : "entries"}, but at least two are ` +
      "needed (one operation and the terminal entry)");
  }
  const entries = def.def.map((raw, i) => decodeEntry(raw, i));
  const last = entries[entries.length - 1];
  const terminal = terminalInput(last);
  const ops = new Map<Digest, LoadedOp>();
  entries.slice(0, -1).forEach((entry, i) => {
    if (entry.op.op.case === undefined) {
      throw malformed(`entry ${i} (${entry.digest}) has no operation; only the last entry may be a terminal`);
    }
    ops.set(entry.digest, entry);
  });
  checkInputs(ops, terminal);
  checkAcyclic(ops);
  const metadata = new Map(Object.entries(def.metadata));
  return { ops, metadata, terminal, entries, ...(def.Source ? { source: def.Source } : {}) };
}

function decodeEntry(raw: Uint8Array, i: number): LoadedOp {
  try {
    return { digest: sha256(raw), op: fromBinary(OpSchema, raw), bytes: raw };
  } catch (err) {
    throw malformed(`entry ${i} is not a protobuf Op (${messageOf(err)})`, err);
  }
}

function terminalInput(last: LoadedOp): OutputRef {
  if (last.op.op.case !== undefined) {
    throw malformed(`the last entry (${last.digest}) is a ${last.op.op.case} operation, but it must be the ` +
      "terminal entry that names the result");
  }
  if (last.op.inputs.length !== 1) {
    throw malformed(`the terminal entry (${last.digest}) has ${last.op.inputs.length} inputs; it must have exactly one`);
  }
  const input = last.op.inputs[0];
  return { digest: input.digest as Digest, index: Number(input.index) };
}

function checkInputs(ops: Map<Digest, LoadedOp>, terminal: OutputRef): void {
  if (!ops.has(terminal.digest)) {
    throw malformed(`the terminal entry names ${JSON.stringify(terminal.digest)}, which is not a vertex of the definition`);
  }
  for (const { digest, op } of ops.values()) {
    op.inputs.forEach((input, i) => {
      if (!ops.has(input.digest as Digest)) {
        throw malformed(`input ${i} of vertex ${digest} names ${JSON.stringify(input.digest)}, which is not a vertex ` +
          "of the definition");
      }
      if (input.index < 0n) {
        throw malformed(`input ${i} of vertex ${digest} has a negative output index ${input.index}`);
      }
    });
  }
}

// Content digests make real cycles impossible, but a hand-made definition could still claim one; an
// iterative walk keeps a deep chain from overflowing the stack.
function checkAcyclic(ops: Map<Digest, LoadedOp>): void {
  const state = new Map<Digest, "visiting" | "done">();
  for (const start of ops.keys()) {
    if (state.has(start)) continue;
    const stack: { digest: Digest; next: number }[] = [{ digest: start, next: 0 }];
    state.set(start, "visiting");
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      const inputs = ops.get(top.digest)?.op.inputs ?? [];
      if (top.next >= inputs.length) {
        state.set(top.digest, "done");
        stack.pop();
        continue;
      }
      const child = inputs[top.next++].digest as Digest;
      const seen = state.get(child);
      if (seen === "visiting") throw malformed(`vertex ${child} depends on itself through its inputs`);
      if (seen === undefined) {
        state.set(child, "visiting");
        stack.push({ digest: child, next: 0 });
      }
    }
  }
}

function malformed(reason: string, cause?: unknown): GantryError {
  return new GantryError("InvalidArgument", `The LLB definition is malformed: ${reason}.`,
    cause === undefined ? {} : { cause });
}
