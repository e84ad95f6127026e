//! # roadmap
//!
//! A GitHub repository's issues, milestones, labels and comments as Markdown files with YAML
//! front matter under `.roadmap/`, indexed in SQLite for instant queries, and synced both
//! ways with GitHub. This crate is the one to depend on: [`Project`] opens a project with its
//! settings and does what the `roadmap` command does (pull, push, sync, queries, edits), and
//! the crates it is made of are re-exported for the rest ([`model`], [`store`], [`index`],
//! [`cache`], [`github`], [`sync`]).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use roadmap::simulator::{RepoSpec, SimConfig, Simulator};
//! use roadmap::{IssueEdit, IssueQuery, Priority, Project, PullSpec};
//!
//! // A simulated GitHub; against github.com, leave `api_url` at its default.
//! let sim = Simulator::start(SimConfig::default().repo(RepoSpec::sample("octo", "demo", 20))).await?;
//! let dir = tempfile::tempdir()?;
//! let mut project = Project::init(dir.path(), Some(&"octo/demo".parse()?))?;
//! project.configure("api_url", &sim.url())?;
//! let github = project.github(Some("a-token".into()))?;
//!
//! let pulled = project.pull(&github, &PullSpec::default(), &|_| {}).await?;
//! assert!(pulled.items() > 0);
//! let open = project.issues(&IssueQuery::open().limit(3)).await?;
//! project.edit_issue(&open[0].id, &IssueEdit::priority(Priority::High)).await?;
//! let pushed = project.push(&github, false, &|_| {}).await?;
//! // Two writes: the new label `priority:high` (how a priority travels), then the issue.
//! assert_eq!(pushed.push.writes, 2);
//! # Ok(())
//! # }
//! ```
//!
//! Invariants: the files are the source of truth (the index is rebuilt from them); a project's
//! committed `config.toml` never decides where a token goes or what runs ([`Host`]); the
//! settings' defaults are the engine's own, written once; it never prints and never reads the
//! process environment (the caller layers it in, [`Config::layer_env`]).

pub mod config;
mod edit;
pub mod host;
pub mod origin;
mod project;

use std::path::PathBuf;

pub use config::{Config, ConfigError, Repo, Settings, Source};
pub use edit::{IssueEdit, MilestoneEdit};
pub use host::{Host, HostError};
pub use project::{CACHE_MEMORY_BYTES, Project, ProjectStatus, PullSpec};

pub use roadmap_cache as cache;
pub use roadmap_github as github;
pub use roadmap_index as index;
pub use roadmap_model as model;
pub use roadmap_report as report;
#[cfg(feature = "simulator")]
pub use roadmap_sim as simulator;
pub use roadmap_store as store;
pub use roadmap_sync as sync;

pub use roadmap_github::GitHub;
pub use roadmap_index::{Index, IssueQuery, IssueRow, SearchHit, SortKey, StatusFilter};
pub use roadmap_model::{
    CloseReason, Issue, ItemId, Milestone, MilestoneState, Priority, Roadmap, Status, Timestamp,
    Tracker, TrackerError,
};
pub use roadmap_store::{ItemFile, Store};
pub use roadmap_sync::{
    Events, Phase, PullReport, PushReport, SyncError, SyncEvent, SyncReport, conflicts::Conflict,
    merge::Side,
};
pub use secrecy::SecretString;

/// What can go wrong, classified: match on the variant, not on the message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A setting that cannot be used.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// An API URL that cannot be used.
    #[error(transparent)]
    Host(#[from] HostError),
    /// Nothing by that name.
    #[error("no {kind} `{key}`")]
    NotFound {
        /// `issue`, `milestone`, …
        kind: &'static str,
        /// What was asked for.
        key: String,
    },
    /// An id prefix that matches several issues.
    #[error("`{key}` is the start of {} issue ids ({}): give more of it", candidates.len(), candidates.iter().take(5).cloned().collect::<Vec<_>>().join(", "))]
    Ambiguous {
        /// The prefix.
        key: String,
        /// Every id it matches, sorted.
        candidates: Vec<String>,
    },
    /// A milestone named by an edit that does not exist (and was not asked to be created).
    #[error("no milestone `{name}`{}", nearest.as_ref().map(|t| format!(" (did you mean `{t}`?)")).unwrap_or_default())]
    UnknownMilestone {
        /// The name given.
        name: String,
        /// The nearest existing title, if one is close.
        nearest: Option<String>,
    },
    /// Something GitHub would refuse, refused before it is written.
    #[error("{what} {}", problems.join("; it "))]
    Invalid {
        /// What (`the issue`, `issue 1a2b3c4d`).
        what: String,
        /// Each problem (`has an empty title`).
        problems: Vec<String>,
    },
    /// A name already taken.
    #[error("there is already {0}")]
    Exists(String),
    /// A project folder (or its cache) that is a symlink: a clone could point it anywhere.
    #[error("refusing to use {}: it is a symlink (a cloned project could point it anywhere); remove it", .0.display())]
    Symlink(PathBuf),
    /// A project found by looking up from a folder that belongs to another user.
    #[error("refusing the project at {}: its .roadmap/ belongs to another user (uid {owner}), not you (uid {user}); trust it with the `safe_directories` setting", project.display())]
    NotOwner {
        /// The project folder.
        project: PathBuf,
        /// The owner's uid.
        owner: u32,
        /// The running user's uid.
        user: u32,
    },
    /// A tracker for another repository than the project's.
    #[error("this project syncs {project}, not {tracker}")]
    OtherRepository {
        /// The project's `repo`.
        project: String,
        /// The tracker's [`full_name`](roadmap_model::Tracker::full_name).
        tracker: String,
    },
    /// The GitHub client could not be built.
    #[error(transparent)]
    Client(#[from] roadmap_github::BuildError),
    /// A sync failed or had to stop.
    #[error(transparent)]
    Sync(#[from] SyncError),
    /// The tracker refused.
    #[error(transparent)]
    Tracker(#[from] TrackerError),
    /// A conflict could not be resolved.
    #[error(transparent)]
    Conflict(#[from] roadmap_sync::conflicts::ConflictError),
    /// A comments file could not be read or written.
    #[error(transparent)]
    Comments(#[from] roadmap_sync::comments::CommentsError),
    /// The file store failed.
    #[error(transparent)]
    Store(#[from] roadmap_store::StoreError),
    /// A file did not parse.
    #[error(transparent)]
    Load(#[from] roadmap_store::LoadError),
    /// The index failed.
    #[error(transparent)]
    Index(#[from] roadmap_index::IndexError),
    /// A value did not parse.
    #[error(transparent)]
    Value(#[from] roadmap_model::ParseValueError),
}

/// This crate's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The embedding guide (docs/embedding.md), compiled with the crate so that its code stays true.
#[doc = include_str!("../../../docs/embedding.md")]
pub mod embedding {}
