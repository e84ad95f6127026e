//! github.com as it answers today (docs/simulator.md, "github.com mode"): cursor pages,
//! 304s without `Link`, weak list ETags, strict header parsing, Enterprise Server without
//! rate limiting, and the field rules.

use std::collections::BTreeSet;

use roadmap_sim::{Limits, PageStyle, RepoSpec, SimConfig, Wire};
use serde_json::json;

use crate::{Env, TOKEN};

fn env_with(issues: u64, wire: Wire) -> Env {
    let mut spec = RepoSpec::new("octo", "demo");
    spec.issues = issues;
    spec.milestones = 3;
    spec.labels = 5;
    spec.comments = 1;
    Env::start(SimConfig::default().repo(spec).wire(wire))
}

#[test]
fn the_issue_listing_pages_by_cursor_with_next_and_prev_only() {
    let env = env_with(250, Wire::github());
    let first =
        env.get("/repos/octo/demo/issues?state=all&sort=updated&direction=asc&per_page=100");
    assert_eq!(first.status, 200);
    let next = first.link("next").expect("a next link");
    assert!(first.link("last").is_none() && first.link("first").is_none());
    assert!(first.link("prev").is_none(), "nothing before page 1");
    assert!(
        next.contains("after=") && next.contains("/repositories/1000/issues"),
        "{next}"
    );
    let second = env.get(&next);
    assert!(second.link("prev").unwrap().contains("before="));
    assert!(second.link("last").is_none());
    // `prev` leads back to the first page.
    let back = env.get(&second.link("prev").unwrap());
    assert_eq!(back.json(), first.json());
    let third = env.get(&second.link("next").unwrap());
    assert!(third.link("next").is_none(), "the last page has no next");
    let mut seen = BTreeSet::new();
    for p in [&first, &second, &third] {
        for i in p.json().as_array().unwrap() {
            assert!(seen.insert(i["number"].as_u64().unwrap()), "no repeats");
        }
    }
    assert_eq!(seen, (1..=250).collect());
}

#[test]
fn an_item_edited_mid_listing_moves_to_the_end_instead_of_shifting_pages() {
    let env = env_with(300, Wire::github());
    let first =
        env.get("/repos/octo/demo/issues?state=all&sort=updated&direction=asc&per_page=100");
    let page1: Vec<u64> = first
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["number"].as_u64().unwrap())
        .collect();
    // Someone edits an issue already listed: with page numbers every later page would shift
    // by one and an item would be skipped; with a cursor the rest is unaffected.
    assert!(
        env.sim
            .edit_issue("octo", "demo", page1[10], |i| i.title = "moved".into())
    );
    let mut url = first.link("next").unwrap();
    let mut rest = Vec::new();
    loop {
        let r = env.get(&url);
        rest.extend(
            r.json()
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["number"].as_u64().unwrap()),
        );
        match r.link("next") {
            Some(n) => url = n,
            None => break,
        }
    }
    let all: BTreeSet<u64> = page1.iter().chain(rest.iter()).copied().collect();
    assert_eq!(all, (1..=300).collect(), "nothing skipped");
    assert_eq!(
        rest.last(),
        Some(&page1[10]),
        "the edited item comes again, at the end"
    );
}

#[test]
fn a_hand_built_page_number_past_the_cap_is_refused_with_githubs_message() {
    let env = env_with(120, Wire::github());
    let ok = env.get("/repos/octo/demo/issues?state=all&per_page=10&page=10");
    assert_eq!(ok.status, 200, "small page numbers still work");
    let refused = env.get("/repos/octo/demo/issues?state=all&per_page=10&page=11");
    assert_eq!(refused.status, 422);
    assert_eq!(
        refused.json()["message"],
        "Pagination with the page parameter is not supported for large datasets, please use cursor based pagination (after/before)"
    );
    let bad = env.get("/repos/octo/demo/issues?state=all&after=bm9wZQ%3D%3D");
    assert_eq!(bad.status, 422, "a cursor that is not one");
    // Numbered listings have no cap.
    let labels = env.get("/repos/octo/demo/labels?per_page=1&page=40");
    assert_eq!(labels.status, 200);
}

#[test]
fn each_listing_style_is_selectable() {
    let env = env_with(30, Wire::all_cursor());
    for path in [
        "/repos/octo/demo/issues/comments?per_page=5",
        "/repos/octo/demo/milestones?state=all&per_page=1",
        "/repos/octo/demo/labels?per_page=2",
    ] {
        let r = env.get(path);
        assert!(r.link("next").unwrap().contains("after="), "{path}");
        assert!(r.link("last").is_none(), "{path}");
    }
    let mut wire = Wire::github();
    wire.issues = PageStyle::Numbered;
    let env = env_with(30, wire);
    let r = env.get("/repos/octo/demo/issues?state=all&per_page=5");
    assert!(r.link("last").unwrap().ends_with("page=6"));
}

#[test]
fn a_304_carries_no_link_unless_asked_to() {
    for (link_on_304, expect) in [(false, false), (true, true)] {
        let wire = Wire {
            link_on_304,
            ..Wire::github()
        };
        let env = env_with(150, wire);
        let path = "/repos/octo/demo/issues?state=all&per_page=100";
        let first = env.get(path);
        assert!(first.link("next").is_some());
        let etag = first.header("etag").unwrap();
        let again = env.get_with(
            path,
            &[
                ("Authorization", &format!("Bearer {TOKEN}")),
                ("If-None-Match", &etag),
            ],
        );
        assert_eq!(again.status, 304);
        assert_eq!(again.header("link").is_some(), expect);
    }
}

#[test]
fn a_repeated_singleton_header_is_a_400_as_on_a_strict_server() {
    let env = env_with(3, Wire::github());
    for (name, a, b) in [
        ("User-Agent", "octocrab", "roadmap/0.1.0"),
        ("X-GitHub-Api-Version", "2022-11-28", "2022-11-28"),
        ("Authorization", "Bearer a", "Bearer b"),
    ] {
        let status = env
            .agent
            .get(&env.url("/repos/octo/demo/issues"))
            .header("User-Agent", "t")
            .header(name, a)
            .header(name, b)
            .call()
            .unwrap()
            .status()
            .as_u16();
        assert_eq!(status, 400, "{name}");
    }
    let lenient = env_with(
        3,
        Wire {
            strict_headers: false,
            ..Wire::github()
        },
    );
    let r = lenient
        .agent
        .get(&lenient.url("/repos/octo/demo/issues"))
        .header("User-Agent", "a")
        .header("User-Agent", "b")
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
}

#[test]
fn enterprise_server_has_rate_limiting_off() {
    let env = env_with(5, Wire::enterprise_server());
    let r = env.get("/repos/octo/demo/issues?state=all");
    assert_eq!(r.status, 200);
    assert!(r.header("x-ratelimit-remaining").is_none());
    assert!(r.header("x-ratelimit-limit").is_none());
    let rl = env.get("/rate_limit");
    assert_eq!(rl.status, 404);
    assert_eq!(rl.json()["message"], "Rate limiting is not enabled.");
}

#[test]
fn secondary_limits_can_come_without_retry_after_and_in_the_old_wording() {
    let mut spec = RepoSpec::new("octo", "demo");
    spec.issues = 2;
    let limits = Limits {
        points_per_minute: 2,
        ..Limits::default()
    };
    let wire = Wire {
        secondary_retry_after: false,
        abuse_wording: true,
        ..Wire::github()
    };
    let env = Env::start(SimConfig::default().repo(spec).limits(limits).wire(wire));
    let mut last = None;
    for _ in 0..3 {
        last = Some(env.get("/repos/octo/demo/labels"));
    }
    let r = last.unwrap();
    assert_eq!(r.status, 403);
    assert!(r.header("retry-after").is_none());
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .contains("abuse detection mechanism")
    );
}

#[test]
fn field_rules_due_dates_locked_issues_long_bodies_and_deleted_comments() {
    let env = env_with(3, Wire::github());
    // A due date is kept as a Pacific calendar date.
    let ms = env.send(
        "POST",
        "/repos/octo/demo/milestones",
        json!({"title": "summer", "due_on": "2026-07-15T00:00:00Z"}),
    );
    assert_eq!(ms.json()["due_on"], "2026-07-14T07:00:00Z");
    let n = ms.json()["number"].as_u64().unwrap();
    let ms = env.send(
        "PATCH",
        &format!("/repos/octo/demo/milestones/{n}"),
        json!({"due_on": "2026-12-24T12:00:00Z"}),
    );
    assert_eq!(ms.json()["due_on"], "2026-12-24T08:00:00Z");

    // Commenting on a locked issue.
    assert!(env.sim.lock_issue("octo", "demo", 1, true));
    let c = env.send(
        "POST",
        "/repos/octo/demo/issues/1/comments",
        json!({"body": "hi"}),
    );
    assert_eq!(c.status, 403);
    assert_eq!(
        c.json()["message"],
        "Unable to create comment because issue is locked."
    );

    // Bodies over 65,536 characters.
    let long = "é".repeat(65_537);
    let r = env.send(
        "POST",
        "/repos/octo/demo/issues",
        json!({"title": "t", "body": long}),
    );
    assert_eq!(r.status, 422);
    assert_eq!(
        r.json()["errors"][0]["message"],
        "body is too long (maximum is 65536 characters)"
    );
    let exact = "é".repeat(65_536);
    let r = env.send(
        "POST",
        "/repos/octo/demo/issues",
        json!({"title": "t", "body": exact}),
    );
    assert_eq!(r.status, 201, "65,536 characters (131,072 bytes) are fine");
    let r = env.send(
        "POST",
        "/repos/octo/demo/issues/2/comments",
        json!({"body": long}),
    );
    assert_eq!(r.status, 422);

    // A comment can be edited and deleted.
    let c = env.send(
        "POST",
        "/repos/octo/demo/issues/2/comments",
        json!({"body": "x"}),
    );
    let id = c.json()["id"].as_u64().unwrap();
    let e = env.send(
        "PATCH",
        &format!("/repos/octo/demo/issues/comments/{id}"),
        json!({"body": "y"}),
    );
    assert_eq!(e.json()["body"], "y");
    let d = env
        .agent
        .delete(&env.url(&format!("/repos/octo/demo/issues/comments/{id}")))
        .header("User-Agent", "t")
        .header("Authorization", &format!("Bearer {TOKEN}"))
        .call()
        .unwrap();
    assert_eq!(d.status().as_u16(), 204);
    assert_eq!(
        env.get(&format!("/repos/octo/demo/issues/comments/{id}"))
            .status,
        404
    );

    // Today's issue fields.
    let i = env.get("/repos/octo/demo/issues/1").json();
    assert_eq!(i["sub_issues_summary"]["total"], 0);
    assert_eq!(i["issue_dependencies_summary"]["total_blocked_by"], 0);
    assert!(i.get("type").is_some() && i.get("state_reason").is_some());
    assert_eq!(i["user"]["user_view_type"], "public");
}
