#!/usr/bin/env bash
# make bench-summary: pcap-summary against tshark, tcpdump and cat on a ~1 GB capture.
#
# Generates the capture once (BENCH_FILE, default /tmp/progjar-bench.pcap), warms
# the page cache, then times each tool reading it and prints wall time, peak
# RSS and the ratios. tshark and tcpdump are installed here from Debian's
# packages for the benchmark only; the product does not need them.
set -euo pipefail
cd "$(dirname "$0")/.."

file=${BENCH_FILE:-/tmp/progjar-bench.pcap}
runs=${BENCH_RUNS:-5}
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
command -v tshark >/dev/null || missing+=(tshark)
command -v tcpdump >/dev/null || missing+=(tcpdump)
[ -x /usr/bin/time ] || missing+=(time)
if [ ${#missing[@]} -gt 0 ]; then
  echo "bench: installing ${missing[*]} from Debian's packages"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

cargo build --release -q -p pcap-summary --bin pcap-summary --example bench_capture
if [ ! -s "$file" ]; then
  target/release/examples/bench_capture "$file"
fi
size=$(stat -c %s "$file")
cat "$file" >/dev/null # warm the page cache: every tool reads from memory

# best wall time of $runs runs, and the peak RSS of that run
measure() {
  local name=$1 n=$2
  shift 2
  local best="" rss="" out
  for _ in $(seq "$n"); do
    out=$(/usr/bin/time -f '%e %M' sh -c "$* > /dev/null" 2>&1 >/dev/null | tail -n1)
    local wall=${out% *} kb=${out#* }
    if [ -z "$best" ] || awk -v a="$wall" -v b="$best" 'BEGIN{exit !(a<b)}'; then best=$wall; rss=$kb; fi
  done
  printf '%s %s %s\n' "$name" "$best" "$rss"
}

results=$(
  measure "cat" "$runs" cat "$file"
  measure "pcap-summary --json" "$runs" target/release/pcap-summary --json "$file"
  measure "tcpdump -r -nn" 1 tcpdump -r "$file" -nn
  measure "tshark -q -z conv,tcp" 1 tshark -q -z conv,tcp -r "$file"
)
ours=$(awk '/^pcap-summary/ {print $(NF-1)}' <<<"$results")
printf '\ncapture: %s, %.2f GB, %s packets\n' "$file" "$(awk -v s="$size" 'BEGIN{print s/1e9}')" \
  "$(target/release/pcap-summary --json "$file" | grep -o '"packets":[0-9]*' | head -n1 | cut -d: -f2)"
printf '%-24s %10s %12s %16s\n' tool "wall (s)" "peak RSS MB" "time / ours"
while read -r line; do
  rss=${line##* }; rest=${line% *}; wall=${rest##* }; name=${rest% *}
  printf '%-24s %10.2f %12.1f %16.2f\n' "$name" "$wall" "$(awk -v r="$rss" 'BEGIN{print r/1024}')" "$(awk -v w="$wall" -v o="$ours" 'BEGIN{print w/o}')"
done <<<"$results"
