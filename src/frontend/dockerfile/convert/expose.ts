// EXPOSE: port specs (`80`, `53/udp`, `8000-8002/tcp`, `ip:host:container`) as go-connections' nat
// package reads them, recorded in ExposedPorts and printed as a Go map in history.

import { GantryError } from "../../../util/errors.js";
import type { ExposeCommand } from "../instructions/commands.js";
import type { ShellLex } from "../shell/shell-lex.js";
import type { DispatchState } from "./dispatch-state.js";
import { stateEnv } from "./dispatch-context.js";
import { goEmptyStructMap } from "./go-format.js";
import { commitToHistory } from "./history.js";

const PROTOS = new Set(["tcp", "udp", "sctp"]);

export function dispatchExpose(d: DispatchState, c: ExposeCommand, shlex: ShellLex): void {
  const env = stateEnv(d);
  const ports = new Set<string>();
  for (const p of c.ports) {
    for (const word of shlex.processWords(p, env)) for (const port of parsePortSpec(word)) ports.add(port);
  }
  const exposed = { ...(d.image.config.ExposedPorts ?? {}) };
  for (const p of ports) exposed[p] = {};
  d.image.config.ExposedPorts = exposed;
  commitToHistory(d.image, `EXPOSE ${goEmptyStructMap(ports)}`, false);
}

/** The `port/proto` keys one spec stands for. Throws InvalidArgument for a malformed spec. */
export function parsePortSpec(spec: string): string[] {
  const parts = splitIpv6Aware(spec);
  const rawPort = parts[parts.length - 1];
  if (parts.length > 3) throw invalid(`invalid port specification: "${spec}"`);
  const slash = rawPort.indexOf("/");
  let port = slash < 0 ? rawPort : rawPort.slice(0, slash);
  let proto = slash < 0 ? "tcp" : rawPort.slice(slash + 1);
  if (proto === "") proto = "tcp";
  proto = proto.toLowerCase();
  if (port === "") throw invalid(`No port specified: ${spec}<empty>`);
  if (!PROTOS.has(proto)) throw invalid(`invalid proto: ${proto}`);
  const m = /^(\d+)(?:-(\d+))?$/.exec(port);
  if (m === null) throw invalid(`invalid containerPort: ${port}`);
  const start = Number(m[1]);
  const end = m[2] === undefined ? start : Number(m[2]);
  if (start > 65535 || end > 65535 || end < start) throw invalid(`invalid containerPort: ${port}`);
  port = "";
  const out: string[] = [];
  for (let i = start; i <= end; i++) out.push(`${i}/${proto}`);
  return out;
}

function splitIpv6Aware(spec: string): string[] {
  const v6 = /^\[([^\]]*)\]:(.*)$/.exec(spec);
  if (v6) return [v6[1], ...v6[2].split(":")];
  return spec.split(":");
}

function invalid(message: string): GantryError {
  return new GantryError("InvalidArgument", message);
}
