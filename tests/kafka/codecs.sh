# Sourced by run.sh: every codec written by every producer (kcat -z, both
# Python clients, strom produce -z) and read by every reader (strom
# consume, kcat, both Python clients), keys, headers and timestamps intact.

# Bytes of a topic's single-partition log on disk.
log_bytes() { cat "$data"/data/"$1"-0/*.log | wc -c; }
export -f log_bytes
export data

seq 1 200 | awk '{ printf "zk%d:zv%d %s\n", $1, $1, "padding that compresses well padding that compresses well" }' >"$work/codec.in"

for codec in gzip snappy lz4 zstd; do
    topic="kcat-$codec"
    check "kcat -z $codec: strom consume reads it identical" bash -c \
        "kcat -b '$bs' -t '$topic' -P -K: -z '$codec' -X acks=all <'$work/codec.in' &&
         '$STROM_BIN' consume -b '$bs' -t '$topic' --from-beginning -e -f '%k:%s\n' >'$work/$topic.out' &&
         cmp '$work/codec.in' '$work/$topic.out'"

    for client in kafka_python confluent_kafka; do
        topic="py-$client-$codec"
        check "$client $codec producer: strom consume reads keys, headers, timestamps" bash -c \
            "STROM_TEST_COMPRESSION='$codec' '$PY' '$here/test_$client.py' '$bs' produce '$topic' &&
             '$STROM_BIN' consume -b '$bs' -t '$topic' --from-beginning -e --output json >'$work/$topic.json' &&
             '$PY' '$here/test_$client.py' '$bs' verify-json '$work/$topic.json'"
    done

    topic="strom-$codec"
    check "strom produce -z $codec: kcat reads it identical" bash -c \
        "'$STROM_BIN' produce -b '$bs' -t '$topic' -K : -H src=strom -H kind=cli -z '$codec' <'$work/strom.in' &&
         kcat -b '$bs' -t '$topic' -C -o beginning -e -q -f '%k:%s\n' >'$work/$topic.out' &&
         cmp '$work/strom.in' '$work/$topic.out'"
    check "strom produce -z $codec stores compressed batches (under half the plain size)" bash -c \
        "'$STROM_BIN' produce -b '$bs' -t 'size-none-$codec' <'$work/codec.in' &&
         '$STROM_BIN' produce -b '$bs' -t 'size-$codec' -z '$codec' <'$work/codec.in' &&
         plain=\$(log_bytes 'size-none-$codec') && packed=\$(log_bytes 'size-$codec') &&
         echo \"plain \$plain, $codec \$packed\" && [ \$((packed * 2)) -lt \$plain ]"
    for client in kafka_python confluent_kafka; do
        check "$client reads strom produce -z $codec" \
            "$PY" "$here/test_$client.py" "$bs" read-strom "$topic"
    done
done

# compression.type on the topic: the broker recompresses what arrives in
# another codec, and every reader still gets the same records.
check "topic compression.type=gzip: the broker stores plain and zstd batches as gzip" bash -c \
    "'$STROM_BIN' topics create -b '$bs' topic-gzip --config compression.type=gzip >/dev/null &&
     '$STROM_BIN' produce -b '$bs' -t topic-gzip <'$work/codec.in' &&
     '$STROM_BIN' produce -b '$bs' -t topic-gzip -z zstd <'$work/codec.in' &&
     '$STROM_BIN' produce -b '$bs' -t topic-plain-ref <'$work/codec.in' &&
     [ \$((\$(log_bytes topic-gzip) * 4)) -lt \$(log_bytes topic-plain-ref) ] &&
     kcat -b '$bs' -t topic-gzip -C -o beginning -e -q -f '%s\n' | wc -l | grep -qx 400"
