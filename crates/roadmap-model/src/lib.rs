//! Domain types of roadmap: issues, milestones, roadmaps, labels, comments, and the
//! [`Tracker`] trait through which the sync engine reaches a remote issue tracker.
//!
//! This crate does no IO: it holds plain data, parsing of the small value types
//! (status, priority, ids) and the trait. Every other crate depends on it.
//!
//! ```
//! use roadmap_model::{Issue, ItemId, Priority, Status};
//!
//! let mut issue = Issue::new(ItemId::new("1a2b3c4d")?, "Fix the login bug");
//! issue.priority = "high".parse()?;
//! issue.labels.push("Priority: High".into());
//! assert_eq!(issue.status, Status::Todo);
//! assert_eq!(issue.priority, Priority::High);
//! // A GitHub issue pulled without a local id is named after its number.
//! assert_eq!(ItemId::for_remote_issue(12).as_str(), "gh-12");
//! # Ok::<(), roadmap_model::ParseValueError>(())
//! ```

mod item;
mod text;
mod tracker;
mod values;

pub use item::{Comment, Issue, Label, Milestone, MilestoneState, RemoteRef, Roadmap};
pub use text::TextForm;
pub use tracker::{
    EndpointMetrics, Hook, ListOptions, ListStats, Page, RemoteComment, RemoteIssue, RemoteLabel,
    RemoteMilestone, RemoteState, Resume, Split, TrackerError, TrackerMetrics, Window,
};
pub use tracker::{
    IssuePatch, MilestonePatch, NewComment, NewIssue, NewLabel, NewMilestone, RelationCounts,
    RemoteLinks, SubIssuePlace, Tracker, reference_of_issue_url, repo_of_api_url,
};
pub use values::{CloseReason, ItemId, ParseValueError, Priority, Status, Timestamp};

/// Parallel requests and file writers by default: GitHub allows 100 concurrent requests but
/// asks for restraint, and a pull is bound by the network well before 8.
pub const DEFAULT_WORKERS: usize = 8;
