//! GitHub's JSON shapes for the simulated objects (checked against GitHub's schemas by the
//! conformance test).

use serde_json::{Value, json};

use crate::data::{CommentRec, IssueRec, LabelRec, MilestoneRec, Repo, World};

/// Base URLs of the rendered links.
#[derive(Debug, Clone)]
pub struct Urls {
    /// API base, e.g. `http://127.0.0.1:4321` (or with `/api/v3`).
    pub api: String,
    /// Web base, e.g. `https://github.com`.
    pub web: String,
}

/// RFC 3339 with second resolution, as GitHub writes timestamps.
pub fn ts(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".into())
}

pub(crate) fn b64(s: &str) -> String {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = s.as_bytes();
    let mut out = String::new();
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes standard base64 (with or without padding) into UTF-8 text.
pub(crate) fn unb64(s: &str) -> Option<String> {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for c in s.trim_end_matches('=').bytes() {
        let v = T.iter().position(|x| *x == c)? as u32;
        bits = (bits << 6) | v;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
            bits &= (1 << n) - 1;
        }
    }
    String::from_utf8(out).ok()
}

/// A legacy-format node id (`MDU6SXNzdWUx`-like) for a type and database id.
pub fn node_id(kind: &str, id: u64) -> String {
    let inner = format!("{kind}{id}");
    b64(&format!("0{}:{inner}", kind.len()))
}

/// A `simple-user`.
pub fn user(u: &Urls, world: &World, login: &str) -> Value {
    let id = world.user_id(login);
    let api = &u.api;
    json!({
        "login": login, "id": id, "node_id": node_id("User", id),
        "avatar_url": format!("https://avatars.githubusercontent.com/u/{id}?v=4"), "gravatar_id": "",
        "url": format!("{api}/users/{login}"), "html_url": format!("{}/{login}", u.web),
        "followers_url": format!("{api}/users/{login}/followers"),
        "following_url": format!("{api}/users/{login}/following{{/other_user}}"),
        "gists_url": format!("{api}/users/{login}/gists{{/gist_id}}"),
        "starred_url": format!("{api}/users/{login}/starred{{/owner}}{{/repo}}"),
        "subscriptions_url": format!("{api}/users/{login}/subscriptions"),
        "organizations_url": format!("{api}/users/{login}/orgs"),
        "repos_url": format!("{api}/users/{login}/repos"),
        "events_url": format!("{api}/users/{login}/events{{/privacy}}"),
        "received_events_url": format!("{api}/users/{login}/received_events"),
        "type": if login.ends_with("-bot") { "Bot" } else { "User" }, "site_admin": false,
        "user_view_type": "public"
    })
}

fn repo_api(u: &Urls, r: &Repo) -> String {
    format!("{}/repos/{}/{}", u.api, r.owner, r.name)
}

/// A `label`.
pub fn label(u: &Urls, r: &Repo, l: &LabelRec) -> Value {
    json!({
        "id": l.id, "node_id": node_id("Label", l.id),
        "url": format!("{}/labels/{}", repo_api(u, r), encode_segment(&l.name)),
        "name": l.name, "description": l.description, "color": l.color, "default": l.default
    })
}

/// Derived counts (comments per issue, open/closed issues per milestone), computed once per
/// request so that rendering a page stays linear.
#[derive(Debug, Default)]
pub struct Counts {
    comments: std::collections::HashMap<u64, u64>,
    milestones: std::collections::HashMap<u64, (u64, u64)>,
    /// By issue number: (open, all) issues blocking it.
    blocked_by: std::collections::HashMap<u64, (u64, u64)>,
    /// By issue number: (open, all) issues it blocks.
    blocking: std::collections::HashMap<u64, (u64, u64)>,
    /// By issue number: (closed, all) sub-issues.
    sub_issues: std::collections::HashMap<u64, (u64, u64)>,
    /// By sub-issue number: its parent's number.
    parent: std::collections::HashMap<u64, u64>,
}

impl Counts {
    /// Counts of one repository.
    pub fn of(r: &Repo) -> Self {
        let mut c = Counts::default();
        for cm in r.comments.values() {
            *c.comments.entry(cm.issue).or_default() += 1;
        }
        let open = |n: &u64| u64::from(r.issues.get(n).is_some_and(|i| i.state == "open"));
        for (n, blockers) in &r.blocked_by {
            for b in blockers {
                let e = c.blocked_by.entry(*n).or_default();
                *e = (e.0 + open(b), e.1 + 1);
                let e = c.blocking.entry(*b).or_default();
                *e = (e.0 + open(n), e.1 + 1);
            }
        }
        for (n, subs) in &r.sub_issues {
            let closed = subs.iter().map(|s| 1 - open(s)).sum();
            c.sub_issues.insert(*n, (closed, subs.len() as u64));
            for s in subs {
                c.parent.insert(*s, *n);
            }
        }
        for i in r.issues.values() {
            if let Some(m) = i.milestone {
                let e = c.milestones.entry(m).or_default();
                if i.state == "open" {
                    e.0 += 1
                } else {
                    e.1 += 1
                }
            }
        }
        c
    }
}

/// A `milestone`.
pub fn milestone(u: &Urls, world: &World, r: &Repo, m: &MilestoneRec, counts: &Counts) -> Value {
    let (open, closed) = counts
        .milestones
        .get(&m.number)
        .copied()
        .unwrap_or_default();
    let base = repo_api(u, r);
    json!({
        "url": format!("{base}/milestones/{}", m.number),
        "html_url": format!("{}/{}/{}/milestone/{}", u.web, r.owner, r.name, m.number),
        "labels_url": format!("{base}/milestones/{}/labels", m.number),
        "id": m.id, "node_id": node_id("Milestone", m.id), "number": m.number,
        "state": m.state, "title": m.title, "description": m.description,
        "creator": user(u, world, &m.creator),
        "open_issues": open, "closed_issues": closed,
        "created_at": ts(m.created_at), "updated_at": ts(m.updated_at),
        "closed_at": m.closed_at.map(ts), "due_on": m.due_on.map(ts)
    })
}

/// An `issue` (with a `pull_request` key for pull requests, as the issues endpoints do).
pub fn issue(u: &Urls, world: &World, r: &Repo, i: &IssueRec, counts: &Counts) -> Value {
    let base = repo_api(u, r);
    let labels: Vec<Value> = i
        .labels
        .iter()
        .filter_map(|n| r.labels.iter().find(|l| &l.name == n))
        .map(|l| label(u, r, l))
        .collect();
    let assignees: Vec<Value> = i.assignees.iter().map(|a| user(u, world, a)).collect();
    let comments = counts.comments.get(&i.number).copied().unwrap_or(0);
    let of = |m: &std::collections::HashMap<u64, (u64, u64)>| {
        m.get(&i.number).copied().unwrap_or((0, 0))
    };
    let (blocked_by, blocking, subs) = (
        of(&counts.blocked_by),
        of(&counts.blocking),
        of(&counts.sub_issues),
    );
    let mut v = json!({
        "id": i.id, "node_id": node_id(if i.is_pr { "PullRequest" } else { "Issue" }, i.id),
        "url": format!("{base}/issues/{}", i.number),
        "repository_url": base,
        "labels_url": format!("{base}/issues/{}/labels{{/name}}", i.number),
        "comments_url": format!("{base}/issues/{}/comments", i.number),
        "events_url": format!("{base}/issues/{}/events", i.number),
        "timeline_url": format!("{base}/issues/{}/timeline", i.number),
        "html_url": format!("{}/{}/{}/{}/{}", u.web, r.owner, r.name, if i.is_pr { "pull" } else { "issues" }, i.number),
        "number": i.number, "state": i.state, "state_reason": i.state_reason,
        "title": i.title, "body": i.body,
        "user": user(u, world, &i.user),
        "labels": labels,
        "assignee": assignees.first().cloned(),
        "assignees": assignees,
        "milestone": i.milestone.and_then(|n| r.milestones.get(&n)).map(|m| milestone(u, world, r, m, counts)),
        "locked": i.locked, "active_lock_reason": null,
        "comments": comments,
        "closed_at": i.closed_at.map(ts), "created_at": ts(i.created_at), "updated_at": ts(i.updated_at),
        "closed_by": null,
        "type": null,
        "sub_issues_summary": {"total": subs.1, "completed": subs.0, "percent_completed": (subs.0 * 100).checked_div(subs.1).unwrap_or(0)},
        "issue_dependencies_summary": {"blocked_by": blocked_by.0, "total_blocked_by": blocked_by.1, "blocking": blocking.0, "total_blocking": blocking.1},
        "author_association": if i.user == r.owner { "OWNER" } else { "CONTRIBUTOR" },
        "reactions": {
            "url": format!("{base}/issues/{}/reactions", i.number),
            "total_count": 0, "+1": 0, "-1": 0, "laugh": 0, "hooray": 0, "confused": 0, "heart": 0, "rocket": 0, "eyes": 0
        }
    });
    // As github.com: the key only on a sub-issue (an issue without a parent has none).
    if let Some(p) = counts.parent.get(&i.number)
        && world.parent_urls
    {
        v["parent_issue_url"] = json!(format!("{base}/issues/{p}"));
    }
    if world.without_relations
        && let Some(o) = v.as_object_mut()
    {
        o.remove("sub_issues_summary");
        o.remove("issue_dependencies_summary");
    }
    if i.is_pr {
        v["pull_request"] = json!({
            "url": format!("{base}/pulls/{}", i.number),
            "html_url": format!("{}/{}/{}/pull/{}", u.web, r.owner, r.name, i.number),
            "diff_url": format!("{}/{}/{}/pull/{}.diff", u.web, r.owner, r.name, i.number),
            "patch_url": format!("{}/{}/{}/pull/{}.patch", u.web, r.owner, r.name, i.number),
            "merged_at": null
        });
    }
    if r.mangled.contains(&i.number) {
        v["number"] = json!(i.number.to_string());
        v["labels"] = json!("not-a-list");
        v["user"] = json!(7);
    }
    v
}

/// An `issue-comment`.
pub fn comment(u: &Urls, world: &World, r: &Repo, c: &CommentRec) -> Value {
    let base = repo_api(u, r);
    json!({
        "id": c.id, "node_id": node_id("IssueComment", c.id),
        "url": format!("{base}/issues/comments/{}", c.id),
        "html_url": format!("{}/{}/{}/issues/{}#issuecomment-{}", u.web, r.owner, r.name, c.issue, c.id),
        "issue_url": format!("{base}/issues/{}", c.issue),
        "body": c.body, "user": user(u, world, &c.user),
        "created_at": ts(c.created_at), "updated_at": ts(c.updated_at),
        "author_association": "CONTRIBUTOR",
        "reactions": {
            "url": format!("{base}/issues/comments/{}/reactions", c.id),
            "total_count": 0, "+1": 0, "-1": 0, "laugh": 0, "hooray": 0, "confused": 0, "heart": 0, "rocket": 0, "eyes": 0
        }
    })
}

/// A `repository`.
pub fn repository(u: &Urls, world: &World, r: &Repo) -> Value {
    let base = repo_api(u, r);
    let open = r.issues.values().filter(|i| i.state == "open").count();
    let mut v = json!({
        "id": r.id, "node_id": node_id("Repository", r.id), "name": r.name,
        "full_name": format!("{}/{}", r.owner, r.name),
        "owner": user(u, world, &r.owner), "private": false,
        "html_url": format!("{}/{}/{}", u.web, r.owner, r.name),
        "description": "A simulated repository", "fork": false, "url": base,
        "clone_url": format!("{}/{}/{}.git", u.web, r.owner, r.name),
        "git_url": format!("git://github.com/{}/{}.git", r.owner, r.name),
        "ssh_url": format!("git@github.com:{}/{}.git", r.owner, r.name),
        "svn_url": format!("{}/{}/{}", u.web, r.owner, r.name),
        "mirror_url": null, "homepage": null, "language": "Rust",
        "forks": 0, "forks_count": 0, "stargazers_count": 0, "watchers_count": 0, "watchers": 0, "size": 0,
        "default_branch": "main", "open_issues": open, "open_issues_count": open,
        "is_template": false, "topics": [], "has_issues": true, "has_projects": true, "has_wiki": true,
        "has_pages": false, "has_downloads": true, "has_discussions": false, "archived": false, "disabled": false,
        "visibility": "public", "license": null,
        "pushed_at": ts(r.created_at), "created_at": ts(r.created_at), "updated_at": ts(r.created_at),
        "permissions": {"admin": false, "maintain": false, "push": true, "triage": true, "pull": true},
        "allow_forking": true, "web_commit_signoff_required": false,
        "network_count": 0, "subscribers_count": 0
    });
    let templated = [
        ("archive_url", "/{archive_format}{/ref}"),
        ("assignees_url", "/assignees{/user}"),
        ("blobs_url", "/git/blobs{/sha}"),
        ("branches_url", "/branches{/branch}"),
        ("collaborators_url", "/collaborators{/collaborator}"),
        ("comments_url", "/comments{/number}"),
        ("commits_url", "/commits{/sha}"),
        ("compare_url", "/compare/{base}...{head}"),
        ("contents_url", "/contents/{+path}"),
        ("contributors_url", "/contributors"),
        ("deployments_url", "/deployments"),
        ("downloads_url", "/downloads"),
        ("events_url", "/events"),
        ("forks_url", "/forks"),
        ("git_commits_url", "/git/commits{/sha}"),
        ("git_refs_url", "/git/refs{/sha}"),
        ("git_tags_url", "/git/tags{/sha}"),
        ("hooks_url", "/hooks"),
        ("issue_comment_url", "/issues/comments{/number}"),
        ("issue_events_url", "/issues/events{/number}"),
        ("issues_url", "/issues{/number}"),
        ("keys_url", "/keys{/key_id}"),
        ("labels_url", "/labels{/name}"),
        ("languages_url", "/languages"),
        ("merges_url", "/merges"),
        ("milestones_url", "/milestones{/number}"),
        (
            "notifications_url",
            "/notifications{?since,all,participating}",
        ),
        ("pulls_url", "/pulls{/number}"),
        ("releases_url", "/releases{/id}"),
        ("stargazers_url", "/stargazers"),
        ("statuses_url", "/statuses/{sha}"),
        ("subscribers_url", "/subscribers"),
        ("subscription_url", "/subscription"),
        ("tags_url", "/tags"),
        ("teams_url", "/teams"),
        ("trees_url", "/git/trees{/sha}"),
    ];
    for (k, suffix) in templated {
        v[k] = Value::String(format!("{base}{suffix}"));
    }
    v
}

/// Percent-encodes a path segment (label names contain spaces, slashes, emoji).
pub fn encode_segment(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Whether US daylight saving time (since 2007: second Sunday of March, 02:00 local, to the
/// first Sunday of November, 02:00 local) is in force at `secs` (UTC).
fn pacific_dst(secs: i64) -> bool {
    use chrono::{Datelike, NaiveDate, Weekday};
    let Some(t) = chrono::DateTime::from_timestamp(secs, 0) else {
        return false;
    };
    let year = t.year();
    let nth_sunday = |month: u32, n: u32| {
        NaiveDate::from_weekday_of_month_opt(year, month, Weekday::Sun, n as u8)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|d| d.and_utc().timestamp())
    };
    match (nth_sunday(3, 2), nth_sunday(11, 1)) {
        // 02:00 PST is 10:00 UTC; 02:00 PDT is 09:00 UTC.
        (Some(start), Some(end)) => secs >= start + 10 * 3600 && secs < end + 9 * 3600,
        _ => false,
    }
}

/// GitHub keeps a milestone's `due_on` as a calendar date in US-Pacific time and serves it
/// as that date's midnight there (`T07:00:00Z` in summer, `T08:00:00Z` in winter): the
/// instant a client sends is floored to its Pacific date.
pub fn pacific_midnight(secs: i64) -> i64 {
    let offset = |t: i64| if pacific_dst(t) { 7 * 3600 } else { 8 * 3600 };
    let local_day = (secs - offset(secs)).div_euclid(86_400) * 86_400;
    // Midnight local of that date, in UTC: try the summer offset, else the winter one.
    let summer = local_day + 7 * 3600;
    if pacific_dst(summer) {
        summer
    } else {
        local_day + 8 * 3600
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp()
    }

    #[test]
    fn due_dates_floor_to_the_pacific_date() {
        // Midnight UTC is the evening before in California.
        assert_eq!(
            ts(pacific_midnight(at("2026-07-15T00:00:00Z"))),
            "2026-07-14T07:00:00Z"
        );
        assert_eq!(
            ts(pacific_midnight(at("2026-07-15T12:00:00Z"))),
            "2026-07-15T07:00:00Z"
        );
        assert_eq!(
            ts(pacific_midnight(at("2026-01-15T12:00:00Z"))),
            "2026-01-15T08:00:00Z"
        );
        assert_eq!(
            ts(pacific_midnight(at("2026-01-15T08:00:00Z"))),
            "2026-01-15T08:00:00Z"
        );
        // The days of the switch: 2026-03-08 and 2026-11-01.
        assert_eq!(
            ts(pacific_midnight(at("2026-03-08T20:00:00Z"))),
            "2026-03-08T08:00:00Z"
        );
        assert_eq!(
            ts(pacific_midnight(at("2026-03-09T20:00:00Z"))),
            "2026-03-09T07:00:00Z"
        );
        assert_eq!(
            ts(pacific_midnight(at("2026-11-01T20:00:00Z"))),
            "2026-11-01T07:00:00Z"
        );
        assert_eq!(
            ts(pacific_midnight(at("2026-11-02T20:00:00Z"))),
            "2026-11-02T08:00:00Z"
        );
    }
}
