//! GitHub JSON → the model's remote types. Lean and tolerant where GitHub is (labels as
//! strings or objects), strict where a wrong value would corrupt data (numbers, timestamps).

use roadmap_model::{
    RemoteComment, RemoteIssue, RemoteLabel, RemoteMilestone, RemoteState, Timestamp,
};
use serde_json::Value;

fn s(v: &Value, k: &str) -> Result<String, String> {
    v.get(k)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| format!("field `{k}` missing or not a string"))
}

fn opt_s(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(str::to_owned)
}

fn n(v: &Value, k: &str) -> Result<u64, String> {
    v.get(k)
        .and_then(Value::as_u64)
        .ok_or_else(|| format!("field `{k}` missing or not a non-negative integer"))
}

fn t(v: &Value, k: &str) -> Result<Timestamp, String> {
    let text = s(v, k)?;
    Timestamp::parse(&text).map_err(|e| format!("field `{k}`: {e}"))
}

fn opt_t(v: &Value, k: &str) -> Result<Option<Timestamp>, String> {
    match v.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(_) => t(v, k).map(Some),
    }
}

fn state(v: &Value) -> Result<RemoteState, String> {
    match v.get("state").and_then(Value::as_str) {
        Some("open") => Ok(RemoteState::Open),
        Some("closed") => Ok(RemoteState::Closed),
        other => Err(format!("field `state`: unexpected {other:?}")),
    }
}

/// Whether an item of the issues list is a pull request.
pub fn is_pull_request(v: &Value) -> bool {
    v.get("pull_request").is_some_and(|p| !p.is_null())
}

/// What to call an unparseable item in a report.
pub fn describe(v: &Value) -> String {
    let number = v.get("number").and_then(|n| {
        n.as_u64()
            .or_else(|| n.as_str().and_then(|s| s.parse::<u64>().ok()))
    });
    match number {
        Some(n) => format!("#{n}"),
        None => v
            .get("id")
            .map_or_else(|| "an item".to_owned(), |id| format!("id {id}")),
    }
}

/// An issue.
pub fn issue(v: &Value) -> Result<RemoteIssue, String> {
    let labels = match v.get("labels") {
        Some(Value::Array(a)) => a
            .iter()
            .map(|l| match l {
                Value::String(s) => Ok(s.clone()),
                Value::Object(_) => s(l, "name"),
                _ => Err("a label that is neither a string nor an object".to_owned()),
            })
            .collect::<Result<Vec<_>, _>>()?,
        None | Some(Value::Null) => Vec::new(),
        Some(_) => return Err("field `labels` is not an array".into()),
    };
    let assignees = match v.get("assignees") {
        Some(Value::Array(a)) => a
            .iter()
            .map(|u| s(u, "login"))
            .collect::<Result<Vec<_>, _>>()?,
        _ => Vec::new(),
    };
    let milestone = match v.get("milestone") {
        None | Some(Value::Null) => None,
        Some(m) => Some(n(m, "number")?),
    };
    let number = n(v, "number")?;
    // Numbers are stored as SQLite integers (i64); GitHub's are far below that.
    if number == 0 || number > i64::MAX as u64 {
        return Err(format!("issue number {number} is out of range"));
    }
    Ok(RemoteIssue {
        number,
        id: n(v, "id")?,
        node_id: opt_s(v, "node_id").unwrap_or_default(),
        title: match v.get("title") {
            Some(Value::String(x)) => x.clone(),
            Some(Value::Number(x)) => x.to_string(),
            _ => return Err("field `title` missing or not a string".into()),
        },
        body: opt_s(v, "body"),
        state: state(v)?,
        state_reason: opt_s(v, "state_reason"),
        labels,
        assignees,
        milestone,
        author: v
            .get("user")
            .and_then(|u| u.get("login"))
            .and_then(Value::as_str)
            .unwrap_or("ghost")
            .to_owned(),
        comments: v.get("comments").and_then(Value::as_u64).unwrap_or(0),
        html_url: opt_s(v, "html_url").unwrap_or_default(),
        repository_url: opt_s(v, "repository_url").unwrap_or_default(),
        created_at: t(v, "created_at")?,
        updated_at: t(v, "updated_at")?,
        closed_at: opt_t(v, "closed_at")?,
    })
}

/// A milestone.
pub fn milestone(v: &Value) -> Result<RemoteMilestone, String> {
    Ok(RemoteMilestone {
        number: n(v, "number")?,
        id: n(v, "id")?,
        node_id: opt_s(v, "node_id").unwrap_or_default(),
        title: s(v, "title")?,
        description: opt_s(v, "description"),
        state: state(v)?,
        due_on: opt_t(v, "due_on")?,
        html_url: opt_s(v, "html_url").unwrap_or_default(),
        created_at: t(v, "created_at")?,
        updated_at: t(v, "updated_at")?,
    })
}

/// A label.
pub fn label(v: &Value) -> Result<RemoteLabel, String> {
    Ok(RemoteLabel {
        id: n(v, "id")?,
        name: s(v, "name")?,
        color: opt_s(v, "color").unwrap_or_default(),
        description: opt_s(v, "description"),
    })
}

/// A comment; its issue number comes from `issue_url`.
pub fn comment(v: &Value) -> Result<RemoteComment, String> {
    let issue_url = s(v, "issue_url")?;
    let issue_number = issue_url
        .rsplit('/')
        .next()
        .and_then(|x| x.parse().ok())
        .ok_or_else(|| format!("field `issue_url` has no issue number: {issue_url}"))?;
    Ok(RemoteComment {
        id: n(v, "id")?,
        issue_number,
        author: v
            .get("user")
            .and_then(|u| u.get("login"))
            .and_then(Value::as_str)
            .unwrap_or("ghost")
            .to_owned(),
        body: opt_s(v, "body").unwrap_or_default(),
        created_at: t(v, "created_at")?,
        updated_at: t(v, "updated_at")?,
    })
}
