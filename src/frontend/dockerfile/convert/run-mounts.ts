// RUN --mount: bind/cache/tmpfs mounts of stages or the context, secrets and SSH sockets.

import { posix } from "node:path";
import { goClean } from "../../../llb/file-actions.js";
import type { MountOptions } from "../../../llb/run-options.js";
import { mkdir, scratch, type State } from "../../../llb/state.js";
import { GantryError, type SourceRange } from "../../../util/errors.js";
import type { RunCommand } from "../instructions/commands.js";
import { parseRunMount, type RunMount } from "../instructions/run-mount.js";
import type { DispatchContext } from "./dispatch-context.js";
import type { DispatchState } from "./dispatch-state.js";
import type { Expander } from "./expand.js";
import type { StageOutline } from "./stage-outline.js";
import { internalName } from "./vertex-names.js";

type Mount = MountOptions<State>;

/** The mounts of a RUN, values expanded; `sources[i]` is the stage mount i reads. */
export function runMounts(d: DispatchState, c: RunCommand, sources: readonly DispatchState[], ctx: DispatchContext,
  expand: Expander): Mount[] {
  const out: Mount[] = [];
  c.mountSpecs.forEach((spec, i) => {
    const m = parseRunMount(spec, expand);
    const mount = m.type === "secret" ? secretMount(m) : m.type === "ssh" ? sshMount(m) : fsMount(d, m, sources[i], ctx);
    recordOutline(d.outline, m, mount, c.location);
    out.push(mount);
  });
  return out;
}

// The first mount of each secret, SSH or cache id is what the outline reports.
function recordOutline(o: StageOutline, m: RunMount, mount: Mount, location: SourceRange[]): void {
  if (m.type === "secret" && mount.id !== undefined && !o.secrets.has(mount.id)) {
    o.secrets.set(mount.id, { required: m.required, location });
  } else if (m.type === "ssh") {
    const id = m.id === "" ? "default" : m.id;
    if (!o.ssh.has(id)) o.ssh.set(id, { required: m.required, location });
  } else if (m.type === "cache") {
    const id = m.id === "" ? goClean(m.target) : m.id;
    if (!o.cache.has(id)) o.cache.set(id, location);
  }
}

function fsMount(d: DispatchState, m: RunMount, source: DispatchState | undefined, ctx: DispatchContext): Mount {
  const from = m.from === "" && m.type === "cache" ? "scratch" : m.from;
  let st: State | undefined = from !== "" && source ? source.state : ctx.buildContext;
  const out: Mount = { target: "", type: m.type };
  if (m.type === "tmpfs") {
    st = undefined;
    if (m.sizeLimit > 0) out.size = m.sizeLimit;
  }
  if (m.readonly) out.readonly = true;
  else if (m.type === "bind") out.noOutput = true;
  if (m.type === "cache") {
    out.cacheId = `${ctx.cacheIdNamespace}/${m.id === "" ? goClean(m.target) : m.id}`;
    out.sharing = m.sharing ?? "shared";
  }
  const target = posix.isAbsolute(m.target) ? m.target : posix.join("/", d.state.getDir(), m.target);
  if (posix.normalize(target) === "/") throw new GantryError("InvalidArgument", `invalid mount target "${target}"`);
  out.target = target;
  const src = posix.join("/", m.source);
  if (src !== "/") {
    out.selector = src;
  } else if (m.uid !== undefined || m.gid !== undefined || m.mode !== undefined) {
    // Cache ownership and mode are set by mounting a prepared sub-directory.
    st = (st ?? scratch()).file(mkdir("/cache", m.mode ?? 0o755, { owner: { user: m.uid ?? 0, group: m.gid ?? 0 } }),
      { customName: internalName("settings cache mount permissions") });
    out.selector = "/cache";
  }
  if (st !== undefined && !st.isScratch()) out.source = st;
  if (from === "") d.ctxPaths.add(posix.join("/", m.source));
  return out;
}

function secretMount(m: RunMount): Mount {
  let id = m.source !== "" ? m.source : m.id;
  if (id === "") {
    if (m.target === "" && m.env === undefined) throw new GantryError("InvalidArgument", "one of source, target required");
    id = posix.basename(m.target);
  }
  const out: Mount = { type: "secret", id, optional: !m.required };
  const target = m.target !== "" ? m.target : m.env === undefined ? `/run/secrets/${posix.basename(id)}` : "";
  if (target !== "") out.target = target;
  if (m.env !== undefined) out.env = m.env;
  if (m.uid !== undefined || m.gid !== undefined || m.mode !== undefined) {
    out.uid = m.uid ?? 0;
    out.gid = m.gid ?? 0;
    out.mode = m.mode ?? 0o400;
  }
  return out;
}

function sshMount(m: RunMount): Mount {
  if (m.source !== "") throw new GantryError("InvalidArgument", "ssh does not support source");
  const out: Mount = { type: "ssh", id: m.id, optional: !m.required };
  if (m.target !== "") out.target = m.target;
  if (m.uid !== undefined || m.gid !== undefined || m.mode !== undefined) {
    out.uid = m.uid ?? 0;
    out.gid = m.gid ?? 0;
    out.mode = m.mode ?? 0o600;
  }
  return out;
}
