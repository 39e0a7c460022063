// An `HttpTransport` over a fetch function, for callers that want to watch or replace fetch (tests that
// count requests, a fetch with a proxy dispatcher). Not used by default: calling fetch loads undici, which
// the build path avoids (see http-transport.ts).
import { Readable } from "node:stream";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import { StreamResponse, type HttpBody, type HttpTransport } from "./http-transport.js";

/** A fetch-compatible function. */
export type FetchFn = typeof fetch;

/** Adapts `fetchFn` to the transport contract: redirects followed by fetch, bodies as Node streams. */
export function fetchTransport(fetchFn: FetchFn): HttpTransport {
  return async (url, req) => {
    const body = req.body?.();
    // `duplex` is required by undici for streamed bodies; it is not in lib.dom's RequestInit yet.
    const init = {
      method: req.method ?? "GET", headers: req.headers, signal: req.signal, redirect: "follow",
      ...(body === undefined ? {} : { body: fetchBody(body), duplex: "half" }),
    };
    const res = await fetchFn(url, init as RequestInit);
    const headers: Record<string, string> = {};
    res.headers.forEach((value, name) => {
      headers[name] = value;
    });
    return new StreamResponse({
      status: res.status, statusText: res.statusText, url: res.url || url, redirected: res.redirected, headers,
      body: res.body ? Readable.fromWeb(res.body as unknown as NodeReadableStream<Uint8Array>) : null,
    });
  };
}

/** undici takes bytes, strings and async iterables (a Node Readable is one) as bodies. */
function fetchBody(body: HttpBody): BodyInit {
  return body as unknown as BodyInit;
}
