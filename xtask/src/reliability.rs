//! `cargo xtask reliability [--quick]`: crash consistency (SIGKILL at many points), faults,
//! rate limits, concurrency, hostile remote and local data, secrets and index durability, each
//! run against the simulator with real `roadmap` processes; writes `docs/reliability.md`
//! (`target/reliability-quick.md` for `--quick`) and fails if any trial failed.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use roadmap_model::{Comment, Issue, ItemId, Status};
use roadmap_sim::{FaultKind, Faults, LabelRec, Latency, Limits, Simulator};
use roadmap_store::Store;
use roadmap_sync::Mapping;

use crate::bench::{Sim, start_sim_with};

const TOKEN: &str = "ghp_RELIABILITY_PLANTED_0123456789abcdef";

#[derive(Default)]
struct Row {
    scenario: String,
    trials: u64,
    passed: u64,
    lost: u64,
    duplicated: u64,
    escaped: u64,
    notes: String,
    failures: Vec<String>,
}

impl Row {
    fn new(scenario: &str) -> Row {
        Row {
            scenario: scenario.into(),
            ..Row::default()
        }
    }
    fn trial(&mut self, ok: bool, what: impl Into<String>) {
        self.trials += 1;
        if ok {
            self.passed += 1;
        } else {
            let w = what.into();
            eprintln!("  FAILED: {w}");
            self.failures.push(w);
        }
    }
}

struct Ctx {
    bin: PathBuf,
    quick: bool,
}

impl Ctx {
    fn cmd(&self, dir: &Path, args: &[&str]) -> Command {
        let mut c = Command::new(&self.bin);
        c.args(args)
            .current_dir(dir)
            .env("GITHUB_TOKEN", TOKEN)
            .env("ROADMAP_CONFIG", dir.join("none.toml"))
            .env("ROADMAP_LOG", "error")
            .stdin(Stdio::null());
        c
    }
    fn out(&self, dir: &Path, args: &[&str]) -> Result<Output> {
        Ok(self.cmd(dir, args).output()?)
    }
    fn ok(&self, dir: &Path, args: &[&str]) -> Result<Output> {
        let o = self.out(dir, args)?;
        if !o.status.success() {
            bail!(
                "roadmap {args:?} failed ({}): {}",
                o.status,
                String::from_utf8_lossy(&o.stderr)
            );
        }
        Ok(o)
    }
    /// A fresh project synced with `sim`.
    fn project(&self, sim: &Simulator, spacing_ms: u64) -> Result<(tempfile::TempDir, PathBuf)> {
        let d = tempfile::tempdir()?;
        let p = d.path().join("project");
        std::fs::create_dir_all(&p)?;
        self.ok(&p, &["init", "--repo", "octo/demo"])?;
        // The user names the host (their own config), so the token may go there.
        self.ok(&p, &["config", "set", "--user", "api_url", &sim.url()])?;
        self.ok(
            &p,
            &["config", "set", "write_spacing_ms", &spacing_ms.to_string()],
        )?;
        Ok((d, p))
    }
    /// Runs `roadmap args` until it succeeds (at most `tries` times); returns the last output.
    fn until_ok(&self, dir: &Path, args: &[&str], tries: usize) -> Result<Output> {
        let mut last = None;
        for _ in 0..tries {
            let o = self.out(dir, args)?;
            if o.status.success() {
                return Ok(o);
            }
            last = Some(o);
        }
        let o = last.context("no run")?;
        bail!(
            "roadmap {args:?} did not complete in {tries} runs: {}",
            String::from_utf8_lossy(&o.stderr)
        )
    }
}

fn sim_with(
    issues: u64,
    milestones: u64,
    comments: u64,
    latency: Latency,
    limits: Limits,
) -> Result<Sim> {
    let s = start_sim_with(
        issues,
        milestones,
        comments,
        limits,
        roadmap_sim::Wire::github(),
    )?;
    s.sim.set_latency(latency);
    Ok(s)
}

fn fast() -> Latency {
    Latency {
        base: Duration::from_millis(3),
        per_item: Duration::from_micros(30),
        jitter: Duration::ZERO,
    }
}

/// When to kill a run.
#[derive(Debug, Clone, Copy)]
enum Kill {
    /// Once the simulator has answered this many requests.
    Requests(u64),
    /// Once the simulator has answered this many writes (POST, PATCH).
    Writes(u64),
    /// After this long.
    After(Duration),
}

fn writes(sim: &Simulator) -> u64 {
    sim.metrics()
        .routes
        .iter()
        .filter(|(k, _)| k.starts_with("POST") || k.starts_with("PATCH"))
        .map(|(_, v)| v.calls)
        .sum()
}

/// Runs `cmd` and SIGKILLs it at `kill`; returns whether it was killed (false: it finished
/// first).
fn run_and_kill(mut cmd: Command, sim: &Simulator, kill: Kill) -> Result<bool> {
    sim.reset_metrics();
    let started = Instant::now();
    let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::null()).spawn()?;
    loop {
        if child.try_wait()?.is_some() {
            return Ok(false);
        }
        let now = match kill {
            Kill::Requests(n) => sim.metrics().requests >= n,
            Kill::Writes(n) => writes(sim) >= n,
            Kill::After(d) => started.elapsed() >= d,
        };
        if now {
            child.kill()?; // SIGKILL
            child.wait()?;
            return Ok(true);
        }
        std::thread::sleep(Duration::from_micros(500));
    }
}

/// Files under `dir` whose name says they are a temp file of an atomic write.
fn temp_files(dir: &Path) -> usize {
    walk(dir)
        .iter()
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(".tmp-"))
        })
        .count()
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            match e.file_type() {
                Ok(t) if t.is_dir() => out.extend(walk(&p)),
                _ => out.push(p),
            }
        }
    }
    out
}

/// How the project compares with the remote: issues missing locally, local duplicates of one
/// remote issue, fields that differ, and files with nothing left to push.
#[derive(Debug, Default)]
struct Diff {
    missing: u64,
    duplicated: u64,
    mismatched: Vec<String>,
    pending: u64,
}

impl Diff {
    fn clean(&self) -> bool {
        self.missing == 0 && self.duplicated == 0 && self.mismatched.is_empty() && self.pending == 0
    }
}

fn compare(dir: &Path, sim: &Simulator) -> Result<Diff> {
    let store = Store::open(dir)?;
    let all = store.load_all::<Issue>()?;
    let mut d = Diff::default();
    let mut by_number: BTreeMap<u64, Issue> = BTreeMap::new();
    for f in all.items {
        let i = f.item().clone();
        if roadmap_sync::map::locally_edited(&i) {
            d.pending += 1;
        }
        if let Some(n) = i.number()
            && by_number.insert(n, i).is_some()
        {
            d.duplicated += 1;
        }
    }
    let mapping = Mapping::default();
    sim.with_world(|w| {
        let r = w.repos.values().find(|r| r.name == "demo").expect("repo");
        for rec in r.issues.values().filter(|i| !i.is_pr) {
            let Some(l) = by_number.get(&rec.number) else {
                d.missing += 1;
                continue;
            };
            let shape = mapping.to_remote(l);
            let mut a = shape.labels.clone();
            a.sort();
            let mut b = rec.labels.clone();
            b.sort();
            let body = rec.body.clone().unwrap_or_default();
            let ms = rec
                .milestone
                .and_then(|m| r.milestones.get(&m))
                .map(|m| m.title.clone());
            if shape.title != rec.title
                || shape.body.trim_end_matches('\n') != body.trim_end_matches('\n')
                || (l.status == Status::Done) != (rec.state == "closed")
                || a != b
                || l.assignees != rec.assignees
                || shape.milestone != ms
            {
                d.mismatched.push(format!("#{}", rec.number));
            }
        }
    });
    Ok(d)
}

fn remote_titles(sim: &Simulator) -> Vec<String> {
    let mut t: Vec<String> = sim.with_world(|w| {
        let r = w.repos.values().find(|r| r.name == "demo").expect("repo");
        r.issues
            .values()
            .filter(|i| !i.is_pr)
            .map(|i| i.title.clone())
            .collect()
    });
    t.sort();
    t
}

/// Titles in `want` missing from `got` (lost) and in `got` beyond `want` (duplicated).
fn multiset_diff(want: &[String], got: &[String]) -> (u64, u64) {
    let mut w: BTreeMap<&str, i64> = BTreeMap::new();
    for t in want {
        *w.entry(t).or_default() += 1;
    }
    for t in got {
        *w.entry(t).or_default() -= 1;
    }
    let lost = w.values().filter(|v| **v > 0).map(|v| *v as u64).sum();
    let dup = w.values().filter(|v| **v < 0).map(|v| (-*v) as u64).sum();
    (lost, dup)
}

fn index_ok(ctx: &Ctx, dir: &Path) -> Result<bool> {
    Ok(ctx.out(dir, &["index", "check"])?.status.success())
}

// ---------------------------------------------------------------------------------------------

fn crash_pull(ctx: &Ctx) -> Result<Row> {
    let mut row = Row::new("Crash: `sync pull` SIGKILLed, then rerun");
    let n = if ctx.quick { 1_500 } else { 4_000 };
    let sim = sim_with(n, 8, 1, fast(), Limits::unlimited())?;
    let (_r, reference) = ctx.project(&sim.sim, 0)?;
    sim.sim.reset_metrics();
    let started = Instant::now();
    ctx.ok(&reference, &["sync", "pull"])?;
    let duration = started.elapsed();
    let requests = sim.sim.metrics().requests;
    let mut kills: Vec<Kill> = [1u64, 2, 3, 5, 8, 13, 21, 34, 55]
        .into_iter()
        .filter(|k| *k < requests)
        .map(Kill::Requests)
        .collect();
    let steps = if ctx.quick { 6 } else { 16 };
    kills.extend((1..=steps).map(|i| Kill::After(duration * i / (steps + 1))));
    for kill in kills {
        let (_d, p) = ctx.project(&sim.sim, 0)?;
        let killed = run_and_kill(ctx.cmd(&p, &["sync", "pull"]), &sim.sim, kill)?;
        ctx.until_ok(&p, &["sync", "pull"], 3)?;
        let diff = compare(&p, &sim.sim)?;
        let temps = temp_files(&p);
        let index = index_ok(ctx, &p)?;
        row.lost += diff.missing;
        row.duplicated += diff.duplicated;
        row.trial(
            diff.clean() && temps == 0 && index,
            format!("{kill:?} (killed: {killed}): {diff:?}, {temps} temp files, index ok: {index}"),
        );
    }
    row.notes = format!(
        "{n} issues with comments; kill after 1–55 requests and at {steps} times spread over the {:.1} s run (mid-batch, mid-file-write, mid-index-transaction)",
        duration.as_secs_f64()
    );
    Ok(row)
}

/// The local changes of a two-way trial: new issues (one done, one with a new label and a new
/// milestone), edits, and local comments (one on a new issue).
fn stage(dir: &Path) -> Result<()> {
    let store = Store::open(dir)?;
    for k in 0..6u64 {
        let mut i = Issue::new(
            ItemId::new(format!("{:08x}", 0xc0de_0000u64 + k))?,
            format!("reliability new {k}"),
        );
        i.body = format!("Created as a file ({k}).\n");
        match k {
            0 => i.status = Status::Done,
            1 => {
                i.labels = vec!["reliability".into()];
                i.milestone = Some("Reliability milestone".into());
            }
            2 => i.estimate = Some(5.0),
            _ => {}
        }
        store.create(i)?;
    }
    for n in 1..=6u64 {
        let mut f = store.get::<Issue>(&ItemId::for_remote_issue(n))?;
        match n % 3 {
            0 => f.item_mut().title = format!("reliability edit {n}"),
            1 => f.item_mut().status = Status::InProgress,
            _ => f.item_mut().labels.push("edited".into()),
        }
        store.save(&mut f)?;
    }
    for id in ["gh-7", "gh-8", "c0de0003"] {
        let id = ItemId::new(id)?;
        let path = roadmap_sync::comments::path(&store, &id);
        let mut list = roadmap_sync::comments::read(&store, &path).map_err(anyhow::Error::msg)?;
        list.push(Comment {
            id: None,
            author: String::new(),
            created: None,
            updated: None,
            body: format!("reliability comment on {id}"),
        });
        store.write_atomic(&path, serde_saphyr::to_string(&list)?.as_bytes())?;
    }
    Ok(())
}

/// The issues `stage` creates, each expected exactly once on GitHub: (missing, extra).
fn staged_once(sim: &Simulator) -> (u64, u64) {
    let titles = remote_titles(sim);
    let want: Vec<String> = (0..6).map(|k| format!("reliability new {k}")).collect();
    let got: Vec<String> = titles
        .into_iter()
        .filter(|t| t.starts_with("reliability new "))
        .collect();
    multiset_diff(&want, &got)
}

fn comment_count(sim: &Simulator) -> usize {
    sim.with_world(|w| {
        let r = w.repos.values().find(|r| r.name == "demo").expect("repo");
        r.comments
            .values()
            .filter(|c| c.body.starts_with("reliability comment"))
            .count()
    })
}

fn crash_sync(ctx: &Ctx) -> Result<Row> {
    let mut row = Row::new("Crash: two-way `sync` (push) SIGKILLed, then rerun");
    let n = 200;
    let latency = Latency {
        base: Duration::from_millis(2),
        ..Latency::default()
    };
    let trial = |kill: Option<Kill>| -> Result<(Sim, PathBuf, tempfile::TempDir, bool)> {
        let sim = sim_with(n, 3, 1, latency.clone(), Limits::unlimited())?;
        let (d, p) = ctx.project(&sim.sim, 15)?;
        ctx.ok(&p, &["sync", "pull"])?;
        stage(&p)?;
        let killed = match kill {
            Some(k) => run_and_kill(ctx.cmd(&p, &["sync"]), &sim.sim, k)?,
            None => false,
        };
        Ok((sim, p, d, killed))
    };
    let (reference, rp, _rd, _) = trial(None)?;
    reference.sim.reset_metrics();
    let started = Instant::now();
    ctx.ok(&rp, &["sync"])?;
    let duration = started.elapsed();
    let total_writes = writes(&reference.sim);
    let want = remote_titles(&reference.sim);
    let mut kills: Vec<Kill> = (1..=total_writes).map(Kill::Writes).collect();
    if ctx.quick {
        kills.retain(|k| matches!(k, Kill::Writes(w) if w % 3 == 1 || *w == total_writes));
    }
    let steps = if ctx.quick { 3 } else { 8 };
    kills.extend((1..=steps).map(|i| Kill::After(duration * i / (steps + 1))));
    for kill in kills {
        let (sim, p, _d, killed) = trial(Some(kill))?;
        let rerun = ctx.until_ok(&p, &["sync"], 2);
        let got = remote_titles(&sim.sim);
        let (lost, dup) = multiset_diff(&want, &got);
        let diff = compare(&p, &sim.sim)?;
        let comments = comment_count(&sim.sim);
        let milestones = sim.sim.with_world(|w| {
            let r = w.repos.values().find(|r| r.name == "demo").expect("repo");
            r.milestones
                .values()
                .filter(|m| m.title == "Reliability milestone")
                .count()
        });
        let intents = walk(&p.join(".roadmap/sync/intents")).len();
        let temps = temp_files(&p);
        let index = index_ok(ctx, &p)?;
        row.lost += lost + diff.missing + 3u64.saturating_sub(comments as u64);
        row.duplicated += dup + diff.duplicated + (comments as u64).saturating_sub(3);
        row.trial(
            rerun.is_ok()
                && lost == 0
                && dup == 0
                && diff.clean()
                && comments == 3
                && milestones == 1
                && intents == 0
                && temps == 0
                && index,
            format!(
                "{kill:?} (killed: {killed}): rerun {:?}, lost {lost}, dup {dup}, {diff:?}, comments {comments}, milestones {milestones}, intents {intents}, temps {temps}, index {index}",
                rerun.err().map(|e| e.to_string())
            ),
        );
    }
    row.notes = format!(
        "6 new issues (one closed, one with a new label and milestone), 6 edits, 3 new comments = {total_writes} writes; kill after each write (quick: every third) and at {steps} times; checked: remote titles, comments and milestones exactly once, files = remote field by field, nothing pending, no intent or temp file left"
    );
    Ok(row)
}

fn faults(ctx: &Ctx) -> Result<Row> {
    let mut row = Row::new("Faults: 5xx, resets, truncated bodies, stalls");
    let rates: &[f64] = if ctx.quick {
        &[0.1]
    } else {
        &[0.05, 0.10, 0.20]
    };
    let mut injected = 0;
    let mut retries = 0;
    for &rate in rates {
        let sim = sim_with(1_200, 6, 1, fast(), Limits::unlimited())?;
        let (_d, p) = ctx.project(&sim.sim, 0)?;
        sim.sim.set_faults(Faults {
            rate,
            kinds: FaultKind::ALL.to_vec(),
            stall: Duration::from_millis(700),
            seed: (rate * 1000.0) as u64,
        });
        sim.sim.reset_metrics();
        let pull = ctx.until_ok(&p, &["sync", "pull", "--json"], 3);
        stage(&p)?;
        let sync = ctx.until_ok(&p, &["sync", "--json"], 3);
        let m = sim.sim.metrics();
        injected += m.faults;
        for o in [&pull, &sync].into_iter().flatten() {
            let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_default();
            let sum = |v: &serde_json::Value| -> u64 {
                v["api"]["endpoints"]
                    .as_object()
                    .map(|e| e.values().map(|x| x["retries"].as_u64().unwrap_or(0)).sum())
                    .unwrap_or(0)
            };
            retries += sum(&v) + sum(&v["pull"]) + sum(&v["push"]);
        }
        sim.sim.set_faults(Faults::default());
        let diff = compare(&p, &sim.sim)?;
        let (lost, dup) = staged_once(&sim.sim);
        row.lost += diff.missing + lost;
        row.duplicated += diff.duplicated + dup;
        row.trial(
            pull.is_ok()
                && sync.is_ok()
                && diff.clean()
                && lost == 0
                && dup == 0
                && comment_count(&sim.sim) == 3,
            format!(
                "rate {rate}: pull {:?} sync {:?} {diff:?} dup {dup}",
                pull.err().map(|e| e.to_string()),
                sync.err().map(|e| e.to_string())
            ),
        );
    }
    row.notes = format!(
        "fault rates {rates:?} over a full pull of 1,200 issues and a two-way sync with 15 writes; {injected} faults injected, {retries} retries by the client, every run complete"
    );
    Ok(row)
}

fn limits(ctx: &Ctx) -> Result<Row> {
    let mut row = Row::new("Rate limits hit mid-sync");
    // Primary: 25 requests an hour, a 40-page pull: stops with a time, resumes after.
    let primary = Limits {
        primary: 25,
        primary_window: Duration::from_secs(3_600),
        ..Limits::default()
    };
    let sim = sim_with(4_000, 4, 0, fast(), primary)?;
    let (_d, p) = ctx.project(&sim.sim, 0)?;
    let first = ctx.out(&p, &["sync", "pull"])?;
    let said = String::from_utf8_lossy(&first.stderr).to_string();
    let clear = !first.status.success() && said.contains("rate limited; retry after");
    sim.sim.reset_limits();
    sim.sim.set_limits(Limits::unlimited());
    let resumed = ctx.until_ok(&p, &["sync", "pull"], 2).is_ok();
    let diff = compare(&p, &sim.sim)?;
    row.lost += diff.missing;
    row.trial(
        clear && resumed && diff.clean(),
        format!("primary: message {said:?}, resumed {resumed}, {diff:?}"),
    );
    // Secondary: 4 creations per (2-second) minute while pushing 6 new issues and comments.
    let secondary = Limits {
        content_per_minute: 4,
        minute: Duration::from_secs(2),
        secondary_retry_after: Duration::from_secs(1),
        ..Limits::default()
    };
    let sim = sim_with(60, 2, 0, fast(), secondary)?;
    let (_d, p) = ctx.project(&sim.sim, 0)?;
    ctx.ok(&p, &["sync", "pull"])?;
    stage(&p)?;
    sim.sim.reset_metrics();
    let sync = ctx.until_ok(&p, &["sync"], 2);
    let limited = sim.sim.metrics().rate_limited;
    let (lost, dup) = staged_once(&sim.sim);
    let diff = compare(&p, &sim.sim)?;
    row.duplicated += dup;
    row.lost += lost;
    row.trial(
        sync.is_ok() && limited > 0 && lost == 0 && dup == 0 && diff.clean(),
        format!(
            "secondary: {:?}, {limited} refusals, dup {dup}, {diff:?}",
            sync.err().map(|e| e.to_string())
        ),
    );
    row.notes = "primary: 25 requests/hour against a 40-page pull stops with \"rate limited; retry after HH:MM\" and resumes after the reset; secondary: 4 creations per window while pushing 9 creations, waited out via retry-after".into();
    Ok(row)
}

fn concurrency(ctx: &Ctx) -> Result<Row> {
    let mut row = Row::new("Concurrency: two processes, readers during a sync");
    let latency = Latency {
        base: Duration::from_millis(40),
        per_item: Duration::from_micros(400),
        jitter: Duration::ZERO,
    };
    let sim = sim_with(3_000, 4, 0, latency, Limits::unlimited())?;
    let (_d, p) = ctx.project(&sim.sim, 0)?;
    sim.sim.reset_metrics();
    let mut a = ctx
        .cmd(&p, &["sync", "pull"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    while sim.sim.metrics().requests == 0 {
        std::thread::sleep(Duration::from_millis(2));
    }
    let b = ctx.out(&p, &["sync", "pull"])?;
    let b_msg = String::from_utf8_lossy(&b.stderr).to_string();
    let second_refused = !b.status.success() && b_msg.contains("another roadmap process");
    // Readers and an editor while the sync runs.
    let gh1 = p.join(".roadmap/issues/gh-1.md");
    let mut readers = 0;
    let mut readers_ok = 0;
    let mut edited = false;
    while a.try_wait()?.is_none() {
        for args in [
            &["issue", "list", "--limit", "3"][..],
            &["search", "sync"][..],
        ] {
            readers += 1;
            if ctx.out(&p, args)?.status.success() {
                readers_ok += 1;
            }
        }
        if !edited && gh1.exists() {
            edited = ctx
                .out(
                    &p,
                    &["issue", "edit", "gh-1", "--title", "edited during a sync"],
                )?
                .status
                .success();
        }
    }
    let a_ok = a.wait()?.success();
    let kept = Store::open(&p)?
        .get::<Issue>(&ItemId::for_remote_issue(1))
        .map(|f| f.item().title == "edited during a sync")
        .unwrap_or(false);
    let index = index_ok(ctx, &p)?;
    row.trial(second_refused, format!("second process: {b_msg:?}"));
    row.trial(a_ok, "the first sync completed");
    row.trial(
        readers > 0 && readers == readers_ok,
        format!("{readers_ok}/{readers} reader runs succeeded during the sync"),
    );
    row.trial(
        !edited || kept,
        format!("an edit during the sync was kept: edited {edited}, kept {kept}"),
    );
    row.trial(index, "index consistent after");
    row.notes = format!(
        "a second `sync pull` fails at once with \"another roadmap process is syncing this project\"; {readers} `issue list`/`search` runs during the sync all succeeded; an `issue edit` made mid-sync survived it"
    );
    Ok(row)
}

fn hostile_remote(ctx: &Ctx) -> Result<Row> {
    let mut row = Row::new("Hostile remote data");
    let sim = sim_with(20, 2, 0, fast(), Limits::unlimited())?;
    let huge = "x".repeat(10 << 20);
    let cases: Vec<(&str, String, String, Vec<&str>)> = vec![
        (
            "path",
            "../../../etc/passwd".into(),
            "a/b\\c/../d".into(),
            vec![],
        ),
        (
            "nul",
            "nul \0 inside".into(),
            "body \0 nul\n".into(),
            vec![],
        ),
        (
            "control",
            "bell \u{7} esc \u{1b}[31m red".into(),
            "\u{1b}[2J\r\n".into(),
            vec![],
        ),
        (
            "rtl",
            "\u{202e}txt.exe".into(),
            "\u{200f}rtl\u{202c}".into(),
            vec![],
        ),
        (
            "front matter",
            "---".into(),
            "---\nid: evil\ntitle: injected\n---\nbody\n".into(),
            vec![],
        ),
        (
            "yaml",
            "key: value # not a comment".into(),
            "- [ ] not a list\n".into(),
            vec![],
        ),
        (
            "unicode",
            "Z̷̢͎̈́a̸l̵g̷o̶ 𝕏 👩‍👩‍👧‍👦 漢字".into(),
            "ü\u{301}\u{fe0f}".into(),
            vec![],
        ),
        (
            "labels",
            "odd labels".into(),
            String::new(),
            vec!["a,b", "x:y", "../../escape", "🚀 launch"],
        ),
        ("10 MB body", "huge".into(), huge.clone(), vec![]),
    ];
    let mut numbers = Vec::new();
    sim.sim.with_world(|w| {
        let r = w
            .repos
            .values_mut()
            .find(|r| r.name == "demo")
            .expect("repo");
        for name in ["a,b", "x:y", "../../escape", "🚀 launch"] {
            r.labels.push(LabelRec {
                id: 900_000 + r.labels.len() as u64,
                name: name.into(),
                color: "ededed".into(),
                description: None,
                default: false,
            });
        }
        let template = r.issues[&1].clone();
        for (_, title, body, labels) in &cases {
            let n = r.next_number;
            r.next_number += 1;
            let mut rec = template.clone();
            rec.number = n;
            rec.id = 800_000 + n;
            rec.title = title.clone();
            rec.body = Some(body.clone());
            rec.labels = labels.iter().map(|s| s.to_string()).collect();
            rec.updated_at += 10;
            r.issues.insert(n, rec);
            numbers.push(n);
        }
        // Wrong JSON types, and a number past what GitHub ever assigns.
        let n = r.next_number;
        r.next_number += 1;
        let mut rec = template.clone();
        rec.number = n;
        rec.title = "served with wrong types".into();
        rec.updated_at += 20;
        r.issues.insert(n, rec);
        r.mangled.insert(n);
        numbers.push(n);
        let mut big = template.clone();
        big.number = u64::MAX - 1;
        big.id = u64::MAX;
        big.title = "number out of range".into();
        r.issues.insert(big.number, big);
    });
    let mangled = numbers[numbers.len() - 1];
    let (d, p) = ctx.project(&sim.sim, 0)?;
    let first = ctx.out(&p, &["sync", "pull", "--json"])?;
    let code = first.status.code();
    let report: serde_json::Value = serde_json::from_slice(&first.stdout).unwrap_or_default();
    let failures = report["failures"].to_string();
    row.trial(
        matches!(code, Some(0 | 3)),
        format!(
            "the pull ran to the end (exit {code:?}): {}",
            String::from_utf8_lossy(&first.stderr)
        ),
    );
    row.trial(
        failures.contains(&format!("issue #{mangled}\"")),
        format!("the wrong-typed issue is reported: {failures}"),
    );
    // Nothing outside `.roadmap/`.
    let outside: Vec<PathBuf> = walk(d.path())
        .into_iter()
        .filter(|x| !x.starts_with(p.join(".roadmap")) && !x.ends_with("none.toml"))
        .collect();
    row.escaped += outside.len() as u64;
    row.trial(
        outside.is_empty(),
        format!("files outside .roadmap/: {outside:?}"),
    );
    // Each hostile issue stored faithfully.
    let store = Store::open(&p)?;
    for ((name, title, body, labels), n) in cases.iter().zip(&numbers) {
        let got = store.get::<Issue>(&ItemId::for_remote_issue(*n));
        let ok = match &got {
            Ok(f) => {
                let i = f.item();
                let mut want_labels: Vec<String> = labels.iter().map(|s| s.to_string()).collect();
                want_labels.sort();
                let mut have = i.labels.clone();
                have.sort();
                // Byte for byte: the file's body with its recorded form is GitHub's text.
                let form = i.remote.as_ref().map(|r| r.body_form).unwrap_or_default();
                i.title == *title && form.join_or_empty(&i.body) == *body && have == want_labels
            }
            Err(_) => false,
        };
        if !ok {
            row.lost += 1;
        }
        row.trial(
            ok,
            format!(
                "{name}: stored faithfully ({:?})",
                got.err().map(|e| e.to_string())
            ),
        );
    }
    let out_of_range = store
        .get::<Issue>(&ItemId::for_remote_issue(u64::MAX - 1))
        .is_ok()
        || failures.contains("out of range")
        || failures.contains(&(u64::MAX - 1).to_string());
    row.trial(
        out_of_range,
        format!("number {} stored or rejected with a reason", u64::MAX - 1),
    );
    row.trial(index_ok(ctx, &p)?, "index consistent");
    // Once the remote serves it properly, the skipped issue arrives: its watermark held.
    sim.sim.with_world(|w| {
        if let Some(r) = w.repos.values_mut().find(|r| r.name == "demo") {
            r.mangled.clear();
        }
    });
    let _ = ctx.out(&p, &["sync", "pull"])?;
    let arrived = store
        .get::<Issue>(&ItemId::for_remote_issue(mangled))
        .is_ok();
    row.trial(
        arrived,
        "the once-unparsable issue is pulled by the next run (not lost)",
    );
    row.notes = "path separators and `..`, NUL and control characters, right-to-left marks, front-matter delimiters, YAML look-alikes, deep Unicode, labels with commas, colons and `..`, a 10 MB body, wrong JSON types, a number near 2^64".into();
    Ok(row)
}

fn hostile_local(ctx: &Ctx) -> Result<Row> {
    let mut row = Row::new("Hostile local files");
    let sim = sim_with(10, 1, 1, fast(), Limits::unlimited())?;
    let (d, p) = ctx.project(&sim.sim, 0)?;
    ctx.ok(&p, &["sync", "pull"])?;
    // A symlink out of the project, where a pull wants to write.
    let outside = d.path().join("outside.md");
    std::fs::write(&outside, "outside\n")?;
    let link = p.join(".roadmap/issues/gh-3.md");
    std::fs::remove_file(&link)?;
    #[cfg(unix)]
    std::os::unix::fs::symlink(&outside, &link)?;
    let outside_dir = d.path().join("outside-dir");
    std::fs::create_dir_all(&outside_dir)?;
    let comments = p.join(".roadmap/comments");
    std::fs::remove_dir_all(&comments)?;
    #[cfg(unix)]
    std::os::unix::fs::symlink(&outside_dir, &comments)?;
    // A file that is not UTF-8.
    std::fs::write(
        p.join(".roadmap/issues/gh-5.md"),
        b"---\nid: gh-5\ntitle: \xff\xfe\n---\n",
    )?;
    sim.sim
        .edit_issue("octo", "demo", 3, |i| i.title = "changed remotely".into());
    sim.sim.add_comment("octo", "demo", 4, "a new comment");
    let o = ctx.out(&p, &["sync", "pull", "--full"])?;
    let code = o.status.code();
    row.trial(
        std::fs::read_to_string(&outside)? == "outside\n",
        "a symlinked issue file pointing outside was not written through",
    );
    let escaped = walk(&outside_dir).len() as u64;
    row.escaped += escaped;
    row.trial(
        escaped == 0,
        format!("a symlinked comments folder received {escaped} files"),
    );
    row.trial(
        matches!(code, Some(0 | 3)),
        format!("the pull ran to the end (exit {code:?})"),
    );
    let list = ctx
        .cmd(&p, &["issue", "list", "--json"])
        .env("ROADMAP_LOG", "warn")
        .output()?;
    row.trial(
        list.status.success() && String::from_utf8_lossy(&list.stderr).contains("gh-5"),
        format!(
            "the non-UTF-8 file is reported and the rest listed: {}",
            String::from_utf8_lossy(&list.stderr)
        ),
    );
    // Bad config.
    let config = p.join(".roadmap/config.toml");
    let good = std::fs::read_to_string(&config)?;
    for (bad, key) in [
        ("wrokers = 3\n", "wrokers"),
        ("workers = \"many\"\n", "workers"),
    ] {
        std::fs::write(&config, format!("{good}{bad}"))?;
        let o = ctx.out(&p, &["sync", "pull"])?;
        let msg = String::from_utf8_lossy(&o.stderr).to_string();
        row.trial(
            o.status.code() == Some(1) && msg.contains(key) && msg.contains("config.toml"),
            format!("config `{}`: {msg:?}", bad.trim()),
        );
    }
    std::fs::write(&config, good)?;
    if !ctx.quick {
        // The front-matter fuzz: the property tests with many more cases.
        let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args([
                "test",
                "--release",
                "-p",
                "roadmap-store",
                "--test",
                "it",
                "roundtrip",
            ])
            .env("PROPTEST_CASES", "20000")
            .current_dir(crate::bench_root())
            .status()?;
        row.trial(
            status.success(),
            "front-matter property tests, 20,000 cases each",
        );
    }
    row.notes = "symlinks out of `.roadmap/` (a file and the comments folder) are never written through; a non-UTF-8 file is reported and skipped; unknown or mistyped config keys name the key and file; front-matter parse/render property tests (300 cases per `cargo test`, 20,000 in the full suite)".into();
    Ok(row)
}

/// A hostile clone (issue 15): a project file naming another API host or an editor, symlinks
/// to files outside, a remote issue claiming a local id. Each trial runs real processes.
fn trust_boundary(ctx: &Ctx) -> Result<Row> {
    let mut row = Row::new("Trust boundary: a hostile clone");
    // GitHub's limits: an unauthenticated request shows as a limit of 60.
    let sim = sim_with(20, 1, 1, fast(), Limits::default())?;
    let d = tempfile::tempdir()?;
    let p = d.path().join("project");
    std::fs::create_dir_all(&p)?;
    ctx.ok(&p, &["init", "--repo", "octo/demo"])?;
    // The project file (not the user) names the host: the pull runs, without the token.
    std::fs::write(
        p.join(".roadmap/config.toml"),
        format!(
            "repo = \"octo/demo\"\napi_url = \"{}\"\neditor = \"sh ./payload.sh\"\n",
            sim.sim.url()
        ),
    )?;
    std::fs::write(p.join("payload.sh"), "touch pwned\n")?;
    let o = ctx.out(&p, &["sync", "pull", "--json"])?;
    let limit = serde_json::from_slice::<serde_json::Value>(&o.stdout)
        .ok()
        .and_then(|v| v["api"]["rate_limit"].as_u64());
    row.trial(
        limit == Some(60),
        format!("a host named only by the project file got no token (limit seen {limit:?})"),
    );
    if limit != Some(60) {
        row.escaped += 1;
    }
    // The user names the host; the editor stays the user's.
    ctx.ok(&p, &["config", "set", "--user", "api_url", &sim.sim.url()])?;
    let id = serde_json::from_str::<serde_json::Value>(&String::from_utf8_lossy(
        &ctx.ok(&p, &["issue", "create", "local one", "--json"])?
            .stdout,
    ))?["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let _ = ctx
        .cmd(&p, &["issue", "edit", &id])
        .env("VISUAL", "true")
        .env("EDITOR", "true")
        .output()?;
    row.trial(
        !p.join("pwned").exists(),
        "the project file's editor never ran",
    );
    // A symlinked comments file pointing at a file outside: never posted.
    let outside = d.path().join("secret.yml");
    std::fs::write(&outside, "- body: \"SECRET OUTSIDE\"\n")?;
    let comments = p.join(".roadmap/comments/gh-2.yml");
    let _ = std::fs::remove_file(&comments);
    #[cfg(unix)]
    std::os::unix::fs::symlink(&outside, &comments)?;
    // Someone opens an issue whose hidden block names the unpushed local id.
    let n = sim
        .sim
        .create_issue("octo", "demo", "local one")
        .unwrap_or_default();
    sim.sim.edit_issue("octo", "demo", n, |i| {
        i.body = Some(format!("<!-- roadmap: {{\"id\":\"{id}\"}} -->\n"))
    });
    sim.sim.reset_metrics();
    let _ = ctx.out(&p, &["sync", "--json"])?;
    let leaked = sim
        .sim
        .writes()
        .iter()
        .any(|w| w.body.to_string().contains("SECRET OUTSIDE"));
    row.trial(
        !leaked,
        "a symlinked comments file was never read or posted",
    );
    if leaked {
        row.escaped += 1;
    }
    let store = Store::open(&p)?;
    let mine = store
        .get::<Issue>(&ItemId::new(&id)?)
        .ok()
        .and_then(|f| f.item().remote.as_ref().map(|r| r.number));
    row.trial(
        mine.is_some_and(|m| m != n),
        format!("the local issue was created as its own (#{mine:?}), not linked to #{n}"),
    );
    row.notes = "a project file naming the API host (no token sent there) and the editor (never run); a symlinked comments file (never read or posted); a remote issue whose hidden block names an unpushed local id (not linked); see docs/security.md".into();
    Ok(row)
}

fn secrets(ctx: &Ctx) -> Result<Row> {
    let mut row = Row::new("Secrets: a planted token");
    let sim = sim_with(50, 2, 1, fast(), Limits::unlimited())?;
    let (d, p) = ctx.project(&sim.sim, 0)?;
    let mut outputs = Vec::new();
    let verbose = |args: &[&str]| -> Result<Output> {
        Ok(ctx.cmd(&p, args).env("ROADMAP_LOG", "trace").output()?)
    };
    outputs.push(verbose(&["sync", "pull", "-vv"])?);
    stage(&p)?;
    outputs.push(verbose(&["sync", "--json", "-vv"])?);
    outputs.push(verbose(&["sync", "status"])?);
    outputs.push(verbose(&["doctor"])?);
    // Failures: a dead endpoint and a refused token.
    outputs.push(verbose(&[
        "sync",
        "pull",
        "--api-url",
        "http://127.0.0.1:9",
    ])?);
    let mut hits = 0u64;
    for o in &outputs {
        for stream in [&o.stdout, &o.stderr] {
            if stream.windows(TOKEN.len()).any(|w| w == TOKEN.as_bytes()) {
                hits += 1;
            }
        }
    }
    let files = walk(d.path());
    for f in &files {
        if let Ok(bytes) = std::fs::read(f)
            && bytes.windows(TOKEN.len()).any(|w| w == TOKEN.as_bytes())
        {
            hits += 1;
            eprintln!("  token found in {}", f.display());
        }
    }
    row.escaped += hits;
    row.trial(hits == 0, format!("token found {hits} times"));
    row.notes = format!(
        "pull, two-way sync, status, doctor and a failing run at trace level; searched {} outputs and {} files (cache, index, state, bases) for the token",
        outputs.len() * 2,
        files.len()
    );
    Ok(row)
}

fn index_durability(ctx: &Ctx) -> Result<Row> {
    let mut row = Row::new("Index durability");
    let n = 2_000;
    let d = tempfile::tempdir()?;
    let p = d.path().to_owned();
    crate::gen_tree::generate(&p, n, 20)?;
    ctx.ok(&p, &["index", "rebuild"])?;
    let db = p.join(".roadmap/index.db");
    type Damage = fn(&Path) -> std::io::Result<()>;
    let damages: Vec<(&str, Damage)> = vec![
        ("deleted", |db| std::fs::remove_file(db)),
        ("truncated to half", |db| {
            let len = std::fs::metadata(db)?.len();
            std::fs::OpenOptions::new()
                .write(true)
                .open(db)?
                .set_len(len / 2)
        }),
        ("truncated to 0 bytes", |db| {
            std::fs::OpenOptions::new().write(true).open(db)?.set_len(0)
        }),
        ("garbage header", |db| {
            use std::io::{Seek, Write};
            let mut f = std::fs::OpenOptions::new().write(true).open(db)?;
            f.seek(std::io::SeekFrom::Start(0))?;
            f.write_all(&[0xA5; 100])
        }),
        ("garbage pages", |db| {
            use std::io::{Seek, Write};
            let len = std::fs::metadata(db)?.len();
            let mut f = std::fs::OpenOptions::new().write(true).open(db)?;
            f.seek(std::io::SeekFrom::Start(len / 3))?;
            f.write_all(&vec![0x5A; 64 * 1024])
        }),
        ("older schema version", |db| {
            use std::io::{Seek, Write};
            let mut f = std::fs::OpenOptions::new().write(true).open(db)?;
            f.seek(std::io::SeekFrom::Start(60))?;
            f.write_all(&1u32.to_be_bytes())
        }),
    ];
    for (name, damage) in damages {
        ctx.ok(&p, &["index", "rebuild"])?;
        for side in ["index.db-wal", "index.db-shm"] {
            let _ = std::fs::remove_file(p.join(".roadmap").join(side));
        }
        damage(&db)?;
        let count = |ctx: &Ctx| -> Result<(bool, usize, String)> {
            let list = ctx.out(&p, &["issue", "list", "--json", "--limit", "1000000"])?;
            let rows = serde_json::from_slice::<serde_json::Value>(&list.stdout)
                .ok()
                .and_then(|v| v.as_array().map(Vec::len))
                .unwrap_or(0);
            Ok((
                list.status.success(),
                rows,
                String::from_utf8_lossy(&list.stderr).to_string(),
            ))
        };
        // The next command either answers in full or fails with a clear error; `index check`
        // detects any damage left and rebuilds; after that, everything is back.
        let (first_ok, first_rows, first_err) = count(ctx)?;
        let honest = (first_ok && first_rows == n) || (!first_ok && first_err.contains("index"));
        let check = ctx.out(&p, &["index", "check"])?;
        let (ok, rows, err) = count(ctx)?;
        let clean = index_ok(ctx, &p)?;
        if rows != n {
            row.lost += n.abs_diff(rows) as u64;
        }
        row.trial(
            honest && check.status.success() && ok && rows == n && clean,
            format!(
                "{name}: first listing {first_rows}/{n} ({first_err}), check said {:?}, then {rows}/{n} ({err}), clean {clean}",
                String::from_utf8_lossy(&check.stdout)
            ),
        );
    }
    row.notes = format!(
        "{n} issues; after each damage the next command answers in full or fails naming the index, `roadmap index check` detects what is left and rebuilds from the files, and every issue is back"
    );
    Ok(row)
}

pub fn run(quick: bool) -> Result<()> {
    let root = crate::bench_root();
    let mut build = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    build
        .args(["build", "-p", "roadmap-cli"])
        .current_dir(&root);
    if !quick {
        build.arg("--release");
    }
    if !build.status()?.success() {
        bail!("building roadmap failed");
    }
    // Where cargo put it: `CARGO_TARGET_DIR` when set (relative to the workspace), else target/.
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(|d| root.join(d))
        .unwrap_or_else(|| root.join("target"));
    let bin = target
        .join(if quick { "debug" } else { "release" })
        .join("roadmap");
    let ctx = Ctx { bin, quick };
    let started = Instant::now();
    let mut rows = Vec::new();
    type Scenario = fn(&Ctx) -> Result<Row>;
    let scenarios: [(&str, Scenario); 10] = [
        ("crash: pull", crash_pull),
        ("crash: two-way sync", crash_sync),
        ("faults", faults),
        ("rate limits", limits),
        ("concurrency", concurrency),
        ("hostile remote", hostile_remote),
        ("hostile local", hostile_local),
        ("trust boundary", trust_boundary),
        ("secrets", secrets),
        ("index durability", index_durability),
    ];
    for (name, f) in scenarios {
        eprintln!("reliability: {name}");
        let t = Instant::now();
        let mut row = match f(&ctx) {
            Ok(r) => r,
            Err(e) => {
                let mut r = Row::new(name);
                r.trial(false, format!("the scenario could not run: {e:#}"));
                r
            }
        };
        eprintln!(
            "  {}/{} passed in {:.1} s",
            row.passed,
            row.trials,
            t.elapsed().as_secs_f64()
        );
        if row.notes.is_empty() {
            row.notes = "-".into();
        }
        rows.push(row);
    }
    let mut md = String::new();
    writeln!(
        md,
        "# Reliability\n\nGenerated by `cargo xtask reliability{}` on {} in {:.0} s. Every trial runs real `roadmap` processes against the in-process GitHub simulator; a crash is a SIGKILL.\n",
        if quick { " --quick" } else { "" },
        crate::bench_machine(),
        started.elapsed().as_secs_f64()
    )?;
    writeln!(
        md,
        "| scenario | trials | passed | lost | duplicated | escaped | what was done |"
    )?;
    writeln!(md, "|---|---:|---:|---:|---:|---:|---|")?;
    for r in &rows {
        writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} |",
            r.scenario, r.trials, r.passed, r.lost, r.duplicated, r.escaped, r.notes
        )?;
    }
    let failed: Vec<&String> = rows.iter().flat_map(|r| r.failures.iter()).collect();
    writeln!(
        md,
        "\n\"Lost\": an item (remote issue, local edit, comment) missing at the end; \"duplicated\": an item present twice on GitHub or locally; \"escaped\": a file written outside `.roadmap/` or a token found in any output or file.\n"
    )?;
    if !failed.is_empty() {
        writeln!(md, "## Failures\n")?;
        for f in &failed {
            writeln!(md, "- {f}")?;
        }
    }
    writeln!(
        md,
        "\n## Reproduce\n\n```sh\ncargo xtask reliability          # everything above (release build)\ncargo run -p xtask -- reliability --quick   # the CI subset (debug build)\n```"
    )?;
    let out = root.join(if quick {
        "target/reliability-quick.md"
    } else {
        "docs/reliability.md"
    });
    std::fs::write(&out, &md)?;
    println!("{md}");
    eprintln!("wrote {}", out.display());
    if !failed.is_empty() {
        bail!("{} reliability trials failed", failed.len());
    }
    Ok(())
}
