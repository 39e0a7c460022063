// Reads BuildKit-style plain progress ("#5 [2/3] RUN …", "#5 DONE 1.2s", "#5 CACHED") as Gantry and Docker
// print it, to show where a build's time went and to pick out the exporter's layer time.
import { readFileSync } from "node:fs";

/** Steps of a plain-progress log: `{ id, name, seconds, cached }`, slowest first. */
export function parseSteps(text) {
  const steps = new Map();
  for (const line of text.split("\n")) {
    const m = /^#(\d+) (.*)$/.exec(line);
    if (!m) continue;
    const [, id, rest] = m;
    let s = steps.get(id);
    if (!s) {
      s = { id: Number(id), name: rest.trim(), seconds: 0, cached: false };
      steps.set(id, s);
    }
    const done = /^DONE ([\d.]+)s$/.exec(rest.trim());
    if (done) s.seconds = Number(done[1]);
    if (rest.trim() === "CACHED") s.cached = true;
  }
  return [...steps.values()].sort((a, b) => b.seconds - a.seconds);
}

/** Seconds the exporter spent making layers ("exporting layers 1.2s done"), or undefined. */
export function exportLayersSeconds(text) {
  const m = /exporting layers ([\d.]+)s done/.exec(text);
  return m ? Number(m[1]) : undefined;
}

/** The three slowest steps of the log at `path`, as a short string ("COPY . /ctx 12.2s; …"). */
export function slowestSteps(path, n = 3) {
  let text;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return "";
  }
  return parseSteps(text).filter((s) => s.seconds > 0).slice(0, n)
    .map((s) => `${s.name.slice(0, 48)} ${s.seconds.toFixed(1)}s`).join("; ");
}

/**
 * Whether the build logged at `path` took `COPY . /ctx` from its cache: from BuildKit's plain progress
 * (`#N [2/3] COPY . /ctx` then `#N CACHED`) or buildah's (`STEP 2/3: COPY . /ctx` then `--> Using cache`);
 * undefined when the log shows neither form.
 */
export function copyWasCached(path) {
  let text;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
  const bk = /^#(\d+) \[[^\]]*\] COPY \. \/ctx$/m.exec(text);
  if (bk) return new RegExp(`^#${bk[1]} CACHED$`, "m").test(text);
  const bh = /STEP \d+\/\d+: COPY \. \/ctx\n(--> Using cache)?/.exec(text);
  return bh ? bh[1] !== undefined : undefined;
}
