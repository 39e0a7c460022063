// The CLI's commands and client transports, each loaded on first use. scripts/bundle.mjs bundles this
// module (with all it reaches) into one CommonJS file that loads with a V8 code cache; main.ts stays a
// small ES module, so `--version` and `--help` compile none of it.

/** Loaders of the command modules and of `connect`; each import runs its module's top level once. */
export const commandModules = {
  build: () => import("./build-command.js"),
  disk: () => import("./disk-commands.js"),
  debug: () => import("./debug-command.js"),
  connect: () => import("../client/connect.js"),
};
