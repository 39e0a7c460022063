// A tiny in-process registry for tests of error paths (auth challenges, 429s, broken bodies, wrong bytes):
// node:http on 127.0.0.1 and a random port, blobs and manifests in memory, and hooks that let a test take
// over any request. The happy path is tested against the real registry instead.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { MediaType } from "../../oci/media-types.js";
import type { Descriptor, Platform } from "../../oci/types.js";
import { sha256 } from "../../util/digest.js";

export interface FakeAuth {
  scheme: "basic" | "bearer";
  username?: string;
  password?: string;
}

/** Return true when the hook answered the request itself. */
export type FakeHook = (req: IncomingMessage, res: ServerResponse) => boolean;

export interface FakeImage {
  manifest: Descriptor;
  config: Descriptor;
  layers: Descriptor[];
  layerData: Buffer[];
}

export class FakeRegistry {
  readonly #server: Server;
  readonly blobs = new Map<string, Buffer>();
  readonly manifests = new Map<string, { body: Buffer; mediaType: string }>();
  /** Every request seen: method, url, and whether it carried an Authorization header. */
  readonly log: Array<{ method: string; url: string; auth?: string }> = [];
  readonly hooks: FakeHook[] = [];
  auth?: FakeAuth;
  tokensIssued = 0;
  /** Forms posted to the token endpoint (refresh-token exchanges). */
  readonly tokenForms: URLSearchParams[] = [];

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(auth?: FakeAuth): Promise<FakeRegistry> {
    const server = createServer();
    const self = new FakeRegistry(server);
    server.on("request", (req: IncomingMessage, res: ServerResponse) => self.handle(req, res));
    self.auth = auth;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return self;
  }

  get host(): string {
    return `127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  addBlob(data: Buffer, mediaType: string = MediaType.ociLayerGzip): Descriptor {
    const digest = sha256(data);
    this.blobs.set(digest, data);
    return { mediaType, digest, size: data.length };
  }

  putManifest(repo: string, tags: string[], doc: unknown, mediaType: string): Descriptor {
    const body = Buffer.from(JSON.stringify(doc));
    const digest = sha256(body);
    for (const key of [digest, ...tags]) this.manifests.set(`${repo}:${key}`, { body, mediaType });
    return { mediaType, digest, size: body.length };
  }

  /** An OCI image with the given layer contents (stored as is; the digests are of these bytes). */
  addImage(repo: string, tags: string[], layers: Buffer[], platform: Platform = { os: "linux", architecture: "amd64" }): FakeImage {
    const layerDescs = layers.map((l) => this.addBlob(l));
    const config = this.addBlob(Buffer.from(JSON.stringify({
      ...platform, rootfs: { type: "layers", diff_ids: layerDescs.map((l) => l.digest) }, config: { Env: ["A=1"] },
    })), MediaType.ociConfig);
    const manifest = this.putManifest(repo, tags,
      { schemaVersion: 2, mediaType: MediaType.ociManifest, config, layers: layerDescs }, MediaType.ociManifest);
    return { manifest, config, layers: layerDescs, layerData: layers };
  }

  addIndex(repo: string, tags: string[], entries: Array<{ manifest: Descriptor; platform: Platform }>): Descriptor {
    return this.putManifest(repo, tags, {
      schemaVersion: 2, mediaType: MediaType.ociIndex,
      manifests: entries.map((e) => ({ ...e.manifest, platform: e.platform })),
    }, MediaType.ociIndex);
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? "/";
    this.log.push({ method: req.method ?? "GET", url, ...(req.headers.authorization ? { auth: req.headers.authorization } : {}) });
    for (const hook of this.hooks) if (hook(req, res)) return;
    if (url.startsWith("/token")) return this.#token(req, res);
    if (!this.#authorized(req, res)) return;
    const m = /^\/v2\/(.+)\/(manifests|blobs)\/([^/?]+)$/.exec(url);
    if (!m) return fail(res, 404, "NOT_FOUND", "unknown path");
    const [, repo, kind, key] = m;
    if (kind === "manifests") {
      const found = this.manifests.get(`${repo}:${key}`);
      if (!found) return fail(res, 404, "MANIFEST_UNKNOWN", "manifest unknown");
      res.writeHead(200, { "Content-Type": found.mediaType, "Docker-Content-Digest": sha256(found.body), "Content-Length": found.body.length });
      res.end(req.method === "HEAD" ? undefined : found.body);
      return;
    }
    const blob = this.blobs.get(key);
    if (!blob) return fail(res, 404, "BLOB_UNKNOWN", "blob unknown to registry");
    res.writeHead(200, { "Content-Type": "application/octet-stream", "Content-Length": blob.length });
    res.end(req.method === "HEAD" ? undefined : blob);
  }

  #authorized(req: IncomingMessage, res: ServerResponse): boolean {
    const auth = this.auth;
    if (!auth) return true;
    const header = req.headers.authorization ?? "";
    if (auth.scheme === "basic" && header === basic(auth)) return true;
    if (auth.scheme === "bearer" && /^Bearer tok-\d+$/.test(header)) return true;
    const challenge = auth.scheme === "basic" ? 'Basic realm="fake"'
      : `Bearer realm="http://${this.host}/token",service="fake-registry"`;
    res.setHeader("WWW-Authenticate", challenge);
    fail(res, 401, "UNAUTHORIZED", "authentication required");
    return false;
  }

  #token(req: IncomingMessage, res: ServerResponse): void {
    const auth = this.auth;
    if (req.method === "POST") {
      // OAuth refresh-token exchange: `auth.password` doubles as the refresh token the fake accepts.
      let body = "";
      req.setEncoding("utf8").on("data", (s: string) => { body += s; }).on("end", () => {
        const form = new URLSearchParams(body);
        this.tokenForms.push(form);
        if (form.get("grant_type") !== "refresh_token" || form.get("refresh_token") !== auth?.password) {
          return fail(res, 401, "UNAUTHORIZED", "bad refresh token");
        }
        this.tokensIssued++;
        res.writeHead(200, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ access_token: `tok-${this.tokensIssued}`, expires_in: 300 }));
      });
      return;
    }
    if (auth?.username !== undefined && req.headers.authorization !== basic(auth)) return fail(res, 401, "UNAUTHORIZED", "bad credentials");
    this.tokensIssued++;
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ token: `tok-${this.tokensIssued}`, expires_in: 300 }));
  }
}

function basic(auth: FakeAuth): string {
  return `Basic ${Buffer.from(`${auth.username ?? ""}:${auth.password ?? ""}`).toString("base64")}`;
}

function fail(res: ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(JSON.stringify({ errors: [{ code, message }] }));
}

