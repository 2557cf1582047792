//! `strom top`: a live terminal view of one broker's or a cluster's
//! metrics (ratatui on crossterm). It reads the `/metrics` endpoints the
//! brokers serve with `strom serve --metrics`, once per interval, on a
//! background thread so the screen stays responsive to keys.
mod model;
mod scrape;
mod ui;

use std::io::IsTerminal;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};

use crate::cli::top_args::TopArgs;
use model::Model;
use scrape::Sample;
use ui::View;

type Round = Vec<(String, Result<Vec<Sample>, String>)>;

pub fn run(args: TopArgs) -> anyhow::Result<()> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        anyhow::bail!(
            "strom top needs a terminal (stdin and stdout must be a TTY); \
             without one, read the metrics directly: curl http://{}/metrics",
            args.metrics
                .first()
                .map(String::as_str)
                .unwrap_or("127.0.0.1:9644")
        );
    }
    let interval = Duration::from_millis(args.interval);
    let rounds = start_scraper(args.metrics.clone(), interval);
    let mut terminal = ratatui::init();
    let result = event_loop(&mut terminal, &rounds, &args.metrics);
    ratatui::restore();
    result
}

/// Scrapes every endpoint each interval (in parallel) and sends the round.
fn start_scraper(endpoints: Vec<String>, interval: Duration) -> mpsc::Receiver<(Round, Instant)> {
    let (tx, rx) = mpsc::sync_channel(1);
    std::thread::spawn(move || loop {
        let started = Instant::now();
        let round: Round = std::thread::scope(|s| {
            let handles: Vec<_> = endpoints
                .iter()
                .map(|e| s.spawn(move || (e.clone(), scrape::scrape(e))))
                .collect();
            handles
                .into_iter()
                .zip(&endpoints)
                .map(|(h, e)| {
                    h.join()
                        .unwrap_or_else(|_| (e.clone(), Err("scrape failed".into())))
                })
                .collect()
        });
        if tx.send((round, started)).is_err() {
            return;
        }
        std::thread::sleep(interval.saturating_sub(started.elapsed()));
    });
    rx
}

fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    rounds: &mpsc::Receiver<(Round, Instant)>,
    endpoints: &[String],
) -> anyhow::Result<()> {
    let mut model = Model::default();
    let mut view = View::new(endpoints.join(","));
    loop {
        while let Ok((round, at)) = rounds.try_recv() {
            if !view.paused {
                model.update(round, at);
                view.refreshed = true;
            }
        }
        terminal.draw(|f| ui::draw(f, &model, &mut view))?;
        if !event::poll(Duration::from_millis(100))? {
            continue;
        }
        let Event::Key(key) = event::read()? else {
            continue;
        };
        if key.kind != KeyEventKind::Press {
            continue;
        }
        if view.editing_filter {
            match key.code {
                KeyCode::Enter => view.editing_filter = false,
                KeyCode::Esc => {
                    view.editing_filter = false;
                    view.filter.clear();
                }
                KeyCode::Backspace => {
                    view.filter.pop();
                }
                KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                    view.filter.push(c)
                }
                _ => {}
            }
            continue;
        }
        match key.code {
            KeyCode::Char('q') => return Ok(()),
            KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => return Ok(()),
            KeyCode::Tab => view.focus = view.focus.next(),
            KeyCode::BackTab => view.focus = view.focus.prev(),
            KeyCode::Char('s') => view.next_sort(),
            KeyCode::Char('r') => view.reverse = !view.reverse,
            KeyCode::Char('/') => view.editing_filter = true,
            KeyCode::Esc => view.filter.clear(),
            KeyCode::Char('p') => view.paused = !view.paused,
            KeyCode::Down | KeyCode::Char('j') => view.select(1),
            KeyCode::Up | KeyCode::Char('k') => view.select(-1),
            _ => {}
        }
    }
}
