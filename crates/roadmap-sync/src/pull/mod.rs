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

mod issue_comments;
mod issues;
mod labels;
mod lost;
mod milestones;
mod relations;

use self::issue_comments::pull_comments;
use self::issues::{index_failure, pending_creates, pull_issues};
use self::labels::pull_labels;
use self::lost::find_lost;
pub(crate) use self::milestones::{apply_milestone, milestone_description, milestone_fingerprint};
use self::milestones::{local_milestone_titles, pull_milestones, rename_in_issues};

/// The callback that receives a run's progress events.
pub type Events<'a> = &'a (dyn Fn(SyncEvent) + Send + Sync);

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
    let mut relations_seen = relations::Seen {
        parent_urls: state.parent_urls,
        ..relations::Seen::default()
    };
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
                tracker,
                (state.relations, &mut relations_seen),
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

    state.relations = relations_seen.mode(state.relations);
    state.parent_urls |= relations_seen.parent_urls;
    report.relations = state.relations;
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
