//! GitHub JSON → the model's remote types, through typed wire structs (serde). Tolerant where
//! GitHub is (labels as strings or objects, a title sent as a number, absent optional
//! fields), strict where a wrong value would corrupt data (numbers, states, timestamps); a
//! refusal names the field (`field \`milestone.number\`: invalid type …`).

use roadmap_model::{
    RelationCounts, RemoteComment, RemoteIssue, RemoteLabel, RemoteMilestone, RemoteState,
    Timestamp,
};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Decodes `v` as `T`, naming the field that failed (`milestone.number: invalid type …`).
fn decode<T: DeserializeOwned>(v: &Value) -> Result<T, String> {
    serde_path_to_error::deserialize(v).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." {
            inner.to_string()
        } else {
            format!("field `{path}`: {inner}")
        }
    })
}

/// `open` or `closed`; anything else is refused.
#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum State {
    Open,
    Closed,
}

impl From<State> for RemoteState {
    fn from(s: State) -> Self {
        match s {
            State::Open => RemoteState::Open,
            State::Closed => RemoteState::Closed,
        }
    }
}

/// A user as GitHub embeds one; a deleted account shows as `ghost`.
#[derive(Deserialize)]
struct User {
    login: Option<String>,
}

fn login(user: Option<User>) -> String {
    user.and_then(|u| u.login).unwrap_or_else(|| "ghost".into())
}

#[derive(Deserialize)]
struct Assignee {
    login: String,
}

/// A label on an issue: an object, or (in older answers) its name.
#[derive(Deserialize)]
#[serde(untagged)]
enum LabelRef {
    Name(String),
    Object { name: String },
}

/// A title GitHub may send as a JSON number (a title typed as digits).
#[derive(Deserialize)]
#[serde(untagged)]
enum Title {
    Text(String),
    Number(serde_json::Number),
}

#[derive(Deserialize)]
struct MilestoneRef {
    number: u64,
}

/// An issue as the REST API sends it (the fields a sync reads; the rest are ignored).
#[derive(Deserialize)]
struct WireIssue {
    number: u64,
    id: u64,
    node_id: Option<String>,
    title: Title,
    body: Option<String>,
    state: State,
    state_reason: Option<String>,
    #[serde(default)]
    labels: Option<Vec<LabelRef>>,
    #[serde(default)]
    assignees: Option<Vec<Assignee>>,
    milestone: Option<MilestoneRef>,
    user: Option<User>,
    comments: Option<u64>,
    html_url: Option<String>,
    repository_url: Option<String>,
    created_at: Timestamp,
    updated_at: Timestamp,
    closed_at: Option<Timestamp>,
    #[serde(default)]
    issue_dependencies_summary: Option<DependencySummary>,
    #[serde(default)]
    sub_issues_summary: Option<SubIssueSummary>,
    #[serde(default)]
    parent_issue_url: Option<String>,
}

/// `issue_dependencies_summary`; a count that is missing or null reads as 0.
#[derive(Deserialize, Default)]
struct DependencySummary {
    #[serde(default)]
    total_blocked_by: Option<u64>,
    #[serde(default)]
    total_blocking: Option<u64>,
}

/// `sub_issues_summary`.
#[derive(Deserialize, Default)]
struct SubIssueSummary {
    #[serde(default)]
    total: Option<u64>,
    #[serde(default)]
    completed: Option<u64>,
}

#[derive(Deserialize)]
struct WireMilestone {
    number: u64,
    id: u64,
    node_id: Option<String>,
    title: String,
    description: Option<String>,
    state: State,
    due_on: Option<Timestamp>,
    html_url: Option<String>,
    created_at: Timestamp,
    updated_at: Timestamp,
}

#[derive(Deserialize)]
struct WireLabel {
    id: u64,
    name: String,
    color: Option<String>,
    description: Option<String>,
}

#[derive(Deserialize)]
struct WireComment {
    id: u64,
    issue_url: String,
    user: Option<User>,
    body: Option<String>,
    created_at: Timestamp,
    updated_at: Timestamp,
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
    let w: WireIssue = decode(v)?;
    // Numbers are stored as SQLite integers (i64); GitHub's are far below that.
    if w.number == 0 || w.number > i64::MAX as u64 {
        return Err(format!("issue number {} is out of range", w.number));
    }
    Ok(RemoteIssue {
        number: w.number,
        id: w.id,
        node_id: w.node_id.unwrap_or_default(),
        title: match w.title {
            Title::Text(t) => t,
            Title::Number(n) => n.to_string(),
        },
        body: w.body,
        state: w.state.into(),
        state_reason: w.state_reason,
        labels: w
            .labels
            .unwrap_or_default()
            .into_iter()
            .map(|l| match l {
                LabelRef::Name(name) | LabelRef::Object { name } => name,
            })
            .collect(),
        assignees: w
            .assignees
            .unwrap_or_default()
            .into_iter()
            .map(|a| a.login)
            .collect(),
        milestone: w.milestone.map(|m| m.number),
        author: login(w.user),
        comments: w.comments.unwrap_or(0),
        html_url: w.html_url.unwrap_or_default(),
        repository_url: w.repository_url.unwrap_or_default(),
        created_at: w.created_at,
        updated_at: w.updated_at,
        closed_at: w.closed_at,
        relations: {
            let known = w.issue_dependencies_summary.is_some() || w.sub_issues_summary.is_some();
            let DependencySummary {
                total_blocked_by,
                total_blocking,
            } = w.issue_dependencies_summary.unwrap_or_default();
            let SubIssueSummary { total, completed } = w.sub_issues_summary.unwrap_or_default();
            RelationCounts {
                known,
                blocked_by: total_blocked_by.unwrap_or(0),
                blocking: total_blocking.unwrap_or(0),
                sub_issues: total.unwrap_or(0),
                sub_issues_completed: completed.unwrap_or(0),
            }
        },
        parent_url: w.parent_issue_url,
        links: None,
    })
}

/// A milestone.
pub fn milestone(v: &Value) -> Result<RemoteMilestone, String> {
    let w: WireMilestone = decode(v)?;
    Ok(RemoteMilestone {
        number: w.number,
        id: w.id,
        node_id: w.node_id.unwrap_or_default(),
        title: w.title,
        description: w.description,
        state: w.state.into(),
        due_on: w.due_on,
        html_url: w.html_url.unwrap_or_default(),
        created_at: w.created_at,
        updated_at: w.updated_at,
    })
}

/// A label.
pub fn label(v: &Value) -> Result<RemoteLabel, String> {
    let w: WireLabel = decode(v)?;
    Ok(RemoteLabel {
        id: w.id,
        name: w.name,
        color: w.color.unwrap_or_default(),
        description: w.description,
    })
}

/// A comment; its issue number comes from `issue_url`.
pub fn comment(v: &Value) -> Result<RemoteComment, String> {
    let w: WireComment = decode(v)?;
    let issue_number = w
        .issue_url
        .rsplit('/')
        .next()
        .and_then(|x| x.parse().ok())
        .ok_or_else(|| format!("field `issue_url` has no issue number: {}", w.issue_url))?;
    Ok(RemoteComment {
        id: w.id,
        issue_number,
        author: login(w.user),
        body: w.body.unwrap_or_default(),
        created_at: w.created_at,
        updated_at: w.updated_at,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn base() -> Value {
        json!({"number": 7, "id": 70, "title": "t", "state": "open",
               "created_at": "2025-01-01T00:00:00Z", "updated_at": "2025-01-02T00:00:00Z"})
    }

    #[test]
    fn tolerant_where_github_is_and_naming_the_field_where_it_is_not() {
        let mut v = base();
        v["labels"] = json!(["Priority: High", {"name": "bug", "color": "d73a4a"}]);
        v["title"] = json!(2024);
        let i = issue(&v).expect("parses");
        assert_eq!(i.labels, ["Priority: High", "bug"]);
        assert_eq!((i.title.as_str(), i.author.as_str()), ("2024", "ghost"));
        assert_eq!((i.comments, i.milestone, i.body), (0, None, None));

        for (field, value, named) in [
            (
                "milestone",
                json!({"number": "x"}),
                "field `milestone.number`",
            ),
            ("state", json!("merged"), "field `state`"),
            ("updated_at", json!("yesterday"), "field `updated_at`"),
            ("labels", json!("bug"), "field `labels`"),
        ] {
            let mut v = base();
            v[field] = value;
            let err = issue(&v).expect_err(field);
            assert!(err.starts_with(named), "{field}: {err}");
        }
        let mut v = base();
        v.as_object_mut().expect("object").remove("number");
        assert!(issue(&v).expect_err("no number").contains("`number`"));
        v["number"] = json!(u64::MAX - 1);
        assert!(issue(&v).expect_err("too big").contains("out of range"));
    }
}
