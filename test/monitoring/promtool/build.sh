#!/usr/bin/env bash
# Builds promtool from the Go module pinned in go.mod into a cache outside the repository that
# later runs reuse; prints the path of the binary. A lock keeps two runs from building it twice.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
version=$(awk '$1=="github.com/prometheus/prometheus"{print $2}' "$here/go.mod")
out=${SIDEKICK_PROMTOOL_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sidekick/promtool-$version}
if [ -x "$out/promtool" ]; then
  echo "$out/promtool"
  exit 0
fi
command -v go >/dev/null || { echo "go is not installed: the monitoring tests build promtool with it" >&2; exit 1; }
mkdir -p "$out"
exec 9>"$out/.lock"
flock 9
if [ ! -x "$out/promtool" ]; then
  echo "building promtool $version into $out" >&2
  start=$SECONDS
  tmp="$out/.promtool.tmp.$$"
  (cd "$here" && CGO_ENABLED=0 go build -mod=mod -trimpath -ldflags "-s -w" -o "$tmp" \
    github.com/prometheus/prometheus/cmd/promtool) >&2
  mv "$tmp" "$out/promtool"
  echo "built promtool in $((SECONDS - start)) s" >&2
fi
echo "$out/promtool"
