//! Control routes under `/_sim/` (outside GitHub's namespace) for scripts driving the
//! binary: read and reset metrics, change the world as another user would.

use axum::body::Body;
use axum::http::{Method, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};

use crate::Shared;
use crate::data::Fate;

fn reply(status: StatusCode, v: Value) -> Response {
    let mut r = Response::new(Body::from(v.to_string()));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    r
}

/// `GET metrics`, `POST reset`, `POST issues/{o}/{r}/{n}/{edit|close|delete|comment}`,
/// `POST issues/{o}/{r}` (create).
pub(crate) fn handle(shared: &Shared, method: &Method, path: &str, body: &[u8]) -> Response {
    let segs: Vec<&str> = path.split('/').collect();
    let args: Value = serde_json::from_slice(body).unwrap_or(json!({}));
    let now = crate::server::now();
    match (method.clone(), segs.as_slice()) {
        (Method::GET, ["metrics"]) => {
            let mut m = shared
                .metrics
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            m.peak_concurrency = shared.peak.load(std::sync::atomic::Ordering::SeqCst);
            reply(StatusCode::OK, serde_json::to_value(m).unwrap_or_default())
        }
        (Method::POST, ["reset"]) => {
            *shared.metrics.lock().unwrap_or_else(|e| e.into_inner()) =
                crate::SimMetrics::default();
            shared.peak.store(0, std::sync::atomic::Ordering::SeqCst);
            reply(StatusCode::OK, json!({"ok": true}))
        }
        (Method::POST, ["issues", owner, repo, n, op]) => {
            let mut world = shared.world.lock().unwrap_or_else(|e| e.into_inner());
            let Some(id) = world.repo_id(owner, repo) else {
                return reply(StatusCode::NOT_FOUND, json!({"error": "no such repo"}));
            };
            let Ok(n) = n.parse::<u64>() else {
                return reply(StatusCode::BAD_REQUEST, json!({"error": "bad number"}));
            };
            let cid = world.next_id();
            let r = world.repos.get_mut(&id).expect("repo");
            if *op == "delete" {
                r.issues.remove(&n);
                r.fates.insert(n, Fate::Deleted);
                return reply(StatusCode::OK, json!({"ok": true}));
            }
            let Some(i) = r.issues.get_mut(&n) else {
                return reply(StatusCode::NOT_FOUND, json!({"error": "no such issue"}));
            };
            match *op {
                "edit" => {
                    if let Some(t) = args["title"].as_str() {
                        i.title = t.into();
                    }
                    if let Some(b) = args["body"].as_str() {
                        i.body = Some(b.into());
                    }
                    if let Some(l) = args["labels"].as_array() {
                        i.labels = l
                            .iter()
                            .filter_map(|x| x.as_str().map(str::to_owned))
                            .collect();
                    }
                }
                "close" => {
                    i.state = "closed".into();
                    i.state_reason = Some("completed".into());
                    i.closed_at = Some(now);
                }
                "comment" => {
                    let body = args["body"].as_str().unwrap_or("a comment").to_owned();
                    r.comments.insert(
                        cid,
                        crate::data::CommentRec {
                            id: cid,
                            issue: n,
                            user: "mallory".into(),
                            body,
                            created_at: now,
                            updated_at: now,
                        },
                    );
                }
                _ => return reply(StatusCode::NOT_FOUND, json!({"error": "unknown operation"})),
            }
            if let Some(i) = r.issues.get_mut(&n) {
                i.updated_at = now.max(i.updated_at);
            }
            reply(StatusCode::OK, json!({"ok": true}))
        }
        _ => reply(
            StatusCode::NOT_FOUND,
            json!({"error": "unknown control route", "routes": ["GET /_sim/metrics", "POST /_sim/reset", "POST /_sim/issues/{owner}/{repo}/{n}/{edit|close|comment|delete}"]}),
        ),
    }
}
