// Exporter wire constants, spelled exactly as upstream BuildKit spells them (exptypes/keys.go and the
// exporters' own attr names), so requests from buildctl and metadata files read the same.

/** ExporterResponse keys. */
export const ResponseKey = {
  imageDigest: "containerimage.digest",
  imageConfigDigest: "containerimage.config.digest",
  imageDescriptor: "containerimage.descriptor",
  imageName: "image.name",
} as const;

/** Exporter attrs (`--output type=…,<attr>=<value>`). */
export const AttrKey = {
  name: "name",
  dest: "dest",
  tar: "tar",
  compression: "compression",
  compressionLevel: "compression-level",
  forceCompression: "force-compression",
  ociMediaTypes: "oci-mediatypes",
  ociArtifact: "oci-artifact",
  sourceDateEpoch: "source-date-epoch",
  rewriteTimestamp: "rewrite-timestamp",
  buildInfo: "buildinfo",
  buildInfoAttrs: "buildinfo-attrs",
  attestationInline: "attestation-inline",
  attestationPrefix: "attestation-prefix",
  preferNondistLayers: "prefer-nondist-layers",
  platformSplit: "platform-split",
  mode: "mode",
  push: "push",
  pushByDigest: "push-by-digest",
  insecure: "registry.insecure",
  nameCanonical: "name-canonical",
  danglingNamePrefix: "dangling-name-prefix",
  store: "store",
  unpack: "unpack",
} as const;

/** Image config key for the deprecated build info that upstream no longer writes into configs. */
export const BUILDINFO_CONFIG_KEY = "moby.buildkit.buildinfo.v1";

/** Annotations set on index.json entries and manifest descriptors. */
export const Annotation = {
  created: "org.opencontainers.image.created",
  refName: "org.opencontainers.image.ref.name",
  containerdImageName: "io.containerd.image.name",
} as const;

/** Content label recording a blob's uncompressed digest (containerd's name). */
export const LABEL_UNCOMPRESSED = "containerd.io/uncompressed";
