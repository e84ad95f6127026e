//! Issue relations: dependencies (`…/dependencies/blocked_by`, `…/dependencies/blocking`)
//! and sub-issues (`…/sub_issues`, `…/sub_issue`, `…/sub_issues/priority`). Writes name the
//! other issue by its database **id**, not its number, as GitHub's do; listings page by
//! number (`per_page`, `page`). A relation change does not touch either issue's
//! `updated_at` (not established on github.com); the summaries every issue carries change.
//!
//! Not established either, so chosen here: a write answers with the other issue (a
//! dependency) or the parent (a sub-issue change), the same repository only.

use super::*;

/// The number of the issue with database id `id`, in `repo_id`.
fn by_id(world: &World, repo_id: u64, id: Option<u64>) -> Option<u64> {
    let id = id?;
    world.repos[&repo_id]
        .issues
        .values()
        .find(|i| i.id == id)
        .map(|i| i.number)
}

fn id_field(body: &Value, field: &str) -> Option<u64> {
    body.get(field).and_then(Value::as_u64)
}

/// Issues `numbers` as a numbered listing.
fn list_of(ctx: Ctx<'_>, numbers: &[u64], res: &str) -> Answer {
    let Ctx {
        world,
        urls,
        repo_id,
        q,
        wire,
        ..
    } = ctx;
    let r = &world.repos[&repo_id];
    let counts = render::Counts::of(r);
    let keyed = numbers
        .iter()
        .enumerate()
        .filter_map(|(k, n)| r.issues.get(n).map(|i| ((k as i64, i.id), i)))
        .collect();
    listing(paginate(
        keyed,
        true,
        &q,
        &link_base(urls, repo_id, res),
        crate::wire::PageStyle::Numbered,
        wire,
        |i| render::issue(urls, world, r, i, &counts),
    ))
}

fn one_issue(world: &World, urls: &Urls, repo_id: u64, n: u64) -> Value {
    let r = &world.repos[&repo_id];
    render::issue(urls, world, r, &r.issues[&n], &render::Counts::of(r))
}

/// The issue of `{n}`, or the answer to give instead.
fn target(ctx: &Ctx<'_>, args: &[&str]) -> Result<u64, Box<Answer>> {
    if !ctx.wire.relations {
        // A host from before relations has no such routes.
        return Err(Box::new(Answer::not_found()));
    }
    let n = number(args).ok_or_else(|| Box::new(Answer::not_found()))?;
    if let Some(a) = fate_answer(ctx.world, ctx.urls, ctx.repo_id, n) {
        return Err(Box::new(a));
    }
    if !ctx.world.repos[&ctx.repo_id].issues.contains_key(&n) {
        return Err(Box::new(Answer::not_found()));
    }
    Ok(n)
}

/// `GET`: the issues blocking `{n}`; `POST {issue_id}`: one more.
pub(super) fn blocked_by(ctx: Ctx<'_>, args: &[&str]) -> Answer {
    let n = match target(&ctx, &args[..1]) {
        Ok(n) => n,
        Err(a) => return *a,
    };
    if ctx.method == Method::GET {
        let numbers = ctx.world.repos[&ctx.repo_id]
            .blocked_by
            .get(&n)
            .cloned()
            .unwrap_or_default();
        return list_of(
            ctx,
            &numbers,
            &format!("issues/{n}/dependencies/blocked_by"),
        );
    }
    let Some(b) = by_id(ctx.world, ctx.repo_id, id_field(&ctx.json_body, "issue_id")) else {
        return Answer::not_found();
    };
    let r = ctx.world.repos.get_mut(&ctx.repo_id).expect("repo");
    let list = r.blocked_by.entry(n).or_default();
    if b == n || list.contains(&b) {
        return Answer::validation("IssueDependency", "issue_id", "invalid");
    }
    list.push(b);
    let body = one_issue(ctx.world, ctx.urls, ctx.repo_id, b);
    let location = link_base(
        ctx.urls,
        ctx.repo_id,
        &format!("issues/{n}/dependencies/blocked_by"),
    );
    Answer::created(body, location)
}

/// `DELETE …/blocked_by/{issue_id}`.
pub(super) fn unblock(ctx: Ctx<'_>, args: &[&str]) -> Answer {
    let n = match target(&ctx, &args[..1]) {
        Ok(n) => n,
        Err(a) => return *a,
    };
    let b = by_id(
        ctx.world,
        ctx.repo_id,
        args.get(1).and_then(|s| s.parse().ok()),
    );
    let r = ctx.world.repos.get_mut(&ctx.repo_id).expect("repo");
    let Some((b, list)) = b.zip(r.blocked_by.get_mut(&n)) else {
        return Answer::not_found();
    };
    let Some(at) = list.iter().position(|x| *x == b) else {
        return Answer::not_found();
    };
    list.remove(at);
    Answer::changed(one_issue(ctx.world, ctx.urls, ctx.repo_id, b))
}

/// `GET`: the issues `{n}` blocks.
pub(super) fn blocking(ctx: Ctx<'_>, args: &[&str]) -> Answer {
    let n = match target(&ctx, args) {
        Ok(n) => n,
        Err(a) => return *a,
    };
    let numbers: Vec<u64> = ctx.world.repos[&ctx.repo_id]
        .blocked_by
        .iter()
        .filter(|(_, bs)| bs.contains(&n))
        .map(|(k, _)| *k)
        .collect();
    list_of(ctx, &numbers, &format!("issues/{n}/dependencies/blocking"))
}

/// The parent of sub-issue `n`.
fn parent_of(r: &crate::data::Repo, n: u64) -> Option<u64> {
    r.sub_issues
        .iter()
        .find(|(_, subs)| subs.contains(&n))
        .map(|(p, _)| *p)
}

/// `GET`: the sub-issues of `{n}`, in order; `POST {sub_issue_id, replace_parent}`: one
/// more, last.
pub(super) fn sub_issues(ctx: Ctx<'_>, args: &[&str]) -> Answer {
    let n = match target(&ctx, args) {
        Ok(n) => n,
        Err(a) => return *a,
    };
    if ctx.method == Method::GET {
        let numbers = ctx.world.repos[&ctx.repo_id]
            .sub_issues
            .get(&n)
            .cloned()
            .unwrap_or_default();
        return list_of(ctx, &numbers, &format!("issues/{n}/sub_issues"));
    }
    let Some(s) = by_id(
        ctx.world,
        ctx.repo_id,
        id_field(&ctx.json_body, "sub_issue_id"),
    ) else {
        return Answer::not_found();
    };
    let replace = ctx.json_body["replace_parent"].as_bool() == Some(true);
    let r = ctx.world.repos.get_mut(&ctx.repo_id).expect("repo");
    // Not itself, not one of its own ancestors.
    let mut up = Some(n);
    while let Some(a) = up {
        if a == s {
            return Answer::validation("SubIssue", "sub_issue_id", "invalid");
        }
        up = parent_of(r, a);
    }
    match parent_of(r, s) {
        Some(p) if p == n => return Answer::validation("SubIssue", "sub_issue_id", "invalid"),
        Some(_) if !replace => {
            return Answer::validation("SubIssue", "sub_issue_id", "already_exists");
        }
        Some(p) => {
            if let Some(list) = r.sub_issues.get_mut(&p) {
                list.retain(|x| *x != s);
            }
        }
        None => {}
    }
    r.sub_issues.entry(n).or_default().push(s);
    let body = one_issue(ctx.world, ctx.urls, ctx.repo_id, n);
    let location = link_base(ctx.urls, ctx.repo_id, &format!("issues/{n}/sub_issues"));
    Answer::created(body, location)
}

/// `DELETE …/sub_issue {sub_issue_id}`.
pub(super) fn remove_sub_issue(ctx: Ctx<'_>, args: &[&str]) -> Answer {
    let n = match target(&ctx, args) {
        Ok(n) => n,
        Err(a) => return *a,
    };
    let s = by_id(
        ctx.world,
        ctx.repo_id,
        id_field(&ctx.json_body, "sub_issue_id"),
    );
    let r = ctx.world.repos.get_mut(&ctx.repo_id).expect("repo");
    let Some((s, list)) = s.zip(r.sub_issues.get_mut(&n)) else {
        return Answer::not_found();
    };
    let Some(at) = list.iter().position(|x| *x == s) else {
        return Answer::not_found();
    };
    list.remove(at);
    Answer::changed(one_issue(ctx.world, ctx.urls, ctx.repo_id, n))
}

/// `PATCH …/sub_issues/priority {sub_issue_id, after_id | before_id}`: moves a sub-issue.
pub(super) fn reprioritize(ctx: Ctx<'_>, args: &[&str]) -> Answer {
    let n = match target(&ctx, args) {
        Ok(n) => n,
        Err(a) => return *a,
    };
    let find = |f: &str| by_id(ctx.world, ctx.repo_id, id_field(&ctx.json_body, f));
    let (s, after, before) = (find("sub_issue_id"), find("after_id"), find("before_id"));
    let r = ctx.world.repos.get_mut(&ctx.repo_id).expect("repo");
    let Some((s, list)) = s.zip(r.sub_issues.get_mut(&n)) else {
        return Answer::not_found();
    };
    let anchor = match (after, before) {
        (Some(a), None) => Ok(a),
        (None, Some(b)) => Err(b),
        _ => return Answer::validation("SubIssue", "after_id", "invalid"),
    };
    let other = match anchor {
        Ok(a) | Err(a) => a,
    };
    if !list.contains(&s) || !list.contains(&other) || other == s {
        return Answer::validation("SubIssue", "sub_issue_id", "invalid");
    }
    list.retain(|x| *x != s);
    let at = list.iter().position(|x| *x == other).unwrap_or(0);
    list.insert(if anchor.is_ok() { at + 1 } else { at }, s);
    Answer::changed(one_issue(ctx.world, ctx.urls, ctx.repo_id, n))
}
