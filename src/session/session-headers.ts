// The metadata conventions of BuildKit sessions: the headers a client attaches to Control.Session, and
// the encoding of per-call metadata values (FileSync patterns, exporter metadata).
import { GantryError } from "../util/errors.js";
import type { CallMetadata } from "./grpc-h2-server.js";

/** Control.Session request headers (lower case, as gRPC sends them). */
export const SessionHeader = {
  id: "x-docker-expose-session-uuid",
  name: "x-docker-expose-session-name",
  sharedKey: "x-docker-expose-session-sharedkey",
  method: "x-docker-expose-session-grpc-method",
} as const;

/** Who a session is and which methods its client serves. */
export interface SessionInfo {
  id: string;
  name: string;
  sharedKey: string;
  /** Method paths as advertised, e.g. `/moby.filesync.v1.FileSync/DiffCopy`. */
  methods: string[];
}

/** The header list a client sends: one pair per advertised method. */
export function sessionHeaderPairs(info: SessionInfo): Array<[string, string]> {
  return [
    [SessionHeader.id, info.id],
    [SessionHeader.name, info.name],
    [SessionHeader.sharedKey, info.sharedKey],
    ...info.methods.map((m): [string, string] => [SessionHeader.method, m]),
  ];
}

/**
 * Reads session headers from any header list (names in any case, as Docker's HTTP upgrade sends them
 * canonicalized). Method values joined with commas by an HTTP layer are split again. InvalidArgument
 * without a session id.
 */
export function parseSessionHeaders(headers: Iterable<readonly [string, string]>): SessionInfo {
  const info: SessionInfo = { id: "", name: "", sharedKey: "", methods: [] };
  for (const [rawName, value] of headers) {
    const name = rawName.toLowerCase();
    if (name === SessionHeader.id && !info.id) info.id = value.trim();
    else if (name === SessionHeader.name && !info.name) info.name = value;
    else if (name === SessionHeader.sharedKey && !info.sharedKey) info.sharedKey = value;
    else if (name === SessionHeader.method) info.methods.push(...value.split(",").map((m) => m.trim()).filter(Boolean));
  }
  if (!info.id) throw new GantryError("InvalidArgument", `The session call has no ${SessionHeader.id} header.`);
  return info;
}

/**
 * Adds `values` under `key` to outgoing metadata, URL-encoding them all (and flagging `<key>-encoded: 1`)
 * when any is not ASCII, as upstream FileSync does. Nothing is added for an empty list.
 */
export function putMetadataValues(md: Record<string, string | string[]>, key: string, values: readonly string[] | undefined): void {
  if (!values?.length) return;
  if (values.some((v) => /[^\x00-\x7f]/.test(v))) {
    md[key] = values.map(queryEscape);
    md[`${key}-encoded`] = "1";
  } else {
    md[key] = [...values];
  }
}

/** The values of `key` in incoming metadata, decoded when `<key>-encoded` says so. */
export function metadataValues(md: CallMetadata, key: string): string[] {
  const values = [...(md.get(key) ?? [])];
  const flag = md.get(`${key}-encoded`)?.[0];
  if (flag !== "1" && flag !== "true") return values;
  return values.map((v) => {
    try {
      return decodeURIComponent(v.replace(/\+/g, " "));
    } catch {
      return v; // not valid escaping: keep the raw value, as Go's QueryUnescape error is ignored upstream
    }
  });
}

/** Go's url.QueryEscape: space as `+`, everything but unreserved characters percent-encoded. */
function queryEscape(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, "+");
}
