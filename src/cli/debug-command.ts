// `gantry debug dump-llb|workers|info`.
import { GantryError } from "../util/errors.js";
import type { Client } from "../client/client.js";
import { loadDefinition } from "../llb/definition.js";
import { dumpDot, formatDump } from "../llb/dump.js";
import { flagBool, parseArgs } from "./args.js";
import { readStdin } from "./read-stdin.js";

export async function debugCommand(argv: string[], client: () => Promise<Client>): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case "dump-llb": {
      const args = parseArgs(rest, [{ names: ["--dot"], kind: "bool" }], "debug dump-llb");
      const def = loadDefinition(await readStdin("The LLB definition"));
      if (flagBool(args, "--dot")) process.stdout.write(dumpDot(def));
      else process.stdout.write(formatDump(def));
      return 0;
    }
    case "workers": {
      const c = await client();
      try {
        const workers = await c.listWorkers();
        process.stdout.write(`${"ID".padEnd(28)}${"PLATFORMS"}\n`);
        for (const w of workers) process.stdout.write(`${w.id.padEnd(28)}${w.platforms.join(",")}\n`);
      } finally {
        await c.close();
      }
      return 0;
    }
    case "info": {
      const c = await client();
      try {
        const i = await c.info();
        process.stdout.write(`BuildKit: ${i.package} ${i.version} ${i.revision}\n`);
      } finally {
        await c.close();
      }
      return 0;
    }
    default:
      throw new GantryError("InvalidArgument", `Unknown debug command "${sub ?? ""}": use dump-llb, workers or info.`);
  }
}
