//! The [`Tracker`] trait: what the sync engine needs from a remote issue tracker, in the
//! tracker's own terms (numbers, remote ids), with no HTTP or client types.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};

use crate::values::Timestamp;

/// `open` or `closed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum RemoteState {
    /// Open.
    Open,
    /// Closed.
    Closed,
}

impl RemoteState {
    /// The text form.
    pub fn as_str(self) -> &'static str {
        match self {
            RemoteState::Open => "open",
            RemoteState::Closed => "closed",
        }
    }
}

/// An issue as the tracker has it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RemoteIssue {
    /// Number in the repository.
    pub number: u64,
    /// Database id.
    pub id: u64,
    /// GraphQL node id.
    pub node_id: String,
    /// Title.
    pub title: String,
    /// Markdown body, exactly as GitHub holds it (`None`: null).
    pub body: Option<String>,
    /// Open or closed.
    pub state: RemoteState,
    /// Why it was closed or reopened.
    pub state_reason: Option<String>,
    /// Label names.
    pub labels: Vec<String>,
    /// Assignee logins.
    pub assignees: Vec<String>,
    /// Milestone number.
    pub milestone: Option<u64>,
    /// Author login.
    pub author: String,
    /// Number of comments.
    pub comments: u64,
    /// Web URL.
    pub html_url: String,
    /// API URL of the repository that holds it (differs after a transfer).
    pub repository_url: String,
    /// Created.
    pub created_at: Timestamp,
    /// Last updated; GitHub gives whole seconds.
    pub updated_at: Timestamp,
    /// Closed.
    pub closed_at: Option<Timestamp>,
    /// What the tracker's summaries say of its relations (all zero, `known: false`, from a
    /// host that sends none).
    #[serde(default)]
    pub relations: RelationCounts,
    /// The API URL of its parent issue (`parent_issue_url`), when it is a sub-issue and the
    /// host says so (github.com sends the key only for sub-issues).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_url: Option<String>,
    /// Its relations themselves, in the project's spelling (`#12`, `owner/name#3`): filled by
    /// a sync that read them from the tracker's relation endpoints; `None` when not read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<RemoteLinks>,
}

/// An issue's relations as the tracker holds them, spelled as the project's files spell
/// references.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteLinks {
    /// The issues it waits for (GitHub's `blocked_by`).
    pub depends_on: Vec<String>,
    /// The issues that wait for it (GitHub's `blocking`).
    pub blocks: Vec<String>,
    /// Its parent issue; `None` with `parent_known` false: not known (the host does not say).
    pub parent: Option<String>,
    /// Whether `parent` is known.
    pub parent_known: bool,
}

impl RemoteIssue {
    /// How another issue refers to this one: `#12` within `repository_url`'s repository,
    /// `owner/name#12` from another.
    pub fn reference_from(&self, repository_url: &str) -> String {
        if self.repository_url.is_empty()
            || self.repository_url.eq_ignore_ascii_case(repository_url)
        {
            return format!("#{}", self.number);
        }
        match repo_of_api_url(&self.repository_url) {
            Some(repo) => format!("{repo}#{}", self.number),
            None => format!("#{}", self.number),
        }
    }
}

/// `owner/name` of a repository's API URL (`https://api.github.com/repos/owner/name`, or a
/// GitHub Enterprise `…/api/v3/repos/owner/name`).
pub fn repo_of_api_url(url: &str) -> Option<String> {
    let rest = url.rsplit_once("/repos/")?.1;
    let mut parts = rest.trim_end_matches('/').split('/');
    let (owner, name) = (parts.next()?, parts.next()?);
    (parts.next().is_none() && !owner.is_empty() && !name.is_empty())
        .then(|| format!("{owner}/{name}"))
}

/// How an issue's `parent_issue_url` (`…/repos/owner/name/issues/5`) refers to its parent,
/// seen from an issue of `repository_url`: `#5`, or `owner/name#5` in another repository.
pub fn reference_of_issue_url(url: &str, repository_url: &str) -> Option<String> {
    let (repo_url, number) = url.trim_end_matches('/').rsplit_once("/issues/")?;
    let number: u64 = number.parse().ok().filter(|n| *n > 0)?;
    if repo_url.eq_ignore_ascii_case(repository_url) || repository_url.is_empty() {
        return Some(format!("#{number}"));
    }
    Some(format!("{}#{number}", repo_of_api_url(repo_url)?))
}

/// How many relations an issue has, as GitHub's listings summarise them
/// (`issue_dependencies_summary`, `sub_issues_summary`): a pull asks for the relations
/// themselves only where these are not zero.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelationCounts {
    /// Whether the tracker sent the summaries at all (hosts without the relation endpoints
    /// do not).
    pub known: bool,
    /// Issues it waits for (`total_blocked_by`), open or closed.
    pub blocked_by: u64,
    /// Issues that wait for it (`total_blocking`).
    pub blocking: u64,
    /// Its sub-issues (`sub_issues_summary.total`).
    pub sub_issues: u64,
    /// Of which completed.
    pub sub_issues_completed: u64,
}

/// Where to move a sub-issue among its siblings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubIssuePlace {
    /// Just after the sub-issue with this database id.
    After(u64),
    /// Just before the sub-issue with this database id.
    Before(u64),
}

/// A milestone as the tracker has it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RemoteMilestone {
    /// Number in the repository.
    pub number: u64,
    /// Database id.
    pub id: u64,
    /// GraphQL node id.
    pub node_id: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: Option<String>,
    /// Open or closed.
    pub state: RemoteState,
    /// Due date.
    pub due_on: Option<Timestamp>,
    /// Web URL.
    pub html_url: String,
    /// Created.
    pub created_at: Timestamp,
    /// Last updated.
    pub updated_at: Timestamp,
}

/// A label as the tracker has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteLabel {
    /// Database id.
    pub id: u64,
    /// Name.
    pub name: String,
    /// Hex colour without `#`.
    pub color: String,
    /// Description.
    pub description: Option<String>,
}

/// A comment as the tracker has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteComment {
    /// Database id.
    pub id: u64,
    /// The issue it belongs to.
    pub issue_number: u64,
    /// Author login.
    pub author: String,
    /// Markdown text.
    pub body: String,
    /// Created.
    pub created_at: Timestamp,
    /// Last updated.
    pub updated_at: Timestamp,
}

/// One page of a listing, in the order GitHub numbers them.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// 1-based page number.
    pub number: u32,
    /// How many pages the listing has, once known.
    pub last: Option<u32>,
    /// The items that parsed.
    pub items: Vec<T>,
    /// Items skipped on purpose (pull requests in the issue list).
    pub skipped: u32,
    /// Items that could not be parsed: `(what, reason)`; reported, never silently dropped.
    pub rejected: Vec<(String, String)>,
    /// Served from the conditional cache after a 304.
    pub not_modified: bool,
    /// For a listing split into windows ([`Split`]): where every window stands once this page
    /// and every page before it are applied. Saved, it lets an interrupted listing go on.
    pub resume: Option<Resume>,
}

/// Options of an issue or comment listing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListOptions {
    /// Only items updated at or after this time.
    pub since: Option<Timestamp>,
    /// Whether to list the whole key space as parallel windows (full listings only).
    pub split: Split,
    /// Called once, when what is left of a split listing fits in one round of requests (or
    /// when it ends): the moment to start the next listing, so that it runs beside the last
    /// pages without competing with the rest.
    pub last_round: Hook,
}

/// A callback a listing calls at most once (see [`ListOptions::last_round`]).
#[derive(Clone, Default)]
pub struct Hook(Option<std::sync::Arc<dyn Fn() + Send + Sync>>);

impl Hook {
    /// A hook calling `f`.
    pub fn new(f: impl Fn() + Send + Sync + 'static) -> Self {
        Hook(Some(std::sync::Arc::new(f)))
    }

    /// Calls it, if there is one.
    pub fn call(&self) {
        if let Some(f) = &self.0 {
            f();
        }
    }
}

impl std::fmt::Debug for Hook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Hook(set)"
        } else {
            "Hook(none)"
        })
    }
}

impl PartialEq for Hook {
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (None, None) => true,
            (Some(a), Some(b)) => std::sync::Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

/// How a full listing is walked.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub enum Split {
    /// One chain of pages, in order.
    #[default]
    No,
    /// Split the `updated_at` key space into windows listed in parallel, each its own chain
    /// (`since` = its lower bound), rebalanced as windows end. Pages then arrive out of
    /// `updated_at` order, each carrying a [`Resume`].
    Fresh,
    /// Go on with an interrupted split listing from where its windows stood.
    Resume(Resume),
}

/// Where a split listing stands: the windows left, each `[from, to)` in `updated_at` (whole
/// seconds, as GitHub's `since` is), `from` advanced as its pages are applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resume {
    /// The server's time when the listing began, less a safety margin: an item edited after
    /// it may have moved past every window, so the next incremental listing starts here.
    pub began: Timestamp,
    /// The newest `updated_at` when the listing began.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub newest: Option<Timestamp>,
    /// How many items there are, if the tracker could say (progress).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    /// Items handed out so far (progress, across resumes).
    #[serde(default)]
    pub done: u64,
    /// The windows not yet finished.
    pub windows: Vec<Window>,
}

/// One window of a split listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    /// Items updated at or after this (`None`: from the start).
    pub from: Option<Timestamp>,
    /// Items updated before this (`None`: to the end, including items edited meanwhile).
    pub to: Option<Timestamp>,
}

/// What a listing cost.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ListStats {
    /// Pages fetched.
    pub pages: u32,
    /// Pages answered 304.
    pub not_modified: u32,
}

/// Fields of a new issue. Serializes as the body of GitHub's create request (empty lists and
/// no milestone are left out).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct NewIssue {
    /// Title.
    pub title: String,
    /// Body.
    pub body: String,
    /// Label names.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    /// Assignee logins.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub assignees: Vec<String>,
    /// Milestone number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub milestone: Option<u64>,
}

/// Fields of an issue update; `None` leaves a field alone. Serializes as the body of
/// GitHub's update request: only the fields set, `milestone: Some(None)` as `null`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct IssuePatch {
    /// Title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Open or closed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<RemoteState>,
    /// Why closed or reopened; sent only with a `state`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_reason: Option<String>,
    /// Replaces the label set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<String>>,
    /// Replaces the assignees.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignees: Option<Vec<String>>,
    /// `Some(None)` removes the milestone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub milestone: Option<Option<u64>>,
}

/// A due date as a tracker takes it: noon UTC of the day, so that no time zone between here
/// and the tracker's display moves it to another day.
fn due_date<S: serde::Serializer>(d: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.collect_str(&format_args!("{}T12:00:00Z", d.0.date_naive())),
        None => s.serialize_none(),
    }
}

/// [`due_date`] for a patch, where `Some(None)` clears the date (`null`).
fn patch_due_date<S: serde::Serializer>(
    d: &Option<Option<Timestamp>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    due_date(&d.flatten(), s)
}

/// Fields of a new milestone. Serializes as the body of GitHub's create request.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct NewMilestone {
    /// Title.
    pub title: String,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Due date.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "due_date")]
    pub due_on: Option<Timestamp>,
}

/// Fields of a milestone update. Serializes as the body of GitHub's update request: only
/// the fields set.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MilestonePatch {
    /// Title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Open or closed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<RemoteState>,
    /// Due date: `Some(None)` clears it.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "patch_due_date"
    )]
    pub due_on: Option<Option<Timestamp>>,
}

/// Fields of a new label. Serializes as the body of GitHub's create request.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct NewLabel {
    /// Name.
    pub name: String,
    /// Hex colour without `#`.
    pub color: String,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// Fields of a new comment. Serializes as the body of GitHub's create request.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct NewComment {
    /// Markdown text.
    pub body: String,
}

/// A classified tracker failure, so that callers can decide what to retry.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum TrackerError {
    /// The item or repository does not exist (or is private).
    #[error("{what}: not found")]
    NotFound {
        /// What was asked for.
        what: String,
    },
    /// The item was deleted (410).
    #[error("{what}: gone (deleted on the remote)")]
    Gone {
        /// What was asked for.
        what: String,
    },
    /// The item moved, e.g. an issue transferred to another repository (301).
    #[error("{what}: moved to {location}")]
    Moved {
        /// What was asked for.
        what: String,
        /// The new location.
        location: String,
    },
    /// No or a bad token (401).
    #[error("{what}: unauthorized (check the token)")]
    Unauthorized {
        /// What was asked for.
        what: String,
    },
    /// Not allowed (403 that is not a rate limit).
    #[error("{what}: forbidden: {message}")]
    Forbidden {
        /// What was asked for.
        what: String,
        /// The tracker's message.
        message: String,
    },
    /// A primary or secondary rate limit that waiting did not (or may not) clear.
    #[error("{what}: rate limited; retry after {retry_at}")]
    RateLimited {
        /// What was asked for.
        what: String,
        /// When a retry may succeed.
        retry_at: Timestamp,
    },
    /// The tracker refused the input (422), or silently dropped a field.
    #[error("{what}: rejected: {message}")]
    Validation {
        /// What was asked for.
        what: String,
        /// The tracker's message with the offending fields.
        message: String,
    },
    /// The host could not be reached at all: connection refused, no such host, a TLS
    /// handshake that failed. Not retried: nothing will change by trying again at once.
    #[error("cannot reach {host}: {message}")]
    Unreachable {
        /// `host[:port]` of the API.
        host: String,
        /// Why, in a few words (`connection refused`, `no such host`, `TLS: …`).
        message: String,
    },
    /// A failure that retries did not clear (5xx, timeout, reset, truncated body).
    #[error("{what}: transient failure after retries: {message}")]
    Transient {
        /// What was asked for.
        what: String,
        /// The last failure.
        message: String,
    },
    /// A create failed in a way that may have happened anyway (a 502 or a timeout after the
    /// server acted), and looking for it over several seconds did not find it. It was not sent
    /// again: the caller keeps its record of the create and looks again next run, before it
    /// would create anything.
    #[error("{what}: may have been created ({message}); not sent again in this run")]
    Ambiguous {
        /// What was asked for.
        what: String,
        /// The failure.
        message: String,
    },
    /// Anything else.
    #[error("{what}: {message}")]
    Other {
        /// What was asked for.
        what: String,
        /// Description.
        message: String,
    },
}

/// Per-endpoint request accounting.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EndpointMetrics {
    /// Requests sent (each retry counts).
    pub calls: u64,
    /// Answers that were 304 Not Modified.
    pub not_modified: u64,
    /// Retries after a failure.
    pub retries: u64,
    /// Bytes of response bodies received.
    pub bytes: u64,
}

/// A snapshot of what a tracker client has done.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TrackerMetrics {
    /// By `METHOD endpoint`, e.g. `GET /repos/{o}/{r}/issues`.
    pub endpoints: BTreeMap<String, EndpointMetrics>,
    /// Times the client waited for a limit (pacing, retry-after, reset).
    pub waits: u64,
    /// Total time spent in those waits.
    #[serde(with = "duration_ms")]
    pub wait_time: Duration,
    /// Time spent backing off before retries (not a limit: a failure, then a pause).
    #[serde(with = "duration_ms")]
    pub retry_time: Duration,
    /// Last `x-ratelimit-remaining` seen.
    pub rate_remaining: Option<u64>,
    /// Last `x-ratelimit-limit` seen.
    pub rate_limit: Option<u64>,
    /// Last `x-ratelimit-reset` seen.
    pub rate_reset: Option<Timestamp>,
    /// The most reads in flight at once.
    pub peak_concurrency: u64,
    /// How many reads may be in flight now (lowered after a secondary limit, then regrown).
    pub concurrency: u64,
}

impl TrackerMetrics {
    /// Requests sent, all endpoints.
    pub fn calls(&self) -> u64 {
        self.endpoints.values().map(|e| e.calls).sum()
    }
    /// 304 answers, all endpoints.
    pub fn not_modified(&self) -> u64 {
        self.endpoints.values().map(|e| e.not_modified).sum()
    }
    /// Retries, all endpoints.
    pub fn retries(&self) -> u64 {
        self.endpoints.values().map(|e| e.retries).sum()
    }
}

mod duration_ms {
    use std::time::Duration;
    pub(super) fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis() as u64)
    }
}

/// A remote issue tracker, as the sync engine sees it. Implemented by the GitHub client;
/// tests may implement it in memory.
///
/// Listings are streams of pages so that a caller can process page 1 while later pages are in
/// flight; a listing that fails yields an `Err` and ends: a failed listing never looks like an
/// empty one.
pub trait Tracker: Send + Sync {
    /// The repository this tracker reads and writes, as `owner/name` (GitHub's `full_name`):
    /// the key under which a project keeps this tracker's watermarks.
    fn full_name(&self) -> &str;
    /// Issues (pull requests skipped and counted), `state=all`, sorted by `updated` ascending.
    fn list_issues(
        &self,
        opts: ListOptions,
    ) -> BoxStream<'_, Result<Page<RemoteIssue>, TrackerError>>;
    /// All milestones, open and closed.
    fn list_milestones(&self) -> BoxStream<'_, Result<Page<RemoteMilestone>, TrackerError>>;
    /// All labels.
    fn list_labels(&self) -> BoxStream<'_, Result<Page<RemoteLabel>, TrackerError>>;
    /// Repository-wide issue comments.
    fn list_comments(
        &self,
        opts: ListOptions,
    ) -> BoxStream<'_, Result<Page<RemoteComment>, TrackerError>>;
    /// One issue by number.
    fn get_issue(&self, number: u64) -> BoxFuture<'_, Result<RemoteIssue, TrackerError>>;
    /// Creates an issue; never creates it twice on an ambiguous failure.
    fn create_issue(&self, issue: NewIssue) -> BoxFuture<'_, Result<RemoteIssue, TrackerError>>;
    /// Updates an issue and checks that the tracker kept every field sent.
    fn update_issue(
        &self,
        number: u64,
        patch: IssuePatch,
    ) -> BoxFuture<'_, Result<RemoteIssue, TrackerError>>;
    /// Creates a milestone.
    fn create_milestone(
        &self,
        milestone: NewMilestone,
    ) -> BoxFuture<'_, Result<RemoteMilestone, TrackerError>>;
    /// Updates a milestone.
    fn update_milestone(
        &self,
        number: u64,
        patch: MilestonePatch,
    ) -> BoxFuture<'_, Result<RemoteMilestone, TrackerError>>;
    /// Creates a label.
    fn create_label(&self, label: NewLabel) -> BoxFuture<'_, Result<RemoteLabel, TrackerError>>;
    /// Posts a comment on an issue.
    fn create_comment(
        &self,
        issue_number: u64,
        comment: NewComment,
    ) -> BoxFuture<'_, Result<RemoteComment, TrackerError>>;
    /// What the client has done so far.
    fn metrics(&self) -> TrackerMetrics;

    /// The issues issue `number` waits for (GitHub's `blocked_by`), every page; they may
    /// live in other repositories (`repository_url` says). A tracker without issue
    /// dependencies answers [`TrackerError::NotFound`], as GitHub hosts without the
    /// endpoints do.
    fn blocked_by(&self, number: u64) -> BoxFuture<'_, Result<Vec<RemoteIssue>, TrackerError>> {
        Box::pin(async move { Err(unsupported(number, "dependencies")) })
    }
    /// The issues that wait for issue `number` (GitHub's `blocking`), every page.
    fn blocking(&self, number: u64) -> BoxFuture<'_, Result<Vec<RemoteIssue>, TrackerError>> {
        Box::pin(async move { Err(unsupported(number, "dependencies")) })
    }
    /// Makes issue `number` wait for the issue with database id `blocker_id`. Already so is
    /// no error.
    fn add_blocked_by(
        &self,
        number: u64,
        blocker_id: u64,
    ) -> BoxFuture<'_, Result<(), TrackerError>> {
        let _ = blocker_id;
        Box::pin(async move { Err(unsupported(number, "dependencies")) })
    }
    /// Issue `number` no longer waits for the issue with database id `blocker_id`. Already
    /// so is no error.
    fn remove_blocked_by(
        &self,
        number: u64,
        blocker_id: u64,
    ) -> BoxFuture<'_, Result<(), TrackerError>> {
        let _ = blocker_id;
        Box::pin(async move { Err(unsupported(number, "dependencies")) })
    }
    /// The sub-issues of issue `number`, in their order, every page.
    fn sub_issues(&self, number: u64) -> BoxFuture<'_, Result<Vec<RemoteIssue>, TrackerError>> {
        Box::pin(async move { Err(unsupported(number, "sub-issues")) })
    }
    /// Makes the issue with database id `child_id` the last sub-issue of issue `parent`;
    /// with `replace_parent`, even when it has another parent (else that is refused).
    /// Already so is no error.
    fn add_sub_issue(
        &self,
        parent: u64,
        child_id: u64,
        replace_parent: bool,
    ) -> BoxFuture<'_, Result<(), TrackerError>> {
        let _ = (child_id, replace_parent);
        Box::pin(async move { Err(unsupported(parent, "sub-issues")) })
    }
    /// The issue with database id `child_id` is no longer a sub-issue of `parent`. Already
    /// so is no error.
    fn remove_sub_issue(
        &self,
        parent: u64,
        child_id: u64,
    ) -> BoxFuture<'_, Result<(), TrackerError>> {
        let _ = child_id;
        Box::pin(async move { Err(unsupported(parent, "sub-issues")) })
    }
    /// Moves sub-issue `child_id` of `parent` next to a sibling.
    fn move_sub_issue(
        &self,
        parent: u64,
        child_id: u64,
        place: SubIssuePlace,
    ) -> BoxFuture<'_, Result<(), TrackerError>> {
        let _ = (child_id, place);
        Box::pin(async move { Err(unsupported(parent, "sub-issues")) })
    }
    /// The login of the user this tracker acts as (GitHub's `GET /user`), or `None` when it
    /// cannot tell: no token, or a token with no user behind it (a GitHub App installation).
    /// Used to check that an issue naming a local id was opened by us before linking it.
    fn viewer(&self) -> BoxFuture<'_, Result<Option<String>, TrackerError>> {
        Box::pin(async { Ok(None) })
    }
}

/// What a tracker without issue relations answers: what GitHub hosts without the endpoints
/// answer (404).
fn unsupported(number: u64, what: &str) -> TrackerError {
    TrackerError::NotFound {
        what: format!("{what} of issue #{number} (this tracker has no issue {what})"),
    }
}
