// The /etc/hosts a build container sees, generated per run like upstream's: localhost lines naming the
// sandbox hostname, then the op's extra hosts.

/** The hostname a container gets when the op sets none (upstream's default). */
export const DEFAULT_HOSTNAME = "buildkitsandbox";

/** Renders /etc/hosts for `hostname` (default `buildkitsandbox`) plus `extraHosts` in order. */
export function buildHostsFile(hostname: string | undefined, extraHosts: ReadonlyArray<{ host: string; ip: string }> = []): string {
  const name = hostname || DEFAULT_HOSTNAME;
  let text = `127.0.0.1\tlocalhost ${name}\n::1\tlocalhost ip6-localhost ip6-loopback\n`;
  for (const h of extraHosts) text += `${h.ip}\t${h.host}\n`;
  return text;
}
