// A private docker-registry with htpasswd (basic) auth on a free loopback port, for the tests of
// credentials: Debian's docker-registry checks bcrypt entries, which python3's crypt module makes through
// libxcrypt, so no extra package is needed.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface AuthRegistry {
  /** host:port of the registry. */
  host: string;
  user: string;
  password: string;
  stop(): Promise<void>;
}

/** A port the kernel reports free on 127.0.0.1 (for a child that needs a port number on its command line). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function bcrypt(password: string): string {
  const script = "import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH)))";
  return execFileSync("python3", ["-W", "ignore", "-c", script, password], { encoding: "utf8" }).trim();
}

async function answers(host: string): Promise<boolean> {
  try {
    const res = await fetch(`http://${host}/v2/`);
    await res.body?.cancel();
    return res.status === 401;
  } catch {
    return false;
  }
}

/** Starts the registry; the caller must `stop()` it. */
export async function startAuthRegistry(user = "alice", password = "s3cret-pw"): Promise<AuthRegistry> {
  const dir = await mkdtemp(join(tmpdir(), "gantry-authreg-"));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  await writeFile(join(dir, "htpasswd"), `${user}:${bcrypt(password)}\n`);
  await writeFile(join(dir, "config.yml"), [
    "version: 0.1",
    "log:\n  level: error",
    `storage:\n  filesystem:\n    rootdirectory: ${join(dir, "data")}`,
    `http:\n  addr: ${host}`,
    `auth:\n  htpasswd:\n    realm: gantry-test\n    path: ${join(dir, "htpasswd")}`,
    "",
  ].join("\n"));
  const proc: ChildProcess = spawn("docker-registry", ["serve", join(dir, "config.yml")], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  proc.stderr?.on("data", (c: Buffer) => (log += c.toString()));
  const deadline = Date.now() + 10_000;
  while (!(await answers(host))) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill();
      throw new Error(`docker-registry with htpasswd did not start: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    host,
    user,
    password,
    stop: async () => {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once("exit", r));
        proc.kill("SIGTERM");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
