#!/usr/bin/env bash
# The lab's privileges, checked on the running containers (lab/test-lab.sh
# runs it with the lab up and reads its "ok"/"FAIL" lines; it ends with
# make down). What docker-compose.yml asks for (docker inspect), and that it
# is in force inside: each container's bounding and effective capabilities
# (/proc/PID/status, decoded), NoNewPrivs, the pids and memory limits in its
# cgroup; who the processes are (the student: SUDO_UID or the caller);
# that what a shell, a RUN command and a capture write is the student's;
# CAPTURE_FILTER as one argument; the bridge's offloads as before a capture,
# and after make down when a killed sidecar left them off.
# Traffic only between the lab's machines.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

IMAGE=${LAB_IMAGE:-progjar-lab/mesin:latest}
BRIDGE=${LAB_BRIDGE:-progjar0}
student_uid=${SUDO_UID:-$(id -u)}
student="$student_uid:${SUDO_GID:-$(id -g)}"

ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; }
# `verdict CODE TEXT [WHY]`: ok TEXT when CODE is 0, else FAIL TEXT: WHY.
verdict() { if [ "$1" = 0 ]; then ok "$2"; else bad "$2${3:+: $3}"; fi; }

if docker compose version >/dev/null 2>&1; then compose() { docker compose -p progjar "$@"; }; else compose() { docker-compose -p progjar "$@"; }; fi

# Capability names by bit (linux/capability.h), for reading /proc/PID/status.
CAP_NAMES=(chown dac_override dac_read_search fowner fsetid kill setgid setuid setpcap linux_immutable
  net_bind_service net_broadcast net_admin net_raw ipc_lock ipc_owner sys_module sys_rawio sys_chroot
  sys_ptrace sys_pacct sys_admin sys_boot sys_nice sys_resource sys_time sys_tty_config mknod lease
  audit_write audit_control setfcap mac_override mac_admin syslog wake_alarm block_suspend audit_read
  perfmon bpf checkpoint_restore)
# A hex capability mask as sorted names ("none" for 0).
decode() {
  local mask=$((16#$1)) bit names=()
  for ((bit = 0; bit < 64; bit++)); do
    ((mask >> bit & 1)) && names+=("${CAP_NAMES[bit]:-cap$bit}")
  done
  [ ${#names[@]} -gt 0 ] || names=(none)
  printf '%s\n' "${names[@]}" | sort | paste -sd' '
}
# Field $2 (CapBnd, CapEff, Uid, NoNewPrivs) of process $3 in container $1.
status_field() { docker exec "$1" awk -v f="$2:" '$1 == f { print $2 }' "/proc/$3/status" 2>/dev/null; }
# A container's cgroup limit: pids or memory, cgroup v1 or v2.
cgroup_limit() {
  docker exec "$1" sh -c "case $2 in
    pids) cat /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/pids.max ;;
    memory) cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/memory.max ;;
  esac 2>/dev/null | head -n1"
}
# The bridge's features as "name value" lines, read from the host's network
# namespace (reading needs no capability).
offloads() { docker run --rm --network host --cap-drop ALL "$IMAGE" ethtool -k "$1" 2>/dev/null | grep -v '^Features'; }

# One container against what docker-compose.yml chose for it.
# $1 container, $2 capabilities (sorted, lower case), $3 pids, $4 memory bytes.
check_container() {
  local c=$1 caps=$2 pids=$3 memory=$4 got
  got=$(docker inspect -f '{{json .HostConfig.CapDrop}} {{range .HostConfig.CapAdd}}{{.}} {{end}}|{{json .HostConfig.SecurityOpt}}|{{.HostConfig.PidsLimit}}|{{.HostConfig.Memory}}' "$c")
  local drop=${got%% *} rest=${got#* }
  local add sec limit mem
  IFS='|' read -r add sec limit mem <<<"$rest"
  add=$(tr ' ' '\n' <<<"$add" | sed 's/^CAP_//' | tr '[:upper:]' '[:lower:]' | grep . | sort | paste -sd' ')
  [ "$drop" = '["ALL"]' ] && [ "$add" = "$caps" ] && [[ "$sec" == *no-new-privileges:true* ]] && [ "$limit" = "$pids" ] && [ "$mem" = "$memory" ]
  verdict $? "$c: docker inspect: cap_drop ALL, cap_add $caps, no-new-privileges, pids $pids, memory $memory" \
    "CapDrop $drop, CapAdd $add, SecurityOpt $sec, PidsLimit $limit, Memory $mem"
  got=$(decode "$(status_field "$c" CapBnd 1)")
  [ "$got" = "$caps" ]
  verdict $? "$c: in force, /proc/1/status CapBnd = $caps" "CapBnd $got"
  got=$(status_field "$c" NoNewPrivs 1)
  [ "$got" = 1 ]
  verdict $? "$c: in force, NoNewPrivs: 1" "NoNewPrivs: $got"
  got="$(cgroup_limit "$c" pids) $(cgroup_limit "$c" memory)"
  [ "$got" = "$pids $memory" ]
  verdict $? "$c: in force, its cgroup allows $pids tasks and $memory bytes" "pids and memory: $got"
}

machine_caps="kill net_admin net_raw setgid setuid"
for m in mesin-1 mesin-2 mesin-3; do
  c=progjar-$m
  check_container "$c" "$machine_caps" 4096 1073741824
  # Which processes are root: none but this check's own ps.
  roots=$(docker exec "$c" ps -eo user=,pid=,comm= | awk '$1 == "root" && $3 != "ps" { print $3 "(" $2 ")" }' | paste -sd' ')
  uid1=$(status_field "$c" Uid 1) eff1=$(decode "$(status_field "$c" CapEff 1)")
  if [ "$student_uid" = 0 ]; then
    [ "$uid1" = 0 ]
    verdict $? "$c: the student is root here, so is PID 1" "PID 1 uid $uid1"
  else
    [ "$uid1" = "$student_uid" ] && [ "$eff1" = none ] && [ -z "$roots" ]
    verdict $? "$c: PID 1 (tini) and every process run as the student (uid $student_uid) with no capability in effect" \
      "PID 1 uid $uid1, CapEff $eff1, root processes: $roots"
  fi
  got=$(docker exec "$c" awk '$1 == "CapEff:" { print $2 }' /proc/self/status)
  [ "$(decode "$got")" = "$machine_caps" ]
  verdict $? "$c: a root docker exec holds $machine_caps (CapEff $got)" "CapEff $got = $(decode "$got")"
done

# The servers on mesin-1: the student's, without capabilities.
pid=$(docker exec progjar-mesin-1 cat /run/lab/time.pid 2>/dev/null)
got="$(status_field progjar-mesin-1 Uid "$pid") $(decode "$(status_field progjar-mesin-1 CapEff "$pid")")"
[ "$got" = "$student_uid none" ]
verdict $? "mesin-1: time-server (pid $pid) runs as uid $student_uid with no capability" "uid and CapEff: $got"

# What lands in work/ is the student's: from make shell, from a RUN command.
rm -f work/.priv-shell work/.priv-run
lab/lab.sh shell mesin-2 <<<'touch /work/.priv-shell' >/dev/null 2>&1
got=$(stat -c %u:%g work/.priv-shell 2>&1)
[ "$got" = "$student" ]
verdict $? "a file made in make shell M=mesin-2 is $student on the host" "$got"
# A root shell cannot write into work/ (root here has no DAC_OVERRIDE); what
# it makes in a folder open to all is given to the student when it ends.
if [ "$student_uid" != 0 ]; then
  ROOT=1 lab/lab.sh shell mesin-2 <<<'touch /work/.priv-root' >/dev/null 2>&1
  [ ! -e work/.priv-root ]
  verdict $? "a root shell cannot make files in work/ (no DAC_OVERRIDE)" "work/.priv-root exists: $(stat -c %u:%g work/.priv-root 2>&1)"
  rm -rf work/.priv-open && mkdir -m 777 work/.priv-open && chown "$student" work/.priv-open
  out=$(ROOT=1 lab/lab.sh shell mesin-2 2>&1 <<<'touch /work/.priv-open/by-root')
  got=$(stat -c %u:%g work/.priv-open/by-root 2>&1)
  [ "$got" = "$student" ] && grep -q "work/: gave 1 file that root made to uid $student" <<<"$out"
  verdict $? "a file a root shell made in an open folder of work/ is given to $student when the shell ends" "$got; said: $out"
  rm -rf work/.priv-open
fi

# A RUN command's file, and the capture, with a filter of several words.
before=$(offloads "$BRIDGE")
log=$(LABEL=priv-filter FILTER="tcp port 10000" RUN="mesin-3 touch /work/.priv-run ; mesin-2 time-client --count 1 ; mesin-2 echo-client" \
  lab/lab.sh capture 2>&1)
pcap=$(grep -E '^captures/.*priv-filter\.pcap$' <<<"$log" | tail -n1)
got="$(stat -c %u:%g work/.priv-run 2>&1) $(stat -c %u:%g "${pcap:-none}" 2>&1)"
[ "$got" = "$student $student" ]
verdict $? "a RUN command's file in work/ and the capture are $student on the host" "$got"
rm -f work/.priv-shell work/.priv-run
ports=$(docker run --rm --network none -v "$PWD/captures:/c:ro" "$IMAGE" tcpdump -nn -r "/c/${pcap#captures/}" 2>/dev/null |
  awk '{ split($3, a, "."); split($5, b, "."); sub(/:$/, "", b[5]); print a[5] "-" b[5] }' | sort -u | paste -sd' ')
[ -n "$ports" ] && ! grep -qv -- '10000' <<<"$(tr ' ' '\n' <<<"$ports")" && grep -q "only packets that match: tcp port 10000" <<<"$log"
verdict $? "FILTER=\"tcp port 10000\" reaches tcpdump as one expression: the capture holds port 10000 only" "ports: $ports"
rm -f "$pcap"
after=$(offloads "$BRIDGE")
[ -n "$before" ] && [ "$before" = "$after" ] && [ ! -e "captures/.offloads-$BRIDGE" ]
verdict $? "$BRIDGE's offloads after the capture are as before it ($(grep -cw on <<<"$before") features on)" \
  "$(diff <(echo "$before") <(echo "$after") | grep '^[<>]' | paste -sd' ')"

# A filter full of shell: refused by tcpdump, nothing run, no file left.
rm -f captures/.priv-injected*
n=$(find captures -maxdepth 1 -name '*.pcap' | wc -l)
# shellcheck disable=SC2016 # the text is the attack, meant literally
evil='tcp; touch /captures/.priv-injected1 $(touch /captures/.priv-injected2) `touch /captures/.priv-injected3` "x" '\''y'\'' | touch /captures/.priv-injected4'
out=$(FILTER=$evil RUN="mesin-2 time-client --count 1" lab/lab.sh capture 2>&1); code=$?
[ "$code" = 1 ] && grep -q "is not a tcpdump filter expression" <<<"$out" &&
  [ -z "$(find captures -maxdepth 1 -name '.priv-injected*')" ] && [ "$n" = "$(find captures -maxdepth 1 -name '*.pcap' | wc -l)" ]
verdict $? "FILTER with ; \$( ) \` \` quotes and | is refused as a filter; nothing in it ran, no pcap left" \
  "exit $code, injected: $(find captures -maxdepth 1 -name '.priv-injected*' | paste -sd' '), pcaps $n -> $(find captures -maxdepth 1 -name '*.pcap' | wc -l): $out"

# The sidecar started by compose by hand: its limits, tcpdump's user, the file's owner.
rm -f captures/.priv-direct.pcap
CAPTURE_FILE=.priv-direct.pcap compose --profile capture up -d --no-deps capture >/dev/null 2>&1
for _ in $(seq 50); do docker logs progjar-capture 2>&1 | grep -q "listening on" && break; sleep 0.1; done
check_container progjar-capture "kill net_admin net_raw setgid setuid" 32 268435456
tpid=$(docker exec progjar-capture pgrep -x tcpdump)
got="$(status_field progjar-capture Uid "$tpid") $(decode "$(status_field progjar-capture CapEff "$tpid")")"
[ "$got" = "100 none" ] && [ "$(docker exec progjar-capture getent passwd 100 | cut -d: -f1)" = tcpdump ]
verdict $? "tcpdump in the sidecar runs as user tcpdump (uid 100) with no capability once started" "uid and CapEff: $got"
[ -f "captures/.offloads-$BRIDGE" ]
verdict $? "the sidecar recorded what it turned off on $BRIDGE: $(paste -sd' ' "captures/.offloads-$BRIDGE" 2>/dev/null)"
docker exec progjar-mesin-2 lab-as-student time-client --count 1 >/dev/null 2>&1
docker stop -t 10 progjar-capture >/dev/null
got="$(stat -c %u:%g captures/.priv-direct.pcap 2>&1) $(docker run --rm --network none -v "$PWD/captures:/c:ro" "$IMAGE" tcpdump -nn -r /c/.priv-direct.pcap 2>/dev/null | grep -c 45000)"
[ "${got% *}" = "$(stat -c %u:%g captures)" ] && [ "${got#* }" -gt 0 ]
verdict $? "started by compose directly, the sidecar's file belongs to the owner of captures/ ($(stat -c %u:%g captures)) and holds the lab's packets" "owner and packets: $got"
docker rm -f progjar-capture >/dev/null 2>&1
rm -f captures/.priv-direct.pcap

# A killed sidecar (SIGKILL: no chance to restore) on a bridge that outlives
# the lab, with some features off beforehand: make down turns on exactly what
# the sidecar turned off. Needs root on a Linux host (a bridge of our own).
spare=progjar-t9
if [ "$(id -u)" = 0 ] && command -v ip >/dev/null && ! ip link show "$spare" >/dev/null 2>&1 && ip link add "$spare" type bridge 2>/dev/null; then
  ip link set "$spare" up
  docker run --rm --network host --cap-drop ALL --cap-add NET_ADMIN "$IMAGE" ethtool -K "$spare" tx-tcp-ecn-segmentation off gro off >/dev/null 2>&1
  before=$(offloads "$spare")
  # As compose starts it, but by docker run: compose would take LAB_BRIDGE
  # for the lab network's bridge too.
  docker run -d --name progjar-capture --network host --init --cap-drop ALL --cap-add NET_ADMIN --cap-add NET_RAW \
    --cap-add SETUID --cap-add SETGID --cap-add KILL --security-opt no-new-privileges:true \
    -e LAB_BRIDGE="$spare" -e CAPTURE_FILE=.priv-spare.pcap -v "$PWD/captures:/captures" "$IMAGE" lab-capture >/dev/null
  for _ in $(seq 50); do docker logs progjar-capture 2>&1 | grep -q "listening on" && break; sleep 0.1; done
  docker kill progjar-capture >/dev/null 2>&1
  during=$(offloads "$spare")
  recorded=$(paste -sd' ' "captures/.offloads-$spare" 2>/dev/null)
  out=$(lab/lab.sh down 2>&1)
  after=$(offloads "$spare")
  [ "$before" != "$during" ] && [ "$before" = "$after" ] && [ ! -e "captures/.offloads-$spare" ] && [[ "$recorded" != *gro* ]] &&
    grep -q "turned back on what this capture turned off" <<<"$out"
  verdict $? "make down after a killed sidecar: $spare as before (gro and tx-tcp-ecn-segmentation stayed off; turned on again: $recorded)" \
    "record: $recorded; changed by down: $(diff <(echo "$during") <(echo "$after") | grep -c '^>'), left different: $(diff <(echo "$before") <(echo "$after") | grep '^[<>]' | paste -sd' '); said: $out"
  docker rm -f progjar-capture >/dev/null 2>&1
  ip link del "$spare"
  rm -f captures/.priv-spare.pcap "captures/.offloads-$spare"
else
  echo "info the make down check with a killed sidecar needs root and a free bridge name $spare; skipped"
  lab/lab.sh down >/dev/null 2>&1
fi
