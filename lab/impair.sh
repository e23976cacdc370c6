#!/usr/bin/env bash
# Impaired links in the lab: lose, delay or slow a machine's packets.
#
#   make impair M=mesin-2 LOSS=5%              (also DELAY=100ms JITTER=20ms RATE=1mbit)
#   make impair M=mesin-2 CLEAR=1              back to a clean link
#   make scenario S=t1-file M=mesin-2 LOSS=5%  one experiment over the impaired link
#
#   lab/impair.sh apply | clear | show | json      (M and the settings from the environment)
#
# Where the kernel has netem (most Linux distributions, Docker Desktop), everything is one
# `tc qdisc ... netem` on the machine's lab interface. Without netem (some cloud kernels),
# LOSS uses iptables' `statistic` match in the machine's network namespace (entered from
# the host with nsenter, so it needs root on a Linux host) and RATE uses tbf; DELAY and
# JITTER then fail with a message, as nothing else can delay packets.
# tc acts on the packets the machine sends (its interface's outgoing queue): they are
# lost, delayed or slowed before the bridge, so the capture shows a hole and then the
# retransmission. The iptables fallback for LOSS drops both ways, always on arrival:
# what the machine receives, in its own namespace, and what it sends, in the other
# machines' namespaces (after the bridge). The capture saw each dropped packet first, so
# it shows the original and its retransmission, as on a lossy cable. (A packet dropped
# on its way *out* of a machine is reported to the sending TCP at once, which just sends
# it a little later as if for the first time: no loss would show at all.)
# Exit codes: 0 done, 1 failed (the message says why and what to do), 2 bad usage.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

MACHINES=(mesin-1 mesin-2 mesin-3)
STATE_DIR=.lab
CHAIN=PROGJAR_IMPAIR
LAB_NET=${LAB_NET:-$(sed -n 's/^LAB_NET=//p' .lab/env 2>/dev/null)}
LAB_NET=${LAB_NET:-172.16.16}

say() { printf 'impair: %s\n' "$*"; }
die() { printf 'impair: %s\n' "$*" >&2; exit 1; }
usage() { printf 'impair: %s\n' "$*" >&2; exit 2; }

state_file() { echo "$STATE_DIR/impair-$1"; }

# Which container a state file speaks of: a machine started anew has a clean link.
container_id() { docker inspect -f '{{.Id}}' "progjar-$1" 2>/dev/null; }
forget_if_stale() {
  local file
  file=$(state_file "$1")
  [ -f "$file" ] && [ "$(sed -n 's/^CONTAINER=//p' "$file")" != "$(container_id "$1")" ] && rm -f "$file"
  return 0
}

check_machine() {
  local machine=$1
  [ -n "$machine" ] || usage "which machine? M=mesin-2 (the machines: ${MACHINES[*]})"
  [[ " ${MACHINES[*]} " == *" $machine "* ]] || usage "'$machine' is not a lab machine (${MACHINES[*]})"
  [ "$(docker inspect -f '{{.State.Running}}' "progjar-$machine" 2>/dev/null)" = true ] ||
    die "$machine is not running: make lab"
}

# The interface that carries the machine's lab address.
interface_of() {
  docker exec "progjar-$1" ip -o -4 addr show |
    awk -v net="$LAB_NET." 'index($4, net) == 1 { print $2; exit }'
}

# Runs a command in the machine's network namespace from the host (for iptables,
# which the image does not carry).
in_netns() {
  local pid
  pid=$(docker inspect -f '{{.State.Pid}}' "progjar-$1") || return 1
  shift
  nsenter -t "$pid" -n "$@"
}

# Settings, checked: LOSS=5% or 5, DELAY/JITTER=100ms or 0.1s, RATE=1mbit/500kbit.
loss_percent() {
  local loss=${LOSS%\%}
  if ! [[ "$loss" =~ ^[0-9]+(\.[0-9]+)?$ ]] || ! awk -v l="$loss" 'BEGIN { exit !(l > 0 && l <= 100) }'; then
    usage "LOSS=$LOSS: a percentage above 0 and at most 100, such as 5% or 0.5%"
  fi
  echo "$loss"
}
millis() {
  local name=$1 value=$2
  if [[ "$value" =~ ^([0-9]+(\.[0-9]+)?)ms$ ]]; then
    echo "${BASH_REMATCH[1]}"
  elif [[ "$value" =~ ^([0-9]+(\.[0-9]+)?)s$ ]]; then
    awk -v s="${BASH_REMATCH[1]}" 'BEGIN { print s * 1000 }'
  else
    usage "$name=$value: a time such as 100ms or 0.5s"
  fi
}
check_rate() {
  [[ "${RATE:-}" =~ ^[0-9]+(kbit|mbit|gbit)$ ]] || usage "RATE=${RATE:-}: a rate such as 500kbit or 1mbit"
}

# The chain that drops an impaired machine's packets (one per machine: two machines may
# be impaired at once, and each has a rule in the others' namespaces).
chain_of() { echo "${CHAIN}_$1"; }

# The machine's lab address.
address_of() {
  docker exec "progjar-$1" ip -o -4 addr show |
    awk -v net="$LAB_NET." 'index($4, net) == 1 { sub(/\/.*/, "", $4); print $4; exit }'
}

# Removes the drop rules of an impaired `machine` from every running machine.
clear_drops() {
  local machine=$1 chain other ip
  chain=$(chain_of "$machine")
  ip=$(address_of "$machine")
  for other in "${MACHINES[@]}"; do
    [ "$(docker inspect -f '{{.State.Running}}' "progjar-$other" 2>/dev/null)" = true ] || continue
    in_netns "$other" iptables -D INPUT -j "$chain" 2>/dev/null
    [ -n "$ip" ] && in_netns "$other" iptables -D INPUT -s "$ip" -j "$chain" 2>/dev/null
    in_netns "$other" iptables -F "$chain" 2>/dev/null
    in_netns "$other" iptables -X "$chain" 2>/dev/null
  done
  # What an earlier version left: one chain, on the machine's INPUT and OUTPUT.
  in_netns "$machine" iptables -D INPUT -j "$CHAIN" 2>/dev/null
  in_netns "$machine" iptables -D OUTPUT -j "$CHAIN" 2>/dev/null
  in_netns "$machine" iptables -F "$CHAIN" 2>/dev/null
  in_netns "$machine" iptables -X "$CHAIN" 2>/dev/null
  return 0
}

# Drops `probability` of what `machine` receives (in its namespace) and of what it
# sends (on arrival at each other machine).
add_drops() {
  local machine=$1 probability=$2 chain other ip
  chain=$(chain_of "$machine")
  ip=$(address_of "$machine")
  [ -n "$ip" ] || return 1
  for other in "${MACHINES[@]}"; do
    [ "$(docker inspect -f '{{.State.Running}}' "progjar-$other" 2>/dev/null)" = true ] || continue
    in_netns "$other" iptables -N "$chain" &&
      in_netns "$other" iptables -A "$chain" -m statistic --mode random --probability "$probability" -j DROP ||
      return 1
    if [ "$other" = "$machine" ]; then
      in_netns "$other" iptables -I INPUT -j "$chain" || return 1
    else
      in_netns "$other" iptables -I INPUT -s "$ip" -j "$chain" || return 1
    fi
  done
}

clear_machine() {
  local machine=$1 dev
  dev=$(interface_of "$machine")
  [ -n "$dev" ] && docker exec "progjar-$machine" tc qdisc del dev "$dev" root >/dev/null 2>&1
  if [ -f "$(state_file "$machine")" ] && grep -q '^METHOD=iptables' "$(state_file "$machine")"; then
    clear_drops "$machine"
  fi
  rm -f "$(state_file "$machine")"
}

apply() {
  local machine=${M:-}
  check_machine "$machine"
  local loss="" delay="" jitter=""
  if [ -n "${LOSS:-}" ]; then loss=$(loss_percent) || exit 2; fi
  if [ -n "${DELAY:-}" ]; then delay=$(millis DELAY "$DELAY") || exit 2; fi
  if [ -n "${JITTER:-}" ]; then jitter=$(millis JITTER "$JITTER") || exit 2; fi
  [ -n "${RATE:-}" ] && check_rate
  [ -n "$jitter" ] && [ -z "$delay" ] && usage "JITTER needs DELAY (the delay varies by the jitter around it)"
  [ -n "$loss$delay${RATE:-}" ] || usage "nothing to do: give LOSS=, DELAY=, JITTER= or RATE= (or CLEAR=1)"
  local dev
  dev=$(interface_of "$machine")
  [ -n "$dev" ] || die "$machine has no interface with an address in $LAB_NET.0/24"
  clear_machine "$machine"
  mkdir -p "$STATE_DIR"

  # netem does all of it, where the kernel has it.
  local -a netem=()
  [ -n "$loss" ] && netem+=(loss "$loss%")
  [ -n "$delay" ] && netem+=(delay "${delay}ms")
  [ -n "$jitter" ] && netem+=("${jitter}ms")
  [ -n "${RATE:-}" ] && netem+=(rate "$RATE")
  local out
  if out=$(docker exec "progjar-$machine" tc qdisc replace dev "$dev" root netem "${netem[@]}" 2>&1); then
    write_state "$machine" netem "$loss" "$delay" "$jitter"
    say "$machine ($dev): $(describe "$machine")"
    return 0
  fi
  case "$out" in
    *"qdisc kind is unknown"* | *"No such file"*) ;;
    *) die "tc netem on $machine failed: $out" ;;
  esac

  # No netem in this kernel.
  [ -z "$delay" ] || die "DELAY needs the kernel's netem queueing discipline (module sch_netem), which this kernel lacks:
     load it on the host (sudo modprobe sch_netem) or use a kernel that has it; LOSS and RATE work without it.
     $machine's link is clean now."
  if [ -n "$loss" ]; then
    if [ "$(id -u)" != 0 ] || ! command -v nsenter >/dev/null || ! command -v iptables >/dev/null; then
      die "this kernel has no netem, and LOSS without it needs root, nsenter and iptables on this host
     (sudo make impair ...), or load netem: sudo modprobe sch_netem"
    fi
    local probability
    probability=$(awk -v l="$loss" 'BEGIN { printf "%.6f", l / 100 }')
    if ! add_drops "$machine" "$probability"; then
      write_state "$machine" iptables "$loss" "" ""
      clear_machine "$machine"
      die "iptables in $machine's network namespace failed (see above)"
    fi
    write_state "$machine" iptables "$loss" "" ""
  fi
  if [ -n "${RATE:-}" ]; then
    # A bucket of 32 kbit and at most 400 ms of queue: TCP sees the rate, not a wall.
    docker exec "progjar-$machine" tc qdisc replace dev "$dev" root tbf rate "${RATE:-}" burst 32kbit latency 400ms ||
      { clear_machine "$machine"; die "tc tbf on $machine failed (see above)"; }
  fi
  write_state "$machine" "iptables" "$loss" "" ""
  say "$machine ($dev): $(describe "$machine")"
}

write_state() {
  local machine=$1 method=$2 loss=$3 delay=$4 jitter=$5
  printf 'CONTAINER=%s\nMETHOD=%s\nLOSS=%s\nDELAY=%s\nJITTER=%s\nRATE=%s\n' "$(container_id "$machine")" \
    "$method" "$loss" "$delay" "$jitter" "${RATE:-}" >"$(state_file "$machine")"
}

# One value of a machine's state file.
value() { sed -n "s/^$2=//p" "$(state_file "$1")" 2>/dev/null; }

describe() {
  local machine=$1 parts=() method
  [ -f "$(state_file "$machine")" ] || { echo "clean link"; return; }
  method=$(value "$machine" METHOD)
  if [ -n "$(value "$machine" LOSS)" ]; then
    if [ "$method" = netem ]; then
      parts+=("loses $(value "$machine" LOSS)% of the packets it sends (tc netem)")
    else
      parts+=("loses $(value "$machine" LOSS)% of the packets it sends and receives, on arrival (iptables statistic; this kernel has no netem)")
    fi
  fi
  if [ -n "$(value "$machine" DELAY)" ]; then
    local jitter=""
    [ -n "$(value "$machine" JITTER)" ] && jitter=", give or take $(value "$machine" JITTER) ms"
    parts+=("delays the packets it sends by $(value "$machine" DELAY) ms$jitter (tc netem)")
  fi
  if [ -n "$(value "$machine" RATE)" ]; then
    parts+=("sends at most $(value "$machine" RATE) (tc $([ "$method" = netem ] && echo netem || echo tbf))")
  fi
  local text
  text=$(printf '%s; ' "${parts[@]}")
  echo "${text%; }"
}

# A JSON number, or null for an empty value.
number() { if [ -n "$1" ]; then echo "$1"; else echo null; fi; }

# The impairment as JSON, for an experiment's folder: numbers and checked words only.
as_json() {
  local machine=${M:-}
  check_machine "$machine"
  forget_if_stale "$machine"
  [ -f "$(state_file "$machine")" ] || { echo "null"; return; }
  local rate
  rate=$(value "$machine" RATE)
  printf '{"machine":"%s","method":"%s","loss_percent":%s,"delay_ms":%s,"jitter_ms":%s,"rate":%s}\n' \
    "$machine" "$(value "$machine" METHOD)" "$(number "$(value "$machine" LOSS)")" \
    "$(number "$(value "$machine" DELAY)")" "$(number "$(value "$machine" JITTER)")" "$([ -n "$rate" ] && echo "\"$rate\"" || echo null)"
}

show() {
  local machine
  for machine in "${MACHINES[@]}"; do
    forget_if_stale "$machine"
    [ -f "$(state_file "$machine")" ] && printf '  %-8s %s\n' "$machine" "$(describe "$machine")"
  done
  return 0
}

case "${1:-}" in
  apply)
    if [ -n "${CLEAR:-}" ]; then
      check_machine "${M:-}"
      clear_machine "$M"
      say "$M: clean link"
    else
      apply
    fi ;;
  clear) check_machine "${M:-}"; clear_machine "$M"; say "$M: clean link" ;;
  show) show ;;
  json) as_json ;;
  *) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
