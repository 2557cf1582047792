# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_strom_global_optspecs
    string join \n v/verbose profile= h/help V/version
end

function __fish_strom_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_strom_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_strom_using_subcommand
    set -l cmd (__fish_strom_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c strom -n "__fish_strom_needs_command" -l profile -d 'Settings profile from $XDG_CONFIG_HOME/strom/config.toml [env: STROM_PROFILE]' -r
complete -c strom -n "__fish_strom_needs_command" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c strom -n "__fish_strom_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c strom -n "__fish_strom_needs_command" -s V -l version -d 'Print version'
complete -c strom -n "__fish_strom_needs_command" -f -a "serve" -d 'Run a broker'
complete -c strom -n "__fish_strom_needs_command" -f -a "produce" -d 'Write records from stdin or a file to a topic'
complete -c strom -n "__fish_strom_needs_command" -f -a "consume" -d 'Print records of a topic to stdout'
complete -c strom -n "__fish_strom_needs_command" -f -a "topics" -d 'Create, list, describe, alter and delete topics'
complete -c strom -n "__fish_strom_needs_command" -f -a "perf" -d 'Measure produce and consume throughput'
complete -c strom -n "__fish_strom_needs_command" -f -a "repl" -d 'Interactive shell (or script runner) for the commands above'
complete -c strom -n "__fish_strom_needs_command" -f -a "config" -d 'Show the effective client settings and where they came from'
complete -c strom -n "__fish_strom_needs_command" -f -a "generate" -d 'Write man pages or shell completions (for packagers)'
complete -c strom -n "__fish_strom_needs_command" -f -a "groups" -d 'List, describe, reset and delete consumer groups'
complete -c strom -n "__fish_strom_needs_command" -f -a "brokers" -d 'List and describe the cluster\'s brokers: version, listeners, health'
complete -c strom -n "__fish_strom_needs_command" -f -a "stream" -d 'Process records from topics to a topic with any program (at least once)'
complete -c strom -n "__fish_strom_needs_command" -f -a "connect" -d 'Run source and sink connectors between topics and databases'
complete -c strom -n "__fish_strom_needs_command" -f -a "top" -d 'Live terminal view of brokers\' metrics: topic rates, partitions, groups\' lag'
complete -c strom -n "__fish_strom_needs_command" -f -a "transactions" -d 'List and describe transactions (transactional producers\' state)'
complete -c strom -n "__fish_strom_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c strom -n "__fish_strom_using_subcommand serve" -l config -d 'TOML file of settings, keys named like the long flags' -r -F
complete -c strom -n "__fish_strom_using_subcommand serve" -l data-dir -d 'Where logs and metadata live [default: $XDG_DATA_HOME/strom or ~/.local/share/strom]' -r -F
complete -c strom -n "__fish_strom_using_subcommand serve" -l listen -d 'Address to listen on, native and Kafka protocol [default: 127.0.0.1:9092]' -r
complete -c strom -n "__fish_strom_using_subcommand serve" -l advertised-listener -d 'Address clients are told to use [default: the bound address]' -r
complete -c strom -n "__fish_strom_using_subcommand serve" -l kafka-listen -d 'An extra listener, e.g. a separate port for Kafka clients' -r
complete -c strom -n "__fish_strom_using_subcommand serve" -l metrics -d 'Serve Prometheus metrics (OpenMetrics text) at http://HOST:PORT/metrics [default: off; a bare port binds 127.0.0.1]' -r
complete -c strom -n "__fish_strom_using_subcommand serve" -l ui -d 'Serve the web console (brokers, topics, messages, groups and lag, live rates) at http://HOST:PORT/ [default: off; a bare port binds 127.0.0.1]. See docs/console.md' -r
complete -c strom -n "__fish_strom_using_subcommand serve" -l node-id -d 'This broker\'s id [default: 1]' -r
complete -c strom -n "__fish_strom_using_subcommand serve" -l default-partitions -d 'Partitions of a topic created without a count [default: 1]' -r
complete -c strom -n "__fish_strom_using_subcommand serve" -l default-replication-factor -d 'Replication factor of a topic created without one [default: 1]' -r
complete -c strom -n "__fish_strom_using_subcommand serve" -l retention-ms -d 'Default retention.ms; -1 keeps records forever [default: 604800000]' -r
complete -c strom -n "__fish_strom_using_subcommand serve" -l retention-bytes -d 'Default retention.bytes per partition; -1 for no limit [default: -1]' -r
complete -c strom -n "__fish_strom_using_subcommand serve" -l segment-bytes -d 'Default segment.bytes [default: 1073741824]' -r
complete -c strom -n "__fish_strom_using_subcommand serve" -l flush-policy -d 'When appends reach the disk: every-append, interval:MS or os [default: every-append]' -r
complete -c strom -n "__fish_strom_using_subcommand serve" -l auto-create-topics -d 'Create topics on first use [default: true]' -r -f -a "true\t''
false\t''"
complete -c strom -n "__fish_strom_using_subcommand serve" -l max-frame-bytes -d 'Largest request frame accepted [default: 104857600]' -r
complete -c strom -n "__fish_strom_using_subcommand serve" -l max-connections -d 'Open connections allowed at once [default: 10000]' -r
complete -c strom -n "__fish_strom_using_subcommand serve" -l offsets-partitions -d 'Partitions of the consumer-offsets topic [default: 8]' -r
complete -c strom -n "__fish_strom_using_subcommand serve" -l group-initial-rebalance-delay-ms -d 'Wait for more members before a new group\'s first rebalance [default: 3000]' -r
complete -c strom -n "__fish_strom_using_subcommand serve" -l group-min-session-timeout-ms -d 'Shortest session timeout a group member may ask for [default: 6000]' -r
complete -c strom -n "__fish_strom_using_subcommand serve" -l controller-listen -d 'Where this node\'s controller listens [default: its --voters entry; required when --node-id is not a voter]' -r
complete -c strom -n "__fish_strom_using_subcommand serve" -l voters -d 'The metadata quorum (controller voters); a --node-id not among them joins as a non-voting broker. Without it the broker runs alone' -r
complete -c strom -n "__fish_strom_using_subcommand serve" -l broker-session-timeout-ms -d 'A broker silent this long is fenced by the controller [default: 3000]' -r
complete -c strom -n "__fish_strom_using_subcommand serve" -l replica-lag-time-max-ms -d 'A follower not caught up this long leaves the ISR (replica.lag.time.max.ms) [default: 10000]' -r
complete -c strom -n "__fish_strom_using_subcommand serve" -l producer-id-expiration-ms -d 'Forget an idempotent producer idle this long (producer.id.expiration.ms) [default: 86400000]' -r
complete -c strom -n "__fish_strom_using_subcommand serve" -l log-retention-check-interval-ms -d 'How often retention deletes old segments (log.retention.check.interval.ms) [default: 60000]' -r
complete -c strom -n "__fish_strom_using_subcommand serve" -l log-cleaner-io-max-bytes-per-second -d 'Cap on the log cleaner\'s disk I/O, bytes read plus written per second, shared by every compacted partition (log.cleaner.io.max.bytes.per.second); 0 is no cap [default: 0]' -r
complete -c strom -n "__fish_strom_using_subcommand serve" -l log-cleaner-backoff-ms -d 'How long the log cleaner waits between passes over the compacted partitions (log.cleaner.backoff.ms) [default: 15000]' -r
complete -c strom -n "__fish_strom_using_subcommand serve" -l transaction-max-timeout-ms -d 'Longest transaction timeout a transactional producer may ask for; longer is refused with INVALID_TRANSACTION_TIMEOUT (transaction.max.timeout.ms) [default: 900000]' -r
complete -c strom -n "__fish_strom_using_subcommand serve" -l transaction-abort-check-interval-ms -d 'How often transactions open past their timeout are aborted (transaction.abort.timed.out.transaction.cleanup.interval.ms) [default: 10000]' -r
complete -c strom -n "__fish_strom_using_subcommand serve" -l leader-imbalance-check-interval-ms -d 'How often the controller moves leadership back to preferred replicas when a broker leads under 90% of the partitions it prefers (leader.imbalance.check.interval.seconds); 0 turns automatic leader rebalancing off [default: 300000]' -r
complete -c strom -n "__fish_strom_using_subcommand serve" -l max-partitions-per-topic -d 'Most partitions one topic may have; a create or grow beyond it is refused (POLICY_VIOLATION) before anything is made [default: 10000, Kafka\'s per-request limit]' -r
complete -c strom -n "__fish_strom_using_subcommand serve" -l max-partitions -d 'Most partitions this broker holds; each keeps 2 files open and 2 memory maps [default: what three quarters of the open-file limit (ulimit -n, raised to its hard limit at start) and of vm.max_map_count hold]' -r
complete -c strom -n "__fish_strom_using_subcommand serve" -l profile -d 'Settings profile from $XDG_CONFIG_HOME/strom/config.toml [env: STROM_PROFILE]' -r
complete -c strom -n "__fish_strom_using_subcommand serve" -l no-auto-create-topics -d 'Do not create topics on first use'
complete -c strom -n "__fish_strom_using_subcommand serve" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c strom -n "__fish_strom_using_subcommand serve" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c strom -n "__fish_strom_using_subcommand serve" -s V -l version -d 'Print version'
complete -c strom -n "__fish_strom_using_subcommand produce" -s b -l bootstrap-server -d 'Broker(s) to bootstrap from (precedence: flag, env, profile, default)' -r
complete -c strom -n "__fish_strom_using_subcommand produce" -s t -l topic -d 'Topic to write to' -r
complete -c strom -n "__fish_strom_using_subcommand produce" -s l -l file -d 'Read records from FILE instead of stdin' -r -F
complete -c strom -n "__fish_strom_using_subcommand produce" -s K -l key-separator -d 'Split each line into key and value at the first SEP' -r
complete -c strom -n "__fish_strom_using_subcommand produce" -l property -d 'Kafka console-producer property: parse.key=true, key.separator=SEP, null.marker=STR' -r
complete -c strom -n "__fish_strom_using_subcommand produce" -l producer-property -d 'Kafka producer setting (repeatable): max.request.size, batch.size, linger.ms, acks, retries, delivery.timeout.ms, compression.type, ...' -r
complete -c strom -n "__fish_strom_using_subcommand produce" -s H -l header -d 'Add a header to every record (repeatable)' -r
complete -c strom -n "__fish_strom_using_subcommand produce" -s p -l partition -d 'Write every record to this partition' -r
complete -c strom -n "__fish_strom_using_subcommand produce" -l acks -d 'Acknowledgements to wait for (-1 is Kafka\'s spelling of all)' -r -f -a "0\t''
1\t''
all\t''"
complete -c strom -n "__fish_strom_using_subcommand produce" -l null-marker -d 'A value equal to STR is sent as null (a tombstone)' -r
complete -c strom -n "__fish_strom_using_subcommand produce" -l input -d 'Input layout' -r -f -a "plain\t'One record per line'
json\t'One JSON envelope per line (see --help)'"
complete -c strom -n "__fish_strom_using_subcommand produce" -l on-bad-line -d 'A malformed input line (bad JSON, no key separator): fail stops there after delivering every earlier line; skip reports it and goes on' -r -f -a "fail\t'Stop reading; deliver every record before the line, then exit 1'
skip\t'Report the line (with its number) on stderr and go on'"
complete -c strom -n "__fish_strom_using_subcommand produce" -l linger-ms -d 'How long a batch waits for more records' -r
complete -c strom -n "__fish_strom_using_subcommand produce" -s z -l compression-type -d 'Compress every batch with this codec (Kafka\'s compression.type)' -r -f -a "none\t''
gzip\t''
snappy\t''
lz4\t''
zstd\t''"
complete -c strom -n "__fish_strom_using_subcommand produce" -l transactional-id -d 'Write in transactions under this id (Kafka\'s transactional.id): one per read of the input, or per --transaction-size records. read_committed consumers see each whole or not at all. A newer producer with the same id fences this one (exit 1); a failed transaction is aborted and reported (exit 1)' -r
complete -c strom -n "__fish_strom_using_subcommand produce" -l transaction-size -d 'With --transactional-id: commit every N records (and at the end of the input) instead of per read' -r
complete -c strom -n "__fish_strom_using_subcommand produce" -l transaction-timeout-ms -d 'With --transactional-id: the broker aborts a transaction open longer (Kafka\'s transaction.timeout.ms)' -r
complete -c strom -n "__fish_strom_using_subcommand produce" -l filter -d 'Keep only records for which the jq expression EXPR is true: select(EXPR) on the record envelope, e.g. \'.key == "a"\'' -r
complete -c strom -n "__fish_strom_using_subcommand produce" -l jq -d 'Map each record envelope to zero or more envelopes with the jq expression EXPR, e.g. \'.value |= ascii_upcase\'' -r
complete -c strom -n "__fish_strom_using_subcommand produce" -l profile -d 'Settings profile from $XDG_CONFIG_HOME/strom/config.toml [env: STROM_PROFILE]' -r
complete -c strom -n "__fish_strom_using_subcommand produce" -l keep-partition -d 'With --input json, send each record to its envelope\'s "partition"'
complete -c strom -n "__fish_strom_using_subcommand produce" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c strom -n "__fish_strom_using_subcommand produce" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c strom -n "__fish_strom_using_subcommand produce" -s V -l version -d 'Print version'
complete -c strom -n "__fish_strom_using_subcommand consume" -s b -l bootstrap-server -d 'Broker(s) to bootstrap from (precedence: flag, env, profile, default)' -r
complete -c strom -n "__fish_strom_using_subcommand consume" -s t -l topic -d 'Topic to read' -r
complete -c strom -n "__fish_strom_using_subcommand consume" -s o -l offset -d 'Start at: beginning, end, N, -N (N before the end), s@TIMESTAMP_MS (or @TIMESTAMP_MS), a UTC datetime YYYY-MM-DDTHH:mm:SS[.sss], or stored (the group\'s committed offsets, with --group). Given again as e@TIMESTAMP_MS (or e@DATETIME): stop each partition before the first record at or after that time, then exit, as kcat does' -r
complete -c strom -n "__fish_strom_using_subcommand consume" -s p -l partition -d 'Read only this partition (repeatable; default all)' -r
complete -c strom -n "__fish_strom_using_subcommand consume" -l max-messages -d 'Exit after N records' -r
complete -c strom -n "__fish_strom_using_subcommand consume" -l timeout-ms -d 'Exit when no record arrives for MS milliseconds' -r
complete -c strom -n "__fish_strom_using_subcommand consume" -s f -l format -d 'kcat-style output format, e.g. \'%k\\t%s\\n\'' -r
complete -c strom -n "__fish_strom_using_subcommand consume" -l property -d 'Kafka console-consumer property, e.g. print.key=true' -r
complete -c strom -n "__fish_strom_using_subcommand consume" -l output -d 'Output layout' -r -f -a "plain\t'The value (or --format / --property layout) per line'
json\t'One JSON envelope per line'"
complete -c strom -n "__fish_strom_using_subcommand consume" -s g -l group -d 'Consume as part of a consumer group: resume at its committed offsets and share the partitions with its other members' -r
complete -c strom -n "__fish_strom_using_subcommand consume" -l consumer-property -d 'Kafka consumer property for --group (repeatable), e.g. session.timeout.ms=10000, partition.assignment.strategy=roundrobin, auto.offset.reset=earliest, auto.commit.interval.ms=5000' -r
complete -c strom -n "__fish_strom_using_subcommand consume" -l isolation-level -d 'read_committed: only records of committed transactions (and those written outside transactions), up to the last stable offset; read_uncommitted: everything, as Kafka\'s consumer by default' -r -f -a "read_uncommitted\t''
read_committed\t''"
complete -c strom -n "__fish_strom_using_subcommand consume" -l filter -d 'Keep only records for which the jq expression EXPR is true: select(EXPR) on the record envelope, e.g. \'.key == "a"\'' -r
complete -c strom -n "__fish_strom_using_subcommand consume" -l jq -d 'Map each record envelope to zero or more envelopes with the jq expression EXPR, e.g. \'.value |= ascii_upcase\'' -r
complete -c strom -n "__fish_strom_using_subcommand consume" -l profile -d 'Settings profile from $XDG_CONFIG_HOME/strom/config.toml [env: STROM_PROFILE]' -r
complete -c strom -n "__fish_strom_using_subcommand consume" -l from-beginning -d 'Start at the oldest record (same as -o beginning)'
complete -c strom -n "__fish_strom_using_subcommand consume" -s e -l exit-at-end -d 'Exit once the end of every partition is reached'
complete -c strom -n "__fish_strom_using_subcommand consume" -s Z -l print-null -d 'Print a null key or value as NULL (kcat\'s -Z); otherwise -f prints nothing and the default layout prints null'
complete -c strom -n "__fish_strom_using_subcommand consume" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c strom -n "__fish_strom_using_subcommand consume" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c strom -n "__fish_strom_using_subcommand consume" -s V -l version -d 'Print version'
complete -c strom -n "__fish_strom_using_subcommand topics; and not __fish_seen_subcommand_from create list describe alter delete offsets delete-records elect-leaders help" -l profile -d 'Settings profile from $XDG_CONFIG_HOME/strom/config.toml [env: STROM_PROFILE]' -r
complete -c strom -n "__fish_strom_using_subcommand topics; and not __fish_seen_subcommand_from create list describe alter delete offsets delete-records elect-leaders help" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c strom -n "__fish_strom_using_subcommand topics; and not __fish_seen_subcommand_from create list describe alter delete offsets delete-records elect-leaders help" -s h -l help -d 'Print help'
complete -c strom -n "__fish_strom_using_subcommand topics; and not __fish_seen_subcommand_from create list describe alter delete offsets delete-records elect-leaders help" -s V -l version -d 'Print version'
complete -c strom -n "__fish_strom_using_subcommand topics; and not __fish_seen_subcommand_from create list describe alter delete offsets delete-records elect-leaders help" -f -a "create" -d 'Create a topic'
complete -c strom -n "__fish_strom_using_subcommand topics; and not __fish_seen_subcommand_from create list describe alter delete offsets delete-records elect-leaders help" -f -a "list" -d 'List topic names'
complete -c strom -n "__fish_strom_using_subcommand topics; and not __fish_seen_subcommand_from create list describe alter delete offsets delete-records elect-leaders help" -f -a "describe" -d 'Describe partitions, leaders and configs'
complete -c strom -n "__fish_strom_using_subcommand topics; and not __fish_seen_subcommand_from create list describe alter delete offsets delete-records elect-leaders help" -f -a "alter" -d 'Add partitions or change configs'
complete -c strom -n "__fish_strom_using_subcommand topics; and not __fish_seen_subcommand_from create list describe alter delete offsets delete-records elect-leaders help" -f -a "delete" -d 'Delete a topic'
complete -c strom -n "__fish_strom_using_subcommand topics; and not __fish_seen_subcommand_from create list describe alter delete offsets delete-records elect-leaders help" -f -a "offsets" -d 'Earliest, latest or by-time offsets per partition (kafka-get-offsets)'
complete -c strom -n "__fish_strom_using_subcommand topics; and not __fish_seen_subcommand_from create list describe alter delete offsets delete-records elect-leaders help" -f -a "delete-records" -d 'Delete the records below an offset (kafka-delete-records)'
complete -c strom -n "__fish_strom_using_subcommand topics; and not __fish_seen_subcommand_from create list describe alter delete offsets delete-records elect-leaders help" -f -a "elect-leaders" -d 'Move partitions\' leadership to their preferred replica, or elect an unclean leader (kafka-leader-election)'
complete -c strom -n "__fish_strom_using_subcommand topics; and not __fish_seen_subcommand_from create list describe alter delete offsets delete-records elect-leaders help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from create" -s b -l bootstrap-server -d 'Broker(s) to bootstrap from (precedence: flag, env, profile, default)' -r
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from create" -l topic -d 'Topic name (kafka-topics spelling)' -r
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from create" -l partitions -d 'Number of partitions (default: the broker\'s). While a big create runs, a spinner with the elapsed time shows on stderr if it is a terminal' -r
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from create" -l replication-factor -d 'Copies of each partition (default: the broker\'s)' -r
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from create" -l config -d 'Topic config override (repeatable), e.g. retention.ms=3600000' -r
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from create" -l profile -d 'Settings profile from $XDG_CONFIG_HOME/strom/config.toml [env: STROM_PROFILE]' -r
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from create" -l if-not-exists -d 'Succeed if the topic already exists'
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from create" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help'
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from create" -s V -l version -d 'Print version'
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from list" -s b -l bootstrap-server -d 'Broker(s) to bootstrap from (precedence: flag, env, profile, default)' -r
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from list" -l topic -d 'Only topics whose whole name matches this regex (kafka-topics spelling)' -r
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from list" -l output -r -f -a "plain\t'Kafka\'s text layout'
table\t'An aligned table'
json\t'JSON'"
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from list" -l profile -d 'Settings profile from $XDG_CONFIG_HOME/strom/config.toml [env: STROM_PROFILE]' -r
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from list" -l internal -d 'Include internal topics (names starting with __)'
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from list" -l exclude-internal -d 'Hide internal topics (names starting with __): the default, kafka-topics\' flag'
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from describe" -s b -l bootstrap-server -d 'Broker(s) to bootstrap from (precedence: flag, env, profile, default)' -r
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from describe" -l topic -d 'Topic to describe (kafka-topics spelling)' -r
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from describe" -l output -r -f -a "plain\t'Kafka\'s text layout'
table\t'An aligned table'
json\t'JSON'"
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from describe" -l profile -d 'Settings profile from $XDG_CONFIG_HOME/strom/config.toml [env: STROM_PROFILE]' -r
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from describe" -l all-configs -d 'Every config with its effective value, defaults included (broker defaults from strom brokers alter-configs show here); without it, the topic\'s overrides only'
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from describe" -l log-dirs -d 'Where each partition replica is stored and how big it is: the broker, its log directory, size on disk, log end and lag behind the leader (kafka-log-dirs), asked of every broker'
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from describe" -l under-replicated-partitions -d 'Only partitions whose ISR is smaller than their replica set'
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from describe" -l unavailable-partitions -d 'Only partitions without a leader'
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from describe" -l under-min-isr-partitions -d 'Only partitions whose ISR is smaller than min.insync.replicas (acks=all is refused)'
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from describe" -l at-min-isr-partitions -d 'Only partitions whose ISR is exactly min.insync.replicas (one more loss refuses acks=all)'
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from describe" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from describe" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from describe" -s V -l version -d 'Print version'
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from alter" -s b -l bootstrap-server -d 'Broker(s) to bootstrap from (precedence: flag, env, profile, default)' -r
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from alter" -l topic -d 'Topic name (kafka-topics spelling)' -r
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from alter" -l partitions -d 'New, larger partition count' -r
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from alter" -l config -d 'Set a topic config (repeatable)' -r
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from alter" -l delete-config -d 'Remove a topic config override, back to the default (repeatable; an unknown key is an error)' -r
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from alter" -l profile -d 'Settings profile from $XDG_CONFIG_HOME/strom/config.toml [env: STROM_PROFILE]' -r
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from alter" -l if-exists -d 'Succeed if the topic does not exist'
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from alter" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from alter" -s h -l help -d 'Print help'
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from alter" -s V -l version -d 'Print version'
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from delete" -s b -l bootstrap-server -d 'Broker(s) to bootstrap from (precedence: flag, env, profile, default)' -r
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from delete" -l topic -d 'Topic name (kafka-topics spelling)' -r
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from delete" -l profile -d 'Settings profile from $XDG_CONFIG_HOME/strom/config.toml [env: STROM_PROFILE]' -r
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from delete" -l if-exists -d 'Succeed if the topic does not exist'
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from delete" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from delete" -s h -l help -d 'Print help'
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from delete" -s V -l version -d 'Print version'
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from offsets" -s b -l bootstrap-server -d 'Broker(s) to bootstrap from (precedence: flag, env, profile, default)' -r
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from offsets" -l topic -d 'Topic name (kafka-topics spelling)' -r
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from offsets" -l time -d 'latest (-1), earliest (-2), or a timestamp in ms: the first offset at or after it (-1 when there is none)' -r
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from offsets" -l partitions -d 'Only these partitions (comma-separated)' -r
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from offsets" -l output -d 'Output layout (plain is kafka-get-offsets\' topic:partition:offset)' -r -f -a "plain\t'Kafka\'s text layout'
table\t'An aligned table'
json\t'JSON'"
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from offsets" -l profile -d 'Settings profile from $XDG_CONFIG_HOME/strom/config.toml [env: STROM_PROFILE]' -r
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from offsets" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from offsets" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from offsets" -s V -l version -d 'Print version'
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from delete-records" -s b -l bootstrap-server -d 'Broker(s) to bootstrap from (precedence: flag, env, profile, default)' -r
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from delete-records" -s p -l partition -d 'Only these partitions (repeatable; default every partition)' -r
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from delete-records" -l offset -d 'Delete every record below this offset; -1 is the high watermark (everything written so far)' -r
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from delete-records" -l offset-json-file -d 'kafka-delete-records\' JSON file of topic/partition/offset entries' -r -F
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from delete-records" -l profile -d 'Settings profile from $XDG_CONFIG_HOME/strom/config.toml [env: STROM_PROFILE]' -r
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from delete-records" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from delete-records" -s h -l help -d 'Print help'
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from delete-records" -s V -l version -d 'Print version'
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from elect-leaders" -s b -l bootstrap-server -d 'Broker(s) to bootstrap from (precedence: flag, env, profile, default)' -r
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from elect-leaders" -l election-type -d 'preferred or unclean' -r -f -a "preferred\t'Hand leadership back to each partition\'s first replica, if it is live and in the ISR (never loses data)'
unclean\t'For partitions without a live leader: elect any live replica, even one outside the ISR (records only the lost replicas had are gone)'"
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from elect-leaders" -l topic -d 'Elect for this topic\'s partitions (all, or those of --partition)' -r
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from elect-leaders" -l partition -d 'Only this partition of --topic (repeatable)' -r
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from elect-leaders" -l path-to-json-file -d 'kafka-leader-election\'s JSON file of topic/partition entries' -r -F
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from elect-leaders" -l profile -d 'Settings profile from $XDG_CONFIG_HOME/strom/config.toml [env: STROM_PROFILE]' -r
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from elect-leaders" -l all-topic-partitions -d 'Elect for every partition of every topic'
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from elect-leaders" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from elect-leaders" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from elect-leaders" -s V -l version -d 'Print version'
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from help" -f -a "create" -d 'Create a topic'
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from help" -f -a "list" -d 'List topic names'
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from help" -f -a "describe" -d 'Describe partitions, leaders and configs'
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from help" -f -a "alter" -d 'Add partitions or change configs'
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from help" -f -a "delete" -d 'Delete a topic'
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from help" -f -a "offsets" -d 'Earliest, latest or by-time offsets per partition (kafka-get-offsets)'
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from help" -f -a "delete-records" -d 'Delete the records below an offset (kafka-delete-records)'
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from help" -f -a "elect-leaders" -d 'Move partitions\' leadership to their preferred replica, or elect an unclean leader (kafka-leader-election)'
complete -c strom -n "__fish_strom_using_subcommand topics; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c strom -n "__fish_strom_using_subcommand perf; and not __fish_seen_subcommand_from produce consume help" -l profile -d 'Settings profile from $XDG_CONFIG_HOME/strom/config.toml [env: STROM_PROFILE]' -r
complete -c strom -n "__fish_strom_using_subcommand perf; and not __fish_seen_subcommand_from produce consume help" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c strom -n "__fish_strom_using_subcommand perf; and not __fish_seen_subcommand_from produce consume help" -s h -l help -d 'Print help'
complete -c strom -n "__fish_strom_using_subcommand perf; and not __fish_seen_subcommand_from produce consume help" -s V -l version -d 'Print version'
complete -c strom -n "__fish_strom_using_subcommand perf; and not __fish_seen_subcommand_from produce consume help" -f -a "produce" -d 'Produce synthetic records as fast as allowed (kafka-producer-perf-test)'
complete -c strom -n "__fish_strom_using_subcommand perf; and not __fish_seen_subcommand_from produce consume help" -f -a "consume" -d 'Read records as fast as possible (kafka-consumer-perf-test)'
complete -c strom -n "__fish_strom_using_subcommand perf; and not __fish_seen_subcommand_from produce consume help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c strom -n "__fish_strom_using_subcommand perf; and __fish_seen_subcommand_from produce" -s b -l bootstrap-server -d 'Broker(s) to bootstrap from (precedence: flag, env, profile, default)' -r
complete -c strom -n "__fish_strom_using_subcommand perf; and __fish_seen_subcommand_from produce" -l topic -r
complete -c strom -n "__fish_strom_using_subcommand perf; and __fish_seen_subcommand_from produce" -l num-records -d 'Records to send' -r
complete -c strom -n "__fish_strom_using_subcommand perf; and __fish_seen_subcommand_from produce" -l record-size -d 'Value size in bytes' -r
complete -c strom -n "__fish_strom_using_subcommand perf; and __fish_seen_subcommand_from produce" -l throughput -d 'Records per second cap; -1 for no limit' -r
complete -c strom -n "__fish_strom_using_subcommand perf; and __fish_seen_subcommand_from produce" -l producer-props -d 'Producer settings: acks=, linger.ms=, batch.size=, max.in.flight.requests.per.connection=, buffer.memory=, retries=, request.timeout.ms=, delivery.timeout.ms=, max.request.size=, compression.type=none|gzip|snappy|lz4|zstd' -r
complete -c strom -n "__fish_strom_using_subcommand perf; and __fish_seen_subcommand_from produce" -l acks -d 'Acknowledgements (overrides producer-props acks; -1 is all)' -r -f -a "0\t''
1\t''
all\t''"
complete -c strom -n "__fish_strom_using_subcommand perf; and __fish_seen_subcommand_from produce" -l reporting-interval -d 'Milliseconds between progress lines' -r
complete -c strom -n "__fish_strom_using_subcommand perf; and __fish_seen_subcommand_from produce" -l profile -d 'Settings profile from $XDG_CONFIG_HOME/strom/config.toml [env: STROM_PROFILE]' -r
complete -c strom -n "__fish_strom_using_subcommand perf; and __fish_seen_subcommand_from produce" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c strom -n "__fish_strom_using_subcommand perf; and __fish_seen_subcommand_from produce" -s h -l help -d 'Print help'
complete -c strom -n "__fish_strom_using_subcommand perf; and __fish_seen_subcommand_from produce" -s V -l version -d 'Print version'
complete -c strom -n "__fish_strom_using_subcommand perf; and __fish_seen_subcommand_from consume" -s b -l bootstrap-server -d 'Broker(s) to bootstrap from (precedence: flag, env, profile, default)' -r
complete -c strom -n "__fish_strom_using_subcommand perf; and __fish_seen_subcommand_from consume" -l topic -r
complete -c strom -n "__fish_strom_using_subcommand perf; and __fish_seen_subcommand_from consume" -l messages -d 'Records to read' -r
complete -c strom -n "__fish_strom_using_subcommand perf; and __fish_seen_subcommand_from consume" -l reporting-interval -d 'Milliseconds between detailed lines' -r
complete -c strom -n "__fish_strom_using_subcommand perf; and __fish_seen_subcommand_from consume" -l timeout -d 'Give up after MS milliseconds without data' -r
complete -c strom -n "__fish_strom_using_subcommand perf; and __fish_seen_subcommand_from consume" -l fetch-size -d 'Bytes to fetch per partition per request (16 MiB measured fastest on loopback: fewer round trips per byte)' -r
complete -c strom -n "__fish_strom_using_subcommand perf; and __fish_seen_subcommand_from consume" -l group -d 'Consume as a member of this consumer group (commits as it goes)' -r
complete -c strom -n "__fish_strom_using_subcommand perf; and __fish_seen_subcommand_from consume" -l profile -d 'Settings profile from $XDG_CONFIG_HOME/strom/config.toml [env: STROM_PROFILE]' -r
complete -c strom -n "__fish_strom_using_subcommand perf; and __fish_seen_subcommand_from consume" -l show-detailed-stats -d 'Print a line per reporting interval'
complete -c strom -n "__fish_strom_using_subcommand perf; and __fish_seen_subcommand_from consume" -l from-latest -d 'Start at the end instead of the beginning'
complete -c strom -n "__fish_strom_using_subcommand perf; and __fish_seen_subcommand_from consume" -l hide-header -d 'Hide the header line'
complete -c strom -n "__fish_strom_using_subcommand perf; and __fish_seen_subcommand_from consume" -l decode -d 'Decode every record (inflating compressed batches) as an application would, instead of counting records from batch headers'
complete -c strom -n "__fish_strom_using_subcommand perf; and __fish_seen_subcommand_from consume" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c strom -n "__fish_strom_using_subcommand perf; and __fish_seen_subcommand_from consume" -s h -l help -d 'Print help'
complete -c strom -n "__fish_strom_using_subcommand perf; and __fish_seen_subcommand_from consume" -s V -l version -d 'Print version'
complete -c strom -n "__fish_strom_using_subcommand perf; and __fish_seen_subcommand_from help" -f -a "produce" -d 'Produce synthetic records as fast as allowed (kafka-producer-perf-test)'
complete -c strom -n "__fish_strom_using_subcommand perf; and __fish_seen_subcommand_from help" -f -a "consume" -d 'Read records as fast as possible (kafka-consumer-perf-test)'
complete -c strom -n "__fish_strom_using_subcommand perf; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c strom -n "__fish_strom_using_subcommand repl" -s b -l bootstrap-server -d 'Broker(s) to bootstrap from (precedence: flag, env, profile, default)' -r
complete -c strom -n "__fish_strom_using_subcommand repl" -l profile -d 'Settings profile from $XDG_CONFIG_HOME/strom/config.toml [env: STROM_PROFILE]' -r
complete -c strom -n "__fish_strom_using_subcommand repl" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c strom -n "__fish_strom_using_subcommand repl" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c strom -n "__fish_strom_using_subcommand repl" -s V -l version -d 'Print version'
complete -c strom -n "__fish_strom_using_subcommand config; and not __fish_seen_subcommand_from show help" -l profile -d 'Settings profile from $XDG_CONFIG_HOME/strom/config.toml [env: STROM_PROFILE]' -r
complete -c strom -n "__fish_strom_using_subcommand config; and not __fish_seen_subcommand_from show help" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c strom -n "__fish_strom_using_subcommand config; and not __fish_seen_subcommand_from show help" -s h -l help -d 'Print help'
complete -c strom -n "__fish_strom_using_subcommand config; and not __fish_seen_subcommand_from show help" -s V -l version -d 'Print version'
complete -c strom -n "__fish_strom_using_subcommand config; and not __fish_seen_subcommand_from show help" -f -a "show" -d 'Print the effective bootstrap server, output and profile, and where each came from'
complete -c strom -n "__fish_strom_using_subcommand config; and not __fish_seen_subcommand_from show help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c strom -n "__fish_strom_using_subcommand config; and __fish_seen_subcommand_from show" -s b -l bootstrap-server -d 'Broker(s) to bootstrap from (precedence: flag, env, profile, default)' -r
complete -c strom -n "__fish_strom_using_subcommand config; and __fish_seen_subcommand_from show" -l output -r -f -a "plain\t'Kafka\'s text layout'
table\t'An aligned table'
json\t'JSON'"
complete -c strom -n "__fish_strom_using_subcommand config; and __fish_seen_subcommand_from show" -l profile -d 'Settings profile from $XDG_CONFIG_HOME/strom/config.toml [env: STROM_PROFILE]' -r
complete -c strom -n "__fish_strom_using_subcommand config; and __fish_seen_subcommand_from show" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c strom -n "__fish_strom_using_subcommand config; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c strom -n "__fish_strom_using_subcommand config; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c strom -n "__fish_strom_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "show" -d 'Print the effective bootstrap server, output and profile, and where each came from'
complete -c strom -n "__fish_strom_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c strom -n "__fish_strom_using_subcommand generate; and not __fish_seen_subcommand_from man completions help" -l profile -d 'Settings profile from $XDG_CONFIG_HOME/strom/config.toml [env: STROM_PROFILE]' -r
complete -c strom -n "__fish_strom_using_subcommand generate; and not __fish_seen_subcommand_from man completions help" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c strom -n "__fish_strom_using_subcommand generate; and not __fish_seen_subcommand_from man completions help" -s h -l help -d 'Print help'
complete -c strom -n "__fish_strom_using_subcommand generate; and not __fish_seen_subcommand_from man completions help" -s V -l version -d 'Print version'
complete -c strom -n "__fish_strom_using_subcommand generate; and not __fish_seen_subcommand_from man completions help" -f -a "man" -d 'Man pages for strom and every subcommand (strom-topics-create.1, ...)'
complete -c strom -n "__fish_strom_using_subcommand generate; and not __fish_seen_subcommand_from man completions help" -f -a "completions" -d 'Bash, zsh and fish completion scripts'
complete -c strom -n "__fish_strom_using_subcommand generate; and not __fish_seen_subcommand_from man completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c strom -n "__fish_strom_using_subcommand generate; and __fish_seen_subcommand_from man" -l profile -d 'Settings profile from $XDG_CONFIG_HOME/strom/config.toml [env: STROM_PROFILE]' -r
complete -c strom -n "__fish_strom_using_subcommand generate; and __fish_seen_subcommand_from man" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c strom -n "__fish_strom_using_subcommand generate; and __fish_seen_subcommand_from man" -s h -l help -d 'Print help'
complete -c strom -n "__fish_strom_using_subcommand generate; and __fish_seen_subcommand_from man" -s V -l version -d 'Print version'
complete -c strom -n "__fish_strom_using_subcommand generate; and __fish_seen_subcommand_from completions" -l profile -d 'Settings profile from $XDG_CONFIG_HOME/strom/config.toml [env: STROM_PROFILE]' -r
complete -c strom -n "__fish_strom_using_subcommand generate; and __fish_seen_subcommand_from completions" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c strom -n "__fish_strom_using_subcommand generate; and __fish_seen_subcommand_from completions" -s h -l help -d 'Print help'
complete -c strom -n "__fish_strom_using_subcommand generate; and __fish_seen_subcommand_from completions" -s V -l version -d 'Print version'
complete -c strom -n "__fish_strom_using_subcommand generate; and __fish_seen_subcommand_from help" -f -a "man" -d 'Man pages for strom and every subcommand (strom-topics-create.1, ...)'
complete -c strom -n "__fish_strom_using_subcommand generate; and __fish_seen_subcommand_from help" -f -a "completions" -d 'Bash, zsh and fish completion scripts'
complete -c strom -n "__fish_strom_using_subcommand generate; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c strom -n "__fish_strom_using_subcommand groups; and not __fish_seen_subcommand_from list describe reset-offsets delete delete-offsets help" -l profile -d 'Settings profile from $XDG_CONFIG_HOME/strom/config.toml [env: STROM_PROFILE]' -r
complete -c strom -n "__fish_strom_using_subcommand groups; and not __fish_seen_subcommand_from list describe reset-offsets delete delete-offsets help" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c strom -n "__fish_strom_using_subcommand groups; and not __fish_seen_subcommand_from list describe reset-offsets delete delete-offsets help" -s h -l help -d 'Print help'
complete -c strom -n "__fish_strom_using_subcommand groups; and not __fish_seen_subcommand_from list describe reset-offsets delete delete-offsets help" -s V -l version -d 'Print version'
complete -c strom -n "__fish_strom_using_subcommand groups; and not __fish_seen_subcommand_from list describe reset-offsets delete delete-offsets help" -f -a "list" -d 'List consumer groups, one per line'
complete -c strom -n "__fish_strom_using_subcommand groups; and not __fish_seen_subcommand_from list describe reset-offsets delete delete-offsets help" -f -a "describe" -d 'Show a group\'s committed offsets and lag, its members (--members) or its state (--state)'
complete -c strom -n "__fish_strom_using_subcommand groups; and not __fish_seen_subcommand_from list describe reset-offsets delete delete-offsets help" -f -a "reset-offsets" -d 'Move a group\'s committed offsets (a dry run unless --execute)'
complete -c strom -n "__fish_strom_using_subcommand groups; and not __fish_seen_subcommand_from list describe reset-offsets delete delete-offsets help" -f -a "delete" -d 'Delete consumer groups that have no active members'
complete -c strom -n "__fish_strom_using_subcommand groups; and not __fish_seen_subcommand_from list describe reset-offsets delete delete-offsets help" -f -a "delete-offsets" -d 'Delete a group\'s committed offsets of some topics or partitions'
complete -c strom -n "__fish_strom_using_subcommand groups; and not __fish_seen_subcommand_from list describe reset-offsets delete delete-offsets help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c strom -n "__fish_strom_using_subcommand groups; and __fish_seen_subcommand_from list" -s b -l bootstrap-server -d 'Broker(s) to bootstrap from (precedence: flag, env, profile, default)' -r
complete -c strom -n "__fish_strom_using_subcommand groups; and __fish_seen_subcommand_from list" -l state -d 'Show GROUP and STATE; with STATEs, only groups in those states' -r
complete -c strom -n "__fish_strom_using_subcommand groups; and __fish_seen_subcommand_from list" -l output -r -f -a "plain\t'Kafka\'s text layout'
table\t'An aligned table'
json\t'JSON'"
complete -c strom -n "__fish_strom_using_subcommand groups; and __fish_seen_subcommand_from list" -l profile -d 'Settings profile from $XDG_CONFIG_HOME/strom/config.toml [env: STROM_PROFILE]' -r
complete -c strom -n "__fish_strom_using_subcommand groups; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c strom -n "__fish_strom_using_subcommand groups; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c strom -n "__fish_strom_using_subcommand groups; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c strom -n "__fish_strom_using_subcommand groups; and __fish_seen_subcommand_from describe" -s b -l bootstrap-server -d 'Broker(s) to bootstrap from (precedence: flag, env, profile, default)' -r
complete -c strom -n "__fish_strom_using_subcommand groups; and __fish_seen_subcommand_from describe" -l group -d 'Group to describe (repeatable)' -r
complete -c strom -n "__fish_strom_using_subcommand groups; and __fish_seen_subcommand_from describe" -l output -r -f -a "plain\t'Kafka\'s text layout'
table\t'An aligned table'
json\t'JSON'"
complete -c strom -n "__fish_strom_using_subcommand groups; and __fish_seen_subcommand_from describe" -l profile -d 'Settings profile from $XDG_CONFIG_HOME/strom/config.toml [env: STROM_PROFILE]' -r
complete -c strom -n "__fish_strom_using_subcommand groups; and __fish_seen_subcommand_from describe" -l all-groups -d 'Describe every group'
complete -c strom -n "__fish_strom_using_subcommand groups; and __fish_seen_subcommand_from describe" -l members -d 'Show members: GROUP CONSUMER-ID HOST CLIENT-ID #PARTITIONS'
complete -c strom -n "__fish_strom_using_subcommand groups; and __fish_seen_subcommand_from describe" -l state -d 'Show state: GROUP COORDINATOR (ID) ASSIGNMENT-STRATEGY STATE #MEMBERS'
complete -c strom -n "__fish_strom_using_subcommand groups; and __fish_seen_subcommand_from describe" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c strom -n "__fish_strom_using_subcommand groups; and __fish_seen_subcommand_from describe" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c strom -n "__fish_strom_using_subcommand groups; and __fish_seen_subcommand_from describe" -s V -l version -d 'Print version'
complete -c strom -n "__fish_strom_using_subcommand groups; and __fish_seen_subcommand_from reset-offsets" -s b -l bootstrap-server -d 'Broker(s) to bootstrap from (precedence: flag, env, profile, default)' -r
complete -c strom -n "__fish_strom_using_subcommand groups; and __fish_seen_subcommand_from reset-offsets" -l group -d 'Group whose offsets to move' -r
complete -c strom -n "__fish_strom_using_subcommand groups; and __fish_seen_subcommand_from reset-offsets" -l topic -d 'Topic, or topic:P,P,... for some partitions (repeatable)' -r
complete -c strom -n "__fish_strom_using_subcommand groups; and __fish_seen_subcommand_from reset-offsets" -l to-offset -d 'To this offset' -r
complete -c strom -n "__fish_strom_using_subcommand groups; and __fish_seen_subcommand_from reset-offsets" -l shift-by -d 'Move the committed offset by N (negative moves back)' -r
complete -c strom -n "__fish_strom_using_subcommand groups; and __fish_seen_subcommand_from reset-offsets" -l to-datetime -d 'To the first record at or after this UTC time, YYYY-MM-DDTHH:mm:SS.sss' -r
complete -c strom -n "__fish_strom_using_subcommand groups; and __fish_seen_subcommand_from reset-offsets" -l by-duration -d 'To the first record at or after now minus this ISO-8601 duration, PnDTnHnMnS' -r
complete -c strom -n "__fish_strom_using_subcommand groups; and __fish_seen_subcommand_from reset-offsets" -l from-file -d 'The plan from a CSV file of topic,partition,offset lines (what --export writes)' -r -F
complete -c strom -n "__fish_strom_using_subcommand groups; and __fish_seen_subcommand_from reset-offsets" -l output -r -f -a "plain\t'Kafka\'s text layout'
table\t'An aligned table'
json\t'JSON'"
complete -c strom -n "__fish_strom_using_subcommand groups; and __fish_seen_subcommand_from reset-offsets" -l profile -d 'Settings profile from $XDG_CONFIG_HOME/strom/config.toml [env: STROM_PROFILE]' -r
complete -c strom -n "__fish_strom_using_subcommand groups; and __fish_seen_subcommand_from reset-offsets" -l all-topics -d 'Every topic the group has committed offsets for'
complete -c strom -n "__fish_strom_using_subcommand groups; and __fish_seen_subcommand_from reset-offsets" -l to-earliest -d 'To the oldest offset still in the log'
complete -c strom -n "__fish_strom_using_subcommand groups; and __fish_seen_subcommand_from reset-offsets" -l to-latest -d 'To the end of the log'
complete -c strom -n "__fish_strom_using_subcommand groups; and __fish_seen_subcommand_from reset-offsets" -l to-current -d 'To the committed offset (unchanged); the end of the log where nothing is committed'
complete -c strom -n "__fish_strom_using_subcommand groups; and __fish_seen_subcommand_from reset-offsets" -l dry-run -d 'Only show the new offsets (the default)'
complete -c strom -n "__fish_strom_using_subcommand groups; and __fish_seen_subcommand_from reset-offsets" -l execute -d 'Commit the new offsets'
complete -c strom -n "__fish_strom_using_subcommand groups; and __fish_seen_subcommand_from reset-offsets" -l export -d 'Print the plan as CSV topic,partition,offset lines (for --from-file) instead of a table'
complete -c strom -n "__fish_strom_using_subcommand groups; and __fish_seen_subcommand_from reset-offsets" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c strom -n "__fish_strom_using_subcommand groups; and __fish_seen_subcommand_from reset-offsets" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c strom -n "__fish_strom_using_subcommand groups; and __fish_seen_subcommand_from reset-offsets" -s V -l version -d 'Print version'
complete -c strom -n "__fish_strom_using_subcommand groups; and __fish_seen_subcommand_from delete" -s b -l bootstrap-server -d 'Broker(s) to bootstrap from (precedence: flag, env, profile, default)' -r
complete -c strom -n "__fish_strom_using_subcommand groups; and __fish_seen_subcommand_from delete" -l group -d 'Group to delete (repeatable)' -r
complete -c strom -n "__fish_strom_using_subcommand groups; and __fish_seen_subcommand_from delete" -l profile -d 'Settings profile from $XDG_CONFIG_HOME/strom/config.toml [env: STROM_PROFILE]' -r
complete -c strom -n "__fish_strom_using_subcommand groups; and __fish_seen_subcommand_from delete" -l all-groups -d 'Delete every group (those with active members are reported, not deleted)'
complete -c strom -n "__fish_strom_using_subcommand groups; and __fish_seen_subcommand_from delete" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c strom -n "__fish_strom_using_subcommand groups; and __fish_seen_subcommand_from delete" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c strom -n "__fish_strom_using_subcommand groups; and __fish_seen_subcommand_from delete" -s V -l version -d 'Print version'
complete -c strom -n "__fish_strom_using_subcommand groups; and __fish_seen_subcommand_from delete-offsets" -s b -l bootstrap-server -d 'Broker(s) to bootstrap from (precedence: flag, env, profile, default)' -r
complete -c strom -n "__fish_strom_using_subcommand groups; and __fish_seen_subcommand_from delete-offsets" -l group -d 'The group whose offsets go' -r
complete -c strom -n "__fish_strom_using_subcommand groups; and __fish_seen_subcommand_from delete-offsets" -l topic -d 'TOPIC (every partition) or TOPIC:P,P (those partitions); repeatable' -r
complete -c strom -n "__fish_strom_using_subcommand groups; and __fish_seen_subcommand_from delete-offsets" -l output -r -f -a "plain\t'Kafka\'s text layout'
table\t'An aligned table'
json\t'JSON'"
complete -c strom -n "__fish_strom_using_subcommand groups; and __fish_seen_subcommand_from delete-offsets" -l profile -d 'Settings profile from $XDG_CONFIG_HOME/strom/config.toml [env: STROM_PROFILE]' -r
complete -c strom -n "__fish_strom_using_subcommand groups; and __fish_seen_subcommand_from delete-offsets" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c strom -n "__fish_strom_using_subcommand groups; and __fish_seen_subcommand_from delete-offsets" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c strom -n "__fish_strom_using_subcommand groups; and __fish_seen_subcommand_from delete-offsets" -s V -l version -d 'Print version'
complete -c strom -n "__fish_strom_using_subcommand groups; and __fish_seen_subcommand_from help" -f -a "list" -d 'List consumer groups, one per line'
complete -c strom -n "__fish_strom_using_subcommand groups; and __fish_seen_subcommand_from help" -f -a "describe" -d 'Show a group\'s committed offsets and lag, its members (--members) or its state (--state)'
complete -c strom -n "__fish_strom_using_subcommand groups; and __fish_seen_subcommand_from help" -f -a "reset-offsets" -d 'Move a group\'s committed offsets (a dry run unless --execute)'
complete -c strom -n "__fish_strom_using_subcommand groups; and __fish_seen_subcommand_from help" -f -a "delete" -d 'Delete consumer groups that have no active members'
complete -c strom -n "__fish_strom_using_subcommand groups; and __fish_seen_subcommand_from help" -f -a "delete-offsets" -d 'Delete a group\'s committed offsets of some topics or partitions'
complete -c strom -n "__fish_strom_using_subcommand groups; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c strom -n "__fish_strom_using_subcommand brokers; and not __fish_seen_subcommand_from list describe configs alter-configs help" -l profile -d 'Settings profile from $XDG_CONFIG_HOME/strom/config.toml [env: STROM_PROFILE]' -r
complete -c strom -n "__fish_strom_using_subcommand brokers; and not __fish_seen_subcommand_from list describe configs alter-configs help" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c strom -n "__fish_strom_using_subcommand brokers; and not __fish_seen_subcommand_from list describe configs alter-configs help" -s h -l help -d 'Print help'
complete -c strom -n "__fish_strom_using_subcommand brokers; and not __fish_seen_subcommand_from list describe configs alter-configs help" -s V -l version -d 'Print version'
complete -c strom -n "__fish_strom_using_subcommand brokers; and not __fish_seen_subcommand_from list describe configs alter-configs help" -f -a "list" -d 'One line per broker of the cluster: id, address, version, uptime, health'
complete -c strom -n "__fish_strom_using_subcommand brokers; and not __fish_seen_subcommand_from list describe configs alter-configs help" -f -a "describe" -d 'Everything a broker says about itself: listeners, rack, data dir, disk, partitions hosted and led'
complete -c strom -n "__fish_strom_using_subcommand brokers; and not __fish_seen_subcommand_from list describe configs alter-configs help" -f -a "configs" -d 'The broker-wide defaults of topic configs (Kafka\'s dynamic broker configs), each with its value and where it comes from'
complete -c strom -n "__fish_strom_using_subcommand brokers; and not __fish_seen_subcommand_from list describe configs alter-configs help" -f -a "alter-configs" -d 'Change broker-wide defaults of topic configs at run time, for the cluster or one broker; every topic that does not override them follows at once'
complete -c strom -n "__fish_strom_using_subcommand brokers; and not __fish_seen_subcommand_from list describe configs alter-configs help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c strom -n "__fish_strom_using_subcommand brokers; and __fish_seen_subcommand_from list" -s b -l bootstrap-server -d 'Broker(s) to bootstrap from (precedence: flag, env, profile, default)' -r
complete -c strom -n "__fish_strom_using_subcommand brokers; and __fish_seen_subcommand_from list" -l output -r -f -a "plain\t'Kafka\'s text layout'
table\t'An aligned table'
json\t'JSON'"
complete -c strom -n "__fish_strom_using_subcommand brokers; and __fish_seen_subcommand_from list" -l profile -d 'Settings profile from $XDG_CONFIG_HOME/strom/config.toml [env: STROM_PROFILE]' -r
complete -c strom -n "__fish_strom_using_subcommand brokers; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c strom -n "__fish_strom_using_subcommand brokers; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c strom -n "__fish_strom_using_subcommand brokers; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c strom -n "__fish_strom_using_subcommand brokers; and __fish_seen_subcommand_from describe" -s b -l bootstrap-server -d 'Broker(s) to bootstrap from (precedence: flag, env, profile, default)' -r
complete -c strom -n "__fish_strom_using_subcommand brokers; and __fish_seen_subcommand_from describe" -l id -d 'Only this broker (repeatable; default every broker)' -r
complete -c strom -n "__fish_strom_using_subcommand brokers; and __fish_seen_subcommand_from describe" -l output -r -f -a "plain\t'Kafka\'s text layout'
table\t'An aligned table'
json\t'JSON'"
complete -c strom -n "__fish_strom_using_subcommand brokers; and __fish_seen_subcommand_from describe" -l profile -d 'Settings profile from $XDG_CONFIG_HOME/strom/config.toml [env: STROM_PROFILE]' -r
complete -c strom -n "__fish_strom_using_subcommand brokers; and __fish_seen_subcommand_from describe" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c strom -n "__fish_strom_using_subcommand brokers; and __fish_seen_subcommand_from describe" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c strom -n "__fish_strom_using_subcommand brokers; and __fish_seen_subcommand_from describe" -s V -l version -d 'Print version'
complete -c strom -n "__fish_strom_using_subcommand brokers; and __fish_seen_subcommand_from configs" -s b -l bootstrap-server -d 'Broker(s) to bootstrap from (precedence: flag, env, profile, default)' -r
complete -c strom -n "__fish_strom_using_subcommand brokers; and __fish_seen_subcommand_from configs" -l id -d 'Only this broker\'s values (repeatable)' -r
complete -c strom -n "__fish_strom_using_subcommand brokers; and __fish_seen_subcommand_from configs" -l output -r -f -a "plain\t'Kafka\'s text layout'
table\t'An aligned table'
json\t'JSON'"
complete -c strom -n "__fish_strom_using_subcommand brokers; and __fish_seen_subcommand_from configs" -l profile -d 'Settings profile from $XDG_CONFIG_HOME/strom/config.toml [env: STROM_PROFILE]' -r
complete -c strom -n "__fish_strom_using_subcommand brokers; and __fish_seen_subcommand_from configs" -l cluster-default -d 'The values set for every broker of the cluster'
complete -c strom -n "__fish_strom_using_subcommand brokers; and __fish_seen_subcommand_from configs" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c strom -n "__fish_strom_using_subcommand brokers; and __fish_seen_subcommand_from configs" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c strom -n "__fish_strom_using_subcommand brokers; and __fish_seen_subcommand_from configs" -s V -l version -d 'Print version'
complete -c strom -n "__fish_strom_using_subcommand brokers; and __fish_seen_subcommand_from alter-configs" -s b -l bootstrap-server -d 'Broker(s) to bootstrap from (precedence: flag, env, profile, default)' -r
complete -c strom -n "__fish_strom_using_subcommand brokers; and __fish_seen_subcommand_from alter-configs" -l id -d 'Change this broker\'s own values instead of the cluster default' -r
complete -c strom -n "__fish_strom_using_subcommand brokers; and __fish_seen_subcommand_from alter-configs" -l config -d 'Set a broker config (repeatable), e.g. log.retention.ms=86400000' -r
complete -c strom -n "__fish_strom_using_subcommand brokers; and __fish_seen_subcommand_from alter-configs" -l delete-config -d 'Remove a value, back to the next source (repeatable)' -r
complete -c strom -n "__fish_strom_using_subcommand brokers; and __fish_seen_subcommand_from alter-configs" -l profile -d 'Settings profile from $XDG_CONFIG_HOME/strom/config.toml [env: STROM_PROFILE]' -r
complete -c strom -n "__fish_strom_using_subcommand brokers; and __fish_seen_subcommand_from alter-configs" -l validate-only -d 'Check the change without making it'
complete -c strom -n "__fish_strom_using_subcommand brokers; and __fish_seen_subcommand_from alter-configs" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c strom -n "__fish_strom_using_subcommand brokers; and __fish_seen_subcommand_from alter-configs" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c strom -n "__fish_strom_using_subcommand brokers; and __fish_seen_subcommand_from alter-configs" -s V -l version -d 'Print version'
complete -c strom -n "__fish_strom_using_subcommand brokers; and __fish_seen_subcommand_from help" -f -a "list" -d 'One line per broker of the cluster: id, address, version, uptime, health'
complete -c strom -n "__fish_strom_using_subcommand brokers; and __fish_seen_subcommand_from help" -f -a "describe" -d 'Everything a broker says about itself: listeners, rack, data dir, disk, partitions hosted and led'
complete -c strom -n "__fish_strom_using_subcommand brokers; and __fish_seen_subcommand_from help" -f -a "configs" -d 'The broker-wide defaults of topic configs (Kafka\'s dynamic broker configs), each with its value and where it comes from'
complete -c strom -n "__fish_strom_using_subcommand brokers; and __fish_seen_subcommand_from help" -f -a "alter-configs" -d 'Change broker-wide defaults of topic configs at run time, for the cluster or one broker; every topic that does not override them follows at once'
complete -c strom -n "__fish_strom_using_subcommand brokers; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c strom -n "__fish_strom_using_subcommand stream" -s b -l bootstrap-server -d 'Broker(s) to bootstrap from (precedence: flag, env, profile, default)' -r
complete -c strom -n "__fish_strom_using_subcommand stream" -l from -d 'Input topic(s), comma-separated' -r
complete -c strom -n "__fish_strom_using_subcommand stream" -l to -d 'Output topic' -r
complete -c strom -n "__fish_strom_using_subcommand stream" -s g -l group -d 'Consumer group of the stream\'s processes (its committed offsets are the progress)' -r
complete -c strom -n "__fish_strom_using_subcommand stream" -l filter -d 'Keep only records for which the jq expression EXPR is true: select(EXPR) on the record envelope, e.g. \'.key == "a"\'' -r
complete -c strom -n "__fish_strom_using_subcommand stream" -l jq -d 'Map each record envelope to zero or more envelopes with the jq expression EXPR, e.g. \'.value |= ascii_upcase\'' -r
complete -c strom -n "__fish_strom_using_subcommand stream" -l key-jq -d 'Set each output record\'s key to the one output of the jq expression EXPR on its envelope, e.g. \'.value | fromjson | .user\'' -r
complete -c strom -n "__fish_strom_using_subcommand stream" -l format -d 'Framing of records on the child\'s stdin and stdout (and of --dry-run\'s)' -r -f -a "lines\t'One value per line'
json\t'One JSON envelope per line'"
complete -c strom -n "__fish_strom_using_subcommand stream" -l exec -d 'How the child runs' -r -f -a "batch\t'One child per polled batch of a partition'
line\t'One long-lived child per partition: one line in, one line out'"
complete -c strom -n "__fish_strom_using_subcommand stream" -l batch-max -d 'Most records in one batch (per poll) [default: 1000 with a CMD, 10000 without: a batch is then only the unit of acknowledgement and commit]' -r
complete -c strom -n "__fish_strom_using_subcommand stream" -l linger-ms -d 'How long a batch waits for more records' -r
complete -c strom -n "__fish_strom_using_subcommand stream" -l timeout-ms -d 'Kill a child that runs longer than this, and retry' -r
complete -c strom -n "__fish_strom_using_subcommand stream" -l retries -d 'Extra attempts for a failed batch' -r
complete -c strom -n "__fish_strom_using_subcommand stream" -l on-error -d 'After the retries: fail, skip or dlq:TOPIC' -r
complete -c strom -n "__fish_strom_using_subcommand stream" -l count-by -d 'Count records per group key: the jq expression EXPR on each record\'s value parsed as JSON (e.g. \'.page\'); its output is the result\'s key. Without --window: a running count per key' -r
complete -c strom -n "__fish_strom_using_subcommand stream" -l window -d 'Count per key and time window: tumbling:DURATION (e.g. tumbling:1m; with --hop, hopping windows). Durations: 500ms, 10s, 1m, 2h, 1d' -r
complete -c strom -n "__fish_strom_using_subcommand stream" -l hop -d 'Advance of hopping windows (at most the window size)' -r
complete -c strom -n "__fish_strom_using_subcommand stream" -l grace -d 'How long after its end a window still takes late records' -r
complete -c strom -n "__fish_strom_using_subcommand stream" -l emit -d 'update: emit every change of a count; final: emit each window once, when stream time passes its end plus the grace' -r -f -a "update\t'Every change of a count'
final\t'Each window once, after its end plus the grace'"
complete -c strom -n "__fish_strom_using_subcommand stream" -l agg -d 'Also fold numbers of each group: KIND:EXPR[,...], KIND sum, max or min, EXPR jq on the parsed value, e.g. sum:.amount,max:.ms' -r
complete -c strom -n "__fish_strom_using_subcommand stream" -l state-dir -d 'Where each task keeps its state file (<DIR>/<GROUP>/<TOPIC>-<PARTITION>.state) [default: $TMPDIR/strom-streams]' -r -F
complete -c strom -n "__fish_strom_using_subcommand stream" -l idle-flush-ms -d 'With --emit final: a task that saw no record for MS milliseconds moves its stream time to the wall clock and emits the windows closed by then' -r
complete -c strom -n "__fish_strom_using_subcommand stream" -l guarantee -d 'Processing guarantee: at-least-once (outputs acknowledged before their input offsets are committed: after a crash duplicates are possible, loss is not) or exactly-once (each batch\'s outputs and input offsets commit in one Kafka transaction and the inputs are read read_committed: a read_committed reader of the output sees each result once; stateless pipelines only)' -r
complete -c strom -n "__fish_strom_using_subcommand stream" -l transactional-id -d 'With --guarantee exactly-once: the producer\'s transactional id (default: one of its own per process). Give each instance a stable one of its own so that its restart fences the crashed predecessor at once instead of after the 10 s transaction timeout' -r
complete -c strom -n "__fish_strom_using_subcommand stream" -l consumer-property -d 'Kafka consumer property (repeatable), e.g. session.timeout.ms=10000' -r
complete -c strom -n "__fish_strom_using_subcommand stream" -l profile -d 'Settings profile from $XDG_CONFIG_HOME/strom/config.toml [env: STROM_PROFILE]' -r
complete -c strom -n "__fish_strom_using_subcommand stream" -l dry-run -d 'Read records from stdin instead of a broker, run the pipeline, print the outputs to stdout'
complete -c strom -n "__fish_strom_using_subcommand stream" -l keep-key -d 'With --format lines: KEY<TAB>VALUE lines instead of values only'
complete -c strom -n "__fish_strom_using_subcommand stream" -l keep-partition -d 'With --format json: send each output to its envelope\'s "partition"'
complete -c strom -n "__fish_strom_using_subcommand stream" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c strom -n "__fish_strom_using_subcommand stream" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c strom -n "__fish_strom_using_subcommand stream" -s V -l version -d 'Print version'
complete -c strom -n "__fish_strom_using_subcommand connect; and not __fish_seen_subcommand_from standalone list status pause resume restart offsets bench-sqlite-insert help" -l profile -d 'Settings profile from $XDG_CONFIG_HOME/strom/config.toml [env: STROM_PROFILE]' -r
complete -c strom -n "__fish_strom_using_subcommand connect; and not __fish_seen_subcommand_from standalone list status pause resume restart offsets bench-sqlite-insert help" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c strom -n "__fish_strom_using_subcommand connect; and not __fish_seen_subcommand_from standalone list status pause resume restart offsets bench-sqlite-insert help" -s h -l help -d 'Print help'
complete -c strom -n "__fish_strom_using_subcommand connect; and not __fish_seen_subcommand_from standalone list status pause resume restart offsets bench-sqlite-insert help" -s V -l version -d 'Print version'
complete -c strom -n "__fish_strom_using_subcommand connect; and not __fish_seen_subcommand_from standalone list status pause resume restart offsets bench-sqlite-insert help" -f -a "standalone" -d 'Run connectors in this process, one TOML file each'
complete -c strom -n "__fish_strom_using_subcommand connect; and not __fish_seen_subcommand_from standalone list status pause resume restart offsets bench-sqlite-insert help" -f -a "list" -d 'List the connectors of a running worker, with their state'
complete -c strom -n "__fish_strom_using_subcommand connect; and not __fish_seen_subcommand_from standalone list status pause resume restart offsets bench-sqlite-insert help" -f -a "status" -d 'State of a running worker\'s connectors (RUNNING, PAUSED, FAILED with the last error, RESTARTING)'
complete -c strom -n "__fish_strom_using_subcommand connect; and not __fish_seen_subcommand_from standalone list status pause resume restart offsets bench-sqlite-insert help" -f -a "pause" -d 'Pause a connector of a running worker (its task stops; the others go on)'
complete -c strom -n "__fish_strom_using_subcommand connect; and not __fish_seen_subcommand_from standalone list status pause resume restart offsets bench-sqlite-insert help" -f -a "resume" -d 'Resume a paused connector'
complete -c strom -n "__fish_strom_using_subcommand connect; and not __fish_seen_subcommand_from standalone list status pause resume restart offsets bench-sqlite-insert help" -f -a "restart" -d 'Restart a connector\'s task now (also cuts a failed task\'s backoff short)'
complete -c strom -n "__fish_strom_using_subcommand connect; and not __fish_seen_subcommand_from standalone list status pause resume restart offsets bench-sqlite-insert help" -f -a "offsets" -d 'A connector\'s positions: a source\'s stored source offsets, a sink\'s group commits and own stored offsets'
complete -c strom -n "__fish_strom_using_subcommand connect; and not __fish_seen_subcommand_from standalone list status pause resume restart offsets bench-sqlite-insert help" -f -a "bench-sqlite-insert" -d 'Plain batched INSERT loop into SQLite (the baseline of scripts/bench-connect.sh)'
complete -c strom -n "__fish_strom_using_subcommand connect; and not __fish_seen_subcommand_from standalone list status pause resume restart offsets bench-sqlite-insert help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c strom -n "__fish_strom_using_subcommand connect; and __fish_seen_subcommand_from standalone" -s b -l bootstrap-server -d 'Broker(s) to bootstrap from (precedence: flag, env, profile, default)' -r
complete -c strom -n "__fish_strom_using_subcommand connect; and __fish_seen_subcommand_from standalone" -l offsets-topic -d 'Topic where sources keep their offsets (created if missing)' -r
complete -c strom -n "__fish_strom_using_subcommand connect; and __fish_seen_subcommand_from standalone" -l control -d 'Control socket to listen on (`strom connect status` etc. take the same) [default: $XDG_RUNTIME_DIR/strom-connect.sock, else strom-connect-UID.sock in the temp dir]' -r -F
complete -c strom -n "__fish_strom_using_subcommand connect; and __fish_seen_subcommand_from standalone" -l state-file -d 'File that keeps which connectors are paused across worker restarts [default: the control socket\'s path + .state.json]' -r -F
complete -c strom -n "__fish_strom_using_subcommand connect; and __fish_seen_subcommand_from standalone" -l profile -d 'Settings profile from $XDG_CONFIG_HOME/strom/config.toml [env: STROM_PROFILE]' -r
complete -c strom -n "__fish_strom_using_subcommand connect; and __fish_seen_subcommand_from standalone" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c strom -n "__fish_strom_using_subcommand connect; and __fish_seen_subcommand_from standalone" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c strom -n "__fish_strom_using_subcommand connect; and __fish_seen_subcommand_from standalone" -s V -l version -d 'Print version'
complete -c strom -n "__fish_strom_using_subcommand connect; and __fish_seen_subcommand_from list" -l control -d 'The worker\'s control socket [default: $XDG_RUNTIME_DIR/strom-connect.sock, else strom-connect-UID.sock in the temp dir]' -r -F
complete -c strom -n "__fish_strom_using_subcommand connect; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format' -r -f -a "text\t''
json\t''"
complete -c strom -n "__fish_strom_using_subcommand connect; and __fish_seen_subcommand_from list" -l profile -d 'Settings profile from $XDG_CONFIG_HOME/strom/config.toml [env: STROM_PROFILE]' -r
complete -c strom -n "__fish_strom_using_subcommand connect; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c strom -n "__fish_strom_using_subcommand connect; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c strom -n "__fish_strom_using_subcommand connect; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c strom -n "__fish_strom_using_subcommand connect; and __fish_seen_subcommand_from status" -l control -d 'The worker\'s control socket [default: $XDG_RUNTIME_DIR/strom-connect.sock, else strom-connect-UID.sock in the temp dir]' -r -F
complete -c strom -n "__fish_strom_using_subcommand connect; and __fish_seen_subcommand_from status" -s o -l output -d 'Output format' -r -f -a "text\t''
json\t''"
complete -c strom -n "__fish_strom_using_subcommand connect; and __fish_seen_subcommand_from status" -l profile -d 'Settings profile from $XDG_CONFIG_HOME/strom/config.toml [env: STROM_PROFILE]' -r
complete -c strom -n "__fish_strom_using_subcommand connect; and __fish_seen_subcommand_from status" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c strom -n "__fish_strom_using_subcommand connect; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help'
complete -c strom -n "__fish_strom_using_subcommand connect; and __fish_seen_subcommand_from status" -s V -l version -d 'Print version'
complete -c strom -n "__fish_strom_using_subcommand connect; and __fish_seen_subcommand_from pause" -l control -d 'The worker\'s control socket [default: $XDG_RUNTIME_DIR/strom-connect.sock, else strom-connect-UID.sock in the temp dir]' -r -F
complete -c strom -n "__fish_strom_using_subcommand connect; and __fish_seen_subcommand_from pause" -s o -l output -d 'Output format' -r -f -a "text\t''
json\t''"
complete -c strom -n "__fish_strom_using_subcommand connect; and __fish_seen_subcommand_from pause" -l profile -d 'Settings profile from $XDG_CONFIG_HOME/strom/config.toml [env: STROM_PROFILE]' -r
complete -c strom -n "__fish_strom_using_subcommand connect; and __fish_seen_subcommand_from pause" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c strom -n "__fish_strom_using_subcommand connect; and __fish_seen_subcommand_from pause" -s h -l help -d 'Print help'
complete -c strom -n "__fish_strom_using_subcommand connect; and __fish_seen_subcommand_from pause" -s V -l version -d 'Print version'
complete -c strom -n "__fish_strom_using_subcommand connect; and __fish_seen_subcommand_from resume" -l control -d 'The worker\'s control socket [default: $XDG_RUNTIME_DIR/strom-connect.sock, else strom-connect-UID.sock in the temp dir]' -r -F
complete -c strom -n "__fish_strom_using_subcommand connect; and __fish_seen_subcommand_from resume" -s o -l output -d 'Output format' -r -f -a "text\t''
json\t''"
complete -c strom -n "__fish_strom_using_subcommand connect; and __fish_seen_subcommand_from resume" -l profile -d 'Settings profile from $XDG_CONFIG_HOME/strom/config.toml [env: STROM_PROFILE]' -r
complete -c strom -n "__fish_strom_using_subcommand connect; and __fish_seen_subcommand_from resume" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c strom -n "__fish_strom_using_subcommand connect; and __fish_seen_subcommand_from resume" -s h -l help -d 'Print help'
complete -c strom -n "__fish_strom_using_subcommand connect; and __fish_seen_subcommand_from resume" -s V -l version -d 'Print version'
complete -c strom -n "__fish_strom_using_subcommand connect; and __fish_seen_subcommand_from restart" -l control -d 'The worker\'s control socket [default: $XDG_RUNTIME_DIR/strom-connect.sock, else strom-connect-UID.sock in the temp dir]' -r -F
complete -c strom -n "__fish_strom_using_subcommand connect; and __fish_seen_subcommand_from restart" -s o -l output -d 'Output format' -r -f -a "text\t''
json\t''"
complete -c strom -n "__fish_strom_using_subcommand connect; and __fish_seen_subcommand_from restart" -l profile -d 'Settings profile from $XDG_CONFIG_HOME/strom/config.toml [env: STROM_PROFILE]' -r
complete -c strom -n "__fish_strom_using_subcommand connect; and __fish_seen_subcommand_from restart" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c strom -n "__fish_strom_using_subcommand connect; and __fish_seen_subcommand_from restart" -s h -l help -d 'Print help'
complete -c strom -n "__fish_strom_using_subcommand connect; and __fish_seen_subcommand_from restart" -s V -l version -d 'Print version'
complete -c strom -n "__fish_strom_using_subcommand connect; and __fish_seen_subcommand_from offsets" -l control -d 'The worker\'s control socket [default: $XDG_RUNTIME_DIR/strom-connect.sock, else strom-connect-UID.sock in the temp dir]' -r -F
complete -c strom -n "__fish_strom_using_subcommand connect; and __fish_seen_subcommand_from offsets" -s o -l output -d 'Output format' -r -f -a "text\t''
json\t''"
complete -c strom -n "__fish_strom_using_subcommand connect; and __fish_seen_subcommand_from offsets" -l profile -d 'Settings profile from $XDG_CONFIG_HOME/strom/config.toml [env: STROM_PROFILE]' -r
complete -c strom -n "__fish_strom_using_subcommand connect; and __fish_seen_subcommand_from offsets" -l reset -d 'Forget a paused source\'s stored offsets (it starts from the beginning on resume)'
complete -c strom -n "__fish_strom_using_subcommand connect; and __fish_seen_subcommand_from offsets" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c strom -n "__fish_strom_using_subcommand connect; and __fish_seen_subcommand_from offsets" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c strom -n "__fish_strom_using_subcommand connect; and __fish_seen_subcommand_from offsets" -s V -l version -d 'Print version'
complete -c strom -n "__fish_strom_using_subcommand connect; and __fish_seen_subcommand_from bench-sqlite-insert" -l path -d 'Database file (the table `bench` is dropped and made again)' -r -F
complete -c strom -n "__fish_strom_using_subcommand connect; and __fish_seen_subcommand_from bench-sqlite-insert" -l records -d 'Rows to insert' -r
complete -c strom -n "__fish_strom_using_subcommand connect; and __fish_seen_subcommand_from bench-sqlite-insert" -l batch -d 'Rows per transaction' -r
complete -c strom -n "__fish_strom_using_subcommand connect; and __fish_seen_subcommand_from bench-sqlite-insert" -l profile -d 'Settings profile from $XDG_CONFIG_HOME/strom/config.toml [env: STROM_PROFILE]' -r
complete -c strom -n "__fish_strom_using_subcommand connect; and __fish_seen_subcommand_from bench-sqlite-insert" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c strom -n "__fish_strom_using_subcommand connect; and __fish_seen_subcommand_from bench-sqlite-insert" -s h -l help -d 'Print help'
complete -c strom -n "__fish_strom_using_subcommand connect; and __fish_seen_subcommand_from bench-sqlite-insert" -s V -l version -d 'Print version'
complete -c strom -n "__fish_strom_using_subcommand connect; and __fish_seen_subcommand_from help" -f -a "standalone" -d 'Run connectors in this process, one TOML file each'
complete -c strom -n "__fish_strom_using_subcommand connect; and __fish_seen_subcommand_from help" -f -a "list" -d 'List the connectors of a running worker, with their state'
complete -c strom -n "__fish_strom_using_subcommand connect; and __fish_seen_subcommand_from help" -f -a "status" -d 'State of a running worker\'s connectors (RUNNING, PAUSED, FAILED with the last error, RESTARTING)'
complete -c strom -n "__fish_strom_using_subcommand connect; and __fish_seen_subcommand_from help" -f -a "pause" -d 'Pause a connector of a running worker (its task stops; the others go on)'
complete -c strom -n "__fish_strom_using_subcommand connect; and __fish_seen_subcommand_from help" -f -a "resume" -d 'Resume a paused connector'
complete -c strom -n "__fish_strom_using_subcommand connect; and __fish_seen_subcommand_from help" -f -a "restart" -d 'Restart a connector\'s task now (also cuts a failed task\'s backoff short)'
complete -c strom -n "__fish_strom_using_subcommand connect; and __fish_seen_subcommand_from help" -f -a "offsets" -d 'A connector\'s positions: a source\'s stored source offsets, a sink\'s group commits and own stored offsets'
complete -c strom -n "__fish_strom_using_subcommand connect; and __fish_seen_subcommand_from help" -f -a "bench-sqlite-insert" -d 'Plain batched INSERT loop into SQLite (the baseline of scripts/bench-connect.sh)'
complete -c strom -n "__fish_strom_using_subcommand connect; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c strom -n "__fish_strom_using_subcommand top" -l metrics -d 'The brokers\' metrics endpoints (their `serve --metrics`), comma-separated: one broker or a whole cluster' -r
complete -c strom -n "__fish_strom_using_subcommand top" -l interval -d 'Milliseconds between refreshes' -r
complete -c strom -n "__fish_strom_using_subcommand top" -l profile -d 'Settings profile from $XDG_CONFIG_HOME/strom/config.toml [env: STROM_PROFILE]' -r
complete -c strom -n "__fish_strom_using_subcommand top" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c strom -n "__fish_strom_using_subcommand top" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c strom -n "__fish_strom_using_subcommand top" -s V -l version -d 'Print version'
complete -c strom -n "__fish_strom_using_subcommand transactions; and not __fish_seen_subcommand_from list describe describe-producers help" -l profile -d 'Settings profile from $XDG_CONFIG_HOME/strom/config.toml [env: STROM_PROFILE]' -r
complete -c strom -n "__fish_strom_using_subcommand transactions; and not __fish_seen_subcommand_from list describe describe-producers help" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c strom -n "__fish_strom_using_subcommand transactions; and not __fish_seen_subcommand_from list describe describe-producers help" -s h -l help -d 'Print help'
complete -c strom -n "__fish_strom_using_subcommand transactions; and not __fish_seen_subcommand_from list describe describe-producers help" -s V -l version -d 'Print version'
complete -c strom -n "__fish_strom_using_subcommand transactions; and not __fish_seen_subcommand_from list describe describe-producers help" -f -a "list" -d 'List transactional ids: producer id and state'
complete -c strom -n "__fish_strom_using_subcommand transactions; and not __fish_seen_subcommand_from list describe describe-producers help" -f -a "describe" -d 'Show a transactional id\'s state, producer id and epoch, timeout, open transaction\'s start time and partitions'
complete -c strom -n "__fish_strom_using_subcommand transactions; and not __fish_seen_subcommand_from list describe describe-producers help" -f -a "describe-producers" -d 'The producers a partition\'s leader remembers: producer id, epoch, last sequence and timestamp, open transaction\'s first offset (kafka-transactions describe-producers)'
complete -c strom -n "__fish_strom_using_subcommand transactions; and not __fish_seen_subcommand_from list describe describe-producers help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c strom -n "__fish_strom_using_subcommand transactions; and __fish_seen_subcommand_from list" -s b -l bootstrap-server -d 'Broker(s) to bootstrap from (precedence: flag, env, profile, default)' -r
complete -c strom -n "__fish_strom_using_subcommand transactions; and __fish_seen_subcommand_from list" -l state -d 'Only transactions in these states (comma-separated or repeated, any case)' -r
complete -c strom -n "__fish_strom_using_subcommand transactions; and __fish_seen_subcommand_from list" -l output -r -f -a "plain\t'Kafka\'s text layout'
table\t'An aligned table'
json\t'JSON'"
complete -c strom -n "__fish_strom_using_subcommand transactions; and __fish_seen_subcommand_from list" -l profile -d 'Settings profile from $XDG_CONFIG_HOME/strom/config.toml [env: STROM_PROFILE]' -r
complete -c strom -n "__fish_strom_using_subcommand transactions; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c strom -n "__fish_strom_using_subcommand transactions; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c strom -n "__fish_strom_using_subcommand transactions; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c strom -n "__fish_strom_using_subcommand transactions; and __fish_seen_subcommand_from describe" -s b -l bootstrap-server -d 'Broker(s) to bootstrap from (precedence: flag, env, profile, default)' -r
complete -c strom -n "__fish_strom_using_subcommand transactions; and __fish_seen_subcommand_from describe" -l output -r -f -a "plain\t'Kafka\'s text layout'
table\t'An aligned table'
json\t'JSON'"
complete -c strom -n "__fish_strom_using_subcommand transactions; and __fish_seen_subcommand_from describe" -l profile -d 'Settings profile from $XDG_CONFIG_HOME/strom/config.toml [env: STROM_PROFILE]' -r
complete -c strom -n "__fish_strom_using_subcommand transactions; and __fish_seen_subcommand_from describe" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c strom -n "__fish_strom_using_subcommand transactions; and __fish_seen_subcommand_from describe" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c strom -n "__fish_strom_using_subcommand transactions; and __fish_seen_subcommand_from describe" -s V -l version -d 'Print version'
complete -c strom -n "__fish_strom_using_subcommand transactions; and __fish_seen_subcommand_from describe-producers" -s b -l bootstrap-server -d 'Broker(s) to bootstrap from (precedence: flag, env, profile, default)' -r
complete -c strom -n "__fish_strom_using_subcommand transactions; and __fish_seen_subcommand_from describe-producers" -l topic -d 'Topic name (kafka-topics spelling)' -r
complete -c strom -n "__fish_strom_using_subcommand transactions; and __fish_seen_subcommand_from describe-producers" -s p -l partition -d 'Only this partition (repeatable; default every partition)' -r
complete -c strom -n "__fish_strom_using_subcommand transactions; and __fish_seen_subcommand_from describe-producers" -l output -r -f -a "plain\t'Kafka\'s text layout'
table\t'An aligned table'
json\t'JSON'"
complete -c strom -n "__fish_strom_using_subcommand transactions; and __fish_seen_subcommand_from describe-producers" -l profile -d 'Settings profile from $XDG_CONFIG_HOME/strom/config.toml [env: STROM_PROFILE]' -r
complete -c strom -n "__fish_strom_using_subcommand transactions; and __fish_seen_subcommand_from describe-producers" -s v -l verbose -d 'Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c strom -n "__fish_strom_using_subcommand transactions; and __fish_seen_subcommand_from describe-producers" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c strom -n "__fish_strom_using_subcommand transactions; and __fish_seen_subcommand_from describe-producers" -s V -l version -d 'Print version'
complete -c strom -n "__fish_strom_using_subcommand transactions; and __fish_seen_subcommand_from help" -f -a "list" -d 'List transactional ids: producer id and state'
complete -c strom -n "__fish_strom_using_subcommand transactions; and __fish_seen_subcommand_from help" -f -a "describe" -d 'Show a transactional id\'s state, producer id and epoch, timeout, open transaction\'s start time and partitions'
complete -c strom -n "__fish_strom_using_subcommand transactions; and __fish_seen_subcommand_from help" -f -a "describe-producers" -d 'The producers a partition\'s leader remembers: producer id, epoch, last sequence and timestamp, open transaction\'s first offset (kafka-transactions describe-producers)'
complete -c strom -n "__fish_strom_using_subcommand transactions; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c strom -n "__fish_strom_using_subcommand help; and not __fish_seen_subcommand_from serve produce consume topics perf repl config generate groups brokers stream connect top transactions help" -f -a "serve" -d 'Run a broker'
complete -c strom -n "__fish_strom_using_subcommand help; and not __fish_seen_subcommand_from serve produce consume topics perf repl config generate groups brokers stream connect top transactions help" -f -a "produce" -d 'Write records from stdin or a file to a topic'
complete -c strom -n "__fish_strom_using_subcommand help; and not __fish_seen_subcommand_from serve produce consume topics perf repl config generate groups brokers stream connect top transactions help" -f -a "consume" -d 'Print records of a topic to stdout'
complete -c strom -n "__fish_strom_using_subcommand help; and not __fish_seen_subcommand_from serve produce consume topics perf repl config generate groups brokers stream connect top transactions help" -f -a "topics" -d 'Create, list, describe, alter and delete topics'
complete -c strom -n "__fish_strom_using_subcommand help; and not __fish_seen_subcommand_from serve produce consume topics perf repl config generate groups brokers stream connect top transactions help" -f -a "perf" -d 'Measure produce and consume throughput'
complete -c strom -n "__fish_strom_using_subcommand help; and not __fish_seen_subcommand_from serve produce consume topics perf repl config generate groups brokers stream connect top transactions help" -f -a "repl" -d 'Interactive shell (or script runner) for the commands above'
complete -c strom -n "__fish_strom_using_subcommand help; and not __fish_seen_subcommand_from serve produce consume topics perf repl config generate groups brokers stream connect top transactions help" -f -a "config" -d 'Show the effective client settings and where they came from'
complete -c strom -n "__fish_strom_using_subcommand help; and not __fish_seen_subcommand_from serve produce consume topics perf repl config generate groups brokers stream connect top transactions help" -f -a "generate" -d 'Write man pages or shell completions (for packagers)'
complete -c strom -n "__fish_strom_using_subcommand help; and not __fish_seen_subcommand_from serve produce consume topics perf repl config generate groups brokers stream connect top transactions help" -f -a "groups" -d 'List, describe, reset and delete consumer groups'
complete -c strom -n "__fish_strom_using_subcommand help; and not __fish_seen_subcommand_from serve produce consume topics perf repl config generate groups brokers stream connect top transactions help" -f -a "brokers" -d 'List and describe the cluster\'s brokers: version, listeners, health'
complete -c strom -n "__fish_strom_using_subcommand help; and not __fish_seen_subcommand_from serve produce consume topics perf repl config generate groups brokers stream connect top transactions help" -f -a "stream" -d 'Process records from topics to a topic with any program (at least once)'
complete -c strom -n "__fish_strom_using_subcommand help; and not __fish_seen_subcommand_from serve produce consume topics perf repl config generate groups brokers stream connect top transactions help" -f -a "connect" -d 'Run source and sink connectors between topics and databases'
complete -c strom -n "__fish_strom_using_subcommand help; and not __fish_seen_subcommand_from serve produce consume topics perf repl config generate groups brokers stream connect top transactions help" -f -a "top" -d 'Live terminal view of brokers\' metrics: topic rates, partitions, groups\' lag'
complete -c strom -n "__fish_strom_using_subcommand help; and not __fish_seen_subcommand_from serve produce consume topics perf repl config generate groups brokers stream connect top transactions help" -f -a "transactions" -d 'List and describe transactions (transactional producers\' state)'
complete -c strom -n "__fish_strom_using_subcommand help; and not __fish_seen_subcommand_from serve produce consume topics perf repl config generate groups brokers stream connect top transactions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c strom -n "__fish_strom_using_subcommand help; and __fish_seen_subcommand_from topics" -f -a "create" -d 'Create a topic'
complete -c strom -n "__fish_strom_using_subcommand help; and __fish_seen_subcommand_from topics" -f -a "list" -d 'List topic names'
complete -c strom -n "__fish_strom_using_subcommand help; and __fish_seen_subcommand_from topics" -f -a "describe" -d 'Describe partitions, leaders and configs'
complete -c strom -n "__fish_strom_using_subcommand help; and __fish_seen_subcommand_from topics" -f -a "alter" -d 'Add partitions or change configs'
complete -c strom -n "__fish_strom_using_subcommand help; and __fish_seen_subcommand_from topics" -f -a "delete" -d 'Delete a topic'
complete -c strom -n "__fish_strom_using_subcommand help; and __fish_seen_subcommand_from topics" -f -a "offsets" -d 'Earliest, latest or by-time offsets per partition (kafka-get-offsets)'
complete -c strom -n "__fish_strom_using_subcommand help; and __fish_seen_subcommand_from topics" -f -a "delete-records" -d 'Delete the records below an offset (kafka-delete-records)'
complete -c strom -n "__fish_strom_using_subcommand help; and __fish_seen_subcommand_from topics" -f -a "elect-leaders" -d 'Move partitions\' leadership to their preferred replica, or elect an unclean leader (kafka-leader-election)'
complete -c strom -n "__fish_strom_using_subcommand help; and __fish_seen_subcommand_from perf" -f -a "produce" -d 'Produce synthetic records as fast as allowed (kafka-producer-perf-test)'
complete -c strom -n "__fish_strom_using_subcommand help; and __fish_seen_subcommand_from perf" -f -a "consume" -d 'Read records as fast as possible (kafka-consumer-perf-test)'
complete -c strom -n "__fish_strom_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "show" -d 'Print the effective bootstrap server, output and profile, and where each came from'
complete -c strom -n "__fish_strom_using_subcommand help; and __fish_seen_subcommand_from generate" -f -a "man" -d 'Man pages for strom and every subcommand (strom-topics-create.1, ...)'
complete -c strom -n "__fish_strom_using_subcommand help; and __fish_seen_subcommand_from generate" -f -a "completions" -d 'Bash, zsh and fish completion scripts'
complete -c strom -n "__fish_strom_using_subcommand help; and __fish_seen_subcommand_from groups" -f -a "list" -d 'List consumer groups, one per line'
complete -c strom -n "__fish_strom_using_subcommand help; and __fish_seen_subcommand_from groups" -f -a "describe" -d 'Show a group\'s committed offsets and lag, its members (--members) or its state (--state)'
complete -c strom -n "__fish_strom_using_subcommand help; and __fish_seen_subcommand_from groups" -f -a "reset-offsets" -d 'Move a group\'s committed offsets (a dry run unless --execute)'
complete -c strom -n "__fish_strom_using_subcommand help; and __fish_seen_subcommand_from groups" -f -a "delete" -d 'Delete consumer groups that have no active members'
complete -c strom -n "__fish_strom_using_subcommand help; and __fish_seen_subcommand_from groups" -f -a "delete-offsets" -d 'Delete a group\'s committed offsets of some topics or partitions'
complete -c strom -n "__fish_strom_using_subcommand help; and __fish_seen_subcommand_from brokers" -f -a "list" -d 'One line per broker of the cluster: id, address, version, uptime, health'
complete -c strom -n "__fish_strom_using_subcommand help; and __fish_seen_subcommand_from brokers" -f -a "describe" -d 'Everything a broker says about itself: listeners, rack, data dir, disk, partitions hosted and led'
complete -c strom -n "__fish_strom_using_subcommand help; and __fish_seen_subcommand_from brokers" -f -a "configs" -d 'The broker-wide defaults of topic configs (Kafka\'s dynamic broker configs), each with its value and where it comes from'
complete -c strom -n "__fish_strom_using_subcommand help; and __fish_seen_subcommand_from brokers" -f -a "alter-configs" -d 'Change broker-wide defaults of topic configs at run time, for the cluster or one broker; every topic that does not override them follows at once'
complete -c strom -n "__fish_strom_using_subcommand help; and __fish_seen_subcommand_from connect" -f -a "standalone" -d 'Run connectors in this process, one TOML file each'
complete -c strom -n "__fish_strom_using_subcommand help; and __fish_seen_subcommand_from connect" -f -a "list" -d 'List the connectors of a running worker, with their state'
complete -c strom -n "__fish_strom_using_subcommand help; and __fish_seen_subcommand_from connect" -f -a "status" -d 'State of a running worker\'s connectors (RUNNING, PAUSED, FAILED with the last error, RESTARTING)'
complete -c strom -n "__fish_strom_using_subcommand help; and __fish_seen_subcommand_from connect" -f -a "pause" -d 'Pause a connector of a running worker (its task stops; the others go on)'
complete -c strom -n "__fish_strom_using_subcommand help; and __fish_seen_subcommand_from connect" -f -a "resume" -d 'Resume a paused connector'
complete -c strom -n "__fish_strom_using_subcommand help; and __fish_seen_subcommand_from connect" -f -a "restart" -d 'Restart a connector\'s task now (also cuts a failed task\'s backoff short)'
complete -c strom -n "__fish_strom_using_subcommand help; and __fish_seen_subcommand_from connect" -f -a "offsets" -d 'A connector\'s positions: a source\'s stored source offsets, a sink\'s group commits and own stored offsets'
complete -c strom -n "__fish_strom_using_subcommand help; and __fish_seen_subcommand_from connect" -f -a "bench-sqlite-insert" -d 'Plain batched INSERT loop into SQLite (the baseline of scripts/bench-connect.sh)'
complete -c strom -n "__fish_strom_using_subcommand help; and __fish_seen_subcommand_from transactions" -f -a "list" -d 'List transactional ids: producer id and state'
complete -c strom -n "__fish_strom_using_subcommand help; and __fish_seen_subcommand_from transactions" -f -a "describe" -d 'Show a transactional id\'s state, producer id and epoch, timeout, open transaction\'s start time and partitions'
complete -c strom -n "__fish_strom_using_subcommand help; and __fish_seen_subcommand_from transactions" -f -a "describe-producers" -d 'The producers a partition\'s leader remembers: producer id, epoch, last sequence and timestamp, open transaction\'s first offset (kafka-transactions describe-producers)'
