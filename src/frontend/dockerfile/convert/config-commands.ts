// Instructions that change only the image config: ENV, LABEL, MAINTAINER, CMD, ENTRYPOINT, HEALTHCHECK,
// USER, VOLUME, STOPSIGNAL, SHELL, ONBUILD.

import { GantryError } from "../../../util/errors.js";
import type {
  CmdCommand, EntrypointCommand, EnvCommand, HealthcheckCommand, LabelCommand, MaintainerCommand, OnbuildCommand,
  ShellCommand, StopSignalCommand, UserCommand, VolumeCommand,
} from "../instructions/commands.js";
import type { DispatchState } from "./dispatch-state.js";
import { goHealthcheck, goList, goQuoteList } from "./go-format.js";
import { commitToHistory } from "./history.js";
import { addEnv, type DockerImage } from "./image-config.js";

const SIGNALS = new Set(["ABRT", "ALRM", "BUS", "CHLD", "CLD", "CONT", "FPE", "HUP", "ILL", "INT", "IO", "IOT", "KILL",
  "PIPE", "POLL", "PROF", "PWR", "QUIT", "SEGV", "STKFLT", "STOP", "SYS", "TERM", "TRAP", "TSTP", "TTIN", "TTOU", "URG",
  "USR1", "USR2", "VTALRM", "WINCH", "XCPU", "XFSZ", "RTMIN", "RTMAX"]);

export function dispatchEnv(d: DispatchState, c: EnvCommand): void {
  let msg = "ENV";
  for (const e of c.env) {
    msg += ` ${e.key}=${e.value}`;
    d.state = d.state.env(e.key, e.value);
    d.image.config.Env = addEnv(d.image.config.Env ?? [], e.key, e.value);
  }
  commitToHistory(d.image, msg, false);
}

export function dispatchLabel(d: DispatchState, c: LabelCommand): void {
  let msg = "LABEL";
  const labels = { ...(d.image.config.Labels ?? {}) };
  for (const l of c.labels) {
    labels[l.key] = l.value;
    msg += ` ${l.key}=${l.value}`;
  }
  d.image.config.Labels = labels;
  commitToHistory(d.image, msg, false);
}

export function dispatchMaintainer(d: DispatchState, c: MaintainerCommand): void {
  d.image.author = c.maintainer;
  commitToHistory(d.image, `MAINTAINER ${c.maintainer}`, false);
}

/** The shell-form command line: the image's SHELL (or the OS default) plus the joined words. */
export function withShell(img: DockerImage, args: readonly string[]): string[] {
  const shell = img.config.Shell?.length ? [...img.config.Shell]
    : img.os === "windows" ? ["cmd", "/S", "/C"] : ["/bin/sh", "-c"];
  return [...shell, args.join(" ")];
}

export function dispatchCmd(d: DispatchState, c: CmdCommand): void {
  const args = c.prependShell ? withShell(d.image, c.cmdLine) : [...c.cmdLine];
  d.image.config.Cmd = args;
  d.image.config.ArgsEscaped = true;
  d.cmdSet = true;
  commitToHistory(d.image, `CMD ${goQuoteList(args)}`, false);
}

/** Sets the entrypoint; a CMD not set earlier in this stage is dropped (upstream quirk). */
export function dispatchEntrypoint(d: DispatchState, c: EntrypointCommand): void {
  const args = c.prependShell ? withShell(d.image, c.cmdLine) : [...c.cmdLine];
  d.image.config.Entrypoint = args;
  if (!d.cmdSet) d.image.config.Cmd = null;
  commitToHistory(d.image, `ENTRYPOINT ${goQuoteList(args)}`, false);
}

export function dispatchHealthcheck(d: DispatchState, c: HealthcheckCommand): void {
  const h = c.health;
  d.image.config.Healthcheck = {
    Test: [...h.test], Interval: h.interval, Timeout: h.timeout, StartPeriod: h.startPeriod,
    ...(h.startInterval ? { StartInterval: h.startInterval } : {}), Retries: h.retries,
  };
  commitToHistory(d.image, `HEALTHCHECK ${goHealthcheck(d.image.config.Healthcheck)}`, false);
}

/** Sets the user for later steps; `commit` false applies a base image's USER without history. */
export function dispatchUser(d: DispatchState, c: Pick<UserCommand, "user">, commit: boolean): void {
  d.state = d.state.user(c.user);
  d.image.config.User = c.user;
  if (commit) commitToHistory(d.image, `USER ${c.user}`, false);
}

export function dispatchVolume(d: DispatchState, c: VolumeCommand): void {
  const volumes = { ...(d.image.config.Volumes ?? {}) };
  for (const v of c.volumes) {
    if (v === "") throw new GantryError("InvalidArgument", "VOLUME specified can not be an empty string");
    volumes[v] = {};
  }
  d.image.config.Volumes = volumes;
  commitToHistory(d.image, `VOLUME ${goList(c.volumes)}`, false);
}

export function dispatchStopSignal(d: DispatchState, c: StopSignalCommand): void {
  checkSignal(c.signal);
  d.image.config.StopSignal = c.signal;
  commitToHistory(d.image, `STOPSIGNAL ${c.signal}`, false);
}

export function dispatchShell(d: DispatchState, c: ShellCommand): void {
  d.image.config.Shell = [...c.shell];
  commitToHistory(d.image, `SHELL ${goList(c.shell)}`, false);
}

/** Records an ONBUILD trigger; it runs when another build uses this image as its base. */
export function dispatchOnbuild(d: DispatchState, c: OnbuildCommand): void {
  d.image.config.OnBuild = [...(d.image.config.OnBuild ?? []), c.expression];
}

// moby/sys/signal.ParseSignal: a positive number, or a known name with or without SIG.
function checkSignal(raw: string): void {
  if (/^\d+$/.test(raw) && Number(raw) > 0) return;
  const name = raw.toUpperCase().replace(/^SIG/, "");
  if (SIGNALS.has(name) || /^RTMIN\+\d+$|^RTMAX-\d+$/.test(name)) return;
  throw new GantryError("InvalidArgument", `Invalid signal: ${raw}`);
}
