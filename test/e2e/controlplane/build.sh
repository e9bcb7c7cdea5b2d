#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager and etcd from Go modules at the versions
# pinned in go.mod, into a cache outside the repository that later runs reuse.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
k8s=$(awk '/^require k8s.io\/kubernetes /{print $3}' "$here/go.mod")
etcd=$(awk '$1=="go.etcd.io/etcd/server/v3"{print $2}' "$here/go.mod")
out=${SIDEKICK_K8S_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/sidekick/k8s-$k8s}
if [ -x "$out/kube-apiserver" ] && [ -x "$out/kube-controller-manager" ] && [ -x "$out/etcd" ]; then
  echo "$out"
  exit 0
fi
command -v go >/dev/null || { echo "go is not installed: the end-to-end suite needs it to build the control plane" >&2; exit 1; }
minor=${k8s#v1.}; minor=${minor%%.*}
ver="-X k8s.io/component-base/version.gitVersion=$k8s -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean"
tmp="$out.tmp.$$"
mkdir -p "$tmp"
cd "$here"
echo "building kube-apiserver, kube-controller-manager $k8s and etcd $etcd into $out" >&2
export CGO_ENABLED=0
go build -mod=mod -trimpath -pgo=off -ldflags "-s -w $ver" -o "$tmp/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver >&2
go build -mod=mod -trimpath -pgo=off -ldflags "-s -w $ver" -o "$tmp/kube-controller-manager" k8s.io/kubernetes/cmd/kube-controller-manager >&2
go build -mod=mod -trimpath -pgo=off -ldflags "-s -w" -o "$tmp/etcd" go.etcd.io/etcd/server/v3 >&2
rm -rf "$out"
mv "$tmp" "$out"
echo "$out"
