//! The push, and the two-way sync that wraps it: finish what an interrupted run began
//! (intents), pull and merge, then send what is ours: milestones and labels first, then
//! issues (created, updated, closed, reopened), then new comments.
//!
//! Writes go one at a time through the tracker client, which spaces them as GitHub asks and
//! keeps to the content-creation budget. An item whose write fails stays pending (its file
//! still differs from its base) and is reported with the reason; the rest goes on. A rate
//! limit or a refused token stops the run with a clear message; everything not sent stays
//! pending for the next run.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::time::Instant;

use futures::StreamExt;
use roadmap_index::Index;
use roadmap_model::{
    Comment, Issue, IssuePatch, ItemId, Milestone, MilestonePatch, NewComment, NewIssue, NewLabel,
    NewMilestone, RemoteIssue, RemoteState, Tracker, TrackerError,
};
use roadmap_store::{ItemFile, Store};
use serde::Serialize;

use crate::intent::{self, Intent, IntentKind};
use crate::map::{Mapping, RemoteShape, fingerprint, locally_edited};
use crate::pull::{Events, apply_milestone, diff, milestone_fingerprint, pull_locked};
use crate::state::{ProjectLock, SyncState};
use crate::{ItemFailure, Phase, PullOptions, PullReport, SyncError, SyncEvent, comments};

mod issue_comments;
mod issues;
mod labels;
mod milestones;
mod relations;

use self::issue_comments::{fill_comment, push_comments, write_comments};
use self::issues::{describe, may_have_local, push_issue, shape_of};
use self::labels::{create_label, read_labels};
use self::milestones::{create_missing_milestone, push_milestone};

/// Colour of the labels a push creates, by default (GitHub's grey).
pub const DEFAULT_LABEL_COLOR: &str = "ededed";

/// What to push and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushOptions {
    /// Print the plan; send and write nothing.
    pub dry_run: bool,
    /// How roadmap-only fields travel.
    pub mapping: Mapping,
    /// Colour of labels created for issues that use a label GitHub does not have yet.
    pub label_color: String,
}

impl Default for PushOptions {
    fn default() -> Self {
        PushOptions {
            dry_run: false,
            mapping: Mapping::default(),
            label_color: DEFAULT_LABEL_COLOR.into(),
        }
    }
}

/// One write, done or (in a dry run) planned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Planned {
    /// `create`, `update`, `close`, `reopen`, `comment`, `create-milestone`,
    /// `update-milestone`, `create-label`, and for relations that travel natively
    /// `add-dependency`, `remove-dependency` (`#5 waits for #2`), `add-sub-issue`
    /// (`#8 under #9`), `remove-sub-issue` (`#8 from #9`).
    pub action: &'static str,
    /// The item (`issue 3fa2b1c9 "Title"`, `issue #12`, `label bug`).
    pub what: String,
    /// The fields sent (updates).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<&'static str>,
}

/// What a push did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PushReport {
    /// Wall time, milliseconds.
    pub duration_ms: u64,
    /// Whether nothing was sent or written.
    pub dry_run: bool,
    /// The writes, in order: done, or planned in a dry run.
    pub plan: Vec<Planned>,
    /// Items created on GitHub, by kind (`issues`, `milestones`, `labels`, `comments`).
    pub created: BTreeMap<&'static str, u64>,
    /// Items updated on GitHub, by kind.
    pub updated: BTreeMap<&'static str, u64>,
    /// Issues closed.
    pub closed: u64,
    /// Issues reopened.
    pub reopened: u64,
    /// Issues in conflict, not pushed until resolved.
    pub conflicts: Vec<String>,
    /// Items that failed, each with its reason; they stay pending.
    pub failures: Vec<ItemFailure>,
    /// Items still pending after this run (failed, in conflict, or not reached).
    pub pending: u64,
    /// Creates of an interrupted run found done on GitHub and linked (not made again).
    pub resumed: u64,
    /// Write requests sent (POST and PATCH, retries included).
    pub writes: u64,
    /// Files written.
    pub files_written: u64,
    /// What the tracker did for this push; `wait_time` is the time spent waiting for write
    /// spacing, the content-creation budget and rate limits.
    pub api: roadmap_model::TrackerMetrics,
    /// Why the push stopped early (a rate limit or a refused token), if it did.
    pub stopped: Option<String>,
    /// The error that stopped it, classified.
    #[serde(skip)]
    pub stopped_by: Option<TrackerError>,
}

impl PushReport {
    /// Whether something was left undone.
    pub fn partial(&self) -> bool {
        !self.failures.is_empty() || self.stopped.is_some()
    }
    /// Whether something was written to GitHub or to the files.
    pub fn synced_any(&self) -> bool {
        self.writes > 0 || self.files_written > 0
    }
}

/// A two-way sync: its pull and its push.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SyncReport {
    /// The pull (and merge).
    pub pull: PullReport,
    /// The push.
    pub push: PushReport,
}

impl SyncReport {
    /// Whether something was left undone.
    pub fn partial(&self) -> bool {
        self.pull.partial() || self.push.partial()
    }
    /// Whether some of the work was done, either way.
    pub fn synced_any(&self) -> bool {
        self.pull.synced_any() || self.push.synced_any()
    }
}

/// Two-way sync: resumes an interrupted push, pulls and merges, then pushes.
pub async fn sync(
    tracker: &dyn Tracker,
    index: &Index<'_>,
    pull: &PullOptions,
    push: &PushOptions,
    events: Events<'_>,
) -> Result<SyncReport, SyncError> {
    let store = index.store().clone();
    let _lock = if push.dry_run {
        None
    } else {
        Some(ProjectLock::acquire(&store)?)
    };
    let mut push_report = PushReport {
        dry_run: push.dry_run,
        ..PushReport::default()
    };
    if !push.dry_run {
        resume(tracker, &store, &push.mapping, &mut push_report).await?;
    }
    let pull_opts = PullOptions {
        dry_run: push.dry_run,
        mapping: push.mapping.clone(),
        ..pull.clone()
    };
    let pull_report = pull_locked(tracker, index, &pull_opts, events).await?;
    let push_started = Instant::now();
    let mid = tracker.metrics();
    // What the pull found in conflict stays out of the push (milestones merge whole, with no
    // base text: one edited on both sides is a conflict too).
    let pulled_conflicts: HashSet<String> = pull_report.conflicts.iter().cloned().collect();
    push_locked(
        tracker,
        index,
        push,
        &pulled_conflicts,
        &mut push_report,
        events,
    )
    .await?;
    let api = diff(&mid, &tracker.metrics());
    push_report.writes = api
        .endpoints
        .iter()
        .filter(|(k, _)| !k.starts_with("GET"))
        .map(|(_, v)| v.calls)
        .sum();
    push_report.api = api;
    push_report.duration_ms = push_started.elapsed().as_millis() as u64;
    Ok(SyncReport {
        pull: pull_report,
        push: push_report,
    })
}

/// Push: a sync whose pull only brings issues, milestones and labels up to date (so that
/// nothing changed on GitHub since the last pull is overwritten), then sends what is ours.
pub async fn push(
    tracker: &dyn Tracker,
    index: &Index<'_>,
    opts: &PushOptions,
    events: Events<'_>,
) -> Result<SyncReport, SyncError> {
    let pull = PullOptions {
        comments: false,
        ..PullOptions::default()
    };
    sync(tracker, index, &pull, opts, events).await
}

/// Finishes what an interrupted run began: each create it recorded an intent for is looked for
/// on GitHub and linked if found; if not, it never happened and is sent again by this push.
async fn resume(
    tracker: &dyn Tracker,
    store: &Store,
    mapping: &Mapping,
    report: &mut PushReport,
) -> Result<(), SyncError> {
    let pending = intent::pending(store);
    if pending.is_empty() {
        return Ok(());
    }
    let mut issues: Vec<(PathBuf, Intent)> = Vec::new();
    let mut comments_: Vec<(PathBuf, Intent)> = Vec::new();
    for (path, r) in pending {
        match r {
            Ok(i) if i.kind == IntentKind::Issue => issues.push((path, i)),
            Ok(i) => comments_.push((path, i)),
            Err(reason) => report.failures.push(ItemFailure {
                what: path.display().to_string(),
                reason: format!("unreadable intent record: {reason}"),
            }),
        }
    }
    if !issues.is_empty() {
        let since = issues.iter().map(|(_, i)| i.since).min().flatten();
        let mut listed: Vec<RemoteIssue> = Vec::new();
        let mut pages = tracker.list_issues(roadmap_model::ListOptions {
            since,
            ..Default::default()
        });
        while let Some(page) = pages.next().await {
            listed.extend(page?.items);
        }
        drop(pages);
        // Only a create of ours is taken for ours: ask who we are when there is a candidate.
        let viewer = if listed.is_empty() {
            None
        } else {
            tracker.viewer().await.unwrap_or_else(|e| {
                tracing::debug!("who the token is for is unknown: {e}");
                None
            })
        };
        for (path, intent) in issues {
            let Ok(id) = ItemId::new(&intent.issue) else {
                intent::done(store, &path)?;
                continue;
            };
            let Ok(mut file) = store.get::<Issue>(&id) else {
                intent::done(store, &path)?;
                continue;
            };
            if file.item().remote.is_none()
                && let Some(found) = listed.iter().find(|r| {
                    intent.may_link(r, viewer.as_deref())
                        && (mapping.origin_id(r).as_ref() == Some(&id)
                            || (r.title == intent.title
                                && r.body.as_deref().unwrap_or_default() == intent.body))
                })
            {
                link(store, mapping, &mut file, found, None)?;
                report.resumed += 1;
                report.files_written += 1;
            }
            intent::done(store, &path)?;
        }
    }
    if !comments_.is_empty() {
        let since = comments_.iter().map(|(_, i)| i.since).min().flatten();
        let mut listed = Vec::new();
        let mut pages = tracker.list_comments(roadmap_model::ListOptions {
            since,
            ..Default::default()
        });
        while let Some(page) = pages.next().await {
            listed.extend(page?.items);
        }
        drop(pages);
        for (path, intent) in comments_ {
            let found = listed
                .iter()
                .find(|c| Some(c.issue_number) == intent.number && c.body == intent.body);
            if let (Some(c), Ok(id)) = (found, ItemId::new(&intent.issue)) {
                let p = comments::path(store, &id);
                let mut list = comments::read(store, &p).map_err(|e| SyncError::State {
                    path: p.clone(),
                    message: e.to_string(),
                })?;
                if let Some(local) = list
                    .iter_mut()
                    .find(|x| x.id.is_none() && x.body == intent.body)
                {
                    fill_comment(local, c);
                    write_comments(store, &p, &list)?;
                    report.resumed += 1;
                    report.files_written += 1;
                }
            }
            intent::done(store, &path)?;
        }
    }
    Ok(())
}

/// Links a local issue to the remote one made from it: GitHub's version becomes its base, and
/// whatever was edited here since stays to be pushed.
fn link(
    store: &Store,
    mapping: &Mapping,
    file: &mut ItemFile<Issue>,
    remote: &RemoteIssue,
    synced: Option<relations::Rels>,
) -> Result<(), SyncError> {
    let mut theirs = file.item().clone();
    let title = remote.milestone.and(file.item().milestone.clone());
    mapping.apply_remote(&mut theirs, remote, title);
    if let Some(s) = synced {
        s.set_on(&mut theirs);
        let hash = fingerprint(&theirs);
        if let Some(r) = theirs.remote.as_mut() {
            r.hash = Some(hash);
        }
    }
    let item = file.item_mut();
    item.remote = theirs.remote.clone();
    item.created = theirs.created;
    item.updated = theirs.updated;
    item.closed = theirs.closed;
    store.save(file)?;
    store.write_base(file, &crate::conflicts::render(&theirs))?;
    Ok(())
}

/// Per-run context of a push.
struct Pusher<'a> {
    /// The repository's labels as GitHub spells them (`labels.yml`).
    label_names: Vec<String>,
    tracker: &'a dyn Tracker,
    store: &'a Store,
    opts: &'a PushOptions,
    report: &'a mut PushReport,
    /// Milestone title to number.
    milestones: HashMap<String, u64>,
    /// Label names GitHub has, lowercased.
    labels: HashSet<String>,
    issues_written: Vec<ItemFile<Issue>>,
    milestones_written: Vec<ItemFile<Milestone>>,
    since: Option<roadmap_model::Timestamp>,
    comments_since: Option<roadmap_model::Timestamp>,
    /// Database ids by issue number, as far as this run has seen them.
    db_ids: HashMap<u64, u64>,
    /// Dependencies sent by this run.
    edges_sent: HashSet<relations::Edge>,
    /// Issues with a relation to an issue not created yet when they were pushed.
    waiting: Vec<ItemId>,
}

impl Pusher<'_> {
    fn plan(&mut self, action: &'static str, what: String, fields: Vec<&'static str>) {
        self.report.plan.push(Planned {
            action,
            what,
            fields,
        });
    }

    fn fail(&mut self, what: String, e: &TrackerError) -> Result<(), ()> {
        self.report.pending += 1;
        if crate::stops_run(e) {
            self.report.stopped = Some(e.to_string());
            self.report.stopped_by = Some(e.clone());
            return Err(());
        }
        self.report.failures.push(ItemFailure {
            what,
            reason: e.to_string(),
        });
        Ok(())
    }

    fn stopped(&self) -> bool {
        self.report.stopped.is_some()
    }
}

async fn push_locked(
    tracker: &dyn Tracker,
    index: &Index<'_>,
    opts: &PushOptions,
    pulled_conflicts: &HashSet<String>,
    report: &mut PushReport,
    events: Events<'_>,
) -> Result<(), SyncError> {
    let store = index.store();
    let state = SyncState::load(store, tracker.full_name())?;
    // Relations travel natively once a pull has seen that the repository has them.
    let opts = &PushOptions {
        mapping: Mapping {
            native_relations: state.relations == Some(crate::RelationsMode::Native),
            ..opts.mapping.clone()
        },
        ..opts.clone()
    };
    let conflicted: HashSet<String> = crate::conflicts::ids(store).into_iter().collect();
    let milestones = store.load_all::<Milestone>()?;
    let issues = store.load_all::<Issue>()?;
    for bad in issues.skipped.iter().chain(milestones.skipped.iter()) {
        report.failures.push(ItemFailure {
            what: bad.path.display().to_string(),
            reason: bad.to_string(),
        });
    }
    let mut p = Pusher {
        tracker,
        store,
        opts,
        report,
        milestones: milestones
            .items
            .iter()
            .filter_map(|f| Some((f.item().title.clone(), f.item().remote.as_ref()?.number)))
            .collect(),
        labels: read_labels(store)
            .iter()
            .map(|l| l.to_lowercase())
            .collect(),
        label_names: read_labels(store),
        issues_written: Vec::new(),
        milestones_written: Vec::new(),
        since: state.watermarks.get("issues").copied(),
        comments_since: state.watermarks.get("comments").copied(),
        db_ids: HashMap::new(),
        edges_sent: HashSet::new(),
        waiting: Vec::new(),
    };
    events(SyncEvent::Started(Phase::Push));

    // Milestones: new ones, then edited ones.
    for mut f in milestones.items {
        if p.stopped() {
            break;
        }
        if pulled_conflicts.contains(f.item().id.as_str()) {
            p.report.conflicts.push(f.item().id.to_string());
            p.report.pending += 1;
            continue;
        }
        push_milestone(&mut p, &mut f).await?;
    }

    // The issues to push, in id order.
    let mut todo: Vec<ItemFile<Issue>> = Vec::new();
    for f in issues.items {
        let i = f.item();
        // An issue whose body on GitHub still holds relations in its hidden block is migrated
        // (see `push_issue`), edited or not.
        let migrate =
            opts.mapping.native_relations && i.remote.as_ref().is_some_and(|r| r.legacy_relations);
        if i.remote.as_ref().is_some_and(|r| r.lost.is_some()) || !(locally_edited(i) || migrate) {
            continue;
        }
        // In conflict: recorded, or found by this run's pull (a dry run records nothing, yet
        // must plan exactly what the real run would send).
        if conflicted.contains(i.id.as_str()) || pulled_conflicts.contains(i.id.as_str()) {
            p.report.conflicts.push(i.id.to_string());
            p.report.pending += 1;
            continue;
        }
        // What GitHub would refuse (an empty or over-long title, an over-long body, a bad
        // label name) or must never get (conflict markers) is reported once, naming the file,
        // and the push goes on.
        let problems = crate::validate::issue_problems(i);
        if !problems.is_empty() {
            p.report.failures.push(ItemFailure {
                what: describe(i),
                reason: format!("{} {}", f.path.display(), problems.join("; it ")),
            });
            p.report.pending += 1;
            continue;
        }
        todo.push(f);
    }

    // Labels and milestones the issues need, first.
    let mut missing_labels = Vec::new();
    let mut missing_ms = Vec::new();
    for f in &todo {
        let shape = shape_of(&opts.mapping, &p.label_names, f.item());
        for l in shape.labels {
            if p.labels.insert(l.to_lowercase()) {
                missing_labels.push(l);
            }
        }
        if let Some(m) = shape.milestone
            && !p.milestones.contains_key(&m)
            && !missing_ms.contains(&m)
        {
            missing_ms.push(m);
        }
    }
    for name in missing_labels {
        if p.stopped() {
            break;
        }
        create_label(&mut p, name).await?;
    }
    for title in missing_ms {
        if p.stopped() {
            break;
        }
        create_missing_milestone(&mut p, title).await?;
    }

    let total = todo.len() as u64;
    for (done, mut f) in todo.into_iter().enumerate() {
        if p.stopped() {
            p.report.pending += 1;
            continue;
        }
        push_issue(&mut p, &mut f).await?;
        events(SyncEvent::Progress {
            phase: Phase::Push,
            done: done as u64 + 1,
            total: Some(total),
        });
    }

    // Relations to issues this run created, now that they have numbers.
    for id in std::mem::take(&mut p.waiting) {
        if p.stopped() {
            break;
        }
        if let Ok(mut f) = store.get::<Issue>(&id)
            && locally_edited(f.item())
        {
            push_issue(&mut p, &mut f).await?;
        }
    }

    if !p.stopped() {
        push_comments(&mut p).await?;
    }
    let (issues_written, milestones_written) = (
        std::mem::take(&mut p.issues_written),
        std::mem::take(&mut p.milestones_written),
    );
    if !opts.dry_run {
        index.upsert_milestones(&milestones_written).await?;
        index.upsert_issues(&issues_written).await?;
        let mut state = SyncState::load(store, tracker.full_name())?;
        state.conflicts = crate::conflicts::ids(store);
        state.save(store)?;
    }
    report.conflicts.sort();
    events(SyncEvent::Finished(Phase::Push));
    Ok(())
}
