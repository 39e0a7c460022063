// mount(2) and umount2(2) without a process per call. Node cannot make these system calls, and spawning
// mount(8)/umount(8) costs the event loop a fork of the whole Node process each time (about 3 ms of
// blocked main thread on a busy build: a RUN step mounts twice, a COPY four times). So one small Perl
// process (perl-base is part of every Debian system) stays beside us and makes the calls: requests go down
// its stdin one per line, answers come back in order, one per line.
import { spawn, type ChildProcessByStdio } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import { getSystemErrorMap } from "node:util";

/** Linux system call numbers of mount and umount2, per architecture; elsewhere there is no server. */
const SYSCALLS: Partial<Record<NodeJS.Architecture, { mount: number; umount2: number }>> = {
  x64: { mount: 165, umount2: 166 },
  arm64: { mount: 40, umount2: 39 },
};

// Fields are hex (so any byte may appear in a path), "-" is a NULL pointer; flags are decimal. Perl's
// `syscall` passes a number as an integer and a string as a pointer to its (NUL-terminated) bytes.
const PROGRAM = String.raw`
$| = 1;
my ($m, $u) = @ARGV;
while (defined(my $l = <STDIN>)) {
  chomp $l;
  my @f = split(/ /, $l, -1);
  my $op = shift @f;
  my @p = map { $_ eq '-' ? 0 : pack('H*', $_) } @f;
  my $r = $op eq 'm' ? syscall($m, $p[0], $p[1], $p[2], int($f[3]), $p[4]) : syscall($u, $p[0], int($f[1]));
  print $r == -1 ? 'E' . (0 + $!) . "\n" : "0\n";
}
`;

/** A failed call: `code` is the errno name (EINVAL, ENOENT…), `message` its text. */
export class MountCallError extends Error {
  readonly code: string;
  readonly errno: number;

  constructor(errno: number) {
    const [name, text] = getSystemErrorMap().get(-errno) ?? [`E${errno}`, `error ${errno}`];
    super(text);
    this.code = name;
    this.errno = errno;
  }
}

interface Pending {
  resolve: () => void;
  reject: (err: Error) => void;
}

function field(s: string | null): string {
  return s === null ? "-" : Buffer.from(s).toString("hex");
}

/** One resident helper process making mount(2)/umount2(2) calls in the order they are asked for. */
export class MountServer {
  readonly #child: ChildProcessByStdio<Writable, Readable, null>;
  readonly #pending: Pending[] = [];
  #buffered = "";
  #dead: Error | undefined;

  private constructor(child: ChildProcessByStdio<Writable, Readable, null>) {
    this.#child = child;
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (text: string) => this.#answer(text));
    child.on("error", (err) => this.#fail(err));
    child.on("exit", (code, sig) => this.#fail(new Error(`the mount helper exited (${sig ?? `status ${code}`})`)));
    child.stdin.on("error", (err) => this.#fail(err));
    this.#idle();
  }

  /** Starts a server, or returns undefined where there is none (another architecture, or no perl). */
  static start(perl = "perl"): MountServer | undefined {
    const nr = SYSCALLS[process.arch];
    if (nr === undefined) return undefined;
    try {
      return new MountServer(spawn(perl, ["-e", PROGRAM, String(nr.mount), String(nr.umount2)], { stdio: ["pipe", "pipe", "ignore"] }));
    } catch {
      return undefined;
    }
  }

  /** True once the helper has died; every later call rejects, so callers should fall back. */
  get dead(): boolean {
    return this.#dead !== undefined;
  }

  /** mount(2). Rejects with MountCallError for a failed call, or Error when the helper is gone. */
  mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null): Promise<void> {
    return this.#call(`m ${field(source)} ${field(target)} ${field(fstype)} ${flags} ${field(data)}\n`);
  }

  /** umount2(2). */
  umount(target: string, flags: number): Promise<void> {
    return this.#call(`u ${field(target)} ${flags}\n`);
  }

  /** Ends the helper (it exits when its stdin closes). */
  close(): void {
    this.#child.stdin.end();
  }

  #call(line: string): Promise<void> {
    if (this.#dead) return Promise.reject(this.#dead);
    return new Promise((resolve, reject) => {
      if (this.#pending.length === 0) this.#busy();
      this.#pending.push({ resolve, reject });
      this.#child.stdin.write(line);
    });
  }

  #answer(text: string): void {
    this.#buffered += text;
    let nl: number;
    while ((nl = this.#buffered.indexOf("\n")) >= 0) {
      const reply = this.#buffered.slice(0, nl);
      this.#buffered = this.#buffered.slice(nl + 1);
      const p = this.#pending.shift();
      if (p === undefined) continue;
      if (reply === "0") p.resolve();
      else p.reject(new MountCallError(Number.parseInt(reply.slice(1), 10)));
    }
    if (this.#pending.length === 0) this.#idle();
  }

  #fail(err: Error): void {
    this.#dead ??= err;
    for (const p of this.#pending.splice(0)) p.reject(this.#dead);
    this.#idle();
  }

  // An idle helper must not keep Node running; one with calls in flight must, or a build awaiting a
  // mount could see the process exit under it.
  #busy(): void {
    this.#child.ref();
    handleOf(this.#child.stdout).ref?.();
  }

  #idle(): void {
    this.#child.unref();
    handleOf(this.#child.stdout).unref?.();
    handleOf(this.#child.stdin).unref?.();
  }
}

/** A child's stdio pipe is a net.Socket, which the stream types do not say. */
function handleOf(stream: object): { ref?: () => void; unref?: () => void } {
  return stream as { ref?: () => void; unref?: () => void };
}
