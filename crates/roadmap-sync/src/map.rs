//! How a local issue file maps onto a GitHub issue and back, and the fingerprint that tells a
//! local edit from a remote one.
//!
//! The mapping is explicit and configurable ([`Mapping`]); see
//! docs/decisions/0003-push-merge-and-intents.md. With the defaults:
//! - `status` travels as GitHub's state (`done` is closed, with state reason `completed`) and,
//!   for `in-progress`, `blocked` and `review`, as a label `status:<status>`;
//! - `priority` other than `medium` travels as a label `priority:<priority>`;
//! - `estimate`, `progress`, `depends_on`, `blocks` and the local id of an issue created here
//!   travel in one hidden HTML comment on the last line of the body:
//!   `<!-- roadmap: {"estimate":3.0} -->`.
//!
//! Default values are carried by the absence of a label, so a pull followed by a push of an
//! unedited issue changes nothing on GitHub, and a push followed by a pull changes nothing here.
//!
//! Labels are recognised whatever their case and spacing (`Priority: High`, `priority:high`,
//! `STATUS: in progress`), and the label GitHub holds keeps its exact spelling
//! (`remote.status_label`, `remote.priority_label`) for as long as the field keeps its value,
//! `priority: medium` included; a changed field replaces that one label with the project's
//! spelling. A second label of the same kind is an ordinary label and is never touched.
//! Bodies travel exactly: see [`roadmap_model::TextForm`].

use roadmap_model::{
    Issue, ItemId, Priority, RemoteIssue, RemoteRef, RemoteState, Status, TextForm,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The default label prefix that carries `status`.
pub const STATUS_PREFIX: &str = "status:";
/// The default label prefix that carries `priority`.
pub const PRIORITY_PREFIX: &str = "priority:";
const HIDDEN_OPEN: &str = "<!-- roadmap: ";
const HIDDEN_CLOSE: &str = " -->";

/// How roadmap-only fields travel to GitHub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    /// Label prefix that carries `in-progress`, `blocked` and `review`; `None`: status travels
    /// only as open (any status but done) or closed (done).
    pub status_prefix: Option<String>,
    /// Label prefix that carries a priority other than `medium`; `None`: priority stays local.
    pub priority_prefix: Option<String>,
    /// Whether estimate, progress, dependencies and the local id travel in a hidden comment at
    /// the end of the body; if not, they stay local.
    pub hidden_fields: bool,
    /// Whether `depends_on`, `blocks` and `parent` travel as GitHub's own dependencies and
    /// sub-issues (the sync sets it once it has seen that the repository has them); if not,
    /// they travel in the hidden block with the other fields.
    pub native_relations: bool,
}

impl Default for Mapping {
    fn default() -> Self {
        Mapping {
            status_prefix: Some(STATUS_PREFIX.into()),
            priority_prefix: Some(PRIORITY_PREFIX.into()),
            hidden_fields: true,
            native_relations: false,
        }
    }
}

/// An issue as it should look on GitHub.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteShape {
    /// Title.
    pub title: String,
    /// Body, with the hidden block when there is one.
    pub body: String,
    /// Open or closed.
    pub state: RemoteState,
    /// Why it is closed, in GitHub's spelling (`completed`, `not_planned`); `None` when open.
    pub state_reason: Option<&'static str>,
    /// Label names: the issue's own, then the mapped ones.
    pub labels: Vec<String>,
    /// Assignee logins.
    pub assignees: Vec<String>,
    /// Milestone title.
    pub milestone: Option<String>,
}

/// The fields that travel in the hidden block.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Hidden {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    estimate: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    progress: Option<u8>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    depends_on: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    blocks: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    parent: Option<String>,
}

impl Mapping {
    /// What GitHub should hold for `issue`.
    pub fn to_remote(&self, issue: &Issue) -> RemoteShape {
        let mut labels = issue.labels.clone();
        let remote = issue.remote.as_ref();
        if let Some(p) = &self.status_prefix {
            // GitHub's own spelling while the status is the one it says.
            let held = remote
                .and_then(|r| r.status_label.clone())
                .filter(|l| self.status_of(l) == Some(issue.status));
            match held {
                Some(l) => labels.push(l),
                None if matches!(
                    issue.status,
                    Status::InProgress | Status::Blocked | Status::Review
                ) =>
                {
                    labels.push(format!("{p}{}", issue.status.as_str()))
                }
                None => {}
            }
        }
        if let Some(p) = &self.priority_prefix {
            let held = remote
                .and_then(|r| r.priority_label.clone())
                .filter(|l| self.priority_of(l) == Some(issue.priority));
            match held {
                Some(l) => labels.push(l),
                None if issue.priority != Priority::Medium => {
                    labels.push(format!("{p}{}", issue.priority.as_str()))
                }
                None => {}
            }
        }
        let mut body = issue.body.clone();
        if self.hidden_fields {
            let mut hidden = Hidden {
                id: (!is_pulled_id(&issue.id)).then(|| issue.id.to_string()),
                estimate: issue.estimate,
                progress: issue.progress,
                ..Hidden::default()
            };
            // Natively, only what GitHub's endpoints cannot hold: another repository's issues.
            let keep = |r: &&String| !self.native_relations || !travels_natively(r);
            hidden.depends_on = issue.depends_on.iter().filter(keep).cloned().collect();
            hidden.blocks = issue.blocks.iter().filter(keep).cloned().collect();
            hidden.parent = issue.parent.as_ref().filter(keep).cloned();
            if hidden != Hidden::default()
                && let Ok(json) = serde_json::to_string(&hidden)
            {
                if !body.is_empty() && !body.ends_with('\n') {
                    body.push('\n');
                }
                body.push_str(HIDDEN_OPEN);
                body.push_str(&json);
                body.push_str(HIDDEN_CLOSE);
                body.push('\n');
            }
        }
        // Back to GitHub's exact text: its line endings, its final newline or none.
        let body = remote
            .map(|r| r.body_form)
            .unwrap_or_default()
            .join_or_empty(&body);
        RemoteShape {
            title: issue.title.clone(),
            body,
            state: if issue.status == Status::Done {
                RemoteState::Closed
            } else {
                RemoteState::Open
            },
            state_reason: (issue.status == Status::Done).then(|| {
                issue
                    .close_reason
                    .unwrap_or(roadmap_model::CloseReason::Completed)
                    .github()
            }),
            labels,
            assignees: issue.assignees.clone(),
            milestone: issue.milestone.clone(),
        }
    }

    /// The local id a remote issue was created from, if its hidden block names one.
    pub fn origin_id(&self, remote: &RemoteIssue) -> Option<ItemId> {
        if !self.hidden_fields {
            return None;
        }
        split_hidden(remote.body.as_deref().unwrap_or_default())
            .1
            .and_then(|h| h.id)
            .and_then(|id| ItemId::new(id).ok())
    }

    /// Applies the remote issue to `issue` (a fresh one or the current file), keeping what does
    /// not travel, and records the new sync base (`remote`, with its fingerprint).
    pub fn apply_remote(
        &self,
        issue: &mut Issue,
        remote: &RemoteIssue,
        milestone_title: Option<String>,
    ) {
        let mut labels = Vec::new();
        let mut status: Option<(Status, String)> = None;
        let mut priority: Option<(Priority, String)> = None;
        for l in &remote.labels {
            // The first label of each kind carries the field; any other stays a label.
            match (self.status_of(l), self.priority_of(l)) {
                (Some(s), _) if status.is_none() => status = Some((s, l.clone())),
                (None, Some(p)) if priority.is_none() => priority = Some((p, l.clone())),
                _ => labels.push(l.clone()),
            }
        }
        // The form describes GitHub's whole text; the hidden block is then split off the
        // file's form of it (its own line, `\n`-ended).
        let (full, form) = TextForm::split(remote.body.as_deref());
        let (body, hidden) = if self.hidden_fields {
            split_hidden(&full)
        } else {
            (full.as_str(), None)
        };
        issue.title = remote.title.clone();
        issue.body = body.to_owned();
        issue.labels = labels;
        issue.assignees = remote.assignees.clone();
        issue.milestone = milestone_title;
        issue.status = match remote.state {
            RemoteState::Closed => Status::Done,
            _ if self.status_prefix.is_some() => match status.as_ref().map(|x| x.0) {
                Some(s) if s != Status::Done => s,
                _ => Status::Todo,
            },
            // Status does not travel: keep a local in-progress/blocked/review.
            _ if issue.status != Status::Done => issue.status,
            _ => Status::Todo,
        };
        issue.close_reason = match remote.state {
            RemoteState::Closed => {
                roadmap_model::CloseReason::recorded(remote.state_reason.as_deref())
            }
            _ => None,
        };
        if self.priority_prefix.is_some() {
            issue.priority = priority.as_ref().map_or(Priority::Medium, |x| x.0);
        }
        let h = hidden.unwrap_or_default();
        if self.hidden_fields {
            issue.estimate = h.estimate;
            issue.progress = h.progress;
        }
        // Relations as GitHub's endpoints hold them when they were read; a hidden block written
        // before they travelled there still counts (nothing it holds is lost) until a push
        // moves it. Not read, with relations native: what GitHub holds is not known here, and
        // the caller keeps the fields (a push records its own writes).
        let legacy = h
            .depends_on
            .iter()
            .chain(&h.blocks)
            .chain(h.parent.iter())
            .any(|r| travels_natively(r));
        match &remote.links {
            Some(links) => {
                issue.depends_on = union(&links.depends_on, &h.depends_on);
                issue.blocks = union(&links.blocks, &h.blocks);
                if links.parent_known {
                    issue.parent = links.parent.clone().or(h.parent);
                } else if h.parent.is_some() {
                    issue.parent = h.parent;
                }
            }
            None if self.native_relations => {}
            None if self.hidden_fields => {
                issue.depends_on = h.depends_on;
                issue.blocks = h.blocks;
                issue.parent = h.parent;
            }
            None => {}
        }
        let legacy_relations = legacy && (remote.links.is_some() || self.native_relations);
        issue.created = Some(remote.created_at);
        issue.updated = Some(remote.updated_at);
        issue.closed = remote.closed_at;
        issue.remote = Some(RemoteRef {
            number: remote.number,
            node_id: Some(remote.node_id.clone()).filter(|s| !s.is_empty()),
            url: Some(remote.html_url.clone()).filter(|s| !s.is_empty()),
            state: Some(remote.state.as_str().to_owned()),
            state_reason: remote.state_reason.clone(),
            updated_at: Some(remote.updated_at),
            hash: None,
            lost: None,
            body_form: form,
            status_label: status.map(|x| x.1),
            priority_label: priority.map(|x| x.1),
            legacy_relations,
        });
        let hash = fingerprint(issue);
        if let Some(r) = issue.remote.as_mut() {
            r.hash = Some(hash);
        }
    }

    /// A new local issue for a remote one.
    pub fn new_issue(&self, remote: &RemoteIssue, milestone_title: Option<String>) -> Issue {
        let mut issue = Issue::new(
            ItemId::for_remote_issue(remote.number),
            remote.title.clone(),
        );
        self.apply_remote(&mut issue, remote, milestone_title);
        issue
    }
}

impl Mapping {
    /// The status a label carries, if it is a status label (`status:blocked`,
    /// `Status: In Progress`).
    pub fn status_of(&self, label: &str) -> Option<Status> {
        let rest = strip_prefix_loose(label, self.status_prefix.as_deref()?)?;
        loose_value(rest).parse().ok()
    }

    /// The priority a label carries, if it is a priority label (`priority:high`,
    /// `Priority: High`).
    pub fn priority_of(&self, label: &str) -> Option<Priority> {
        let rest = strip_prefix_loose(label, self.priority_prefix.as_deref()?)?;
        loose_value(rest).parse().ok()
    }
}

/// `label` without `prefix`, compared ignoring case and whitespace (`Priority: High` has the
/// prefix `priority:`).
fn strip_prefix_loose<'a>(label: &'a str, prefix: &str) -> Option<&'a str> {
    let mut want = prefix.chars().filter(|c| !c.is_whitespace()).peekable();
    want.peek()?;
    for (i, c) in label.char_indices() {
        if c.is_whitespace() {
            continue;
        }
        match want.next() {
            Some(w) if w.to_lowercase().eq(c.to_lowercase()) => {
                if want.peek().is_none() {
                    return Some(&label[i + c.len_utf8()..]);
                }
            }
            _ => return None,
        }
    }
    None
}

/// A label's value as the value parsers spell it: `In Progress` is `in-progress`.
fn loose_value(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join("-")
}

/// Whether a relation can travel through GitHub's endpoints: a reference to an issue of this
/// repository (`#12`, a local id), not another repository's (`owner/name#12`).
pub fn travels_natively(reference: &str) -> bool {
    reference.starts_with('#') || !reference.contains('#')
}

/// `a`, then what `b` adds (compared ignoring case, as the index resolves references).
fn union(a: &[String], b: &[String]) -> Vec<String> {
    let mut out = a.to_vec();
    for x in b {
        if !out.iter().any(|y| y.eq_ignore_ascii_case(x)) {
            out.push(x.clone());
        }
    }
    out
}

/// Whether an id is the `gh-<n>` of an issue first seen on GitHub.
fn is_pulled_id(id: &ItemId) -> bool {
    id.as_str()
        .strip_prefix("gh-")
        .is_some_and(|n| n.parse::<u64>().is_ok())
}

/// Splits the hidden block off the last line of a body.
fn split_hidden(body: &str) -> (&str, Option<Hidden>) {
    let trimmed = body.trim_end();
    let start = trimmed.rfind('\n').map_or(0, |i| i + 1);
    let last = &trimmed[start..];
    let Some(json) = last
        .strip_prefix(HIDDEN_OPEN)
        .and_then(|s| s.strip_suffix(HIDDEN_CLOSE))
    else {
        return (body, None);
    };
    match serde_json::from_str::<Hidden>(json) {
        Ok(h) => (&trimmed[..start], Some(h)),
        Err(_) => (body, None),
    }
}

/// The synced fields of an issue, fingerprinted: equal fingerprints, equal synced content.
/// Fields that only some issues use (estimate, progress, dependencies) count only when set, so
/// files written before they travelled keep their fingerprint.
pub fn fingerprint(issue: &Issue) -> String {
    let mut h = Sha256::new();
    let mut labels = issue.labels.clone();
    labels.sort();
    let mut assignees = issue.assignees.clone();
    assignees.sort();
    // The text as GitHub would hold it: an editor's final newline is no edit. For the plain
    // form this is the body itself, so fingerprints of older files are unchanged.
    let form = issue
        .remote
        .as_ref()
        .map(|r| r.body_form)
        .unwrap_or_default();
    let text = form.join_or_empty(&issue.body);
    for part in [
        issue.title.as_str(),
        text.as_str(),
        issue.status.as_str(),
        issue.priority.as_str(),
        &labels.join("\u{1f}"),
        &assignees.join("\u{1f}"),
        issue.milestone.as_deref().unwrap_or(""),
    ] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    let extra = [
        ("estimate", issue.estimate.map(|e| e.to_string())),
        ("progress", issue.progress.map(|p| p.to_string())),
        (
            "depends_on",
            Some(issue.depends_on.join("\u{1f}")).filter(|s| !s.is_empty()),
        ),
        (
            "blocks",
            Some(issue.blocks.join("\u{1f}")).filter(|s| !s.is_empty()),
        ),
        // Only when given: files from before the field keep their fingerprints.
        ("parent", issue.parent.clone()),
        (
            "close_reason",
            issue.close_reason.map(|r| r.as_str().to_owned()),
        ),
    ];
    for (k, v) in extra {
        if let Some(v) = v {
            h.update(k.as_bytes());
            h.update([1u8]);
            h.update(v.as_bytes());
            h.update([0u8]);
        }
    }
    hex::encode(&h.finalize()[..8])
}

/// Whether the file was edited locally since it was last synced (a new local issue counts).
pub fn locally_edited(issue: &Issue) -> bool {
    match issue.remote.as_ref().and_then(|r| r.hash.as_deref()) {
        Some(h) => h != fingerprint(issue),
        None => issue.remote.is_none(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use roadmap_model::Timestamp;

    fn remote_of(shape: &RemoteShape, number: u64) -> RemoteIssue {
        RemoteIssue {
            number,
            id: number,
            node_id: String::new(),
            title: shape.title.clone(),
            body: Some(shape.body.clone()),
            state: shape.state,
            state_reason: None,
            labels: shape.labels.clone(),
            assignees: shape.assignees.clone(),
            milestone: None,
            author: "a".into(),
            comments: 0,
            html_url: String::new(),
            repository_url: String::new(),
            created_at: Timestamp::parse("2026-01-01T00:00:00Z").unwrap(),
            updated_at: Timestamp::parse("2026-01-02T00:00:00Z").unwrap(),
            closed_at: None,
            relations: Default::default(),
            parent_url: None,
            links: None,
        }
    }

    #[test]
    fn every_mapped_field_round_trips_without_drift() {
        for mapping in [
            Mapping::default(),
            Mapping {
                status_prefix: Some("state/".into()),
                priority_prefix: Some("P-".into()),
                hidden_fields: true,
                native_relations: false,
            },
        ] {
            let mut local = Issue::new(ItemId::new("3fa2b1c9").unwrap(), "Title");
            local.body = "Line one\n\nLine two\n".into();
            local.status = Status::Blocked;
            local.priority = Priority::High;
            local.labels = vec!["bug".into(), "a,b:c".into()];
            local.assignees = vec!["alice".into()];
            local.estimate = Some(2.5);
            local.progress = Some(40);
            local.depends_on = vec!["#12".into()];
            local.parent = Some("#3".into());
            let shape = mapping.to_remote(&local);
            assert!(
                shape
                    .body
                    .starts_with("Line one\n\nLine two\n<!-- roadmap: ")
            );
            let remote = remote_of(&shape, 7);
            assert_eq!(mapping.origin_id(&remote), Some(local.id.clone()));
            let mut back = Issue::new(local.id.clone(), "");
            mapping.apply_remote(&mut back, &remote, None);
            for (a, b) in [(&back.title, &local.title), (&back.body, &local.body)] {
                assert_eq!(a, b);
            }
            assert_eq!(back.status, local.status);
            assert_eq!(back.priority, local.priority);
            assert_eq!(back.labels, local.labels);
            assert_eq!(back.estimate, local.estimate);
            assert_eq!(back.progress, local.progress);
            assert_eq!(back.depends_on, local.depends_on);
            assert_eq!(back.parent, local.parent);
            // And again: the shape of what came back is what went out.
            assert_eq!(mapping.to_remote(&back), shape);
            assert!(!locally_edited(&back));
        }
    }

    #[test]
    fn defaults_travel_as_no_label_and_done_as_closed() {
        let m = Mapping::default();
        let mut i = Issue::new(ItemId::for_remote_issue(3), "T");
        let s = m.to_remote(&i);
        assert!(s.labels.is_empty());
        assert_eq!(
            s.body, "",
            "no hidden block for a pulled issue with defaults"
        );
        i.status = Status::Done;
        assert_eq!(m.to_remote(&i).state, RemoteState::Closed);
    }

    #[test]
    fn a_body_that_only_looks_hidden_is_kept() {
        let (b, h) = split_hidden("text\n<!-- roadmap: not json -->\n");
        assert!(h.is_none());
        assert_eq!(b, "text\n<!-- roadmap: not json -->\n");
    }
}
