#!/usr/bin/env bash
# cert-manager's CustomResourceDefinitions (group cert-manager.io), from the Go module
# github.com/cert-manager/cert-manager at a pinned version (its deploy/crds, what cert-manager's
# release installs), copied into a cache outside the repository; prints that directory.
#   cert-manager-crds.sh v1.21.2
# The apiserver needs them to accept the Certificate and Issuer objects of the cert-manager
# renderings. A flock makes a second run wait for the first; the files land only once complete.
set -euo pipefail
version=${1:?usage: cert-manager-crds.sh VERSION}
[[ $version =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "cert-manager-crds.sh: version $version is not vX.Y.Z" >&2; exit 2; }
module=github.com/cert-manager/cert-manager
out=${XDG_CACHE_HOME:-$HOME/.cache}/sidekick/cert-manager-crds-$version
if [ -f "$out/.complete" ]; then echo "$out"; exit 0; fi
command -v go >/dev/null || { echo "go is not installed: the tests take cert-manager's CRDs from its Go module" >&2; exit 1; }
mkdir -p "$out"
exec 9>"$out/.lock"
flock 9
if [ -f "$out/.complete" ]; then echo "$out"; exit 0; fi
start=$SECONDS
# Outside any module: `go mod download` checks the module against the checksum database.
dir=$(cd / && GOFLAGS=-mod=mod go mod download -json "$module@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
[ -n "$dir" ] && [ -d "$dir/deploy/crds" ] || { echo "cert-manager-crds.sh: no deploy/crds in $module@$version" >&2; exit 1; }
tmp=$(mktemp -d "$out/.copy.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cp "$dir"/deploy/crds/cert-manager.io_*.yaml "$tmp/"
chmod u+w "$tmp"/*.yaml
mv "$tmp"/*.yaml "$out/"
touch "$out/.complete"
echo "cert-manager $version CRDs from $module into $out in $((SECONDS - start)) s" >&2
echo "$out"
