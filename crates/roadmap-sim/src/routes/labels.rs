//! `/labels`: the listing, create, and one label by name.

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
    let keyed = r
        .labels
        .iter()
        .enumerate()
        .map(|(k, l)| ((k as i64, l.id), l))
        .collect();
    listing(paginate(
        keyed,
        true,
        &q,
        &link_base("labels"),
        wire.labels,
        wire,
        |l| render::label(urls, r, l),
    ))
}

pub(super) fn create(ctx: Ctx<'_>, _: &[&str]) -> Answer {
    let Ctx {
        world,
        urls,
        repo_id,
        json_body,
        ..
    } = ctx;
    let Some(name) = json_body["name"]
        .as_str()
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
    else {
        return Answer::validation("Label", "name", "missing_field");
    };
    if world.repos[&repo_id]
        .labels
        .iter()
        .any(|l| l.name.eq_ignore_ascii_case(&name))
    {
        return Answer::validation("Label", "name", "already_exists");
    }
    let color = json_body["color"]
        .as_str()
        .unwrap_or("ededed")
        .trim_start_matches('#')
        .to_lowercase();
    if color.len() != 6 || !color.chars().all(|c| c.is_ascii_hexdigit()) {
        return Answer::validation("Label", "color", "invalid");
    }
    let id = world.next_id();
    let r = world.repos.get_mut(&repo_id).expect("repo");
    let l = LabelRec {
        id,
        name,
        color,
        description: json_body["description"].as_str().map(str::to_owned),
        default: false,
    };
    r.labels.push(l.clone());
    let r = &world.repos[&repo_id];
    Answer::created(
        render::label(urls, r, &l),
        format!(
            "{}/repos/{}/{}/labels/{}",
            urls.api,
            r.owner,
            r.name,
            render::encode_segment(&l.name)
        ),
    )
}

pub(super) fn one(ctx: Ctx<'_>, args: &[&str]) -> Answer {
    let Ctx {
        world,
        urls,
        repo_id,
        ..
    } = ctx;
    let [name] = args else {
        return Answer::not_found();
    };
    let name = url::form_urlencoded::parse(format!("n={}", name.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    let r = &world.repos[&repo_id];
    match r.labels.iter().find(|l| l.name.eq_ignore_ascii_case(&name)) {
        Some(l) => Answer::json(StatusCode::OK, render::label(urls, r, l)),
        None => Answer::not_found(),
    }
}
