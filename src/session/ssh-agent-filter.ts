// A read-only view of a forwarded ssh agent, as upstream gives builds: listing keys and signing reach the
// agent; adding, removing, locking and extensions are answered with a failure here and never reach it, so
// a build cannot change the keys of the user's agent. The agent protocol is request/response in order,
// each message a big-endian uint32 length then a type byte and its body.
import type { Duplex } from "node:stream";
import { canceledError, GantryError } from "../util/errors.js";
import { abortable } from "./abortable.js";

/** SSH_AGENTC_REQUEST_IDENTITIES, SSH_AGENTC_SIGN_REQUEST, SSH_AGENTC_UNLOCK (upstream lets unlock through). */
const ALLOWED = new Set([11, 13, 23]);
/** SSH_AGENT_FAILURE, as a whole message. */
const FAILURE = Uint8Array.of(0, 0, 0, 1, 5);
/** No agent message comes near this; a bigger length means a broken stream. */
const MAX_MESSAGE = 256 * 1024;

/**
 * Serves `requests` (the build's side) from `agent`, in order, until the requests end; each reply goes
 * through `reply`. Rejects on a malformed stream, when the agent hangs up mid-request, and on abort.
 */
export async function serveReadOnlyAgent(requests: AsyncIterable<Uint8Array>, agent: Duplex,
  reply: (message: Uint8Array) => Promise<void>, opts: { signal?: AbortSignal } = {}): Promise<void> {
  const { signal } = opts;
  if (signal?.aborted) throw canceledError(signal);
  // The wait for the build's next request ends through `abortable`; one for the agent's answer, here.
  const onAbort = (): void => void agent.destroy();
  signal?.addEventListener("abort", onAbort, { once: true });
  agent.on("error", () => undefined); // surfaces through the reads below
  const answers = agentMessages(agent.iterator({ destroyOnReturn: false }) as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
  try {
    for await (const request of abortable(agentMessages(requests), signal)) {
      if (!ALLOWED.has(request[4])) {
        await reply(FAILURE);
        continue;
      }
      await writeAll(agent, request, "write to the SSH agent");
      const answer = await answers.next();
      if (answer.done) throw new GantryError("Unavailable", "The SSH agent closed its connection before answering.");
      await reply(answer.value);
    }
  } catch (err) {
    if (signal?.aborted) throw canceledError(signal);
    throw err;
  } finally {
    signal?.removeEventListener("abort", onAbort);
    agent.destroy();
  }
}

/** Whole agent messages (length prefix included) out of a byte stream cut anywhere. */
export async function* agentMessages(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
  let buf = Buffer.alloc(0);
  for await (const chunk of chunks) {
    buf = buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([buf, chunk]);
    for (;;) {
      if (buf.length < 4) break;
      const length = buf.readUInt32BE(0);
      if (length === 0 || length > MAX_MESSAGE) {
        throw new GantryError("InvalidArgument", `Malformed SSH agent message: length ${length}.`);
      }
      if (buf.length < 4 + length) break;
      yield buf.subarray(0, 4 + length);
      buf = buf.subarray(4 + length);
    }
  }
  if (buf.length > 0) throw new GantryError("InvalidArgument", "The SSH agent stream ended inside a message.");
}

/** Writes `data` to `sock`; Unavailable ("Cannot <what>: …") when the connection has already ended. */
export function writeAll(sock: Duplex, data: Uint8Array, what: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (sock.destroyed || sock.writableEnded) {
      reject(new GantryError("Unavailable", `Cannot ${what}: its connection has ended.`));
      return;
    }
    sock.write(data, (err) => (err ? reject(err) : resolve()));
  });
}
