//! `cargo xtask bench [--quick]`: pulls against the simulator's latency model as whole
//! `roadmap` processes, side by side with two baselines measured in the same run, plus local
//! query timings; writes `docs/benchmarks.md`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use roadmap_sim::{Latency, Limits, RepoSpec, SimConfig, Simulator, Wire};

const TOKEN: &str = "bench-token";
const WORKERS: u64 = 8;

struct Stats {
    median: f64,
    min: f64,
    max: f64,
}

fn stats(mut xs: Vec<f64>) -> Stats {
    xs.sort_by(|a, b| a.total_cmp(b));
    Stats {
        median: xs[xs.len() / 2],
        min: xs[0],
        max: xs[xs.len() - 1],
    }
}

fn fmt_s(s: &Stats) -> String {
    format!("{:.2} s ({:.2}–{:.2})", s.median, s.min, s.max)
}

fn fmt_ms(s: &Stats) -> String {
    format!(
        "{:.1} ms ({:.1}–{:.1})",
        s.median * 1000.0,
        s.min * 1000.0,
        s.max * 1000.0
    )
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn binary() -> PathBuf {
    root().join("target/release/roadmap")
}

/// Runs a command, sampling its peak RSS (VmHWM) from /proc until it exits.
fn run_measured(cmd: &mut Command) -> Result<(f64, u64, String)> {
    let started = Instant::now();
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak_kb = 0u64;
    let stdout = child.stdout.take();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(mut o) = stdout {
            let _ = std::io::Read::read_to_string(&mut o, &mut s);
        }
        s
    });
    loop {
        if let Ok(text) = std::fs::read_to_string(&status_path)
            && let Some(v) = text
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        {
            peak_kb = peak_kb.max(v);
        }
        if let Some(status) = child.try_wait()? {
            let out = reader.join().unwrap_or_default();
            if !status.success() {
                let mut err = String::new();
                if let Some(mut e) = child.stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut e, &mut err);
                }
                bail!("{cmd:?} failed: {err}");
            }
            return Ok((started.elapsed().as_secs_f64(), peak_kb, out));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn roadmap(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(binary());
    c.args(args)
        .current_dir(dir)
        .env("GITHUB_TOKEN", TOKEN)
        .env("ROADMAP_CONFIG", dir.join("none.toml"))
        .env("ROADMAP_LOG", "error");
    c
}

pub(crate) struct Sim {
    _rt: tokio::runtime::Runtime,
    pub(crate) sim: Simulator,
}

fn start_sim(issues: u64, milestones: u64, comments: u64, wire: Wire) -> Result<Sim> {
    start_sim_with(issues, milestones, comments, Limits::unlimited(), wire)
}

pub(crate) fn start_sim_with(
    issues: u64,
    milestones: u64,
    comments: u64,
    limits: Limits,
    wire: Wire,
) -> Result<Sim> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let mut spec = RepoSpec::new("octo", "demo");
    spec.issues = issues;
    spec.milestones = milestones;
    spec.labels = 12;
    spec.comments = comments;
    let config = SimConfig::default()
        .repo(spec)
        .latency(Latency::github())
        .limits(limits)
        .wire(wire);
    let sim = rt.block_on(Simulator::start(config))?;
    Ok(Sim { _rt: rt, sim })
}

/// The simulator as its own process (`roadmap-sim serve`), with GitHub's limits (900 points
/// a minute, 100 requests at once, 5,000 an hour) and latency model: its JSON rendering is
/// not charged to the client's process.
struct ExtSim {
    child: std::process::Child,
    url: String,
    _dir: tempfile::TempDir,
}

/// What the simulator counted.
struct SimCounts {
    requests: u64,
    not_modified: u64,
    rate_limited: u64,
    peak: u64,
}

impl ExtSim {
    fn start(issues: u64, milestones: u64, cursor: bool) -> Result<ExtSim> {
        let dir = tempfile::tempdir()?;
        let port_file = dir.path().join("port");
        let child = Command::new(root().join("target/release/roadmap-sim"))
            .args(["serve", "--port-file"])
            .arg(&port_file)
            .args(["--issues", &issues.to_string()])
            .args(["--milestones", &milestones.to_string()])
            .args(["--labels", "12"])
            .args(["--pagination", if cursor { "cursor" } else { "page" }])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()?;
        let started = Instant::now();
        let port = loop {
            if let Ok(p) = std::fs::read_to_string(&port_file)
                && let Ok(p) = p.trim().parse::<u16>()
            {
                break p;
            }
            if started.elapsed() > Duration::from_secs(300) {
                bail!("roadmap-sim did not start");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        Ok(ExtSim {
            child,
            url: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        })
    }

    fn url(&self) -> &str {
        &self.url
    }

    fn reset(&self) -> Result<()> {
        ureq::post(&format!("{}/_sim/reset", self.url)).send_empty()?;
        Ok(())
    }

    fn counts(&self) -> Result<SimCounts> {
        let v: serde_json::Value = serde_json::from_str(
            &ureq::get(&format!("{}/_sim/metrics", self.url))
                .call()?
                .body_mut()
                .read_to_string()?,
        )?;
        let n = |k: &str| v[k].as_u64().unwrap_or(0);
        Ok(SimCounts {
            requests: n("requests"),
            not_modified: n("not_modified"),
            rate_limited: n("rate_limited"),
            peak: n("peak_concurrency"),
        })
    }
}

impl Drop for ExtSim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A full pull killed (SIGKILL) once half the issue files are written, then run again: the
/// second run goes on from the windows' checkpoint (issue 14).
fn resume_bench(md: &mut String, quick: bool) -> Result<()> {
    let n = if quick { 2_000 } else { 10_000 };
    writeln!(
        md,
        "## A full pull interrupted half way, then resumed ({n} issues, github.com cursors)\n"
    )?;
    let sim = ExtSim::start(n, 6, true)?;
    let clean = scratch()?;
    roadmap(clean.path(), &["init", "--repo", "octo/demo"]).output()?;
    sim.reset()?;
    let (t_clean, _, _) = run_measured(&mut roadmap(
        clean.path(),
        &["sync", "pull", "--json", "--api-url", sim.url()],
    ))?;
    let clean_calls = sim.counts()?.requests;

    let dir = scratch()?;
    let p = dir.path();
    roadmap(p, &["init", "--repo", "octo/demo"]).output()?;
    sim.reset()?;
    let started = Instant::now();
    let mut child = roadmap(p, &["sync", "pull", "--api-url", sim.url()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    let issues = p.join(".roadmap/issues");
    loop {
        let written = std::fs::read_dir(&issues).map(|d| d.count()).unwrap_or(0) as u64;
        if written >= n / 2 || child.try_wait()?.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill()?;
    child.wait()?;
    let t_first = started.elapsed().as_secs_f64();
    let written = std::fs::read_dir(&issues)?.count();
    let first = sim.counts()?.requests;
    sim.reset()?;
    let (t_second, _, out) = run_measured(&mut roadmap(
        p,
        &["sync", "pull", "--json", "--api-url", sim.url()],
    ))?;
    let report: serde_json::Value = serde_json::from_str(&out)?;
    let second = sim.counts()?.requests;
    let issues_of = |dir: &Path| -> Result<serde_json::Value> {
        let out = roadmap(dir, &["issue", "list", "--json"]).output()?.stdout;
        let mut v: serde_json::Value = serde_json::from_slice(&out)?;
        for row in v.as_array_mut().into_iter().flatten() {
            // Where the file is differs from folder to folder; nothing else may.
            row.as_object_mut().map(|o| o.remove("path"));
        }
        Ok(v)
    };
    let same = issues_of(p)? == issues_of(clean.path())?;
    writeln!(md, "| run | time | requests |")?;
    writeln!(md, "|---|---:|---:|")?;
    writeln!(md, "| clean full pull | {t_clean:.2} s | {clean_calls} |")?;
    writeln!(
        md,
        "| killed after {written} issue files | {t_first:.2} s | {first} |"
    )?;
    writeln!(
        md,
        "| rerun (resumed: {}) | {t_second:.2} s | {second} |",
        report["resumed"]
    )?;
    writeln!(
        md,
        "\nInterrupted and resumed: {} requests in all, {:.2}× a clean pull; the rerun alone sent {:.0}% of a clean pull's; the issues listed afterwards are {} those of the clean pull.\n",
        first + second,
        (first + second) as f64 / clean_calls as f64,
        100.0 * second as f64 / clean_calls as f64,
        if same { "exactly" } else { "NOT" }
    )?;
    eprintln!("resume {n}: {first} + {second} requests vs {clean_calls} clean; same files: {same}");
    Ok(())
}

/// Project folders of the runs, kept until the end of the benchmark: on ext4 here the first
/// file creates after a mass deletion are about twice as slow (the kernel skips recently
/// freed inodes), so deleting one run's 20,000 files would slow the next run down.
static KEPT: std::sync::Mutex<Vec<tempfile::TempDir>> = std::sync::Mutex::new(Vec::new());

struct Kept(PathBuf);

impl Kept {
    fn path(&self) -> &Path {
        &self.0
    }
}

/// A fresh folder, deleted at the end of the benchmark.
fn scratch() -> Result<Kept> {
    let d = tempfile::tempdir()?;
    let p = d.path().to_owned();
    KEPT.lock().unwrap_or_else(|e| e.into_inner()).push(d);
    Ok(Kept(p))
}

/// Deletes the kept folders, then creates (and keeps) empty files until creates are fast
/// again, so that the next measurement does not pay for the deletion.
fn settle_fs() -> Result<()> {
    KEPT.lock().unwrap_or_else(|e| e.into_inner()).clear();
    let d = scratch()?;
    for i in 0..20_000 {
        std::fs::File::create(d.path().join(i.to_string()))?;
    }
    Ok(())
}

fn page_ms(items: u64) -> f64 {
    100.0 + 3.0 * items as f64
}

/// The lower bound for our pull: the larger of the network's and GitHub's 900 points a
/// minute (a page a point). The network's: milestones and labels in
/// parallel with the first requests, then the issue pages `WORKERS` at a time (a round lasts
/// as long as its biggest page; on github.com's cursors the key space is split in `WORKERS`
/// windows after one-item probes of the oldest and newest issue, numbered pages too), and the
/// empty comment listing runs beside them.
fn lower_bound(issues: u64, milestones: u64) -> f64 {
    let network = network_bound(issues, milestones);
    // At most 900 in any minute: N > 900 requests take at least 60 s + (N - 900) / 15 s,
    // which is N / 15 s.
    let requests = issues.div_ceil(100).max(1) + 4;
    let points = if requests > 900 {
        requests as f64 / 15.0
    } else {
        0.0
    };
    network.max(points)
}

fn network_bound(issues: u64, milestones: u64) -> f64 {
    let meta = page_ms(milestones.min(100)).max(page_ms(12));
    let pages = issues.div_ceil(100).max(1);
    let rounds = pages.div_ceil(WORKERS);
    let issues_ms = page_ms(1)
        + if pages == 1 {
            page_ms(issues)
        } else {
            rounds as f64 * page_ms(100)
        };
    // The (empty) comment listing runs beside the issues (its probes, then one page).
    meta.max(issues_ms).max(2.0 * page_ms(0)) / 1000.0
}

/// Seed 000's "standard sync": list issues, then one GET per issue and one per issue's
/// milestone, sequentially, one file write each.
fn standard_sync(url: &str, dir: &Path) -> Result<(f64, u64)> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let get = |u: &str| -> Result<(serde_json::Value, Option<String>)> {
        let mut r = agent
            .get(u)
            .header("User-Agent", "seed-standard-sync")
            .header("Authorization", &format!("Bearer {TOKEN}"))
            .call()?;
        let next = next_link(r.headers());
        Ok((serde_json::from_str(&r.body_mut().read_to_string()?)?, next))
    };
    let started = Instant::now();
    let mut calls = 0;
    let mut numbers = Vec::new();
    let mut next = Some(format!(
        "{url}/repos/octo/demo/issues?state=all&per_page=100"
    ));
    while let Some(u) = next {
        let (v, n) = get(&u)?;
        calls += 1;
        numbers.extend(
            v.as_array()
                .into_iter()
                .flatten()
                .filter_map(|i| i["number"].as_u64()),
        );
        next = n;
    }
    std::fs::create_dir_all(dir)?;
    for n in numbers {
        let (issue, _) = get(&format!("{url}/repos/octo/demo/issues/{n}"))?;
        calls += 1;
        if let Some(m) = issue["milestone"]["number"].as_u64() {
            get(&format!("{url}/repos/octo/demo/milestones/{m}"))?;
            calls += 1;
        }
        std::fs::write(dir.join(format!("{n}.json")), issue.to_string())?;
    }
    Ok((started.elapsed().as_secs_f64(), calls))
}

/// A plain sequential pager: pages one after another, no ETags, one file write per issue.
fn sequential_pager(url: &str, dir: &Path) -> Result<(f64, u64)> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    std::fs::create_dir_all(dir)?;
    let started = Instant::now();
    let mut calls = 0;
    let mut next = Some(format!(
        "{url}/repos/octo/demo/issues?state=all&per_page=100"
    ));
    while let Some(u) = next {
        let mut r = agent
            .get(&u)
            .header("User-Agent", "sequential-pager")
            .header("Authorization", &format!("Bearer {TOKEN}"))
            .call()?;
        calls += 1;
        next = next_link(r.headers());
        let v: serde_json::Value = serde_json::from_str(&r.body_mut().read_to_string()?)?;
        for i in v.as_array().into_iter().flatten() {
            std::fs::write(dir.join(format!("{}.json", i["number"])), i.to_string())?;
        }
    }
    Ok((started.elapsed().as_secs_f64(), calls))
}

/// The `rel="next"` URL of a `Link` header.
fn next_link(headers: &ureq::http::HeaderMap) -> Option<String> {
    let l = headers.get("link")?.to_str().ok()?;
    let part = l.split(", ").find(|p| p.ends_with("rel=\"next\""))?;
    Some(part[1..part.find('>')?].to_owned())
}

pub(crate) fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb / 1024 / 1024);
    let commit = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    format!(
        "{cores} cores, {mem} GiB, commit {commit}, {}",
        chrono::Utc::now().format("%Y-%m-%d")
    )
}

/// What the simulator sustains with zero latency: 10,000 issues as 100 pages, walked one at a
/// time and 8 at a time; and 200 concurrent connections held at once.
fn simulator_throughput(md: &mut String) -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let mut spec = RepoSpec::new("octo", "demo");
    spec.issues = 10_000;
    // Pages fetched by number, which github.com refuses past a few pages.
    let sim = rt.block_on(Simulator::start(
        SimConfig::default()
            .repo(spec)
            .limits(Limits::unlimited())
            .wire(Wire::numbered()),
    ))?;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let page = |k: u64| -> Result<usize> {
        let mut r = agent
            .get(&format!(
                "{}/repos/octo/demo/issues?state=all&per_page=100&page={k}",
                sim.url()
            ))
            .header("User-Agent", "bench")
            .call()?;
        Ok(r.body_mut().read_to_string()?.len())
    };
    let started = Instant::now();
    let mut bytes = 0;
    for k in 1..=100 {
        bytes += page(k)?;
    }
    let sequential = started.elapsed().as_secs_f64();
    let started = Instant::now();
    std::thread::scope(|s| {
        let hs: Vec<_> = (0..8u64)
            .map(|w| {
                s.spawn(move || {
                    (0..100u64)
                        .filter(|k| k % 8 == w)
                        .map(|k| page(k + 1).map(|_| ()))
                        .collect::<Result<Vec<_>>>()
                })
            })
            .collect();
        hs.into_iter().try_for_each(|h| {
            h.join()
                .map_err(|_| anyhow::anyhow!("thread panicked"))?
                .map(|_| ())
        })
    })?;
    let parallel = started.elapsed().as_secs_f64();
    // 200 connections at once, each held for 300 ms by the latency model.
    sim.set_latency(Latency {
        base: Duration::from_millis(300),
        ..Latency::default()
    });
    sim.reset_metrics();
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..200)
            .map(|_| {
                let agent = agent.clone();
                let url = format!("{}/repos/octo/demo/labels", sim.url());
                s.spawn(move || {
                    agent
                        .get(&url)
                        .header("User-Agent", "bench")
                        .call()
                        .map(|r| r.status().as_u16())
                        .unwrap_or(0)
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap_or(0)).collect()
    });
    let ok = statuses.iter().filter(|s| **s == 200).count();
    let peak = sim.metrics().peak_concurrency;
    writeln!(
        md,
        "## The simulator itself
"
    )?;
    writeln!(
        md,
        "With zero latency, serving 10,000 issues as 100 pages of 100 ({:.1} MB of JSON): {sequential:.2} s one page at a time, {parallel:.2} s eight at a time. It held 200 concurrent connections (peak {peak} in flight, {ok}/200 answered 200 with the concurrency limit lifted). In the pull benchmarks below the simulator runs as its own process and shares the two cores with the client, so its JSON rendering still takes CPU from the measured process. These figures are also the machine-speed indicator: compare them before comparing pull times across runs (this machine is shared and its speed varies by up to 2×; lower bounds come from the latency model and do not).\n",
        bytes as f64 / 1e6
    )?;
    eprintln!(
        "simulator: 100 pages in {sequential:.2} s sequential, {parallel:.2} s x8; peak {peak}"
    );
    Ok(())
}

pub fn run(quick: bool) -> Result<()> {
    build()?;
    run_built(quick)
}

/// Builds the release binaries the benchmarks run.
pub fn build() -> Result<()> {
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "build",
            "--release",
            "-p",
            "roadmap-cli",
            "-p",
            "roadmap-sim",
        ])
        .current_dir(root())
        .status()?;
    if !status.success() {
        bail!("building roadmap failed");
    }
    Ok(())
}

fn run_built(quick: bool) -> Result<()> {
    let mut md = String::new();
    let machine = machine();
    writeln!(
        md,
        "# Benchmarks\n\nGenerated by `cargo xtask bench{}` on {machine}.",
        if quick { " --quick" } else { "" }
    )?;
    writeln!(
        md,
        "Every pull runs `roadmap sync pull` as a whole process against the simulator with GitHub's latency model (100 ms + 3 ms per item per request, ±10 ms jitter), {WORKERS} workers. Times are medians with (min–max); the baselines ran in the same run against the same simulator. Project folders are kept until the end of the run and the file system is settled first (ext4 on this machine makes the first creates after a mass deletion about twice as slow: without this, each run would pay for the previous run's clean-up).\n"
    )?;

    simulator_throughput(&mut md)?;
    settle_fs()?;

    // 1. Pull scenarios.
    let sizes: Vec<u64> = if quick {
        vec![12, 106, 515, 2000]
    } else {
        vec![12, 54, 106, 260, 515, 2000, 10_000, 100_000]
    };
    let standard_up_to = if quick { 106 } else { 515 };
    writeln!(md, "## Pull: seed 000's scenarios and beyond\n")?;
    let mut plot_ours = Vec::new();
    let mut plot_bound = Vec::new();
    let mut plot_pages = Vec::new();
    let mut plot_pages_bound = Vec::new();
    let mut plot_std = Vec::new();
    let mut plot_seq = Vec::new();
    let mut plot_calls = Vec::new();
    let mut plot_std_calls = Vec::new();
    let mut headline = String::new();
    for cursor in [true, false] {
        if cursor {
            writeln!(
                md,
                "### github.com today: the issue listing is a chain of cursors (`next`, no `last`)\n"
            )?;
        } else {
            writeln!(
                md,
                "\n### Page numbers with `last` (GitHub Enterprise Server, older hosts): **these figures assume page numbers that github.com no longer gives**\n"
            )?;
        }
        writeln!(
            md,
            "| issues | ours | API calls | 304s | secondary-limit answers | most at once | lower bound | ours / bound | items/s | peak RSS | files | seed \"standard sync\" | calls | speed-up | sequential pager | speed-up |"
        )?;
        writeln!(
            md,
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        )?;
        for &n in &sizes {
            let milestones = 6;
            let sim = ExtSim::start(n, milestones, cursor)?;
            let runs = if n >= 10_000 {
                1
            } else if quick {
                2
            } else {
                3
            };
            let mut times = Vec::new();
            let mut peak = 0;
            let mut calls = 0;
            let mut files = 0;
            let mut not_modified = 0;
            let mut refused = 0;
            let mut at_once = 0;
            for _ in 0..runs {
                let dir = scratch()?;
                roadmap(dir.path(), &["init", "--repo", "octo/demo"]).output()?;
                sim.reset()?;
                let (t, rss, out) = run_measured(
                    roadmap(
                        dir.path(),
                        &["sync", "pull", "--json", "--api-url", sim.url()],
                    )
                    .current_dir(dir.path()),
                )?;
                let report: serde_json::Value =
                    serde_json::from_str(&out).context("pull report")?;
                files = report["files_written"].as_u64().unwrap_or(0);
                let c = sim.counts()?;
                calls = c.requests;
                not_modified = c.not_modified;
                refused += c.rate_limited;
                at_once = at_once.max(c.peak);
                times.push(t);
                peak = peak.max(rss);
            }
            let ours = stats(times);
            let bound = lower_bound(n, milestones);
            let (std_cell, std_calls, std_x, seq_cell, seq_x) = if cursor && n <= standard_up_to {
                let d = scratch()?;
                let (st, sc) = standard_sync(sim.url(), d.path())?;
                let d = scratch()?;
                let (qt, _) = sequential_pager(sim.url(), d.path())?;
                plot_std.push((n as f64, st));
                plot_seq.push((n as f64, qt));
                plot_std_calls.push((n as f64, sc as f64));
                if n == 515 || (quick && n == 106) {
                    headline = format!(
                        "{n} issues: seed's standard sync {st:.1} s, ours {:.2} s, {:.0}× — calls {sc} → {calls}",
                        ours.median,
                        st / ours.median
                    );
                }
                (
                    format!("{st:.2} s"),
                    sc.to_string(),
                    format!("{:.0}×", st / ours.median),
                    format!("{qt:.2} s"),
                    format!("{:.1}×", qt / ours.median),
                )
            } else if n <= 10_000 {
                let d = scratch()?;
                let (qt, _) = sequential_pager(sim.url(), d.path())?;
                if cursor {
                    plot_seq.push((n as f64, qt));
                    plot_std_calls.push((n as f64, (n + n * 5 / 6 + n.div_ceil(100)) as f64));
                }
                (
                    "(hours)".into(),
                    format!("{}", n + n * 5 / 6 + n.div_ceil(100)),
                    "–".into(),
                    format!("{qt:.2} s"),
                    format!("{:.1}×", qt / ours.median),
                )
            } else {
                // Not run: the latency model says pages × page latency.
                let qt = n.div_ceil(100) as f64 * page_ms(100) / 1000.0;
                (
                    "(hours)".into(),
                    format!("{}", n + n * 5 / 6 + n.div_ceil(100)),
                    "–".into(),
                    format!("≈{qt:.0} s (model)"),
                    format!("≈{:.0}×", qt / ours.median),
                )
            };
            writeln!(
                md,
                "| {n} | {} | {calls} | {not_modified} | {refused} | {at_once} | {bound:.2} s | {:.2} | {:.0} | {} MB | {files} | {std_cell} | {std_calls} | {std_x} | {seq_cell} | {seq_x} |",
                fmt_s(&ours),
                ours.median / bound,
                n as f64 / ours.median,
                peak / 1024,
            )?;
            if cursor {
                plot_ours.push((n as f64, ours.median));
                plot_bound.push((n as f64, bound));
                plot_calls.push((n as f64, calls as f64));
            } else {
                plot_pages.push((n as f64, ours.median));
                plot_pages_bound.push((n as f64, bound));
            }
            eprintln!(
                "pull {n}: {:.2} s (bound {bound:.2} s), {calls} calls, {} MB",
                ours.median,
                peak / 1024
            );
            drop(sim);
        }
    }
    writeln!(
        md,
        "\n\"Ours\" is a whole `roadmap` process (start-up, index open, milestones, labels, issues and comments, files and index written) against the simulator running as its own process (`roadmap-sim serve`, so its JSON rendering is not charged to ours, though both share the machine's two cores) with GitHub's limits: 900 points a minute, 100 requests at once, 5,000 an hour. On github.com's cursors a full pull splits the `updated_at` key space into {WORKERS} windows listed in parallel (issue 14, decision 0006). The two baselines run inside the benchmark process and only list and write issues: the sequential pager follows `next` links one page after another, as every other client does. The seed's standard sync makes 1 + N + N×(5/6) requests (one GET per issue, one per issue's milestone; 5 of 6 generated issues have one), one after another; at 10,000+ issues it would take hours and is not run. The lower bound is the larger of GitHub's 900 points in any minute (beyond 900 requests, N/15 s) and the latency model's: milestones and labels in parallel with one-item probes of the oldest and newest issue, then the issue pages {WORKERS} at a time (numbered pages are split the same way), the empty comment listing beside them. \"Secondary-limit answers\" counts requests the simulator refused for going over a secondary limit; \"most at once\" is the simulator's peak of requests in flight.\n"
    )?;
    if !headline.is_empty() {
        writeln!(md, "Headline: {headline}.\n")?;
    }
    let plots = root().join(if quick {
        "target/bench-quick"
    } else {
        "docs/bench"
    });
    std::fs::create_dir_all(&plots)?;
    let series = |name: &str, points: &Vec<(f64, f64)>| crate::plot::Series {
        name: name.into(),
        points: points.clone(),
    };
    crate::plot::log_log(
        &plots.join("pull-time.svg"),
        "Full pull: wall time against issues",
        "issues",
        "seconds",
        &[
            series("roadmap, github.com cursors (whole process)", &plot_ours),
            series("lower bound, one page after another", &plot_bound),
            series("roadmap, page numbers (whole process)", &plot_pages),
            series("lower bound, numbered pages 8 at a time", &plot_pages_bound),
            series("seed 000 standard sync", &plot_std),
            series("sequential pager", &plot_seq),
        ],
    )?;
    crate::plot::log_log(
        &plots.join("pull-calls.svg"),
        "Full pull: API requests against issues",
        "issues",
        "requests",
        &[
            series("roadmap", &plot_calls),
            series(
                "seed 000 standard sync (counted; 1 + N + 5N/6 beyond 515)",
                &plot_std_calls,
            ),
        ],
    )?;
    writeln!(
        md,
        "![wall time](bench/pull-time.svg)\n\n![API calls](bench/pull-calls.svg)\n"
    )?;

    resume_bench(&mut md, quick)?;

    // 2. Incremental pulls at 10,000 issues.
    let n = if quick { 2_000 } else { 10_000 };
    writeln!(md, "## Incremental pulls at {n} issues\n")?;
    writeln!(
        md,
        "| change on GitHub | time | API calls | 304s | files written |"
    )?;
    writeln!(md, "|---|---:|---:|---:|---:|")?;
    let sim = start_sim(n, 20, 0, Wire::github())?;
    let dir = scratch()?;
    roadmap(dir.path(), &["init", "--repo", "octo/demo"]).output()?;
    let url = sim.sim.url();
    let pull = |sim: &Sim| -> Result<(f64, u64, u64, u64)> {
        sim.sim.reset_metrics();
        let (t, _, out) = run_measured(&mut roadmap(
            dir.path(),
            &["sync", "pull", "--json", "--api-url", &url],
        ))?;
        let r: serde_json::Value = serde_json::from_str(&out)?;
        let m = sim.sim.metrics();
        Ok((
            t,
            m.requests,
            m.not_modified,
            r["files_written"].as_u64().unwrap_or(0),
        ))
    };
    pull(&sim)?; // full
    pull(&sim)?; // first incremental: asks `since` the watermark once
    let mut rows = vec![("none (no-change pull)".to_owned(), 0u64)];
    for edits in [1u64, 10, 1000.min(n)] {
        rows.push((format!("{edits} issues edited"), edits));
    }
    for (label, edits) in rows {
        for k in 0..edits {
            sim.sim.edit_issue("octo", "demo", 1 + (k * 7919) % n, |i| {
                i.title = format!("edited {k}")
            });
        }
        let mut times = Vec::new();
        let (t, calls, nm, files) = pull(&sim)?;
        times.push(t);
        if edits == 0 {
            for _ in 0..4 {
                times.push(pull(&sim)?.0);
            }
        }
        let s = stats(times);
        writeln!(
            md,
            "| {label} | {} | {calls} | {nm} | {files} |",
            if edits == 0 {
                fmt_ms(&s)
            } else {
                format!("{:.2} s", s.median)
            }
        )?;
        eprintln!("incremental {label}: {:.3} s, {calls} calls", s.median);
        if edits > 0 {
            pull(&sim)?; // settle the watermark so the next row starts from no change
        }
    }
    writeln!(
        md,
        "\nA no-change pull sends one conditional request per resource, all at once: four 304s, no rate limit used, no file written.\n"
    )?;
    drop(sim);

    // 3. Push.
    push_bench(&mut md, quick)?;
    relations_bench(&mut md, quick)?;

    // 4. Local commands as whole processes.
    let sizes: Vec<usize> = if quick {
        vec![1_000, 10_000]
    } else {
        vec![1_000, 10_000, 100_000]
    };
    writeln!(md, "## Local commands (whole processes, warm page cache)\n")?;
    writeln!(
        md,
        "| issues | list --status open --assignee X | search | show | report (HTML) | index rebuild | reconcile after one edit | list peak RSS |"
    )?;
    writeln!(md, "|---:|---:|---:|---:|---:|---:|---:|---:|")?;
    let (mut p_list, mut p_search, mut p_show, mut p_reconcile, mut p_report) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for &n in &sizes {
        let dir = scratch()?;
        crate::gen_tree::generate(dir.path(), n, 100)?;
        let p = dir.path();
        run_measured(&mut roadmap(p, &["index", "rebuild"]))?;
        let reps = if n >= 100_000 { 5 } else { 11 };
        let time = |args: &[&str]| -> Result<(Stats, u64)> {
            let mut v = Vec::new();
            let mut rss = 0;
            for _ in 0..reps {
                let (t, r, _) = run_measured(&mut roadmap(p, args))?;
                v.push(t);
                rss = rss.max(r);
            }
            Ok((stats(v), rss))
        };
        let (list, list_rss) = time(&["issue", "list", "--status", "open", "--assignee", "alice"])?;
        let (search, _) = time(&["search", "login crash"])?;
        let (show, _) = time(&["issue", "show", "gh-42"])?;
        let (report, _) = time(&["report", "-o", "report.html"])?;
        let mut rebuild = Vec::new();
        for _ in 0..3 {
            rebuild.push(run_measured(&mut roadmap(p, &["index", "rebuild"]))?.0);
        }
        let rebuild = stats(rebuild);
        let mut reconcile = Vec::new();
        for k in 0..reps {
            let f = p.join(".roadmap/issues/gh-7.md");
            let text = std::fs::read_to_string(&f)?;
            std::fs::write(&f, text.replacen("title: ", &format!("title: e{k} "), 1))?;
            reconcile.push(run_measured(&mut roadmap(p, &["issue", "list", "--limit", "1"]))?.0);
        }
        let reconcile = stats(reconcile);
        writeln!(
            md,
            "| {n} | {} | {} | {} | {} | {} | {} | {} MB |",
            fmt_ms(&list),
            fmt_ms(&search),
            fmt_ms(&show),
            fmt_ms(&report),
            fmt_s(&rebuild),
            fmt_ms(&reconcile),
            list_rss / 1024
        )?;
        p_list.push((n as f64, list.median * 1000.0));
        p_search.push((n as f64, search.median * 1000.0));
        p_show.push((n as f64, show.median * 1000.0));
        p_reconcile.push((n as f64, reconcile.median * 1000.0));
        p_report.push((n as f64, report.median * 1000.0));
        eprintln!(
            "local {n}: list {:.1} ms, search {:.1} ms, report {:.1} ms, rebuild {:.2} s",
            list.median * 1000.0,
            search.median * 1000.0,
            report.median * 1000.0,
            rebuild.median
        );
    }
    writeln!(
        md,
        "\nEach local command opens the index and reconciles it with the files (a stat of every file) before answering, so these times include that check. \"Reconcile after one edit\" is `issue list --limit 1` right after rewriting one file. \"Report\" is `roadmap report` (the timeline, the dependency graph of about 3 % of the issues, the sub-issue trees of 8 %, a burn-up per milestone and every open issue, written to one HTML file).\n"
    )?;
    crate::plot::log_log(
        &plots.join("local.svg"),
        "Local commands (whole processes) against tree size",
        "issues",
        "milliseconds",
        &[
            series("issue list --status open --assignee X", &p_list),
            series("search", &p_search),
            series("issue show", &p_show),
            series("reconcile after one edit", &p_reconcile),
            series("report (HTML)", &p_report),
        ],
    )?;
    writeln!(md, "![local commands](bench/local.svg)\n")?;
    writeln!(
        md,
        "## Reproduce\n\n```sh\ncargo xtask bench          # everything above (about 15 minutes on 2 cores)\ncargo xtask bench --quick  # a subset, under 3 minutes after the release build (tables in target/benchmarks-quick.md, plots in target/bench-quick/)\ncargo bench -p roadmap-benches   # criterion micro-benchmarks\n```"
    )?;
    let out = root().join(if quick {
        "target/benchmarks-quick.md"
    } else {
        "docs/benchmarks.md"
    });
    std::fs::write(&out, &md)?;
    println!("{md}");
    eprintln!("plots in {}", plots.display());
    eprintln!("wrote {}", out.display());
    KEPT.lock().unwrap_or_else(|e| e.into_inner()).clear();
    Ok(())
}

/// Push: 100 issues edited and 20 created locally, pushed by `roadmap sync push` against the
/// simulator with GitHub's limits on; compared with the pacing bound (the writes, one spacing
/// apart).
fn push_bench(md: &mut String, quick: bool) -> Result<()> {
    use roadmap_model::{Issue, ItemId};
    let (n, edits, creates) = (1_000u64, 100u64, 20u64);
    let spacing_ms: u64 = if quick { 100 } else { 1000 };
    let sim = start_sim_with(n, 10, 0, Limits::default(), Wire::github())?;
    let dir = scratch()?;
    let p = dir.path();
    roadmap(p, &["init", "--repo", "octo/demo"]).output()?;
    roadmap(
        p,
        &["config", "set", "write_spacing_ms", &spacing_ms.to_string()],
    )
    .output()?;
    let url = sim.sim.url();
    run_measured(&mut roadmap(p, &["sync", "pull", "--api-url", &url]))?;
    let store = roadmap_store::Store::open(p)?;
    for k in 1..=edits {
        let id = ItemId::for_remote_issue(k * 7 % n + 1);
        let mut f = store.get::<Issue>(&id)?;
        f.item_mut().title = format!("edited for the push benchmark {k}");
        store.save(&mut f)?;
    }
    for k in 0..creates {
        let mut i = Issue::new(
            ItemId::new(format!("{:08x}", 0xbe00_0000u64 + k))?,
            format!("created for the push benchmark {k}"),
        );
        i.body = "Made as a file.\n".into();
        store.create(i)?;
    }
    sim.sim.reset_metrics();
    let (t, _, out) = run_measured(&mut roadmap(
        p,
        &["sync", "push", "--json", "--api-url", &url],
    ))?;
    let r: serde_json::Value = serde_json::from_str(&out).context("push report")?;
    let push = &r["push"];
    let writes = push["writes"].as_u64().unwrap_or(0);
    let pull_ms = r["pull"]["duration_ms"].as_u64().unwrap_or(0);
    let waited = push["api"]["wait_time"].as_u64().unwrap_or(0) as f64 / 1000.0;
    let bound = writes.saturating_sub(1) as f64 * spacing_ms as f64 / 1000.0;
    let limited = sim.sim.metrics().rate_limited;
    let push_s = push["duration_ms"].as_u64().unwrap_or(0) as f64 / 1000.0;
    writeln!(md, "## Push: {edits} edited and {creates} new issues\n")?;
    writeln!(
        md,
        "`roadmap sync push` as a whole process, against a repository of {n} issues, GitHub's latency model and GitHub's limits (secondary: 80 creations a minute, 900 points a minute, writes cost 5). Writes are serialized and start `write_spacing_ms` = {spacing_ms} ms apart{}.\n",
        if quick {
            " (the quick run shortens GitHub's 1 s to keep under its time budget)"
        } else {
            ", as GitHub asks"
        }
    )?;
    writeln!(
        md,
        "| writes | pacing bound (writes − 1) × spacing | push phase | ratio | whole process (pull first) | waited for spacing | secondary-limit answers |"
    )?;
    writeln!(md, "|---:|---:|---:|---:|---:|---:|---:|---:|")?;
    writeln!(
        md,
        "| {writes} | {bound:.1} s | {push_s:.1} s | {:.2} | {t:.1} s (pull {:.2} s) | {waited:.1} s | {limited} |\n",
        push_s / bound.max(0.001),
        pull_ms as f64 / 1000.0
    )?;
    writeln!(
        md,
        "The push phase is the bound plus one write's round trip: everything else (reading 1,000 files, intents, file and index writes) overlaps the waits. GraphQL batching would not move the bound (decision 0003).\n"
    )?;
    eprintln!("push: {writes} writes in {push_s:.1} s (bound {bound:.1} s), {limited} limited");
    Ok(())
}

/// A full pull of a repository with GitHub's own relations against the same repository
/// without them: the extra requests are one per related issue's non-empty list, whatever the
/// repository's size (decision 0011). `cargo xtask bench-relations [--quick]` runs it alone.
pub fn relations_bench(md: &mut String, quick: bool) -> Result<()> {
    let n: u64 = if quick { 2_000 } else { 10_000 };
    // 150 dependencies among 300 issues (#2k waits for #2k-1), 10 epics of 5 sub-issues.
    let (deps, epics, per_epic) = (150u64, 10u64, 5u64);
    let runs = if quick { 1 } else { 3 };
    writeln!(
        md,
        "## Pull with GitHub's dependencies and sub-issues\n\n`roadmap sync pull --full --json` as a whole process, {n} issues, in-process simulator with GitHub's latency model (cursor listing), {runs} run(s) each, fresh project each run. \"Related\": {deps} dependencies among {} issues and {epics} epics of {per_epic} sub-issues; the baseline is the same repository without them.\n",
        deps * 2
    )?;
    writeln!(
        md,
        "| repository | pull (median) | API calls | relation lists read | files with relations |"
    )?;
    writeln!(md, "|---|---:|---:|---:|---:|")?;
    let mut base_median = 0.0;
    for related in [false, true] {
        let sim = start_sim(n, 6, 0, Wire::github())?;
        if related {
            sim.sim.with_world(|w| {
                if let Some(r) = w.repos.values_mut().find(|r| r.name == "demo") {
                    for k in 1..=deps {
                        r.blocked_by.insert(2 * k, vec![2 * k - 1]);
                    }
                    for e in 0..epics {
                        let parent = 1_000 + e * 10;
                        r.sub_issues
                            .insert(parent, (1..=per_epic).map(|c| parent + c).collect());
                    }
                }
            });
        }
        let url = sim.sim.url();
        let mut times = Vec::new();
        let (mut calls, mut lists, mut with) = (0, 0, 0);
        for _ in 0..runs {
            let dir = scratch()?;
            roadmap(dir.path(), &["init", "--repo", "octo/demo"]).output()?;
            sim.sim.reset_metrics();
            let (t, _, out) = run_measured(&mut roadmap(
                dir.path(),
                &["sync", "pull", "--full", "--json", "--api-url", &url],
            ))?;
            let r: serde_json::Value = serde_json::from_str(&out).context("pull report")?;
            calls = r["api"]["endpoints"]
                .as_object()
                .map_or(0, |e| e.values().filter_map(|v| v["calls"].as_u64()).sum());
            lists = r["api"]["endpoints"].as_object().map_or(0, |e| {
                e.iter()
                    .filter(|(k, _)| k.contains("/dependencies/") || k.contains("/sub_issues"))
                    .filter_map(|(_, v)| v["calls"].as_u64())
                    .sum()
            });
            let store = roadmap_store::Store::open(dir.path())?;
            with = store
                .load_all::<roadmap_model::Issue>()?
                .items
                .iter()
                .filter(|f| {
                    let i = f.item();
                    !i.depends_on.is_empty() || !i.blocks.is_empty() || i.parent.is_some()
                })
                .count();
            times.push(t);
        }
        let s = stats(times);
        if !related {
            base_median = s.median;
        }
        writeln!(
            md,
            "| {} | {} | {calls} | {lists} | {with} |",
            if related {
                format!(
                    "related ({:.2}× the baseline)",
                    s.median / base_median.max(0.001)
                )
            } else {
                "no relations (baseline)".to_owned()
            },
            fmt_s(&s)
        )?;
        eprintln!("relations: related={related} {calls} calls, {lists} relation lists");
    }
    writeln!(
        md,
        "\nThe parents come with the listing (`parent_issue_url`): no sub-issue list is read. Each dependency costs two lists (one per side, read only where the summaries say so); they are read up to 8 pages ahead of the page being applied and share the client's read slots (`workers`, 8) with the listing, so 300 lists of ~103 ms each cost at least 300 × 0.103 / 8 ≈ 3.9 s of slot time on top of the listing's.\n"
    )?;
    Ok(())
}
