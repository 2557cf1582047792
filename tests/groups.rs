//! Consumer groups end to end: real broker, real `strom consume --group`
//! processes, `strom groups` to observe them. Every wait is on a condition
//! with a deadline.
mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::{numbered_lines, wait_with_deadline, Broker};
use serde_json::Value;

const SESSION_MS: u64 = 2000;

fn broker() -> Broker {
    Broker::start_with(&[
        "--group-initial-rebalance-delay-ms",
        "0",
        "--group-min-session-timeout-ms",
        "1000",
    ])
}

/// Polls `cond` every 50 ms until it holds or `within` passes.
fn wait_for<T>(what: &str, within: Duration, mut cond: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = cond() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(50));
    }
}

/// A `strom consume --group` child whose stdout lines are collected.
struct Member {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    reader: Option<thread::JoinHandle<()>>,
}

impl Member {
    fn start(b: &Broker, topic: &str, group: &str, extra: &[&str]) -> Member {
        let session = format!("session.timeout.ms={SESSION_MS}");
        let mut cmd = b.cmd(&[
            "consume",
            "-t",
            topic,
            "--group",
            group,
            "-f",
            "%p %o %s\\n",
            "--consumer-property",
            &session,
            "--consumer-property",
            "max.poll.interval.ms=5000",
            "--consumer-property",
            "auto.commit.interval.ms=300",
        ]);
        cmd.args(extra)
            .env("STROM_DEBUG_GROUP", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn consumer");
        let out = child.stdout.take().expect("stdout");
        let mut err = child.stderr.take().expect("stderr");
        thread::spawn(move || {
            let mut s = String::new();
            let _ = err.read_to_string(&mut s);
            if !s.trim().is_empty() {
                eprintln!("[consumer] {}", s.trim_end());
            }
        });
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        let reader = thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                sink.lock().expect("lines lock").push(line);
            }
        });
        Member {
            child,
            lines,
            reader: Some(reader),
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: no commit, no LeaveGroup.
    fn kill(mut self) -> Vec<String> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.collect()
    }

    /// SIGINT (Ctrl-C): the member commits and leaves; must exit 0.
    fn interrupt(mut self) -> Vec<String> {
        let _ = Command::new("kill")
            .args(["-INT", &self.pid().to_string()])
            .status();
        let status = wait_with_deadline(&mut self.child, Duration::from_secs(30));
        assert!(status.success(), "consumer exited with {status:?}");
        self.collect()
    }

    fn collect(mut self) -> Vec<String> {
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
        let v = self.lines.lock().expect("lines lock").clone();
        v
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// JSON output of a command; Null when it fails (e.g. the group does not
/// exist yet), so waits can poll before the first member joined.
fn json(b: &Broker, args: &[&str]) -> Value {
    let out = b.run(args, None);
    if !out.status.success() {
        return Value::Null;
    }
    serde_json::from_slice(&out.stdout).expect("JSON output")
}

/// (state, partitions per member, sorted) of a group, from `--members`.
fn membership(b: &Broker, group: &str) -> (String, Vec<usize>) {
    let v = json(
        b,
        &[
            "groups",
            "describe",
            "--group",
            group,
            "--members",
            "--output",
            "json",
        ],
    );
    let g = &v[0];
    let mut counts: Vec<usize> = g["members"]
        .as_array()
        .map(|ms| {
            ms.iter()
                .map(|m| m["partitions"].as_u64().unwrap_or(0) as usize)
                .collect()
        })
        .unwrap_or_default();
    counts.sort_unstable();
    (g["state"].as_str().unwrap_or("").to_string(), counts)
}

fn wait_for_split(b: &Broker, group: &str, want: &[usize], within: Duration) {
    wait_for(&format!("group {group} to split {want:?}"), within, || {
        let (state, counts) = membership(b, group);
        (state == "Stable" && counts == want).then_some(())
    });
}

/// Offset rows of `groups describe --output json`: (topic, partition) →
/// (current, log end, lag, consumer id).
type Row = (Option<i64>, Option<i64>, Option<i64>, Option<String>);

fn offsets(b: &Broker, group: &str) -> BTreeMap<(String, i64), Row> {
    let v = json(
        b,
        &["groups", "describe", "--group", group, "--output", "json"],
    );
    let mut out = BTreeMap::new();
    for r in v[0]["partitions"].as_array().into_iter().flatten() {
        out.insert(
            (
                r["topic"].as_str().unwrap_or("").to_string(),
                r["partition"].as_i64().unwrap_or(-1),
            ),
            (
                r["current_offset"].as_i64(),
                r["log_end_offset"].as_i64(),
                r["lag"].as_i64(),
                r["consumer_id"].as_str().map(str::to_string),
            ),
        );
    }
    out
}

fn all_caught_up(b: &Broker, group: &str, partitions: usize) -> bool {
    let rows = offsets(b, group);
    rows.len() == partitions && rows.values().all(|r| r.2 == Some(0))
}

/// What one member printed: values, and (generation, partition) pairs it
/// read records of, with the offsets per partition in order.
struct Printed {
    values: Vec<String>,
    read_in: BTreeSet<(i64, i64)>,
    /// Per (generation, partition): offsets in print order.
    offsets: BTreeMap<(i64, i64), Vec<i64>>,
}

fn parse(lines: &[String]) -> Printed {
    let mut p = Printed {
        values: Vec::new(),
        read_in: BTreeSet::new(),
        offsets: BTreeMap::new(),
    };
    let mut generation = -1;
    for l in lines {
        if let Some(rest) = l.strip_prefix("#group generation=") {
            generation = rest
                .split_whitespace()
                .next()
                .and_then(|g| g.parse().ok())
                .expect("generation number");
            continue;
        }
        let mut it = l.splitn(3, ' ');
        let (Some(part), Some(off), Some(value)) = (it.next(), it.next(), it.next()) else {
            panic!("unexpected line {l:?}");
        };
        let part: i64 = part.parse().expect("partition");
        let off: i64 = off.parse().expect("offset");
        assert!(generation >= 0, "record before any #group line");
        p.read_in.insert((generation, part));
        p.offsets.entry((generation, part)).or_default().push(off);
        p.values.push(value.to_string());
    }
    p
}

/// Records spread over partitions by key (`k<i>:line-<i>`).
fn keyed_lines(from: usize, to: usize) -> Vec<u8> {
    let mut v = Vec::new();
    for i in from..to {
        v.extend_from_slice(format!("k{i}:line-{i:06}\n").as_bytes());
    }
    v
}

fn produce_keyed(b: &Broker, topic: &str, from: usize, to: usize) {
    b.ok(
        &["produce", "-t", topic, "-K", ":"],
        Some(&keyed_lines(from, to)),
    );
}

#[test]
fn members_split_partitions_and_take_over_from_a_killed_one() {
    let b = broker();
    b.create_topic("split", 4);
    let a = Member::start(&b, "split", "g", &[]);
    let m2 = Member::start(&b, "split", "g", &[]);
    wait_for_split(&b, "g", &[2, 2], Duration::from_secs(30));

    let c = Member::start(&b, "split", "g", &[]);
    wait_for_split(&b, "g", &[1, 1, 2], Duration::from_secs(30));

    let killed = Instant::now();
    c.kill();
    wait_for_split(&b, "g", &[2, 2], Duration::from_secs(30));
    let took = killed.elapsed();
    eprintln!("takeover after SIGKILL took {took:?} (session timeout {SESSION_MS} ms)");
    // Session timeout, plus one heartbeat interval to notice, plus slack
    // for a loaded test machine.
    assert!(
        took < Duration::from_millis(SESSION_MS + 6000),
        "takeover took {took:?}"
    );
    a.interrupt();
    m2.interrupt();
    let (state, counts) = membership(&b, "g");
    assert_eq!(state, "Empty");
    assert!(counts.is_empty());
}

#[test]
fn nothing_is_lost_or_skipped_while_members_come_and_go() {
    const N: usize = 20_000;
    const CHUNK: usize = 2_000;
    let b = broker();
    b.create_topic("churn", 4);
    let from_start = ["--from-beginning"];
    let mut running = vec![
        Member::start(&b, "churn", "cg", &from_start),
        Member::start(&b, "churn", "cg", &from_start),
    ];
    let mut finished: Vec<Vec<String>> = Vec::new();
    for (i, start) in (0..N).step_by(CHUNK).enumerate() {
        produce_keyed(&b, "churn", start, start + CHUNK);
        match i % 4 {
            // A newcomer joins.
            0 => running.push(Member::start(&b, "churn", "cg", &from_start)),
            // The oldest is killed without a chance to commit.
            1 if running.len() > 1 => finished.push(running.remove(0).kill()),
            // The oldest leaves cleanly (commit + LeaveGroup).
            2 if running.len() > 1 => finished.push(running.remove(0).interrupt()),
            _ => running.push(Member::start(&b, "churn", "cg", &from_start)),
        }
    }
    wait_for(
        "the group to commit every record",
        Duration::from_secs(90),
        || all_caught_up(&b, "cg", 4).then_some(()),
    );
    for m in running {
        finished.push(m.interrupt());
    }

    let printed: Vec<Printed> = finished.iter().map(|l| parse(l)).collect();
    let seen: BTreeSet<&str> = printed
        .iter()
        .flat_map(|p| p.values.iter().map(String::as_str))
        .collect();
    let missing: Vec<usize> = (0..N)
        .filter(|i| !seen.contains(format!("line-{i:06}").as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "{} records never printed, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(10)]
    );
    let total: usize = printed.iter().map(|p| p.values.len()).sum();
    eprintln!("printed {total} records for {N} produced (duplicates are re-reads after a kill)");

    // Within one generation a partition is read by one member only, and
    // each member reads a partition without gaps.
    let mut readers: HashMap<(i64, i64), usize> = HashMap::new();
    for (who, p) in printed.iter().enumerate() {
        for key in &p.read_in {
            if let Some(other) = readers.insert(*key, who) {
                panic!(
                    "generation {} partition {} read by members {other} and {who}",
                    key.0, key.1
                );
            }
        }
        for (key, offs) in &p.offsets {
            for w in offs.windows(2) {
                assert_eq!(w[1], w[0] + 1, "gap in generation/partition {key:?}");
            }
        }
    }
}

#[test]
fn committed_offsets_survive_a_restart_and_lag_is_end_minus_committed() {
    let mut b = broker();
    b.create_topic("commits", 2);
    produce_keyed(&b, "commits", 0, 100);
    let out = b.run(
        &[
            "consume",
            "-t",
            "commits",
            "--group",
            "rc",
            "--from-beginning",
            "--max-messages",
            "60",
        ],
        None,
    );
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 60);

    let before = offsets(&b, "rc");
    let committed: i64 = before.values().filter_map(|r| r.0).sum();
    assert_eq!(committed, 60, "{before:?}");
    for (tp, (cur, end, lag, consumer)) in &before {
        let (cur, end) = (cur.expect("committed"), end.expect("log end"));
        assert_eq!(*lag, Some(end - cur), "{tp:?}");
        assert_eq!(*consumer, None, "no active member owns {tp:?}");
    }
    let plain = String::from_utf8(b.run(&["groups", "describe", "--group", "rc"], None).stdout)
        .expect("utf8");
    assert!(
        plain.contains("CURRENT-OFFSET  LOG-END-OFFSET  LAG"),
        "{plain}"
    );

    b.restart();
    assert_eq!(
        offsets(&b, "rc"),
        before,
        "committed offsets changed across a restart"
    );

    // The group resumes right after what it printed: exactly the rest.
    let out = b.run(
        &[
            "consume",
            "-t",
            "commits",
            "--group",
            "rc",
            "--from-beginning",
            "-e",
        ],
        None,
    );
    assert!(out.status.success());
    let rest = String::from_utf8(out.stdout).expect("utf8");
    assert_eq!(rest.lines().count(), 40, "{rest}");
    assert!(offsets(&b, "rc").values().all(|r| r.2 == Some(0)));
}

#[test]
fn two_groups_each_get_everything_and_members_of_one_share() {
    let b = broker();
    b.create_topic("shared", 2);
    produce_keyed(&b, "shared", 0, 1000);
    let expect: BTreeSet<String> = (0..1000).map(|i| format!("line-{i:06}")).collect();
    for group in ["pub1", "pub2"] {
        let out = b.ok(
            &[
                "consume",
                "-t",
                "shared",
                "--group",
                group,
                "--from-beginning",
                "-e",
            ],
            None,
        );
        let got: BTreeSet<String> = String::from_utf8(out)
            .expect("utf8")
            .lines()
            .map(str::to_string)
            .collect();
        assert_eq!(got, expect, "group {group}");
    }

    // A queue: two members of one group split the new records.
    let q1 = Member::start(&b, "shared", "queue", &[]);
    let q2 = Member::start(&b, "shared", "queue", &[]);
    wait_for_split(&b, "queue", &[1, 1], Duration::from_secs(30));
    produce_keyed(&b, "shared", 1000, 2000);
    wait_for("the queue to drain", Duration::from_secs(60), || {
        all_caught_up(&b, "queue", 2).then_some(())
    });
    let (p1, p2) = (parse(&q1.interrupt()), parse(&q2.interrupt()));
    assert!(!p1.values.is_empty() && !p2.values.is_empty());
    let s1: BTreeSet<&String> = p1.values.iter().collect();
    let s2: BTreeSet<&String> = p2.values.iter().collect();
    assert!(s1.is_disjoint(&s2), "a record went to both members");
    assert_eq!(s1.len() + s2.len(), 1000);
}

mod raw {
    //! Misbehaving members, spoken to through the library's `Connection`.
    use super::*;
    use strom::client::connection::{Connection, ConnectionConfig};
    use strom::proto::messages::groups::*;
    use strom::proto::{ApiKey, ErrorCode};

    const T: Duration = Duration::from_secs(10);

    fn join(group: &str, member: &str, protocol_type: &str) -> JoinGroupRequest {
        JoinGroupRequest {
            group_id: group.into(),
            session_timeout_ms: 10_000,
            rebalance_timeout_ms: 10_000,
            member_id: member.into(),
            group_instance_id: None,
            client_id: "raw".into(),
            protocol_type: protocol_type.into(),
            protocols: vec![GroupProtocol {
                name: "range".into(),
                metadata: Default::default(),
            }],
        }
    }

    async fn sync(c: &Connection, group: &str, generation: i32, member: &str) {
        let r: SyncGroupResponse = c
            .call(
                ApiKey::SyncGroup,
                &SyncGroupRequest {
                    group_id: group.into(),
                    generation_id: generation,
                    member_id: member.into(),
                    group_instance_id: None,
                    assignments: vec![],
                },
                T,
            )
            .await
            .expect("sync");
        assert!(r.status.is_ok(), "{}", r.status);
    }

    fn commit(group: &str, generation: i32, member: &str) -> OffsetCommitRequest {
        OffsetCommitRequest {
            group_id: group.into(),
            generation_id: generation,
            member_id: member.into(),
            offsets: vec![OffsetCommitPartition {
                topic: "raw".into(),
                partition: 0,
                offset: 1,
                metadata: None,
            }],
        }
    }

    #[test]
    fn bad_group_requests_get_kafkas_errors() {
        let b = broker();
        b.create_topic("raw", 1);
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        rt.block_on(async {
            let c = Connection::connect(&b.addr, &ConnectionConfig::default())
                .await
                .expect("connect");
            let j: JoinGroupResponse = c
                .call(ApiKey::JoinGroup, &join("rg", "", "consumer"), T)
                .await
                .expect("join");
            assert!(j.status.is_ok(), "{}", j.status);
            let (gen1, me) = (j.generation_id, j.member_id.clone());
            sync(&c, "rg", gen1, &me).await;

            // Another protocol type cannot join a consumer group.
            let bad: JoinGroupResponse = c
                .call(ApiKey::JoinGroup, &join("rg", "", "connect"), T)
                .await
                .expect("join");
            assert_eq!(
                bad.status.error_code(),
                ErrorCode::InconsistentGroupProtocol
            );

            // A heartbeat from nobody the group knows.
            let hb: HeartbeatResponse = c
                .call(
                    ApiKey::Heartbeat,
                    &HeartbeatRequest {
                        group_id: "rg".into(),
                        generation_id: gen1,
                        member_id: "nobody".into(),
                    },
                    T,
                )
                .await
                .expect("heartbeat");
            assert_eq!(hb.status.error_code(), ErrorCode::UnknownMemberId);

            // The leader rejoining starts generation 2; a commit for
            // generation 1 is then stale.
            let j2: JoinGroupResponse = c
                .call(ApiKey::JoinGroup, &join("rg", &me, "consumer"), T)
                .await
                .expect("rejoin");
            assert!(j2.status.is_ok(), "{}", j2.status);
            assert!(j2.generation_id > gen1);
            sync(&c, "rg", j2.generation_id, &me).await;
            let old: OffsetCommitResponse = c
                .call(ApiKey::OffsetCommit, &commit("rg", gen1, &me), T)
                .await
                .expect("commit");
            assert_eq!(old.status.error_code(), ErrorCode::IllegalGeneration);
            let ok: OffsetCommitResponse = c
                .call(
                    ApiKey::OffsetCommit,
                    &commit("rg", j2.generation_id, &me),
                    T,
                )
                .await
                .expect("commit");
            assert!(ok.status.is_ok(), "{}", ok.status);
        });
    }
}

#[test]
fn reset_offsets_plans_executes_and_refuses_while_members_are_active() {
    let b = broker();
    b.create_topic("reset", 1);
    b.ok(&["produce", "-t", "reset"], Some(&numbered_lines(50)));
    b.ok(
        &[
            "consume",
            "-t",
            "reset",
            "--group",
            "rg",
            "--from-beginning",
            "-e",
        ],
        None,
    );
    let current = |b: &Broker| offsets(b, "rg")[&("reset".to_string(), 0)].0;
    assert_eq!(current(&b), Some(50));

    // Dry run (the default): the plan, in Kafka's layout, and no change.
    let plan = String::from_utf8(b.ok(
        &[
            "groups",
            "reset-offsets",
            "--group",
            "rg",
            "--topic",
            "reset",
            "--to-earliest",
        ],
        None,
    ))
    .expect("utf8");
    assert_eq!(
        plan,
        "\nGROUP           TOPIC           PARTITION  NEW-OFFSET\n\
         rg              reset           0          0\n"
    );
    assert_eq!(current(&b), Some(50));

    let reset = |spec: &[&str]| {
        let mut args = vec!["groups", "reset-offsets", "--group", "rg", "--all-topics"];
        args.extend_from_slice(spec);
        args.push("--execute");
        b.ok(&args, None);
        current(&b)
    };
    assert_eq!(reset(&["--to-earliest"]), Some(0));
    assert_eq!(reset(&["--shift-by", "10"]), Some(10));
    assert_eq!(reset(&["--shift-by", "-100"]), Some(0));
    assert_eq!(reset(&["--to-offset", "1000"]), Some(50));
    assert_eq!(
        reset(&["--to-datetime", "1970-01-01T00:00:00.000"]),
        Some(0)
    );
    assert_eq!(reset(&["--to-latest"]), Some(50));

    // Exactly one spec, one scope: usage errors.
    let usage = b.run(
        &["groups", "reset-offsets", "--group", "rg", "--all-topics"],
        None,
    );
    assert_eq!(usage.status.code(), Some(2));
    let usage = b.run(
        &[
            "groups",
            "reset-offsets",
            "--group",
            "rg",
            "--to-earliest",
            "--to-latest",
            "--all-topics",
        ],
        None,
    );
    assert_eq!(usage.status.code(), Some(2));

    // Refused while a member is active.
    let m = Member::start(&b, "reset", "rg", &[]);
    wait_for_split(&b, "rg", &[1], Duration::from_secs(30));
    let refused = b.run(
        &[
            "groups",
            "reset-offsets",
            "--group",
            "rg",
            "--all-topics",
            "--to-earliest",
            "--execute",
        ],
        None,
    );
    assert_eq!(refused.status.code(), Some(1));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.starts_with("error: ") && err.contains("inactive"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    let del = b.run(&["groups", "delete", "--group", "rg"], None);
    assert_eq!(del.status.code(), Some(1));
    m.interrupt();

    // Empty now: delete works, and the group is gone.
    let out = String::from_utf8(b.ok(&["groups", "delete", "--group", "rg"], None)).expect("utf8");
    assert_eq!(
        out,
        "Deletion of requested consumer groups ('rg') was successful.\n"
    );
    let list = String::from_utf8(b.ok(&["groups", "list"], None)).expect("utf8");
    assert!(!list.lines().any(|l| l == "rg"), "{list}");
    let gone = b.run(&["groups", "describe", "--group", "rg"], None);
    assert_eq!(gone.status.code(), Some(1));
}

/// `groups reset-offsets ARGS -b ADDR`: (exit code, stdout, stderr).
fn reset_run(b: &Broker, group: &str, args: &[&str]) -> (Option<i32>, String, String) {
    let mut all = vec!["groups", "reset-offsets", "--group", group];
    all.extend_from_slice(args);
    let out = b.run(&all, None);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The group's committed offset per partition of `topic`.
fn committed(b: &Broker, group: &str, topic: &str) -> BTreeMap<i64, Option<i64>> {
    offsets(b, group)
        .into_iter()
        .filter(|((t, _), _)| t == topic)
        .map(|((_, p), r)| (p, r.0))
        .collect()
}

#[test]
fn reset_offsets_dry_run_says_so_and_clamped_offsets_warn() {
    let b = broker();
    b.create_topic("dry", 1);
    b.ok(&["produce", "-t", "dry"], Some(&numbered_lines(10)));
    b.ok(
        &[
            "consume",
            "-t",
            "dry",
            "--group",
            "dg1",
            "--from-beginning",
            "-e",
        ],
        None,
    );
    assert_eq!(committed(&b, "dg1", "dry"), BTreeMap::from([(0, Some(10))]));

    // Without --execute: the plan on stdout, then on stderr that nothing
    // was changed and how to apply it.
    let (code, out, err) = reset_run(&b, "dg1", &["--topic", "dry", "--to-earliest"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.contains("dg1             dry             0          0"),
        "{out}"
    );
    let last = err.lines().last().unwrap_or("");
    assert!(
        last.contains("dry run")
            && last.contains("no offsets were changed")
            && last.contains("--execute"),
        "{err}"
    );
    assert_eq!(committed(&b, "dg1", "dry"), BTreeMap::from([(0, Some(10))]));
    // --dry-run says the same.
    let (_, _, err) = reset_run(&b, "dg1", &["--topic", "dry", "--to-earliest", "--dry-run"]);
    assert!(err.contains("dry run"), "{err}");

    // Beyond the log end: clamped to it, with a warning naming the
    // partition, the asked and the used offset; --execute says no dry run.
    let (code, out, err) = reset_run(
        &b,
        "dg1",
        &["--all-topics", "--to-offset", "99", "--execute"],
    );
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("dry             0          10"), "{out}");
    assert!(
        err.contains("Warning: New offset (99) is higher than latest offset for topic partition dry-0. Value will be set to 10."),
        "{err}"
    );
    assert!(!err.contains("dry run"), "{err}");
    assert_eq!(committed(&b, "dg1", "dry"), BTreeMap::from([(0, Some(10))]));

    // Before the log start: clamped to it.
    let (code, _, err) = reset_run(
        &b,
        "dg1",
        &["--all-topics", "--shift-by", "-15", "--execute"],
    );
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("New offset (-5) is lower than earliest offset for topic partition dry-0. Value will be set to 0."),
        "{err}"
    );
    assert_eq!(committed(&b, "dg1", "dry"), BTreeMap::from([(0, Some(0))]));

    // An offset inside the range moves without a warning.
    let (_, _, err) = reset_run(
        &b,
        "dg1",
        &["--all-topics", "--to-offset", "4", "--execute"],
    );
    assert!(!err.contains("Warning"), "{err}");
    assert_eq!(committed(&b, "dg1", "dry"), BTreeMap::from([(0, Some(4))]));
}

#[test]
fn reset_offsets_by_duration_to_current_export_and_from_file() {
    let b = broker();
    b.create_topic("rf", 2);
    // Partition 0: 3 records from 1970, then 4 from now; partition 1: 6.
    let old = (0..3)
        .map(|i| format!("{{\"value\":\"old{i}\",\"timestamp\":1000}}\n"))
        .collect::<String>();
    b.ok(
        &["produce", "-t", "rf", "-p", "0", "--input", "json"],
        Some(old.as_bytes()),
    );
    b.ok(
        &["produce", "-t", "rf", "-p", "0"],
        Some(&numbered_lines(4)),
    );
    b.ok(
        &["produce", "-t", "rf", "-p", "1"],
        Some(&numbered_lines(6)),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let file = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write plan");
        path.to_string_lossy().into_owned()
    };

    // --from-file commits exactly the partitions of the file.
    let plan = file("plan.csv", "rf,0,2\n");
    let (code, out, err) = reset_run(&b, "fg", &["--from-file", &plan, "--execute"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.contains("fg              rf              0          2"),
        "{out}"
    );
    assert_eq!(committed(&b, "fg", "rf"), BTreeMap::from([(0, Some(2))]));

    // --to-current: the committed offset; the log end where nothing is
    // committed, as Kafka does. --export prints Kafka's CSV instead.
    let (code, out, err) = reset_run(&b, "fg", &["--topic", "rf", "--to-current", "--export"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, "rf,0,2\nrf,1,6\n");
    assert!(err.contains("dry run"), "{err}");

    // The export reads back as a plan.
    let exported = file("exported.csv", &out);
    reset_run(&b, "fg", &["--from-file", &exported, "--execute"]);
    assert_eq!(
        committed(&b, "fg", "rf"),
        BTreeMap::from([(0, Some(2)), (1, Some(6))])
    );

    // --by-duration: the first record at or after now minus the duration.
    let (code, out, err) = reset_run(
        &b,
        "fg",
        &["--topic", "rf", "--by-duration", "PT1H", "--export"],
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, "rf,0,3\nrf,1,0\n");
    let (_, out, _) = reset_run(
        &b,
        "fg",
        &["--topic", "rf:0", "--by-duration", "P36500DT1M", "--export"],
    );
    assert_eq!(out, "rf,0,0\n");
    // A bad duration is a usage error before anything is sent.
    let (code, _, err) = reset_run(&b, "fg", &["--topic", "rf", "--by-duration", "1 hour"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("PnDTnHnMnS"), "{err}");

    // A bad plan line fails the whole plan, naming the file and the line;
    // nothing is committed.
    for (text, want) in [
        (
            "rf,0,1\nrf,zero,1\n",
            "line 2: the partition must be a number",
        ),
        (
            "rf,0,1\n\nrf,0\n",
            "line 3: expected topic,partition,offset",
        ),
        ("rf,1,1\nrf,7,1\n", "line 2: topic 'rf' has no partition 7"),
        ("rf,0,1\nrf,1,-3\n", "line 2: the offset must be a number"),
    ] {
        let bad = file("bad.csv", text);
        let (code, out, err) = reset_run(&b, "fg", &["--from-file", &bad, "--execute"]);
        assert_eq!(code, Some(1), "{text:?}: {err}");
        assert!(out.is_empty(), "{out}");
        assert!(
            err.starts_with("error: ") && err.contains(&format!("bad.csv: {want}")),
            "{text:?}: {err}"
        );
    }
    let missing = dir.path().join("missing.csv");
    let (code, _, err) = reset_run(&b, "fg", &["--from-file", &missing.to_string_lossy()]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("cannot read") && err.contains("missing.csv"),
        "{err}"
    );
    assert_eq!(
        committed(&b, "fg", "rf"),
        BTreeMap::from([(0, Some(2)), (1, Some(6))])
    );
    // The file gives the partitions: no --topic with it.
    let (code, _, _) = reset_run(&b, "fg", &["--from-file", &exported, "--topic", "rf"]);
    assert_eq!(code, Some(2));
}

#[test]
fn list_state_filters_and_delete_all_groups_reports_active_ones() {
    let b = broker();
    b.create_topic("ls", 1);
    b.ok(&["produce", "-t", "ls"], Some(&numbered_lines(3)));
    for g in ["idle-a", "idle-b"] {
        b.ok(
            &[
                "consume",
                "-t",
                "ls",
                "--group",
                g,
                "--from-beginning",
                "-e",
            ],
            None,
        );
    }
    let m = Member::start(&b, "ls", "busy-group-with-a-long-name", &[]);
    wait_for_split(
        &b,
        "busy-group-with-a-long-name",
        &[1],
        Duration::from_secs(30),
    );
    let text = |args: &[&str]| String::from_utf8(b.ok(args, None)).expect("utf8");

    // --state alone: GROUP and STATE columns, Kafka's spacing.
    let all = text(&["groups", "list", "--state"]);
    let w = "busy-group-with-a-long-name".len();
    assert_eq!(
        all,
        format!(
            "{:<w$} STATE\n{:<w$} Stable\n{:<w$} Empty\n{:<w$} Empty\n",
            "GROUP", "busy-group-with-a-long-name", "idle-a", "idle-b"
        )
    );
    // With names: only those states, in any case, comma-separated or repeated.
    let empty = text(&["groups", "list", "--state", "EMPTY"]);
    assert_eq!(
        empty
            .lines()
            .skip(1)
            .map(|l| l.split_whitespace().next().unwrap_or(""))
            .collect::<Vec<_>>(),
        ["idle-a", "idle-b"],
        "{empty}"
    );
    let both = text(&["groups", "list", "--state", "stable,Empty"]);
    assert_eq!(both.lines().count(), 4, "{both}");
    let stable = text(&[
        "groups",
        "list",
        "--state",
        "preparingrebalance",
        "--state",
        "Stable",
    ]);
    assert_eq!(stable.lines().count(), 2, "{stable}");
    assert!(
        stable
            .lines()
            .nth(1)
            .is_some_and(|l| l.starts_with("busy-group")),
        "{stable}"
    );
    let bad = b.run(&["groups", "list", "--state", "running"], None);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("PreparingRebalance"));

    // --all-groups deletes the empty ones and names the one it could not.
    let out = b.run(&["groups", "delete", "--all-groups"], None);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Deletion of requested consumer groups ('idle-a', 'idle-b') was successful.\n"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("error: ")
            && err.contains("'busy-group-with-a-long-name'")
            && err.contains("active members"),
        "{err}"
    );
    assert_eq!(text(&["groups", "list"]), "busy-group-with-a-long-name\n");
    // --group and --all-groups together, or neither: usage errors.
    for args in [
        &["groups", "delete", "--all-groups", "--group", "x"][..],
        &["groups", "delete"],
    ] {
        assert_eq!(b.run(args, None).status.code(), Some(2), "{args:?}");
    }

    m.interrupt();
    let out = text(&["groups", "delete", "--all-groups"]);
    assert_eq!(
        out,
        "Deletion of requested consumer groups ('busy-group-with-a-long-name') was successful.\n"
    );
    assert_eq!(
        text(&["groups", "list", "--state"]),
        format!("{:<15} STATE\n", "GROUP")
    );
}

#[test]
fn describe_shows_members_and_state_in_kafkas_layout() {
    let b = broker();
    b.create_topic("desc", 2);
    let m = Member::start(&b, "desc", "dg", &[]);
    wait_for_split(&b, "dg", &[2], Duration::from_secs(30));
    let text = |args: &[&str]| String::from_utf8(b.ok(args, None)).expect("utf8");
    let members = text(&["groups", "describe", "--group", "dg", "--members"]);
    let lines: Vec<&str> = members.lines().collect();
    assert_eq!(lines[0], "");
    assert!(
        lines[1].starts_with("GROUP           CONSUMER-ID"),
        "{members}"
    );
    assert!(
        lines[2].starts_with("dg ") && lines[2].contains(" 2 "),
        "{members}"
    );
    let state = text(&["groups", "describe", "--group", "dg", "--state"]);
    assert!(state.contains("COORDINATOR (ID)"), "{state}");
    assert!(
        state.lines().any(|l| l.starts_with("dg ")
            && l.contains(" range ")
            && l.contains(" Stable ")
            && l.ends_with(" 1")),
        "{state}"
    );
    let offsets = text(&["groups", "describe", "--group", "dg"]);
    assert!(offsets.contains("strom-consumer-"), "{offsets}");
    let list = text(&["groups", "list"]);
    assert_eq!(list, "dg\n");
    m.interrupt();
    let out = b.run(&["groups", "describe", "--group", "dg"], None);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Consumer group 'dg' has no active members.")
    );
}

/// Rebalance time after SIGKILL: from the kill until the survivor owns
/// every partition (as `groups describe` shows it), over several runs.
/// `cargo test --release --test groups -- --ignored --nocapture`;
/// STROM_BENCH_RUNS and STROM_BENCH_SESSION_MS override the defaults.
#[test]
#[ignore]
fn bench_rebalance_after_kill() {
    let runs: usize = std::env::var("STROM_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let session: u64 = std::env::var("STROM_BENCH_SESSION_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(SESSION_MS);
    let b = broker();
    b.create_topic("bench", 4);
    let prop = format!("session.timeout.ms={session}");
    let extra = ["--consumer-property", prop.as_str()];
    let mut times = Vec::new();
    for run in 0..runs {
        let group = format!("bench-{run}");
        let keep = Member::start(&b, "bench", &group, &extra);
        let victim = Member::start(&b, "bench", &group, &extra);
        wait_for_split(&b, &group, &[2, 2], Duration::from_secs(60));
        let t0 = Instant::now();
        victim.kill();
        let deadline = t0 + Duration::from_secs(60);
        loop {
            let (state, counts) = membership(&b, &group);
            if state == "Stable" && counts == [4] {
                break;
            }
            assert!(Instant::now() < deadline, "no takeover in run {run}");
            thread::sleep(Duration::from_millis(10));
        }
        let took = t0.elapsed();
        eprintln!("run {run}: {} ms", took.as_millis());
        times.push(took);
        keep.interrupt();
    }
    times.sort();
    let median = times[times.len() / 2];
    let max = times[times.len() - 1];
    eprintln!(
        "rebalance after SIGKILL, session.timeout.ms={session}, {runs} runs: median {} ms, max {} ms",
        median.as_millis(),
        max.as_millis()
    );
}
