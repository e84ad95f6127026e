//! The request machinery: pacing (governor), conditional requests (cache), retries with
//! backoff and jitter, rate-limit waits, error classification and metrics.

use std::num::NonZeroU32;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use bytes::Bytes;
use governor::Quota;
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use http_body_util::BodyExt;
use nom_language::error::VerboseError;
use octocrab::Octocrab;
use rand::Rng;
use roadmap_cache::Cache;
use roadmap_model::{EndpointMetrics, Timestamp, TrackerError, TrackerMetrics};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// How failures of idempotent requests are retried.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (default 5).
    pub max_retries: u32,
    /// First backoff (default 250 ms); doubles each time, with full jitter.
    pub base: Duration,
    /// Longest backoff (default 16 s).
    pub max: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 5,
            base: Duration::from_millis(250),
            max: Duration::from_secs(16),
        }
    }
}

/// Everything the client is configured with (see `GitHubBuilder` for defaults).
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub workers: usize,
    pub request_timeout: Duration,
    pub retry: RetryPolicy,
    pub write_spacing: Duration,
    pub max_rate_wait: Duration,
    pub secondary_backoff: Duration,
    pub low_water: f64,
    pub content_per_minute: u32,
    /// GitHub's secondary limit on REST points per minute (GET 1, writes 5).
    pub points_per_minute: u32,
    pub max_body_bytes: usize,
    pub max_pages: u32,
}

/// A response that made it through.
#[derive(Debug)]
pub(crate) struct Resp {
    pub status: StatusCode,
    pub body: Bytes,
    pub headers: HeaderMap,
    pub not_modified: bool,
}

impl Resp {
    pub fn json(&self, what: &str) -> Result<Value, TrackerError> {
        serde_json::from_slice(&self.body).map_err(|e| TrackerError::Transient {
            what: what.into(),
            message: format!("invalid JSON: {e}"),
        })
    }
    /// The server's clock (`Date`).
    pub fn date(&self) -> Option<roadmap_model::Timestamp> {
        let d = self.headers.get(http::header::DATE)?.to_str().ok()?;
        let d = chrono::DateTime::parse_from_rfc2822(d).ok()?;
        Some(roadmap_model::Timestamp(d.to_utc()))
    }

    /// The targets of the `Link` header by relation (`next`, `last`, …), parsed by RFC 8288's
    /// grammar: a target may hold commas, and one `rel` may name several relations
    /// (`rel="next last"`). No header is no links; a header that does not parse is an error
    /// (a listing must never end early on a link it could not read).
    pub fn links(&self) -> Result<Links, String> {
        match self.headers.get(http::header::LINK) {
            None => Ok(Links::default()),
            Some(v) => {
                let text = v
                    .to_str()
                    .map_err(|_| "a Link header that is not text".to_owned())?;
                Links::parse(text)
            }
        }
    }
}

/// The links of one `Link` header, by relation type.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Links(Vec<(String, String)>);

impl Links {
    pub(crate) fn parse(text: &str) -> Result<Links, String> {
        let parsed = nom_rfc8288::complete::link_lenient::<VerboseError<&str>>(text)
            .map_err(|e| format!("a Link header that does not parse ({e}): {text:?}"))?;
        let mut out = Vec::new();
        for link in parsed.into_iter().flatten() {
            let rels = link
                .params
                .iter()
                .filter(|p| p.key.eq_ignore_ascii_case("rel"))
                .filter_map(|p| p.val.as_deref());
            for rel in rels.flat_map(str::split_ascii_whitespace) {
                out.push((rel.to_ascii_lowercase(), link.url.to_owned()));
            }
        }
        Ok(Links(out))
    }

    /// The target of the first link with relation `rel`.
    pub(crate) fn get(&self, rel: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(r, _)| r == rel)
            .map(|(_, u)| u.clone())
    }
}

/// A failed request: the classified error, and whether the server may have acted on it.
#[derive(Debug)]
pub(crate) struct Failure {
    pub error: TrackerError,
    pub ambiguous: bool,
}

#[derive(Debug, Clone, Copy, Default)]
struct Budget {
    remaining: Option<u64>,
    limit: Option<u64>,
    reset: Option<u64>,
}

pub(crate) struct Core {
    pub octo: Octocrab,
    pub base: url::Url,
    pub authenticated: bool,
    /// `Authorization`, marked sensitive (never logged by the HTTP stack).
    auth: Option<HeaderValue>,
    user_agent: HeaderValue,
    token_key: String,
    pub settings: Settings,
    cache: Option<Arc<Cache>>,
    pub(crate) gets: crate::aimd::Aimd,
    /// Keeps every request under `points_per_minute` in any 60-second span.
    points: crate::points::Pacer,
    writes: tokio::sync::Mutex<Option<Instant>>,
    creation: crate::clock::Limiter,
    pacer: Mutex<Option<(u64, Arc<crate::clock::Limiter>)>>,
    budget: Mutex<Budget>,
    metrics: Mutex<TrackerMetrics>,
    /// The token's user, once asked (`GET /user`); `None` inside when there is none.
    pub viewer: tokio::sync::OnceCell<Option<String>>,
    /// Whether the host has answered once: a host that never did is unreachable (fail at
    /// once); one that did and then drops a connection had a blip (retry).
    reached: std::sync::atomic::AtomicBool,
}

/// Points a write costs against the secondary per-minute limit (GitHub's documentation).
const WRITE_POINTS: u32 = 5;

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the token.
        f.debug_struct("Core")
            .field("base", &self.base.as_str())
            .field("authenticated", &self.authenticated)
            .finish_non_exhaustive()
    }
}

fn header_u64(h: &HeaderMap, k: &str) -> Option<u64> {
    h.get(k)?.to_str().ok()?.trim().parse().ok()
}

impl Core {
    pub fn new(
        octo: Octocrab,
        base: url::Url,
        token: Option<&SecretString>,
        user_agent: HeaderValue,
        settings: Settings,
        cache: Option<Arc<Cache>>,
    ) -> Self {
        let auth = token.and_then(|t| {
            let mut v = HeaderValue::from_str(&format!("Bearer {}", t.expose_secret())).ok()?;
            v.set_sensitive(true);
            Some(v)
        });
        // The cache key names the token only by a fingerprint: ETags are per token.
        let token_key = token.map_or_else(
            || "anonymous".to_owned(),
            |t| hex::encode(&Sha256::digest(t.expose_secret().as_bytes())[..8]),
        );
        let per_minute =
            NonZeroU32::new(settings.content_per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        Core {
            octo,
            base,
            authenticated: token.is_some(),
            auth,
            user_agent,
            token_key,
            gets: crate::aimd::Aimd::new(settings.workers),
            points: crate::points::Pacer::new(settings.points_per_minute),
            writes: tokio::sync::Mutex::new(None),
            creation: crate::clock::limiter(Quota::per_minute(per_minute)),
            pacer: Mutex::new(None),
            budget: Mutex::new(Budget::default()),
            metrics: Mutex::new(TrackerMetrics::default()),
            viewer: tokio::sync::OnceCell::new(),
            reached: std::sync::atomic::AtomicBool::new(false),
            settings,
            cache,
        }
    }

    pub fn metrics(&self) -> TrackerMetrics {
        let mut m = self
            .metrics
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let b = *self.budget.lock().unwrap_or_else(|e| e.into_inner());
        m.rate_remaining = b.remaining;
        m.rate_limit = b.limit;
        m.rate_reset = b.reset.and_then(|r| Timestamp::from_unix(r as i64));
        let (limit, peak) = self.gets.stats();
        m.concurrency = limit as u64;
        m.peak_concurrency = peak as u64;
        m
    }

    fn account(&self, endpoint: &str, f: impl FnOnce(&mut EndpointMetrics)) {
        let mut m = self.metrics.lock().unwrap_or_else(|e| e.into_inner());
        f(m.endpoints.entry(endpoint.to_owned()).or_default());
    }

    fn account_wait(&self, d: Duration) {
        if d.is_zero() {
            return;
        }
        let mut m = self.metrics.lock().unwrap_or_else(|e| e.into_inner());
        m.waits += 1;
        m.wait_time += d;
    }

    async fn wait(&self, d: Duration) {
        self.account_wait(d);
        tokio::time::sleep(d).await;
    }

    /// The pause before a retry: a failure's, not a limit's, so not counted as a wait.
    async fn back_off(&self, d: Duration) {
        self.metrics
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retry_time += d;
        tokio::time::sleep(d).await;
    }

    /// `host[:port]` of the API, as a person would type it.
    fn host(&self) -> String {
        let host = self.base.host_str().unwrap_or("the API host");
        match self.base.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_owned(),
        }
    }

    /// The path and query octocrab should request for an absolute URL on our host; links on
    /// another host are refused (the token must never leave for it).
    pub fn relative(&self, url: &str) -> Result<String, TrackerError> {
        let parsed = url::Url::parse(url).map_err(|e| TrackerError::Other {
            what: url.into(),
            message: format!("bad URL: {e}"),
        })?;
        if parsed.scheme() != self.base.scheme()
            || parsed.host_str() != self.base.host_str()
            || parsed.port_or_known_default() != self.base.port_or_known_default()
        {
            return Err(TrackerError::Other {
                what: url.into(),
                message: "a link points at another host; refusing to follow it".into(),
            });
        }
        Ok(match parsed.query() {
            Some(q) => format!("{}?{q}", parsed.path()),
            None => parsed.path().to_owned(),
        })
    }

    fn record_budget(&self, h: &HeaderMap) {
        // The search API and GraphQL have budgets of their own.
        if h.get("x-ratelimit-resource")
            .is_some_and(|r| r.as_bytes() != b"core")
        {
            return;
        }
        let mut b = self.budget.lock().unwrap_or_else(|e| e.into_inner());
        let (Some(remaining), Some(reset)) = (
            header_u64(h, "x-ratelimit-remaining"),
            header_u64(h, "x-ratelimit-reset"),
        ) else {
            return;
        };
        // Parallel answers arrive out of order: within one window the lowest count is the truth.
        b.remaining = Some(match (b.reset, b.remaining) {
            (Some(r), Some(prev)) if r == reset => prev.min(remaining),
            _ => remaining,
        });
        b.reset = Some(reset);
        if let Some(l) = header_u64(h, "x-ratelimit-limit") {
            b.limit = Some(l);
        }
    }

    /// Waits as the budget requires: until reset when exhausted, spread evenly when low.
    async fn pace(&self, what: &str) -> Result<(), TrackerError> {
        let b = *self.budget.lock().unwrap_or_else(|e| e.into_inner());
        let (Some(remaining), Some(limit), Some(reset)) = (b.remaining, b.limit, b.reset) else {
            return Ok(());
        };
        let now = crate::clock::unix_now();
        if remaining == 0 && reset >= now {
            let wait = Duration::from_secs(reset - now + 1);
            if wait > self.settings.max_rate_wait {
                return Err(TrackerError::RateLimited {
                    what: what.into(),
                    retry_at: Timestamp::from_unix(reset as i64)
                        .unwrap_or(Timestamp(crate::clock::utc_now())),
                });
            }
            tracing::info!(
                seconds = wait.as_secs(),
                "primary rate limit exhausted; waiting for reset"
            );
            self.wait(wait).await;
            self.budget
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remaining = None;
            return Ok(());
        }
        let low = (limit as f64 * self.settings.low_water) as u64;
        if remaining >= low || reset <= now {
            *self.pacer.lock().unwrap_or_else(|e| e.into_inner()) = None;
            return Ok(());
        }
        // Spread what is left evenly until the reset: a governor quota fed from the headers.
        let limiter = {
            let mut p = self.pacer.lock().unwrap_or_else(|e| e.into_inner());
            let period = Duration::from_secs(reset - now).max(Duration::from_secs(1))
                / remaining.max(1) as u32;
            match &*p {
                Some((r, l)) if *r == reset => l.clone(),
                _ => {
                    tracing::warn!(
                        remaining,
                        limit,
                        "rate limit low: spreading the {remaining} requests left until the reset, one every {:.1} s",
                        period.as_secs_f64()
                    );
                    let l = Arc::new(crate::clock::limiter(
                        Quota::with_period(period.max(Duration::from_millis(1)))
                            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN)),
                    ));
                    *p = Some((reset, l.clone()));
                    l
                }
            }
        };
        // Wait for this request's slot, but never longer than `max_rate_wait` in all: past
        // that, stop with a time to resume rather than sit silent for an hour.
        let started = Instant::now();
        loop {
            let wait = crate::clock::not_before(&limiter);
            if wait.is_zero() {
                break;
            }
            if started.elapsed() + wait > self.settings.max_rate_wait {
                self.account_wait(started.elapsed());
                return Err(TrackerError::RateLimited {
                    what: what.into(),
                    retry_at: Timestamp::from_unix(reset as i64)
                        .unwrap_or(Timestamp(crate::clock::utc_now())),
                });
            }
            tokio::time::sleep(wait).await;
        }
        self.account_wait(started.elapsed());
        Ok(())
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .settings
            .retry
            .base
            .saturating_mul(1 << attempt.min(16))
            .min(self.settings.retry.max);
        // Full jitter.
        let ms = rand::rng().random_range(0..=exp.as_millis() as u64);
        Duration::from_millis(ms.max(1))
    }

    /// Sends one request with pacing, retries and classification. `idempotent` requests are
    /// retried on transient failures; others fail as `ambiguous` when the server may have
    /// acted. GETs go through the conditional cache unless `fresh`.
    ///
    /// Each attempt is: pace (the budget) → [`dispatch`](Self::dispatch) (a slot, write
    /// spacing, points) → classify the outcome into a [`Step`] (answer, retry after a backoff,
    /// wait out a rate limit, or fail).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        endpoint: &str,
        what: &str,
        fresh: bool,
    ) -> Result<Resp, Failure> {
        let req = Request {
            idempotent: method == Method::GET || method == Method::PATCH,
            method,
            path,
            body,
            endpoint,
            what,
        };
        let cache_key = format!("{} {}", self.token_key, path);
        let cached = if req.method == Method::GET && !fresh {
            self.cache.as_ref().and_then(|c| c.get(&cache_key))
        } else {
            None
        };
        let cached = cached.and_then(|v| Cached::decode(&v));
        let (mut attempt, mut rate_waits) = (0u32, 0u32);
        loop {
            self.pace(what).await.map_err(Failure::definite)?;
            let outcome = self.dispatch(&req, request_headers(cached.as_ref())).await;
            self.account(endpoint, |m| {
                m.calls += 1;
                if attempt > 0 {
                    m.retries += 1;
                }
            });
            let step = match outcome {
                Err(e) => self.after_failure(&req, e, attempt),
                Ok(resp) => {
                    self.after_answer(&req, resp, cached.as_ref(), &cache_key, attempt, rate_waits)
                }
            };
            match step {
                Step::Answer(resp) => return Ok(resp),
                Step::Retry(backoff) => {
                    attempt += 1;
                    self.back_off(backoff).await;
                }
                Step::RateWait(wait) => {
                    // A refused request did nothing: safe to send again, even a create.
                    rate_waits += 1;
                    self.wait(wait).await;
                }
                Step::Fail(failure) => return Err(failure),
            }
        }
    }

    /// Sends one attempt once it may go: a GET takes one of the worker slots; a write waits
    /// its spacing after the last write (writes never overlap: the lock is held until the
    /// answer is in) and, for a create, the content-creation limiter. Points are spent last,
    /// once the request holds its slot, so the points log's time is when GitHub sees it.
    async fn dispatch(&self, req: &Request<'_>, headers: HeaderMap) -> Result<Resp, ExchangeError> {
        let cost = if req.method == Method::GET {
            1
        } else {
            WRITE_POINTS
        };
        let spend = || async {
            let waited = self.points.spend(cost).await;
            if waited > Duration::from_millis(1) {
                self.account_wait(waited);
            }
        };
        if req.method == Method::GET {
            let _slot = self.gets.acquire().await;
            spend().await;
            return self
                .exchange(&req.method, req.path, req.body, headers)
                .await;
        }
        let mut last = self.writes.lock().await;
        if let Some(at) = *last {
            let due = at + self.settings.write_spacing;
            let now = Instant::now();
            if due > now {
                self.wait(due - now).await;
            }
        }
        if req.method == Method::POST {
            let started = Instant::now();
            loop {
                let wait = crate::clock::not_before(&self.creation);
                if wait.is_zero() {
                    break;
                }
                tokio::time::sleep(wait).await;
            }
            self.account_wait(started.elapsed());
        }
        spend().await;
        // Spacing runs from the start of one write to the start of the next.
        *last = Some(Instant::now());
        self.exchange(&req.method, req.path, req.body, headers)
            .await
    }

    /// No answer came (a transport failure).
    fn after_failure(&self, req: &Request<'_>, e: ExchangeError, attempt: u32) -> Step {
        // A host that never answered and cannot be connected to (refused, no such host, a
        // failed TLS handshake) will not answer on a retry: say so at once.
        if e.connect && !self.reached.load(Ordering::Relaxed) {
            return Step::Fail(Failure::definite(TrackerError::Unreachable {
                host: self.host(),
                message: e.message,
            }));
        }
        if e.retry {
            // A failed connection sent nothing: it is retried whatever the method.
            return self.retry_or_fail(req, e.message, attempt, e.connect);
        }
        Step::Fail(Failure {
            error: TrackerError::Other {
                what: req.what.into(),
                message: e.message,
            },
            ambiguous: !req.idempotent,
        })
    }

    /// A transient failure: retried with backoff when idempotent (or never sent); for a
    /// create the outcome is ambiguous (the server may have acted) and the caller reconciles.
    fn retry_or_fail(
        &self,
        req: &Request<'_>,
        message: String,
        attempt: u32,
        unsent: bool,
    ) -> Step {
        tracing::debug!(endpoint = %req.endpoint, attempt, %message, "transient failure; retrying");
        if (req.idempotent || unsent) && attempt < self.settings.retry.max_retries {
            return Step::Retry(self.backoff(attempt));
        }
        Step::Fail(Failure {
            error: TrackerError::Transient {
                what: req.what.into(),
                message,
            },
            ambiguous: !req.idempotent && !unsent,
        })
    }

    /// An answer came: a 5xx is transient; a 304 is served from the cache; a 2xx is kept in
    /// the cache (GETs); a rate limit is waited out or reported; anything else is classified.
    fn after_answer(
        &self,
        req: &Request<'_>,
        resp: Resp,
        cached: Option<&Cached>,
        cache_key: &str,
        attempt: u32,
        rate_waits: u32,
    ) -> Step {
        self.reached.store(true, Ordering::Relaxed);
        self.record_budget(&resp.headers);
        let status = resp.status;
        if status.is_server_error() {
            let message = format!("{status}: {}", error_message(&resp.body));
            return self.retry_or_fail(req, message, attempt, false);
        }
        self.account(req.endpoint, |m| m.bytes += resp.body.len() as u64);
        tracing::debug!(endpoint = %req.endpoint, status = status.as_u16(), bytes = resp.body.len(), "response");
        if status == StatusCode::NOT_MODIFIED {
            return match cached {
                Some(c) => {
                    self.account(req.endpoint, |m| m.not_modified += 1);
                    Step::Answer(c.answer(resp.headers))
                }
                None => Step::Fail(Failure::definite(TrackerError::Other {
                    what: req.what.into(),
                    message: "304 without a cached body".into(),
                })),
            };
        }
        if status.is_success() {
            self.gets.success();
            if req.method == Method::GET {
                self.keep(cache_key, &resp);
            }
            return Step::Answer(resp);
        }
        if status == StatusCode::FORBIDDEN || status == StatusCode::TOO_MANY_REQUESTS {
            return self
                .rate_limited(req, &resp, rate_waits)
                .unwrap_or_else(|| {
                    Step::Fail(Failure::definite(TrackerError::Forbidden {
                        what: req.what.into(),
                        message: error_message(&resp.body),
                    }))
                });
        }
        Step::Fail(Failure::definite(refusal(req.what, &resp)))
    }

    /// Keeps a GET's answer with its ETag (and `Link`, which a 304 need not repeat).
    fn keep(&self, cache_key: &str, resp: &Resp) {
        let header = |h| resp.headers.get(h).and_then(|v| v.to_str().ok());
        if let (Some(c), Some(etag)) = (&self.cache, header(http::header::ETAG)) {
            c.put(
                cache_key,
                Cached::encode(etag, header(http::header::LINK), &resp.body),
            );
        }
    }

    /// A 403 or 429 that is a rate limit: wait it out, or stop with the time to come back
    /// when that is further than `max_rate_wait`. `None` for a 403 that is a permission
    /// error ("Resource not accessible by integration").
    fn rate_limited(&self, req: &Request<'_>, resp: &Resp, rate_waits: u32) -> Option<Step> {
        let retry_after = header_u64(&resp.headers, "retry-after");
        let remaining = header_u64(&resp.headers, "x-ratelimit-remaining");
        let reset = header_u64(&resp.headers, "x-ratelimit-reset");
        let lower = error_message(&resp.body).to_lowercase();
        // Secondary limits say "secondary rate limit", or in the older wording "abuse
        // detection mechanism"; a 403 with neither and budget left is a permission error.
        let is_rate = resp.status == StatusCode::TOO_MANY_REQUESTS
            || retry_after.is_some()
            || remaining == Some(0)
            || lower.contains("rate limit")
            || lower.contains("abuse detection");
        if !is_rate {
            return None;
        }
        if remaining != Some(0) {
            // A secondary limit: fewer at once from now on.
            self.gets.backoff();
        }
        let wait = if let Some(s) = retry_after {
            Duration::from_secs(s)
        } else if remaining == Some(0) {
            Duration::from_secs(reset.unwrap_or(0).saturating_sub(crate::clock::unix_now()) + 1)
        } else {
            self.settings
                .secondary_backoff
                .saturating_mul(1 << rate_waits.min(6))
        };
        if wait > self.settings.max_rate_wait || rate_waits >= 8 {
            let retry_at = Timestamp::from_unix((crate::clock::unix_now() + wait.as_secs()) as i64)
                .unwrap_or(Timestamp(crate::clock::utc_now()));
            return Some(Step::Fail(Failure::definite(TrackerError::RateLimited {
                what: req.what.into(),
                retry_at,
            })));
        }
        tracing::info!(seconds = wait.as_secs(), endpoint = %req.endpoint, "rate limited; waiting");
        Some(Step::RateWait(wait))
    }

    /// One HTTP exchange, body included, bounded by the request timeout and the body cap.
    /// Each header is set once: ours replace whatever the request builder added.
    async fn exchange(
        &self,
        method: &Method,
        path: &str,
        body: Option<&Value>,
        mut headers: HeaderMap,
    ) -> Result<Resp, ExchangeError> {
        let transient = |message: String| ExchangeError {
            message,
            retry: true,
            connect: false,
        };
        let max = self.settings.max_body_bytes;
        let fut = async {
            let builder = http::Request::builder().method(method.clone()).uri(path);
            let mut req = self
                .octo
                .build_request(builder, body)
                .map_err(|e| transient(format!("building request: {e}")))?;
            headers.insert(http::header::USER_AGENT, self.user_agent.clone());
            if let Some(a) = &self.auth {
                headers.insert(http::header::AUTHORIZATION, a.clone());
            }
            for (k, v) in headers {
                if let Some(k) = k {
                    req.headers_mut().insert(k, v);
                }
            }
            let resp = self
                .octo
                .execute(req)
                .await
                .map_err(|e| transport_failure(&e))?;
            let (parts, body) = resp.into_parts();
            let declared = parts
                .headers
                .get(http::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<usize>().ok());
            let too_large = || ExchangeError {
                message: format!(
                    "the response body is larger than {} MiB; refusing it (max_body_bytes)",
                    max / (1024 * 1024)
                ),
                retry: false,
                connect: false,
            };
            if declared.is_some_and(|len| len > max) {
                return Err(too_large());
            }
            let bytes = match http_body_util::Limited::new(body, max).collect().await {
                Ok(b) => b.to_bytes(),
                Err(e) if e.is::<http_body_util::LengthLimitError>() => return Err(too_large()),
                Err(e) => return Err(transient(format!("reading body: {}", first_line(&*e)))),
            };
            if let Some(len) = declared
                && len != bytes.len()
            {
                return Err(transient(format!(
                    "truncated body: {} of {len} bytes",
                    bytes.len()
                )));
            }
            Ok(Resp {
                status: parts.status,
                body: bytes,
                headers: parts.headers,
                not_modified: false,
            })
        };
        match tokio::time::timeout(self.settings.request_timeout, fut).await {
            Ok(r) => r,
            Err(_) => Err(transient(format!(
                "timed out after {:?}",
                self.settings.request_timeout
            ))),
        }
    }
}

/// Classifies a failure of the HTTP stack. A failed connection (refused, no such host, a
/// failed TLS handshake, a connect timeout) sent nothing and gets a short reason a person can
/// act on; anything else (a connection lost mid-exchange) keeps the causes' first lines.
fn transport_failure(e: &octocrab::Error) -> ExchangeError {
    let chain = || std::iter::successors(Some(e as &dyn std::error::Error), |x| x.source());
    let connect = chain().any(|x| {
        x.downcast_ref::<hyper_util::client::legacy::Error>()
            .is_some_and(hyper_util::client::legacy::Error::is_connect)
    });
    // octocrab's Display can carry backtraces; keep the first line of each cause.
    let text = first_line(e);
    if !connect {
        return ExchangeError {
            message: text,
            retry: true,
            connect: false,
        };
    }
    // An `io::Error`'s `source()` skips the error it wraps: TLS failures are io errors
    // wrapping io errors wrapping rustls's, so each wrapper is opened with `get_ref`.
    let tls = chain().find_map(|x| {
        let mut at: &(dyn std::error::Error + 'static) = x;
        loop {
            if let Some(t) = at.downcast_ref::<rustls::Error>() {
                return Some(t.clone());
            }
            at = at.downcast_ref::<std::io::Error>()?.get_ref()?;
        }
    });
    let io = chain().find_map(|x| x.downcast_ref::<std::io::Error>().map(std::io::Error::kind));
    let message = if let Some(t) = tls {
        format!("the TLS handshake failed ({t})")
    } else if text.contains("dns error") {
        let why = text.rsplit(": ").next().unwrap_or("unknown");
        format!("no such host ({why})")
    } else {
        match io {
            Some(std::io::ErrorKind::ConnectionRefused) => "connection refused".to_owned(),
            Some(std::io::ErrorKind::TimedOut) => "the connection timed out".to_owned(),
            _ => text
                .rsplit_once("client error (Connect): ")
                .map_or(text.as_str(), |(_, r)| r)
                .to_owned(),
        }
    };
    ExchangeError {
        message,
        retry: true,
        connect: true,
    }
}

/// A transport failure: retried when `retry` (connection lost, timeout, truncated body);
/// `connect`: no connection was made, so nothing was sent.
#[derive(Debug)]
pub(crate) struct ExchangeError {
    message: String,
    retry: bool,
    connect: bool,
}

fn first_line(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string().lines().next().unwrap_or_default().to_owned();
    let mut src = e.source();
    while let Some(x) = src {
        out.push_str(": ");
        out.push_str(x.to_string().lines().next().unwrap_or_default());
        src = x.source();
    }
    out
}

/// A conditional-cache entry: the ETag, and with the body everything a listing needs to
/// continue after a 304 (its `Link`).
/// One request as [`Core::send`] was asked for it.
struct Request<'a> {
    method: Method,
    path: &'a str,
    body: Option<&'a Value>,
    endpoint: &'a str,
    what: &'a str,
    /// GET and PATCH: sending it twice does what sending it once does.
    idempotent: bool,
}

/// What one attempt's outcome means for the request.
enum Step {
    /// The answer: a 2xx, or a 304 served from the cache.
    Answer(Resp),
    /// A transient failure, worth another attempt after this backoff.
    Retry(Duration),
    /// A rate limit to wait out, then send again.
    RateWait(Duration),
    /// The request failed for good.
    Fail(Failure),
}

impl Failure {
    /// A failure after which nothing happened on the server.
    fn definite(error: TrackerError) -> Self {
        Failure {
            error,
            ambiguous: false,
        }
    }
}

/// GitHub's media type and API version on every request, and the ETag of a cached answer.
fn request_headers(cached: Option<&Cached>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        http::header::ACCEPT,
        HeaderValue::from_static("application/vnd.github+json"),
    );
    headers.insert(
        "x-github-api-version",
        HeaderValue::from_static("2022-11-28"),
    );
    if let Some(v) = cached.and_then(|c| HeaderValue::from_str(&c.etag).ok()) {
        headers.insert(http::header::IF_NONE_MATCH, v);
    }
    headers
}

/// The error of an answer that is neither a success, a 5xx nor a 403/429.
fn refusal(what: &str, resp: &Resp) -> TrackerError {
    let what = what.to_owned();
    match resp.status {
        StatusCode::UNAUTHORIZED => TrackerError::Unauthorized { what },
        StatusCode::NOT_FOUND => TrackerError::NotFound { what },
        StatusCode::GONE => TrackerError::Gone { what },
        StatusCode::MOVED_PERMANENTLY
        | StatusCode::FOUND
        | StatusCode::TEMPORARY_REDIRECT
        | StatusCode::PERMANENT_REDIRECT => TrackerError::Moved {
            what,
            location: resp
                .headers
                .get(http::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned(),
        },
        StatusCode::UNPROCESSABLE_ENTITY | StatusCode::BAD_REQUEST => TrackerError::Validation {
            what,
            message: validation_message(&resp.body),
        },
        status => TrackerError::Other {
            what,
            message: format!("{status}: {}", error_message(&resp.body)),
        },
    }
}

struct Cached {
    etag: String,
    link: Option<String>,
    body: Bytes,
}

impl Cached {
    /// The cached answer to a 304. A 304 need not repeat `Link` (RFC 9110 §15.4.5): the
    /// listing continues from the links kept with the body, exactly as its 200 did.
    fn answer(&self, mut headers: HeaderMap) -> Resp {
        headers.remove(http::header::LINK);
        if let Some(l) = self
            .link
            .as_ref()
            .and_then(|l| HeaderValue::from_str(l).ok())
        {
            headers.insert(http::header::LINK, l);
        }
        Resp {
            status: StatusCode::OK,
            body: self.body.clone(),
            headers,
            not_modified: true,
        }
    }

    /// Entries of an older layout (no marker) read as misses.
    const MARKER: &'static [u8] = b"roadmap-etag-entry/2\n";

    fn encode(etag: &str, link: Option<&str>, body: &[u8]) -> Vec<u8> {
        let link = link.unwrap_or_default();
        let mut v =
            Vec::with_capacity(Self::MARKER.len() + etag.len() + link.len() + 2 + body.len());
        v.extend_from_slice(Self::MARKER);
        v.extend_from_slice(etag.as_bytes());
        v.push(b'\n');
        v.extend_from_slice(link.as_bytes());
        v.push(b'\n');
        v.extend_from_slice(body);
        v
    }

    fn decode(v: &[u8]) -> Option<Cached> {
        let rest = v.strip_prefix(Self::MARKER)?;
        let nl = rest.iter().position(|b| *b == b'\n')?;
        let etag = std::str::from_utf8(&rest[..nl]).ok()?.to_owned();
        let rest = &rest[nl + 1..];
        let nl = rest.iter().position(|b| *b == b'\n')?;
        let link = std::str::from_utf8(&rest[..nl]).ok()?;
        Some(Cached {
            etag,
            link: (!link.is_empty()).then(|| link.to_owned()),
            body: Bytes::copy_from_slice(&rest[nl + 1..]),
        })
    }
}

fn error_message(body: &[u8]) -> String {
    printable(
        &serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_else(|| String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned()),
    )
}

/// Server text without control characters: an error message must not clear the user's
/// screen or retitle their terminal (escape sequences).
fn printable(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn validation_message(body: &[u8]) -> String {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return error_message(body);
    };
    printable(&validation_text(&v))
}

fn validation_text(v: &Value) -> String {
    let mut msg = v
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("Validation Failed")
        .to_owned();
    if let Some(errors) = v.get("errors").and_then(Value::as_array) {
        let parts: Vec<String> = errors
            .iter()
            .map(|e| {
                // GitHub's own words when it gives them ("body is too long (maximum is
                // 65536 characters)"), else the field and code.
                if let Some(m) = e.get("message").and_then(Value::as_str) {
                    return m.to_owned();
                }
                let field = e.get("field").and_then(Value::as_str).unwrap_or("?");
                let code = e.get("code").and_then(Value::as_str).unwrap_or("invalid");
                format!("{field}: {code}")
            })
            .collect();
        if !parts.is_empty() {
            msg.push_str(&format!(" ({})", parts.join(", ")));
        }
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::Links;

    #[test]
    fn links_are_read_by_rfc_8288_not_by_splitting_on_commas() {
        let gh = r#"<https://api.github.com/repositories/1/issues?per_page=100&after=Y3Vy>; rel="next", <https://api.github.com/repositories/1/issues?per_page=100>; rel="first""#;
        let l = Links::parse(gh).expect("parses");
        assert_eq!(
            l.get("next").as_deref(),
            Some("https://api.github.com/repositories/1/issues?per_page=100&after=Y3Vy")
        );
        assert_eq!(l.get("last"), None, "today's issue listing has no rel=last");
        // A target holding commas (a label filter), several relations in one rel, any case.
        let l =
            Links::parse(r#"<https://h/x?labels=a,b&page=2>; REL="next last""#).expect("parses");
        assert_eq!(
            l.get("next").as_deref(),
            Some("https://h/x?labels=a,b&page=2")
        );
        assert_eq!(
            l.get("last").as_deref(),
            Some("https://h/x?labels=a,b&page=2")
        );
        assert_eq!(Links::parse("").expect("empty").get("next"), None);
        assert!(
            Links::parse("https://h/x; rel=next").is_err(),
            "no angle brackets"
        );
    }
}
