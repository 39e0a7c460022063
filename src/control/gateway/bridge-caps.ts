// The LLBBridge capabilities this engine serves, as upstream's cap ids (frontend/gateway/pb/caps.go,
// solver/pb/caps.go). gantryd's LLBBridge service and the gateway frontend's stdio server answer Ping
// with the same lists.
import { create } from "@bufbuild/protobuf";
import { APICapSchema, type APICap } from "../../gen/moby/buildkit/v1/apicaps/caps_pb.js";

export const FRONTEND_CAPS: readonly string[] = ["solve.base", "solve.inlinereturn", "resolveimage", "resolveimage.resolvemode",
  "readfile", "return", "returnmap", "readdir", "statfile", "proto.refarray", "reference.output", "frontend.inputs",
  "gateway.solve.metadata", "gateway.solve.evaluate", "gateway.evaluate", "gateway.warnings"];

export const LLB_CAPS: readonly string[] = ["source.image", "source.image.resolvemode", "source.local", "source.local.unique",
  "source.local.sessionid", "source.local.includepatterns", "source.local.followpaths", "source.local.excludepatterns",
  "source.local.sharedkeyhint", "source.local.differ", "source.git", "source.git.keepgitdir", "source.git.fullurl",
  "source.git.subdir", "source.http", "source.http.checksum", "source.http.perm", "soruce.http.uidgid", "exec.meta.base",
  "exec.meta.network", "exec.meta.proxyenv", "exec.meta.security", "exec.meta.setsdefaultpath", "exec.meta.ulimit",
  "exec.meta.removemountstubs.recursive", "exec.mount.bind", "exec.mount.bind.readwrite-nooutput", "exec.mount.cache",
  "exec.mount.cache.sharing", "exec.mount.selector", "exec.mount.tmpfs", "exec.mount.tmpfs.size", "exec.mount.secret",
  "file.base", "file.rm.wildcard", "file.copy.includeexcludepatterns", "file.rm.nofollowsymlink", "constraints", "platform",
  "meta.ignorecache", "meta.description", "meta.exportcache", "mergeop", "diffop", "exporter.image.annotations",
  "exporter.sourcedateepoch"];

/** The caps as Ping's APICap messages, all enabled. */
export function enabledCaps(ids: readonly string[]): APICap[] {
  return ids.map((ID) => create(APICapSchema, { ID, Enabled: true }));
}
