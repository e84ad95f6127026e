//! The sync engine: pulls a repository's issues, milestones, labels and comments from a
//! [`Tracker`](roadmap_model::Tracker) into the file store and the index, streamed, incremental
//! and in as few API calls as the API allows; merges both sides' edits field by field (three-way,
//! against the base kept in `.roadmap/sync/base/`); and pushes local changes back exactly once.
//!
//! Invariants: it sees GitHub only through `Tracker`; it never overwrites a local edit (a
//! field edited on both sides is a conflict, recorded and left alone, and never pushed until
//! resolved); every create is preceded by a durable intent record, so a rerun never creates
//! twice; it never
//! deletes a local file because the remote lacks it (a full pull marks it `lost`); a
//! watermark moves only after a complete pass, and only to a remote `updated_at`; it never
//! prints — progress is a stream of [`SyncEvent`]s.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use roadmap_index::Index;
//! use roadmap_store::Store;
//! use roadmap_sync::{PullOptions, pull};
//! # let sim = roadmap_sim::Simulator::start(roadmap_sim::SimConfig::default()
//! #     .repo(roadmap_sim::RepoSpec::sample("octo", "demo", 120))).await?;
//! # let url = sim.url();
//!
//! let dir = tempfile::tempdir()?;
//! let store = Store::init(dir.path(), "")?;
//! let index = Index::open(&store).await?;
//! // Any `Tracker`; here the GitHub client, pointed at a simulated GitHub.
//! let github = roadmap_github::GitHub::builder("octo", "demo").api_url(url).build()?;
//! let report = pull(&github, &index, &PullOptions::default(), &|_| {}).await?;
//! assert_eq!(report.resources["issues"].created, 120);
//! // Again: only what changed since the watermark, answered 304.
//! let again = pull(&github, &index, &PullOptions::default(), &|_| {}).await?;
//! assert_eq!(again.files_written, 0);
//! # index.close().await;
//! # Ok(()) }
//! ```

pub mod comments;
pub mod conflicts;
mod intent;
pub mod map;
pub mod merge;
mod pipeline;
mod pull;
mod push;
mod state;
pub mod validate;

use std::collections::BTreeMap;
use std::path::PathBuf;

use roadmap_model::{TrackerError, TrackerMetrics};
use serde::Serialize;

pub use map::Mapping;
pub use pull::{Events, pull};
pub use push::{DEFAULT_LABEL_COLOR, Planned, PushOptions, PushReport, SyncReport, push, sync};
pub use state::{LastRun, ProjectLock, RelationsMode, STATE_VERSION, SyncState};

/// Whether a tracker error stops the whole run (waiting will not help within it): a rate limit
/// past the longest wait, a refused token, a host that cannot be reached. Anything else fails
/// one item or one listing.
pub(crate) fn stops_run(e: &TrackerError) -> bool {
    matches!(
        e,
        TrackerError::RateLimited { .. }
            | TrackerError::Unauthorized { .. }
            | TrackerError::Unreachable { .. }
    )
}

/// The item id a file is named after (`<id>.md`, `<id>.yml`).
pub(crate) fn id_of(path: &std::path::Path) -> Option<roadmap_model::ItemId> {
    path.file_stem()
        .and_then(|s| s.to_str())
        .and_then(|s| roadmap_model::ItemId::new(s).ok())
}

/// A sync that could not run (or had to stop).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    /// Another process holds the project lock.
    #[error("another roadmap process is syncing this project (lock {0}); wait for it or try again")]
    Locked(PathBuf),
    /// The sync state file is unreadable.
    #[error("{path}: {message}")]
    State {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// The remote refused in a way that stops the run (rate limit, authentication).
    #[error(transparent)]
    Tracker(#[from] TrackerError),
    /// The file store failed.
    #[error(transparent)]
    Store(#[from] roadmap_store::StoreError),
    /// The index failed.
    #[error(transparent)]
    Index(#[from] roadmap_index::IndexError),
    /// Filesystem failure.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Items per batch (and the fewest per index transaction when that many wait) by default.
pub const DEFAULT_BATCH_SIZE: usize = 50;

/// What to pull and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullOptions {
    /// Pull issues.
    pub issues: bool,
    /// Pull milestones.
    pub milestones: bool,
    /// Pull labels.
    pub labels: bool,
    /// Pull comments.
    pub comments: bool,
    /// Ignore watermarks, list everything, and look for deleted or transferred issues.
    pub full: bool,
    /// Parallel file writers.
    pub workers: usize,
    /// Items written per batch; an index transaction takes at least this many when that many
    /// are waiting (up to 1,000 when the index writer falls behind).
    pub batch_size: usize,
    /// Report what would change; write nothing.
    pub dry_run: bool,
    /// How roadmap-only fields travel.
    pub mapping: Mapping,
}

impl Default for PullOptions {
    fn default() -> Self {
        PullOptions {
            issues: true,
            milestones: true,
            labels: true,
            comments: true,
            full: false,
            workers: roadmap_model::DEFAULT_WORKERS,
            batch_size: DEFAULT_BATCH_SIZE,
            dry_run: false,
            mapping: Mapping::default(),
        }
    }
}

/// A phase of a pull.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Phase {
    /// Milestones.
    Milestones,
    /// Labels.
    Labels,
    /// Issues.
    Issues,
    /// Comments.
    Comments,
    /// Looking for deleted or transferred issues (full pulls).
    Lost,
    /// Sending local changes.
    Push,
}

impl Phase {
    /// A name for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Milestones => "milestones",
            Phase::Labels => "labels",
            Phase::Issues => "issues",
            Phase::Comments => "comments",
            Phase::Lost => "lost",
            Phase::Push => "push",
        }
    }
}

/// Progress of a pull, for the caller to render.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SyncEvent {
    /// A phase began.
    Started(Phase),
    /// Items processed so far in a phase, and the expected total when known.
    Progress {
        /// The phase.
        phase: Phase,
        /// Items processed.
        done: u64,
        /// Expected total (from the number of pages), if known.
        total: Option<u64>,
    },
    /// A phase ended.
    Finished(Phase),
}

/// Counts for one resource.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Items received.
    pub fetched: u64,
    /// Files created.
    pub created: u64,
    /// Files updated.
    pub updated: u64,
    /// Items already up to date.
    pub unchanged: u64,
    /// Items edited on both sides on different fields, merged (the local side waits for a push).
    pub merged: u64,
    /// Items edited on both sides on the same field, left alone.
    pub conflicts: u64,
    /// Items edited locally only, left for a push.
    pub local_pending: u64,
    /// Items that failed.
    pub failed: u64,
    /// Items skipped on purpose (pull requests, comments on them).
    pub skipped: u64,
    /// Pages read.
    pub pages: u64,
    /// Pages answered 304.
    pub not_modified: u64,
}

/// One item that could not be pulled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemFailure {
    /// Which item (`issue #12`, a path).
    pub what: String,
    /// Why.
    pub reason: String,
}

/// What a pull did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PullReport {
    /// Wall time, milliseconds.
    pub duration_ms: u64,
    /// Whether this was a full pull.
    pub full: bool,
    /// Whether it went on from an interrupted full pull's checkpoint.
    pub resumed: bool,
    /// Whether nothing was written.
    pub dry_run: bool,
    /// Counts by resource.
    pub resources: BTreeMap<&'static str, Counts>,
    /// Items that failed, each with its reason.
    pub failures: Vec<ItemFailure>,
    /// Local ids of issues in conflict.
    pub conflicts: Vec<String>,
    /// Issues found deleted or transferred on GitHub (full pulls), as `id: gone|transferred`.
    pub lost: Vec<String>,
    /// Files written.
    pub files_written: u64,
    /// What the tracker did for this pull.
    pub api: TrackerMetrics,
    /// Watermarks after the pull.
    pub watermarks: BTreeMap<String, String>,
    /// How issue relations travel, as far as the pulls so far have seen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relations: Option<RelationsMode>,
}

impl PullReport {
    /// The counts by resource in the order a pull reads them: milestones, labels, issues,
    /// comments (then any other, by name).
    pub fn resources_in_order(&self) -> Vec<(&'static str, &Counts)> {
        const ORDER: [&str; 4] = ["milestones", "labels", "issues", "comments"];
        let rank = |n: &str| ORDER.iter().position(|o| *o == n).unwrap_or(ORDER.len());
        let mut v: Vec<_> = self.resources.iter().map(|(k, c)| (*k, c)).collect();
        v.sort_by_key(|(k, _)| (rank(k), *k));
        v
    }

    /// Whether some item failed (the pull is partial).
    pub fn partial(&self) -> bool {
        !self.failures.is_empty()
    }
    /// Whether some of the work was done: a listing completed, or files were written.
    pub fn synced_any(&self) -> bool {
        !self.resources.is_empty() || self.files_written > 0
    }
    /// Items received, all resources.
    pub fn items(&self) -> u64 {
        self.resources.values().map(|c| c.fetched).sum()
    }
}
