//! Issues: the listing since the watermark, matched to files (by remote number, then by a
//! pending create's intent), merged three-way, written in parallel batches beside the index.

use std::sync::atomic::{AtomicBool, Ordering};

use super::relations::{Seen, read_links, respell};
use super::*;
use crate::state::RelationsMode;

/// Pages whose relations are read ahead of the page being applied.
const PAGES_AHEAD: usize = 8;

pub(super) enum Outcome {
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

#[allow(clippy::too_many_arguments)]
pub(super) async fn pull_issues(
    tracker: &dyn Tracker,
    (relations_mode, relations_seen): (Option<RelationsMode>, &mut Seen),
    pages: BoxStream<'_, Result<Page<RemoteIssue>, TrackerError>>,
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
    let ids = numbers
        .iter()
        .filter_map(|(n, p)| Some((p.file_stem()?.to_str()?.to_ascii_lowercase(), *n)))
        .collect();
    let ctx = Arc::new(IssueCtx {
        ids,
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
    // Each page's relations are read as it arrives, a few pages ahead of the one being
    // applied, so that their requests share the read slots with the listing instead of
    // holding it up.
    let parent_urls = AtomicBool::new(relations_seen.parent_urls);
    let mut pages = pages
        .map(|page| {
            let parent_urls = &parent_urls;
            async move {
                let mut page = page?;
                let mut seen = Seen {
                    parent_urls: parent_urls.load(Ordering::Relaxed),
                    ..Seen::default()
                };
                let failed = read_links(tracker, &mut page.items, relations_mode, &mut seen).await;
                if seen.parent_urls {
                    parent_urls.store(true, Ordering::Relaxed);
                }
                Ok::<_, TrackerError>((page, failed, seen))
            }
        })
        .buffered(PAGES_AHEAD);
    let files = async {
        let listed = loop {
            let Some(page) = pages.next().await else {
                fetched.send_replace(Some(true));
                break Ok(());
            };
            let (mut page, unread, page_seen) = match page {
                Ok(p) => p,
                Err(e) => break Err(e),
            };
            relations_seen.merge(page_seen);
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
            for (number, f, at) in unread {
                seen.insert(number);
                counts.fetched += 1;
                counts.failed += 1;
                max_seen = max_seen.max(Some(at));
                min_failed = min_failed.min(Some(at)).or(Some(at));
                failures.push(f);
            }
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
pub(super) struct IssueCtx {
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
    /// Remote numbers by local id (lower case), of the issues indexed when the pull began.
    ids: HashMap<String, u64>,
    titles: Arc<HashMap<u64, String>>,
    mapping: Mapping,
    conflicted: HashSet<String>,
    dry_run: bool,
}

/// Writes a batch of issues on blocking threads, `workers` at a time.
pub(super) async fn apply_batch(
    ctx: &Arc<IssueCtx>,
    batch: Vec<RemoteIssue>,
    workers: usize,
) -> Vec<Outcome> {
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
pub(super) fn pending_creates(store: &Store) -> HashMap<String, crate::intent::Intent> {
    crate::intent::pending(store)
        .into_iter()
        .filter_map(|(_, r)| r.ok())
        .filter(|i| i.kind == crate::intent::IntentKind::Issue)
        .map(|i| (i.issue.clone(), i))
        .collect()
}

/// The file that holds a remote issue: by number, by its `gh-<n>` name, or by the local id its
/// hidden block names (an issue created here whose create was not recorded).
pub(super) fn find_file(ctx: &IssueCtx, remote: &RemoteIssue) -> Option<PathBuf> {
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
pub(super) fn left_empty(store: &Store, path: &std::path::Path) -> bool {
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

pub(super) fn apply_one(ctx: &IssueCtx, remote: &RemoteIssue) -> Outcome {
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
    let id = file.item().id.clone();
    let base_hash = file.item().remote.as_ref().and_then(|r| r.hash.clone());
    let base = if edited {
        base_hash.as_deref().and_then(|h| {
            store
                .read_base::<Issue>(&id)
                .filter(|b| fingerprint(b.item()) == h)
        })
    } else {
        None
    };
    // The relations GitHub holds, spelled as the file spells them; a parent the listing
    // cannot tell stays as last synced.
    let mut remote_spelled;
    let mut remote = remote;
    if let Some(links) = &remote.links {
        remote_spelled = remote.clone();
        let mut l = links.clone();
        let number_of = |id: &str| ctx.ids.get(id).copied();
        let mut spelled = vec![file.item()];
        spelled.extend(base.as_ref().map(ItemFile::item));
        respell(&mut l, &spelled, &number_of);
        if !l.parent_known {
            l.parent = base.as_ref().unwrap_or(&file).item().parent.clone();
            l.parent_known = true;
        }
        remote_spelled.links = Some(l);
        remote = &remote_spelled;
    }
    let mut next = file.item().clone();
    ctx.mapping.apply_remote(&mut next, remote, title);
    if edited {
        let incoming = next.remote.as_ref().and_then(|r| r.hash.clone());
        if base_hash == incoming && !ctx.conflicted.contains(id.as_str()) {
            return Outcome::LocalPending;
        }
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
pub(super) fn index_failure(e: roadmap_index::IndexError) -> TrackerError {
    TrackerError::Other {
        what: "the index".into(),
        message: e.to_string(),
    }
}
