//! The pull: milestones and labels (conditional full lists), issues and comments (since the
//! watermark), streamed page by page into parallel file writes and one index transaction
//! per batch.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use futures::stream::{self, BoxStream, StreamExt};
use roadmap_index::Index;
use roadmap_model::{
    Issue, ItemId, Label, ListOptions, Milestone, MilestoneState, Page, RemoteComment, RemoteIssue,
    RemoteMilestone, RemoteRef, RemoteState, Resume, Split, Timestamp, Tracker, TrackerError,
    TrackerMetrics,
};
use roadmap_store::{ItemFile, Kind, Store};
use sha2::{Digest, Sha256};

use crate::map::{Mapping, fingerprint, locally_edited};
use crate::merge::merge3;
use crate::pipeline;
use crate::state::{LastRun, ProjectLock, SyncState, checkpoint};
use crate::{Counts, ItemFailure, Phase, PullOptions, PullReport, SyncError, SyncEvent, comments};

/// The callback that receives a run's progress events.
pub type Events<'a> = &'a (dyn Fn(SyncEvent) + Send + Sync);

enum Outcome {
    /// A dry run: this would be created (`true`) or updated (`false`).
    Planned(bool),
    Created(ItemFile<Issue>),
    Updated(ItemFile<Issue>),
    /// Edited on both sides on different fields: merged; the local side is left to push.
    Merged(ItemFile<Issue>),
    Unchanged,
    Conflict(String),
    LocalPending,
    Failed(ItemFailure, Timestamp),
}

/// Pulls the tracker's repository into the index's store.
pub async fn pull(
    tracker: &dyn Tracker,
    index: &Index<'_>,
    opts: &PullOptions,
    events: Events<'_>,
) -> Result<PullReport, SyncError> {
    let _lock = if opts.dry_run {
        None
    } else {
        Some(ProjectLock::acquire(index.store())?)
    };
    pull_locked(tracker, index, opts, events).await
}

/// The pull, for a caller that holds the project lock.
pub(crate) async fn pull_locked(
    tracker: &dyn Tracker,
    index: &Index<'_>,
    opts: &PullOptions,
    events: Events<'_>,
) -> Result<PullReport, SyncError> {
    let started = Instant::now();
    let store = index.store().clone();
    let mut state = SyncState::load(&store, tracker.full_name())?;
    let before = tracker.metrics();
    let full = opts.full || !state.watermarks.contains_key("issues");
    let mut report = PullReport {
        full,
        dry_run: opts.dry_run,
        ..PullReport::default()
    };
    let mut fatal: Option<TrackerError> = None;

    // Milestones and labels together (issues refer to milestones by title).
    let mut titles = local_milestone_titles(&store)?;
    let (mut ms_report, mut lb_report) = (PullReport::default(), PullReport::default());
    if opts.milestones {
        events(SyncEvent::Started(Phase::Milestones));
    }
    if opts.labels {
        events(SyncEvent::Started(Phase::Labels));
    }
    // An incremental pull lists everything at once: what changed is small, so its issue and
    // comment pages are held until milestones are known. A full pull streams issues (and
    // lists comments after them) so that memory stays bounded.
    let issue_since = if full {
        None
    } else {
        state.watermarks.get("issues").copied()
    };
    let comment_since = if full {
        None
    } else {
        state.watermarks.get("comments").copied()
    };
    let prefetch = !full;
    // The full comment listing starts once what is left of the issue listing fits in one
    // round of requests (the listing says so), or once it is fetched: `Some(true)` then, or
    // `Some(false)` when it failed. Started earlier, the two listings would share the
    // workers, and the comment pages read ahead by a pull interrupted among the issues would
    // be read again by the next run.
    let fetched = Arc::new(tokio::sync::watch::channel(None::<bool>).0);
    let mut fetched_rx = fetched.subscribe();
    // A full listing split in windows starts at once, while milestones and labels are read
    // (its pages wait, bounded, until they are applied).
    let mut full_issues = (full && opts.issues).then(|| {
        let go = fetched.clone();
        tracker.list_issues(ListOptions {
            since: None,
            split: split_for(&store, "issues", &mut report),
            last_round: roadmap_model::Hook::new(move || {
                go.send_replace(Some(true));
            }),
        })
    });
    // A full comment listing waits until every issue page is fetched (see below).
    let mut comments_split =
        (full && opts.comments).then(|| split_for(&store, "comments", &mut report));
    let (ms, lb, early_issues, early_comments) = tokio::join!(
        async {
            if opts.milestones {
                Some(pull_milestones(tracker, &store, index, opts, &mut ms_report).await)
            } else {
                None
            }
        },
        async {
            if opts.labels {
                Some(pull_labels(tracker, &store, opts, &mut lb_report).await)
            } else {
                None
            }
        },
        async {
            if prefetch && opts.issues {
                Some(
                    collect_pages(tracker.list_issues(ListOptions {
                        since: issue_since,
                        ..ListOptions::default()
                    }))
                    .await,
                )
            } else {
                None
            }
        },
        async {
            if prefetch && opts.comments {
                Some(
                    collect_pages(tracker.list_comments(ListOptions {
                        since: comment_since,
                        ..ListOptions::default()
                    }))
                    .await,
                )
            } else {
                None
            }
        },
    );
    merge(&mut report, ms_report);
    merge(&mut report, lb_report);
    match ms {
        Some(Ok(changes)) => {
            for m in &changes.fresh {
                titles.insert(m.0, m.1.clone());
            }
            if !opts.dry_run {
                rename_in_issues(&store, index, &changes.renamed, &mut report).await?;
            }
            events(SyncEvent::Finished(Phase::Milestones));
        }
        Some(Err(e)) => note_listing_failure(&mut report, "milestones", e, &mut fatal),
        None => {}
    }
    match lb {
        Some(Ok(())) => events(SyncEvent::Finished(Phase::Labels)),
        Some(Err(e)) => note_listing_failure(&mut report, "labels", e, &mut fatal),
        None => {}
    }

    let mut seen_numbers = HashSet::new();
    let mut issues_complete = false;
    let mut full_comments = None;
    if opts.issues && fatal.is_none() {
        events(SyncEvent::Started(Phase::Issues));
        let pages = match early_issues {
            Some(Ok(pages)) => stream::iter(pages.into_iter().map(Ok)).boxed(),
            Some(Err(e)) => stream::iter(vec![Err(e)]).boxed(),
            None => match full_issues.take() {
                Some(pages) => pages,
                None => tracker.list_issues(ListOptions {
                    since: issue_since,
                    ..ListOptions::default()
                }),
            },
        };
        let titles = Arc::new(titles);
        let intents = pending_creates(&store);
        // Who we are, asked only when a create of ours is pending (see `find_file`).
        let viewer = if intents.is_empty() {
            None
        } else {
            tracker.viewer().await.unwrap_or_else(|e| {
                tracing::debug!("who the token is for is unknown: {e}");
                None
            })
        };
        let start_comments = async {
            match fetched_rx.wait_for(Option::is_some).await {
                Ok(go) if *go == Some(true) => comments_split.take().map(|split| {
                    tracker.list_comments(ListOptions {
                        since: None,
                        split,
                        ..ListOptions::default()
                    })
                }),
                _ => None,
            }
        };
        let issues = async {
            let r = pull_issues(
                pages,
                &store,
                index,
                opts,
                issue_since,
                (intents, viewer),
                titles,
                &mut report,
                &mut seen_numbers,
                &fetched,
                events,
            )
            .await;
            let outcome = r.is_ok();
            fetched.send_if_modified(|v| {
                let unset = v.is_none();
                if unset {
                    *v = Some(outcome);
                }
                unset
            });
            r
        };
        let (listed, started) = tokio::join!(issues, start_comments);
        full_comments = started;
        match listed {
            Ok(mark) => {
                if let Some(mark) = mark {
                    state.watermarks.insert("issues".into(), mark);
                }
                issues_complete = true;
                if !opts.dry_run {
                    checkpoint::clear(&store, "issues")?;
                }
            }
            Err(e) => note_listing_failure(&mut report, "issues", e, &mut fatal),
        }
        events(SyncEvent::Finished(Phase::Issues));
    }
    if opts.comments && fatal.is_none() {
        events(SyncEvent::Started(Phase::Comments));
        let pages = match early_comments {
            Some(Ok(pages)) => stream::iter(pages.into_iter().map(Ok)).boxed(),
            Some(Err(e)) => stream::iter(vec![Err(e)]).boxed(),
            None => match full_comments.take() {
                Some(pages) => pages,
                None => tracker.list_comments(ListOptions {
                    since: comment_since,
                    split: comments_split.take().unwrap_or_default(),
                    ..ListOptions::default()
                }),
            },
        };
        match pull_comments(&store, index, opts, comment_since, pages, &mut report).await {
            Ok(mark) => {
                if let Some(mark) = mark {
                    state.watermarks.insert("comments".into(), mark);
                }
                if !opts.dry_run {
                    checkpoint::clear(&store, "comments")?;
                }
            }
            Err(e) => note_listing_failure(&mut report, "comments", e, &mut fatal),
        }
        events(SyncEvent::Finished(Phase::Comments));
    }
    // A listing resumed from a checkpoint did not see the numbers listed before it: what is
    // missing cannot be told from it.
    if full && opts.issues && issues_complete && fatal.is_none() && !report.resumed {
        events(SyncEvent::Started(Phase::Lost));
        find_lost(tracker, &store, index, opts, &seen_numbers, &mut report).await?;
        events(SyncEvent::Finished(Phase::Lost));
    }

    report.conflicts.sort();
    report.conflicts.dedup();
    report.api = diff(&before, &tracker.metrics());
    report.duration_ms = started.elapsed().as_millis() as u64;
    report.watermarks = state
        .watermarks
        .iter()
        .map(|(k, v)| (k.clone(), v.to_string()))
        .collect();
    if !opts.dry_run {
        state.conflicts = crate::conflicts::ids(&store);
        state.last_run = Some(LastRun {
            finished: Timestamp::from_unix(chrono::Utc::now().timestamp()),
            duration_ms: report.duration_ms,
            api_calls: report.api.calls(),
            partial: report.partial(),
        });
        state.save(&store)?;
    }
    match fatal {
        Some(e) => Err(SyncError::Tracker(e)),
        None => Ok(report),
    }
}

/// A full listing is split in windows, going on from where an interrupted one stood.
fn split_for(store: &Store, kind: &str, report: &mut PullReport) -> Split {
    match checkpoint::load(store, kind) {
        Some(r) => {
            tracing::info!(
                windows = r.windows.len(),
                done = r.done,
                "going on with the interrupted full listing of {kind}"
            );
            report.resumed = true;
            Split::Resume(r)
        }
        None => Split::Fresh,
    }
}

/// Where a split listing stood before a page: the oldest window start (`None`: the start).
fn oldest_from(r: &Resume) -> Option<Option<Timestamp>> {
    r.windows.iter().map(|w| w.from).min()
}

fn note_listing_failure(
    report: &mut PullReport,
    what: &str,
    e: TrackerError,
    fatal: &mut Option<TrackerError>,
) {
    report.failures.push(ItemFailure {
        what: format!("{what} listing"),
        reason: e.to_string(),
    });
    // Every listing is the repository's: one that is not found means the repository is not
    // (or the token cannot see it), and every other listing will say the same.
    if crate::stops_run(&e) || matches!(e, TrackerError::NotFound { .. }) {
        // The first reason stands: later listings fail for the same one.
        fatal.get_or_insert(e);
    }
}

pub(crate) fn diff(a: &TrackerMetrics, b: &TrackerMetrics) -> TrackerMetrics {
    let mut out = b.clone();
    for (k, v) in &mut out.endpoints {
        if let Some(old) = a.endpoints.get(k) {
            v.calls -= old.calls.min(v.calls);
            v.not_modified -= old.not_modified.min(v.not_modified);
            v.retries -= old.retries.min(v.retries);
            v.bytes -= old.bytes.min(v.bytes);
        }
    }
    out.endpoints.retain(|_, v| v.calls > 0);
    out.waits = b.waits.saturating_sub(a.waits);
    out.wait_time = b.wait_time.saturating_sub(a.wait_time);
    out.retry_time = b.retry_time.saturating_sub(a.retry_time);
    out
}

fn local_milestone_titles(store: &Store) -> Result<HashMap<u64, String>, SyncError> {
    let all = store.load_all::<Milestone>()?;
    Ok(all
        .items
        .iter()
        .filter_map(|f| Some((f.item().remote.as_ref()?.number, f.item().title.clone())))
        .collect())
}

/// The description GitHub should hold for a milestone file (`None`: null).
pub(crate) fn milestone_description(m: &Milestone) -> Option<String> {
    m.remote
        .as_ref()
        .map(|r| r.body_form)
        .unwrap_or_default()
        .join(&m.body)
}

pub(crate) fn milestone_fingerprint(m: &Milestone) -> String {
    let mut h = Sha256::new();
    for part in [
        m.title.as_str(),
        m.state.as_str(),
        &m.due.map(|d| d.to_string()).unwrap_or_default(),
        &milestone_description(m).unwrap_or_default(),
    ] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    hex::encode(&h.finalize()[..8])
}

struct MilestoneChanges {
    fresh: Vec<(u64, String)>,
    renamed: Vec<(String, String)>,
}

async fn pull_milestones(
    tracker: &dyn Tracker,
    store: &Store,
    index: &Index<'_>,
    opts: &PullOptions,
    report: &mut PullReport,
) -> Result<MilestoneChanges, TrackerError> {
    let mut local: HashMap<u64, ItemFile<Milestone>> = HashMap::new();
    // Milestones made here whose create was not recorded: linked by title (unique on GitHub).
    let mut unsynced: HashMap<String, ItemFile<Milestone>> = HashMap::new();
    if let Ok(all) = store.load_all::<Milestone>() {
        for f in all.items {
            match f.item().remote.as_ref().map(|r| r.number) {
                Some(n) => {
                    local.insert(n, f);
                }
                None => {
                    unsynced.insert(f.item().title.clone(), f);
                }
            }
        }
    }
    let mut counts = Counts::default();
    let mut changes = MilestoneChanges {
        fresh: Vec::new(),
        renamed: Vec::new(),
    };
    let mut written = Vec::new();
    let mut pages = tracker.list_milestones();
    while let Some(page) = pages.next().await {
        for rm in counts.book(page?, "milestone", &mut report.failures) {
            counts.fetched += 1;
            changes.fresh.push((rm.number, rm.title.clone()));
            let found = local
                .remove(&rm.number)
                .or_else(|| unsynced.remove(&rm.title));
            match found {
                None => {
                    let mut m =
                        Milestone::new(ItemId::for_remote_milestone(rm.number), rm.title.clone());
                    apply_milestone(&mut m, &rm);
                    if opts.dry_run {
                        counts.created += 1;
                        continue;
                    }
                    match store.create_synced(m) {
                        Ok(f) => {
                            counts.created += 1;
                            report.files_written += 1;
                            written.push(f);
                        }
                        Err(e) => {
                            counts.failed += 1;
                            report.failures.push(ItemFailure {
                                what: format!("milestone {}", rm.number),
                                reason: e.to_string(),
                            });
                        }
                    }
                }
                Some(mut f) => {
                    let edited = f
                        .item()
                        .remote
                        .as_ref()
                        .and_then(|r| r.hash.as_deref())
                        .is_some_and(|h| h != milestone_fingerprint(f.item()));
                    let old_title = f.item().title.clone();
                    let mut next = f.item().clone();
                    apply_milestone(&mut next, &rm);
                    let remote_changed = f.item().remote.as_ref().and_then(|r| r.hash.clone())
                        != next.remote.as_ref().and_then(|r| r.hash.clone());
                    if edited && remote_changed {
                        counts.conflicts += 1;
                        report.conflicts.push(f.item().id.to_string());
                        continue;
                    }
                    if edited {
                        counts.local_pending += 1;
                        continue;
                    }
                    *f.item_mut() = next;
                    if opts.dry_run {
                        counts.unchanged += 1;
                        continue;
                    }
                    match store.save_synced(&mut f) {
                        Ok(true) => {
                            counts.updated += 1;
                            report.files_written += 1;
                            if old_title != rm.title {
                                changes.renamed.push((old_title, rm.title.clone()));
                            }
                            written.push(f);
                        }
                        Ok(false) => counts.unchanged += 1,
                        Err(e) => {
                            counts.failed += 1;
                            report.failures.push(ItemFailure {
                                what: f.path.display().to_string(),
                                reason: e.to_string(),
                            });
                        }
                    }
                }
            }
        }
    }
    if !written.is_empty() {
        index
            .upsert_milestones(&written)
            .await
            .map_err(index_failure)?;
    }
    report.resources.insert("milestones", counts);
    Ok(changes)
}

pub(crate) fn apply_milestone(m: &mut Milestone, rm: &RemoteMilestone) {
    m.title = rm.title.clone();
    m.state = if rm.state == RemoteState::Closed {
        MilestoneState::Closed
    } else {
        MilestoneState::Open
    };
    m.due = rm.due_on;
    m.created = Some(rm.created_at);
    m.updated = Some(rm.updated_at);
    // The description exactly: null, CRLF and a missing final newline are recorded, not lost.
    let (body, form) = roadmap_model::TextForm::split(rm.description.as_deref());
    m.body = body;
    m.remote = Some(RemoteRef {
        number: rm.number,
        node_id: Some(rm.node_id.clone()).filter(|s| !s.is_empty()),
        url: Some(rm.html_url.clone()).filter(|s| !s.is_empty()),
        state: Some(rm.state.as_str().into()),
        updated_at: Some(rm.updated_at),
        body_form: form,
        ..RemoteRef::default()
    });
    let h = milestone_fingerprint(m);
    if let Some(r) = m.remote.as_mut() {
        r.hash = Some(h);
    }
}

/// A renamed milestone: its issues follow (GitHub does not bump them, so they are not re-listed).
async fn rename_in_issues(
    store: &Store,
    index: &Index<'_>,
    renamed: &[(String, String)],
    report: &mut PullReport,
) -> Result<(), SyncError> {
    for (old, new) in renamed {
        let mut written = Vec::new();
        for path in index.issues_in_milestone(old).await? {
            let Ok(mut f) = store.load::<Issue>(&path) else {
                continue;
            };
            let edited = locally_edited(f.item());
            f.item_mut().milestone = Some(new.clone());
            if !edited {
                let h = fingerprint(f.item());
                if let Some(r) = f.item_mut().remote.as_mut() {
                    r.hash = Some(h);
                }
            }
            if store.save(&mut f)? {
                report.files_written += 1;
                written.push(f);
            }
        }
        index.upsert_issues(&written).await?;
    }
    Ok(())
}

async fn pull_labels(
    tracker: &dyn Tracker,
    store: &Store,
    opts: &PullOptions,
    report: &mut PullReport,
) -> Result<(), TrackerError> {
    let mut counts = Counts::default();
    let mut labels = Vec::new();
    let mut pages = tracker.list_labels();
    while let Some(page) = pages.next().await {
        let items = counts.book(page?, "label", &mut report.failures);
        counts.fetched += items.len() as u64;
        labels.extend(items.into_iter().map(|l| Label {
            name: l.name,
            color: l.color,
            description: l.description,
        }));
    }
    let path = store.layout().dir().join("labels.yml");
    let text = serde_saphyr::to_string(&labels).unwrap_or_default();
    if std::fs::read_to_string(&path).ok().as_deref() == Some(text.as_str()) {
        counts.unchanged = counts.fetched;
    } else if !opts.dry_run {
        match store.write_atomic(&path, text.as_bytes()) {
            Ok(_) => {
                counts.updated = counts.fetched;
                report.files_written += 1;
            }
            Err(e) => {
                counts.failed += 1;
                report.failures.push(ItemFailure {
                    what: path.display().to_string(),
                    reason: e.to_string(),
                });
            }
        }
    }
    report.resources.insert("labels", counts);
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn pull_issues(
    mut pages: BoxStream<'_, Result<Page<RemoteIssue>, TrackerError>>,
    store: &Store,
    index: &Index<'_>,
    opts: &PullOptions,
    since: Option<Timestamp>,
    (intents, viewer): (HashMap<String, crate::intent::Intent>, Option<String>),
    titles: Arc<HashMap<u64, String>>,
    report: &mut PullReport,
    seen: &mut HashSet<u64>,
    fetched: &tokio::sync::watch::Sender<Option<bool>>,
    events: Events<'_>,
) -> Result<Option<Timestamp>, TrackerError> {
    let numbers = index.issue_numbers().await.map_err(index_failure)?;
    let ctx = Arc::new(IssueCtx {
        intents,
        viewer,
        fast: store.deferring_flush(),
        store: store.clone(),
        numbers,
        titles,
        mapping: opts.mapping.clone(),
        conflicted: crate::conflicts::ids(store).into_iter().collect(),
        dry_run: opts.dry_run,
    });
    let mut counts = Counts::default();
    let mut max_seen: Option<Timestamp> = since;
    let mut min_failed: Option<Timestamp> = None;
    let mut rejected_first = false;
    let mut done = 0u64;
    // A split listing: where its windows stood after the last page applied.
    let mut split: Option<Resume> = None;
    // Files are written here; the index and the disk flush follow beside, not after each page.
    let (feed, index_writer) = pipeline::index_writer(index, opts.batch_size);
    let mut flusher =
        (!ctx.dry_run).then(|| pipeline::Flusher::new(ctx.fast.clone(), store.clone(), "issues"));
    let mut failures = Vec::new();
    let mut conflicts = Vec::new();
    let mut files_written = 0u64;
    let files = async {
        let listed = loop {
            let Some(page) = pages.next().await else {
                fetched.send_replace(Some(true));
                break Ok(());
            };
            let mut page = match page {
                Ok(p) => p,
                Err(e) => break Err(e),
            };
            let resume = page.resume.take();
            if resume.as_ref().is_some_and(|r| r.windows.is_empty()) {
                // The last page of a split listing: nothing more will be fetched.
                fetched.send_replace(Some(true));
            }
            let total = match &resume {
                Some(r) => r.total,
                None => page.last.map(|l| u64::from(l) * 100),
            };
            if !page.rejected.is_empty() {
                // An item that did not parse has no `updated_at` to hold the watermark at; pages
                // are in `updated` order, so it is no older than the last item before this page
                // (split: than the oldest window's start before it).
                let before = match (&resume, &split) {
                    (Some(_), Some(prev)) => oldest_from(prev).flatten(),
                    (Some(_), None) => None,
                    (None, _) => max_seen.or(since),
                };
                min_failed = match (min_failed, before) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                if before.is_none() {
                    rejected_first = true;
                }
            }
            let items = counts.book(page, "issue", &mut failures);
            for batch in items.chunks(opts.batch_size.max(1)) {
                for r in batch {
                    seen.insert(r.number);
                    max_seen = max_seen.max(Some(r.updated_at));
                }
                counts.fetched += batch.len() as u64;
                let outcomes = apply_batch(&ctx, batch.to_vec(), opts.workers).await;
                let mut written = Vec::new();
                for o in outcomes {
                    match o {
                        Outcome::Created(f) => {
                            counts.created += 1;
                            written.push(f);
                        }
                        Outcome::Updated(f) => {
                            counts.updated += 1;
                            written.push(f);
                        }
                        Outcome::Merged(f) => {
                            counts.merged += 1;
                            written.push(f);
                        }
                        Outcome::Unchanged => counts.unchanged += 1,
                        Outcome::Planned(true) => counts.created += 1,
                        Outcome::Planned(false) => counts.updated += 1,
                        Outcome::LocalPending => counts.local_pending += 1,
                        Outcome::Conflict(id) => {
                            counts.conflicts += 1;
                            conflicts.push(id);
                        }
                        Outcome::Failed(f, at) => {
                            counts.failed += 1;
                            min_failed = min_failed.min(Some(at)).or(Some(at));
                            failures.push(f);
                        }
                    }
                }
                files_written += written.len() as u64;
                feed.send(written).await;
                done += batch.len() as u64;
                events(SyncEvent::Progress {
                    phase: Phase::Issues,
                    done: resume.as_ref().map_or(done, |r| r.done),
                    total,
                });
            }
            // The page's files reach the disk before anything records them as pulled: the
            // flusher saves where the windows stand with them once a flush covers them, and the
            // watermark is saved at the end, after the last flush.
            if let Some(r) = &resume {
                split = Some(r.clone());
            }
            if let Some(f) = flusher.as_mut()
                && let Err(e) = f.page_done(resume).await
            {
                break Err(e);
            }
        };
        drop(feed);
        listed
    };
    let (listed, index_failures) = tokio::join!(files, index_writer);
    // What was written is flushed (and its checkpoint saved) also when the listing failed, so
    // that the next run goes on from there.
    let flushed = match flusher {
        Some(f) => f.finish().await,
        None => Ok(Vec::new()),
    };
    report.failures.extend(failures);
    report.failures.extend(index_failures);
    report.conflicts.extend(conflicts);
    report.files_written += files_written;
    report.failures.extend(flushed?);
    listed?;
    report.resources.insert("issues", counts);
    // A failed item is re-read next time: the watermark stops just before it (or does not
    // move when an unparsable item came first).
    if rejected_first {
        return Ok(since);
    }
    // A split listing saw items out of order, and an item edited meanwhile may have moved
    // past every window: it holds at the server's time when the listing began.
    let reached = match &split {
        Some(r) => Some(r.began),
        None => max_seen,
    };
    Ok(match min_failed {
        Some(t) => Timestamp::from_unix(t.unix() - 1).min(reached).or(since),
        None => reached,
    })
}

/// What every file writer of an issue pull shares.
struct IssueCtx {
    /// Pending issue creates by local id (see `find_file`).
    intents: HashMap<String, crate::intent::Intent>,
    /// The login this client acts as, when known and a create is pending.
    viewer: Option<String>,
    /// Writes copies of GitHub's issues (created, or updated with no local edit): they can be
    /// pulled again, so they are flushed to disk once per batch, not one by one.
    fast: Store,
    /// Writes whatever holds local work (merges, conflicts), each flushed.
    store: Store,
    numbers: HashMap<u64, PathBuf>,
    titles: Arc<HashMap<u64, String>>,
    mapping: Mapping,
    conflicted: HashSet<String>,
    dry_run: bool,
}

/// Writes a batch of issues on blocking threads, `workers` at a time.
async fn apply_batch(ctx: &Arc<IssueCtx>, batch: Vec<RemoteIssue>, workers: usize) -> Vec<Outcome> {
    let per = batch.len().div_ceil(workers.max(1)).max(1);
    let mut tasks = Vec::new();
    for chunk in batch.chunks(per) {
        let chunk = chunk.to_vec();
        let ctx = ctx.clone();
        tasks.push(tokio::task::spawn_blocking(move || {
            chunk.iter().map(|r| apply_one(&ctx, r)).collect::<Vec<_>>()
        }));
    }
    let mut out = Vec::with_capacity(batch.len());
    for t in tasks {
        match t.await {
            Ok(v) => out.extend(v),
            Err(e) => out.push(Outcome::Failed(
                ItemFailure {
                    what: "a batch of issues".into(),
                    reason: e.to_string(),
                },
                Timestamp(chrono::Utc::now()),
            )),
        }
    }
    out
}

/// The issue creates an interrupted run left pending, by local id.
fn pending_creates(store: &Store) -> HashMap<String, crate::intent::Intent> {
    crate::intent::pending(store)
        .into_iter()
        .filter_map(|(_, r)| r.ok())
        .filter(|i| i.kind == crate::intent::IntentKind::Issue)
        .map(|i| (i.issue.clone(), i))
        .collect()
}

/// The file that holds a remote issue: by number, by its `gh-<n>` name, or by the local id its
/// hidden block names (an issue created here whose create was not recorded).
fn find_file(ctx: &IssueCtx, remote: &RemoteIssue) -> Option<PathBuf> {
    if let Some(p) = ctx.numbers.get(&remote.number) {
        return Some(p.clone());
    }
    let p = ctx
        .store
        .path_of(Kind::Issue, &ItemId::for_remote_issue(remote.number));
    if p.exists() {
        return Some(p);
    }
    let id = ctx.mapping.origin_id(remote)?;
    let p = ctx.store.path_of(Kind::Issue, &id);
    let f = ctx.store.load::<Issue>(&p).ok()?;
    match f.item().remote.as_ref().map(|r| r.number) {
        // Already linked to this issue (by this run's resume, say).
        Some(n) if n == remote.number => Some(p),
        // Linked to another issue: never taken over.
        Some(_) => None,
        // Anyone can write a hidden block naming a local id: link an unlinked file only to a
        // create of ours that is pending (its intent recorded), made by us after that intent.
        None => match ctx.intents.get(id.as_str()) {
            Some(intent) if intent.may_link(remote, ctx.viewer.as_deref()) => Some(p),
            Some(_) => {
                tracing::warn!(
                    "issue #{} names the local issue {id} in its hidden block, but it was opened by {} or before the create of {id} from here began: kept apart",
                    remote.number,
                    remote.author.escape_debug()
                );
                None
            }
            None => {
                tracing::warn!(
                    "issue #{} names the local issue {id} in its hidden block, but no create of {id} from here is pending: kept apart",
                    remote.number
                );
                None
            }
        },
    }
}

/// An item file left empty (a power loss before its batch was flushed, see
/// [`Store::deferring_flush`]) holds nothing: it is removed and pulled again.
fn left_empty(store: &Store, path: &std::path::Path) -> bool {
    let empty = std::fs::symlink_metadata(path).is_ok_and(|m| m.is_file() && m.len() == 0);
    if empty {
        tracing::warn!(
            "{}: empty (cut off before it reached the disk); pulled again",
            path.display()
        );
        return store.remove(path).is_ok();
    }
    false
}

fn apply_one(ctx: &IssueCtx, remote: &RemoteIssue) -> Outcome {
    let store = &ctx.store;
    let fail = |reason: String| {
        Outcome::Failed(
            ItemFailure {
                what: format!("issue #{}", remote.number),
                reason,
            },
            remote.updated_at,
        )
    };
    let title = remote.milestone.map(|n| {
        ctx.titles
            .get(&n)
            .cloned()
            .unwrap_or_else(|| format!("#{n}"))
    });
    let Some(path) = find_file(ctx, remote).filter(|p| ctx.dry_run || !left_empty(store, p)) else {
        let issue = ctx.mapping.new_issue(remote, title);
        if ctx.dry_run {
            return Outcome::Planned(true);
        }
        return match ctx.fast.create_synced(issue) {
            Ok(f) => Outcome::Created(f),
            Err(e) => fail(e.to_string()),
        };
    };
    let mut file = match store.load::<Issue>(&path) {
        Ok(f) => f,
        Err(e) => return fail(e.to_string()),
    };
    let edited = locally_edited(file.item());
    let mut next = file.item().clone();
    ctx.mapping.apply_remote(&mut next, remote, title);
    let id = file.item().id.clone();
    if edited {
        let base_hash = file.item().remote.as_ref().and_then(|r| r.hash.clone());
        let incoming = next.remote.as_ref().and_then(|r| r.hash.clone());
        if base_hash == incoming && !ctx.conflicted.contains(id.as_str()) {
            return Outcome::LocalPending;
        }
        let base = base_hash.as_deref().and_then(|h| {
            store
                .read_base::<Issue>(&id)
                .filter(|b| fingerprint(b.item()) == h)
        });
        let merged = merge3(base.as_ref().map(ItemFile::item), file.item(), &next, None);
        if !merged.conflicts.is_empty() {
            if ctx.dry_run {
                return Outcome::Conflict(id.to_string());
            }
            return match crate::conflicts::record(store, &next) {
                Ok(()) => Outcome::Conflict(id.to_string()),
                Err(e) => fail(e.to_string()),
            };
        }
        if ctx.dry_run {
            return Outcome::Planned(false);
        }
        *file.item_mut() = merged.issue;
        // The new base is GitHub's version; the file keeps what is ours to push.
        return match store.save(&mut file).and_then(|_| {
            store.write_base(&file, &crate::conflicts::render(&next))?;
            crate::conflicts::clear(store, &id)
        }) {
            Ok(()) => Outcome::Merged(file),
            Err(e) => fail(e.to_string()),
        };
    }
    *file.item_mut() = next;
    if ctx.dry_run {
        return if file.render() == std::fs::read_to_string(&file.path).unwrap_or_default() {
            Outcome::Unchanged
        } else {
            Outcome::Planned(false)
        };
    }
    if ctx.conflicted.contains(id.as_str())
        && let Err(e) = crate::conflicts::clear(store, &id)
    {
        return fail(e.to_string());
    }
    match ctx.fast.save_synced(&mut file) {
        Ok(true) => Outcome::Updated(file),
        Ok(false) => Outcome::Unchanged,
        Err(e) => fail(e.to_string()),
    }
}

/// The index failing mid-listing ends the listing like a remote failure would.
fn index_failure(e: roadmap_index::IndexError) -> TrackerError {
    TrackerError::Other {
        what: "the index".into(),
        message: e.to_string(),
    }
}

async fn collect_pages<T>(
    mut pages: BoxStream<'_, Result<Page<T>, TrackerError>>,
) -> Result<Vec<Page<T>>, TrackerError> {
    let mut out = Vec::new();
    while let Some(p) = pages.next().await {
        out.push(p?);
    }
    Ok(out)
}

impl Counts {
    /// Books a page's bookkeeping (pages, 304s, skipped, rejected items as failures) and
    /// hands back its items.
    fn book<T>(&mut self, page: Page<T>, noun: &str, failures: &mut Vec<ItemFailure>) -> Vec<T> {
        self.pages += 1;
        self.not_modified += u64::from(page.not_modified);
        self.skipped += u64::from(page.skipped);
        for (what, reason) in page.rejected {
            self.failed += 1;
            failures.push(ItemFailure {
                what: format!("{noun} {what}"),
                reason,
            });
        }
        page.items
    }
}

fn merge(into: &mut PullReport, part: PullReport) {
    into.resources.extend(part.resources);
    into.failures.extend(part.failures);
    into.conflicts.extend(part.conflicts);
    into.lost.extend(part.lost);
    into.files_written += part.files_written;
}

async fn pull_comments(
    store: &Store,
    index: &Index<'_>,
    opts: &PullOptions,
    since: Option<Timestamp>,
    mut pages: BoxStream<'_, Result<Page<RemoteComment>, TrackerError>>,
    report: &mut PullReport,
) -> Result<Option<Timestamp>, TrackerError> {
    let numbers = index.issue_numbers().await.map_err(index_failure)?;
    let mut counts = Counts::default();
    let mut max_seen = since;
    let mut failed = false;
    let mut split: Option<Resume> = None;
    while let Some(page) = pages.next().await {
        let mut page = page?;
        let resume = page.resume.take();
        let rejected_before = counts.failed;
        let items = counts.book(page, "comment", &mut report.failures);
        failed |= counts.failed > rejected_before;
        let mut by_issue: HashMap<u64, Vec<RemoteComment>> = HashMap::new();
        for c in items {
            counts.fetched += 1;
            max_seen = max_seen.max(Some(c.updated_at));
            by_issue.entry(c.issue_number).or_default().push(c);
        }
        let mut jobs = Vec::new();
        for (number, list) in by_issue {
            let Some(path) = numbers.get(&number) else {
                // A pull request's comments, or an issue we do not hold.
                counts.skipped += list.len() as u64;
                continue;
            };
            let Some(id) = crate::id_of(path) else {
                continue;
            };
            jobs.push((id, list));
        }
        if opts.dry_run {
            continue;
        }
        let checkpoint_after = resume;
        let per = jobs.len().div_ceil(opts.workers.max(1)).max(1);
        let mut tasks = Vec::new();
        for chunk in jobs.chunks(per) {
            let chunk = chunk.to_vec();
            let store = store.clone();
            tasks.push(tokio::task::spawn_blocking(move || {
                chunk
                    .iter()
                    .map(|(id, list)| (id.clone(), comments::merge(&store, id, list)))
                    .collect::<Vec<_>>()
            }));
        }
        for t in tasks {
            for (id, r) in t.await.unwrap_or_default() {
                match r {
                    Ok(true) => {
                        counts.updated += 1;
                        report.files_written += 1;
                    }
                    Ok(false) => counts.unchanged += 1,
                    Err(e) => {
                        counts.failed += 1;
                        failed = true;
                        report.failures.push(ItemFailure {
                            what: format!("comments of {id}"),
                            reason: e.to_string(),
                        });
                    }
                }
            }
        }
        if let Some(r) = checkpoint_after {
            if let Err(e) = checkpoint::save(store, "comments", &r) {
                report.failures.push(ItemFailure {
                    what: "the pull's checkpoint".into(),
                    reason: e.to_string(),
                });
            }
            split = Some(r);
        }
    }
    report.resources.insert("comments", counts);
    if failed {
        return Ok(None);
    }
    Ok(match split {
        Some(r) => Some(r.began),
        None => max_seen,
    })
}

/// Missing issues up to this many are always looked up; above it, only while they are at
/// most a tenth of those held.
const LOST_CHECK_MIN: usize = 20;

/// After a complete full listing: issues we hold that GitHub no longer lists were deleted or
/// transferred. Ask for each, mark the file, never delete it.
async fn find_lost(
    tracker: &dyn Tracker,
    store: &Store,
    index: &Index<'_>,
    opts: &PullOptions,
    seen: &HashSet<u64>,
    report: &mut PullReport,
) -> Result<(), SyncError> {
    let numbers = index.issue_numbers().await?;
    let missing = numbers.keys().filter(|n| !seen.contains(n)).count();
    // A complete listing that lacks many of the issues we hold is far likelier to be a
    // listing cut short than a mass deletion: say so rather than send a GET for each.
    if missing > LOST_CHECK_MIN && missing * 10 > numbers.len() {
        report.failures.push(ItemFailure {
            what: "lost-issue check".into(),
            reason: format!(
                "{missing} of the {} issues held here are missing from GitHub's listing; not looking them up one by one (a listing cut short is likelier than that many deletions: run a full pull again)",
                numbers.len()
            ),
        });
        return Ok(());
    }
    let mut written = Vec::new();
    for (number, path) in numbers {
        if seen.contains(&number) {
            continue;
        }
        let Ok(mut f) = store.load::<Issue>(&path) else {
            continue;
        };
        if f.item().remote.as_ref().is_some_and(|r| r.lost.is_some()) {
            continue;
        }
        let fate = match tracker.get_issue(number).await {
            Err(TrackerError::Gone { .. } | TrackerError::NotFound { .. }) => "gone",
            Err(TrackerError::Moved { .. }) => "transferred",
            Err(e @ TrackerError::RateLimited { .. }) => return Err(e.into()),
            Err(e) => {
                report.failures.push(ItemFailure {
                    what: format!("issue #{number}"),
                    reason: e.to_string(),
                });
                continue;
            }
            Ok(_) => continue,
        };
        report.lost.push(format!("{}: {fate}", f.item().id));
        if opts.dry_run {
            continue;
        }
        if let Some(r) = f.item_mut().remote.as_mut() {
            r.lost = Some(fate.to_owned());
        }
        if store.save(&mut f)? {
            report.files_written += 1;
            written.push(f);
        }
    }
    index.upsert_issues(&written).await?;
    Ok(())
}
