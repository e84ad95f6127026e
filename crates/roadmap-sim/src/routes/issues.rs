//! `/issues`: the listing (filters, sorts, pages as the wire says), create, get and edit.

use super::*;

pub(super) fn list(ctx: Ctx<'_>, _: &[&str]) -> Answer {
    let Ctx {
        world,
        urls,
        repo_id,
        q,
        wire,
        hidden,
        ..
    } = ctx;
    let link_base = |res: &str| link_base(urls, repo_id, res);
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

pub(super) fn create(ctx: Ctx<'_>, _: &[&str]) -> Answer {
    let Ctx {
        world,
        urls,
        repo_id,
        json_body,
        now,
        no_push,
        ..
    } = ctx;
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
    if !no_push && let Err(a) = apply_issue_fields(world, repo_id, &mut rec, &json_body, now) {
        return a;
    }
    let r = world.repos.get_mut(&repo_id).expect("repo exists");
    rec.number = r.next_number;
    r.next_number += 1;
    let n = rec.number;
    r.issues.insert(n, rec);
    let r = &world.repos[&repo_id];
    Answer::created(
        render::issue(urls, world, r, &r.issues[&n], &render::Counts::of(r)),
        format!("{}/repos/{}/{}/issues/{n}", urls.api, r.owner, r.name),
    )
}

pub(super) fn one(ctx: Ctx<'_>, args: &[&str]) -> Answer {
    let Ctx {
        world,
        urls,
        repo_id,
        json_body,
        now,
        no_push,
        method: m,
        ..
    } = ctx;
    let Some(n) = number(args) else {
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
        if !no_push && let Err(a) = apply_issue_fields(world, repo_id, &mut rec, &json_body, now) {
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
