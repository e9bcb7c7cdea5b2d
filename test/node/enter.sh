#!/usr/bin/env bash
# Inside the node suite's network namespace and its private mount namespace (run.sh): gives the
# fixed paths a tmpfs each, fakes the kernel settings kubelet insists on setting, then runs the
# suite, or the command given after `--` (the cluster benchmark's). Nothing mounted here is seen
# outside, and it all goes when the last process exits.
# usage: enter.sh REPO SCRATCH FIXED_PATH… [-- COMMAND…]
set -euo pipefail
repo=$1
scratch=$2
shift 2
fixed=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do fixed+=("$1"); shift; done
[ $# -gt 0 ] && shift
mount -t tmpfs -o mode=755 sidekick-run /run
for p in "${fixed[@]}"; do mount -t tmpfs -o mode=755 sidekick-node "$p"; done
# kubelet sets these machine-wide sysctls when they differ from its defaults; here it finds
# files that already hold them, so the machine's values stay as they are.
mkdir -p "$scratch/sysctl"
while read -r key value; do
  file="$scratch/sysctl/${key//\//.}"
  echo "$value" >"$file"
  mount --bind "$file" "/proc/sys/$key"
done <<'SYSCTLS'
vm/overcommit_memory 1
vm/panic_on_oom 0
kernel/panic 10
kernel/panic_on_oops 1
kernel/keys/root_maxkeys 1000000
kernel/keys/root_maxbytes 25000000
SYSCTLS
# The suite's own scratch directories go below the run's, which run.sh removes whatever happens.
export TMPDIR="$scratch/tmp"
mkdir -p "$TMPDIR"
cd "$repo"
[ $# -gt 0 ] && exec "$@"
exec node scripts/run-tests.mjs node
