// The daemon's registry of client sessions. Each Control.Session call becomes an HTTP/2 client
// connection running inside the call's byte stream; engine code finds a session by id and calls the
// client's services through it.
import { connect, type ClientHttp2Session } from "node:http2";
import { GantryError, canceledError } from "../util/errors.js";
import { WIDE_WINDOW_SETTINGS, widenConnectionWindow } from "./grpc-h2-window.js";
import { createBytePipe } from "./byte-pipe.js";
import { GrpcBuildSession } from "./grpc-build-session.js";
import { GrpcH2Client } from "./grpc-h2-client.js";
import { parseSessionHeaders } from "./session-headers.js";

export interface SessionManagerOptions {
  /** How often to call the client's Health/Check (default 5 s; 0 disables). */
  healthIntervalMs?: number;
  /** Lower bound of a check's deadline (default 30 s); slow answers stretch it to 1.5× the last duration. */
  healthTimeoutMs?: number;
}

export interface SessionCallOptions {
  /** Aborts when the Control.Session call ends on the daemon's side. */
  signal?: AbortSignal;
}

/** Holds the live sessions; one per daemon. */
export class SessionManager {
  readonly #sessions = new Map<string, GrpcBuildSession>();
  readonly #waiters = new Map<string, Set<() => void>>();
  readonly #opts: Required<SessionManagerOptions>;

  constructor(opts: SessionManagerOptions = {}) {
    this.#opts = { healthIntervalMs: opts.healthIntervalMs ?? 5000, healthTimeoutMs: opts.healthTimeoutMs ?? 30_000 };
  }

  /**
   * Serves one Control.Session call. `headers` is its request metadata (any case; repeated entries for
   * repeated values), `incoming` the data of each BytesMessage received. Returns the data to send back,
   * one BytesMessage per chunk; it ends when the session ends (client half-close, failed health checks,
   * `signal`). InvalidArgument when the headers carry no session id.
   */
  handleSession(headers: Iterable<readonly [string, string]>, incoming: AsyncIterable<Uint8Array>,
    opts: SessionCallOptions = {}): AsyncIterable<Uint8Array> {
    const info = parseSessionHeaders(headers);
    const pipe = createBytePipe(incoming);
    const h2 = connect("http://localhost", { createConnection: () => pipe.duplex, settings: WIDE_WINDOW_SETTINGS });
    widenConnectionWindow(h2);
    h2.on("error", () => undefined); // the connection's end is observed through "close"
    let resolveClosed!: () => void;
    const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
    const close = (): void => {
      if (!h2.destroyed) h2.destroy();
      if (!pipe.duplex.destroyed) pipe.duplex.destroy();
    };
    const session = new GrpcBuildSession(info, new GrpcH2Client(h2), { closed, close });
    // The client's half-close ends the pipe's read side: nothing more can arrive, so the session is over.
    pipe.duplex.once("end", close);
    opts.signal?.addEventListener("abort", close, { once: true });
    const stopHealth = this.#monitorHealth(session, h2);
    h2.once("close", () => {
      stopHealth();
      opts.signal?.removeEventListener("abort", close);
      if (this.#sessions.get(info.id) === session) this.#sessions.delete(info.id);
      close();
      resolveClosed();
    });
    this.#sessions.set(info.id, session);
    for (const wake of this.#waiters.get(info.id) ?? []) wake();
    return endsWith(pipe.outgoing, close);
  }

  /**
   * The session with this id, waiting up to `timeoutMs` (default 5 s) for it to attach, since clients
   * start Session and Solve concurrently. NotFound when it does not appear in time.
   */
  async getSession(id: string, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<GrpcBuildSession> {
    const found = this.#sessions.get(id);
    if (found) return found;
    if (opts.signal?.aborted) throw canceledError(opts.signal);
    const timeoutMs = opts.timeoutMs ?? 5000;
    await new Promise<void>((resolve, reject) => {
      const set = this.#waiters.get(id) ?? new Set<() => void>();
      this.#waiters.set(id, set);
      const done = (): void => {
        clearTimeout(timer);
        set.delete(wake);
        if (set.size === 0) this.#waiters.delete(id);
        opts.signal?.removeEventListener("abort", onAbort);
      };
      const wake = (): void => {
        done();
        resolve();
      };
      const onAbort = (): void => {
        done();
        reject(canceledError(opts.signal));
      };
      const timer = setTimeout(() => {
        done();
        reject(new GantryError("NotFound", `no active session for ${id}: the client did not attach within ${timeoutMs} ms`));
      }, timeoutMs);
      set.add(wake);
      opts.signal?.addEventListener("abort", onAbort, { once: true });
    });
    const s = this.#sessions.get(id);
    if (!s) throw new GantryError("NotFound", `no active session for ${id}`);
    return s;
  }

  /** Ends every session. */
  close(): void {
    for (const s of this.#sessions.values()) s.close();
  }

  /** Polls Health/Check; two failures in a row close the session. Returns the stop function. */
  #monitorHealth(session: GrpcBuildSession, h2: ClientHttp2Session): () => void {
    const every = this.#opts.healthIntervalMs;
    if (every <= 0) return () => undefined;
    let failures = 0;
    let lastMs = 0;
    let busy = false;
    const timer = setInterval(() => {
      if (busy || h2.destroyed) return;
      busy = true;
      const started = Date.now();
      session.checkHealth(Math.max(this.#opts.healthTimeoutMs, lastMs * 1.5)).then(() => {
        failures = 0;
      }, () => {
        if (++failures >= 2) session.close();
      }).finally(() => {
        lastMs = Date.now() - started;
        busy = false;
      });
    }, every);
    timer.unref();
    return () => clearInterval(timer);
  }
}

/** Runs `onEnd` when the consumer stops iterating, however it stops. */
async function* endsWith(src: AsyncIterable<Uint8Array>, onEnd: () => void): AsyncGenerator<Uint8Array> {
  try {
    yield* src;
  } finally {
    onEnd();
  }
}
