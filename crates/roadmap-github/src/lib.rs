//! The GitHub tracker client: octocrab for HTTP, governor for pacing, the cache crate for
//! conditional requests. It implements [`roadmap_model::Tracker`], so the sync engine never
//! sees an octocrab type.
//!
//! Invariants: no octocrab type in a public signature; a token never appears in a log, an
//! error or a `Debug` output; a create is never blindly retried (after an ambiguous failure
//! the client looks for what it may have created first); a listing that fails is an error,
//! never an empty result.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use futures::TryStreamExt;
//! use roadmap_github::GitHub;
//! use roadmap_model::{ListOptions, Tracker};
//! # let sim = roadmap_sim::Simulator::start(roadmap_sim::SimConfig::default()
//! #     .repo(roadmap_sim::RepoSpec::sample("octo", "demo", 250))).await?;
//!
//! let gh = GitHub::builder("octo", "demo")
//!     .api_url(sim.url()) // default: https://api.github.com
//!     .workers(8)
//!     .build()?;
//! let pages: Vec<_> = gh.list_issues(ListOptions::default()).try_collect().await?;
//! let issues: usize = pages.iter().map(|p| p.items.len()).sum();
//! assert_eq!(issues, 250); // the 12 pull requests GitHub lists among issues are left out
//! assert_eq!(gh.metrics().calls(), pages.len() as u64);
//! # Ok(()) }
//! ```

mod aimd;
mod client;
mod clock;
mod listing;
mod parse;
mod points;
mod relations;
mod transport;
mod windows;

#[cfg(test)]
mod paused_reader;

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::stream::{BoxStream, StreamExt};
use http::Method;
use roadmap_cache::Cache;
use roadmap_model::{
    IssuePatch, ListOptions, MilestonePatch, NewComment, NewIssue, NewLabel, NewMilestone, Page,
    RemoteComment, RemoteIssue, RemoteLabel, RemoteMilestone, SubIssuePlace, Timestamp, Tracker,
    TrackerError, TrackerMetrics,
};
use secrecy::SecretString;
use serde_json::Value;

pub use client::RetryPolicy;
use client::{Core, Failure, Resp, Settings};

/// The client could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The API URL is not a valid http(s) URL.
    #[error("invalid API URL `{url}`: {message}")]
    Url {
        /// What was given.
        url: String,
        /// Why it is wrong.
        message: String,
    },
    /// The HTTP client could not be set up.
    #[error("cannot set up the HTTP client: {0}")]
    Http(String),
}

/// The API base URL of github.com (the builder's default).
pub const DEFAULT_API_URL: &str = "https://api.github.com";
/// Parallel GET requests by default (GitHub allows 100 concurrent but asks for restraint).
pub const DEFAULT_WORKERS: usize = roadmap_model::DEFAULT_WORKERS;
/// Minimum time between the starts of two writes by default (GitHub asks for a second).
pub const DEFAULT_WRITE_SPACING: Duration = Duration::from_secs(1);
/// GitHub's secondary limit on REST points per minute (a GET costs 1, a write 5).
pub const DEFAULT_POINTS_PER_MINUTE: u32 = 900;

/// A repository as `GET /repos/{owner}/{repo}` describes it (the fields a sync cares about).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Repository {
    /// `OWNER/NAME`, as GitHub spells it now (a renamed repository answers with its new name).
    pub full_name: String,
    /// Whether only collaborators see it.
    pub private: bool,
    /// Whether its issues are turned on.
    pub has_issues: bool,
}

/// Builds a [`GitHub`] client. Every setter documents its default.
#[derive(Debug, Clone)]
pub struct GitHubBuilder {
    owner: String,
    repo: String,
    api_url: String,
    token: Option<SecretString>,
    user_agent: String,
    cache: Option<Arc<Cache>>,
    settings: Settings,
    connect_timeout: Duration,
}

impl GitHubBuilder {
    /// API base URL: `https://api.github.com` (default), `https://HOST/api/v3` for GitHub
    /// Enterprise, or a simulator's URL.
    pub fn api_url(mut self, url: impl Into<String>) -> Self {
        self.api_url = url.into();
        self
    }
    /// The token (default: none, unauthenticated at 60 requests an hour).
    pub fn token(mut self, token: Option<SecretString>) -> Self {
        self.token = token;
        self
    }
    /// Parallel GET requests (default 8; GitHub allows 100 concurrent but asks for restraint).
    pub fn workers(mut self, n: usize) -> Self {
        self.settings.workers = n.max(1);
        self
    }
    /// Time for one request, body included (default 30 s).
    pub fn request_timeout(mut self, d: Duration) -> Self {
        self.settings.request_timeout = d;
        self
    }
    /// Time to connect (default 10 s).
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }
    /// Retries of idempotent requests (default 5, from 250 ms doubling to 16 s, full jitter).
    pub fn retry(mut self, r: RetryPolicy) -> Self {
        self.settings.retry = r;
        self
    }
    /// Minimum time between the starts of two writes, which never overlap (default 1 s:
    /// GitHub asks for at least a second between mutative requests).
    pub fn write_spacing(mut self, d: Duration) -> Self {
        self.settings.write_spacing = d;
        self
    }
    /// Longest wait for a rate limit before giving up with `RateLimited` (default 15 min).
    pub fn max_rate_wait(mut self, d: Duration) -> Self {
        self.settings.max_rate_wait = d;
        self
    }
    /// First wait on a secondary limit without `retry-after` (default 60 s, doubling).
    pub fn secondary_backoff(mut self, d: Duration) -> Self {
        self.settings.secondary_backoff = d;
        self
    }
    /// Content-creating requests per minute (default 80, GitHub's secondary limit).
    pub fn content_per_minute(mut self, n: u32) -> Self {
        self.settings.content_per_minute = n;
        self
    }
    /// GitHub's secondary limit on REST points per minute (default 900; a GET costs 1 point,
    /// a write 5): requests are paced to stay under it in any 60-second span.
    pub fn points_per_minute(mut self, n: u32) -> Self {
        self.settings.points_per_minute = n;
        self
    }
    /// User agent (default `roadmap/VERSION`).
    pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
        self.user_agent = ua.into();
        self
    }
    /// Largest response body accepted (default 32 MiB: a page of 100 issues with bodies at
    /// GitHub's 65,536-character maximum is under 27 MB).
    pub fn max_body_bytes(mut self, n: usize) -> Self {
        self.settings.max_body_bytes = n.max(1024);
        self
    }
    /// Most pages one listing may take before it stops with an error (default 20,000, two
    /// million items: far above any repository, low enough that an endless chain of `next`
    /// links ends).
    pub fn max_pages(mut self, n: u32) -> Self {
        self.settings.max_pages = n.max(1);
        self
    }
    /// Conditional-request cache (default none).
    pub fn cache(mut self, cache: Option<Arc<Cache>>) -> Self {
        self.cache = cache;
        self
    }

    /// Builds the client. Call it inside a tokio runtime (the HTTP stack spawns a task).
    pub fn build(self) -> Result<GitHub, BuildError> {
        // Never echo a password written into the URL.
        let shown = match url::Url::parse(&self.api_url) {
            Ok(mut u) if !u.username().is_empty() || u.password().is_some() => {
                let _ = u.set_username("***");
                let _ = u.set_password(None);
                u.to_string()
            }
            _ => self.api_url.clone(),
        };
        let bad = |message: &str| BuildError::Url {
            url: shown.clone(),
            message: message.into(),
        };
        let base = url::Url::parse(&self.api_url).map_err(|e| bad(&e.to_string()))?;
        if !base.username().is_empty() || base.password().is_some() {
            return Err(bad(
                "credentials in the API URL are not supported: the token is the credential",
            ));
        }
        if !matches!(base.scheme(), "http" | "https") || base.host_str().is_none() {
            return Err(bad("expected http(s)://HOST[/PATH]"));
        }
        let user_agent = http::HeaderValue::from_str(&self.user_agent)
            .map_err(|e| BuildError::Http(format!("user agent: {e}")))?;
        let octo = transport::octocrab(&base, self.connect_timeout).map_err(|e| bad(&e))?;
        let repo_path = format!("/repos/{}/{}", enc(&self.owner), enc(&self.repo));
        let core = Core::new(
            octo,
            base,
            self.token.as_ref(),
            user_agent,
            self.settings,
            self.cache,
        );
        Ok(GitHub {
            core: Arc::new(core),
            repo_path,
            what: format!("{}/{}", self.owner, self.repo),
        })
    }
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// Lookups after an ambiguous create, `2×base` apart and doubling (with the default base of
/// 250 ms: 0.5, 1, 2 and 4 s, 7.5 s in all).
const AMBIGUOUS_LOOKUPS: u32 = 4;

/// How far GitHub's clock may be behind ours when telling whether an item was made after a
/// create began.
const CLOCK_SKEW_SECS: i64 = 300;

/// What is left of the primary rate limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateBudget {
    /// Requests left in this window.
    pub remaining: u64,
    /// Requests per window.
    pub limit: u64,
    /// When the window resets.
    pub reset: Option<Timestamp>,
}

/// A GitHub repository as a [`Tracker`]. Cheap to clone.
#[derive(Debug, Clone)]
pub struct GitHub {
    core: Arc<Core>,
    repo_path: String,
    what: String,
}

pub(crate) type Parser<T> = fn(&Value) -> Result<T, String>;

/// One page read, with the links to go on with and the ids of every item on it (pull
/// requests and unparsable items included), by which a looping listing is noticed.
pub(crate) struct Fetched<T> {
    page: Page<T>,
    next: Option<String>,
    last: Option<String>,
    ids: Vec<u64>,
    /// `(updated_at, number)` of the items skipped on purpose (pull requests).
    skipped_keys: Vec<(Option<Timestamp>, u64)>,
    /// The server's clock when it answered.
    date: Option<Timestamp>,
}

impl GitHub {
    /// A builder for `owner/repo` with the defaults documented on each setter.
    pub fn builder(owner: impl Into<String>, repo: impl Into<String>) -> GitHubBuilder {
        GitHubBuilder {
            owner: owner.into(),
            repo: repo.into(),
            api_url: DEFAULT_API_URL.into(),
            token: None,
            user_agent: concat!("roadmap/", env!("CARGO_PKG_VERSION")).into(),
            cache: None,
            connect_timeout: Duration::from_secs(10),
            settings: Settings {
                workers: DEFAULT_WORKERS,
                request_timeout: Duration::from_secs(30),
                retry: RetryPolicy::default(),
                write_spacing: DEFAULT_WRITE_SPACING,
                max_rate_wait: Duration::from_secs(15 * 60),
                secondary_backoff: Duration::from_secs(60),
                low_water: 0.1,
                content_per_minute: 80,
                points_per_minute: DEFAULT_POINTS_PER_MINUTE,
                max_body_bytes: 32 * 1024 * 1024,
                max_pages: 20_000,
            },
        }
    }

    /// Whether a token is configured.
    pub fn authenticated(&self) -> bool {
        self.core.authenticated
    }

    /// A test for "this item can be the one our create made": opened by the token's user (when
    /// GitHub says who that is) and not before the create began (give or take clock skew).
    async fn made_by_us(
        &self,
        began: chrono::DateTime<chrono::Utc>,
    ) -> impl Fn(&str, Timestamp) -> bool + use<> {
        let viewer = self.viewer().await.ok().flatten();
        let earliest = began - chrono::Duration::seconds(CLOCK_SKEW_SECS);
        move |author: &str, created: Timestamp| {
            created.0 >= earliest
                && viewer
                    .as_ref()
                    .is_none_or(|v| v.eq_ignore_ascii_case(author))
        }
    }

    /// `GET /user`: the login of the token's owner.
    pub async fn current_user(&self) -> Result<String, TrackerError> {
        let r = self
            .get("/user", "GET /user", "the current user", true)
            .await?;
        let v = r.json("the current user")?;
        v.get("login")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| TrackerError::Other {
                what: "the current user".into(),
                message: "no login in the answer".into(),
            })
    }

    /// `GET /rate_limit` (free): the core budget, or `None` where rate limiting is off (GitHub
    /// Enterprise Server's default answers 404 "Rate limiting is not enabled.").
    pub async fn rate_limit(&self) -> Result<Option<RateBudget>, TrackerError> {
        let r = match self
            .get("/rate_limit", "GET /rate_limit", "the rate limit", true)
            .await
        {
            Ok(r) => r,
            Err(TrackerError::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        let v = r.json("the rate limit")?;
        let core = &v["resources"]["core"];
        Ok(Some(RateBudget {
            remaining: core["remaining"].as_u64().unwrap_or(0),
            limit: core["limit"].as_u64().unwrap_or(0),
            reset: Timestamp::from_unix(core["reset"].as_i64().unwrap_or(0)),
        }))
    }

    /// `GET /repos/{o}/{r}`: checks the repository is visible.
    pub async fn repository(&self) -> Result<Repository, TrackerError> {
        let path = self.repo_path.clone();
        let v = self
            .get(&path, "GET /repos/{owner}/{repo}", &self.what, true)
            .await?
            .json(&self.what)?;
        Ok(Repository {
            full_name: v["full_name"].as_str().unwrap_or_default().to_owned(),
            private: v["private"].as_bool().unwrap_or(false),
            has_issues: v["has_issues"].as_bool().unwrap_or(true),
        })
    }

    async fn get(
        &self,
        path: &str,
        endpoint: &str,
        what: &str,
        fresh: bool,
    ) -> Result<Resp, TrackerError> {
        self.core
            .send(Method::GET, path, None, endpoint, what, fresh)
            .await
            .map_err(|f| f.error)
    }

    /// [`page`](Self::page) on a task of its own, started now. The request goes on, and
    /// gives its read slot back once answered, whether or not the caller polls the returned
    /// future meanwhile: a listing's reader may pause (a sync reads milestones before it
    /// applies issue pages), and the pages read ahead must not hold the slots its other
    /// requests wait for. Dropping the future aborts the request.
    fn spawn_page<T: Send + 'static>(
        &self,
        path: String,
        number: u32,
        endpoint: &'static str,
        parse: Parser<T>,
        skip_prs: bool,
    ) -> impl Future<Output = Result<Fetched<T>, TrackerError>> + Send + 'static {
        let gh = self.clone();
        let task = tokio_util::task::AbortOnDropHandle::new(tokio::spawn(async move {
            gh.page(path, number, endpoint, parse, skip_prs).await
        }));
        let what = format!("{} page {number}", self.what);
        async move {
            match task.await {
                Ok(r) => r,
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                // Cancelled: only when the runtime shuts down under the listing.
                Err(e) => Err(TrackerError::Other {
                    what,
                    message: e.to_string(),
                }),
            }
        }
    }

    /// Fetches one page: its items, the skipped pull requests, the rejected items, and the
    /// links to go on with.
    async fn page<T>(
        &self,
        path: String,
        number: u32,
        endpoint: &'static str,
        parse: Parser<T>,
        skip_prs: bool,
    ) -> Result<Fetched<T>, TrackerError> {
        let what = format!(
            "{} page {number} of {}",
            self.what,
            endpoint.rsplit('/').next().unwrap_or("items")
        );
        let resp = self.get(&path, endpoint, &what, false).await?;
        let v = resp.json(&what)?;
        let links = resp.links().map_err(|message| TrackerError::Transient {
            what: what.clone(),
            message,
        })?;
        let Value::Array(items) = v else {
            return Err(TrackerError::Transient {
                what,
                message: "expected a JSON array".into(),
            });
        };
        let mut page = Page {
            number,
            last: None,
            items: Vec::with_capacity(items.len()),
            skipped: 0,
            rejected: Vec::new(),
            not_modified: resp.not_modified,
            resume: None,
        };
        let ids = items
            .iter()
            .filter_map(|i| i.get("id").and_then(Value::as_u64))
            .collect();
        let mut skipped_keys = Vec::new();
        for item in &items {
            if skip_prs && parse::is_pull_request(item) {
                page.skipped += 1;
                let at = item
                    .get("updated_at")
                    .and_then(Value::as_str)
                    .and_then(|t| Timestamp::parse(t).ok());
                let n = item.get("number").and_then(Value::as_u64).unwrap_or(0);
                skipped_keys.push((at, n));
                continue;
            }
            match parse(item) {
                Ok(x) => page.items.push(x),
                Err(reason) => page.rejected.push((parse::describe(item), reason)),
            }
        }
        Ok(Fetched {
            page,
            next: links.get("next"),
            last: links.get("last"),
            ids,
            skipped_keys,
            date: resp.date(),
        })
    }

    /// Streams every page of a listing (see [`listing`]).
    fn list<T: Send + 'static>(
        &self,
        first: String,
        endpoint: &'static str,
        parse: Parser<T>,
        skip_prs: bool,
    ) -> BoxStream<'static, Result<Page<T>, TrackerError>> {
        listing::walk(self.clone(), first, endpoint, parse, skip_prs)
    }

    async fn write(
        &self,
        method: Method,
        path: &str,
        body: &Value,
        endpoint: &str,
        what: &str,
    ) -> Result<Value, Failure> {
        let r = self
            .core
            .send(method, path, Some(body), endpoint, what, true)
            .await?;
        r.json(what).map_err(|error| Failure {
            error,
            ambiguous: false,
        })
    }

    /// Sends a create; after an ambiguous failure, looks for the item it may have made
    /// before trying again, so that a retry never duplicates it.
    async fn create<T, F, Fut>(
        &self,
        path: &str,
        body: Value,
        endpoint: &str,
        what: &str,
        parse: Parser<T>,
        find: F,
    ) -> Result<T, TrackerError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<Option<T>, TrackerError>>,
    {
        match self.write(Method::POST, path, &body, endpoint, what).await {
            Ok(v) => parse(&v).map_err(|m| TrackerError::Other {
                what: what.into(),
                message: format!("unexpected answer: {m}"),
            }),
            // The server may have acted (a 502 after a slow write is the usual case), and may
            // list the new item only a moment later: look patiently, and if it is still unseen,
            // never send the create again in this run.
            Err(f) if f.ambiguous => {
                tracing::info!(%what, "create failed ambiguously; looking for what it may have made");
                let mut wait = self.core.settings.retry.base.saturating_mul(2);
                for _ in 0..AMBIGUOUS_LOOKUPS {
                    tokio::time::sleep(wait).await;
                    if let Some(found) = find().await? {
                        return Ok(found);
                    }
                    wait = wait.saturating_mul(2);
                }
                Err(TrackerError::Ambiguous {
                    what: what.into(),
                    message: f.error.to_string(),
                })
            }
            Err(f) => Err(f.error),
        }
    }

    fn issue_path(&self, number: u64) -> String {
        format!("{}/issues/{number}", self.repo_path)
    }
}

/// The `page` number in a link URL.
pub(crate) fn page_of(url: &str) -> Option<u32> {
    let u = url::Url::parse(url).ok()?;
    u.query_pairs()
        .find(|(k, _)| k == "page")
        .and_then(|(_, v)| v.parse().ok())
}

/// The `last` link with its page set to `k`: every other parameter is kept as GitHub gave it.
pub(crate) fn with_page(url: &str, k: u32) -> Result<String, TrackerError> {
    let mut u = url::Url::parse(url).map_err(|e| TrackerError::Other {
        what: url.into(),
        message: e.to_string(),
    })?;
    let pairs: Vec<(String, String)> = u
        .query_pairs()
        .map(|(a, b)| {
            let v = if a == "page" {
                k.to_string()
            } else {
                b.into_owned()
            };
            (a.into_owned(), v)
        })
        .collect();
    u.query_pairs_mut().clear().extend_pairs(pairs);
    Ok(u.to_string())
}

/// A due date as GitHub keeps it: GitHub stores the calendar date of the instant sent, in
/// US-Pacific time, and serves it as that date's Pacific midnight (`T07:00:00Z` or
/// `T08:00:00Z`). Noon UTC of the intended date falls on the same date in California, so
/// the date comes back unchanged, whichever form the local value has (`2026-07-15`, or
/// GitHub's own `2026-07-15T07:00:00Z`).
/// A request's JSON body, from the model type's `Serialize` (which is GitHub's shape).
fn request_body(what: &str, fields: &impl serde::Serialize) -> Result<Value, TrackerError> {
    serde_json::to_value(fields).map_err(|e| TrackerError::Other {
        what: what.to_owned(),
        message: format!("cannot encode the request: {e}"),
    })
}

/// Whether a listing is split in windows, and from where: `Some(None)` fresh.
fn split_of(opts: &ListOptions) -> Option<Option<roadmap_model::Resume>> {
    match &opts.split {
        roadmap_model::Split::Fresh => Some(None),
        roadmap_model::Split::Resume(r) => Some(Some(r.clone())),
        _ => None,
    }
}

fn with_since(base: &str, since: Option<Timestamp>) -> String {
    match since {
        Some(t) => format!("{base}&since={}", enc(&t.to_string())),
        None => base.to_owned(),
    }
}

fn since_param(opts: &ListOptions) -> String {
    opts.since
        .map(|t| format!("&since={}", enc(&t.to_string())))
        .unwrap_or_default()
}

/// Checks that a write kept every field sent; GitHub silently drops what a user may not set.
fn verify_issue(what: &str, sent: &Value, got: &RemoteIssue) -> Result<(), TrackerError> {
    let mut dropped = Vec::new();
    if let Some(labels) = sent.get("labels").and_then(Value::as_array) {
        let want: std::collections::BTreeSet<String> = labels
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_lowercase)
            .collect();
        let have: std::collections::BTreeSet<String> =
            got.labels.iter().map(|l| l.to_lowercase()).collect();
        if want != have {
            dropped.push("labels");
        }
    }
    if let Some(a) = sent.get("assignees").and_then(Value::as_array) {
        let want: std::collections::BTreeSet<String> = a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_lowercase)
            .collect();
        let have: std::collections::BTreeSet<String> =
            got.assignees.iter().map(|l| l.to_lowercase()).collect();
        if want != have {
            dropped.push("assignees");
        }
    }
    if let Some(m) = sent.get("milestone")
        && m.as_u64() != got.milestone
    {
        dropped.push("milestone");
    }
    if dropped.is_empty() {
        Ok(())
    } else {
        Err(TrackerError::Validation {
            what: what.into(),
            message: format!(
                "GitHub did not keep {} (no push access?)",
                dropped.join(", ")
            ),
        })
    }
}

impl Tracker for GitHub {
    fn full_name(&self) -> &str {
        &self.what
    }

    fn viewer(&self) -> BoxFuture<'_, Result<Option<String>, TrackerError>> {
        Box::pin(async move {
            if !self.authenticated() {
                return Ok(None);
            }
            self.core
                .viewer
                .get_or_try_init(|| async {
                    match self.current_user().await {
                        Ok(login) => Ok(Some(login)),
                        // An installation token has no user: `GET /user` is refused.
                        Err(TrackerError::Forbidden { .. } | TrackerError::NotFound { .. }) => {
                            Ok(None)
                        }
                        Err(e) => Err(e),
                    }
                })
                .await
                .cloned()
        })
    }

    fn list_issues(
        &self,
        opts: ListOptions,
    ) -> BoxStream<'_, Result<Page<RemoteIssue>, TrackerError>> {
        if opts.since.is_none()
            && let Some(resume) = split_of(&opts)
        {
            let total = self.repo_path.strip_prefix("/repos/").map(|r| {
                format!(
                    "/search/issues?q={}&per_page=1",
                    enc(&format!("repo:{r} is:issue"))
                )
            });
            let spec = windows::Spec {
                endpoint: "GET /repos/{owner}/{repo}/issues",
                parse: parse::issue,
                skip_prs: true,
                listing: format!("{}/issues?state=all&sort=updated", self.repo_path),
                total,
                last_round: opts.last_round.clone(),
            };
            return windows::windowed(self.clone(), spec, resume);
        }
        let first = format!(
            "{}/issues?state=all&sort=updated&direction=asc&per_page=100{}",
            self.repo_path,
            since_param(&opts)
        );
        self.list(
            first,
            "GET /repos/{owner}/{repo}/issues",
            parse::issue,
            true,
        )
    }

    fn list_milestones(&self) -> BoxStream<'_, Result<Page<RemoteMilestone>, TrackerError>> {
        let first = format!("{}/milestones?state=all&per_page=100", self.repo_path);
        self.list(
            first,
            "GET /repos/{owner}/{repo}/milestones",
            parse::milestone,
            false,
        )
    }

    fn list_labels(&self) -> BoxStream<'_, Result<Page<RemoteLabel>, TrackerError>> {
        let first = format!("{}/labels?per_page=100", self.repo_path);
        self.list(
            first,
            "GET /repos/{owner}/{repo}/labels",
            parse::label,
            false,
        )
    }

    fn list_comments(
        &self,
        opts: ListOptions,
    ) -> BoxStream<'_, Result<Page<RemoteComment>, TrackerError>> {
        if opts.since.is_none()
            && let Some(resume) = split_of(&opts)
        {
            let spec = windows::Spec {
                endpoint: "GET /repos/{owner}/{repo}/issues/comments",
                parse: parse::comment,
                skip_prs: false,
                listing: format!("{}/issues/comments?sort=updated", self.repo_path),
                total: None,
                last_round: opts.last_round.clone(),
            };
            return windows::windowed(self.clone(), spec, resume);
        }
        let first = format!(
            "{}/issues/comments?sort=updated&direction=asc&per_page=100{}",
            self.repo_path,
            since_param(&opts)
        );
        self.list(
            first,
            "GET /repos/{owner}/{repo}/issues/comments",
            parse::comment,
            false,
        )
    }

    fn get_issue(&self, number: u64) -> BoxFuture<'_, Result<RemoteIssue, TrackerError>> {
        Box::pin(async move {
            let what = format!("{}#{number}", self.what);
            let r = self
                .get(
                    &self.issue_path(number),
                    "GET /repos/{owner}/{repo}/issues/{n}",
                    &what,
                    false,
                )
                .await?;
            let v = r.json(&what)?;
            let issue = parse::issue(&v).map_err(|m| TrackerError::Other {
                what: what.clone(),
                message: m,
            })?;
            if !issue.repository_url.is_empty() && !issue.repository_url.ends_with(&self.repo_path)
            {
                // Redirected: the issue now lives in another repository.
                return Err(TrackerError::Moved {
                    what,
                    location: issue.html_url,
                });
            }
            Ok(issue)
        })
    }

    fn create_issue(&self, issue: NewIssue) -> BoxFuture<'_, Result<RemoteIssue, TrackerError>> {
        Box::pin(async move {
            let what = format!("new issue `{}` in {}", issue.title, self.what);
            let body = request_body(&what, &issue)?;
            let path = format!("{}/issues", self.repo_path);
            let began = crate::clock::utc_now();
            let find = || async {
                let ours = self.made_by_us(began).await;
                let recent = format!(
                    "{}/issues?state=all&sort=created&direction=desc&per_page=30",
                    self.repo_path
                );
                let r = self
                    .get(
                        &recent,
                        "GET /repos/{owner}/{repo}/issues",
                        "recent issues",
                        true,
                    )
                    .await?;
                let list = r.json("recent issues")?;
                Ok(list
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|v| !parse::is_pull_request(v))
                    .filter_map(|v| parse::issue(v).ok())
                    .find(|i| {
                        ours(&i.author, i.created_at)
                            && i.title == issue.title
                            && i.body.as_deref().unwrap_or_default() == issue.body
                    }))
            };
            let created = self
                .create(
                    &path,
                    body.clone(),
                    "POST /repos/{owner}/{repo}/issues",
                    &what,
                    parse::issue,
                    find,
                )
                .await?;
            verify_issue(&what, &body, &created)?;
            Ok(created)
        })
    }

    fn update_issue(
        &self,
        number: u64,
        patch: IssuePatch,
    ) -> BoxFuture<'_, Result<RemoteIssue, TrackerError>> {
        Box::pin(async move {
            let what = format!("{}#{number}", self.what);
            let mut body = request_body(&what, &patch)?;
            if patch.state.is_none()
                && let Some(b) = body.as_object_mut()
            {
                b.remove("state_reason"); // a reason goes with a state
            }
            let v = self
                .write(
                    Method::PATCH,
                    &self.issue_path(number),
                    &body,
                    "PATCH /repos/{owner}/{repo}/issues/{n}",
                    &what,
                )
                .await
                .map_err(|f| f.error)?;
            let got = parse::issue(&v).map_err(|m| TrackerError::Other {
                what: what.clone(),
                message: m,
            })?;
            verify_issue(&what, &body, &got)?;
            if patch.state.is_some_and(|s| s != got.state)
                || patch.title.as_ref().is_some_and(|t| *t != got.title)
            {
                return Err(TrackerError::Validation {
                    what,
                    message: "GitHub did not apply the title or state".into(),
                });
            }
            Ok(got)
        })
    }

    fn create_milestone(
        &self,
        m: NewMilestone,
    ) -> BoxFuture<'_, Result<RemoteMilestone, TrackerError>> {
        Box::pin(async move {
            let what = format!("new milestone `{}` in {}", m.title, self.what);
            let body = request_body(&what, &m)?;
            let path = format!("{}/milestones", self.repo_path);
            let find = || async {
                let mut pages = self.list_milestones();
                while let Some(page) = pages.next().await {
                    if let Some(found) = page?.items.into_iter().find(|x| x.title == m.title) {
                        return Ok(Some(found));
                    }
                }
                Ok(None)
            };
            self.create(
                &path,
                body,
                "POST /repos/{owner}/{repo}/milestones",
                &what,
                parse::milestone,
                find,
            )
            .await
        })
    }

    fn update_milestone(
        &self,
        number: u64,
        p: MilestonePatch,
    ) -> BoxFuture<'_, Result<RemoteMilestone, TrackerError>> {
        Box::pin(async move {
            let what = format!("milestone {number} of {}", self.what);
            let body = request_body(&what, &p)?;
            let path = format!("{}/milestones/{number}", self.repo_path);
            let v = self
                .write(
                    Method::PATCH,
                    &path,
                    &body,
                    "PATCH /repos/{owner}/{repo}/milestones/{n}",
                    &what,
                )
                .await
                .map_err(|f| f.error)?;
            parse::milestone(&v).map_err(|m| TrackerError::Other { what, message: m })
        })
    }

    fn create_label(&self, l: NewLabel) -> BoxFuture<'_, Result<RemoteLabel, TrackerError>> {
        Box::pin(async move {
            let what = format!("new label `{}` in {}", l.name, self.what);
            let body = request_body(&what, &l)?;
            let path = format!("{}/labels", self.repo_path);
            let find = || async {
                let p = format!("{}/labels/{}", self.repo_path, enc(&l.name));
                match self
                    .get(&p, "GET /repos/{owner}/{repo}/labels/{name}", &what, true)
                    .await
                {
                    Ok(r) => Ok(parse::label(&r.json(&what)?).ok()),
                    Err(TrackerError::NotFound { .. }) => Ok(None),
                    Err(e) => Err(e),
                }
            };
            self.create(
                &path,
                body,
                "POST /repos/{owner}/{repo}/labels",
                &what,
                parse::label,
                find,
            )
            .await
        })
    }

    fn create_comment(
        &self,
        number: u64,
        c: NewComment,
    ) -> BoxFuture<'_, Result<RemoteComment, TrackerError>> {
        Box::pin(async move {
            let what = format!("new comment on {}#{number}", self.what);
            let path = format!("{}/comments", self.issue_path(number));
            let body = request_body(&what, &c)?;
            let began = crate::clock::utc_now();
            let find = || async {
                let ours = self.made_by_us(began).await;
                let p = format!("{}/comments?per_page=100", self.issue_path(number));
                let r = self
                    .get(
                        &p,
                        "GET /repos/{owner}/{repo}/issues/{n}/comments",
                        &what,
                        true,
                    )
                    .await?;
                Ok(r.json(&what)?
                    .as_array()
                    .into_iter()
                    .flatten()
                    .rev()
                    .filter_map(|v| parse::comment(v).ok())
                    .find(|x| ours(&x.author, x.created_at) && x.body == c.body))
            };
            self.create(
                &path,
                body,
                "POST /repos/{owner}/{repo}/issues/{n}/comments",
                &what,
                parse::comment,
                find,
            )
            .await
        })
    }

    fn blocked_by(&self, number: u64) -> BoxFuture<'_, Result<Vec<RemoteIssue>, TrackerError>> {
        Box::pin(self.related(number, relations::Listing::BlockedBy))
    }

    fn blocking(&self, number: u64) -> BoxFuture<'_, Result<Vec<RemoteIssue>, TrackerError>> {
        Box::pin(self.related(number, relations::Listing::Blocking))
    }

    fn add_blocked_by(
        &self,
        number: u64,
        blocker_id: u64,
    ) -> BoxFuture<'_, Result<(), TrackerError>> {
        Box::pin(self.set_blocked_by(number, blocker_id, true))
    }

    fn remove_blocked_by(
        &self,
        number: u64,
        blocker_id: u64,
    ) -> BoxFuture<'_, Result<(), TrackerError>> {
        Box::pin(self.set_blocked_by(number, blocker_id, false))
    }

    fn sub_issues(&self, number: u64) -> BoxFuture<'_, Result<Vec<RemoteIssue>, TrackerError>> {
        Box::pin(self.related(number, relations::Listing::SubIssues))
    }

    fn add_sub_issue(
        &self,
        parent: u64,
        child_id: u64,
        replace_parent: bool,
    ) -> BoxFuture<'_, Result<(), TrackerError>> {
        Box::pin(self.set_sub_issue(parent, child_id, Some(replace_parent)))
    }

    fn remove_sub_issue(
        &self,
        parent: u64,
        child_id: u64,
    ) -> BoxFuture<'_, Result<(), TrackerError>> {
        Box::pin(self.set_sub_issue(parent, child_id, None))
    }

    fn move_sub_issue(
        &self,
        parent: u64,
        child_id: u64,
        place: SubIssuePlace,
    ) -> BoxFuture<'_, Result<(), TrackerError>> {
        Box::pin(self.place_sub_issue(parent, child_id, place))
    }

    fn metrics(&self) -> TrackerMetrics {
        self.core.metrics()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_urls_keep_every_parameter() {
        let last = "https://api.github.com/repositories/1/issues?state=all&per_page=100&since=2024-01-01T00%3A00%3A00Z&page=40";
        assert_eq!(page_of(last), Some(40));
        let p7 = with_page(last, 7).unwrap();
        assert!(
            p7.contains("page=7")
                && p7.contains("since=2024-01-01T00%3A00%3A00Z")
                && p7.contains("state=all"),
            "{p7}"
        );
    }

    #[tokio::test]
    async fn debug_output_never_shows_the_token() {
        let gh = GitHub::builder("o", "r")
            .token(Some(SecretString::from("ghp_supersecret")))
            .build()
            .unwrap();
        assert!(!format!("{gh:?}").contains("supersecret"));
    }
}
