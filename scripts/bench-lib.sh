# Shared by the bench-*.sh scripts (sourced, not run): builds the release
# binary, makes a work dir removed on exit, and starts one broker.
#
#   source scripts/bench-lib.sh   # sets bin, work; start_broker sets addr
#
# STROM_BIN=path uses that binary instead of building (e.g. a debug build
# to check a script quickly; its figures mean nothing).
BENCH_DIR=${BENCH_DIR:-/var/tmp}
if [ -n "${STROM_BIN:-}" ]; then
    bin=$STROM_BIN
else
    cargo build --release --quiet
    bin=${CARGO_TARGET_DIR:-$(pwd)/target}/release/strom
fi
work=$(mktemp -d "$BENCH_DIR/strom-bench.XXXXXX")
broker_pid=""
cleanup() {
    [ -n "$broker_pid" ] && kill "$broker_pid" 2>/dev/null && wait "$broker_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

# Starts a broker on an ephemeral port with data in $work/data; sets addr.
start_broker() {
    "$bin" serve --listen 127.0.0.1:0 --data-dir "$work/data" "$@" 2>"$work/broker.log" &
    broker_pid=$!
    addr=""
    for _ in $(seq 1 300); do
        addr=$(sed -n 's/^strom: listening on \([^ ]*\).*/\1/p' "$work/broker.log")
        [ -n "$addr" ] && break
        sleep 0.1
    done
    [ -n "$addr" ] || { echo "broker did not start" >&2; cat "$work/broker.log" >&2; exit 1; }
}

# Stops the broker start_broker started (SIGTERM, then waits for it).
stop_broker() {
    [ -n "$broker_pid" ] || return 0
    kill "$broker_pid" 2>/dev/null || true
    wait "$broker_pid" 2>/dev/null || true
    broker_pid=""
    # The next start_broker must not read this life's ready line.
    : >"$work/broker.log"
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
