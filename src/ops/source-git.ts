// `git://` sources: the repository at a ref (branch, tag or commit), optionally one subdirectory, in a new
// snapshot. The ref is resolved to a commit first (`git ls-remote`), and the commit is the cache key, so a
// moved branch re-runs and an unchanged one stays cached. Runs the git CLI.
import { execFile } from "node:child_process";
import { cp, mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import type { SourceOp } from "../gen/pb/ops_pb.js";
import { Attrs } from "../llb/keys.js";
import type { CacheMap, Op, OpContext } from "../solver/types.js";
import { sha256 } from "../util/digest.js";
import { GantryError } from "../util/errors.js";
import type { OpDeps } from "./op-deps.js";
import { fillSnapshot } from "./with-mounted.js";
import { WorkerRef } from "./worker-ref.js";

const run = promisify(execFile);
const COMMIT_RE = /^[0-9a-f]{40}$/;

async function git(args: string[], opts: { cwd?: string; signal?: AbortSignal }): Promise<string> {
  try {
    const { stdout } = await run("git", args, { cwd: opts.cwd, signal: opts.signal, maxBuffer: 16 * 1024 * 1024,
      env: { ...process.env, GIT_TERMINAL_PROMPT: "0", GIT_ASKPASS: "true" } });
    return stdout;
  } catch (err) {
    const stderr = String((err as { stderr?: unknown }).stderr ?? "").trim().split("\n").slice(-2).join(" ");
    throw new GantryError("FailedPrecondition", `git ${args[0]} failed: ${stderr || (err as Error).message}`, { cause: err });
  }
}

function parseIdentifier(src: SourceOp): { remote: string; ref: string; subdir: string } {
  const rest = src.identifier.slice("git://".length);
  const hash = rest.indexOf("#");
  const fragment = hash >= 0 ? rest.slice(hash + 1) : "";
  const colon = fragment.indexOf(":");
  const remote = src.attrs[Attrs.gitFullURL] || `https://${hash >= 0 ? rest.slice(0, hash) : rest}`;
  return { remote, ref: colon >= 0 ? fragment.slice(0, colon) : fragment, subdir: colon >= 0 ? fragment.slice(colon + 1) : "" };
}

/** The commit a ref names on the remote; a full commit id is taken as it is. */
async function resolveCommit(remote: string, ref: string, signal?: AbortSignal): Promise<string> {
  if (COMMIT_RE.test(ref)) return ref;
  const out = await git(["ls-remote", remote, ...(ref ? [ref, `refs/tags/${ref}^{}`] : ["HEAD"])], { signal });
  const lines = out.trim().split("\n").filter(Boolean).map((l) => l.split("\t"));
  const peeled = lines.find(([, name]) => name?.endsWith("^{}"));
  const hit = peeled ?? lines[0];
  if (!hit) throw new GantryError("NotFound", `git ref "${ref || "HEAD"}" was not found in ${remote}.`);
  return hit[0];
}

export function createGitSourceOp(src: SourceOp, deps: OpDeps): Op<WorkerRef> {
  const { remote, ref, subdir } = parseIdentifier(src);
  const keepGitDir = src.attrs[Attrs.gitKeepDir] === "true";
  let commit: Promise<string> | undefined;
  const commitOf = (ctx: OpContext): Promise<string> => {
    commit ??= resolveCommit(remote, ref, ctx.signal);
    commit.catch(() => (commit = undefined));
    return commit;
  };
  return {
    async cacheMap(ctx): Promise<CacheMap<WorkerRef>> {
      return { digest: sha256(`git\0${await commitOf(ctx)}\0${subdir}\0${keepGitDir}`), deps: [] };
    },
    async exec(ctx): Promise<WorkerRef[]> {
      const sha = await commitOf(ctx);
      const work = await mkdtemp(join(deps.tmpDir, "git-"));
      try {
        ctx.progress.status(`fetching ${remote}`, 0, 0);
        await git(["init", "-q", work], { signal: ctx.signal });
        await git(["fetch", "-q", "--depth=1", remote, sha], { cwd: work, signal: ctx.signal })
          .catch(() => git(["fetch", "-q", remote, ref || "HEAD"], { cwd: work, signal: ctx.signal }));
        await git(["-c", "advice.detachedHead=false", "checkout", "-q", sha], { cwd: work, signal: ctx.signal });
        await git(["submodule", "update", "--init", "--recursive", "--depth=1"], { cwd: work, signal: ctx.signal }).catch(() => undefined);
        ctx.progress.statusDone(`fetching ${remote}`);
        if (!keepGitDir) await rm(join(work, ".git"), { recursive: true, force: true });
        const from = subdir ? join(work, subdir) : work;
        const filled = await fillSnapshot(deps.refs, deps.tmpDir, {
          parent: null,
          signal: ctx.signal,
          fill: (dir) => cp(from, dir, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true }),
          commit: { recordType: "source.git.checkout", description: `git snapshot for ${redacted(remote)}#${ref || "HEAD"}` },
        });
        return [new WorkerRef(filled.ref)];
      } finally {
        await rm(work, { recursive: true, force: true });
      }
    },
  };
}

/** The remote without credentials, for record descriptions that `du` prints. */
function redacted(remote: string): string {
  try {
    const url = new URL(remote);
    if (url.password) url.password = "xxxxx";
    return url.toString();
  } catch {
    return remote; // scp-like (git@host:repo): no password to hide
  }
}
