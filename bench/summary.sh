#!/usr/bin/env bash
# make bench-summary: pcap-summary against tshark, tcpdump and cat on a ~1 GB capture,
# then pcap-summary's peak memory on a SYN flood of a million connections.
#
# Generates the captures once (BENCH_FILE, default /tmp/progjar-bench.pcap;
# FLOOD_FILE, default /tmp/progjar-synflood.pcap), warms the page cache, then
# times each tool reading them and prints wall time, peak RSS and the ratios.
# The runs of cat and pcap-summary alternate, best of BENCH_RUNS (5) each, so
# a machine busy with something else slows them alike. BENCH_BASELINE=PATH
# adds another pcap-summary binary (an older build, say) to the same rounds:
# the way to compare two versions on the same machine in the same run.
# tshark and tcpdump are installed here from Debian's packages for the
# benchmark only; the product does not need them.
set -euo pipefail
cd "$(dirname "$0")/.."

file=${BENCH_FILE:-/tmp/progjar-bench.pcap}
flood=${FLOOD_FILE:-/tmp/progjar-synflood.pcap}
runs=${BENCH_RUNS:-5}
baseline=${BENCH_BASELINE:-}
# 1M SYN-only conversations must fit in this (issue 16).
flood_target_mb=400
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
if [ -n "$baseline" ] && [ ! -x "$baseline" ]; then
  echo "bench: BENCH_BASELINE=$baseline is not an executable" >&2
  exit 2
fi

cargo build --release -q -p pcap-summary --bin pcap-summary --example bench_capture --example syn_flood
if [ ! -s "$file" ]; then
  target/release/examples/bench_capture "$file"
fi
if [ ! -s "$flood" ]; then
  target/release/examples/syn_flood "$flood" 1000000
fi
ours=target/release/pcap-summary

# Best wall time and the peak RSS of that run, per name, over rounds in
# which every command runs once.
declare -A best_wall best_rss
order=()
run_once() {
  local name=$1 out wall kb
  shift
  out=$(/usr/bin/time -f '%e %M' sh -c "$* > /dev/null" 2>&1 >/dev/null | tail -n1)
  wall=${out% *} kb=${out#* }
  if [ -z "${best_wall[$name]:-}" ]; then
    order+=("$name")
    best_wall[$name]=$wall best_rss[$name]=$kb
  elif awk -v a="$wall" -v b="${best_wall[$name]}" 'BEGIN{exit !(a<b)}'; then
    best_wall[$name]=$wall best_rss[$name]=$kb
  fi
}

# name wall rss ratio-to-ours, one row
table() {
  local reference=$1 name
  for name in "${order[@]}"; do
    printf '%-34s %10.2f %12.1f %16.2f\n' "$name" "${best_wall[$name]}" \
      "$(awk -v r="${best_rss[$name]}" 'BEGIN{print r/1024}')" \
      "$(awk -v w="${best_wall[$name]}" -v o="${best_wall[$reference]}" 'BEGIN{print w/o}')"
  done
}

packets_of() { "$ours" --json "$1" | grep -o '"packets":[0-9]*' | head -n1 | cut -d: -f2; }

cat "$file" >/dev/null # warm the page cache: every tool reads from memory
for _ in $(seq "$runs"); do
  run_once "cat" cat "$file"
  run_once "pcap-summary --json" "$ours" --json "$file"
  [ -z "$baseline" ] || run_once "baseline pcap-summary --json" "$baseline" --json "$file"
done
run_once "tcpdump -r -nn" tcpdump -r "$file" -nn
run_once "tshark -q -z conv,tcp" tshark -q -z conv,tcp -r "$file"
size=$(stat -c %s "$file")
printf '\ncapture: %s, %.2f GB, %s packets\n' "$file" "$(awk -v s="$size" 'BEGIN{print s/1e9}')" \
  "$(packets_of "$file")"
printf '%-34s %10s %12s %16s\n' tool "wall (s)" "peak RSS MB" "time / ours"
table "pcap-summary --json"

# The SYN flood: every packet a conversation of its own.
best_wall=() best_rss=() order=()
cat "$flood" >/dev/null
for _ in $(seq "$runs"); do
  run_once "pcap-summary --json" "$ours" --json "$flood"
  run_once "pcap-summary (text)" "$ours" "$flood"
  if [ -n "$baseline" ]; then
    run_once "baseline pcap-summary --json" "$baseline" --json "$flood"
    run_once "baseline pcap-summary (text)" "$baseline" "$flood"
  fi
done
size=$(stat -c %s "$flood")
printf '\nSYN flood: %s, %.1f MB, %s packets, each its own conversation\n' "$flood" \
  "$(awk -v s="$size" 'BEGIN{print s/1e6}')" "$(packets_of "$flood")"
printf '%-34s %10s %12s %16s\n' tool "wall (s)" "peak RSS MB" "time / ours"
table "pcap-summary --json"
"$ours" "$flood" | sed -n 3p
worst=0
for name in "pcap-summary --json" "pcap-summary (text)"; do
  worst=$(awk -v a="$worst" -v b="${best_rss[$name]}" 'BEGIN{print (b>a)?b:a}')
done
worst_mb=$(awk -v r="$worst" 'BEGIN{printf "%.1f", r/1024}')
if awk -v r="$worst" -v t="$flood_target_mb" 'BEGIN{exit !(r/1024 < t)}'; then
  echo "peak RSS on 1M SYN-only conversations: $worst_mb MB, under the $flood_target_mb MB target"
else
  echo "peak RSS on 1M SYN-only conversations: $worst_mb MB, NOT under the $flood_target_mb MB target" >&2
  exit 1
fi
