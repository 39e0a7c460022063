// An in-process ssh agent over private key files (`--ssh id=~/.ssh/id_ed25519`), as buildctl runs one: it
// lists the keys and signs with them, and refuses everything else. It listens on a unix socket in a fresh
// 0700 directory, so the rest of the forwarding treats it like any agent socket.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { messageOf } from "../util/errors.js";
import { agentMessages } from "./ssh-agent-filter.js";
import { SshReader, str, type SshKey } from "./ssh-key-file.js";

const REQUEST_IDENTITIES = 11;
const IDENTITIES_ANSWER = 12;
const SIGN_REQUEST = 13;
const SIGN_RESPONSE = 14;
const FAILURE = 5;

export interface KeyAgent {
  /** The agent's socket. */
  path: string;
  close(): void;
}

/**
 * Serves `keys` on a new socket. The server does not keep the process alive, and its directory is
 * removed at `close` or when the process exits.
 */
export async function startKeyAgent(keys: readonly SshKey[]): Promise<KeyAgent> {
  const dir = mkdtempSync(join(tmpdir(), "gantry-ssh-agent-"));
  const path = join(dir, "agent.sock");
  const server: Server = createServer((sock) => {
    sock.on("error", () => undefined);
    void (async () => {
      for await (const request of agentMessages(sock)) sock.write(frame(answer(keys, request.subarray(4))));
      sock.end();
    })().catch(() => sock.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, () => resolve());
  });
  server.unref();
  const cleanup = (): void => rmSync(dir, { recursive: true, force: true });
  process.once("exit", cleanup);
  return {
    path,
    close: () => {
      server.close();
      process.off("exit", cleanup);
      cleanup();
    },
  };
}

/** The answer (type byte and body) to one request (type byte and body). */
function answer(keys: readonly SshKey[], request: Buffer): Buffer {
  try {
    if (request[0] === REQUEST_IDENTITIES) {
      const count = Buffer.alloc(4);
      count.writeUInt32BE(keys.length, 0);
      return Buffer.concat([Buffer.of(IDENTITIES_ANSWER), count, ...keys.flatMap((k) => [str(k.publicBlob), str(k.comment)])]);
    }
    if (request[0] === SIGN_REQUEST) {
      const r = new SshReader(request.subarray(1));
      const blob = r.string();
      const data = r.string();
      const flags = r.uint32();
      const key = keys.find((k) => k.publicBlob.equals(blob));
      if (key) return Buffer.concat([Buffer.of(SIGN_RESPONSE), str(key.sign(data, flags))]);
    }
  } catch (err) {
    process.emitWarning(`The --ssh key agent could not answer a request: ${messageOf(err)}.`);
  }
  return Buffer.of(FAILURE);
}

function frame(body: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length, 0);
  return Buffer.concat([len, body]);
}
