#!/usr/bin/env bash
# Runs every test strom has, on a fresh machine: installs what the tests
# need (Debian packages, Python Kafka clients in a venv), then runs the Rust
# unit and integration tests (PostgreSQL connector tests included) and the
# Kafka-client compatibility tests (kcat, Python clients, kafkajs).
#
#   scripts/test.sh            everything
#   STROM_SKIP_KAFKA_CLIENTS=1 scripts/test.sh   only the Rust tests
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

log() { printf '\n== %s\n' "$*" >&2; }

install_debian() {
    local missing=()
    for pkg in "$@"; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing Debian packages: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

if [ -z "${STROM_SKIP_KAFKA_CLIENTS:-}" ]; then
    install_debian kcat tmux jq postgresql chromium
    venv="$root/.venv"
    if [ ! -x "$venv/bin/python" ]; then
        log "creating Python venv in $venv"
        python3 -m venv "$venv"
    fi
    "$venv/bin/python" -m pip install -q --disable-pip-version-check \
        -r "$root/tests/kafka/requirements.txt"
    export STROM_TEST_PYTHON="$venv/bin/python"
    # kafkajs (tests/kafka/js), pinned by its package-lock.json.
    command -v npm >/dev/null 2>&1 || install_debian nodejs npm
    log "installing kafkajs"
    npm ci --prefix "$root/tests/kafka/js" --no-audit --no-fund --loglevel=error >/dev/null
    log "installing playwright-core (the console's browser test drives Debian's chromium)"
    npm ci --prefix "$root/tests/console" --no-audit --no-fund --loglevel=error >/dev/null
else
    install_debian tmux jq postgresql
fi
# tests/connect_postgres.rs starts throwaway servers itself (initdb in a
# temp dir, a loopback port, as `nobody` when run as root); it finds the
# binaries in /usr/lib/postgresql/*/bin, where Debian puts them. The
# package's own cluster is not used (it may be stopped).

log "cargo build"
cargo build --all-targets --quiet

log "cargo test"
# Integration tests start real brokers; two at a time keeps a 2-core box responsive.
cargo test --quiet --no-fail-fast -- --test-threads=2

if [ -z "${STROM_SKIP_KAFKA_CLIENTS:-}" ] && [ -d "$root/tests/kafka" ]; then
    log "Kafka client compatibility (kcat, kafka-python, confluent-kafka, kafkajs)"
    STROM_BIN="${CARGO_TARGET_DIR:-$root/target}/debug/strom" bash "$root/tests/kafka/run.sh"
fi
log "all tests passed"
