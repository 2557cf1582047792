#!/usr/bin/env bash
# Measures kcat -P of 1,000,000 100-byte lines and kcat -C -e of them, against a release strom broker.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=${CARGO_TARGET_DIR:-$(pwd)/target}/release/strom
work=$(mktemp -d "${BENCH_DIR:-/var/tmp}/strom-kcat.XXXXXX")
$bin serve --listen 127.0.0.1:0 --data-dir $work/data 2>$work/log &
pid=$!
for _ in $(seq 100); do addr=$(sed -n 's/^strom: listening on \([^ ]*\).*/\1/p' $work/log); [ -n "$addr" ] && break; sleep 0.1; done
python3 -c "import sys; sys.stdout.buffer.write((('x'*100)+'\n').encode()*1000000)" > $work/in
for r in 1 2 3; do
  t=perf$r
  s=$(date +%s.%N); kcat -b $addr -t $t -P < $work/in; e=$(date +%s.%N)
  p=$(awk -v s=$s -v e=$e 'BEGIN{print e-s}')
  s=$(date +%s.%N); kcat -b $addr -t $t -C -o beginning -e -q > $work/out; e=$(date +%s.%N)
  c=$(awk -v s=$s -v e=$e 'BEGIN{print e-s}')
  cmp -s $work/in $work/out && same=identical || same=DIFFERENT
  echo "run $r: kcat -P 1e6 x 100B: ${p}s ($(awk -v t=$p 'BEGIN{printf "%.0f", 1e6/t}') msg/s); kcat -C -e: ${c}s ($(awk -v t=$c 'BEGIN{printf "%.0f", 1e6/t}') msg/s), output $same"
done
kill $pid; wait $pid 2>/dev/null || true
rm -rf $work
