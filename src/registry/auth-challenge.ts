// Parses `WWW-Authenticate` headers (RFC 7235): one or more challenges, each a scheme and comma-separated
// `key=value` / `key="quoted value"` parameters, as registries send them:
//   Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:x:pull"

/** One challenge: scheme in lower case (`bearer`, `basic`), parameter names in lower case. */
export interface AuthChallenge {
  scheme: string;
  params: Record<string, string>;
}

const TOKEN_STOP = new Set([" ", "\t", ",", "=", '"']);

/** All challenges in a header value, in order; malformed pieces are skipped rather than thrown on. */
export function parseAuthChallenges(header: string): AuthChallenge[] {
  const out: AuthChallenge[] = [];
  let current: AuthChallenge | undefined;
  let i = 0;
  const skip = (chars: string): void => {
    while (i < header.length && chars.includes(header[i])) i++;
  };
  while (i < header.length) {
    skip(" \t,");
    const start = i;
    while (i < header.length && !TOKEN_STOP.has(header[i])) i++;
    const token = header.slice(start, i);
    if (token === "") {
      // A value without a name (`="x"`, `"x"`): drop it whole.
      if (header[i] === "=") i++;
      skip(" \t");
      if (header[i] === '"') i = readQuoted(header, i + 1)[1];
      else while (i < header.length && !TOKEN_STOP.has(header[i])) i++;
      continue;
    }
    skip(" \t");
    if (header[i] !== "=") {
      current = { scheme: token.toLowerCase(), params: {} };
      out.push(current);
      continue;
    }
    i++;
    skip(" \t");
    let value: string;
    if (header[i] === '"') {
      [value, i] = readQuoted(header, i + 1);
    } else {
      const vs = i;
      while (i < header.length && header[i] !== "," && header[i] !== " " && header[i] !== "\t") i++;
      value = header.slice(vs, i);
    }
    if (current) current.params[token.toLowerCase()] = value;
  }
  return out;
}

/** Reads a quoted string starting after its opening quote; returns the value and the index past it. */
function readQuoted(s: string, i: number): [string, number] {
  let value = "";
  while (i < s.length && s[i] !== '"') {
    if (s[i] === "\\" && i + 1 < s.length) i++;
    value += s[i];
    i++;
  }
  return [value, i + 1];
}
