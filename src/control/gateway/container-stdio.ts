// A container's stdin and stdout as one byte duplex for the engine's end of an HTTP/2 connection: what the
// engine writes goes to the process's stdin; what the process writes to stdout is read from the duplex.
import { Duplex, PassThrough, type Readable } from "node:stream";

export interface ContainerStdio {
  /** The engine's end of the connection. */
  readonly duplex: Duplex;
  /** Give as the process's stdin (ProcessSpec.stdin). */
  readonly stdin: Readable;
  /** Feed with the process's stdout (ProcessSpec.output, stream 1). */
  pushStdout(data: Uint8Array): void;
  /** The process has exited: no more bytes arrive, none can be sent. */
  end(): void;
}

/** A fresh pair of pipes joined as a duplex. */
export function createContainerStdio(): ContainerStdio {
  const toProcess = new PassThrough();
  const fromProcess = new PassThrough();
  const duplex = Duplex.from({ readable: fromProcess, writable: toProcess });
  return {
    duplex,
    stdin: toProcess,
    // Output arrives as the executor reads it; the HTTP/2 session reads as fast, so buffering stays small.
    pushStdout: (data) => {
      if (!fromProcess.writableEnded) fromProcess.write(data);
    },
    end: () => {
      fromProcess.end();
      toProcess.end();
    },
  };
}
