#!/usr/bin/env bash
# npm run test:node: sidekick's injected sidecars on a real node. Builds what is missing (kubelet
# and the sidecars' programs from Go modules, the images from files), then runs the suite with
# the whole cluster (etcd, kube-apiserver, kube-controller-manager, containerd, kubelet, the
# webhook) inside a network namespace of its own and a private mount namespace, and removes all
# of it afterwards: processes, cgroups, the namespace, and every path it had to create.
# usage: run.sh [COMMAND…]: COMMAND runs in that cluster's namespaces in place of the suite
# (`npm run bench:cluster` runs its node phase so); it is started from the repository.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
in_ci=false
case ${CI:-} in true | TRUE | True | 1) in_ci=true ;; esac

# Without what it needs the suite says exactly what is missing; under CI=true it fails instead
# of skipping.
unavailable() {
  if $in_ci; then
    echo "node suite: $1. CI is set, so the node suite fails instead of being skipped." >&2
    exit 1
  fi
  echo "node suite skipped: $1" >&2
  exit 0
}

[ "$(uname -s)" = Linux ] || unavailable "it needs Linux (network namespaces, cgroups, overlayfs)"
[ "$(id -u)" = 0 ] || unavailable "it needs root: it creates a network namespace, mounts and cgroups"
grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null || unavailable "the kernel has no overlay filesystem (containerd's snapshotter)"
[ -d /sys/fs/cgroup/memory ] || [ -f /sys/fs/cgroup/cgroup.controllers ] || unavailable "no cgroup hierarchy is mounted at /sys/fs/cgroup"
command -v go >/dev/null || unavailable "go is not installed: kubelet and the sidecars' programs are built with it"

# Debian's packages, installed when missing: containerd and runc, the CNI plugins, busybox for
# the test images, iptables and iproute2 for the node, util-linux for nsenter/unshare, skopeo to
# read the image archives as docker and podman do, git for the git-sync scenario (its server
# and the image of git-sync's stand-in).
declare -A needs=(
  [containerd]=containerd [ctr]=containerd [containerd-shim-runc-v2]=containerd [runc]=runc
  [/usr/lib/cni/bridge]=containernetworking-plugins [/usr/lib/cni/host-local]=containernetworking-plugins
  [/usr/lib/cni/loopback]=containernetworking-plugins [/usr/bin/busybox]=busybox-static
  [iptables]=iptables [skopeo]=skopeo [git]=git [/usr/lib/git-core/git-http-backend]=git [ip]=iproute2 [nsenter]=util-linux [unshare]=util-linux [tar]=tar
)
missing=()
for what in "${!needs[@]}"; do
  if [[ $what == /* ]]; then [ -x "$what" ] || missing+=("${needs[$what]}")
  else command -v "$what" >/dev/null || missing+=("${needs[$what]}"); fi
done
if [ ${#missing[@]} -gt 0 ]; then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  command -v apt-get >/dev/null || unavailable "missing packages ${missing[*]}, and no apt-get to install them"
  echo "node suite: installing ${missing[*]}" >&2
  # No service may start from the install (the machine may run a containerd of its own).
  guard=false
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && guard=true
  fi
  status=0
  { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"; } >&2 || status=$?
  if $guard; then rm -f /usr/sbin/policy-rc.d; fi
  [ $status = 0 ] || unavailable "apt-get could not install ${missing[*]} (exit $status)"
fi

# One node run at a time on a machine: a second waits here instead of finding the first one's
# kubepods cgroups (or racing it on the cached builds) and giving up.
exec 9>"${SIDEKICK_NODE_LOCK:-/tmp/sidekick-node.lock}"
if ! flock -n 9; then
  echo "node suite: waiting for another node run on this machine to finish" >&2
  flock 9
fi

# A kubelet that is already running here would share the kubepods cgroups.
for h in /sys/fs/cgroup/*/; do
  if [ -d "$h/kubepods" ] && [ -n "$(find "$h/kubepods" -name cgroup.procs -exec cat {} + 2>/dev/null)" ]; then
    unavailable "processes run in $h/kubepods: another kubelet uses this machine"
  fi
done

scratch=$(mktemp -d /tmp/sidekick-node-XXXXXX)
ns="sidekick-node-$$"
created=()
# `ip netns add` makes /run/netns a mount point the first time; put it back as it was.
netns_dir_existed=false
[ -e /run/netns ] && netns_dir_existed=true
# Paths that kubelet, containerd and the CNI plugins use whatever they are told; inside the
# private mount namespace each gets a tmpfs, so the machine's own are never touched.
fixed=(/var/lib/kubelet /var/log/pods /var/log/containers /var/lib/cni /etc/cni /opt/cni /usr/libexec/kubernetes /var/lib/containerd)

leftovers() {
  local left=()
  for h in /sys/fs/cgroup/*/; do [ -d "$h/kubepods" ] && left+=("cgroup $h/kubepods"); done
  ip netns list 2>/dev/null | grep -qw "$ns" && left+=("network namespace $ns")
  for p in "${created[@]}"; do [ -e "$p" ] && left+=("path $p"); done
  [ -e "$scratch" ] && left+=("path $scratch")
  if ! $netns_dir_existed && [ -e /run/netns ]; then left+=("path /run/netns"); fi
  printf '%s\n' "${left[@]}"
}

kill_all() { # kill_all SIGNAL: every process of the node: containers (kubepods), then the namespace's
  local pids
  pids=$(find /sys/fs/cgroup/*/kubepods -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u || true)
  if ip netns list 2>/dev/null | grep -qw "$ns"; then pids="$pids $(ip netns pids "$ns" 2>/dev/null || true)"; fi
  for pid in $pids; do kill "-$1" "$pid" 2>/dev/null || true; done
  [ -n "${pids// /}" ]
}

teardown() {
  local status=$?
  trap - EXIT INT TERM HUP
  # The suite stops everything itself; this is the net for a failed or interrupted run.
  if kill_all TERM; then
    for _ in $(seq 50); do kill_all 0 || break; sleep 0.2; done
    kill_all KILL || true
    for _ in $(seq 50); do kill_all 0 || break; sleep 0.2; done
  fi
  for h in /sys/fs/cgroup/*/; do
    [ -d "$h/kubepods" ] && find "$h/kubepods" -depth -type d -exec rmdir {} + 2>/dev/null
  done
  ip netns del "$ns" 2>/dev/null || true
  if ! $netns_dir_existed && [ -d /run/netns ] && [ -z "$(ls -A /run/netns)" ]; then
    umount /run/netns 2>/dev/null || true
    rmdir /run/netns 2>/dev/null || true
  fi
  rm -rf "$scratch" 2>/dev/null || { sleep 1; rm -rf "$scratch"; } || true
  for ((i = ${#created[@]} - 1; i >= 0; i--)); do rmdir "${created[$i]}" 2>/dev/null || true; done
  local left
  left=$(leftovers)
  if [ -n "$left" ]; then
    echo "node suite: teardown left behind:" >&2
    echo "$left" >&2
    [ $status = 0 ] && status=1
  fi
  exit $status
}
trap teardown EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# The builds need the module proxy, so they run before the suite enters its namespace.
node "$repo/dist/test/node/setup/main.js" "$scratch/setup"

for p in "${fixed[@]}"; do
  [ -e "$p" ] && continue
  # Remember every directory created, outermost first, to remove them afterwards.
  chain=()
  cur=$p
  while [ ! -e "$cur" ]; do chain=("$cur" "${chain[@]}"); cur=$(dirname "$cur"); done
  mkdir -p "$p"
  created+=("${chain[@]}")
done

# The node's network: loopback and a veth pair, both ends inside the namespace, nothing joined
# to the machine's own network and no default route.
node_ip=172.30.99.2
ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" link add sk-node type veth peer name sk-peer
ip -n "$ns" addr add "$node_ip/24" dev sk-node
ip -n "$ns" link set sk-node up
ip -n "$ns" link set sk-peer up

export SIDEKICK_NODE_DIR="$scratch" SIDEKICK_NODE_IP="$node_ip"
# nsenter --net, not `ip netns exec`: the latter remounts /sys and hides the cgroups.
# In the background, so that a signal to this script reaches its trap at once.
nsenter --net="/run/netns/$ns" -- unshare --mount --propagation private -- \
  bash "$repo/test/node/enter.sh" "$repo" "$scratch" "${fixed[@]}" -- "$@" &
wait $!
