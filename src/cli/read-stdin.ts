/** Reads all of standard input; an interactive terminal is refused so the command never hangs silently. */
export async function readStdin(what: string): Promise<Uint8Array> {
  if (process.stdin.isTTY) {
    throw new Error(`${what} is read from standard input, which is a terminal: pipe it in (e.g. "node build.js | gantry build").`);
  }
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
