//! `/milestones`: the listing, create, get and edit.

use super::*;

pub(super) fn list(ctx: Ctx<'_>, _: &[&str]) -> Answer {
    let Ctx {
        world,
        urls,
        repo_id,
        q,
        wire,
        ..
    } = ctx;
    let link_base = |res: &str| link_base(urls, repo_id, res);
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

pub(super) fn create(ctx: Ctx<'_>, _: &[&str]) -> Answer {
    let Ctx {
        world,
        urls,
        repo_id,
        json_body,
        now,
        ..
    } = ctx;
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
    Answer::created(
        render::milestone(
            urls,
            world,
            r,
            &r.milestones[&number],
            &render::Counts::of(r),
        ),
        format!(
            "{}/repos/{}/{}/milestones/{number}",
            urls.api, r.owner, r.name
        ),
    )
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
    let Some(n) = number(args) else {
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
