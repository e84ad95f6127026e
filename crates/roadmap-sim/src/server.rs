//! The HTTP side: one handler that routes like GitHub, applies limits, faults and latency,
//! and answers with GitHub's headers.

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

use crate::limits::Secondary;
use crate::render::Urls;
use crate::{FaultKind, Shared};

pub(crate) const DOCS: &str = "https://docs.github.com/rest";

/// Longest issue or comment body GitHub accepts, in characters.
pub(crate) const MAX_BODY: usize = 65_536;

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
    pub(crate) fn json(status: StatusCode, body: Value) -> Self {
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
    /// A `201 Created` that changed the world, with the new resource's `Location`.
    pub(crate) fn created(body: Value, location: String) -> Self {
        let mut a = Answer::json(StatusCode::CREATED, body);
        a.location = Some(location);
        a.committed = true;
        a
    }
    /// A `200 OK` that changed the world.
    pub(crate) fn changed(body: Value) -> Self {
        let mut a = Answer::json(StatusCode::OK, body);
        a.committed = true;
        a
    }
    pub(crate) fn error(status: StatusCode, message: &str) -> Self {
        Answer::json(
            status,
            json!({"message": message, "documentation_url": DOCS, "status": status.as_u16().to_string()}),
        )
    }
    pub(crate) fn not_found() -> Self {
        Answer::error(StatusCode::NOT_FOUND, "Not Found")
    }
    /// GitHub's answer to a body over 65,536 characters.
    pub(crate) fn too_long(resource: &str) -> Self {
        Answer::json(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"message": "Validation Failed", "errors": [{"resource": resource, "code": "custom", "field": "body", "message": format!("body is too long (maximum is {MAX_BODY} characters)")}], "documentation_url": DOCS, "status": "422"}),
        )
    }
    pub(crate) fn validation(resource: &str, field: &str, code: &str) -> Self {
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
    crate::clock::unix_now()
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
            let now = crate::clock::Instant::now();
            lag.retain(|_, until| *until > now);
            lag.keys().copied().collect()
        };
        crate::routes::route(
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
            .insert(id, crate::clock::Instant::now() + lag);
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
