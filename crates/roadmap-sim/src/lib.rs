#![recursion_limit = "256"]
//! A GitHub REST API simulator: GitHub's shapes, pagination, conditional requests, rate
//! limits, latency and failures, for tests, benchmarks and the demo.
//!
//! It is an independent implementation of what GitHub documents (see `docs/simulator.md`
//! for the rules and their sources); it must not depend on roadmap's own GitHub client.
//!
//! ```
//! # #[tokio::main]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use roadmap_sim::{RepoSpec, SimConfig, Simulator};
//!
//! let sim = Simulator::start(SimConfig::default().repo(RepoSpec::sample("octo", "demo", 250))).await?;
//! let url = format!("{}/repos/octo/demo/issues?per_page=100", sim.url()); // http://127.0.0.1:PORT/…
//! let page = tokio::task::spawn_blocking(move || ureq::get(&url).call()).await??;
//! // Today's github.com: cursor pages, a `next` link and no `last`.
//! let link = page.headers()["link"].to_str()?.to_owned();
//! assert!(link.contains("rel=\"next\"") && !link.contains("rel=\"last\""));
//! assert_eq!(sim.metrics().calls("GET /repos/{owner}/{repo}/issues"), 1);
//! # Ok(()) }
//! ```

mod clock;
mod control;
pub mod data;
mod limits;
pub mod render;
mod routes;
mod server;
mod wire;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::Rng;
use serde::Serialize;

pub use data::{CommentRec, Fate, IssueRec, LabelRec, MilestoneRec, Repo, RepoSpec, World};
pub use limits::Limits;
pub use wire::{PageStyle, Wire};

/// Per-request delay: `base + per_item × items ± jitter`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Latency {
    /// Fixed part of every response.
    pub base: Duration,
    /// Added per item in a listing.
    pub per_item: Duration,
    /// Uniform jitter, up to this much either way.
    pub jitter: Duration,
}

impl Latency {
    /// What GitHub looks like from a good connection: about 100 ms + 3 ms per issue.
    pub fn github() -> Self {
        Latency {
            base: Duration::from_millis(100),
            per_item: Duration::from_millis(3),
            jitter: Duration::from_millis(10),
        }
    }

    /// The delay of a response with `items` items.
    pub fn delay(&self, items: u64, rng: &mut impl Rng) -> Duration {
        let mut d = self.base + self.per_item * items as u32;
        if !self.jitter.is_zero() {
            let j = rng.random_range(0..=self.jitter.as_micros() as u64 * 2);
            d = (d + Duration::from_micros(j)).saturating_sub(self.jitter);
        }
        d
    }
}

/// A way a request can fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub enum FaultKind {
    /// 500 Internal Server Error.
    Status500,
    /// 502 Bad Gateway.
    Status502,
    /// 503 Service Unavailable.
    Status503,
    /// Headers, then the connection drops before any body.
    Reset,
    /// Half the body, then the connection drops.
    Truncate,
    /// No answer for `stall`, then 504.
    Stall,
}

impl FaultKind {
    /// Every kind.
    pub const ALL: &'static [FaultKind] = &[
        FaultKind::Status500,
        FaultKind::Status502,
        FaultKind::Status503,
        FaultKind::Reset,
        FaultKind::Truncate,
        FaultKind::Stall,
    ];

    /// Parses `500`, `502`, `503`, `reset`, `truncate`, `stall`.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "500" => FaultKind::Status500,
            "502" => FaultKind::Status502,
            "503" => FaultKind::Status503,
            "reset" => FaultKind::Reset,
            "truncate" => FaultKind::Truncate,
            "stall" => FaultKind::Stall,
            _ => return None,
        })
    }
}

/// Random faults, seeded and reproducible.
#[derive(Debug, Clone)]
pub struct Faults {
    /// Fraction of requests that fail (0.0-1.0).
    pub rate: f64,
    /// Kinds drawn from, uniformly.
    pub kinds: Vec<FaultKind>,
    /// How long a stall lasts.
    pub stall: Duration,
    /// Seed of the draw.
    pub seed: u64,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            rate: 0.0,
            kinds: Vec::new(),
            stall: Duration::from_secs(30),
            seed: 7,
        }
    }
}

/// One scripted failure: the next request(s) matching `method` and `path_contains` fail.
#[derive(Debug, Clone)]
pub struct ScriptedFault {
    /// HTTP method to match (any if `None`).
    pub method: Option<String>,
    /// Substring of the path and query to match (after any `/api/v3` prefix), e.g. `page=4`.
    pub path_contains: String,
    /// Matching requests to let through first.
    pub skip: u64,
    /// Matching requests to fail.
    pub remaining: u64,
    /// How they fail.
    pub kind: FaultKind,
    /// For writes: apply the write, then fail (an ambiguous failure).
    pub after_commit: bool,
    /// Length of a stall.
    pub stall: Duration,
}

impl ScriptedFault {
    /// Fails the next request whose path contains `path_contains`.
    pub fn next(path_contains: &str, kind: FaultKind) -> Self {
        ScriptedFault {
            method: None,
            path_contains: path_contains.into(),
            skip: 0,
            remaining: 1,
            kind,
            after_commit: false,
            stall: Duration::from_secs(30),
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct PickedFault {
    pub kind: FaultKind,
    pub after_commit: bool,
    pub stall: Duration,
}

/// Everything the simulator is started with.
#[derive(Debug, Clone, Default)]
pub struct SimConfig {
    /// Repositories to generate.
    pub repos: Vec<RepoSpec>,
    /// Port on 127.0.0.1 (0 picks a free one).
    pub port: u16,
    /// Latency model.
    pub latency: Latency,
    /// Rate limits.
    pub limits: Limits,
    /// Random faults.
    pub faults: Faults,
    /// Tokens without push access: labels, assignees and milestone they send are dropped
    /// silently, as GitHub does.
    pub no_push_tokens: Vec<String>,
    /// Tokens GitHub no longer accepts (revoked, expired): every request carrying one is
    /// answered 401 `Bad credentials`.
    pub revoked_tokens: Vec<String>,
    /// Which GitHub to play: github.com today (default), page numbers, Enterprise Server.
    pub wire: Wire,
    /// A slow write: an issue or comment created through the API shows in listings only
    /// this long after its create was answered (default zero).
    pub listing_lag: Duration,
}

impl SimConfig {
    /// Sets the wire behaviour (paging styles, 304 links, strictness, rate limiting).
    pub fn wire(mut self, w: Wire) -> Self {
        self.wire = w;
        self
    }
    /// Adds a repository.
    pub fn repo(mut self, spec: RepoSpec) -> Self {
        self.repos.push(spec);
        self
    }
    /// Sets the latency model.
    pub fn latency(mut self, l: Latency) -> Self {
        self.latency = l;
        self
    }
    /// Sets the limits.
    pub fn limits(mut self, l: Limits) -> Self {
        self.limits = l;
        self
    }
    /// Sets random faults.
    pub fn faults(mut self, f: Faults) -> Self {
        self.faults = f;
        self
    }
}

/// Request accounting for one route (`GET /repos/{owner}/{repo}/issues`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RouteMetrics {
    /// Requests answered.
    pub calls: u64,
    /// Of which 304.
    pub not_modified: u64,
    /// Body bytes sent.
    pub bytes: u64,
}

/// What the simulator has served.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SimMetrics {
    /// Every answered request.
    pub requests: u64,
    /// 304 answers.
    pub not_modified: u64,
    /// Body bytes.
    pub bytes: u64,
    /// Requests refused by a rate limit.
    pub rate_limited: u64,
    /// Faults injected.
    pub faults: u64,
    /// Highest number of requests in flight at once.
    pub peak_concurrency: u64,
    /// By `METHOD /route/{template}`.
    pub routes: BTreeMap<String, RouteMetrics>,
}

impl SimMetrics {
    /// Calls to one route, e.g. `GET /repos/{owner}/{repo}/issues`.
    pub fn calls(&self, route: &str) -> u64 {
        self.routes.get(route).map_or(0, |r| r.calls)
    }
}

/// A write request as the simulator received it, for tests that check what a client sent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WriteRecord {
    /// `POST`, `PATCH`, `PUT`, `DELETE`.
    pub method: String,
    /// Path and query, after any `/api/v3` prefix.
    pub path: String,
    /// The JSON body (`null` when there was none or it did not parse).
    pub body: serde_json::Value,
}

/// Writes kept in the log (oldest dropped first).
const WRITE_LOG: usize = 10_000;

#[derive(Debug)]
pub(crate) struct Shared {
    /// Ids of issues and comments created through the API, hidden from listings until then.
    pub lagging: Mutex<std::collections::HashMap<u64, clock::Instant>>,
    pub writes: Mutex<std::collections::VecDeque<WriteRecord>>,
    pub world: Mutex<World>,
    pub config: Mutex<SimConfig>,
    pub limit_state: Mutex<limits::LimitState>,
    pub metrics: Mutex<SimMetrics>,
    pub inflight: AtomicU64,
    pub peak: AtomicU64,
    pub rng: Mutex<rand::rngs::StdRng>,
    pub fault_rng: Mutex<rand::rngs::StdRng>,
    pub scripted: Mutex<Vec<ScriptedFault>>,
    pub no_push_tokens: Vec<String>,
    pub revoked_tokens: Vec<String>,
}

/// A running simulator; dropping it stops the server.
#[derive(Debug)]
pub struct Simulator {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for Simulator {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

impl Simulator {
    /// Generates the repositories and starts serving on 127.0.0.1.
    pub async fn start(config: SimConfig) -> std::io::Result<Simulator> {
        let mut world = World::default();
        world.without_relations = !config.wire.relations;
        world.parent_urls = config.wire.relations && config.wire.parent_urls;
        for spec in &config.repos {
            world.add_repo(spec);
        }
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", config.port)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            lagging: Mutex::new(std::collections::HashMap::new()),
            writes: Mutex::new(std::collections::VecDeque::new()),
            world: Mutex::new(world),
            limit_state: Mutex::new(limits::LimitState::default()),
            metrics: Mutex::new(SimMetrics::default()),
            inflight: AtomicU64::new(0),
            peak: AtomicU64::new(0),
            rng: Mutex::new(server::rng(config.faults.seed ^ 0xA5A5)),
            fault_rng: Mutex::new(server::rng(config.faults.seed)),
            scripted: Mutex::new(Vec::new()),
            no_push_tokens: config.no_push_tokens.clone(),
            revoked_tokens: config.revoked_tokens.clone(),
            config: Mutex::new(config),
        });
        let app = axum::Router::new()
            .fallback(server::handle)
            .with_state(shared.clone());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(Simulator {
            addr,
            shared,
            shutdown: Some(tx),
            task: Some(task),
        })
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A snapshot of the request accounting.
    pub fn metrics(&self) -> SimMetrics {
        let mut m = self
            .shared
            .metrics
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        m.peak_concurrency = self.shared.peak.load(Ordering::SeqCst);
        m
    }

    /// The write requests received since the last [`Simulator::reset_metrics`] (at most the
    /// last 10,000), oldest first.
    pub fn writes(&self) -> Vec<WriteRecord> {
        self.shared
            .writes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .cloned()
            .collect()
    }

    /// Zeroes the request accounting (not the rate limits).
    pub fn reset_metrics(&self) {
        self.shared
            .writes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        *self
            .shared
            .metrics
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = SimMetrics::default();
        self.shared.peak.store(0, Ordering::SeqCst);
    }

    /// Forgets every rate-limit counter.
    pub fn reset_limits(&self) {
        *self
            .shared
            .limit_state
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = limits::LimitState::default();
    }

    /// Changes the latency model.
    pub fn set_latency(&self, l: Latency) {
        self.shared
            .config
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .latency = l;
    }

    /// Changes the limits.
    pub fn set_limits(&self, l: Limits) {
        self.shared
            .config
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .limits = l;
    }

    /// Changes the wire behaviour.
    pub fn set_wire(&self, w: Wire) {
        self.shared
            .config
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .wire = w;
    }

    /// Sets the listing lag of created items (a slow write).
    pub fn set_listing_lag(&self, lag: Duration) {
        self.shared
            .config
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .listing_lag = lag;
    }

    /// Ends the listing lag now: every item created under [`set_listing_lag`](Self::set_listing_lag)
    /// is listed from the next request on, as if the lag had passed (a test need not sleep it out).
    pub fn end_listing_lag(&self) {
        self.shared
            .lagging
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// Locks or unlocks an issue's conversation; returns false if there is no such issue.
    pub fn lock_issue(&self, owner: &str, repo: &str, number: u64, locked: bool) -> bool {
        self.with_repo(owner, repo, |w, id| {
            match w.repos.get_mut(&id).and_then(|r| r.issues.get_mut(&number)) {
                Some(i) => {
                    i.locked = locked;
                    true
                }
                None => false,
            }
        })
        .unwrap_or(false)
    }

    /// Changes the random faults (and reseeds them).
    pub fn set_faults(&self, f: Faults) {
        *self
            .shared
            .fault_rng
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = server::rng(f.seed);
        self.shared
            .config
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .faults = f;
    }

    /// Adds a scripted failure.
    pub fn script_fault(&self, f: ScriptedFault) {
        self.shared
            .scripted
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(f);
    }

    /// Runs `f` on the world, as another user of GitHub would change it.
    pub fn with_world<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        f(&mut self.shared.world.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn with_repo<R>(
        &self,
        owner: &str,
        repo: &str,
        f: impl FnOnce(&mut World, u64) -> R,
    ) -> Option<R> {
        self.with_world(|w| {
            let id = w.repo_id(owner, repo)?;
            Some(f(w, id))
        })
    }

    /// Edits an issue as another user would; `updated_at` moves to now (1-second resolution).
    /// Returns false if there is no such issue.
    pub fn edit_issue(
        &self,
        owner: &str,
        repo: &str,
        number: u64,
        f: impl FnOnce(&mut IssueRec),
    ) -> bool {
        self.with_repo(owner, repo, |w, id| {
            let Some(i) = w.repos.get_mut(&id).and_then(|r| r.issues.get_mut(&number)) else {
                return false;
            };
            f(i);
            i.updated_at = server::now().max(i.updated_at);
            true
        })
        .unwrap_or(false)
    }

    /// Creates an issue as another user would; returns its number.
    pub fn create_issue(&self, owner: &str, repo: &str, title: &str) -> Option<u64> {
        self.with_repo(owner, repo, |w, id| {
            let db = w.next_id();
            let r = w.repos.get_mut(&id).expect("repo");
            let n = r.next_number;
            r.next_number += 1;
            let now = server::now();
            r.issues.insert(
                n,
                IssueRec {
                    id: db,
                    number: n,
                    title: title.into(),
                    body: Some(String::new()),
                    state: "open".into(),
                    state_reason: None,
                    labels: Vec::new(),
                    assignees: Vec::new(),
                    milestone: None,
                    user: "mallory".into(),
                    is_pr: false,
                    created_at: now,
                    updated_at: now,
                    closed_at: None,
                    locked: false,
                },
            );
            n
        })
    }

    /// Adds a comment as another user would (bumps the issue's `updated_at`).
    pub fn add_comment(&self, owner: &str, repo: &str, number: u64, body: &str) -> Option<u64> {
        self.with_repo(owner, repo, |w, id| {
            let cid = w.next_id();
            let r = w.repos.get_mut(&id).expect("repo");
            let now = server::now();
            let i = r.issues.get_mut(&number)?;
            i.updated_at = now.max(i.updated_at);
            r.comments.insert(
                cid,
                CommentRec {
                    id: cid,
                    issue: number,
                    user: "mallory".into(),
                    body: body.into(),
                    created_at: now,
                    updated_at: now,
                },
            );
            Some(cid)
        })
        .flatten()
    }

    /// Deletes an issue: it vanishes from listings and answers 410.
    pub fn delete_issue(&self, owner: &str, repo: &str, number: u64) -> bool {
        self.with_repo(owner, repo, |w, id| {
            let r = w.repos.get_mut(&id).expect("repo");
            r.comments.retain(|_, c| c.issue != number);
            r.issues.remove(&number).is_some() && r.fates.insert(number, Fate::Deleted).is_none()
        })
        .unwrap_or(false)
    }

    /// Transfers an issue to another repository (which must exist); returns its new number.
    pub fn transfer_issue(
        &self,
        owner: &str,
        repo: &str,
        number: u64,
        to_owner: &str,
        to_repo: &str,
    ) -> Option<u64> {
        self.with_world(|w| {
            let from = w.repo_id(owner, repo)?;
            let to = w.repo_id(to_owner, to_repo)?;
            let mut issue = w.repos.get_mut(&from)?.issues.remove(&number)?;
            let target = w.repos.get_mut(&to)?;
            let n = target.next_number;
            target.next_number += 1;
            issue.number = n;
            issue.milestone = None;
            issue.updated_at = server::now();
            target.issues.insert(n, issue);
            let full_name = format!("{to_owner}/{to_repo}");
            w.repos.get_mut(&from)?.fates.insert(
                number,
                Fate::Transferred {
                    repo_id: to,
                    full_name,
                    number: n,
                },
            );
            Some(n)
        })
    }

    /// Renames a milestone (does not bump its issues, as on GitHub).
    pub fn rename_milestone(&self, owner: &str, repo: &str, number: u64, title: &str) -> bool {
        self.with_repo(owner, repo, |w, id| {
            let Some(m) = w
                .repos
                .get_mut(&id)
                .and_then(|r| r.milestones.get_mut(&number))
            else {
                return false;
            };
            m.title = title.into();
            m.updated_at = server::now();
            true
        })
        .unwrap_or(false)
    }

    /// Stops serving and waits for the server task.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}
