//! The progress bars on a real terminal: `roadmap sync pull` runs inside tmux (a terminal
//! emulator we did not write), and the screen is read back many times while it runs. Every
//! frame must show each running phase on exactly one well-formed line (the bug this guards:
//! a new phase's bar orphaned the previous line, "milestones ⠁ 0 items" stuck under the
//! issues bar), and once the pull ends no bar is left on the screen, only the report.
//!
//! tmux is not on every machine: without it the test says so and passes, unless
//! `ROADMAP_REQUIRE_TMUX` is set. `.ci/run` installs tmux.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use roadmap::Phase;
use roadmap::simulator::{Latency, RepoSpec, SimConfig};

use crate::ok;

/// Every phase a pull or push reports, by the name its bar shows.
const PHASES: [Phase; 6] = [
    Phase::Milestones,
    Phase::Labels,
    Phase::Issues,
    Phase::Comments,
    Phase::Lost,
    Phase::Push,
];

/// One tmux server on a private socket, killed on drop.
struct Tmux {
    socket: std::path::PathBuf,
}

impl Tmux {
    fn cmd(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(["-f", "/dev/null"])
            .args(args)
            .output()
            .expect("run tmux")
    }

    fn screen(&self) -> String {
        let out = self.cmd(&["capture-pane", "-p", "-t", "t"]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd(&["kill-server"]);
    }
}

/// A progress line as `Progress` draws it: `{prefix:>11} [{bar:30}] {pos}/{len} ETA {eta}`
/// or `{prefix:>11} {spinner} {pos} items`. Returns its phase, or why it is not one.
fn progress_line(line: &str) -> Result<&'static str, String> {
    let bad = || Err(format!("a garbled progress line: {line:?}"));
    let text = line.trim_start();
    let Some(phase) = PHASES
        .iter()
        .map(|p| p.as_str())
        .find(|p| text.starts_with(p) && text[p.len()..].starts_with(' '))
    else {
        return bad();
    };
    if line.len() - text.len() + phase.len() != 11 {
        return bad(); // the prefix is right-aligned in 11 columns
    }
    let rest = &text[phase.len() + 1..];
    let count = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit() || c == ',');
    if let Some(bar) = rest.strip_prefix('[') {
        let Some((fill, tail)) = bar.split_once("] ") else {
            return bad();
        };
        let words: Vec<&str> = tail.split(' ').collect();
        let ok_bar = fill.chars().count() == 30 && fill.chars().all(|c| "=> ".contains(c));
        let ok_tail = matches!(words.as_slice(), [pos_len, "ETA", _eta]
            if pos_len.split_once('/').is_some_and(|(p, l)| count(p) && count(l)));
        return if ok_bar && ok_tail { Ok(phase) } else { bad() };
    }
    let words: Vec<&str> = rest.split(' ').collect();
    match words.as_slice() {
        [spinner, n, "items"] if spinner.chars().count() == 1 && count(n) => Ok(phase),
        _ => bad(),
    }
}

fn looks_like_progress(line: &str) -> bool {
    line.contains(" items") || line.contains(" ETA ") || line.contains("] ")
}

fn tmux_available() -> bool {
    Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn progress_bars_on_a_real_terminal_never_overlap_and_leave_only_the_report() {
    if !tmux_available() {
        assert!(
            std::env::var_os("ROADMAP_REQUIRE_TMUX").is_none(),
            "ROADMAP_REQUIRE_TMUX is set but tmux is not installed"
        );
        eprintln!("skipped: tmux is not installed (set ROADMAP_REQUIRE_TMUX to make this fail)");
        return;
    }
    // Slow answers keep several phases on screen at once for a while.
    let latency = Latency {
        base: Duration::from_millis(400),
        ..Latency::default()
    };
    let (rt, sim) = crate::simulator(
        SimConfig::default()
            .repo(RepoSpec::sample("octo", "demo", 1500))
            .latency(latency),
    );
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("project");
    std::fs::create_dir(&p).unwrap();
    ok(&p, &["init", "--repo", "octo/demo"]);
    let script = dir.path().join("run.sh");
    std::fs::write(
        &script,
        format!(
            "cd '{}'\nunset GITHUB_TOKEN GH_TOKEN\nexport ROADMAP_CONFIG=/nonexistent/user.toml\n\
             '{}' sync pull --api-url '{}'\necho \"exit=$?\"\nsleep 120\n",
            p.display(),
            env!("CARGO_BIN_EXE_roadmap"),
            sim.url()
        ),
    )
    .unwrap();
    let tmux = Tmux {
        socket: dir.path().join("tmux.sock"),
    };
    let started = tmux.cmd(&[
        "new-session",
        "-d",
        "-x",
        "100",
        "-y",
        "40",
        "-s",
        "t",
        &format!("sh '{}'", script.display()),
    ]);
    assert!(
        started.status.success(),
        "tmux: {}",
        String::from_utf8_lossy(&started.stderr)
    );

    let deadline = Instant::now() + Duration::from_secs(120);
    let (mut frames, mut with_bars, mut most_at_once) = (0, 0, 0);
    let last = loop {
        let screen = tmux.screen();
        frames += 1;
        let mut shown: Vec<&str> = Vec::new();
        for line in screen.lines().filter(|l| looks_like_progress(l)) {
            let phase = progress_line(line.trim_end())
                .unwrap_or_else(|e| panic!("{e}\nframe {frames}:\n{screen}"));
            assert!(
                !shown.contains(&phase),
                "{phase} is drawn twice in frame {frames}:\n{screen}"
            );
            shown.push(phase);
        }
        if !shown.is_empty() {
            with_bars += 1;
        }
        most_at_once = most_at_once.max(shown.len());
        if screen.contains("exit=") {
            break screen;
        }
        assert!(Instant::now() < deadline, "the pull did not end:\n{screen}");
        std::thread::sleep(Duration::from_millis(20));
    };
    eprintln!("{frames} frames, {with_bars} with bars, at most {most_at_once} bars at once");
    assert!(last.contains("exit=0"), "{last}");
    assert!(last.contains("Pull (full): "), "the report follows: {last}");
    assert!(
        !last.lines().any(looks_like_progress),
        "no bar is left once the pull ends:\n{last}"
    );
    assert!(with_bars >= 3, "bars were on screen: {with_bars} frames");
    assert!(
        most_at_once >= 2,
        "phases ran at once, each on its own line (at most {most_at_once} seen)"
    );
    let files = std::fs::read_dir(p.join(".roadmap/issues"))
        .unwrap()
        .count();
    assert_eq!(files, 1500);
    drop(sim);
    drop(rt);
}
