//! Kafka's classic partition assignors, run by the group leader: `range`
//! and `roundrobin`. They give exactly the assignment Kafka's Java
//! `RangeAssignor` and `RoundRobinAssignor` give (without rack awareness),
//! so a group mixing our consumers with Java ones agrees on who owns what.
//!
//! Members are ordered as Java's `MemberInfo`: static members (with a
//! `group.instance.id`) first by instance id, then the others by member id;
//! strings compare by UTF-16 code units, as Java's `String.compareTo`.
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::proto::consumer_protocol::{Assignment, Subscription, TopicPartitions};

pub const RANGE: &str = "range";
pub const ROUNDROBIN: &str = "roundrobin";
/// The strategies [`assign`] knows, in our default order of preference.
pub const STRATEGIES: [&str; 2] = [RANGE, ROUNDROBIN];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AssignError {
    #[error("unknown partition assignment strategy '{0}' (known: range, roundrobin)")]
    UnknownStrategy(String),
}

/// One group member as the leader sees it in the JoinGroup response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupMember {
    pub member_id: String,
    pub group_instance_id: Option<String>,
    pub subscription: Subscription,
}

/// Assigns the partitions of the subscribed topics (topics missing from
/// `partitions_per_topic` are skipped, as Kafka does when it has no metadata
/// for them). Every member gets an entry, possibly empty; partitions are
/// grouped by topic, topics sorted by name, partitions ascending.
pub fn assign(
    strategy: &str,
    members: &[GroupMember],
    partitions_per_topic: &HashMap<String, i32>,
) -> Result<HashMap<String, Assignment>, AssignError> {
    let owned = match strategy {
        RANGE => range(members, partitions_per_topic),
        ROUNDROBIN => roundrobin(members, partitions_per_topic),
        other => return Err(AssignError::UnknownStrategy(other.to_string())),
    };
    Ok(owned
        .into_iter()
        .map(|(id, tps)| (id, to_assignment(tps)))
        .collect())
}

type Owned = HashMap<String, Vec<(String, i32)>>;

fn java_cmp(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

/// Java's `MemberInfo.compareTo`.
fn member_cmp(a: &GroupMember, b: &GroupMember) -> Ordering {
    match (&a.group_instance_id, &b.group_instance_id) {
        (Some(x), Some(y)) => java_cmp(x, y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => java_cmp(&a.member_id, &b.member_id),
    }
}

fn sorted(members: &[GroupMember]) -> Vec<&GroupMember> {
    let mut v: Vec<&GroupMember> = members.iter().collect();
    v.sort_by(|a, b| member_cmp(a, b));
    v
}

fn subscribes(m: &GroupMember, topic: &str) -> bool {
    m.subscription.topics.iter().any(|t| t == topic)
}

fn empty_owned(members: &[GroupMember]) -> Owned {
    members
        .iter()
        .map(|m| (m.member_id.clone(), Vec::new()))
        .collect()
}

/// RangeAssignor: per topic, the subscribed members in order get contiguous
/// ranges; the first `partitions % members` get one extra.
fn range(members: &[GroupMember], partitions_per_topic: &HashMap<String, i32>) -> Owned {
    let mut owned = empty_owned(members);
    let topics: BTreeSet<&str> = members
        .iter()
        .flat_map(|m| m.subscription.topics.iter().map(String::as_str))
        .collect();
    for topic in topics {
        let Some(&n) = partitions_per_topic.get(topic) else {
            continue;
        };
        let consumers: Vec<&GroupMember> = sorted(members)
            .into_iter()
            .filter(|m| subscribes(m, topic))
            .collect();
        let n = n.max(0) as usize;
        let per = n / consumers.len();
        let extra = n % consumers.len();
        for (i, m) in consumers.iter().enumerate() {
            let start = per * i + i.min(extra);
            let len = per + usize::from(i < extra);
            if let Some(list) = owned.get_mut(&m.member_id) {
                list.extend((start..start + len).map(|p| (topic.to_string(), p as i32)));
            }
        }
    }
    owned
}

/// RoundRobinAssignor: all partitions of all subscribed topics, sorted by
/// topic then partition, dealt in turn to the sorted members, skipping
/// members not subscribed to the partition's topic.
fn roundrobin(members: &[GroupMember], partitions_per_topic: &HashMap<String, i32>) -> Owned {
    let mut owned = empty_owned(members);
    let order = sorted(members);
    if order.is_empty() {
        return owned;
    }
    let mut topics: Vec<&str> = members
        .iter()
        .flat_map(|m| m.subscription.topics.iter().map(String::as_str))
        .collect();
    topics.sort_by(|a, b| java_cmp(a, b));
    topics.dedup();
    let mut next = 0usize;
    for topic in topics {
        let Some(&n) = partitions_per_topic.get(topic) else {
            continue;
        };
        for p in 0..n.max(0) {
            // Someone subscribes to every listed topic, so this ends within
            // one lap.
            let Some(offset) =
                (0..order.len()).find(|k| subscribes(order[(next + k) % order.len()], topic))
            else {
                break;
            };
            let m = order[(next + offset) % order.len()];
            next = (next + offset + 1) % order.len();
            if let Some(list) = owned.get_mut(&m.member_id) {
                list.push((topic.to_string(), p));
            }
        }
    }
    owned
}

fn to_assignment(tps: Vec<(String, i32)>) -> Assignment {
    let mut by_topic: BTreeMap<String, Vec<i32>> = BTreeMap::new();
    for (t, p) in tps {
        by_topic.entry(t).or_default().push(p);
    }
    Assignment {
        partitions: by_topic
            .into_iter()
            .map(|(topic, mut partitions)| {
                partitions.sort_unstable();
                TopicPartitions { topic, partitions }
            })
            .collect(),
        user_data: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: &str, topics: &[&str]) -> GroupMember {
        GroupMember {
            member_id: id.to_string(),
            group_instance_id: None,
            subscription: Subscription::new(topics.iter().map(|t| t.to_string()).collect()),
        }
    }

    fn counts(pairs: &[(&str, i32)]) -> HashMap<String, i32> {
        pairs.iter().map(|(t, n)| (t.to_string(), *n)).collect()
    }

    /// A member's assignment as "t0p1"-style names, in assignment order.
    fn names(result: &HashMap<String, Assignment>, id: &str) -> Vec<String> {
        result[id]
            .partitions
            .iter()
            .flat_map(|tp| {
                tp.partitions
                    .iter()
                    .map(move |p| format!("{}p{p}", tp.topic))
            })
            .collect()
    }

    #[test]
    fn range_kafka_doc_example() {
        // RangeAssignor javadoc: C0 and C1, t0 and t1 with 3 partitions each.
        let members = [member("C0", &["t0", "t1"]), member("C1", &["t0", "t1"])];
        let r = assign(RANGE, &members, &counts(&[("t0", 3), ("t1", 3)])).unwrap();
        assert_eq!(names(&r, "C0"), ["t0p0", "t0p1", "t1p0", "t1p1"]);
        assert_eq!(names(&r, "C1"), ["t0p2", "t1p2"]);
    }

    #[test]
    fn roundrobin_kafka_doc_example() {
        // RoundRobinAssignor javadoc, first example.
        let members = [member("C0", &["t0", "t1"]), member("C1", &["t0", "t1"])];
        let r = assign(ROUNDROBIN, &members, &counts(&[("t0", 3), ("t1", 3)])).unwrap();
        assert_eq!(names(&r, "C0"), ["t0p0", "t0p2", "t1p1"]);
        assert_eq!(names(&r, "C1"), ["t0p1", "t1p0", "t1p2"]);
    }

    #[test]
    fn roundrobin_kafka_doc_uneven_subscriptions() {
        // RoundRobinAssignor javadoc: C0 [t0], C1 [t0, t1], C2 [t0, t1, t2];
        // t0, t1, t2 have 1, 2 and 3 partitions.
        let members = [
            member("C2", &["t0", "t1", "t2"]),
            member("C0", &["t0"]),
            member("C1", &["t0", "t1"]),
        ];
        let r = assign(
            ROUNDROBIN,
            &members,
            &counts(&[("t0", 1), ("t1", 2), ("t2", 3)]),
        )
        .unwrap();
        assert_eq!(names(&r, "C0"), ["t0p0"]);
        assert_eq!(names(&r, "C1"), ["t1p0"]);
        assert_eq!(names(&r, "C2"), ["t1p1", "t2p0", "t2p1", "t2p2"]);
    }

    #[test]
    fn range_gives_extras_to_the_first_members_and_skips_unknown_topics() {
        let members = [
            member("b", &["t", "ghost"]),
            member("a", &["t"]),
            member("c", &["t"]),
        ];
        let r = assign(RANGE, &members, &counts(&[("t", 7)])).unwrap();
        assert_eq!(names(&r, "a"), ["tp0", "tp1", "tp2"]);
        assert_eq!(names(&r, "b"), ["tp3", "tp4"]);
        assert_eq!(names(&r, "c"), ["tp5", "tp6"]);
        // More members than partitions: the last ones get nothing.
        let r = assign(RANGE, &members, &counts(&[("t", 2)])).unwrap();
        assert_eq!(names(&r, "a"), ["tp0"]);
        assert_eq!(names(&r, "b"), ["tp1"]);
        assert!(names(&r, "c").is_empty());
    }

    #[test]
    fn static_members_sort_first_by_instance_id() {
        let mut z = member("z", &["t"]);
        z.group_instance_id = Some("i1".into());
        let mut y = member("y", &["t"]);
        y.group_instance_id = Some("i0".into());
        let members = [member("a", &["t"]), z, y];
        let r = assign(RANGE, &members, &counts(&[("t", 3)])).unwrap();
        assert_eq!(names(&r, "y"), ["tp0"]);
        assert_eq!(names(&r, "z"), ["tp1"]);
        assert_eq!(names(&r, "a"), ["tp2"]);
    }

    #[test]
    fn every_partition_goes_to_exactly_one_member() {
        let members = [
            member("m1", &["a", "b"]),
            member("m2", &["b", "c"]),
            member("m3", &["a", "c"]),
        ];
        let topics = counts(&[("a", 5), ("b", 4), ("c", 3)]);
        for strategy in STRATEGIES {
            let r = assign(strategy, &members, &topics).unwrap();
            let mut all: Vec<String> = r.keys().flat_map(|id| names(&r, id)).collect();
            all.sort();
            assert_eq!(all.len(), 12, "{strategy}");
            all.dedup();
            assert_eq!(all.len(), 12, "{strategy}");
        }
    }

    #[test]
    fn unknown_strategy_and_empty_group() {
        assert_eq!(
            assign("sticky", &[], &HashMap::new()),
            Err(AssignError::UnknownStrategy("sticky".into()))
        );
        assert!(assign(ROUNDROBIN, &[], &counts(&[("t", 3)]))
            .unwrap()
            .is_empty());
    }
}
