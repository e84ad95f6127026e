//! The HTTP side: one handler that routes like GitHub, applies limits, faults and latency,
//! and answers with GitHub's headers.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::data::{CommentRec, Fate, IssueRec, LabelRec, MilestoneRec, World};
use crate::limits::Secondary;
use crate::render::{self, Urls};
use crate::wire::paginate;
use crate::{FaultKind, Shared};

const DOCS: &str = "https://docs.github.com/rest";

/// Longest issue or comment body GitHub accepts, in characters.
const MAX_BODY: usize = 65_536;

fn too_long(body: &Value) -> bool {
    body.get("body")
        .and_then(Value::as_str)
        .is_some_and(|b| b.chars().count() > MAX_BODY)
}

/// What a route produced before headers, limits and faults.
pub(crate) struct Answer {
    pub status: StatusCode,
    pub body: Option<Value>,
    pub link: Option<String>,
    pub location: Option<String>,
    /// Items in the body, for the latency model.
    pub items: u64,
    /// A write that changed the world (faults after commit apply to these).
    pub committed: bool,
}

impl Answer {
    fn json(status: StatusCode, body: Value) -> Self {
        let items = body.as_array().map_or(1, |a| a.len() as u64);
        Answer {
            status,
            body: Some(body),
            link: None,
            location: None,
            items,
            committed: false,
        }
    }
    fn error(status: StatusCode, message: &str) -> Self {
        Answer::json(
            status,
            json!({"message": message, "documentation_url": DOCS, "status": status.as_u16().to_string()}),
        )
    }
    fn not_found() -> Self {
        Answer::error(StatusCode::NOT_FOUND, "Not Found")
    }
    /// GitHub's answer to a body over 65,536 characters.
    fn too_long(resource: &str) -> Self {
        Answer::json(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"message": "Validation Failed", "errors": [{"resource": resource, "code": "custom", "field": "body", "message": format!("body is too long (maximum is {MAX_BODY} characters)")}], "documentation_url": DOCS, "status": "422"}),
        )
    }
    fn validation(resource: &str, field: &str, code: &str) -> Self {
        Answer::json(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"message": "Validation Failed", "errors": [{"resource": resource, "field": field, "code": code}], "documentation_url": DOCS, "status": "422"}),
        )
    }
}

struct InFlight<'a>(&'a AtomicU64);
impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

pub(crate) fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn route_template(segs: &[&str]) -> String {
    let mut out = String::new();
    let mut iter = segs.iter().enumerate().peekable();
    while let Some((i, s)) = iter.next() {
        out.push('/');
        let templ = match (i, segs.first().copied()) {
            (1, Some("repos")) => "{owner}",
            (2, Some("repos")) => "{repo}",
            (1, Some("repositories")) => "{id}",
            _ if s.parse::<u64>().is_ok() => "{n}",
            _ if i > 0 && segs.get(i - 1) == Some(&"labels") => "{name}",
            _ => s,
        };
        out.push_str(templ);
        let _ = iter.peek();
    }
    if out.starts_with("/repositories/{id}") {
        out = out.replacen("/repositories/{id}", "/repos/{owner}/{repo}", 1);
    }
    out
}

pub(crate) async fn handle(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let inflight = shared.inflight.fetch_add(1, Ordering::SeqCst) + 1;
    shared.peak.fetch_max(inflight, Ordering::SeqCst);
    let _guard = InFlight(&shared.inflight);

    let method = req.method().clone();
    let uri = req.uri().clone();
    let headers = req.headers().clone();
    let body = axum::body::to_bytes(req.into_body(), 64 * 1024 * 1024)
        .await
        .unwrap_or_default();
    let raw_path = uri.path().to_owned();
    let query = uri.query().unwrap_or("").to_owned();

    let (prefix, path) = match raw_path.strip_prefix("/api/v3") {
        Some(rest) => ("/api/v3", rest.to_owned()),
        None => ("", raw_path.clone()),
    };
    if let Some(control) = path.strip_prefix("/_sim/") {
        return crate::control::handle(&shared, &method, control, &body);
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1")
        .to_owned();
    let urls = Urls {
        api: format!("http://{host}{prefix}"),
        web: "https://github.com".into(),
    };

    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("token "))
        })
        .map(str::to_owned);
    let key = token.as_ref().map_or_else(
        || "ip".to_owned(),
        |t| format!("token:{}", hex::encode(Sha256::digest(t.as_bytes()))),
    );
    let authenticated = token.is_some();
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let template = format!("{method} {}", route_template(&segs));
    let (limits, latency, wire) = {
        let cfg = shared.config.lock().unwrap_or_else(|e| e.into_inner());
        (cfg.limits.clone(), cfg.latency.clone(), cfg.wire.clone())
    };
    let is_write = method != Method::GET && method != Method::HEAD;

    // The user agent is required, as on GitHub.
    if !headers.contains_key(header::USER_AGENT) {
        let a = Answer::error(
            StatusCode::FORBIDDEN,
            "Request forbidden by administrative rules. Please make sure your request has a User-Agent header",
        );
        return finish(
            &shared,
            &template,
            a,
            None,
            &headers,
            &key,
            authenticated,
            &limits,
            &wire,
            false,
        );
    }

    // A revoked or expired token is refused on every route, before any limit.
    if token
        .as_ref()
        .is_some_and(|t| shared.revoked_tokens.contains(t))
    {
        let a = Answer::error(StatusCode::UNAUTHORIZED, "Bad credentials");
        return finish(
            &shared, &template, a, None, &headers, &key, false, &limits, &wire, false,
        );
    }

    // A strict server (and many proxies) refuses a repeated singleton field (RFC 9110 §5.3).
    if wire.strict_headers
        && let Some(name) = SINGLETONS
            .iter()
            .find(|h| headers.get_all(**h).iter().count() > 1)
    {
        let a = Answer::error(
            StatusCode::BAD_REQUEST,
            &format!("Bad Request: duplicate '{name}' header found"),
        );
        return finish(
            &shared,
            &template,
            a,
            None,
            &headers,
            &key,
            authenticated,
            &limits,
            &wire,
            false,
        );
    }

    // Limits, in GitHub's order: secondary concurrency, primary, points, content creation.
    let primary_free = segs == ["rate_limit"];
    // The search API has a rate budget of its own (30 a minute with a token, 10 without).
    let search = segs.first() == Some(&"search");
    let key = if search {
        format!("{key}{SEARCH}")
    } else {
        key
    };
    let limits = if search {
        crate::Limits {
            primary: 30,
            unauthenticated: 10,
            ..limits
        }
    } else {
        limits
    };
    let limits = if wire.rate_limiting {
        limits
    } else {
        // Enterprise Server's default: no primary limit (its secondary limits stay).
        crate::Limits {
            primary: u64::MAX / 2,
            unauthenticated: u64::MAX / 2,
            ..limits
        }
    };
    let secondary = if inflight > limits.concurrent {
        Some(Secondary::Concurrency)
    } else {
        None
    };
    let mut refusal: Option<Answer> = None;
    let mut retry_after: Option<Duration> = None;
    {
        let mut ls = shared.limit_state.lock().unwrap_or_else(|e| e.into_inner());
        let status = ls.primary(&key, authenticated, &limits);
        if let Some(s) = secondary {
            refusal = Some(secondary_answer(&wire));
            retry_after = Some(secondary_wait(s, &limits));
        } else if !primary_free && status.remaining == 0 {
            let who = if authenticated {
                "user ID 1".to_owned()
            } else {
                "127.0.0.1".to_owned()
            };
            let code = if limits.primary_status_429 {
                StatusCode::TOO_MANY_REQUESTS
            } else {
                StatusCode::FORBIDDEN
            };
            let mut msg = format!("API rate limit exceeded for {who}.");
            if !authenticated {
                msg.push_str(" (But here's the good news: Authenticated requests get a higher rate limit. Check out the documentation for more details.)");
            }
            refusal = Some(Answer::json(
                code,
                json!({"message": msg, "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"}),
            ));
        } else if let Err(s) = ls.points(&key, if is_write { 5 } else { 1 }, &limits) {
            refusal = Some(secondary_answer(&wire));
            retry_after = Some(secondary_wait(s, &limits));
        } else if method == Method::POST
            && creates_content(&segs)
            && let Err(s) = ls.content(&key, &limits)
        {
            refusal = Some(secondary_answer(&wire));
            retry_after = Some(secondary_wait(s, &limits));
        }
    }
    if !wire.secondary_retry_after {
        retry_after = None;
    }
    if let Some(a) = refusal {
        shared
            .metrics
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .rate_limited += 1;
        return finish(
            &shared,
            &template,
            a,
            retry_after,
            &headers,
            &key,
            authenticated,
            &limits,
            &wire,
            false,
        );
    }

    if is_write {
        let mut log = shared.writes.lock().unwrap_or_else(|e| e.into_inner());
        if log.len() >= crate::WRITE_LOG {
            log.pop_front();
        }
        log.push_back(crate::WriteRecord {
            method: method.to_string(),
            path: if query.is_empty() {
                path.clone()
            } else {
                format!("{path}?{query}")
            },
            body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        });
    }
    let fault = shared.pick_fault(&method, &format!("{path}?{query}"));
    if let Some(f) = &fault
        && !f.after_commit
    {
        return apply_fault(
            &shared,
            &template,
            f.kind,
            &headers,
            &key,
            authenticated,
            &limits,
            &latency,
            &wire,
            f.stall,
        )
        .await;
    }

    let answer = if primary_free && method == Method::GET && !wire.rate_limiting {
        Answer::error(StatusCode::NOT_FOUND, "Rate limiting is not enabled.")
    } else if primary_free && method == Method::GET {
        let st = shared
            .limit_state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .primary(&key, authenticated, &limits);
        let core = json!({"limit": st.limit, "used": st.used, "remaining": st.remaining, "reset": st.reset, "resource": "core"});
        let other =
            |limit: u64| json!({"limit": limit, "used": 0, "remaining": limit, "reset": st.reset});
        Answer::json(
            StatusCode::OK,
            json!({"resources": {"core": core, "search": other(30), "graphql": other(5000)}, "rate": core}),
        )
    } else {
        let mut world = shared.world.lock().unwrap_or_else(|e| e.into_inner());
        let no_push = token
            .as_ref()
            .is_some_and(|t| shared.no_push_tokens.contains(t));
        let hidden: std::collections::HashSet<u64> = {
            let mut lag = shared.lagging.lock().unwrap_or_else(|e| e.into_inner());
            let now = std::time::Instant::now();
            lag.retain(|_, until| *until > now);
            lag.keys().copied().collect()
        };
        route(
            &mut world,
            &urls,
            &method,
            &segs,
            &query,
            &body,
            authenticated,
            no_push,
            &wire,
            &hidden,
        )
    };
    // A slow write: what was just created is listed only after the lag.
    let lag = shared
        .config
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .listing_lag;
    if method == Method::POST
        && answer.committed
        && !lag.is_zero()
        && let Some(id) = answer.body.as_ref().and_then(|b| b["id"].as_u64())
    {
        shared
            .lagging
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, std::time::Instant::now() + lag);
    }
    if let Some(f) = fault {
        // The write happened; the client only sees a failure.
        return apply_fault(
            &shared,
            &template,
            f.kind,
            &headers,
            &key,
            authenticated,
            &limits,
            &latency,
            &wire,
            f.stall,
        )
        .await;
    }
    let items = answer.items;
    let resp = finish(
        &shared,
        &template,
        answer,
        None,
        &headers,
        &key,
        authenticated,
        &limits,
        &wire,
        primary_free,
    );
    // A 304 carries no body: it costs the base latency only.
    let items = if resp.status() == StatusCode::NOT_MODIFIED {
        0
    } else {
        items
    };
    let delay = latency.delay(
        items,
        &mut *shared.rng.lock().unwrap_or_else(|e| e.into_inner()),
    );
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    resp
}

fn creates_content(segs: &[&str]) -> bool {
    matches!(
        segs.last(),
        Some(&"issues") | Some(&"comments") | Some(&"milestones") | Some(&"labels")
    )
}

/// Fields a request may carry once only (RFC 9110 §5.3), plus GitHub's version header, whose
/// repeated value is no known version.
const SINGLETONS: &[&str] = &[
    "user-agent",
    "host",
    "content-type",
    "content-length",
    "authorization",
    "x-github-api-version",
];

fn secondary_answer(wire: &crate::Wire) -> Answer {
    let message = if wire.abuse_wording {
        "You have triggered an abuse detection mechanism. Please wait a few minutes before you try again."
    } else {
        "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID."
    };
    Answer::json(
        StatusCode::FORBIDDEN,
        json!({"message": message, "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}),
    )
}

fn secondary_wait(s: Secondary, limits: &crate::Limits) -> Duration {
    match s {
        Secondary::Concurrency => limits.secondary_retry_after,
        Secondary::Points(d) | Secondary::Content(d) => d.max(Duration::from_secs(1)),
    }
}

#[allow(clippy::too_many_arguments)]
async fn apply_fault(
    shared: &Shared,
    template: &str,
    kind: FaultKind,
    headers: &HeaderMap,
    key: &str,
    authenticated: bool,
    limits: &crate::Limits,
    latency: &crate::Latency,
    wire: &crate::Wire,
    stall: Duration,
) -> Response {
    shared
        .metrics
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .faults += 1;
    tokio::time::sleep(latency.base).await;
    let status = match kind {
        FaultKind::Status500 => StatusCode::INTERNAL_SERVER_ERROR,
        FaultKind::Status502 => StatusCode::BAD_GATEWAY,
        FaultKind::Status503 => StatusCode::SERVICE_UNAVAILABLE,
        FaultKind::Stall => {
            tokio::time::sleep(stall).await;
            StatusCode::GATEWAY_TIMEOUT
        }
        FaultKind::Reset | FaultKind::Truncate => {
            count(shared, template, StatusCode::OK, 0);
            let full = b"[{\"id\": 1, \"title\": \"this body never completes\"}]".to_vec();
            let keep = if kind == FaultKind::Reset {
                0
            } else {
                full.len() / 2
            };
            let chunk = bytes::Bytes::copy_from_slice(&full[..keep]);
            let stream = futures::stream::iter(vec![
                Ok::<_, std::io::Error>(chunk),
                Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "simulated fault",
                )),
            ]);
            let mut resp = Response::new(Body::from_stream(stream));
            resp.headers_mut()
                .insert(header::CONTENT_LENGTH, HeaderValue::from(full.len()));
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json; charset=utf-8"),
            );
            return resp;
        }
    };
    let msg = if status == StatusCode::GATEWAY_TIMEOUT {
        "We couldn't respond to your request in time. Sorry about that."
    } else {
        "Server Error"
    };
    finish(
        shared,
        template,
        Answer::error(status, msg),
        None,
        headers,
        key,
        authenticated,
        limits,
        wire,
        false,
    )
}

fn count(shared: &Shared, template: &str, status: StatusCode, bytes: u64) {
    let mut m = shared.metrics.lock().unwrap_or_else(|e| e.into_inner());
    m.requests += 1;
    let r = m.routes.entry(template.to_owned()).or_default();
    r.calls += 1;
    r.bytes += bytes;
    if status == StatusCode::NOT_MODIFIED {
        r.not_modified += 1;
        m.not_modified += 1;
    }
    m.bytes += bytes;
}

#[allow(clippy::too_many_arguments)]
fn finish(
    shared: &Shared,
    template: &str,
    answer: Answer,
    retry_after: Option<Duration>,
    req_headers: &HeaderMap,
    key: &str,
    authenticated: bool,
    limits: &crate::Limits,
    wire: &crate::Wire,
    primary_free: bool,
) -> Response {
    let bytes = answer
        .body
        .as_ref()
        .map(|b| serde_json::to_vec(b).unwrap_or_default())
        .unwrap_or_default();
    let mut status = answer.status;
    let mut etag = None;
    if status == StatusCode::OK && !bytes.is_empty() {
        // Strong and per token, as GitHub's.
        let mut h = Sha256::new();
        h.update(key.as_bytes());
        h.update(&bytes);
        let opaque = format!("\"{}\"", hex::encode(&h.finalize()[..16]));
        // If-None-Match uses the weak comparison (RFC 9110 §13.1.2).
        let matches = req_headers
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(',')
                    .any(|t| t.trim().trim_start_matches("W/") == opaque)
            });
        let is_list = answer.body.as_ref().is_some_and(Value::is_array);
        let tag = if is_list && wire.weak_list_etags {
            format!("W/{opaque}")
        } else {
            opaque
        };
        if matches {
            status = StatusCode::NOT_MODIFIED;
        }
        etag = Some(tag);
    }
    let refused = retry_after.is_some()
        || status == StatusCode::FORBIDDEN
        || status == StatusCode::TOO_MANY_REQUESTS;
    let rl = {
        let mut ls = shared.limit_state.lock().unwrap_or_else(|e| e.into_inner());
        // A 304 to an authenticated request is free; so are /rate_limit and refusals.
        let free = primary_free || (status == StatusCode::NOT_MODIFIED && authenticated) || refused;
        if !free {
            ls.use_primary(key, limits);
        }
        ls.primary(key, authenticated, limits)
    };
    let body_bytes = if status == StatusCode::NOT_MODIFIED {
        Vec::new()
    } else {
        bytes
    };
    count(shared, template, status, body_bytes.len() as u64);
    let mut resp = Response::new(Body::from(body_bytes));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    if wire.rate_limiting {
        h.insert("x-ratelimit-limit", HeaderValue::from(rl.limit));
        h.insert("x-ratelimit-remaining", HeaderValue::from(rl.remaining));
        h.insert("x-ratelimit-used", HeaderValue::from(rl.used));
        h.insert("x-ratelimit-reset", HeaderValue::from(rl.reset));
        h.insert(
            "x-ratelimit-resource",
            HeaderValue::from_static(if key.ends_with(SEARCH) {
                "search"
            } else {
                "core"
            }),
        );
    }
    h.insert(
        "x-github-api-version-selected",
        HeaderValue::from_static("2022-11-28"),
    );
    if authenticated {
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, max-age=60, s-maxage=60"),
        );
    } else {
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=60, s-maxage=60"),
        );
    }
    h.insert(
        header::VARY,
        HeaderValue::from_static("Accept, Authorization, Cookie, X-GitHub-OTP, Accept-Encoding"),
    );
    if let Some(t) = etag.and_then(|t| HeaderValue::from_str(&t).ok()) {
        h.insert(header::ETAG, t);
    }
    let link = answer
        .link
        .filter(|_| status != StatusCode::NOT_MODIFIED || wire.link_on_304);
    if let Some(l) = link.and_then(|l| HeaderValue::from_str(&l).ok()) {
        h.insert(header::LINK, l);
    }
    if let Some(l) = answer.location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        h.insert(header::LOCATION, l);
    }
    if let Some(r) = retry_after {
        h.insert(header::RETRY_AFTER, HeaderValue::from(r.as_secs().max(1)));
    }
    resp
}

/// The suffix of a rate-limit key for the search API's budget.
const SEARCH: &str = "#search";

/// `GET /search/issues` for the qualifiers a count needs: `repo:O/N`, `is:issue`/`is:pr`,
/// `is:open`/`is:closed`. Answers the count and the first `per_page` matches, newest first.
fn search_issues(urls: &render::Urls, world: &World, q: &[(String, String)]) -> Answer {
    let Some(query) = param(q, "q") else {
        return Answer::validation("Search", "q", "missing");
    };
    let (mut repo, mut kind, mut state) = (None, None, None);
    for term in query.split_whitespace() {
        match term.split_once(':') {
            Some(("repo", r)) => repo = r.split_once('/'),
            Some(("is", "issue")) => kind = Some(false),
            Some(("is", "pr")) => kind = Some(true),
            Some(("is", s @ ("open" | "closed"))) => state = Some(s),
            _ => {}
        }
    }
    let Some(r) = repo
        .and_then(|(o, n)| world.repo_id(o, n))
        .and_then(|id| world.repos.get(&id))
    else {
        return Answer::validation("Search", "q", "invalid");
    };
    let per_page = param(q, "per_page")
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(30)
        .min(100);
    let mut hits: Vec<&IssueRec> = r
        .issues
        .values()
        .filter(|i| kind.is_none_or(|pr| i.is_pr == pr))
        .filter(|i| state.is_none_or(|s| i.state == s))
        .collect();
    hits.sort_by_key(|i| std::cmp::Reverse(i.number));
    let counts = render::Counts::of(r);
    let items: Vec<Value> = hits
        .iter()
        .take(per_page)
        .map(|i| {
            let mut v = render::issue(urls, world, r, i, &counts);
            v["score"] = json!(1.0);
            v
        })
        .collect();
    Answer::json(
        StatusCode::OK,
        json!({"total_count": hits.len(), "incomplete_results": false, "items": items}),
    )
}

fn parse_query(q: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(q.as_bytes())
        .into_owned()
        .collect()
}

fn param<'a>(q: &'a [(String, String)], k: &str) -> Option<&'a str> {
    q.iter()
        .rev()
        .find(|(a, _)| a == k)
        .map(|(_, v)| v.as_str())
}

fn parse_ts(s: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.timestamp())
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|t| t.and_utc().timestamp())
        })
}

/// A listing's page as an answer (or the listing's refusal).
fn listing(p: crate::wire::Paged) -> Answer {
    match p {
        crate::wire::Paged::Page { items, link } => {
            let mut a = Answer::json(StatusCode::OK, Value::Array(items));
            a.link = link;
            a
        }
        crate::wire::Paged::Refused(status, body) => Answer::json(status, body),
    }
}

#[allow(clippy::too_many_arguments)]
fn route(
    world: &mut World,
    urls: &Urls,
    method: &Method,
    segs: &[&str],
    query: &str,
    body: &[u8],
    authenticated: bool,
    no_push: bool,
    wire: &crate::Wire,
    hidden: &std::collections::HashSet<u64>,
) -> Answer {
    let q = parse_query(query);
    if segs.last() == Some(&"") && segs.len() > 1 {
        return Answer::not_found(); // a trailing slash is a 404 on GitHub
    }
    match (method, segs) {
        (&Method::GET, ["rate_limit"]) => return Answer::json(StatusCode::OK, json!({})), // filled in below
        (&Method::GET, ["user"]) => {
            if !authenticated {
                return Answer::error(StatusCode::UNAUTHORIZED, "Requires authentication");
            }
            let mut u = render::user(urls, world, "octocat");
            u["name"] = json!("The Octocat");
            return Answer::json(StatusCode::OK, u);
        }
        (&Method::GET, ["search", "issues"]) => return search_issues(urls, world, &q),
        _ => {}
    }
    let (repo_id, rest) = match segs {
        ["repos", owner, name, rest @ ..] => match world.repo_id(owner, name) {
            Some(id) => (id, rest),
            None => return Answer::not_found(),
        },
        ["repositories", id, rest @ ..] => match id
            .parse::<u64>()
            .ok()
            .filter(|id| world.repos.contains_key(id))
        {
            Some(id) => (id, rest),
            None => return Answer::not_found(),
        },
        _ => return Answer::not_found(),
    };
    let json_body: Value = if body.is_empty() {
        json!({})
    } else {
        match serde_json::from_slice(body) {
            Ok(v @ Value::Object(_)) => v,
            Ok(_) => return Answer::error(StatusCode::BAD_REQUEST, "Body should be a JSON object"),
            Err(_) => return Answer::error(StatusCode::BAD_REQUEST, "Problems parsing JSON"),
        }
    };
    let link_base = |res: &str| format!("{}/repositories/{repo_id}/{res}", urls.api);
    let now = now();
    match (method.clone(), rest) {
        (Method::GET, []) => {
            let r = &world.repos[&repo_id];
            Answer::json(StatusCode::OK, render::repository(urls, world, r))
        }
        (Method::GET, ["issues"]) => {
            let r = &world.repos[&repo_id];
            let state = param(&q, "state").unwrap_or("open");
            let since = param(&q, "since").and_then(parse_ts);
            let labels: Vec<String> = param(&q, "labels")
                .map(|l| {
                    l.split(',')
                        .map(|s| s.trim().to_lowercase())
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_default();
            let milestone = param(&q, "milestone");
            let assignee = param(&q, "assignee");
            let mut list: Vec<&IssueRec> = r
                .issues
                .values()
                .filter(|i| !hidden.contains(&i.id))
                .filter(|i| state == "all" || i.state == state)
                .filter(|i| since.is_none_or(|s| i.updated_at >= s))
                .filter(|i| {
                    labels
                        .iter()
                        .all(|l| i.labels.iter().any(|x| x.to_lowercase() == *l))
                })
                .filter(|i| match milestone {
                    None => true,
                    Some("*") => i.milestone.is_some(),
                    Some("none") => i.milestone.is_none(),
                    Some(n) => n.parse::<u64>().ok() == i.milestone,
                })
                .filter(|i| match assignee {
                    None => true,
                    Some("*") => !i.assignees.is_empty(),
                    Some("none") => i.assignees.is_empty(),
                    Some(a) => i.assignees.iter().any(|x| x.eq_ignore_ascii_case(a)),
                })
                .collect();
            let comments: BTreeMap<u64, usize> = if param(&q, "sort") == Some("comments") {
                r.comments.values().fold(BTreeMap::new(), |mut m, c| {
                    *m.entry(c.issue).or_default() += 1;
                    m
                })
            } else {
                BTreeMap::new()
            };
            let key = |i: &IssueRec| -> (i64, u64) {
                match param(&q, "sort").unwrap_or("created") {
                    "updated" => (i.updated_at, i.number),
                    "comments" => (*comments.get(&i.number).unwrap_or(&0) as i64, i.number),
                    _ => (i.created_at, i.number),
                }
            };
            list.sort_by_key(|i| key(i));
            let ascending = param(&q, "direction").unwrap_or("desc") != "desc";
            if !ascending {
                list.reverse();
            }
            let counts = render::Counts::of(r);
            let keyed = list.into_iter().map(|i| (key(i), i)).collect();
            listing(paginate(
                keyed,
                ascending,
                &q,
                &link_base("issues"),
                wire.issues,
                wire,
                |i| render::issue(urls, world, r, i, &counts),
            ))
        }
        (Method::POST, ["issues"]) => {
            if too_long(&json_body) {
                return Answer::too_long("Issue");
            }
            let title = match &json_body["title"] {
                Value::String(s) if !s.trim().is_empty() => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => return Answer::validation("Issue", "title", "missing_field"),
            };
            let mut rec = IssueRec {
                id: world.next_id(),
                number: 0,
                title,
                body: json_body["body"].as_str().map(str::to_owned),
                state: "open".into(),
                state_reason: None,
                labels: Vec::new(),
                assignees: Vec::new(),
                milestone: None,
                user: "octocat".into(),
                is_pr: false,
                created_at: now,
                updated_at: now,
                closed_at: None,
                locked: false,
            };
            if !no_push
                && let Err(a) = apply_issue_fields(world, repo_id, &mut rec, &json_body, now)
            {
                return a;
            }
            let r = world.repos.get_mut(&repo_id).expect("repo exists");
            rec.number = r.next_number;
            r.next_number += 1;
            let n = rec.number;
            r.issues.insert(n, rec);
            let r = &world.repos[&repo_id];
            let mut a = Answer::json(
                StatusCode::CREATED,
                render::issue(urls, world, r, &r.issues[&n], &render::Counts::of(r)),
            );
            a.location = Some(format!(
                "{}/repos/{}/{}/issues/{n}",
                urls.api, r.owner, r.name
            ));
            a.committed = true;
            a
        }
        (Method::GET, ["issues", "comments"]) => {
            let r = &world.repos[&repo_id];
            let since = param(&q, "since").and_then(parse_ts);
            let mut list: Vec<&CommentRec> = r
                .comments
                .values()
                .filter(|c| !hidden.contains(&c.id))
                .filter(|c| since.is_none_or(|s| c.updated_at >= s))
                .collect();
            // Without `sort`, ascending ids ("direction" is ignored then, as documented).
            let sort = param(&q, "sort");
            let key = |c: &CommentRec| match sort {
                Some("updated") => (c.updated_at, c.id),
                Some(_) => (c.created_at, c.id),
                None => (0, c.id),
            };
            list.sort_by_key(|c| key(c));
            let ascending = sort.is_none() || param(&q, "direction") != Some("desc");
            if !ascending {
                list.reverse();
            }
            let keyed = list.into_iter().map(|c| (key(c), c)).collect();
            listing(paginate(
                keyed,
                ascending,
                &q,
                &link_base("issues/comments"),
                wire.comments,
                wire,
                |c| render::comment(urls, world, r, c),
            ))
        }
        (m, ["issues", n]) if m == Method::GET || m == Method::PATCH => {
            let Ok(n) = n.parse::<u64>() else {
                return Answer::not_found();
            };
            if let Some(a) = fate_answer(world, urls, repo_id, n) {
                return a;
            }
            if m == Method::PATCH {
                let mut rec = match world.repos[&repo_id].issues.get(&n) {
                    Some(i) => i.clone(),
                    None => return Answer::not_found(),
                };
                let before = rec.clone();
                if too_long(&json_body) {
                    return Answer::too_long("Issue");
                }
                if let Some(t) = json_body.get("title") {
                    match t {
                        Value::String(s) if !s.trim().is_empty() => rec.title = s.clone(),
                        Value::Number(x) => rec.title = x.to_string(),
                        _ => return Answer::validation("Issue", "title", "invalid"),
                    }
                }
                if let Some(b) = json_body.get("body") {
                    rec.body = b.as_str().map(str::to_owned);
                }
                if let Some(s) = json_body.get("state").and_then(Value::as_str) {
                    if s != "open" && s != "closed" {
                        return Answer::validation("Issue", "state", "invalid");
                    }
                    if s != rec.state {
                        rec.state = s.to_owned();
                        if s == "closed" {
                            rec.closed_at = Some(now);
                            rec.state_reason = Some(
                                json_body["state_reason"]
                                    .as_str()
                                    .unwrap_or("completed")
                                    .to_owned(),
                            );
                        } else {
                            rec.closed_at = None;
                            rec.state_reason = Some("reopened".into());
                        }
                    }
                }
                if !no_push
                    && let Err(a) = apply_issue_fields(world, repo_id, &mut rec, &json_body, now)
                {
                    return a;
                }
                let changed = rec != before;
                if changed {
                    rec.updated_at = now;
                }
                world
                    .repos
                    .get_mut(&repo_id)
                    .expect("repo")
                    .issues
                    .insert(n, rec);
                let r = &world.repos[&repo_id];
                let mut a = Answer::json(
                    StatusCode::OK,
                    render::issue(urls, world, r, &r.issues[&n], &render::Counts::of(r)),
                );
                a.committed = changed;
                return a;
            }
            let r = &world.repos[&repo_id];
            match r.issues.get(&n) {
                Some(i) => Answer::json(
                    StatusCode::OK,
                    render::issue(urls, world, r, i, &render::Counts::of(r)),
                ),
                None => Answer::not_found(),
            }
        }
        (m, ["issues", n, "comments"]) if m == Method::GET || m == Method::POST => {
            let Ok(n) = n.parse::<u64>() else {
                return Answer::not_found();
            };
            if world.repos[&repo_id].fates.contains_key(&n) {
                return if matches!(world.repos[&repo_id].fates[&n], Fate::Deleted) {
                    Answer::error(StatusCode::GONE, "This issue was deleted")
                } else {
                    Answer::not_found()
                };
            }
            if !world.repos[&repo_id].issues.contains_key(&n) {
                return Answer::not_found();
            }
            if m == Method::POST {
                if world.repos[&repo_id].issues[&n].locked {
                    return Answer::error(
                        StatusCode::FORBIDDEN,
                        "Unable to create comment because issue is locked.",
                    );
                }
                let Some(text) = json_body["body"].as_str().filter(|b| !b.is_empty()) else {
                    return Answer::validation("IssueComment", "body", "missing_field");
                };
                if too_long(&json_body) {
                    return Answer::too_long("IssueComment");
                }
                let id = world.next_id();
                let r = world.repos.get_mut(&repo_id).expect("repo");
                r.comments.insert(
                    id,
                    CommentRec {
                        id,
                        issue: n,
                        user: "octocat".into(),
                        body: text.to_owned(),
                        created_at: now,
                        updated_at: now,
                    },
                );
                if let Some(i) = r.issues.get_mut(&n) {
                    i.updated_at = now;
                }
                let r = &world.repos[&repo_id];
                let mut a = Answer::json(
                    StatusCode::CREATED,
                    render::comment(urls, world, r, &r.comments[&id]),
                );
                a.location = Some(format!(
                    "{}/repos/{}/{}/issues/comments/{id}",
                    urls.api, r.owner, r.name
                ));
                a.committed = true;
                return a;
            }
            let r = &world.repos[&repo_id];
            let since = param(&q, "since").and_then(parse_ts);
            let items: Vec<&CommentRec> = r
                .comments
                .values()
                .filter(|c| c.issue == n && !hidden.contains(&c.id))
                .filter(|c| since.is_none_or(|s| c.updated_at >= s))
                .collect();
            let keyed = items.into_iter().map(|c| ((0, c.id), c)).collect();
            listing(paginate(
                keyed,
                true,
                &q,
                &link_base(&format!("issues/{n}/comments")),
                wire.comments,
                wire,
                |c| render::comment(urls, world, r, c),
            ))
        }
        (m, ["issues", "comments", id])
            if m == Method::GET || m == Method::PATCH || m == Method::DELETE =>
        {
            let Some(id) = id
                .parse::<u64>()
                .ok()
                .filter(|id| world.repos[&repo_id].comments.contains_key(id))
            else {
                return Answer::not_found();
            };
            if m == Method::DELETE {
                world
                    .repos
                    .get_mut(&repo_id)
                    .expect("repo")
                    .comments
                    .remove(&id);
                let mut a = Answer::json(StatusCode::NO_CONTENT, Value::Null);
                a.body = None;
                a.committed = true;
                return a;
            }
            if m == Method::PATCH {
                let Some(text) = json_body["body"].as_str().filter(|b| !b.is_empty()) else {
                    return Answer::validation("IssueComment", "body", "missing_field");
                };
                if too_long(&json_body) {
                    return Answer::too_long("IssueComment");
                }
                let r = world.repos.get_mut(&repo_id).expect("repo");
                let c = r.comments.get_mut(&id).expect("comment");
                if c.body != text {
                    c.body = text.to_owned();
                    c.updated_at = now;
                }
            }
            let r = &world.repos[&repo_id];
            let mut a = Answer::json(
                StatusCode::OK,
                render::comment(urls, world, r, &r.comments[&id]),
            );
            a.committed = m == Method::PATCH;
            a
        }
        (Method::GET, ["milestones"]) => {
            let r = &world.repos[&repo_id];
            let state = param(&q, "state").unwrap_or("open");
            let mut list: Vec<&MilestoneRec> = r
                .milestones
                .values()
                .filter(|m| state == "all" || m.state == state)
                .collect();
            let by_due = param(&q, "sort").unwrap_or("due_on") != "completeness";
            let key = |m: &MilestoneRec| {
                if by_due {
                    (m.due_on.unwrap_or(i64::MAX), m.number)
                } else {
                    (0, m.number)
                }
            };
            list.sort_by_key(|m| key(m));
            let ascending = param(&q, "direction") != Some("desc");
            if !ascending {
                list.reverse();
            }
            let counts = render::Counts::of(r);
            let keyed = list.into_iter().map(|m| (key(m), m)).collect();
            listing(paginate(
                keyed,
                ascending,
                &q,
                &link_base("milestones"),
                wire.milestones,
                wire,
                |m| render::milestone(urls, world, r, m, &counts),
            ))
        }
        (Method::POST, ["milestones"]) => {
            let Some(title) = json_body["title"]
                .as_str()
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
            else {
                return Answer::validation("Milestone", "title", "missing_field");
            };
            if world.repos[&repo_id]
                .milestones
                .values()
                .any(|m| m.title == title)
            {
                return Answer::validation("Milestone", "title", "already_exists");
            }
            let id = world.next_id();
            let r = world.repos.get_mut(&repo_id).expect("repo");
            let number = r.next_milestone;
            r.next_milestone += 1;
            let state = json_body["state"].as_str().unwrap_or("open").to_owned();
            r.milestones.insert(
                number,
                MilestoneRec {
                    id,
                    number,
                    title,
                    description: json_body["description"].as_str().map(str::to_owned),
                    closed_at: (state == "closed").then_some(now),
                    state,
                    due_on: json_body["due_on"]
                        .as_str()
                        .and_then(parse_ts)
                        .map(render::pacific_midnight),
                    created_at: now,
                    updated_at: now,
                    creator: "octocat".into(),
                },
            );
            let r = &world.repos[&repo_id];
            let mut a = Answer::json(
                StatusCode::CREATED,
                render::milestone(
                    urls,
                    world,
                    r,
                    &r.milestones[&number],
                    &render::Counts::of(r),
                ),
            );
            a.location = Some(format!(
                "{}/repos/{}/{}/milestones/{number}",
                urls.api, r.owner, r.name
            ));
            a.committed = true;
            a
        }
        (m, ["milestones", n]) if m == Method::GET || m == Method::PATCH => {
            let Ok(n) = n.parse::<u64>() else {
                return Answer::not_found();
            };
            if !world.repos[&repo_id].milestones.contains_key(&n) {
                return Answer::not_found();
            }
            if m == Method::PATCH {
                let r = world.repos.get_mut(&repo_id).expect("repo");
                let ms = r.milestones.get_mut(&n).expect("milestone");
                let before = ms.clone();
                if let Some(t) = json_body["title"].as_str() {
                    ms.title = t.to_owned();
                }
                if let Some(d) = json_body.get("description") {
                    ms.description = d.as_str().map(str::to_owned);
                }
                if let Some(s) = json_body["state"].as_str() {
                    ms.state = s.to_owned();
                    ms.closed_at = (s == "closed").then_some(now);
                }
                if let Some(d) = json_body.get("due_on") {
                    ms.due_on = d.as_str().and_then(parse_ts).map(render::pacific_midnight);
                }
                if *ms != before {
                    ms.updated_at = now;
                }
            }
            let r = &world.repos[&repo_id];
            let mut a = Answer::json(
                StatusCode::OK,
                render::milestone(urls, world, r, &r.milestones[&n], &render::Counts::of(r)),
            );
            a.committed = m == Method::PATCH;
            a
        }
        (Method::GET, ["labels"]) => {
            let r = &world.repos[&repo_id];
            let keyed = r
                .labels
                .iter()
                .enumerate()
                .map(|(k, l)| ((k as i64, l.id), l))
                .collect();
            listing(paginate(
                keyed,
                true,
                &q,
                &link_base("labels"),
                wire.labels,
                wire,
                |l| render::label(urls, r, l),
            ))
        }
        (Method::POST, ["labels"]) => {
            let Some(name) = json_body["name"]
                .as_str()
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
            else {
                return Answer::validation("Label", "name", "missing_field");
            };
            if world.repos[&repo_id]
                .labels
                .iter()
                .any(|l| l.name.eq_ignore_ascii_case(&name))
            {
                return Answer::validation("Label", "name", "already_exists");
            }
            let color = json_body["color"]
                .as_str()
                .unwrap_or("ededed")
                .trim_start_matches('#')
                .to_lowercase();
            if color.len() != 6 || !color.chars().all(|c| c.is_ascii_hexdigit()) {
                return Answer::validation("Label", "color", "invalid");
            }
            let id = world.next_id();
            let r = world.repos.get_mut(&repo_id).expect("repo");
            let l = LabelRec {
                id,
                name,
                color,
                description: json_body["description"].as_str().map(str::to_owned),
                default: false,
            };
            r.labels.push(l.clone());
            let r = &world.repos[&repo_id];
            let mut a = Answer::json(StatusCode::CREATED, render::label(urls, r, &l));
            a.location = Some(format!(
                "{}/repos/{}/{}/labels/{}",
                urls.api,
                r.owner,
                r.name,
                render::encode_segment(&l.name)
            ));
            a.committed = true;
            a
        }
        (Method::GET, ["labels", name]) => {
            let name =
                url::form_urlencoded::parse(format!("n={}", name.replace('+', "%2B")).as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default();
            let r = &world.repos[&repo_id];
            match r.labels.iter().find(|l| l.name.eq_ignore_ascii_case(&name)) {
                Some(l) => Answer::json(StatusCode::OK, render::label(urls, r, l)),
                None => Answer::not_found(),
            }
        }
        _ => Answer::not_found(),
    }
}

fn fate_answer(world: &World, urls: &Urls, repo_id: u64, n: u64) -> Option<Answer> {
    match world.repos[&repo_id].fates.get(&n)? {
        Fate::Deleted => Some(Answer::error(StatusCode::GONE, "This issue was deleted")),
        Fate::Transferred {
            repo_id: to,
            number,
            ..
        } => {
            let url = format!("{}/repositories/{to}/issues/{number}", urls.api);
            let mut a = Answer::json(
                StatusCode::MOVED_PERMANENTLY,
                json!({"message": "Moved Permanently", "url": url, "documentation_url": DOCS}),
            );
            a.location = Some(url);
            Some(a)
        }
    }
}

/// Applies labels, assignees and milestone of a create or update.
#[allow(clippy::result_large_err)] // built once per write request
fn apply_issue_fields(
    world: &mut World,
    repo_id: u64,
    rec: &mut IssueRec,
    body: &Value,
    now: i64,
) -> Result<(), Answer> {
    if let Some(labels) = body.get("labels") {
        let Some(arr) = labels.as_array() else {
            return Err(Answer::validation("Issue", "labels", "invalid"));
        };
        let mut names = Vec::new();
        for l in arr {
            let name = match l {
                Value::String(s) => s.clone(),
                Value::Object(o) => o
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                _ => return Err(Answer::validation("Issue", "labels", "invalid")),
            };
            if name.is_empty() {
                return Err(Answer::validation("Issue", "labels", "invalid"));
            }
            // Unknown names are created on the fly, as GitHub does; known ones keep their case.
            let exists = world.repos[&repo_id]
                .labels
                .iter()
                .find(|x| x.name.eq_ignore_ascii_case(&name))
                .map(|x| x.name.clone());
            let name = match exists {
                Some(n) => n,
                None => {
                    let id = world.next_id();
                    world
                        .repos
                        .get_mut(&repo_id)
                        .expect("repo")
                        .labels
                        .push(LabelRec {
                            id,
                            name: name.clone(),
                            color: "ededed".into(),
                            description: None,
                            default: false,
                        });
                    name
                }
            };
            if !names.contains(&name) {
                names.push(name);
            }
        }
        rec.labels = names;
    }
    if let Some(a) = body.get("assignees") {
        let Some(arr) = a.as_array() else {
            return Err(Answer::validation("Issue", "assignees", "invalid"));
        };
        let mut logins = Vec::new();
        for x in arr {
            let Some(login) = x.as_str() else {
                return Err(Answer::validation("Issue", "assignees", "invalid"));
            };
            if !world
                .users
                .iter()
                .any(|u| u.login.eq_ignore_ascii_case(login))
            {
                return Err(Answer::validation("Issue", "assignees", "invalid"));
            }
            if !logins
                .iter()
                .any(|l: &String| l.eq_ignore_ascii_case(login))
            {
                logins.push(login.to_owned());
            }
        }
        rec.assignees = logins;
    }
    if let Some(m) = body.get("milestone") {
        match m {
            Value::Null => rec.milestone = None,
            Value::Number(n) => {
                let n = n.as_u64().unwrap_or(0);
                if !world.repos[&repo_id].milestones.contains_key(&n) {
                    return Err(Answer::validation("Issue", "milestone", "invalid"));
                }
                rec.milestone = Some(n);
            }
            _ => return Err(Answer::validation("Issue", "milestone", "invalid")),
        }
    }
    let _ = now;
    Ok(())
}

impl Shared {
    /// Decides whether this request fails, and how.
    pub(crate) fn pick_fault(&self, method: &Method, path: &str) -> Option<crate::PickedFault> {
        {
            let mut scripted = self.scripted.lock().unwrap_or_else(|e| e.into_inner());
            for s in scripted.iter_mut() {
                let method_ok = s
                    .method
                    .as_ref()
                    .is_none_or(|m| m.eq_ignore_ascii_case(method.as_str()));
                if method_ok && path.contains(&s.path_contains) && s.remaining > 0 {
                    if s.skip > 0 {
                        s.skip -= 1;
                        continue;
                    }
                    s.remaining -= 1;
                    return Some(crate::PickedFault {
                        kind: s.kind,
                        after_commit: s.after_commit,
                        stall: s.stall,
                    });
                }
            }
        }
        let cfg = self.config.lock().unwrap_or_else(|e| e.into_inner());
        let f = &cfg.faults;
        if f.rate <= 0.0 || f.kinds.is_empty() {
            return None;
        }
        let mut rng = self.fault_rng.lock().unwrap_or_else(|e| e.into_inner());
        if rng.random_bool(f.rate.min(1.0)) {
            let kind = f.kinds[rng.random_range(0..f.kinds.len())];
            return Some(crate::PickedFault {
                kind,
                after_commit: false,
                stall: f.stall,
            });
        }
        None
    }
}

/// A seeded RNG for faults and jitter.
pub(crate) fn rng(seed: u64) -> rand::rngs::StdRng {
    rand::rngs::StdRng::seed_from_u64(seed)
}
