//! The web console in a real browser (issue 19): Debian's Chromium,
//! headless, driven by playwright-core (tests/console/browser.mjs) against
//! a real broker with `--ui`. `scripts/test.sh` installs chromium, node and
//! the npm package; without them the test says why and passes.
mod common;

use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{free_port, run_with_timeout, strom_bin, Broker};

#[test]
fn the_console_shows_topics_records_and_a_falling_lag_in_chromium() {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let script_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/console");
    let missing = [
        (Path::new(&chromium).exists(), "chromium"),
        (
            script_dir.join("node_modules/playwright-core").exists(),
            "tests/console/node_modules (npm ci)",
        ),
        (
            Command::new("node").arg("--version").output().is_ok(),
            "node",
        ),
        (Command::new("kcat").arg("-V").output().is_ok(), "kcat"),
    ];
    if let Some((_, what)) = missing.iter().find(|(ok, _)| !ok) {
        eprintln!("skipping: {what} is not installed (scripts/test.sh installs it)");
        return;
    }
    let ui = format!("127.0.0.1:{}", free_port());
    let b = Broker::start_with(&["--ui", &ui]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(&ui).is_err() {
        assert!(Instant::now() < deadline, "the console never listened");
        std::thread::sleep(Duration::from_millis(50));
    }
    let shots = std::env::var("STROM_SCREENSHOTS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| {
            std::env::temp_dir().join(format!("strom-console-{}", std::process::id()))
        });
    let mut node = Command::new("node");
    node.current_dir(&script_dir)
        .arg("browser.mjs")
        .arg(format!("http://{ui}/"))
        .arg(&b.addr)
        .arg(strom_bin())
        .arg(&shots)
        .env("CHROMIUM", &chromium);
    let out = run_with_timeout(node, None, Duration::from_secs(120));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    eprintln!("screenshots: {}", shots.display());
    assert!(
        out.status.success(),
        "the browser test failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("lag fell from"), "{stdout}");
    for shot in [
        "1-topics",
        "2-message",
        "3-lag-before",
        "4-lag-after",
        "5-rates",
    ] {
        assert!(
            shots.join(format!("{shot}.png")).exists(),
            "no screenshot {shot}"
        );
    }
}
