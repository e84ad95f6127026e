//! Typed edits: what `issue create/edit/close`, `milestone edit` and an embedding program
//! change, applied the same way by all of them.

use roadmap_model::{CloseReason, Issue, Priority, Status, Timestamp};

/// Changes to an issue. Every field left at its default changes nothing.
///
/// ```
/// use roadmap::{IssueEdit, Priority};
/// let edit = IssueEdit {
///     priority: Some(Priority::High),
///     add_labels: vec!["bug".into()],
///     ..IssueEdit::default()
/// };
/// assert!(!edit.is_empty());
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IssueEdit {
    /// A new title.
    pub title: Option<String>,
    /// A new status.
    pub status: Option<Status>,
    /// Why an issue set to done was closed (`completed` is GitHub's default and recorded as
    /// nothing).
    pub close_reason: Option<CloseReason>,
    /// A new priority.
    pub priority: Option<Priority>,
    /// Labels to add.
    pub add_labels: Vec<String>,
    /// Labels to remove.
    pub remove_labels: Vec<String>,
    /// Assignees to add.
    pub add_assignees: Vec<String>,
    /// Assignees to remove.
    pub remove_assignees: Vec<String>,
    /// A milestone, by title or id (`Some(None)` clears it). It must exist unless
    /// `create_milestone` is set.
    pub milestone: Option<Option<String>>,
    /// Make the milestone named when there is none by that title.
    pub create_milestone: bool,
    /// An estimate, in hours.
    pub estimate: Option<f64>,
    /// Percent done, 0-100.
    pub progress: Option<u8>,
    /// Issues this one depends on, to add.
    pub add_depends_on: Vec<String>,
    /// Issues this one blocks, to add.
    pub add_blocks: Vec<String>,
    /// The issue this one is part of, by id or `#number` (`Some(None)` clears it).
    pub parent: Option<Option<String>>,
    /// A new Markdown body (a final newline is added when missing).
    pub body: Option<String>,
}

impl IssueEdit {
    /// An edit that sets the status (and, for done, the reason).
    pub fn status(status: Status, reason: Option<CloseReason>) -> IssueEdit {
        IssueEdit {
            status: Some(status),
            close_reason: reason,
            ..IssueEdit::default()
        }
    }

    /// An edit that sets the priority.
    pub fn priority(priority: Priority) -> IssueEdit {
        IssueEdit {
            priority: Some(priority),
            ..IssueEdit::default()
        }
    }

    /// Whether it changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == IssueEdit::default()
    }

    /// Applies the edit to `issue` (the milestone already resolved to its title) and stamps
    /// `updated`.
    pub(crate) fn apply(&self, issue: &mut Issue, now: Timestamp) -> Result<(), String> {
        if let Some(t) = &self.title {
            issue.title = t.clone();
        }
        if let Some(s) = self.status {
            let was_done = issue.status == Status::Done;
            issue.status = s;
            issue.closed = match s {
                Status::Done => issue.closed.filter(|_| was_done).or(Some(now)),
                _ => None,
            };
            if s != Status::Done {
                issue.close_reason = None;
            } else if self.close_reason.is_some() || !was_done {
                issue.close_reason = self.close_reason.filter(|r| *r != CloseReason::Completed);
            }
        }
        if let Some(p) = self.priority {
            issue.priority = p;
        }
        add_all(&mut issue.labels, &self.add_labels);
        issue.labels.retain(|l| !self.remove_labels.contains(l));
        add_all(&mut issue.assignees, &self.add_assignees);
        issue
            .assignees
            .retain(|a| !self.remove_assignees.contains(a));
        if let Some(m) = &self.milestone {
            issue.milestone = m.clone().filter(|m| !m.is_empty());
        }
        if let Some(e) = self.estimate {
            issue.estimate = Some(e);
        }
        if let Some(p) = self.progress {
            if p > 100 {
                return Err(format!("progress must be 0-100, got {p}"));
            }
            issue.progress = Some(p);
        }
        add_all(&mut issue.depends_on, &self.add_depends_on);
        add_all(&mut issue.blocks, &self.add_blocks);
        if let Some(p) = &self.parent {
            let p = p.as_deref().map(str::trim).filter(|p| !p.is_empty());
            if p.is_some_and(|p| p.eq_ignore_ascii_case(issue.id.as_str())) {
                return Err("an issue cannot be its own parent".into());
            }
            issue.parent = p.map(str::to_owned);
        }
        if let Some(b) = &self.body {
            issue.body = if b.ends_with('\n') || b.is_empty() {
                b.clone()
            } else {
                format!("{b}\n")
            };
        }
        issue.updated = Some(now);
        Ok(())
    }
}

fn add_all(list: &mut Vec<String>, more: &[String]) {
    for x in more {
        if !list.contains(x) {
            list.push(x.clone());
        }
    }
}

/// Changes to a milestone.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MilestoneEdit {
    /// A new title (carried to the issues that name the old one).
    pub title: Option<String>,
    /// A new due date (`Some(None)` clears it).
    pub due: Option<Option<Timestamp>>,
    /// A new description.
    pub description: Option<String>,
    /// Open or closed.
    pub state: Option<roadmap_model::MilestoneState>,
}
