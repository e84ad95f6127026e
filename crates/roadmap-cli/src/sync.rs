//! `roadmap sync [pull|push|status]`, `roadmap conflicts`, `roadmap doctor`, `roadmap cache`,
//! `roadmap demo`.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::Result;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use roadmap::config::Config;
use roadmap::{
    Host, Phase, Project, PullReport, PullSpec, PushReport, SecretString, Side, SyncError,
    SyncEvent, SyncReport, TrackerError,
};

/// Options every command that talks to GitHub accepts.
#[derive(Debug, Clone, clap::Args)]
pub struct Remote {
    /// Repository OWNER/NAME (default: `repo` in the config).
    #[arg(long)]
    pub repo: Option<String>,
    /// API base URL (default: `api_url` in the config, else `https://api.github.com`).
    #[arg(long)]
    pub api_url: Option<String>,
}

/// `roadmap sync pull` flags.
#[derive(Debug, Clone, clap::Args)]
pub struct PullArgs {
    #[command(flatten)]
    pub remote: Remote,
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

/// The token for the project's API host, if that host may have one (see `auth`).
pub fn token(project: &Project) -> Result<Option<SecretString>> {
    let host = project.host()?;
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

/// Renders sync events: on a terminal one bar per phase (phases run at the same time, so
/// each has its own line in a `MultiProgress` and none overwrites another), plain lines
/// otherwise.
pub struct Progress {
    multi: MultiProgress,
    bars: Mutex<HashMap<Phase, ProgressBar>>,
    started: Mutex<HashMap<Phase, Instant>>,
    fancy: bool,
    quiet: bool,
}

/// A bar with an ETA once the total is known (a full pull asks the search API for the count
/// up front); without one (comments, an incremental pull, a host without search) the count,
/// no made-up total.
const BAR: &str = "{prefix:>11} [{bar:30}] {human_pos}/{human_len} ETA {eta}";
const COUNTER: &str = "{prefix:>11} {spinner} {human_pos} items";

impl Progress {
    pub fn new(quiet: bool) -> Self {
        Progress {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
            bars: Mutex::new(HashMap::new()),
            started: Mutex::new(HashMap::new()),
            fancy: std::io::stderr().is_terminal(),
            quiet,
        }
    }

    pub fn handle(&self, ev: SyncEvent) {
        if self.quiet {
            return;
        }
        let mut bars = self.bars.lock().unwrap_or_else(|e| e.into_inner());
        match ev {
            SyncEvent::Started(phase) => {
                if self.fancy {
                    let b = self.multi.add(ProgressBar::no_length());
                    b.set_style(
                        ProgressStyle::with_template(COUNTER)
                            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                    );
                    b.set_prefix(phase.as_str());
                    b.enable_steady_tick(Duration::from_millis(120));
                    bars.insert(phase, b);
                } else {
                    self.started
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(phase, Instant::now());
                    eprintln!("{}: started", phase.as_str());
                }
            }
            SyncEvent::Progress { phase, done, total } => {
                if let Some(b) = bars.get(&phase) {
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
                        .get(&phase)
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
                if let Some(b) = bars.remove(&phase) {
                    b.finish_and_clear();
                    self.multi.remove(&b);
                } else if !self.fancy {
                    eprintln!("{}: done", phase.as_str());
                }
            }
            _ => {}
        }
    }
}

/// How much a sync says on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Report {
    /// Nothing but errors (`--quiet`).
    Quiet,
    /// One line per resource, then conflicts, losses and failures (the default).
    Short,
    /// Every API and timing figure (`-v`).
    Detailed,
    /// The whole report as JSON (`--json`).
    Json,
}

impl Report {
    /// From the flags: `--json` wins, then `--quiet`, then `-v`.
    pub fn of(json: bool, quiet: bool, verbose: u8) -> Report {
        match (json, quiet, verbose) {
            (true, _, _) => Report::Json,
            (_, true, _) => Report::Quiet,
            (_, _, 0) => Report::Short,
            _ => Report::Detailed,
        }
    }

    /// Whether progress goes to stderr: bars on a terminal; plain lines (for logs) only with
    /// `-v`, so that a failing run in a pipe says one line, not a trail of phases.
    pub fn progress(self) -> bool {
        match self {
            Report::Short => std::io::stderr().is_terminal(),
            Report::Detailed => true,
            Report::Quiet | Report::Json => false,
        }
    }
}

/// A pull report in the chosen style.
pub fn print_report(out: &mut impl Write, r: &PullReport, style: Report) -> Result<()> {
    match style {
        Report::Quiet => Ok(()),
        Report::Json => {
            writeln!(out, "{}", serde_json::to_string_pretty(r)?)?;
            Ok(())
        }
        Report::Short => print_short_report(out, r),
        Report::Detailed => print_detailed_report(out, r),
    }
}

fn print_short_report(out: &mut impl Write, r: &PullReport) -> Result<()> {
    let api = &r.api;
    // A resource is worth a line when something happened to it.
    let busy: Vec<_> = r
        .resources_in_order()
        .into_iter()
        .filter(|(_, c)| {
            c.created + c.updated + c.merged + c.conflicts + c.failed + c.local_pending > 0
        })
        .collect();
    writeln!(
        out,
        "Pull ({}{}): {:.2} s, {} requests{}{}{}",
        if r.full { "full" } else { "incremental" },
        if r.resumed { ", resumed" } else { "" },
        r.duration_ms as f64 / 1000.0,
        api.calls(),
        if api.not_modified() > 0 {
            format!(" ({} answered 304)", api.not_modified())
        } else {
            String::new()
        },
        if busy.is_empty() && r.failures.is_empty() {
            ": nothing changed"
        } else {
            ""
        },
        if r.dry_run {
            " [dry run: nothing written]"
        } else {
            ""
        }
    )?;
    for (name, c) in busy {
        let changed = c.created + c.updated + c.merged;
        let mut line = format!("  {name:<11} {:>6} fetched {changed:>6} changed", c.fetched);
        if c.conflicts > 0 {
            line.push_str(&format!(" {:>4} in conflict", c.conflicts));
        }
        if c.local_pending > 0 {
            line.push_str(&format!(" {:>4} to push", c.local_pending));
        }
        if c.failed > 0 {
            line.push_str(&format!(" {:>4} failed", c.failed));
        }
        writeln!(out, "{line}")?;
    }
    print_items(out, r)
}

/// The conflicts, losses and failures of a pull, one line each.
fn print_items(out: &mut impl Write, r: &PullReport) -> Result<()> {
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

fn print_detailed_report(out: &mut impl Write, r: &PullReport) -> Result<()> {
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
    for (name, c) in r.resources_in_order() {
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
    print_items(out, r)
}

/// What the flags ask to pull: everything unless one of --issues/--milestones/--labels is
/// given; comments as the flags, else the config, say.
fn pull_spec(args: &PullArgs) -> PullSpec {
    let any = args.issues || args.milestones || args.labels;
    PullSpec {
        issues: !any || args.issues,
        milestones: !any || args.milestones,
        labels: !any || args.labels,
        comments: if args.no_comments {
            Some(false)
        } else {
            args.comments.then_some(true)
        },
        full: args.full,
        dry_run: args.dry_run,
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
    fn of(project: &Project, token: bool) -> Result<Peer> {
        Ok(Peer {
            host: project.host()?.name,
            repo: project.settings()?.repo()?.to_string(),
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
fn stop(e: roadmap::Error, peer: &Peer) -> anyhow::Error {
    let explained = match &e {
        roadmap::Error::Sync(SyncError::Tracker(te)) | roadmap::Error::Tracker(te) => {
            explain(te, peer)
        }
        _ => None,
    };
    match explained {
        Some(s) => s.into(),
        None => e.into(),
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
    project: &Project,
    args: &PullArgs,
    style: Report,
    out: &mut impl Write,
) -> Result<u8> {
    let token = token(project)?;
    let peer = Peer::of(project, token.is_some())?;
    let gh = project.github(token)?;
    let progress = Progress::new(!style.progress());
    let report = project
        .pull(&gh, &pull_spec(args), &|e| progress.handle(e))
        .await
        .map_err(|e| stop(e, &peer))?;
    print_report(out, &report, style)?;
    Ok(code(report.partial(), report.synced_any(), None))
}

/// `roadmap sync` (pull, merge, push) or, with `push_only`, `roadmap sync push`.
pub async fn two_way(
    project: &Project,
    args: &PullArgs,
    push_only: bool,
    style: Report,
    out: &mut impl Write,
) -> Result<u8> {
    let token = token(project)?;
    let peer = Peer::of(project, token.is_some())?;
    let gh = project.github(token)?;
    let progress = Progress::new(!style.progress());
    let events = |e| progress.handle(e);
    let report = if push_only {
        project.push(&gh, args.dry_run, &events).await
    } else {
        project.sync(&gh, &pull_spec(args), &events).await
    }
    .map_err(|e| stop(e, &peer))?;
    let stopped_by = report.push.stopped_by.as_ref();
    // Stopped before anything was done: the reason is the whole story.
    if let Some(e) = stopped_by
        && !report.synced_any()
        && let Some(s) = explain(e, &peer)
    {
        return Err(s.into());
    }
    let spacing = project.settings()?.write_spacing;
    print_sync_report(out, &report, style, spacing)?;
    Ok(code(report.partial(), report.synced_any(), stopped_by))
}

pub fn print_sync_report(
    out: &mut impl Write,
    r: &SyncReport,
    style: Report,
    spacing: Duration,
) -> Result<()> {
    match style {
        Report::Quiet => Ok(()),
        Report::Json => {
            writeln!(out, "{}", serde_json::to_string_pretty(r)?)?;
            Ok(())
        }
        Report::Short | Report::Detailed => {
            print_report(out, &r.pull, style)?;
            if style == Report::Detailed {
                writeln!(out)?;
            }
            print_push_report(out, &r.push, style, spacing)
        }
    }
}

pub fn print_push_report(
    out: &mut impl Write,
    r: &PushReport,
    style: Report,
    spacing: Duration,
) -> Result<()> {
    let dry = if r.dry_run {
        " [dry run: the plan; nothing sent or written]"
    } else {
        ""
    };
    if style == Report::Detailed {
        writeln!(out, "Push report{dry}")?;
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
    } else {
        writeln!(
            out,
            "Push: {:.2} s, {} writes{dry}",
            r.duration_ms as f64 / 1000.0,
            r.writes
        )?;
    }
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
    let detailed = style == Report::Detailed;
    if detailed || !r.created.is_empty() {
        writeln!(out, "  created         {}", kinds(&r.created))?;
    }
    if detailed || !r.updated.is_empty() {
        writeln!(
            out,
            "  updated         {} ({} closed, {} reopened)",
            kinds(&r.updated),
            r.closed,
            r.reopened
        )?;
    }
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
pub fn conflicts_list(project: &Project, json: bool, out: &mut impl Write) -> Result<()> {
    let list = project.conflicts()?;
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
    project: &Project,
    key: &str,
    side: Option<Side>,
    editor: Option<&str>,
    out: &mut impl Write,
) -> Result<()> {
    use roadmap::sync::conflicts;
    // `#12` names the issue by number.
    let id = project.conflict_id(key)?;
    let path = match side {
        Some(side) => project.resolve_conflict(&id, side)?,
        None => {
            let (path, fields) = conflicts::prepare_edit(project.store(), &id)?;
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
            conflicts::finish_edit(project.store(), &id)?
        }
    };
    writeln!(
        out,
        "resolved {id}: {} now holds the result; `roadmap sync push` sends it",
        path.display()
    )?;
    Ok(())
}

pub fn status(project: &Project, out: &mut impl Write) -> Result<()> {
    let st = project.status()?;
    writeln!(
        out,
        "repository   {}",
        st.repo.as_deref().unwrap_or("(no repo configured)")
    )?;
    if st.watermarks.is_empty() {
        writeln!(out, "watermarks   none yet: the next pull is a full one")?;
    }
    for (k, v) in &st.watermarks {
        writeln!(out, "watermark    {k:<9} {v}")?;
    }
    match &st.last_run {
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
    writeln!(
        out,
        "to push      {} new issues, {} edited issues{}",
        st.new_issues,
        st.edited_issues,
        if st.unreadable.is_empty() {
            String::new()
        } else {
            format!(" ({} files unreadable)", st.unreadable.len())
        }
    )?;
    for e in st.unreadable.iter().take(10) {
        writeln!(out, "unreadable   {e}")?;
    }
    if st.conflicts.is_empty() {
        writeln!(out, "conflicts    none")?;
    }
    for c in &st.conflicts {
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

pub async fn doctor(
    project: Option<&Project>,
    config: &Config,
    out: &mut impl Write,
) -> Result<bool> {
    let config = project.map_or(config, Project::config);
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
    let settings = config.settings();
    let t = match settings.as_ref().map(|s| (s.repo(), s)) {
        Ok((Ok(repo), s)) => {
            line(
                out,
                true,
                "repository",
                format!("{repo} at {}", roadmap::host::redact(&s.api_url)),
            )?;
            Some(repo.clone())
        }
        Ok((Err(e), _)) => {
            line(
                out,
                false,
                "repository",
                format!("{e}: pass --repo OWNER/NAME or run `roadmap config set repo OWNER/NAME`"),
            )?;
            None
        }
        Err(e) => {
            line(out, false, "repository", e.to_string())?;
            None
        }
    };
    let host = t.as_ref().map(|_| Host::of(config)).transpose();
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
    if let (Some(project), Some(_)) = (project, &t) {
        let gh = project.github_with_workers(token, 1)?;
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
            Ok(r) if !r.has_issues => line(
                out,
                false,
                "repo access",
                format!("{} is visible, but its issues are turned off", r.full_name),
            )?,
            Ok(r) => line(
                out,
                true,
                "repo access",
                format!(
                    "{} is visible{}",
                    r.full_name,
                    if r.private { " (private)" } else { "" }
                ),
            )?,
            Err(e) => line(out, false, "repo access", e.to_string())?,
        }
    }
    if let Some(project) = project {
        let s = project.cache().stats();
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
        match project.index().await {
            Ok(index) => {
                let report = index.opened().clone();
                let integrity = index.integrity_check().await?;
                let c = index.counts().await?;
                let (i, m, bad) = (c.issues, c.milestones, c.bad_files);
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

pub fn cache(project: &Project, clear: bool, out: &mut impl Write) -> Result<()> {
    let cache = project.cache();
    let dir = project.store().layout().cache_dir();
    if clear {
        let n = cache.clear()?;
        writeln!(out, "removed {n} cache entries from {}", dir.display())?;
    } else {
        let s = cache.stats();
        writeln!(out, "cache        {}", dir.display())?;
        writeln!(
            out,
            "disk         {} entries, {} KiB (layout {})",
            s.disk_entries,
            s.disk_bytes / 1024,
            roadmap::cache::LAYOUT
        )?;
        writeln!(
            out,
            "memory TTL   {} min, bound {} MiB (per process)",
            roadmap::cache::CacheOptions::default().ttl.as_secs() / 60,
            roadmap::CACHE_MEMORY_BYTES >> 20
        )?;
    }
    Ok(())
}
