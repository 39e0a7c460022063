// The /etc/resolv.conf a build container sees, derived from the host's as upstream does (moby's
// resolvconf package, "legacy" transform): outside the host's network namespace, loopback nameservers
// cannot answer, so they are dropped, and with none left Google's public servers are used.
import { isIP } from "node:net";
import type { NetworkMode } from "./executor.js";

const DEFAULT_NAMESERVERS = ["8.8.8.8", "8.8.4.4", "2001:4860:4860::8888", "2001:4860:4860::8844"];

interface Parsed {
  nameservers: string[];
  search: string[];
  options: string[];
  other: string[];
}

function parse(text: string): Parsed {
  const rc: Parsed = { nameservers: [], search: [], options: [], other: [] };
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const fields = line.trim().split(/\s+/);
    if (fields[0] === "") continue;
    switch (fields[0]) {
      case "nameserver":
        // Invalid addresses are dropped, as upstream records and skips them.
        if (fields.length >= 2 && isIP(fields[1].split("%")[0])) rc.nameservers.push(fields[1]);
        break;
      case "domain": // the obsolete spelling of search
      case "search":
        if (fields.length >= 2) rc.search = fields.slice(1); // the last one wins
        break;
      case "options":
        rc.options.push(...fields.slice(1));
        break;
      default:
        rc.other.push(line);
    }
  }
  return rc;
}

/** Whether a nameserver address is a loopback one (127/8, ::1, or 127/8 mapped into IPv6). */
export function isLoopbackAddress(addr: string): boolean {
  const a = addr.split("%")[0];
  if (isIP(a) === 4) return a.startsWith("127.");
  if (isIP(a) !== 6) return false;
  // The URL parser prints IPv6 in canonical form, so every spelling of ::1 and ::ffff:127.x compares equal.
  const canonical = new URL(`http://[${a}]/`).hostname;
  return canonical === "[::1]" || /^\[::ffff:7f[0-9a-f]{2}:/.test(canonical);
}

/**
 * Renders the container's resolv.conf from the host's text (undefined when the host has none). With the
 * host's network (`host`, and `sandbox` while it shares the host's network) the nameservers stay as they
 * are, since loopback resolvers are reachable; with `none`, loopback ones are removed. Either way, an empty
 * list becomes the default public servers.
 */
export function buildResolvConf(hostText: string | undefined, network: NetworkMode): string {
  const rc = parse(hostText ?? "");
  const sharesHostNet = network !== "none";
  if (!sharesHostNet) rc.nameservers = rc.nameservers.filter((ns) => !isLoopbackAddress(ns));
  if (rc.nameservers.length === 0) rc.nameservers = DEFAULT_NAMESERVERS;
  let out = rc.nameservers.map((ns) => `nameserver ${ns}\n`).join("");
  if (rc.search.length > 0) out += `search ${rc.search.join(" ")}\n`;
  if (rc.options.length > 0) out += `options ${rc.options.join(" ")}\n`;
  for (const o of rc.other) out += `${o}\n`;
  return out;
}
