// HTTP/2 flow-control windows for the session connections. The protocol default (64 KiB per stream and
// per connection) makes a DiffCopy of tens of megabytes wait for a WINDOW_UPDATE every 64 KiB, each one a
// trip through both processes' event loops and the Session RPC; grpc-go widens its windows the same way.
import type { Http2Session } from "node:http2";

/** Per-stream receive window we announce (the SETTINGS_INITIAL_WINDOW_SIZE of our side). */
export const STREAM_WINDOW = 4 << 20;
/** Connection-level receive window. */
export const CONNECTION_WINDOW = 16 << 20;

/** Settings to pass when opening or accepting a session connection. */
export const WIDE_WINDOW_SETTINGS = { initialWindowSize: STREAM_WINDOW } as const;

/** Widens `session`'s connection-level receive window (once it is connected). */
export function widenConnectionWindow(session: Http2Session): void {
  const widen = (): void => {
    if (session.destroyed || session.closed) return;
    session.setLocalWindowSize(CONNECTION_WINDOW);
  };
  if (session.connecting) session.once("connect", widen);
  else widen();
}
