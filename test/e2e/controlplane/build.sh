#!/usr/bin/env bash
# Builds the Kubernetes binaries the tests run, from Go modules at the versions pinned in go.mod,
# into a cache outside the repository that later runs reuse; prints the cache directory.
#   build.sh            kube-apiserver, kube-controller-manager and etcd (the e2e suite)
#   build.sh kubelet    the same plus kubelet (the node suite)
# Each binary is built only when missing, and lands in the cache only once it is complete.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
k8s=$(awk '/^require k8s.io\/kubernetes /{print $3}' "$here/go.mod")
etcd=$(awk '$1=="go.etcd.io/etcd/server/v3"{print $2}' "$here/go.mod")
out=${SIDEKICK_K8S_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/sidekick/k8s-$k8s}
wanted=(kube-apiserver kube-controller-manager etcd "$@")
missing=()
for name in "${wanted[@]}"; do
  case $name in
    kube-apiserver | kube-controller-manager | etcd | kubelet) ;;
    *) echo "build.sh: unknown binary $name" >&2; exit 2 ;;
  esac
  [ -x "$out/$name" ] || missing+=("$name")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "$out"
  exit 0
fi
command -v go >/dev/null || { echo "go is not installed: the tests build ${missing[*]} with it" >&2; exit 1; }
minor=${k8s#v1.}; minor=${minor%%.*}
ver="-X k8s.io/component-base/version.gitVersion=$k8s -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean"
mkdir -p "$out"
cd "$here"
export CGO_ENABLED=0
for name in "${missing[@]}"; do
  echo "building $name ($k8s, etcd $etcd) into $out" >&2
  start=$SECONDS
  tmp="$out/.$name.tmp.$$"
  case $name in
    etcd) go build -mod=mod -trimpath -pgo=off -ldflags "-s -w" -o "$tmp" go.etcd.io/etcd/server/v3 >&2 ;;
    *) go build -mod=mod -trimpath -pgo=off -ldflags "-s -w $ver" -o "$tmp" "k8s.io/kubernetes/cmd/$name" >&2 ;;
  esac
  mv "$tmp" "$out/$name"
  echo "built $name in $((SECONDS - start)) s" >&2
done
echo "$out"
