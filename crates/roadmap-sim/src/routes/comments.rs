//! Comments: the repository-wide listing, an issue's comments (list, create), one comment
//! (get, edit, delete).

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

pub(super) fn of_issue(ctx: Ctx<'_>, args: &[&str]) -> Answer {
    let Ctx {
        world,
        urls,
        repo_id,
        q,
        json_body,
        now,
        wire,
        hidden,
        method: m,
        ..
    } = ctx;
    let link_base = |res: &str| link_base(urls, repo_id, res);
    let Some(n) = number(args) else {
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
        return Answer::created(
            render::comment(urls, world, r, &r.comments[&id]),
            format!(
                "{}/repos/{}/{}/issues/comments/{id}",
                urls.api, r.owner, r.name
            ),
        );
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

pub(super) fn one(ctx: Ctx<'_>, args: &[&str]) -> Answer {
    let Ctx {
        world,
        urls,
        repo_id,
        json_body,
        now,
        method: m,
        ..
    } = ctx;
    let [id] = args else {
        return Answer::not_found();
    };
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
