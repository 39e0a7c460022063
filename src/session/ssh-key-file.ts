// Private key files for `--ssh id=<key file>`: OpenSSH's own format (`BEGIN OPENSSH PRIVATE KEY`, what
// ssh-keygen writes) and PEM (PKCS#1, SEC 1, PKCS#8), for ed25519, RSA and ECDSA keys, turned into what an
// ssh agent needs: the public key blob and a signer producing SSH signature blobs.
import { createHash, createPrivateKey, sign, type KeyObject } from "node:crypto";
import { readFile } from "node:fs/promises";
import { GantryError, messageOf } from "../util/errors.js";

export interface SshKey {
  /** The public key in SSH wire form (what IDENTITIES_ANSWER lists). */
  publicBlob: Buffer;
  comment: string;
  /** An SSH signature blob over `data`; `flags` are the agent's (2 = rsa-sha2-256, 4 = rsa-sha2-512). */
  sign(data: Buffer, flags: number): Buffer;
}

const ECDSA_CURVES: Record<string, { jwk: string; hash: string; size: number }> = {
  nistp256: { jwk: "P-256", hash: "sha256", size: 32 },
  nistp384: { jwk: "P-384", hash: "sha384", size: 48 },
  nistp521: { jwk: "P-521", hash: "sha512", size: 66 },
};

/** Loads the key at `path`. InvalidArgument naming the file for encrypted or unsupported keys. */
export async function loadSshPrivateKey(path: string): Promise<SshKey> {
  const text = await readFile(path, "utf8");
  try {
    const key = text.includes("BEGIN OPENSSH PRIVATE KEY") ? parseOpenSshKey(text) : createPrivateKey(text);
    return sshKeyOf(key, path);
  } catch (err) {
    if (err instanceof GantryError) throw new GantryError(err.code, `--ssh key file ${path}: ${err.message}`, { cause: err });
    throw new GantryError("InvalidArgument", `--ssh key file ${path} is not a usable private key: ${messageOf(err)}.`, { cause: err });
  }
}

/** The KeyObject in an unencrypted `openssh-key-v1` file. */
function parseOpenSshKey(text: string): KeyObject {
  const body = text.replace(/-----(BEGIN|END) OPENSSH PRIVATE KEY-----/g, "").replace(/\s+/g, "");
  const r = new SshReader(Buffer.from(body, "base64"));
  const magic = "openssh-key-v1\0";
  if (r.raw(magic.length).toString("latin1") !== magic) throw new GantryError("InvalidArgument", "not an openssh-key-v1 file.");
  const cipher = r.string().toString();
  r.string(); // kdf name
  r.string(); // kdf options
  if (cipher !== "none") {
    throw new GantryError("InvalidArgument", "passphrase-protected keys are not supported; add the key to an ssh-agent and pass its socket.");
  }
  if (r.uint32() !== 1) throw new GantryError("InvalidArgument", "only files holding one key are supported.");
  r.string(); // public key, repeated in the private section
  const p = new SshReader(r.string());
  if (p.uint32() !== p.uint32()) throw new GantryError("InvalidArgument", "the file is damaged (check integers differ).");
  const type = p.string().toString();
  if (type === "ssh-ed25519") {
    const pub = p.string();
    const priv = p.string();
    return createPrivateKey({ key: { kty: "OKP", crv: "Ed25519", x: b64u(pub), d: b64u(priv.subarray(0, 32)) }, format: "jwk" });
  }
  if (type === "ssh-rsa") {
    const [n, e, d, qi, pp, q] = [p.mpint(), p.mpint(), p.mpint(), p.mpint(), p.mpint(), p.mpint()];
    const dp = bigOf(d) % (bigOf(pp) - 1n);
    const dq = bigOf(d) % (bigOf(q) - 1n);
    return createPrivateKey({
      key: { kty: "RSA", n: b64u(n), e: b64u(e), d: b64u(d), p: b64u(pp), q: b64u(q), dp: b64u(bufOf(dp)), dq: b64u(bufOf(dq)), qi: b64u(qi) },
      format: "jwk",
    });
  }
  if (type.startsWith("ecdsa-sha2-")) {
    const curve = ECDSA_CURVES[p.string().toString()];
    if (!curve) throw new GantryError("InvalidArgument", `unsupported ECDSA curve in ${type}.`);
    const q = p.string();
    const d = p.mpint();
    const [x, y] = [q.subarray(1, 1 + curve.size), q.subarray(1 + curve.size)];
    return createPrivateKey({ key: { kty: "EC", crv: curve.jwk, x: b64u(x), y: b64u(y), d: b64u(pad(d, curve.size)) }, format: "jwk" });
  }
  throw new GantryError("InvalidArgument", `unsupported key type ${type}.`);
}

/** The agent's view of a KeyObject: SSH public blob and signer. */
function sshKeyOf(key: KeyObject, comment: string): SshKey {
  const jwk = key.export({ format: "jwk" });
  if (jwk.kty === "OKP" && jwk.crv === "Ed25519" && jwk.x) {
    const blob = Buffer.concat([str("ssh-ed25519"), str(Buffer.from(jwk.x, "base64url"))]);
    return { publicBlob: blob, comment, sign: (data) => Buffer.concat([str("ssh-ed25519"), str(sign(null, data, key))]) };
  }
  if (jwk.kty === "RSA" && jwk.n && jwk.e) {
    const blob = Buffer.concat([str("ssh-rsa"), mpint(Buffer.from(jwk.e, "base64url")), mpint(Buffer.from(jwk.n, "base64url"))]);
    return {
      publicBlob: blob, comment,
      sign: (data, flags) => {
        const [alg, hash] = flags & 4 ? ["rsa-sha2-512", "sha512"] : flags & 2 ? ["rsa-sha2-256", "sha256"] : ["ssh-rsa", "sha1"];
        return Buffer.concat([str(alg), str(sign(hash, data, key))]);
      },
    };
  }
  const curveName = Object.keys(ECDSA_CURVES).find((k) => ECDSA_CURVES[k].jwk === jwk.crv);
  if (jwk.kty === "EC" && curveName && jwk.x && jwk.y) {
    const curve = ECDSA_CURVES[curveName];
    const alg = `ecdsa-sha2-${curveName}`;
    const q = Buffer.concat([Buffer.of(4), pad(Buffer.from(jwk.x, "base64url"), curve.size), pad(Buffer.from(jwk.y, "base64url"), curve.size)]);
    return {
      publicBlob: Buffer.concat([str(alg), str(curveName), str(q)]), comment,
      sign: (data) => {
        const rs = sign(curve.hash, data, { key, dsaEncoding: "ieee-p1363" });
        const half = rs.length / 2;
        return Buffer.concat([str(alg), str(Buffer.concat([mpint(rs.subarray(0, half)), mpint(rs.subarray(half))]))]);
      },
    };
  }
  throw new GantryError("InvalidArgument", `unsupported key type ${jwk.kty ?? "unknown"}.`);
}

/** The key's fingerprint as ssh-keygen -l prints it (`SHA256:…`). */
export function sshFingerprint(key: SshKey): string {
  return `SHA256:${createHash("sha256").update(key.publicBlob).digest("base64").replace(/=+$/, "")}`;
}

/** Reads SSH wire data: uint32, length-prefixed strings, mpints. */
export class SshReader {
  readonly #buf: Buffer;
  #at = 0;

  constructor(buf: Buffer) {
    this.#buf = buf;
  }

  raw(n: number): Buffer {
    if (this.#at + n > this.#buf.length) throw new GantryError("InvalidArgument", "truncated SSH data.");
    const out = this.#buf.subarray(this.#at, this.#at + n);
    this.#at += n;
    return out;
  }

  uint32(): number {
    return this.raw(4).readUInt32BE(0);
  }

  string(): Buffer {
    return this.raw(this.uint32());
  }

  /** An mpint's magnitude, without the sign byte. */
  mpint(): Buffer {
    const b = this.string();
    return b.length > 0 && b[0] === 0 ? b.subarray(1) : b;
  }
}

/** A length-prefixed SSH string. */
export function str(v: string | Buffer): Buffer {
  const b = typeof v === "string" ? Buffer.from(v) : v;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length, 0);
  return Buffer.concat([len, b]);
}

function mpint(magnitude: Buffer): Buffer {
  let i = 0;
  while (i < magnitude.length - 1 && magnitude[i] === 0) i++;
  const m = magnitude.subarray(i);
  return str(m.length > 0 && m[0] & 0x80 ? Buffer.concat([Buffer.of(0), m]) : m);
}

function b64u(b: Buffer): string {
  return b.toString("base64url");
}

function pad(b: Buffer, size: number): Buffer {
  return b.length >= size ? b.subarray(b.length - size) : Buffer.concat([Buffer.alloc(size - b.length), b]);
}

function bigOf(b: Buffer): bigint {
  return b.length === 0 ? 0n : BigInt(`0x${b.toString("hex")}`);
}

function bufOf(n: bigint): Buffer {
  const hex = n.toString(16);
  return Buffer.from(hex.length % 2 ? `0${hex}` : hex, "hex");
}
