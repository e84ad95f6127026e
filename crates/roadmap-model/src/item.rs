use serde::{Deserialize, Serialize};

use crate::text::TextForm;
use crate::values::{CloseReason, ItemId, Priority, Status, Timestamp};

/// Where a synced item lives on GitHub, and the remote state it was last synced from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoteRef {
    /// The issue or milestone number in its repository.
    pub number: u64,
    /// GraphQL node id, opaque.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_id: Option<String>,
    /// The web URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// `open` or `closed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// `completed`, `not_planned`, `duplicate`, `reopened`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_reason: Option<String>,
    /// GitHub's `updated_at` of the version last synced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<Timestamp>,
    /// Fingerprint of the synced fields as last synced: a file whose fields no longer match
    /// it was edited locally.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    /// Set when a full pull found the issue deleted (`gone`) or transferred (`transferred`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lost: Option<String>,
    /// How GitHub's body (or description) differs from the file's: `null`, `crlf`,
    /// `no-final-newline`; absent when the file's body is GitHub's text.
    #[serde(default, skip_serializing_if = "TextForm::is_plain")]
    pub body_form: TextForm,
    /// The exact label GitHub holds for `status` (e.g. `Status: In Progress`), kept while the
    /// status is unchanged so that a push never respells it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_label: Option<String>,
    /// The exact label GitHub holds for `priority` (e.g. `Priority: High`), likewise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority_label: Option<String>,
    /// GitHub's body still carries relations in its hidden block, from before they travelled
    /// through GitHub's own dependencies and sub-issues: the next push moves them there.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub legacy_relations: bool,
}

/// An issue: front matter fields plus a Markdown body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Issue {
    /// Stable local id; names the file.
    pub id: ItemId,
    /// One-line title.
    pub title: String,
    /// Workflow status.
    #[serde(default = "default_status")]
    pub status: Status,
    /// Why a done issue was closed, when not simply completed (`not-planned`, `duplicate`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub close_reason: Option<CloseReason>,
    /// Urgency.
    #[serde(default = "default_priority")]
    pub priority: Priority,
    /// Label names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    /// Assignee logins.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assignees: Vec<String>,
    /// Milestone title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub milestone: Option<String>,
    /// Estimated effort in hours.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimate: Option<f64>,
    /// Percent done, 0-100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<u8>,
    /// Ids (or `#number`s) of issues this one waits for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    /// Ids (or `#number`s) of issues waiting for this one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blocks: Vec<String>,
    /// Id (or `#number`) of the issue this one is part of: its parent, as GitHub's
    /// sub-issues have one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// When the issue was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<Timestamp>,
    /// When the issue was last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<Timestamp>,
    /// When the issue was closed (GitHub's `closed_at`, or the time a local edit set it
    /// `done`); none while it is open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed: Option<Timestamp>,
    /// The GitHub side, once synced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote: Option<RemoteRef>,
    /// Markdown body (not part of the front matter).
    #[serde(skip)]
    pub body: String,
}

fn default_status() -> Status {
    Status::Todo
}
fn default_priority() -> Priority {
    Priority::Medium
}

impl Issue {
    /// A new issue with defaults for everything but id and title.
    pub fn new(id: ItemId, title: impl Into<String>) -> Self {
        Issue {
            id,
            title: title.into(),
            status: Status::Todo,
            close_reason: None,
            priority: Priority::Medium,
            labels: Vec::new(),
            assignees: Vec::new(),
            milestone: None,
            estimate: None,
            progress: None,
            depends_on: Vec::new(),
            blocks: Vec::new(),
            parent: None,
            created: None,
            updated: None,
            closed: None,
            remote: None,
            body: String::new(),
        }
    }

    /// The GitHub number, when synced.
    pub fn number(&self) -> Option<u64> {
        self.remote.as_ref().map(|r| r.number)
    }
}

/// Open or closed, as GitHub has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum MilestoneState {
    /// Accepting work.
    Open,
    /// Finished.
    Closed,
}

impl MilestoneState {
    /// The text form.
    pub fn as_str(self) -> &'static str {
        match self {
            MilestoneState::Open => "open",
            MilestoneState::Closed => "closed",
        }
    }
}

/// A milestone: a title, a due date, a description body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Milestone {
    /// Stable local id; names the file.
    pub id: ItemId,
    /// Title; issues refer to a milestone by it.
    pub title: String,
    /// Open or closed.
    #[serde(default = "default_ms_state")]
    pub state: MilestoneState,
    /// Due date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<Timestamp>,
    /// When the milestone was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<Timestamp>,
    /// When the milestone was last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<Timestamp>,
    /// The GitHub side, once synced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote: Option<RemoteRef>,
    /// Markdown description.
    #[serde(skip)]
    pub body: String,
}

fn default_ms_state() -> MilestoneState {
    MilestoneState::Open
}

impl Milestone {
    /// A new open milestone.
    pub fn new(id: ItemId, title: impl Into<String>) -> Self {
        Milestone {
            id,
            title: title.into(),
            state: MilestoneState::Open,
            due: None,
            created: None,
            updated: None,
            remote: None,
            body: String::new(),
        }
    }
}

/// A roadmap: a named, ordered group of milestones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Roadmap {
    /// Stable local id; names the file.
    pub id: ItemId,
    /// Title.
    pub title: String,
    /// Milestone titles, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub milestones: Vec<String>,
    /// Owner login or team.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// When the roadmap was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<Timestamp>,
    /// Markdown body.
    #[serde(skip)]
    pub body: String,
}

/// A repository label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Label {
    /// Name, unique case-insensitively.
    pub name: String,
    /// Hex colour without `#`.
    #[serde(default)]
    pub color: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A comment on an issue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comment {
    /// GitHub comment id; `None` for a local comment not yet pushed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    /// Author login.
    #[serde(default)]
    pub author: String,
    /// Creation time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<Timestamp>,
    /// Last update time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<Timestamp>,
    /// Markdown text.
    pub body: String,
}
