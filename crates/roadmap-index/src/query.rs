//! Issue queries: the filters `roadmap issue list` offers, run either as SQL on the index or
//! as a plain scan of the files (the fallback, and the oracle the tests compare against).

use roadmap_model::{Issue, Priority, Status};
use serde::Serialize;

/// A status filter: one status, or every open (not done) or closed (done) one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StatusFilter {
    /// Exactly this status.
    Is(Status),
    /// Any status but done.
    Open,
    /// Done.
    Closed,
}

impl std::str::FromStr for StatusFilter {
    type Err = roadmap_model::ParseValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "open" => Ok(StatusFilter::Open),
            "closed" => Ok(StatusFilter::Closed),
            other => other.parse().map(StatusFilter::Is),
        }
    }
}

impl StatusFilter {
    fn matches(self, s: Status) -> bool {
        match self {
            StatusFilter::Is(x) => x == s,
            StatusFilter::Open => !s.is_closed(),
            StatusFilter::Closed => s.is_closed(),
        }
    }
}

/// How to order a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SortKey {
    /// By id (stable).
    Id,
    /// Most urgent first.
    Priority,
    /// Most recently updated first.
    Updated,
    /// Newest first.
    Created,
    /// By title.
    Title,
    /// By GitHub number, as numbers (`#2` before `#10`); issues not on GitHub yet last, by
    /// id. The default.
    #[default]
    Number,
}

impl std::str::FromStr for SortKey {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "id" => SortKey::Id,
            "priority" => SortKey::Priority,
            "updated" => SortKey::Updated,
            "created" => SortKey::Created,
            "title" => SortKey::Title,
            "number" => SortKey::Number,
            _ => {
                return Err(format!(
                    "unknown sort key `{s}`, expected id, priority, updated, created, title or number"
                ));
            }
        })
    }
}

/// Filters of an issue listing; every set filter must match.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IssueQuery {
    /// Any of these statuses (empty: all).
    pub status: Vec<StatusFilter>,
    /// This priority.
    pub priority: Option<Priority>,
    /// Assigned to this login (case-insensitive).
    pub assignee: Option<String>,
    /// In this milestone (by title).
    pub milestone: Option<String>,
    /// Carries every one of these labels (case-insensitive).
    pub labels: Vec<String>,
    /// Every word appears in the title or body (full-text search on the index).
    pub text: Option<String>,
    /// Order.
    pub sort: SortKey,
    /// At most this many rows.
    pub limit: Option<u64>,
}

impl IssueQuery {
    /// No filter, most urgent first: the default of [`Index::ready`](crate::Index::ready).
    pub fn ready() -> IssueQuery {
        IssueQuery {
            sort: SortKey::Priority,
            ..IssueQuery::default()
        }
    }

    /// Open issues (any status but done), in id order.
    pub fn open() -> IssueQuery {
        IssueQuery {
            status: vec![StatusFilter::Open],
            ..IssueQuery::default()
        }
    }

    /// Also: assigned to `login`.
    pub fn assignee(mut self, login: impl Into<String>) -> IssueQuery {
        self.assignee = Some(login.into());
        self
    }

    /// Also: carries `label`.
    pub fn label(mut self, label: impl Into<String>) -> IssueQuery {
        self.labels.push(label.into());
        self
    }

    /// At most `n` rows.
    pub fn limit(mut self, n: u64) -> IssueQuery {
        self.limit = Some(n);
        self
    }

    /// Whether an issue passes every filter but `text` (which the scan checks by substring).
    pub fn matches(&self, issue: &Issue) -> bool {
        if !self.status.is_empty() && !self.status.iter().any(|f| f.matches(issue.status)) {
            return false;
        }
        if self.priority.is_some_and(|p| p != issue.priority) {
            return false;
        }
        if let Some(a) = &self.assignee
            && !issue.assignees.iter().any(|x| x.eq_ignore_ascii_case(a))
        {
            return false;
        }
        if let Some(m) = &self.milestone
            && issue.milestone.as_deref() != Some(m.as_str())
        {
            return false;
        }
        for l in &self.labels {
            if !issue.labels.iter().any(|x| x.eq_ignore_ascii_case(l)) {
                return false;
            }
        }
        if let Some(text) = &self.text {
            let hay = format!("{}\n{}", issue.title, issue.body).to_lowercase();
            if !words(text).all(|w| hay.contains(&w)) {
                return false;
            }
        }
        true
    }
}

pub(crate) fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase())
}

/// One row of an issue listing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IssueRow {
    /// Local id.
    pub id: String,
    /// GitHub number.
    pub number: Option<i64>,
    /// Title.
    pub title: String,
    /// Status.
    pub status: String,
    /// Priority.
    pub priority: String,
    /// Milestone title.
    pub milestone: Option<String>,
    /// Assignees.
    pub assignees: Vec<String>,
    /// Labels.
    pub labels: Vec<String>,
    /// Last update.
    pub updated: Option<String>,
    /// The file.
    pub path: String,
}

impl IssueRow {
    /// The row of an issue read from its file.
    pub fn from_issue(issue: &Issue, path: &std::path::Path) -> Self {
        IssueRow {
            id: issue.id.to_string(),
            number: issue.number().map(|n| n as i64),
            title: issue.title.clone(),
            status: issue.status.to_string(),
            priority: issue.priority.to_string(),
            milestone: issue.milestone.clone(),
            assignees: issue.assignees.clone(),
            labels: issue.labels.clone(),
            updated: issue.updated.map(|t| t.to_string()),
            path: path.display().to_string(),
        }
    }
}

/// Sorts rows as the index would (used by the scan fallback).
pub fn sort_rows(rows: &mut [(IssueRow, i64, Option<String>)], key: SortKey) {
    // (row, priority rank, created)
    match key {
        SortKey::Id => rows.sort_by(|a, b| a.0.id.cmp(&b.0.id)),
        SortKey::Priority => rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.id.cmp(&b.0.id))),
        SortKey::Updated => {
            rows.sort_by(|a, b| b.0.updated.cmp(&a.0.updated).then(a.0.id.cmp(&b.0.id)))
        }
        SortKey::Created => rows.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.id.cmp(&b.0.id))),
        SortKey::Title => rows.sort_by(|a, b| a.0.title.cmp(&b.0.title).then(a.0.id.cmp(&b.0.id))),
        SortKey::Number => rows.sort_by(|a, b| {
            (a.0.number.is_none(), a.0.number)
                .cmp(&(b.0.number.is_none(), b.0.number))
                .then(a.0.id.cmp(&b.0.id))
        }),
    }
}

pub(crate) fn order_by(key: SortKey) -> &'static str {
    match key {
        SortKey::Id => "i.id COLLATE BINARY ASC",
        SortKey::Priority => "i.priority_rank DESC, i.id COLLATE BINARY ASC",
        SortKey::Updated => "i.updated DESC, i.id COLLATE BINARY ASC",
        SortKey::Created => "i.created DESC, i.id COLLATE BINARY ASC",
        SortKey::Title => "i.title ASC, i.id COLLATE BINARY ASC",
        SortKey::Number => "i.number IS NULL, i.number ASC, i.id COLLATE BINARY ASC",
    }
}
