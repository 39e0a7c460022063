#!/usr/bin/env bash
# The README's first command: install what is needed, start a loopback registry holding a busybox image,
# build BuildKit's quick-start example in-process and check the OCI tarball with skopeo and umoci.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/start-registry.sh
out=$(mktemp -d)
config='{"architecture":"amd64","os":"linux","config":{"Cmd":["/bin/sh"]}}'
node examples/quickstart.mjs | node dist/bin/cli/main.js build --progress plain \
  --output "type=oci,dest=$out/image.tar,name=localhost/quickstart:latest,\"containerimage.config=${config//\"/\"\"}\""
skopeo inspect "oci-archive:$out/image.tar" | grep -E '"(Digest|Architecture|Os)"'
mkdir "$out/layout" && tar -xf "$out/image.tar" -C "$out/layout"
umoci unpack --image "$out/layout:latest" "$out/bundle" >/dev/null
echo "/file in the image says: $(cat "$out/bundle/rootfs/file")"
echo "image: $out/image.tar"
