// Test fixtures: the image configs the dockerfile-diff corpus pushes (shared/conformance/dockerfile-diff/
// setup-images.py), so conversions can be checked without a registry.

import type { ResolvedImageConfig } from "../../../frontend.js";
import { GantryError } from "../../../../util/errors.js";

const CREATED = "2023-11-14T22:13:20Z";
const PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const BUSYBOX_DIFF = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
const LAYER2_DIFF = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

function history(...items: [string, boolean][]): object[] {
  return items.map(([createdBy, empty]) => ({
    created: CREATED, created_by: createdBy, comment: "cf-setup", ...(empty ? { empty_layer: true } : {}),
  }));
}

const BASE = { created: CREATED, architecture: "amd64", os: "linux" };

/** Config JSON and manifest digest of each corpus image, by normalised reference. */
export const CF_IMAGES: ReadonlyMap<string, { digest: string; config: object }> = new Map([
  ["localhost:5000/cf/busybox:1", {
    // The real digest, as pinned in shared/conformance/llb/*.json.
    digest: "sha256:ca93dc8e7f649ba8191273c4cd696a0c3bd9cc1a0ddafc53ee06f506c243d718",
    config: { ...BASE, config: {}, rootfs: { type: "layers", diff_ids: [BUSYBOX_DIFF] },
      history: history(["cf-setup: busybox layer", false]) },
  }],
  ["localhost:5000/cf/config:1", {
    digest: "sha256:3333333333333333333333333333333333333333333333333333333333333333",
    config: { ...BASE, config: {
      Env: [PATH_ENV, "BASE_ENV=from-base", "SHARED=base"],
      Cmd: ["/bin/sh", "-c", "echo base-cmd"],
      WorkingDir: "/srv",
      Labels: { "base.only": "yes", shared: "base" },
      ExposedPorts: { "8080/tcp": {} },
      Volumes: { "/basevol": {} },
      StopSignal: "SIGQUIT",
      Healthcheck: { Test: ["CMD-SHELL", "true"], Interval: 30000000000, Retries: 2 },
      Shell: ["/bin/sh", "-ec"],
    }, rootfs: { type: "layers", diff_ids: [BUSYBOX_DIFF, LAYER2_DIFF] },
    history: history(["cf-setup: busybox layer", false], ["cf-setup: config layer", false], ["cf-setup: config", true]) },
  }],
  ["localhost:5000/cf/onbuild:1", {
    digest: "sha256:4444444444444444444444444444444444444444444444444444444444444444",
    config: { ...BASE, config: {
      Env: [PATH_ENV, "OB_BASE=1"],
      WorkingDir: "/opt",
      OnBuild: ["ARG OB_ARG=ob-default", "RUN echo \"onbuild run: $OB_ARG $OB_BASE\" > /opt/onbuild-run.txt",
        "COPY ob-ctx.txt /opt/onbuild-copied/", "ENV FROM_ONBUILD=yes", "LABEL onbuild.trigger=ran"],
    }, rootfs: { type: "layers", diff_ids: [BUSYBOX_DIFF, LAYER2_DIFF] },
    history: history(["cf-setup: busybox layer", false], ["cf-setup: onbuild layer", false], ["cf-setup: onbuild triggers", true]) },
  }],
]);

/** A resolveImageConfig over CF_IMAGES; NotFound for anything else. Records the refs asked for. */
export function createFakeResolver(asked: string[] = []): (ref: string) => Promise<ResolvedImageConfig> {
  return async (ref) => {
    asked.push(ref);
    const img = CF_IMAGES.get(ref);
    if (img === undefined) throw new GantryError("NotFound", `${ref}: not found`);
    return { ref: `${ref}@${img.digest}`, digest: img.digest, config: new TextEncoder().encode(JSON.stringify(img.config)) };
  };
}
