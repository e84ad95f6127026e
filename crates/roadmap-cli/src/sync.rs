//! `roadmap sync [pull|push|status]`, `roadmap conflicts`, `roadmap doctor`, `roadmap cache`,
//! `roadmap demo`.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use roadmap_cache::{Cache, CacheOptions};
use roadmap_github::GitHub;
use roadmap_index::{Index, IssueQuery};
use roadmap_model::TrackerError;
use roadmap_store::Store;
use roadmap_sync::{
    Mapping, Phase, PullOptions, PullReport, PushOptions, PushReport, SyncEvent, SyncReport,
    SyncState,
};
use secrecy::SecretString;

use crate::config::Config;

/// Options every command that talks to GitHub accepts.
#[derive(Debug, Clone, clap::Args)]
pub struct Remote {
    /// Repository OWNER/NAME (default: `repo` in the config).
    #[arg(long, global = true)]
    pub repo: Option<String>,
    /// API base URL (default: `api_url` in the config, else `https://api.github.com`).
    #[arg(long, global = true)]
    pub api_url: Option<String>,
}

/// `roadmap sync pull` flags.
#[derive(Debug, Clone, clap::Args)]
pub struct PullArgs {
    /// Pull issues (default: everything unless one of --issues/--milestones/--labels is given).
    #[arg(long)]
    pub issues: bool,
    /// Pull milestones.
    #[arg(long)]
    pub milestones: bool,
    /// Pull labels.
    #[arg(long)]
    pub labels: bool,
    /// Pull comments (default from config `comments`, true).
    #[arg(long, overrides_with = "no_comments")]
    pub comments: bool,
    /// Do not pull comments.
    #[arg(long)]
    pub no_comments: bool,
    /// List everything and look for deleted or transferred issues.
    #[arg(long)]
    pub full: bool,
    /// Parallel requests and file writers (default from config, 8).
    #[arg(long)]
    pub workers: Option<u64>,
    /// Items written per batch, and the fewest per index transaction when that many are waiting (default from config, 50).
    #[arg(long)]
    pub batch_size: Option<u64>,
    /// Show what would change; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Accepted for compatibility with the seed tool; every pull is the fast one.
    #[arg(long, hide = true)]
    pub high_performance: bool,
}

pub struct Target {
    pub owner: String,
    pub name: String,
    pub api_url: String,
}

pub fn target(config: &Config) -> Result<Target> {
    let repo = config.get("repo").context(
        "no repository: pass --repo OWNER/NAME or run `roadmap config set repo OWNER/NAME`",
    )?;
    let (owner, name) = repo
        .split_once('/')
        .filter(|(o, n)| !o.is_empty() && !n.is_empty() && !n.contains('/'))
        .with_context(|| format!("repository `{repo}` is not OWNER/NAME"))?;
    Ok(Target {
        owner: owner.into(),
        name: name.into(),
        api_url: config
            .get("api_url")
            .unwrap_or("https://api.github.com")
            .to_owned(),
    })
}

pub fn client(
    store: &Store,
    config: &Config,
    t: &Target,
    token: Option<SecretString>,
    workers: usize,
) -> Result<GitHub> {
    // A pull reads each page once per run: the disk layer carries ETags between runs, and a
    // small memory layer keeps peak memory flat however big the repository is.
    let dir = store.layout().cache_dir();
    for x in [store.layout().dir(), dir.as_path()] {
        if std::fs::symlink_metadata(x).is_ok_and(|m| m.file_type().is_symlink()) {
            anyhow::bail!(
                "refusing to use {}: it is a symlink (a cloned project could point it anywhere); remove it",
                x.display()
            );
        }
    }
    let cache = Arc::new(Cache::new(
        Some(dir),
        CacheOptions {
            max_memory: 4 << 20,
            ..CacheOptions::default()
        },
    ));
    Ok(GitHub::builder(&t.owner, &t.name)
        .api_url(&t.api_url)
        .token(token)
        .workers(workers)
        .write_spacing(Duration::from_millis(
            config
                .get("write_spacing_ms")
                .and_then(|v| v.parse().ok())
                .unwrap_or(1000),
        ))
        .points_per_minute(
            config
                .get("points_per_minute")
                .and_then(|v| v.parse().ok())
                .unwrap_or(900),
        )
        .cache(Some(cache))
        .build()?)
}

/// The token for the run's API host, if that host may have one (see `auth`).
pub fn token(config: &Config, t: &Target) -> Result<Option<SecretString>> {
    let host = crate::auth::host(config, &t.api_url)?;
    if !host.may_have_token() {
        tracing::warn!(
            "the project's .roadmap/config.toml names the API host {h}, which you have not approved: no token is sent there. To trust it, pass --api-url, or run `roadmap config set --user allowed_hosts {h}`",
            h = host.name
        );
        return Ok(None);
    }
    Ok(match crate::auth::find_token(&host) {
        Some((tok, src)) => {
            tracing::info!("sending the token from {} to {}", src.describe(), host.name);
            Some(tok)
        }
        None => {
            tracing::warn!(
                "no token found for {} (GITHUB_TOKEN, GH_TOKEN, GH_ENTERPRISE_TOKEN, `gh auth token`): unauthenticated, 60 requests an hour",
                host.name
            );
            None
        }
    })
}

/// Renders sync events: bars on a terminal, plain lines otherwise.
pub struct Progress {
    bar: Mutex<Option<ProgressBar>>,
    started: Mutex<Option<std::time::Instant>>,
    fancy: bool,
    quiet: bool,
}

/// A bar with an ETA once the total is known (a full pull asks the search API for the count
/// up front); without one (comments, an incremental pull, a host without search) the count
/// and the rate, no made-up total.
const BAR: &str = "{prefix:>11} [{bar:30}] {pos}/{len} {per_sec} ETA {eta}";
const COUNTER: &str = "{prefix:>11} {spinner} {pos} items, {per_sec}";

impl Progress {
    pub fn new(quiet: bool) -> Self {
        Progress {
            bar: Mutex::new(None),
            started: Mutex::new(None),
            fancy: std::io::stderr().is_terminal(),
            quiet,
        }
    }

    pub fn handle(&self, ev: SyncEvent) {
        if self.quiet {
            return;
        }
        let mut bar = self.bar.lock().unwrap_or_else(|e| e.into_inner());
        match ev {
            SyncEvent::Started(phase) => {
                if self.fancy {
                    let b = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
                    b.set_style(
                        ProgressStyle::with_template(COUNTER)
                            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                    );
                    b.set_prefix(phase.as_str());
                    *bar = Some(b);
                } else {
                    *self.started.lock().unwrap_or_else(|e| e.into_inner()) =
                        Some(std::time::Instant::now());
                    eprintln!("{}: started", phase.as_str());
                }
            }
            SyncEvent::Progress { phase, done, total } => {
                if let Some(b) = bar.as_ref() {
                    if let Some(t) = total {
                        if b.length().is_none() {
                            b.set_style(
                                ProgressStyle::with_template(BAR)
                                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                                    .progress_chars("=> "),
                            );
                        }
                        b.set_length(t.max(done));
                    }
                    b.set_position(done);
                } else if !self.fancy
                    && (done % 1000 == 0 || total == Some(done))
                    && phase == Phase::Issues
                {
                    let secs = self
                        .started
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .map_or(0.0, |t| t.elapsed().as_secs_f64());
                    let rate = if secs > 0.0 { done as f64 / secs } else { 0.0 };
                    eprintln!(
                        "{}: {done}{}, {rate:.0}/s",
                        phase.as_str(),
                        total.map(|t| format!(" of about {t}")).unwrap_or_default()
                    );
                }
            }
            SyncEvent::Finished(phase) => {
                if let Some(b) = bar.take() {
                    b.finish_and_clear();
                } else if !self.fancy {
                    eprintln!("{}: done", phase.as_str());
                }
            }
            _ => {}
        }
    }
}

pub fn print_report(out: &mut impl Write, r: &PullReport, json: bool) -> Result<()> {
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(r)?)?;
        return Ok(());
    }
    let secs = r.duration_ms as f64 / 1000.0;
    let items = r.items();
    let api = &r.api;
    writeln!(
        out,
        "Pull report{}{}",
        match (r.full, r.resumed) {
            (true, true) => " (full, resumed from an interrupted pull)",
            (true, false) => " (full)",
            _ => " (incremental)",
        },
        if r.dry_run {
            " [dry run: nothing written]"
        } else {
            ""
        }
    )?;
    writeln!(out, "  total time      {secs:.2} s")?;
    writeln!(
        out,
        "  throughput      {:.0} items/s ({items} items)",
        if secs > 0.0 { items as f64 / secs } else { 0.0 }
    )?;
    writeln!(
        out,
        "  API calls       {} ({} answered 304, {} retries{})",
        api.calls(),
        api.not_modified(),
        api.retries(),
        if api.retry_time.is_zero() {
            String::new()
        } else {
            format!(" after {:.1} s of backoff", api.retry_time.as_secs_f64())
        }
    )?;
    for (k, v) in &api.endpoints {
        writeln!(
            out,
            "    {k:<48} {:>5} calls {:>5} x 304",
            v.calls, v.not_modified
        )?;
    }
    writeln!(
        out,
        "  waits           {} ({:.1} s) for rate limits and pacing",
        api.waits,
        api.wait_time.as_secs_f64()
    )?;
    if let (Some(rem), Some(lim)) = (api.rate_remaining, api.rate_limit) {
        writeln!(
            out,
            "  rate limit      {rem}/{lim} left{}",
            api.rate_reset
                .map(|t| format!(", resets {t}"))
                .unwrap_or_default()
        )?;
    }
    writeln!(out, "  files written   {}", r.files_written)?;
    for (name, c) in &r.resources {
        writeln!(
            out,
            "  {name:<15} {} fetched: {} created, {} updated, {} merged, {} unchanged, {} local-only, {} conflicts, {} failed, {} skipped",
            c.fetched,
            c.created,
            c.updated,
            c.merged,
            c.unchanged,
            c.local_pending,
            c.conflicts,
            c.failed,
            c.skipped
        )?;
    }
    let total = items.max(1);
    writeln!(
        out,
        "  success rate    {:.1}%",
        100.0 * (total.saturating_sub(r.failures.len() as u64)) as f64 / total as f64
    )?;
    for c in &r.conflicts {
        writeln!(
            out,
            "  conflict        {c}: the same field edited here and on GitHub; left alone (`roadmap conflicts list`)"
        )?;
    }
    for l in &r.lost {
        writeln!(out, "  lost            {l} (file kept)")?;
    }
    for f in &r.failures {
        writeln!(out, "  failed          {}: {}", f.what, f.reason)?;
    }
    Ok(())
}

fn workers(config: &Config, flag: Option<u64>) -> usize {
    flag.unwrap_or_else(|| {
        config
            .get("workers")
            .and_then(|v| v.parse().ok())
            .unwrap_or(8)
    })
    .max(1) as usize
}

/// How roadmap-only fields travel, from the config (`status_labels`, `priority_labels`,
/// `hidden_fields`).
pub fn mapping(config: &Config) -> Mapping {
    let prefix = |key: &str, default: &str| -> Option<String> {
        let v = config.get(key).unwrap_or(default);
        (!v.is_empty() && v != "off" && v != "false").then(|| v.to_owned())
    };
    Mapping {
        status_prefix: prefix("status_labels", roadmap_sync::map::STATUS_PREFIX),
        priority_prefix: prefix("priority_labels", roadmap_sync::map::PRIORITY_PREFIX),
        hidden_fields: config.get("hidden_fields") != Some("false"),
    }
}

fn pull_options(config: &Config, args: &PullArgs) -> PullOptions {
    let any = args.issues || args.milestones || args.labels;
    let comments = if args.no_comments {
        false
    } else {
        args.comments || config.get("comments") != Some("false")
    };
    PullOptions {
        issues: !any || args.issues,
        milestones: !any || args.milestones,
        labels: !any || args.labels,
        comments: comments && (!any || args.issues),
        full: args.full,
        workers: workers(config, args.workers),
        batch_size: args
            .batch_size
            .unwrap_or_else(|| {
                config
                    .get("batch_size")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(50)
            })
            .max(1) as usize,
        dry_run: args.dry_run,
        mapping: mapping(config),
    }
}

fn push_options(config: &Config, dry_run: bool) -> PushOptions {
    PushOptions {
        dry_run,
        mapping: mapping(config),
        label_color: config.get("label_color").unwrap_or("ededed").to_owned(),
    }
}

/// Exit codes of a sync (documented in the README and `roadmap --help`).
pub mod exit {
    /// Everything synced.
    pub const OK: u8 = 0;
    /// Nothing could be done: GitHub unreachable, the token refused, no such repository,
    /// bad input (one line on stderr says which and what to do).
    pub const FAILED: u8 = 1;
    /// Some items synced and some did not (the report lists them); a rerun goes on.
    pub const PARTIAL: u8 = 3;
    /// Stopped by a rate limit that outlasts the longest wait: run again after the time
    /// printed (a full pull resumes where it stopped).
    pub const RATE_LIMITED: u8 = 4;
}

/// An error that ends the command with its own exit code; main prints `message` as one line.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Stop {
    pub code: u8,
    pub message: String,
}

/// Who a run talked to, for the line that explains why it stopped.
struct Peer {
    /// `host[:port]`, as `auth::host` names it.
    host: String,
    /// `OWNER/NAME`.
    repo: String,
    /// Whether a token was sent.
    token: bool,
}

impl Peer {
    fn of(config: &Config, t: &Target, token: bool) -> Result<Peer> {
        Ok(Peer {
            host: crate::auth::host(config, &t.api_url)?.name,
            repo: format!("{}/{}", t.owner, t.name),
            token,
        })
    }
}

/// One line for a tracker error that stopped a run: what happened, on which host, and what
/// to do about it.
fn explain(e: &TrackerError, peer: &Peer) -> Option<Stop> {
    let Peer { host, repo, token } = peer;
    let token = *token;
    let (code, message) = match e {
        TrackerError::Unreachable { host, message } => (
            exit::FAILED,
            format!(
                "cannot reach {host}: {message}. Check the API address (--api-url, or api_url in the config), the network and any proxy"
            ),
        ),
        TrackerError::Unauthorized { .. } if token => (
            exit::FAILED,
            format!(
                "{host} refused the token (401 Bad credentials): it is wrong, expired or revoked. Set GITHUB_TOKEN (or GH_TOKEN) to a valid token, or log in again with `gh auth login`"
            ),
        ),
        TrackerError::Unauthorized { .. } => (
            exit::FAILED,
            format!(
                "{host} requires a token (401) and none was found. Set GITHUB_TOKEN (or GH_TOKEN), or log in with `gh auth login`"
            ),
        ),
        TrackerError::NotFound { .. } => (
            exit::FAILED,
            format!(
                "{repo} was not found on {host}, or the token cannot see it. Check the repository (--repo, or repo in the config){}",
                if token {
                    " and that the token may read it"
                } else {
                    "; a private repository needs a token (GITHUB_TOKEN)"
                }
            ),
        ),
        TrackerError::RateLimited { retry_at, .. } => (
            exit::RATE_LIMITED,
            format!(
                "{host}: rate limited; retry after {} ({retry_at}). A full pull run again then goes on where it stopped",
                retry_at.0.with_timezone(&chrono::Local).format("%H:%M")
            ),
        ),
        _ => return None,
    };
    Some(Stop { code, message })
}

/// A sync error as the one line main prints (tracker errors explained, others as they are).
fn stop(e: roadmap_sync::SyncError, peer: &Peer) -> anyhow::Error {
    match &e {
        roadmap_sync::SyncError::Tracker(te) => match explain(te, peer) {
            Some(s) => s.into(),
            None => e.into(),
        },
        _ => e.into(),
    }
}

/// The exit code of a finished run.
fn code(partial: bool, synced_any: bool, stopped_by: Option<&TrackerError>) -> u8 {
    match stopped_by {
        Some(TrackerError::RateLimited { .. }) => exit::RATE_LIMITED,
        _ if !partial => exit::OK,
        _ if synced_any => exit::PARTIAL,
        _ => exit::FAILED,
    }
}

pub async fn pull(
    store: &Store,
    config: &Config,
    args: &PullArgs,
    out: &mut impl Write,
) -> Result<u8> {
    let t = target(config)?;
    let opts = pull_options(config, args);
    let token = token(config, &t)?;
    let peer = Peer::of(config, &t, token.is_some())?;
    let gh = client(store, config, &t, token, opts.workers)?;
    let (index, _) = Index::open(store).await?;
    let progress = Progress::new(args.json);
    let repo = format!("{}/{}", t.owner, t.name);
    let report = roadmap_sync::pull(&gh, &index, &repo, &opts, &|e| progress.handle(e))
        .await
        .map_err(|e| stop(e, &peer))?;
    print_report(out, &report, args.json)?;
    index.close().await;
    Ok(code(report.partial(), report.synced_any(), None))
}

/// `roadmap sync` (pull, merge, push) or, with `push_only`, `roadmap sync push`.
pub async fn two_way(
    store: &Store,
    config: &Config,
    args: &PullArgs,
    push_only: bool,
    out: &mut impl Write,
) -> Result<u8> {
    let t = target(config)?;
    let pull_opts = pull_options(config, args);
    let push_opts = push_options(config, args.dry_run);
    let token = token(config, &t)?;
    let peer = Peer::of(config, &t, token.is_some())?;
    let gh = client(store, config, &t, token, pull_opts.workers)?;
    let (index, _) = Index::open(store).await?;
    let progress = Progress::new(args.json);
    let repo = format!("{}/{}", t.owner, t.name);
    let events = |e| progress.handle(e);
    let report = if push_only {
        roadmap_sync::push(&gh, &index, &repo, &push_opts, &events).await
    } else {
        roadmap_sync::sync(&gh, &index, &repo, &pull_opts, &push_opts, &events).await
    }
    .map_err(|e| stop(e, &peer))?;
    index.close().await;
    let stopped_by = report.push.stopped_by.as_ref();
    // Stopped before anything was done: the reason is the whole story.
    if let Some(e) = stopped_by
        && !report.synced_any()
        && let Some(s) = explain(e, &peer)
    {
        return Err(s.into());
    }
    print_sync_report(out, &report, args.json, gh_spacing(config))?;
    Ok(code(report.partial(), report.synced_any(), stopped_by))
}

fn gh_spacing(config: &Config) -> Duration {
    Duration::from_millis(
        config
            .get("write_spacing_ms")
            .and_then(|v| v.parse().ok())
            .unwrap_or(1000),
    )
}

pub fn print_sync_report(
    out: &mut impl Write,
    r: &SyncReport,
    json: bool,
    spacing: Duration,
) -> Result<()> {
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(r)?)?;
        return Ok(());
    }
    print_report(out, &r.pull, false)?;
    writeln!(out)?;
    print_push_report(out, &r.push, spacing)
}

pub fn print_push_report(out: &mut impl Write, r: &PushReport, spacing: Duration) -> Result<()> {
    writeln!(
        out,
        "Push report{}",
        if r.dry_run {
            " [dry run: the plan; nothing sent or written]"
        } else {
            ""
        }
    )?;
    writeln!(
        out,
        "  total time      {:.2} s",
        r.duration_ms as f64 / 1000.0
    )?;
    let bound = spacing.as_secs_f64() * r.writes.saturating_sub(1) as f64;
    writeln!(
        out,
        "  writes          {} (pacing bound {bound:.1} s at {} ms apart; waited {:.1} s for spacing, content budget and limits)",
        r.writes,
        spacing.as_millis(),
        r.api.wait_time.as_secs_f64()
    )?;
    let kinds = |m: &std::collections::BTreeMap<&str, u64>| {
        if m.is_empty() {
            "none".to_owned()
        } else {
            m.iter()
                .map(|(k, v)| format!("{v} {k}"))
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    writeln!(out, "  created         {}", kinds(&r.created))?;
    writeln!(
        out,
        "  updated         {} ({} closed, {} reopened)",
        kinds(&r.updated),
        r.closed,
        r.reopened
    )?;
    if r.resumed > 0 {
        writeln!(
            out,
            "  resumed         {} creates of an interrupted run found on GitHub and linked",
            r.resumed
        )?;
    }
    for p in &r.plan {
        writeln!(
            out,
            "  {:<15} {}{}",
            p.action,
            p.what,
            if p.fields.is_empty() {
                String::new()
            } else {
                format!(" ({})", p.fields.join(", "))
            }
        )?;
    }
    for c in &r.conflicts {
        writeln!(
            out,
            "  conflict        {c}: not pushed until resolved (`roadmap conflicts list`)"
        )?;
    }
    for f in &r.failures {
        writeln!(out, "  failed          {}: {}", f.what, f.reason)?;
    }
    if let Some(why) = &r.stopped {
        writeln!(
            out,
            "  stopped         {why}; run `roadmap sync` again then to resume"
        )?;
    }
    if r.pending > 0 {
        writeln!(
            out,
            "  pending         {} items left for the next push",
            r.pending
        )?;
    }
    Ok(())
}

/// `roadmap conflicts list`.
pub fn conflicts_list(store: &Store, json: bool, out: &mut impl Write) -> Result<()> {
    let list = roadmap_sync::conflicts::list(store)?;
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(&list)?)?;
        return Ok(());
    }
    if list.is_empty() {
        writeln!(out, "no conflicts")?;
    }
    for c in &list {
        writeln!(
            out,
            "{}{} \"{}\"  (GitHub's version: {})",
            c.id,
            c.number.map(|n| format!(" (#{n})")).unwrap_or_default(),
            crate::render::clip(&c.title, 60),
            c.theirs_path.display()
        )?;
        for f in &c.fields {
            let show = |v: &str| crate::render::clip(&v.replace('\n', "⏎"), 60);
            writeln!(
                out,
                "  {:<10} ours: {}   theirs: {}{}",
                f.field,
                show(&f.ours),
                show(&f.theirs),
                f.base
                    .as_deref()
                    .map(|b| format!("   base: {}", show(b)))
                    .unwrap_or_default()
            )?;
        }
    }
    if !list.is_empty() {
        writeln!(
            out,
            "resolve with `roadmap conflicts resolve ID --ours|--theirs|--edit`"
        )?;
    }
    Ok(())
}

/// `roadmap conflicts resolve`.
pub fn conflicts_resolve(
    store: &Store,
    key: &str,
    side: Option<roadmap_sync::merge::Side>,
    editor: Option<&str>,
    out: &mut impl Write,
) -> Result<()> {
    use roadmap_sync::conflicts;
    // `#12` names the issue by number.
    let id = match key.strip_prefix('#').and_then(|n| n.parse::<u64>().ok()) {
        Some(n) => conflicts::list(store)?
            .into_iter()
            .find(|c| c.number == Some(n))
            .map(|c| c.id)
            .with_context(|| format!("issue #{n} is not in conflict"))?,
        None => key.to_owned(),
    };
    let path = match side {
        Some(side) => conflicts::resolve(store, &id, side)?,
        None => {
            let (path, fields) = conflicts::prepare_edit(store, &id)?;
            for f in &fields {
                writeln!(
                    out,
                    "{}: ours {:?}, theirs {:?}{}",
                    f.field,
                    crate::render::clip(&f.ours, 60),
                    crate::render::clip(&f.theirs, 60),
                    if f.field == "body" {
                        " (marked in the body)"
                    } else {
                        " (the file holds ours)"
                    }
                )?;
            }
            out.flush()?;
            crate::local::edit_in_editor(&path, editor)?;
            conflicts::finish_edit(store, &id)?
        }
    };
    writeln!(
        out,
        "resolved {id}: {} now holds the result; `roadmap sync push` sends it",
        path.display()
    )?;
    Ok(())
}

pub fn status(store: &Store, config: &Config, out: &mut impl Write) -> Result<()> {
    let repo = config.get("repo").unwrap_or("(no repo configured)");
    let state = SyncState::load(store, repo)?;
    writeln!(out, "repository   {repo}")?;
    if state.watermarks.is_empty() {
        writeln!(out, "watermarks   none yet: the next pull is a full one")?;
    }
    for (k, v) in &state.watermarks {
        writeln!(out, "watermark    {k:<9} {v}")?;
    }
    match &state.last_run {
        Some(r) => writeln!(
            out,
            "last pull    {} ({:.2} s, {} API calls{})",
            r.finished.map(|t| t.to_string()).unwrap_or_default(),
            r.duration_ms as f64 / 1000.0,
            r.api_calls,
            if r.partial { ", partial" } else { "" }
        )?,
        None => writeln!(out, "last pull    never")?,
    }
    let issues = store.load_all::<roadmap_model::Issue>()?;
    let new = issues
        .items
        .iter()
        .filter(|f| f.item().remote.is_none())
        .count();
    let edited = issues
        .items
        .iter()
        .filter(|f| f.item().remote.is_some() && roadmap_sync::map::locally_edited(f.item()))
        .count();
    writeln!(
        out,
        "to push      {new} new issues, {edited} edited issues{}",
        if issues.skipped.is_empty() {
            String::new()
        } else {
            format!(" ({} files unreadable)", issues.skipped.len())
        }
    )?;
    for e in issues.skipped.iter().take(10) {
        writeln!(out, "unreadable   {e}")?;
    }
    let conflicts = roadmap_sync::conflicts::list(store)?;
    if conflicts.is_empty() {
        writeln!(out, "conflicts    none")?;
    }
    for c in &conflicts {
        writeln!(
            out,
            "conflict     {}: {} changed here and on GitHub (`roadmap conflicts resolve {} --ours|--theirs|--edit`)",
            c.id,
            c.fields
                .iter()
                .map(|f| f.field)
                .collect::<Vec<_>>()
                .join(", "),
            c.id
        )?;
    }
    Ok(())
}

pub async fn doctor(store: Option<&Store>, config: &Config, out: &mut impl Write) -> Result<bool> {
    let mut ok = true;
    let mut line = |out: &mut dyn Write, good: bool, what: &str, detail: String| -> Result<()> {
        ok &= good;
        writeln!(
            out,
            "[{}] {what:<12} {detail}",
            if good { " ok " } else { "FAIL" }
        )?;
        Ok(())
    };
    let t = match target(config) {
        Ok(t) => {
            line(
                out,
                true,
                "repository",
                format!(
                    "{}/{} at {}",
                    t.owner,
                    t.name,
                    crate::auth::redact(&t.api_url)
                ),
            )?;
            Some(t)
        }
        Err(e) => {
            line(out, false, "repository", e.to_string())?;
            None
        }
    };
    let host = t
        .as_ref()
        .map(|t| crate::auth::host(config, &t.api_url))
        .transpose();
    let token = match &host {
        Ok(Some(h)) if !h.may_have_token() => {
            line(
                out,
                false,
                "token",
                format!(
                    "not sent to {n}: only the project's .roadmap/config.toml names that host (pass --api-url, or `roadmap config set --user allowed_hosts {n}`)",
                    n = h.name
                ),
            )?;
            None
        }
        Ok(Some(h)) => match crate::auth::find_token(h) {
            Some((tok, src)) => {
                line(
                    out,
                    true,
                    "token",
                    format!("from {}, sent to {}", src.describe(), h.name),
                )?;
                Some(tok)
            }
            None => {
                line(
                    out,
                    false,
                    "token",
                    format!(
                        "none for {} in GITHUB_TOKEN, GH_TOKEN, GH_ENTERPRISE_TOKEN or `gh auth token` (unauthenticated: 60 requests/hour)",
                        h.name
                    ),
                )?;
                None
            }
        },
        Ok(None) => None,
        Err(e) => {
            line(out, false, "API URL", e.to_string())?;
            return Ok(false);
        }
    };
    if let (Some(store), Some(t)) = (store, &t) {
        let gh = client(store, config, t, token, 1)?;
        let started = Instant::now();
        match gh.rate_limit().await {
            Ok(Some(b)) => {
                let ms = started.elapsed().as_millis();
                line(out, true, "API", format!("reachable, {ms} ms round trip"))?;
                let when = b.reset.map(|t| t.to_string()).unwrap_or_default();
                line(
                    out,
                    b.remaining > 0,
                    "rate limit",
                    format!("{}/{} left, resets {when}", b.remaining, b.limit),
                )?;
            }
            Ok(None) => {
                let ms = started.elapsed().as_millis();
                line(out, true, "API", format!("reachable, {ms} ms round trip"))?;
                line(
                    out,
                    true,
                    "rate limit",
                    "not enabled on this host (GitHub Enterprise Server default)".into(),
                )?;
            }
            Err(e) => line(out, false, "API", e.to_string())?,
        }
        if gh.authenticated() {
            match gh.current_user().await {
                Ok(login) => line(
                    out,
                    true,
                    "token valid",
                    format!("authenticated as {login}"),
                )?,
                Err(e) => line(out, false, "token valid", e.to_string())?,
            }
        }
        match gh.repository().await {
            Ok(_) => line(out, true, "repo access", "the repository is visible".into())?,
            Err(e) => line(out, false, "repo access", e.to_string())?,
        }
    }
    if let Some(store) = store {
        let cache = Cache::new(Some(store.layout().cache_dir()), CacheOptions::default());
        let s = cache.stats();
        line(
            out,
            true,
            "cache",
            format!(
                "{} entries, {} KiB on disk",
                s.disk_entries,
                s.disk_bytes / 1024
            ),
        )?;
        match Index::open(store).await {
            Ok((index, report)) => {
                let integrity = index.integrity_check().await?;
                let (i, m, _, bad) = index.counts().await?;
                line(
                    out,
                    integrity == "ok" && bad == 0,
                    "index",
                    format!(
                        "{integrity}; {i} issues, {m} milestones, {bad} bad files{}",
                        report
                            .rebuild_reason
                            .map(|r| format!(" (rebuilt: {r})"))
                            .unwrap_or_default()
                    ),
                )?;
            }
            Err(e) => line(out, false, "index", e.to_string())?,
        }
    } else {
        line(
            out,
            false,
            "project",
            "not in a roadmap project (run `roadmap init`)".into(),
        )?;
    }
    Ok(ok)
}

pub fn cache(store: &Store, clear: bool, out: &mut impl Write) -> Result<()> {
    let cache = Cache::new(Some(store.layout().cache_dir()), CacheOptions::default());
    if clear {
        let n = cache.clear()?;
        writeln!(
            out,
            "removed {n} cache entries from {}",
            store.layout().cache_dir().display()
        )?;
    } else {
        let s = cache.stats();
        writeln!(out, "cache        {}", store.layout().cache_dir().display())?;
        writeln!(
            out,
            "disk         {} entries, {} KiB (layout {})",
            s.disk_entries,
            s.disk_bytes / 1024,
            roadmap_cache::LAYOUT
        )?;
        writeln!(out, "memory TTL   5 min, bound 64 MiB (per process)")?;
    }
    Ok(())
}

/// The demo: a simulated GitHub, a pull, a catch-up pull, a no-change pull, then queries.
pub async fn demo(dir: Option<PathBuf>, issues: u64, out: &mut impl Write) -> Result<()> {
    use roadmap_sim::{Latency, RepoSpec, SimConfig, Simulator};
    let mut spec = RepoSpec::new("octo", "demo");
    spec.issues = issues;
    spec.prs = issues / 20;
    spec.milestones = 20;
    spec.labels = 12;
    spec.comments = 2;
    let sim = Simulator::start(SimConfig::default().repo(spec).latency(Latency::github())).await?;
    let tmp;
    let root = match dir {
        Some(d) => d,
        None => {
            tmp = tempfile::tempdir()?;
            tmp.path().to_owned()
        }
    };
    let store = Store::init(&root, "repo = \"octo/demo\"\n")?;
    writeln!(
        out,
        "Simulated GitHub at {} with octo/demo: {issues} issues, {} pull requests, 20 milestones, 2 comments each;",
        sim.url(),
        issues / 20
    )?;
    writeln!(
        out,
        "latency model: 100 ms + 3 ms per item per request (like api.github.com). Project: {}\n",
        root.display()
    )?;
    let config = Config::load(Some(store.layout().dir()), &[("api_url", Some(sim.url()))])?;
    let t = target(&config)?;
    let gh = client(
        &store,
        &config,
        &t,
        Some(SecretString::from("demo-token")),
        8,
    )?;
    let (index, _) = Index::open(&store).await?;
    let progress = Progress::new(false);
    for (title, note) in [
        (
            "1. First pull (full)",
            "every page of issues, milestones, labels and comments; issues by GitHub's cursor links, one page after another, as github.com pages them today",
        ),
        (
            "2. Second pull (incremental)",
            "asks only for what changed since the watermark",
        ),
        (
            "3. Third pull (no change)",
            "conditional requests: every answer is a 304, no rate limit used, no file touched",
        ),
    ] {
        writeln!(out, "== {title}: {note}")?;
        out.flush()?;
        let report = roadmap_sync::pull(&gh, &index, "octo/demo", &PullOptions::default(), &|e| {
            progress.handle(e)
        })
        .await?;
        print_report(out, &report, false)?;
        writeln!(out)?;
    }
    writeln!(
        out,
        "== 4. Someone edits #5 and comments on #6 on GitHub; pull again"
    )?;
    sim.edit_issue("octo", "demo", 5, |i| {
        i.title = "Edited on GitHub during the demo".into()
    });
    sim.add_comment("octo", "demo", 6, "A comment added during the demo");
    let report = roadmap_sync::pull(&gh, &index, "octo/demo", &PullOptions::default(), &|e| {
        progress.handle(e)
    })
    .await?;
    print_report(out, &report, false)?;
    writeln!(
        out,
        "\n== 5. Two-way: a new local issue, a local edit of #7, and an edit of #7's body on GitHub; sync"
    )?;
    let mut fresh = roadmap_model::Issue::new(
        roadmap_model::ItemId::new("0000d3e0")?,
        "Written offline during the demo",
    );
    fresh.priority = roadmap_model::Priority::High;
    fresh.estimate = Some(2.0);
    fresh.body = "Created as a file, pushed by `roadmap sync`.\n".into();
    store.create(fresh)?;
    let seven = store.get::<roadmap_model::Issue>(&roadmap_model::ItemId::for_remote_issue(7))?;
    let mut seven = seven;
    seven.item_mut().title = "Retitled locally during the demo".into();
    store.save(&mut seven)?;
    sim.edit_issue("octo", "demo", 7, |i| {
        i.body = Some("Body rewritten on GitHub during the demo.\n".into())
    });
    let report = roadmap_sync::sync(
        &gh,
        &index,
        "octo/demo",
        &PullOptions::default(),
        &PushOptions::default(),
        &|e| progress.handle(e),
    )
    .await?;
    print_sync_report(out, &report, false, Duration::from_secs(1))?;
    writeln!(out, "\n== 6. Local queries on the index (no network)")?;
    let q = |status: &str, assignee: &str| IssueQuery {
        status: vec![status.parse().unwrap_or(roadmap_index::StatusFilter::Open)],
        assignee: Some(assignee.into()),
        limit: Some(5),
        sort: roadmap_index::SortKey::Number,
        ..IssueQuery::default()
    };
    let started = Instant::now();
    let rows = roadmap_index::collect_rows(index.list_issues(&q("open", "alice"))).await?;
    writeln!(
        out,
        "$ roadmap issue list --status open --assignee alice --limit 5 --sort number   ({:.1} ms)",
        started.elapsed().as_secs_f64() * 1000.0
    )?;
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.id.clone(),
                r.status.clone(),
                r.milestone.clone().unwrap_or_default(),
                crate::render::clip(&r.title, 60),
            ]
        })
        .collect();
    crate::render::table(out, &["id", "status", "milestone", "title"], &table)?;
    let started = Instant::now();
    let hits = index.search("login crash", 5).await?;
    writeln!(
        out,
        "\n$ roadmap search \"login crash\"   ({:.1} ms)",
        started.elapsed().as_secs_f64() * 1000.0
    )?;
    let table: Vec<Vec<String>> = hits
        .iter()
        .map(|h| {
            vec![
                h.row.id.clone(),
                crate::render::clip(&h.row.title, 50),
                crate::render::clip(&h.snippet, 60),
            ]
        })
        .collect();
    crate::render::table(out, &["id", "title", "match"], &table)?;
    let progress_rows = index.milestone_progress(None).await?;
    writeln!(
        out,
        "\n$ roadmap milestone status   (first 5 of {})",
        progress_rows.len()
    )?;
    for p in progress_rows.iter().take(5) {
        writeln!(out, "{:<8} {:>4}/{:<4} done", p.title, p.done, p.total)?;
    }
    let shown = store.path_of(
        roadmap_store::Kind::Issue,
        &roadmap_model::ItemId::for_remote_issue(5),
    );
    writeln!(out, "\n$ cat {}", shown.display())?;
    let text = fs_err::read_to_string(&shown)?;
    for l in text.lines().take(24) {
        writeln!(out, "{l}")?;
    }
    index.close().await;
    if issues == 0 {
        bail!("nothing to show");
    }
    Ok(())
}
