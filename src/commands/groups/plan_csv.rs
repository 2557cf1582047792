//! kafka-consumer-groups' reset-plan CSV: `reset-offsets --export` writes
//! it, `--from-file` reads it back. One partition a line: `topic,partition,
//! offset` (what Kafka writes for one group) or `group,topic,partition,
//! offset` (its form for several groups), of which only the lines of the
//! group being reset are taken. Topic names cannot hold a comma, so there
//! is no quoting.
use std::collections::HashMap;
use std::io::Write;

use crate::cli::args::topic_name;

/// One partition of a plan read from a file; `line` is 1-based, for errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanLine {
    pub line: usize,
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
}

/// Writes `topic,partition,offset` lines.
pub fn write<'a>(
    out: &mut impl Write,
    rows: impl IntoIterator<Item = (&'a str, i32, i64)>,
) -> std::io::Result<()> {
    for (topic, partition, offset) in rows {
        writeln!(out, "{topic},{partition},{offset}")?;
    }
    Ok(())
}

/// Parses a plan for `group`. Blank lines are skipped; any other line
/// that is not a valid plan line is an error naming its number.
pub fn parse(text: &str, group: &str) -> Result<Vec<PlanLine>, String> {
    let mut plan = Vec::new();
    let mut seen: HashMap<(String, i32), usize> = HashMap::new();
    let mut other_groups = 0;
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let (topic, partition, offset) = match fields[..] {
            [t, p, o] => (t, p, o),
            [g, t, p, o] => {
                if g != group {
                    other_groups += 1;
                    continue;
                }
                (t, p, o)
            }
            _ => {
                return Err(format!(
                    "line {n}: expected topic,partition,offset, got {line:?}"
                ))
            }
        };
        let topic = topic_name(topic).map_err(|e| format!("line {n}: topic {topic:?}: {e}"))?;
        let partition = match partition.parse::<i32>() {
            Ok(p) if p >= 0 => p,
            _ => {
                return Err(format!(
                    "line {n}: the partition must be a number 0 or more, got {partition:?}"
                ))
            }
        };
        let offset = match offset.parse::<i64>() {
            Ok(o) if o >= 0 => o,
            _ => {
                return Err(format!(
                    "line {n}: the offset must be a number 0 or more, got {offset:?}"
                ))
            }
        };
        if let Some(first) = seen.insert((topic.clone(), partition), n) {
            return Err(format!(
                "line {n}: partition {topic}-{partition} is already given on line {first}"
            ));
        }
        plan.push(PlanLine {
            line: n,
            topic,
            partition,
            offset,
        });
    }
    if plan.is_empty() {
        return Err(if other_groups > 0 {
            format!("no line for group '{group}' (only for other groups)")
        } else {
            "no plan lines (expected topic,partition,offset)".to_string()
        });
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(line: usize, topic: &str, partition: i32, offset: i64) -> PlanLine {
        PlanLine {
            line,
            topic: topic.into(),
            partition,
            offset,
        }
    }

    #[test]
    fn export_reads_back() {
        let mut out = Vec::new();
        write(&mut out, [("orders", 0, 5), ("orders", 1, 0)]).expect("write");
        let text = String::from_utf8(out).expect("utf8");
        assert_eq!(text, "orders,0,5\norders,1,0\n");
        assert_eq!(
            parse(&text, "g"),
            Ok(vec![line(1, "orders", 0, 5), line(2, "orders", 1, 0)])
        );
    }

    #[test]
    fn group_lines_blank_lines_and_crlf() {
        let text = "g,a,0,1\r\n\r\nother,a,1,9\nb,2,3\n";
        assert_eq!(
            parse(text, "g"),
            Ok(vec![line(1, "a", 0, 1), line(4, "b", 2, 3)])
        );
        assert!(parse("other,a,1,9\n", "g")
            .unwrap_err()
            .contains("no line for group 'g'"));
        assert!(parse("\n", "g").unwrap_err().contains("no plan lines"));
    }

    #[test]
    fn every_bad_line_names_its_number() {
        for (text, want) in [
            ("a,0,1\na,1\n", "line 2: expected topic,partition,offset"),
            ("a,0,1\n\nx/y,0,1\n", "line 3: topic \"x/y\""),
            ("a,-1,1\n", "line 1: the partition must be"),
            ("a,0,1\na,1,ten\n", "line 2: the offset must be"),
            ("a,0,-5\n", "line 1: the offset must be"),
            (
                "a,0,1\na,0,2\n",
                "line 2: partition a-0 is already given on line 1",
            ),
        ] {
            let err = parse(text, "g").unwrap_err();
            assert!(err.starts_with(want), "{text:?}: {err}");
        }
    }
}
