//! Pagination, `since`, conditional requests, rate limits, faults and the control API.

use std::collections::BTreeSet;
use std::time::Duration;

use roadmap_sim::{FaultKind, Faults, Limits, RepoSpec, ScriptedFault, SimConfig, Wire};
use serde_json::json;

use crate::{Env, TOKEN};

/// Follows `next` links from `first`, returning every item's number and the pages walked.
fn walk(env: &Env, first: &str) -> (Vec<u64>, usize) {
    let mut url = first.to_owned();
    let mut numbers = Vec::new();
    let mut pages = 0;
    loop {
        let r = env.get(&url);
        assert_eq!(r.status, 200, "{url}: {}", r.body);
        pages += 1;
        for i in r.json().as_array().unwrap() {
            numbers.push(
                i["number"]
                    .as_u64()
                    .unwrap_or_else(|| i["id"].as_u64().unwrap()),
            );
        }
        match r.link("next") {
            Some(next) => {
                assert!(
                    next.contains("/repositories/1000/"),
                    "links point at /repositories/{{id}}: {next}"
                );
                url = next;
            }
            None => break,
        }
        assert!(pages < 1000);
    }
    (numbers, pages)
}

#[test]
fn pagination_walk_equals_the_full_set_for_many_sizes_and_filters() {
    for (issues, prs) in [(0u64, 0u64), (1, 0), (99, 1), (100, 0), (101, 0), (250, 37)] {
        let env = Env::repo(issues, prs);
        let total = issues + prs;
        for per_page in [1u64, 7, 30, 100, 500] {
            if per_page == 1 && total > 120 {
                continue;
            }
            let (numbers, pages) = walk(
                &env,
                &format!("/repos/octo/demo/issues?state=all&per_page={per_page}"),
            );
            let effective = per_page.min(100);
            assert_eq!(
                pages as u64,
                total.div_ceil(effective).max(1),
                "pages for {total} items at {per_page}/page"
            );
            let set: BTreeSet<u64> = numbers.iter().copied().collect();
            assert_eq!(set.len() as u64, total, "no duplicates, nothing missing");
            assert_eq!(
                set,
                (1..=total).collect(),
                "{total} items at per_page={per_page}"
            );
        }
        if total == 0 {
            continue;
        }
        // Filters: the walk equals the filter applied to the full list.
        let all = env
            .get("/repos/octo/demo/issues?state=all&per_page=100&page=1")
            .json();
        let _ = all;
        for filter in [
            "state=open",
            "state=closed",
            "labels=bug",
            "milestone=none",
            "milestone=*",
            "milestone=2",
            "assignee=alice",
            "assignee=none",
        ] {
            let (walked, _) = walk(
                &env,
                &format!("/repos/octo/demo/issues?{filter}&per_page=13&sort=updated&direction=asc"),
            );
            let (full, _) = walk(
                &env,
                &format!(
                    "/repos/octo/demo/issues?{filter}&per_page=100&sort=updated&direction=asc"
                ),
            );
            assert_eq!(walked, full, "{filter}");
        }
    }
}

#[test]
fn numbered_pages_link_first_prev_next_last() {
    let mut spec = RepoSpec::new("octo", "demo");
    spec.issues = 95;
    spec.prs = 5;
    let env = Env::start(SimConfig::default().repo(spec).wire(Wire::numbered()));
    let r = env.get("/repos/octo/demo/issues?state=all&per_page=10&page=3");
    for rel in ["first", "prev", "next", "last"] {
        assert!(r.link(rel).is_some(), "{rel} in {:?}", r.header("link"));
    }
    assert!(r.link("last").unwrap().ends_with("page=10"));
    assert!(
        env.get("/repos/octo/demo/issues?state=all&per_page=100")
            .header("link")
            .is_none(),
        "one page, no Link"
    );
    // Under the Enterprise prefix, links keep it.
    let ghe = env.get("/api/v3/repos/octo/demo/issues?state=all&per_page=10");
    assert_eq!(ghe.status, 200);
    assert!(
        ghe.link("next")
            .unwrap()
            .contains("/api/v3/repositories/1000/issues")
    );
}

#[test]
fn since_is_inclusive_and_sorted_by_update() {
    let env = Env::repo(40, 0);
    let all = env
        .get("/repos/octo/demo/issues?state=all&sort=updated&direction=asc&per_page=100")
        .json();
    let all = all.as_array().unwrap();
    let mid = all[20]["updated_at"].as_str().unwrap().to_owned();
    let since = env
        .get(&format!(
            "/repos/octo/demo/issues?state=all&sort=updated&direction=asc&per_page=100&since={mid}"
        ))
        .json();
    let since = since.as_array().unwrap();
    assert!(
        since
            .iter()
            .all(|i| i["updated_at"].as_str().unwrap() >= mid.as_str())
    );
    assert_eq!(
        since[0]["updated_at"].as_str().unwrap(),
        mid,
        "an item updated exactly at `since` is included"
    );
    let ts: Vec<&str> = since
        .iter()
        .map(|i| i["updated_at"].as_str().unwrap())
        .collect();
    assert!(ts.windows(2).all(|w| w[0] <= w[1]));

    // An edit moves updated_at to now (whole seconds) and the item reappears after `since`.
    assert!(
        env.sim
            .edit_issue("octo", "demo", 1, |i| i.title = "edited".into())
    );
    let latest = all.last().unwrap()["updated_at"].as_str().unwrap();
    let fresh = env
        .get(&format!(
            "/repos/octo/demo/issues?state=all&sort=updated&direction=asc&since={latest}"
        ))
        .json();
    assert!(
        fresh
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["number"] == 1 && i["title"] == "edited")
    );
    assert!(
        fresh
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["updated_at"].as_str().unwrap().ends_with('Z'))
    );
}

#[test]
fn etags_answer_304_without_using_the_rate_limit() {
    let env = Env::repo(30, 0);
    let single = env.get("/repos/octo/demo/issues/1").header("etag").unwrap();
    assert!(single.starts_with('"'), "an object's is strong: {single}");
    let first = env.get("/repos/octo/demo/issues?state=all");
    let etag = first.header("etag").unwrap();
    assert!(etag.starts_with("W/\""), "a listing's etag is weak: {etag}");
    let used: u64 = first.header("x-ratelimit-used").unwrap().parse().unwrap();
    let auth = format!("Bearer {TOKEN}");
    let again = env.get_with(
        "/repos/octo/demo/issues?state=all",
        &[("Authorization", &auth), ("If-None-Match", &etag)],
    );
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    assert_eq!(
        again
            .header("x-ratelimit-used")
            .unwrap()
            .parse::<u64>()
            .unwrap(),
        used,
        "a 304 is free"
    );
    // Another token gets another ETag: they are per token.
    let other = env.get_with(
        "/repos/octo/demo/issues?state=all",
        &[("Authorization", "Bearer other"), ("If-None-Match", &etag)],
    );
    assert_eq!(other.status, 200);
    // A change invalidates it.
    env.sim
        .edit_issue("octo", "demo", 2, |i| i.labels = vec!["bug".into()]);
    let changed = env.get_with(
        "/repos/octo/demo/issues?state=all",
        &[("Authorization", &auth), ("If-None-Match", &etag)],
    );
    assert_eq!(changed.status, 200);
    // Unauthenticated 304s still count.
    let anon = env.get_with("/repos/octo/demo/labels", &[]);
    let anon_etag = anon.header("etag").unwrap();
    let anon304 = env.get_with("/repos/octo/demo/labels", &[("If-None-Match", &anon_etag)]);
    assert_eq!(anon304.status, 304);
    assert_eq!(anon304.header("x-ratelimit-used").unwrap(), "2");
    assert_eq!(env.sim.metrics().not_modified, 2);
}

#[test]
fn primary_limit_headers_and_exhaustion() {
    let mut spec = RepoSpec::new("octo", "demo");
    spec.issues = 5;
    let limits = Limits {
        primary: 3,
        unauthenticated: 2,
        primary_window: Duration::from_secs(2),
        ..Limits::default()
    };
    let env = Env::start(SimConfig::default().repo(spec).limits(limits.clone()));
    for i in 1..=3u64 {
        let r = env.get("/repos/octo/demo/labels");
        assert_eq!(r.status, 200);
        assert_eq!(r.header("x-ratelimit-limit").unwrap(), "3");
        assert_eq!(r.header("x-ratelimit-used").unwrap(), i.to_string());
        assert_eq!(
            r.header("x-ratelimit-remaining").unwrap(),
            (3 - i).to_string()
        );
        assert_eq!(r.header("x-ratelimit-resource").unwrap(), "core");
        assert!(
            r.header("x-ratelimit-reset")
                .unwrap()
                .parse::<u64>()
                .unwrap()
                > 1_700_000_000
        );
    }
    let refused = env.get("/repos/octo/demo/labels");
    assert_eq!(refused.status, 403);
    assert_eq!(refused.header("x-ratelimit-remaining").unwrap(), "0");
    assert!(
        refused.json()["message"]
            .as_str()
            .unwrap()
            .starts_with("API rate limit exceeded")
    );
    // /rate_limit is free and still answers.
    assert_eq!(env.get("/rate_limit").status, 200);
    // Unauthenticated requests have their own, smaller limit.
    assert_eq!(
        env.get_with("/repos/octo/demo", &[])
            .header("x-ratelimit-limit")
            .unwrap(),
        "2"
    );
    // After the (compressed) window the budget is back.
    std::thread::sleep(Duration::from_millis(2100));
    assert_eq!(env.get("/repos/octo/demo/labels").status, 200);
    // 429 when configured so.
    env.sim.set_limits(Limits {
        primary: 0,
        primary_status_429: true,
        ..limits
    });
    env.sim.reset_limits();
    assert_eq!(env.get("/repos/octo/demo/labels").status, 429);
}

#[test]
fn secondary_limits_answer_with_retry_after() {
    let mut spec = RepoSpec::new("octo", "demo");
    spec.issues = 3;
    let limits = Limits {
        points_per_minute: 12,
        content_per_minute: 2,
        minute: Duration::from_secs(5),
        ..Limits::default()
    };
    let env = Env::start(SimConfig::default().repo(spec).limits(limits));
    // Writes cost 5 points: two creates fit in 12, the third trips the content limit first.
    assert_eq!(
        env.send("POST", "/repos/octo/demo/issues", json!({"title": "a"}))
            .status,
        201
    );
    assert_eq!(
        env.send("POST", "/repos/octo/demo/issues", json!({"title": "b"}))
            .status,
        201
    );
    for used in [11, 12] {
        assert_eq!(
            env.get("/repos/octo/demo/labels").status,
            200,
            "{used} points used"
        );
    }
    let r = env.get("/repos/octo/demo/labels");
    assert_eq!(r.status, 403, "the 13th point is over: {}", r.body);
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .contains("secondary rate limit")
    );
    let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=5).contains(&wait));
    assert!(env.sim.metrics().rate_limited >= 1);

    // Content creation: 2 per "minute".
    let env = Env::start(
        SimConfig::default()
            .repo(RepoSpec::new("octo", "demo"))
            .limits(Limits {
                content_per_minute: 2,
                ..Limits::default()
            }),
    );
    for t in ["a", "b"] {
        assert_eq!(
            env.send("POST", "/repos/octo/demo/issues", json!({"title": t}))
                .status,
            201
        );
    }
    let r = env.send("POST", "/repos/octo/demo/issues", json!({"title": "c"}));
    assert_eq!(r.status, 403);
    assert!(r.header("retry-after").is_some());
}

#[test]
fn concurrency_is_counted_and_limited() {
    let mut spec = RepoSpec::new("octo", "demo");
    spec.issues = 10;
    let latency = roadmap_sim::Latency {
        base: Duration::from_millis(300),
        ..Default::default()
    };
    let env = Env::start(
        SimConfig::default()
            .repo(spec)
            .latency(latency)
            .limits(Limits {
                concurrent: 4,
                ..Limits::default()
            }),
    );
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| s.spawn(|| env.get("/repos/octo/demo/labels").status))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(
        env.sim.metrics().peak_concurrency >= 5,
        "{:?}",
        env.sim.metrics()
    );
    assert!(
        statuses.contains(&403),
        "over 4 in flight trips the secondary limit: {statuses:?}"
    );
    assert!(statuses.iter().filter(|s| **s == 200).count() >= 4);
}

#[test]
fn faults_are_injected_as_scripted_and_at_a_seeded_rate() {
    let env = Env::repo(20, 0);
    for kind in [
        FaultKind::Status500,
        FaultKind::Status502,
        FaultKind::Status503,
    ] {
        env.sim.script_fault(ScriptedFault::next("/labels", kind));
        let r = env.get("/repos/octo/demo/labels");
        assert!(r.status >= 500, "{kind:?}: {}", r.status);
        assert_eq!(
            env.get("/repos/octo/demo/labels").status,
            200,
            "only the next one fails"
        );
    }
    for kind in [FaultKind::Reset, FaultKind::Truncate] {
        env.sim.script_fault(ScriptedFault::next("/labels", kind));
        let req = env
            .agent
            .get(&env.url("/repos/octo/demo/labels"))
            .header("User-Agent", "t")
            .call();
        let failed = match req {
            Err(_) => true,
            Ok(mut resp) => resp.body_mut().read_to_string().is_err(),
        };
        assert!(failed, "{kind:?} must break the response");
    }
    let mut stall = ScriptedFault::next("/labels", FaultKind::Stall);
    stall.stall = Duration::from_millis(1500);
    env.sim.script_fault(stall);
    let started = std::time::Instant::now();
    let r = env.get("/repos/octo/demo/labels");
    assert_eq!(r.status, 504);
    assert!(started.elapsed() >= Duration::from_millis(1400));

    // A write that commits and then fails: the client cannot know it succeeded.
    let mut ambiguous = ScriptedFault::next("/issues", FaultKind::Status502);
    ambiguous.method = Some("POST".into());
    ambiguous.after_commit = true;
    env.sim.script_fault(ambiguous);
    assert_eq!(
        env.send("POST", "/repos/octo/demo/issues", json!({"title": "maybe"}))
            .status,
        502
    );
    let found = env
        .get("/repos/octo/demo/issues?state=all&per_page=100")
        .json();
    assert!(
        found
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["title"] == "maybe"),
        "the create was committed"
    );

    // Random faults at a rate, reproducible by seed.
    let run = |seed| {
        let env = Env::repo(5, 0);
        env.sim.set_faults(Faults {
            rate: 0.3,
            kinds: vec![FaultKind::Status500, FaultKind::Status503],
            seed,
            ..Faults::default()
        });
        (0..40)
            .map(|_| env.get("/repos/octo/demo/labels").status)
            .collect::<Vec<_>>()
    };
    let a = run(42);
    assert_eq!(a, run(42), "same seed, same faults");
    let failed = a.iter().filter(|s| **s >= 500).count();
    assert!((4..=22).contains(&failed), "about 30% of 40: {failed}");
}

#[test]
fn deleted_and_transferred_issues_answer_like_github() {
    let mut a = RepoSpec::new("octo", "demo");
    a.issues = 5;
    let mut b = RepoSpec::new("octo", "other");
    b.issues = 2;
    let env = Env::start(SimConfig::default().repo(a).repo(b));
    assert!(env.sim.delete_issue("octo", "demo", 2));
    let gone = env.get("/repos/octo/demo/issues/2");
    assert_eq!(gone.status, 410);
    assert_eq!(gone.json()["message"], "This issue was deleted");
    let n = env
        .sim
        .transfer_issue("octo", "demo", 3, "octo", "other")
        .unwrap();
    assert_eq!(n, 3);
    let moved = env.get("/repos/octo/demo/issues/3");
    assert_eq!(moved.status, 301);
    let location = moved.header("location").unwrap();
    assert!(
        location.ends_with("/repositories/1001/issues/3"),
        "{location}"
    );
    let there = env.get(&location);
    assert_eq!(there.status, 200);
    assert!(
        there.json()["repository_url"]
            .as_str()
            .unwrap()
            .ends_with("/repos/octo/other")
    );
    assert_eq!(env.get("/repos/octo/demo/issues/3/comments").status, 404);
    let listed: Vec<u64> = env
        .get("/repos/octo/demo/issues?state=all")
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["number"].as_u64().unwrap())
        .collect();
    assert_eq!(
        listed,
        vec![5, 4, 1],
        "deleted and transferred issues vanish from listings"
    );
}

#[test]
fn writes_validate_and_control_routes_change_the_world() {
    let env = Env::repo(3, 0);
    let r = env.send(
        "POST",
        "/repos/octo/demo/issues",
        json!({"body": "no title"}),
    );
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["errors"][0]["code"], "missing_field");
    let r = env.send("PATCH", "/repos/octo/demo/issues/1", json!({"state": "closed", "state_reason": "not_planned", "labels": ["bug"], "assignees": [], "milestone": null}));
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(
        (v["state"].as_str(), v["state_reason"].as_str()),
        (Some("closed"), Some("not_planned"))
    );
    assert_eq!(v["labels"][0]["name"], "bug");
    assert_eq!(
        env.send(
            "PATCH",
            "/repos/octo/demo/issues/1",
            json!({"milestone": 999})
        )
        .status,
        422
    );
    assert_eq!(
        env.send(
            "PATCH",
            "/repos/octo/demo/issues/1",
            json!({"assignees": ["nobody-here"]})
        )
        .status,
        422
    );
    assert_eq!(
        env.agent
            .post(&env.url("/repos/octo/demo/issues"))
            .header("User-Agent", "t")
            .header("Authorization", "Bearer x")
            .send("{not json")
            .map(|r| r.status().as_u16())
            .unwrap(),
        400
    );
    assert_eq!(
        env.get("/repos/octo/demo/issues/").status,
        404,
        "trailing slash"
    );
    assert_eq!(
        env.agent
            .get(&env.url("/repos/octo/demo"))
            .header("User-Agent", "")
            .call()
            .map(|r| r.status().as_u16())
            .unwrap(),
        200,
        "an empty User-Agent is still one"
    );

    // The HTTP control API.
    let post = |p: &str, body: serde_json::Value| {
        env.agent
            .post(&env.url(p))
            .send(body.to_string())
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(
        post(
            "/_sim/issues/octo/demo/2/edit",
            json!({"title": "via control"})
        ),
        200
    );
    assert_eq!(
        env.get("/repos/octo/demo/issues/2").json()["title"],
        "via control"
    );
    assert_eq!(
        post("/_sim/issues/octo/demo/2/comment", json!({"body": "hello"})),
        200
    );
    assert_eq!(env.get("/repos/octo/demo/issues/2").json()["comments"], 3);
    let metrics: serde_json::Value = serde_json::from_str(
        &env.agent
            .get(&env.url("/_sim/metrics"))
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap(),
    )
    .unwrap();
    assert!(
        metrics["routes"]["GET /repos/{owner}/{repo}/issues/{n}"]["calls"]
            .as_u64()
            .unwrap()
            >= 2
    );
    assert_eq!(post("/_sim/reset", json!({})), 200);
    assert_eq!(env.sim.metrics().requests, 0);
}

#[test]
fn serves_ten_thousand_issues_quickly_enough_to_never_be_the_bottleneck() {
    // Counted, not timed: 10,000 issues are 100 pages at per_page=100, with complete data.
    let env = Env::repo(10_000, 0);
    let (numbers, pages) = walk(&env, "/repos/octo/demo/issues?state=all&per_page=100");
    assert_eq!((numbers.len(), pages), (10_000, 100));
    assert_eq!(
        env.sim.metrics().calls("GET /repos/{owner}/{repo}/issues"),
        100
    );
}
