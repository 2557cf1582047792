#!/usr/bin/env bash
# Sink throughput into SQLite and PostgreSQL: `strom connect standalone` with an upsert
# sqlite-sink draining N JSON records (keyed by id) from a topic, beside a
# plain loop of batched INSERT ... ON CONFLICT statements of the same rows
# into SQLite (`strom connect bench-sqlite-insert`, the same journal
# settings: WAL, synchronous=FULL) measured in the same run. Prints the
# median rows/s of REPS runs of each.
#
# The sink's time runs from the process start until the group's committed
# offset reaches N (so it includes joining the group and fetching).
#
# PostgreSQL the same way, when its binaries are there (Debian's
# `postgresql` package; PG_BIN names another directory): a throwaway server
# on a loopback port in the work dir (as `nobody` when run as root, with
# the defaults: fsync on, synchronous_commit on), an upsert postgres-sink
# beside a plain loop of the same batched `INSERT ... ON CONFLICT DO
# UPDATE` statements (one multi-row INSERT and one transaction per BATCH
# rows) fed to psql. SKIP_POSTGRES=1 leaves it out.
#
#   scripts/bench-connect.sh                 # 200,000 records, builds release
#   N=500000 REPS=5 BENCH_DIR=/data scripts/bench-connect.sh
#   STROM_BIN=target/release/strom scripts/bench-connect.sh   # no build
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-200000}
REPS=${REPS:-3}
BATCH=${BATCH:-5000}
BENCH_DIR=${BENCH_DIR:-/var/tmp}
if [ -n "${STROM_BIN:-}" ]; then
    bin=$(realpath "$STROM_BIN")
else
    cargo build --release --quiet
    bin=${CARGO_TARGET_DIR:-$(pwd)/target}/release/strom
fi
work=$(mktemp -d "$BENCH_DIR/strom-bench-connect.XXXXXX")
broker_pid=""
connect_pid=""
pg_pid=""
cleanup() {
    [ -n "$connect_pid" ] && kill "$connect_pid" 2>/dev/null && wait "$connect_pid" 2>/dev/null
    [ -n "$pg_pid" ] && kill -INT "$pg_pid" 2>/dev/null && wait "$pg_pid" 2>/dev/null
    [ -n "$broker_pid" ] && kill "$broker_pid" 2>/dev/null && wait "$broker_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

"$bin" serve --listen 127.0.0.1:0 --data-dir "$work/data" \
    --group-initial-rebalance-delay-ms 0 2>"$work/broker.log" &
broker_pid=$!
addr=""
for _ in $(seq 1 300); do
    addr=$(sed -n 's/^strom: listening on \([^ ]*\).*/\1/p' "$work/broker.log")
    [ -n "$addr" ] && break
    sleep 0.1
done
[ -n "$addr" ] || { echo "broker did not start" >&2; cat "$work/broker.log" >&2; exit 1; }

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
now() { date +%s.%N; }

"$bin" topics create -b "$addr" bench --partitions 1 >/dev/null
awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++) printf "%d\t{\"name\":\"item-%d\",\"amount\":%d}\n", i, i, i * 3 }' |
    "$bin" produce -b "$addr" -t bench -K $'\t' 2>/dev/null

# Runs connector file $1 (group $2) until it committed N; sets rate (rows/s).
time_sink() {
    local file=$1 group=$2 log=$3 start end done_at
    start=$(now)
    "$bin" connect standalone -b "$addr" "$file" 2>"$log" &
    connect_pid=$!
    while :; do
        done_at=$("$bin" groups describe -b "$addr" --group "$group" 2>/dev/null |
            awk '$2 == "bench" {print $4}' || true)
        [ "$done_at" = "$N" ] && break
        kill -0 "$connect_pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
        sleep 0.05
    done
    end=$(now)
    kill -TERM "$connect_pid" && wait "$connect_pid" || true
    connect_pid=""
    rate=$(awk -v n="$N" -v s="$start" -v e="$end" 'BEGIN { printf "%.0f", n / (e - s) }')
}

sink=() plain=()
for r in $(seq 1 "$REPS"); do
    cat >"$work/sink-$r.toml" <<TOML
name = "bench-$r"
type = "sqlite-sink"
topic = "bench"
batch_max = $BATCH
[config]
path = "$work/sink-$r.db"
table = "bench"
mode = "upsert"
key_column = "id"
auto_create = true
TOML
    time_sink "$work/sink-$r.toml" "connect-bench-$r" "$work/connect-$r.log"
    sink+=("$rate")
    out=$("$bin" connect bench-sqlite-insert --path "$work/plain-$r.db" --records "$N" --batch "$BATCH")
    plain+=("$(echo "$out" | sed -n 's/.*: \([0-9]*\) rows\/s/\1/p')")
done

# PostgreSQL: a throwaway server, then the same comparison.
pg_bin=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
pgsink=() pgcopy=() pgplain=()
if [ -z "${SKIP_POSTGRES:-}" ] && [ -x "$pg_bin/initdb" ]; then
    as_pg=()
    if [ "$(id -u)" -eq 0 ]; then
        as_pg=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
        chown 65534:65534 "$work"
    fi
    "${as_pg[@]}" "$pg_bin/initdb" -D "$work/pg" -U strom --auth=trust -E UTF8 --locale=C >/dev/null
    pg_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    "${as_pg[@]}" "$pg_bin/postgres" -D "$work/pg" -p "$pg_port" -k "$work/pg" \
        -c listen_addresses=127.0.0.1 2>"$work/pg.log" &
    pg_pid=$!
    for _ in $(seq 1 300); do
        "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$pg_port" && break
        sleep 0.1
    done
    "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$pg_port" || { cat "$work/pg.log" >&2; exit 1; }
    export PGOPTIONS="-c client_min_messages=warning"
    psql=("$pg_bin/psql" -q -X -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pg_port" -U strom -d postgres)
    # The plain loop's input: one INSERT ... ON CONFLICT and COMMIT per BATCH rows.
    awk -v n="$N" -v b="$BATCH" 'BEGIN {
        for (i = 0; i < n; i++) {
            if (i % b == 0) printf "BEGIN; INSERT INTO plain (id, name, amount) VALUES ";
            else printf ",";
            printf "(%d,'"'"'item-%d'"'"',%d)", i, i, i * 3;
            if (i % b == b - 1 || i == n - 1)
                print " ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, amount = EXCLUDED.amount; COMMIT;";
        }
    }' >"$work/plain.sql"
    for r in $(seq 1 "$REPS"); do
        cat >"$work/pgsink-$r.toml" <<TOML
name = "pgbench-$r"
type = "postgres-sink"
topic = "bench"
batch_max = $BATCH
[config]
url = "postgres://strom@127.0.0.1:$pg_port/postgres"
table = "bench_$r"
mode = "upsert"
key_column = "id"
auto_create = true
TOML
        time_sink "$work/pgsink-$r.toml" "connect-pgbench-$r" "$work/pgconnect-$r.log"
        pgsink+=("$rate")
        # Appends (insert mode): COPY FROM STDIN per batch.
        cat >"$work/pgcopy-$r.toml" <<TOML
name = "pgcopy-$r"
type = "postgres-sink"
topic = "bench"
batch_max = $BATCH
[config]
url = "postgres://strom@127.0.0.1:$pg_port/postgres"
table = "copy_$r"
mode = "insert"
key_column = "id"
auto_create = true
TOML
        time_sink "$work/pgcopy-$r.toml" "connect-pgcopy-$r" "$work/pgcopy-$r.log"
        pgcopy+=("$rate")
        "${psql[@]}" -c "DROP TABLE IF EXISTS plain; CREATE TABLE plain (id bigint PRIMARY KEY, name text, amount bigint)"
        start=$(now)
        "${psql[@]}" -f "$work/plain.sql"
        end=$(now)
        pgplain+=("$(awk -v n="$N" -v s="$start" -v e="$end" 'BEGIN { printf "%.0f", n / (e - s) }')")
    done
fi

s=$(printf '%s\n' "${sink[@]}" | median)
p=$(printf '%s\n' "${plain[@]}" | median)
printf 'records=%s batch=%s reps=%s\n' "$N" "$BATCH" "$REPS"
printf 'sqlite-sink (upsert, via broker):   %8s rows/s   runs: %s\n' "$s" "${sink[*]}"
printf 'plain batched INSERT loop:          %8s rows/s   runs: %s\n' "$p" "${plain[*]}"
awk -v s="$s" -v p="$p" 'BEGIN { printf "sink / plain: %.2f\n", s / p }'
if [ ${#pgsink[@]} -gt 0 ]; then
    ps_=$(printf '%s\n' "${pgsink[@]}" | median)
    pp=$(printf '%s\n' "${pgplain[@]}" | median)
    pc=$(printf '%s\n' "${pgcopy[@]}" | median)
    printf 'postgres-sink (upsert, via broker): %8s rows/s   runs: %s\n' "$ps_" "${pgsink[*]}"
    printf 'postgres-sink (insert: COPY):       %8s rows/s   runs: %s\n' "$pc" "${pgcopy[*]}"
    printf 'plain batched INSERT loop (psql):   %8s rows/s   runs: %s\n' "$pp" "${pgplain[*]}"
    awk -v s="$ps_" -v c="$pc" -v p="$pp" 'BEGIN { printf "postgres sink / plain: %.2f (upsert), %.2f (COPY)\n", s / p, c / p }'
else
    echo "postgres: skipped (no initdb in ${pg_bin:-/usr/lib/postgresql/*/bin}, or SKIP_POSTGRES set)"
fi
