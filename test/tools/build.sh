#!/usr/bin/env bash
# Builds a tool the tests run from its Go module, at a pinned version, into a cache outside the
# repository that later runs reuse; prints the binary's path.
#   build.sh kustomize v5.5.0    sigs.k8s.io/kustomize/kustomize/v5 (v5.5.0 is what kubectl 1.32 bundles)
#   build.sh helm v4.3.2         helm.sh/helm/v4/cmd/helm
# A flock on the cache directory makes a second run wait for the first instead of building twice;
# the binary lands in the cache only once it is complete.
set -euo pipefail
tool=${1:?usage: build.sh TOOL VERSION}
version=${2:?usage: build.sh TOOL VERSION}
case $tool in
  kustomize) pkg=sigs.k8s.io/kustomize/kustomize/v5 ;;
  helm) pkg=helm.sh/helm/v4/cmd/helm ;;
  *) echo "build.sh: unknown tool $tool" >&2; exit 2 ;;
esac
[[ $version =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "build.sh: version $version is not vX.Y.Z" >&2; exit 2; }
out=${XDG_CACHE_HOME:-$HOME/.cache}/sidekick/$tool-$version
bin=$out/$tool
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi
command -v go >/dev/null || { echo "go is not installed: the tests build $tool $version with it" >&2; exit 1; }
mkdir -p "$out"
exec 9>"$out/.lock"
flock 9
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi
echo "building $tool $version ($pkg) into $out" >&2
start=$SECONDS
tmp=$(mktemp -d "$out/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
ldflags="-s -w"
# helm reports the version linked in here; kustomize reads its own from the module's build info.
[ "$tool" = helm ] && ldflags="$ldflags -X helm.sh/helm/v4/internal/version.version=$version"
CGO_ENABLED=0 GOBIN="$tmp" GOFLAGS=-mod=mod go install -trimpath -ldflags "$ldflags" "$pkg@$version" >&2
mv "$tmp/$tool" "$bin"
echo "built $tool $version in $((SECONDS - start)) s" >&2
echo "$bin"
