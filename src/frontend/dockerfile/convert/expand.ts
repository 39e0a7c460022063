// Variable expansion of instruction words before dispatch (upstream's Expand/ExpandRaw per command).

import type { Command, SourcesAndDest } from "../instructions/commands.js";

/** Expands one word. */
export type Expander = (word: string) => string;

/** The command with its expandable words expanded; `raw` expands heredoc bodies that allow it. */
export function expandCommand(cmd: Command, word: Expander, raw: Expander): Command {
  switch (cmd.kind) {
    case "env":
      return { ...cmd, env: cmd.env.map((p) => ({ ...p, key: word(p.key), value: word(p.value) })) };
    case "label":
      return { ...cmd, labels: cmd.labels.map((p) => ({ ...p, key: word(p.key), value: word(p.value) })) };
    case "add":
      return { ...cmd, chown: word(cmd.chown), chmod: word(cmd.chmod), checksum: word(cmd.checksum),
        sources: expandSources(cmd.sources, word, raw) };
    case "copy":
      return { ...cmd, chown: word(cmd.chown), chmod: word(cmd.chmod), sources: expandSources(cmd.sources, word, raw) };
    case "workdir":
      return { ...cmd, path: word(cmd.path) };
    case "user":
      return { ...cmd, user: word(cmd.user) };
    case "volume":
      return { ...cmd, volumes: cmd.volumes.map(word) };
    case "stopsignal":
      return { ...cmd, signal: word(cmd.signal) };
    case "arg":
      return { ...cmd, args: cmd.args.map((a) => (a.value === undefined ? { key: word(a.key) } : { key: word(a.key), value: word(a.value) })) };
    default:
      return cmd;
  }
}

function expandSources(s: SourcesAndDest, word: Expander, raw: Expander): SourcesAndDest {
  return {
    sourcePaths: s.sourcePaths.map(word),
    destPath: word(s.destPath),
    sourceContents: s.sourceContents.map((c) => (c.expand ? { ...c, data: raw(c.data) } : c)),
  };
}
