// `gantry du` and `gantry prune`, with buildctl's flags and table layout.
import type { Client, UsageRecord } from "../client/client.js";
import { GantryError } from "../util/errors.js";
import { flagBool, flagList, flagValue, parseArgs } from "./args.js";
import { humanBytes } from "./progress/human-bytes.js";

function table(records: UsageRecord[], verbose: boolean): string {
  let out = "";
  if (verbose) {
    for (const r of records) {
      out += `ID:\t\t${r.id}\n`;
      if (r.parents.length) out += `Parents:\n${r.parents.map((p) => `\t\t${p}\n`).join("")}`;
      out += `Created at:\t${r.createdAt.toUTCString()}\nMutable:\t${r.mutable}\nReclaimable:\t${!r.inUse}\nShared:\t\t${r.shared}\n`;
      out += `Size:\t\t${humanBytes(r.size)}\n`;
      if (r.description) out += `Description:\t${r.description}\n`;
      out += `Usage count:\t${r.usageCount}\n`;
      if (r.lastUsedAt) out += `Last used:\t${r.lastUsedAt.toUTCString()}\n`;
      out += `Type:\t\t${r.recordType}\n\n`;
    }
  } else {
    out += `${"ID".padEnd(40)}RECLAIMABLE\tSIZE\t\tLAST ACCESSED\n`;
    for (const r of records) {
      const id = r.id + (r.mutable ? "*" : "");
      out += `${id.padEnd(40)}${String(!r.inUse).padEnd(11)}\t${humanBytes(r.size).padEnd(8)}\t${r.lastUsedAt?.toUTCString() ?? ""}\n`;
    }
  }
  return out;
}

function totals(records: UsageRecord[]): string {
  const total = records.reduce((n, r) => n + r.size, 0);
  const reclaimable = records.filter((r) => !r.inUse).reduce((n, r) => n + r.size, 0);
  return `Reclaimable:\t${humanBytes(reclaimable)}\nTotal:\t\t${humanBytes(total)}\n`;
}

export async function duCommand(argv: string[], client: () => Promise<Client>): Promise<number> {
  const args = parseArgs(argv, [{ names: ["--verbose", "-v"], kind: "bool" }, { names: ["--filter", "-f"], kind: "list" }], "du");
  const c = await client();
  try {
    const records = (await c.diskUsage(flagList(args, "--filter"))).sort((a, b) => b.size - a.size);
    process.stdout.write(table(records, flagBool(args, "--verbose")) + totals(records));
  } finally {
    await c.close();
  }
  return 0;
}

function parseDuration(v: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(v.trim());
  if (!m) throw new GantryError("InvalidArgument", `Invalid ${flag} "${v}": use a duration such as 30m, 48h or 3600s.`);
  const mult = { ms: 1e-3, s: 1, m: 60, h: 3600 }[(m[2] ?? "s") as "ms" | "s" | "m" | "h"];
  return Number(m[1]) * mult * 1000;
}

export async function pruneCommand(argv: string[], client: () => Promise<Client>): Promise<number> {
  const args = parseArgs(argv, [
    { names: ["--verbose", "-v"], kind: "bool" },
    { names: ["--all"], kind: "bool" },
    { names: ["--filter", "-f"], kind: "list" },
    { names: ["--keep-duration"], kind: "string" },
    { names: ["--keep-storage"], kind: "string" },
  ], "prune");
  const keepDuration = flagValue(args, "--keep-duration");
  const keepStorage = flagValue(args, "--keep-storage");
  if (keepStorage !== undefined && !/^\d+(\.\d+)?$/.test(keepStorage)) {
    throw new GantryError("InvalidArgument", `Invalid --keep-storage "${keepStorage}": a number of MB.`);
  }
  const c = await client();
  const removed: UsageRecord[] = [];
  try {
    await c.prune({
      all: flagBool(args, "--all"),
      filters: flagList(args, "--filter"),
      keepDuration: keepDuration ? parseDuration(keepDuration, "--keep-duration") : undefined,
      keepBytes: keepStorage ? Number(keepStorage) * 1e6 : undefined,
    }, (r) => removed.push(r));
  } finally {
    await c.close();
  }
  process.stdout.write(table(removed, flagBool(args, "--verbose")) + `Total:\t${humanBytes(removed.reduce((n, r) => n + r.size, 0))}\n`);
  return 0;
}
