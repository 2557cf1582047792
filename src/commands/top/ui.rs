//! Drawing `strom top` (ratatui): brokers, topics with rate sparklines,
//! the selected topic's rate chart, partitions and groups.
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Sparkline, Table, TableState};
use ratatui::Frame;

use super::model::{Model, PartitionRow, TopicRow};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Topics,
    Partitions,
    Groups,
}

impl Focus {
    pub fn next(self) -> Focus {
        match self {
            Focus::Topics => Focus::Partitions,
            Focus::Partitions => Focus::Groups,
            Focus::Groups => Focus::Topics,
        }
    }
    pub fn prev(self) -> Focus {
        self.next().next()
    }
    fn sorts(self) -> &'static [&'static str] {
        match self {
            Focus::Topics => &["name", "in rec/s", "in B/s", "out rec/s", "size"],
            Focus::Partitions => &["topic", "lag", "size", "end offset"],
            Focus::Groups => &["group", "lag"],
        }
    }
    fn index(self) -> usize {
        self as usize
    }
}

/// What the user chose: focus, sort, filter, selection.
pub struct View {
    pub focus: Focus,
    sort: [usize; 3],
    pub reverse: bool,
    pub filter: String,
    pub editing_filter: bool,
    pub paused: bool,
    pub refreshed: bool,
    endpoints: String,
    tables: [TableState; 3],
    /// Rows in each table at the last draw, to bound the selection.
    rows: [usize; 3],
}

impl View {
    pub fn new(endpoints: String) -> View {
        View {
            focus: Focus::Topics,
            sort: [0; 3],
            reverse: false,
            filter: String::new(),
            editing_filter: false,
            paused: false,
            refreshed: false,
            endpoints,
            tables: Default::default(),
            rows: [0; 3],
        }
    }

    pub fn next_sort(&mut self) {
        let i = self.focus.index();
        self.sort[i] = (self.sort[i] + 1) % self.focus.sorts().len();
    }

    pub fn select(&mut self, delta: i64) {
        let i = self.focus.index();
        let n = self.rows[i];
        if n == 0 {
            return;
        }
        let at = self.tables[i].selected().map(|s| s as i64).unwrap_or(-1);
        self.tables[i].select(Some((at + delta).clamp(0, n as i64 - 1) as usize));
    }

    fn matches(&self, name: &str) -> bool {
        self.filter.is_empty() || name.contains(&self.filter)
    }
}

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// The last `width` points as a one-line sparkline.
fn inline_sparkline(points: &std::collections::VecDeque<u64>, width: usize) -> String {
    let tail: Vec<u64> = points.iter().rev().take(width).rev().copied().collect();
    let max = tail.iter().copied().max().unwrap_or(0).max(1);
    tail.iter()
        .map(|v| BARS[((*v as f64 / max as f64) * 7.0).round() as usize])
        .collect()
}

/// 1234567 → "1.2M".
fn human(v: f64) -> String {
    let (v, unit) = if v >= 1e9 {
        (v / 1e9, "G")
    } else if v >= 1e6 {
        (v / 1e6, "M")
    } else if v >= 1e3 {
        (v / 1e3, "k")
    } else {
        return format!("{v:.0}");
    };
    format!("{v:.1}{unit}")
}

fn block(title: &str, focused: bool) -> Block<'_> {
    let style = if focused {
        Style::default()
            .fg(Color::Cyan)
            .add_modifier(Modifier::BOLD)
    } else {
        Style::default()
    };
    Block::default()
        .borders(Borders::ALL)
        .border_style(style)
        .title(title)
}

fn header_row(cells: &[&'static str]) -> Row<'static> {
    Row::new(cells.to_vec())
        .style(Style::default().add_modifier(Modifier::BOLD | Modifier::UNDERLINED))
}

fn ordered<T>(
    mut rows: Vec<T>,
    reverse: bool,
    key: impl Fn(&T, &T) -> std::cmp::Ordering,
) -> Vec<T> {
    rows.sort_by(|a, b| key(a, b));
    if reverse {
        rows.reverse();
    }
    rows
}

pub fn draw(f: &mut Frame, model: &Model, view: &mut View) {
    let area = f.area();
    let brokers_height = (model.brokers.len() as u16 + 3).min(10);
    let chunks = Layout::default()
        .direction(Direction::Vertical)
        .constraints([
            Constraint::Length(1),
            Constraint::Length(brokers_height),
            Constraint::Min(6),
            Constraint::Length(6),
            Constraint::Min(6),
        ])
        .split(area);
    draw_header(f, chunks[0], view);
    draw_brokers(f, chunks[1], model);
    let topics = draw_topics(f, chunks[2], model, view);
    draw_chart(f, chunks[3], &topics, view);
    let bottom = Layout::default()
        .direction(Direction::Horizontal)
        .constraints([Constraint::Percentage(60), Constraint::Percentage(40)])
        .split(chunks[4]);
    draw_partitions(f, bottom[0], model, view);
    draw_groups(f, bottom[1], model, view);
}

fn draw_header(f: &mut Frame, area: Rect, view: &View) {
    let sort = view.focus.sorts()[view.sort[view.focus.index()]];
    let mut spans = vec![
        Span::styled("strom top ", Style::default().add_modifier(Modifier::BOLD)),
        Span::raw(format!(
            "{}  sort: {sort}{}  ",
            view.endpoints,
            if view.reverse { " (reversed)" } else { "" }
        )),
    ];
    if view.editing_filter || !view.filter.is_empty() {
        spans.push(Span::styled(
            format!(
                "filter: {}{}  ",
                view.filter,
                if view.editing_filter { "_" } else { "" }
            ),
            paint(Color::Yellow),
        ));
    }
    if view.paused {
        spans.push(Span::styled("PAUSED  ", paint(Color::Red)));
    }
    spans.push(Span::raw(
        "q quit  Tab focus  s sort  r reverse  / filter  p pause",
    ));
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn draw_brokers(f: &mut Frame, area: Rect, model: &Model) {
    let rows: Vec<Row> = model
        .brokers
        .iter()
        .map(|b| {
            let (health, style) = match &b.health {
                Ok(()) if b.under_replicated > 0.0 => {
                    ("under-replicated".to_string(), paint(Color::Yellow))
                }
                Ok(()) => ("ok".to_string(), paint(Color::Green)),
                Err(why) => (format!("unreachable: {why}"), paint(Color::Red)),
            };
            Row::new(vec![
                Cell::from(b.endpoint.clone()),
                Cell::from(health).style(style),
                Cell::from(if b.controller { "yes" } else { "" }),
                Cell::from(b.raft.clone().unwrap_or_default()),
                Cell::from(format!("{:.0}", b.leaders)),
                Cell::from(format!("{:.0}", b.partitions)),
                Cell::from(format!("{:.0}", b.under_replicated)),
                Cell::from(format!("{:.0}", b.connections)),
                Cell::from(human(b.requests_per_sec)),
            ])
        })
        .collect();
    let up = model.members.iter().filter(|(_, up)| *up).count();
    let title = format!(
        " Brokers ({up}/{} up in the metadata) ",
        model.members.len()
    );
    let table = Table::new(
        rows,
        [
            Constraint::Length(22),
            Constraint::Min(16),
            Constraint::Length(10),
            Constraint::Length(9),
            Constraint::Length(7),
            Constraint::Length(10),
            Constraint::Length(8),
            Constraint::Length(11),
            Constraint::Length(8),
        ],
    )
    .header(header_row(&[
        "ENDPOINT",
        "HEALTH",
        "CONTROLLER",
        "RAFT",
        "LEADS",
        "PARTITIONS",
        "UNDER-R",
        "CONNECTIONS",
        "REQ/S",
    ]))
    .block(block(&title, false));
    f.render_widget(table, area);
}

fn draw_topics(f: &mut Frame, area: Rect, model: &Model, view: &mut View) -> Vec<TopicRow> {
    let sort = view.sort[Focus::Topics.index()];
    let topics: Vec<TopicRow> = model
        .topics
        .iter()
        .filter(|t| view.matches(&t.name))
        .cloned()
        .collect();
    let topics = ordered(topics, view.reverse, |a, b| match sort {
        1 => b.rates[1].total_cmp(&a.rates[1]),
        2 => b.rates[0].total_cmp(&a.rates[0]),
        3 => b.rates[3].total_cmp(&a.rates[3]),
        4 => b.size.total_cmp(&a.size),
        _ => a.name.cmp(&b.name),
    });
    let trend_width = (area.width as usize).saturating_sub(90).clamp(8, 60);
    let rows: Vec<Row> = topics
        .iter()
        .map(|t| {
            Row::new(vec![
                Cell::from(t.name.clone()),
                Cell::from(t.partitions.to_string()),
                Cell::from(human(t.rates[1])),
                Cell::from(human(t.rates[0])),
                Cell::from(human(t.rates[3])),
                Cell::from(human(t.rates[2])),
                Cell::from(human(t.size)),
                Cell::from(inline_sparkline(&t.history_in, trend_width)).style(paint(Color::Green)),
            ])
        })
        .collect();
    view.rows[Focus::Topics.index()] = rows.len();
    let table = Table::new(
        rows,
        [
            Constraint::Min(16),
            Constraint::Length(5),
            Constraint::Length(9),
            Constraint::Length(9),
            Constraint::Length(10),
            Constraint::Length(10),
            Constraint::Length(8),
            Constraint::Length(trend_width as u16),
        ],
    )
    .header(header_row(&[
        "TOPIC",
        "PARTS",
        "IN REC/S",
        "IN B/S",
        "OUT REC/S",
        "OUT B/S",
        "SIZE",
        "RECORDS IN",
    ]))
    .row_highlight_style(Style::default().add_modifier(Modifier::REVERSED))
    .block(block(" Topics ", view.focus == Focus::Topics));
    f.render_stateful_widget(table, area, &mut view.tables[Focus::Topics.index()]);
    topics
}

/// The selected (else the busiest) topic's records in and out per second.
fn draw_chart(f: &mut Frame, area: Rect, topics: &[TopicRow], view: &View) {
    let chosen = view.tables[Focus::Topics.index()]
        .selected()
        .and_then(|i| topics.get(i))
        .or_else(|| {
            topics
                .iter()
                .max_by(|a, b| a.rates[1].total_cmp(&b.rates[1]))
        });
    let halves = Layout::default()
        .direction(Direction::Horizontal)
        .constraints([Constraint::Percentage(50), Constraint::Percentage(50)])
        .split(area);
    let Some(t) = chosen else {
        f.render_widget(
            Paragraph::new("no topics yet").block(block(" Rates ", false)),
            area,
        );
        return;
    };
    let width = halves[0].width.saturating_sub(2) as usize;
    for (i, (points, what, rate, color)) in [
        (&t.history_in, "in", t.rates[1], Color::Green),
        (&t.history_out, "out", t.rates[3], Color::Blue),
    ]
    .into_iter()
    .enumerate()
    {
        let data: Vec<u64> = points.iter().rev().take(width).rev().copied().collect();
        let title = format!(" {}: records {what} {}/s ", t.name, human(rate));
        f.render_widget(
            Sparkline::default()
                .data(&data)
                .style(paint(color))
                .block(block(&title, false)),
            halves[i],
        );
    }
}

fn draw_partitions(f: &mut Frame, area: Rect, model: &Model, view: &mut View) {
    let sort = view.sort[Focus::Partitions.index()];
    let parts: Vec<&PartitionRow> = model
        .partitions
        .iter()
        .filter(|p| view.matches(&p.topic))
        .collect();
    let parts = ordered(parts, view.reverse, |a, b| match sort {
        1 => b.lag.total_cmp(&a.lag),
        2 => b.size.total_cmp(&a.size),
        3 => b.log_end.total_cmp(&a.log_end),
        _ => (&a.topic, a.partition).cmp(&(&b.topic, b.partition)),
    });
    let opt = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_else(|| "-".into());
    let rows: Vec<Row> = parts
        .iter()
        .map(|p| {
            let isr_style = match (p.isr, p.replicas) {
                (Some(i), Some(r)) if i < r => paint(Color::Yellow),
                _ => Style::default(),
            };
            Row::new(vec![
                Cell::from(p.topic.clone()),
                Cell::from(p.partition.to_string()),
                Cell::from(opt(p.leader)),
                Cell::from(format!("{}/{}", opt(p.isr), opt(p.replicas))).style(isr_style),
                Cell::from(format!("{:.0}", p.log_start)),
                Cell::from(format!("{:.0}", p.log_end)),
                Cell::from(human(p.size)),
                Cell::from(format!("{:.0}", p.lag)),
            ])
        })
        .collect();
    view.rows[Focus::Partitions.index()] = rows.len();
    let table = Table::new(
        rows,
        [
            Constraint::Min(12),
            Constraint::Length(4),
            Constraint::Length(6),
            Constraint::Length(7),
            Constraint::Length(10),
            Constraint::Length(10),
            Constraint::Length(7),
            Constraint::Length(9),
        ],
    )
    .header(header_row(&[
        "TOPIC", "PART", "LEADER", "ISR", "START", "END", "SIZE", "LAG",
    ]))
    .row_highlight_style(Style::default().add_modifier(Modifier::REVERSED))
    .block(block(" Partitions ", view.focus == Focus::Partitions));
    f.render_stateful_widget(table, area, &mut view.tables[Focus::Partitions.index()]);
}

fn draw_groups(f: &mut Frame, area: Rect, model: &Model, view: &mut View) {
    let sort = view.sort[Focus::Groups.index()];
    let groups: Vec<_> = model
        .groups
        .iter()
        .filter(|g| view.matches(&g.group))
        .collect();
    let groups = ordered(groups, view.reverse, |a, b| match sort {
        1 => b.lag.total_cmp(&a.lag),
        _ => a.group.cmp(&b.group),
    });
    let rows: Vec<Row> = groups
        .iter()
        .map(|g| {
            Row::new(vec![
                Cell::from(g.group.clone()),
                Cell::from(g.partitions.to_string()),
                Cell::from(format!("{:.0}", g.lag)),
            ])
        })
        .collect();
    view.rows[Focus::Groups.index()] = rows.len();
    let table = Table::new(
        rows,
        [
            Constraint::Min(12),
            Constraint::Length(10),
            Constraint::Length(10),
        ],
    )
    .header(header_row(&["GROUP", "PARTITIONS", "LAG"]))
    .row_highlight_style(Style::default().add_modifier(Modifier::REVERSED))
    .block(block(" Consumer groups ", view.focus == Focus::Groups));
    f.render_stateful_widget(table, area, &mut view.tables[Focus::Groups.index()]);
}

/// A foreground colour, or none when NO_COLOR is set (bold, reverse and
/// underline still mark headers, focus and selection).
fn paint(c: Color) -> Style {
    static NO_COLOR: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let off = *NO_COLOR.get_or_init(|| std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()));
    if off {
        Style::default()
    } else {
        Style::default().fg(c)
    }
}
