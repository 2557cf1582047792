#!/usr/bin/env bash
# A local strom cluster on loopback, for trying replication by hand.
#
#   scripts/cluster.sh start N [--brokers M]
#                                  start N brokers that are also controller voters
#                                  (ids 1..N), plus M brokers that are not (ids
#                                  N+1..N+M, Raft learners; default M=0)
#   scripts/cluster.sh stop        stop them all (SIGTERM, then SIGKILL after 30 s)
#   scripts/cluster.sh kill I      SIGKILL broker I (a crash)
#   scripts/cluster.sh restart I   start broker I again (killing it first if needed)
#   scripts/cluster.sh status      which brokers run, their role and addresses
#
# Environment:
#   STROM_CLUSTER_DIR   data dirs and logs (default ${TMPDIR:-/tmp}/strom-cluster)
#   STROM_BIN           the strom binary (default the newer of target/release/strom
#                       and target/debug/strom, else strom on PATH)
#   STROM_CLUSTER_PORT  client port of broker 1 (default 19092); broker I
#                       listens on PORT+I-1, its controller on PORT+100+I-1
#                       (a non-voter's is its --controller-listen)
# Extra `strom serve` flags can follow `start N [--brokers M]` and
# `restart I`; any STROM_* serve setting in the environment applies too.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
dir="${STROM_CLUSTER_DIR:-${TMPDIR:-/tmp}/strom-cluster}"
base="${STROM_CLUSTER_PORT:-19092}"

bin="${STROM_BIN:-}"
if [ -z "$bin" ]; then
    # The newer of the release and debug builds, else strom on PATH.
    target="${CARGO_TARGET_DIR:-$root/target}"
    for b in "$target/release/strom" "$target/debug/strom"; do
        if [ -x "$b" ] && { [ -z "$bin" ] || [ "$b" -nt "$bin" ]; }; then bin="$b"; fi
    done
    bin="${bin:-strom}"
fi

die() { echo "cluster.sh: $*" >&2; exit 1; }
count() { [ -f "$dir/size" ] || die "no cluster in $dir (run: $0 start N)"; cat "$dir/size"; }
# Voters are brokers 1..V; a cluster started before non-voters existed
# has no voters file: all of its brokers vote.
voter_count() { if [ -f "$dir/voters" ]; then cat "$dir/voters"; else count; fi; }
role() { if [ "$1" -le "$(voter_count)" ]; then echo voter; else echo "non-voter"; fi; }
client_addr() { echo "127.0.0.1:$((base + $1 - 1))"; }
controller_addr() { echo "127.0.0.1:$((base + 100 + $1 - 1))"; }
pid_of() { cat "$dir/$1/pid" 2>/dev/null || true; }
running() { local p; p=$(pid_of "$1"); [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }

voters() {
    local n=$1 v="" i
    for i in $(seq 1 "$n"); do v="${v:+$v,}$i@$(controller_addr "$i")"; done
    echo "$v"
}

launch() {
    local i=$1; shift
    local v; v=$(voter_count)
    local learner=()
    # A non-voter has no --voters entry to take its controller address from.
    [ "$i" -le "$v" ] || learner=(--controller-listen "$(controller_addr "$i")")
    mkdir -p "$dir/$i"
    : >"$dir/$i/log"
    # setsid: the broker outlives this script and gets no terminal signals.
    setsid "$bin" serve \
        --node-id "$i" \
        --listen "$(client_addr "$i")" \
        --voters "$(voters "$v")" \
        --data-dir "$dir/$i/data" \
        ${learner[@]+"${learner[@]}"} \
        "$@" >>"$dir/$i/log" 2>&1 </dev/null &
    echo $! >"$dir/$i/pid"
    if [ $# -gt 0 ]; then printf '%s\n' "$@" >"$dir/$i/args"; else : >"$dir/$i/args"; fi
}

wait_ready() {
    local i=$1 deadline=$((SECONDS + 30))
    # Listening, then registered with the controller: only then can topics
    # be placed on it.
    until grep -q "strom: listening on" "$dir/$i/log" 2>/dev/null &&
        grep -q "broker registered" "$dir/$i/log" 2>/dev/null; do
        running "$i" || { tail -n 20 "$dir/$i/log" >&2; die "broker $i exited"; }
        [ $SECONDS -lt $deadline ] || die "broker $i not ready after 30 s (see $dir/$i/log)"
        sleep 0.1
    done
    echo "broker $i  $(client_addr "$i")  ($(role "$i"), controller $(controller_addr "$i"), log $dir/$i/log)"
}

cmd="${1:-}"
shift || true
case "$cmd" in
start)
    v="${1:-}"
    [[ "$v" =~ ^[1-9][0-9]*$ ]] || die "usage: $0 start N [--brokers M]"
    shift
    m=0
    if [ "${1:-}" = "--brokers" ]; then
        m="${2:-}"
        [[ "$m" =~ ^[0-9]+$ ]] || die "usage: $0 start N [--brokers M]"
        shift 2
    fi
    n=$((v + m))
    if [ -f "$dir/size" ]; then
        for i in $(seq 1 "$(cat "$dir/size")"); do
            running "$i" && die "broker $i is still running; run: $0 stop"
        done
    fi
    mkdir -p "$dir"
    echo "$n" >"$dir/size"
    echo "$v" >"$dir/voters"
    for i in $(seq 1 "$n"); do launch "$i" "$@"; done
    for i in $(seq 1 "$n"); do wait_ready "$i"; done
    boot=""
    for i in $(seq 1 "$n"); do boot="${boot:+$boot,}$(client_addr "$i")"; done
    echo "bootstrap: $boot"
    ;;
stop)
    n=$(count)
    for i in $(seq 1 "$n"); do running "$i" && kill -TERM "$(pid_of "$i")" || true; done
    deadline=$((SECONDS + 30))
    for i in $(seq 1 "$n"); do
        while running "$i" && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
        if running "$i"; then kill -KILL "$(pid_of "$i")" || true; fi
        rm -f "$dir/$i/pid"
    done
    echo "stopped"
    ;;
kill)
    i="${1:-}"
    [[ "$i" =~ ^[1-9][0-9]*$ ]] || die "usage: $0 kill I"
    running "$i" || die "broker $i is not running"
    kill -KILL "$(pid_of "$i")"
    echo "killed broker $i"
    ;;
restart)
    i="${1:-}"
    [[ "$i" =~ ^[1-9][0-9]*$ ]] || die "usage: $0 restart I"
    shift
    [ "$i" -le "$(count)" ] || die "no broker $i"
    if running "$i"; then
        kill -KILL "$(pid_of "$i")"
        while running "$i"; do sleep 0.05; done
    fi
    extra=()
    if [ $# -gt 0 ]; then
        extra=("$@")
    elif [ -s "$dir/$i/args" ]; then
        mapfile -t extra < <(grep -v '^$' "$dir/$i/args")
    fi
    launch "$i" ${extra[@]+"${extra[@]}"}
    wait_ready "$i"
    ;;
status)
    n=$(count)
    for i in $(seq 1 "$n"); do
        if running "$i"; then s="running (pid $(pid_of "$i"))"; else s="stopped"; fi
        echo "broker $i  $(client_addr "$i")  $(role "$i")  $s"
    done
    ;;
*)
    sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'
    [ -z "$cmd" ] || exit 2
    ;;
esac
