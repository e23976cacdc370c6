#!/usr/bin/env bash
# make bench-summary: pcap-summary against tshark, tcpdump and cat on a ~1 GB capture,
# then pcap-summary's peak memory on a SYN flood of a million connections, then
# its memory while a 5 GB stream is piped into `pcap-summary -` (STREAM_GB).
# Each table says the share of CPU time stolen by the hypervisor during it.
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

# The machine the figures are of.
printf 'machine: %s cores, %s, %s GiB, Linux %s\n' "$(nproc)" \
  "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)" \
  "$(awk '/^MemTotal/ {printf "%.0f", $2/1048576}' /proc/meminfo)" "$(uname -r)"

# CPU time of the whole machine so far, and the part of it stolen by the
# hypervisor (other guests ran on our cores), in ticks: "total steal".
cpu_ticks() {
  local _cpu user nice system idle iowait irq softirq steal _rest
  read -r _cpu user nice system idle iowait irq softirq steal _rest </proc/stat
  echo "$((user + nice + system + idle + iowait + irq + softirq + steal)) $steal"
}

# Best wall time and the peak RSS of that run, per name, over rounds in
# which every command runs once; and the steal over all of a name's runs.
declare -A best_wall best_rss ticks stolen
order=()
run_once() {
  local name=$1 out wall kb before after
  shift
  before=$(cpu_ticks)
  out=$(/usr/bin/time -f '%e %M' sh -c "$* > /dev/null" 2>&1 >/dev/null | tail -n1)
  after=$(cpu_ticks)
  wall=${out% *} kb=${out#* }
  ticks[$name]=$((${ticks[$name]:-0} + ${after% *} - ${before% *}))
  stolen[$name]=$((${stolen[$name]:-0} + ${after#* } - ${before#* }))
  if [ -z "${best_wall[$name]:-}" ]; then
    order+=("$name")
    best_wall[$name]=$wall best_rss[$name]=$kb
  elif awk -v a="$wall" -v b="${best_wall[$name]}" 'BEGIN{exit !(a<b)}'; then
    best_wall[$name]=$wall best_rss[$name]=$kb
  fi
}

# name wall rss ratio-to-ours steal, one row
table() {
  local reference=$1 name
  for name in "${order[@]}"; do
    printf '%-34s %10.2f %12.1f %16.2f %8.1f\n' "$name" "${best_wall[$name]}" \
      "$(awk -v r="${best_rss[$name]}" 'BEGIN{print r/1024}')" \
      "$(awk -v w="${best_wall[$name]}" -v o="${best_wall[$reference]}" 'BEGIN{print w/o}')" \
      "$(awk -v s="${stolen[$name]}" -v t="${ticks[$name]}" 'BEGIN{print (t>0)?100*s/t:0}')"
  done
}
header() { printf '%-34s %10s %12s %16s %8s\n' tool "wall (s)" "peak RSS MB" "time / ours" "steal %"; }

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
header
table "pcap-summary --json"
cat_ratio=$(awk -v o="${best_wall["pcap-summary --json"]}" -v c="${best_wall[cat]}" 'BEGIN{printf "%.2f", o/c}')
tshark_ratio=$(awk -v o="${best_wall["pcap-summary --json"]}" -v t="${best_wall["tshark -q -z conv,tcp"]}" 'BEGIN{printf "%.0f", t/o}')
echo "pcap-summary --json: ${cat_ratio}x the time of cat (target: at most 1.5x), ${tshark_ratio}x faster than tshark (target: at least 100x)"

# The SYN flood: every packet a conversation of its own.
best_wall=() best_rss=() ticks=() stolen=() order=()
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
header
table "pcap-summary --json"
"$ours" "$flood" | sed -n 3p
worst=0
for name in "pcap-summary --json" "pcap-summary (text)"; do
  worst=$(awk -v a="$worst" -v b="${best_rss[$name]}" 'BEGIN{print (b>a)?b:a}')
done
worst_mb=$(awk -v r="$worst" 'BEGIN{printf "%.1f", r/1024}')
failed=0
if awk -v r="$worst" -v t="$flood_target_mb" 'BEGIN{exit !(r/1024 < t)}'; then
  echo "peak RSS on 1M SYN-only conversations: $worst_mb MB, under the $flood_target_mb MB target"
else
  echo "peak RSS on 1M SYN-only conversations: $worst_mb MB, NOT under the $flood_target_mb MB target" >&2
  failed=1
fi

# Standard input: a stream of STREAM_GB (5) GB from 64 long connections,
# piped in as from `tcpdump -w - | pcap-summary -`, never stored in a file.
# pcap-summary's RSS is sampled as the bytes go through (its /proc/PID/io
# says how many it has read): it must stay flat, since nothing of the input
# is kept but the conversations' summaries.
stream_gb=${STREAM_GB:-5}
# 64 connections of 1,000 rounds are 115.9 MB: 43,150 rounds make 5 GB.
rounds=$(awk -v g="$stream_gb" 'BEGIN{printf "%d", g * 1e9 / 115866904 * 1000}')
stats=$(mktemp)
trap 'rm -f "$stats"' EXIT
target/release/examples/bench_capture - 64 --rounds "$rounds" 2>/dev/null |
  /usr/bin/time -f '%e %M' -o "$stats" "$ours" --json - >/dev/null &
timer=$!
reader=
for _ in $(seq 100); do
  reader=$(pgrep -P "$timer" -x pcap-summary || true)
  [ -n "$reader" ] && break
  sleep 0.05
done
printf '\nstandard input: %s GB piped in (64 connections), pcap-summary --json -\n' "$stream_gb"
printf '%12s %12s\n' "read (GB)" "RSS (MB)"
next_mark=0.5 first_rss=''
while [ -n "$reader" ] && [ -r "/proc/$reader/io" ]; do
  read_bytes=$(awk '/^rchar/ {print $2}' "/proc/$reader/io" 2>/dev/null || true)
  rss_kb=$(awk '/^VmRSS/ {print $2}' "/proc/$reader/status" 2>/dev/null || true)
  if [ -z "$read_bytes" ] || [ -z "$rss_kb" ]; then break; fi
  if awk -v r="$read_bytes" -v m="$next_mark" 'BEGIN{exit !(r/1e9 >= m)}'; then
    printf '%12.1f %12.1f\n' "$(awk -v r="$read_bytes" 'BEGIN{print r/1e9}')" \
      "$(awk -v k="$rss_kb" 'BEGIN{print k/1024}')"
    # The first sample past 1 GB is the reference for "flat".
    if [ -z "$first_rss" ] && awk -v m="$next_mark" 'BEGIN{exit !(m >= 1)}'; then
      first_rss=$rss_kb
    fi
    next_mark=$(awk -v m="$next_mark" 'BEGIN{print m + 0.5}')
  fi
  sleep 0.05
done
wait "$timer"
read -r stream_wall stream_peak <"$stats"
printf 'peak RSS %.1f MB, %.2f GB/s (the generator writing the stream is the slower side)\n' \
  "$(awk -v k="$stream_peak" 'BEGIN{print k/1024}')" \
  "$(awk -v g="$stream_gb" -v w="$stream_wall" 'BEGIN{print g/w}')"
# Flat: the peak within 5% (and 2 MB) of the RSS at the first gigabyte.
if [ -n "$first_rss" ] && awk -v p="$stream_peak" -v f="$first_rss" 'BEGIN{exit !(p <= f * 1.05 + 2048)}'; then
  echo "RSS flat: $(awk -v f="$first_rss" 'BEGIN{printf "%.1f", f/1024}') MB at 1 GB, peak $(awk -v p="$stream_peak" 'BEGIN{printf "%.1f", p/1024}') MB after $stream_gb GB"
else
  echo "RSS NOT flat: $(awk -v f="${first_rss:-0}" 'BEGIN{printf "%.1f", f/1024}') MB at 1 GB, peak $(awk -v p="$stream_peak" 'BEGIN{printf "%.1f", p/1024}') MB after $stream_gb GB" >&2
  failed=1
fi
exit "$failed"
