//! How a GitHub issue maps onto a local issue file, and the fingerprint that tells a local
//! edit from a remote one.
//!
//! Roadmap-only fields travel as labels: `status:<status>` and `priority:<priority>` (see
//! docs/decisions/0002-comments-and-sync-state.md). They are lifted out of the label list on
//! pull so that they never show twice.

use roadmap_model::{Issue, ItemId, Priority, RemoteIssue, RemoteRef, RemoteState, Status};
use sha2::{Digest, Sha256};

/// Label prefix that carries `status`.
pub const STATUS_PREFIX: &str = "status:";
/// Label prefix that carries `priority`.
pub const PRIORITY_PREFIX: &str = "priority:";

/// The synced fields of an issue, fingerprinted: equal fingerprints, equal synced content.
pub fn fingerprint(issue: &Issue) -> String {
    let mut h = Sha256::new();
    let mut labels = issue.labels.clone();
    labels.sort();
    let mut assignees = issue.assignees.clone();
    assignees.sort();
    for part in [
        issue.title.as_str(),
        issue.body.as_str(),
        issue.status.as_str(),
        issue.priority.as_str(),
        &labels.join("\u{1f}"),
        &assignees.join("\u{1f}"),
        issue.milestone.as_deref().unwrap_or(""),
    ] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    hex::encode(&h.finalize()[..8])
}

/// Whether the file was edited locally since it was last synced.
pub fn locally_edited(issue: &Issue) -> bool {
    match issue.remote.as_ref().and_then(|r| r.hash.as_deref()) {
        Some(h) => h != fingerprint(issue),
        None => issue.remote.is_none(),
    }
}

/// Applies the remote issue to `issue` (a fresh one or the current file), keeping local-only
/// fields (estimate, progress, dependencies) and recording the new sync base.
pub fn apply_remote(issue: &mut Issue, remote: &RemoteIssue, milestone_title: Option<String>) {
    let mut labels = Vec::new();
    let mut status = None;
    let mut priority = None;
    for l in &remote.labels {
        if let Some(s) = l
            .strip_prefix(STATUS_PREFIX)
            .and_then(|s| s.parse::<Status>().ok())
        {
            status = Some(s);
        } else if let Some(p) = l
            .strip_prefix(PRIORITY_PREFIX)
            .and_then(|p| p.parse::<Priority>().ok())
        {
            priority = Some(p);
        } else {
            labels.push(l.clone());
        }
    }
    issue.title = remote.title.clone();
    issue.body = normalise_body(&remote.body);
    issue.labels = labels;
    issue.assignees = remote.assignees.clone();
    issue.milestone = milestone_title;
    issue.status = match remote.state {
        RemoteState::Closed => Status::Done,
        _ => match status {
            Some(s) if s != Status::Done => s,
            // Open on GitHub: keep a local in-progress/blocked/review, else todo.
            _ if issue.status != Status::Done => issue.status,
            _ => Status::Todo,
        },
    };
    if let Some(p) = priority {
        issue.priority = p;
    }
    issue.created = Some(remote.created_at);
    issue.updated = Some(remote.updated_at);
    let lost = None;
    issue.remote = Some(RemoteRef {
        number: remote.number,
        node_id: Some(remote.node_id.clone()).filter(|s| !s.is_empty()),
        url: Some(remote.html_url.clone()).filter(|s| !s.is_empty()),
        state: Some(remote.state.as_str().to_owned()),
        state_reason: remote.state_reason.clone(),
        updated_at: Some(remote.updated_at),
        hash: None,
        lost,
    });
    let hash = fingerprint(issue);
    if let Some(r) = issue.remote.as_mut() {
        r.hash = Some(hash);
    }
}

/// A new local issue for a remote one.
pub fn new_issue(remote: &RemoteIssue, milestone_title: Option<String>) -> Issue {
    let mut issue = Issue::new(
        ItemId::for_remote_issue(remote.number),
        remote.title.clone(),
    );
    apply_remote(&mut issue, remote, milestone_title);
    issue
}

/// Bodies are stored with a final newline so that files end cleanly; GitHub's CRLFs are kept.
fn normalise_body(body: &str) -> String {
    if body.is_empty() || body.ends_with('\n') {
        body.to_owned()
    } else {
        format!("{body}\n")
    }
}
