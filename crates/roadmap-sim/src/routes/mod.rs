//! The routes: a table of `(method, path pattern, handler)` tried in order, one file per
//! resource. A handler gets the request's [`Ctx`] and the pattern's `{…}` segments, and
//! answers as GitHub does; headers, limits, faults and latency are the server's (server.rs).

mod comments;
mod issues;
mod labels;
mod milestones;
mod relations;

use std::collections::{BTreeMap, HashSet};

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::data::{CommentRec, Fate, IssueRec, LabelRec, MilestoneRec, World};
use crate::render::{self, Urls};
use crate::server::{Answer, DOCS, MAX_BODY, now};
use crate::wire::paginate;

/// What a repository route's handler sees.
struct Ctx<'a> {
    world: &'a mut World,
    urls: &'a Urls,
    method: Method,
    repo_id: u64,
    q: Vec<(String, String)>,
    /// The request body (`{}` when there is none).
    json_body: Value,
    now: i64,
    /// The token may read but not push: labels, assignees and milestone are dropped, as
    /// GitHub drops them silently.
    no_push: bool,
    wire: &'a crate::Wire,
    /// Items created moments ago that listings do not show yet (`listing_lag`).
    hidden: &'a HashSet<u64>,
}

type Handler = fn(Ctx<'_>, &[&str]) -> Answer;

/// Routes under `/repos/{owner}/{repo}/` (or `/repositories/{id}/`), first match wins.
/// `{…}` matches one segment, handed to the handler in order.
const REPO_ROUTES: &[(Method, &str, Handler)] = &[
    (Method::GET, "", repository),
    (Method::GET, "issues", issues::list),
    (Method::POST, "issues", issues::create),
    (Method::GET, "issues/comments", comments::list),
    (Method::GET, "issues/{n}", issues::one),
    (Method::PATCH, "issues/{n}", issues::one),
    (
        Method::GET,
        "issues/{n}/dependencies/blocked_by",
        relations::blocked_by,
    ),
    (
        Method::POST,
        "issues/{n}/dependencies/blocked_by",
        relations::blocked_by,
    ),
    (
        Method::DELETE,
        "issues/{n}/dependencies/blocked_by/{id}",
        relations::unblock,
    ),
    (
        Method::GET,
        "issues/{n}/dependencies/blocking",
        relations::blocking,
    ),
    (Method::GET, "issues/{n}/sub_issues", relations::sub_issues),
    (Method::POST, "issues/{n}/sub_issues", relations::sub_issues),
    (
        Method::DELETE,
        "issues/{n}/sub_issue",
        relations::remove_sub_issue,
    ),
    (
        Method::PATCH,
        "issues/{n}/sub_issues/priority",
        relations::reprioritize,
    ),
    (Method::GET, "issues/{n}/comments", comments::of_issue),
    (Method::POST, "issues/{n}/comments", comments::of_issue),
    (Method::GET, "issues/comments/{id}", comments::one),
    (Method::PATCH, "issues/comments/{id}", comments::one),
    (Method::DELETE, "issues/comments/{id}", comments::one),
    (Method::GET, "milestones", milestones::list),
    (Method::POST, "milestones", milestones::create),
    (Method::GET, "milestones/{n}", milestones::one),
    (Method::PATCH, "milestones/{n}", milestones::one),
    (Method::GET, "labels", labels::list),
    (Method::POST, "labels", labels::create),
    (Method::GET, "labels/{name}", labels::one),
];

/// The `{…}` segments of `path` if it matches `pattern`.
fn matches<'s>(pattern: &str, path: &[&'s str]) -> Option<Vec<&'s str>> {
    let pattern: Vec<&str> = if pattern.is_empty() {
        Vec::new()
    } else {
        pattern.split('/').collect()
    };
    if pattern.len() != path.len() {
        return None;
    }
    let mut args = Vec::new();
    for (p, s) in pattern.iter().zip(path) {
        if p.starts_with('{') {
            args.push(*s);
        } else if p != s {
            return None;
        }
    }
    Some(args)
}

/// Answers one request (before the server's headers, limits, faults and latency).
#[allow(clippy::too_many_arguments)]
pub(crate) fn route(
    world: &mut World,
    urls: &Urls,
    method: &Method,
    segs: &[&str],
    query: &str,
    body: &[u8],
    authenticated: bool,
    no_push: bool,
    wire: &crate::Wire,
    hidden: &HashSet<u64>,
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
    for (m, pattern, handler) in REPO_ROUTES {
        if m != method {
            continue;
        }
        if let Some(args) = matches(pattern, rest) {
            let ctx = Ctx {
                world,
                urls,
                method: method.clone(),
                repo_id,
                q,
                json_body,
                now: now(),
                no_push,
                wire,
                hidden,
            };
            return handler(ctx, &args);
        }
    }
    Answer::not_found()
}

/// The one `{n}` segment of a route as a number (`None` answers 404, as GitHub does).
fn number(args: &[&str]) -> Option<u64> {
    match args {
        [n] => n.parse().ok(),
        _ => None,
    }
}

fn link_base(urls: &Urls, repo_id: u64, res: &str) -> String {
    format!("{}/repositories/{repo_id}/{res}", urls.api)
}

fn repository(ctx: Ctx<'_>, _: &[&str]) -> Answer {
    let Ctx {
        world,
        urls,
        repo_id,
        ..
    } = ctx;
    let r = &world.repos[&repo_id];
    Answer::json(StatusCode::OK, render::repository(urls, world, r))
}

fn too_long(body: &Value) -> bool {
    body.get("body")
        .and_then(Value::as_str)
        .is_some_and(|b| b.chars().count() > MAX_BODY)
}

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
