//! The `--json` shapes: one per type, every field always present (empty lists as `[]`,
//! absent values as `null`), so that scripts can rely on them. Documented in docs/json.md.

use std::path::Path;

use roadmap::model::{Issue, Milestone, RemoteRef, Roadmap, Timestamp};
use serde::Serialize;

/// The GitHub side of an item.
#[derive(Debug, Serialize)]
pub struct RemoteJson<'a> {
    pub number: u64,
    pub url: Option<&'a str>,
    pub state: Option<&'a str>,
    pub state_reason: Option<&'a str>,
    pub updated_at: Option<Timestamp>,
    pub lost: Option<&'a str>,
}

impl<'a> RemoteJson<'a> {
    fn of(r: Option<&'a RemoteRef>) -> Option<Self> {
        r.map(|r| RemoteJson {
            number: r.number,
            url: r.url.as_deref(),
            state: r.state.as_deref(),
            state_reason: r.state_reason.as_deref(),
            updated_at: r.updated_at,
            lost: r.lost.as_deref(),
        })
    }
}

/// `issue show --json`, `issue create --json`.
#[derive(Debug, Serialize)]
pub struct IssueJson<'a> {
    pub id: &'a str,
    pub number: Option<u64>,
    pub title: &'a str,
    pub status: &'a str,
    pub priority: &'a str,
    pub labels: &'a [String],
    pub assignees: &'a [String],
    pub milestone: Option<&'a str>,
    pub estimate: Option<f64>,
    pub progress: Option<u8>,
    pub depends_on: &'a [String],
    pub blocks: &'a [String],
    pub parent: Option<&'a str>,
    pub created: Option<Timestamp>,
    pub updated: Option<Timestamp>,
    pub closed: Option<Timestamp>,
    pub remote: Option<RemoteJson<'a>>,
    pub body: &'a str,
    pub path: String,
}

impl<'a> IssueJson<'a> {
    pub fn of(i: &'a Issue, path: &Path) -> Self {
        IssueJson {
            id: i.id.as_str(),
            number: i.number(),
            title: &i.title,
            status: i.status.as_str(),
            priority: i.priority.as_str(),
            labels: &i.labels,
            assignees: &i.assignees,
            milestone: i.milestone.as_deref(),
            estimate: i.estimate,
            progress: i.progress,
            depends_on: &i.depends_on,
            blocks: &i.blocks,
            parent: i.parent.as_deref(),
            created: i.created,
            updated: i.updated,
            closed: i.closed,
            remote: RemoteJson::of(i.remote.as_ref()),
            body: &i.body,
            path: path.display().to_string(),
        }
    }
}

/// `milestone list --json`.
#[derive(Debug, Serialize)]
pub struct MilestoneJson<'a> {
    pub id: &'a str,
    pub number: Option<u64>,
    pub title: &'a str,
    pub state: &'a str,
    pub due: Option<Timestamp>,
    pub created: Option<Timestamp>,
    pub updated: Option<Timestamp>,
    pub remote: Option<RemoteJson<'a>>,
    pub description: &'a str,
    pub path: String,
}

impl<'a> MilestoneJson<'a> {
    pub fn of(m: &'a Milestone, path: &Path) -> Self {
        MilestoneJson {
            id: m.id.as_str(),
            number: m.remote.as_ref().map(|r| r.number),
            title: &m.title,
            state: m.state.as_str(),
            due: m.due,
            created: m.created,
            updated: m.updated,
            remote: RemoteJson::of(m.remote.as_ref()),
            description: &m.body,
            path: path.display().to_string(),
        }
    }
}

/// `roadmap list --json`.
#[derive(Debug, Serialize)]
pub struct RoadmapJson<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub milestones: &'a [String],
    pub owner: Option<&'a str>,
    pub created: Option<Timestamp>,
    pub body: &'a str,
    pub path: String,
}

impl<'a> RoadmapJson<'a> {
    pub fn of(r: &'a Roadmap, path: &Path) -> Self {
        RoadmapJson {
            id: r.id.as_str(),
            title: &r.title,
            milestones: &r.milestones,
            owner: r.owner.as_deref(),
            created: r.created,
            body: &r.body,
            path: path.display().to_string(),
        }
    }
}
