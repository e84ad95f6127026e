//! The GitHub client against the simulator, with exact counts.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod relations;
mod wire;

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use roadmap_cache::{Cache, CacheOptions};
use roadmap_github::{GitHub, GitHubBuilder, RetryPolicy};
use roadmap_model::{
    IssuePatch, ListOptions, NewComment, NewIssue, NewLabel, NewMilestone, RemoteIssue,
    RemoteState, Tracker, TrackerError,
};
use roadmap_sim::{
    FaultKind, Faults, Latency, Limits, RepoSpec, ScriptedFault, SimConfig, Simulator, Wire,
};
use secrecy::SecretString;

const ISSUES: &str = "GET /repos/{owner}/{repo}/issues";

fn spec(issues: u64, prs: u64) -> RepoSpec {
    let mut s = RepoSpec::new("octo", "demo");
    s.issues = issues;
    s.prs = prs;
    s.milestones = 130;
    s.labels = 12;
    s.comments = 1;
    s
}

fn client(sim: &Simulator) -> GitHubBuilder {
    GitHub::builder("octo", "demo")
        .api_url(sim.url())
        .token(Some(SecretString::from("ghp_test_token_value")))
        .retry(RetryPolicy {
            max_retries: 6,
            base: Duration::from_millis(5),
            max: Duration::from_millis(50),
        })
        .write_spacing(Duration::ZERO)
        .request_timeout(Duration::from_secs(5))
}

async fn all_issues(
    gh: &GitHub,
    opts: ListOptions,
) -> Result<(Vec<RemoteIssue>, u32, u32), TrackerError> {
    let mut s = gh.list_issues(opts);
    let mut items = Vec::new();
    let mut skipped = 0;
    let mut pages = 0;
    let mut expected = 1;
    while let Some(p) = s.next().await {
        let p = p?;
        assert_eq!(p.number, expected, "pages arrive in order");
        expected += 1;
        pages += 1;
        skipped += p.skipped;
        assert!(p.rejected.is_empty(), "{:?}", p.rejected);
        items.extend(p.items);
    }
    Ok((items, skipped, pages))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_takes_exactly_one_request_per_hundred_items_and_skips_prs() {
    for (n, prs) in [
        (0u64, 0u64),
        (1, 0),
        (99, 1),
        (100, 0),
        (250, 50),
        (1234, 66),
    ] {
        let sim = Simulator::start(SimConfig::default().repo(spec(n, prs)))
            .await
            .unwrap();
        let gh = client(&sim).build().unwrap();
        let (items, skipped, pages) = all_issues(&gh, ListOptions::default()).await.unwrap();
        let expected_pages = (n + prs).div_ceil(100).max(1);
        assert_eq!(items.len() as u64, n);
        assert_eq!(u64::from(skipped), prs);
        assert_eq!(u64::from(pages), expected_pages);
        assert_eq!(
            sim.metrics().calls(ISSUES),
            expected_pages,
            "{n} issues + {prs} PRs"
        );
        assert_eq!(gh.metrics().calls(), expected_pages);
        let mut numbers: Vec<u64> = items.iter().map(|i| i.number).collect();
        numbers.sort();
        numbers.dedup();
        assert_eq!(numbers.len() as u64, n, "no duplicates");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_no_change_relist_is_all_304s_and_costs_no_rate_limit_even_in_a_new_process() {
    let sim = Simulator::start(SimConfig::default().repo(spec(1000, 0)))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cache = || {
        Some(Arc::new(Cache::new(
            Some(dir.path().to_owned()),
            CacheOptions::default(),
        )))
    };
    let gh = client(&sim).cache(cache()).build().unwrap();
    let (first, _, _) = all_issues(&gh, ListOptions::default()).await.unwrap();
    let used_after_first = gh.metrics().rate_remaining.unwrap();
    sim.reset_metrics();
    // A fresh client and cache instance: only the on-disk layer carries the ETags.
    let gh2 = client(&sim).cache(cache()).build().unwrap();
    let (second, _, pages) = all_issues(&gh2, ListOptions::default()).await.unwrap();
    assert_eq!(first, second);
    let m = sim.metrics();
    assert_eq!(m.calls(ISSUES), u64::from(pages));
    assert_eq!(m.not_modified, u64::from(pages), "every page answered 304");
    assert_eq!(
        gh2.metrics().rate_remaining.unwrap(),
        used_after_first,
        "zero rate limit used"
    );
    assert_eq!(gh2.metrics().not_modified(), 10);
}

// On a paused clock: the waits are exact and take no real time.
#[tokio::test(start_paused = true)]
async fn concurrency_never_exceeds_the_worker_limit() {
    // Numbered pages are fetched in parallel; github.com's cursor chain is sequential.
    let sim = Simulator::start(
        SimConfig::default()
            .repo(spec(3000, 0))
            .wire(Wire::numbered())
            .latency(Latency {
                base: Duration::from_millis(20),
                ..Latency::default()
            }),
    )
    .await
    .unwrap();
    for workers in [1usize, 4, 9] {
        sim.reset_metrics();
        let gh = client(&sim).workers(workers).build().unwrap();
        let (items, _, _) = all_issues(&gh, ListOptions::default()).await.unwrap();
        assert_eq!(items.len(), 3000);
        let peak = sim.metrics().peak_concurrency;
        assert!(peak <= workers as u64, "peak {peak} > {workers} workers");
        if workers > 1 {
            assert!(peak > 1, "pages were fetched in parallel");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injected_faults_are_retried_and_the_result_is_complete() {
    let sim = Simulator::start(SimConfig::default().repo(spec(1500, 100)))
        .await
        .unwrap();
    sim.set_faults(Faults {
        rate: 0.2,
        kinds: vec![
            FaultKind::Status500,
            FaultKind::Status502,
            FaultKind::Status503,
            FaultKind::Reset,
            FaultKind::Truncate,
        ],
        seed: 11,
        ..Faults::default()
    });
    let gh = client(&sim).build().unwrap();
    let (items, skipped, _) = all_issues(&gh, ListOptions::default()).await.unwrap();
    assert_eq!((items.len(), skipped), (1500, 100));
    assert!(sim.metrics().faults > 0);
    assert_eq!(
        gh.metrics().retries(),
        sim.metrics().faults,
        "every fault was retried once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_that_keeps_failing_fails_the_listing() {
    let sim = Simulator::start(SimConfig::default().repo(spec(500, 0)))
        .await
        .unwrap();
    let mut f = ScriptedFault::next("/repositories/1000/issues", FaultKind::Status503);
    f.remaining = 100;
    sim.script_fault(f);
    let gh = client(&sim).build().unwrap();
    let err = all_issues(&gh, ListOptions::default()).await.unwrap_err();
    assert!(matches!(err, TrackerError::Transient { .. }), "{err}");
}

// On a paused clock: the waits are exact and take no real time.
#[tokio::test(start_paused = true)]
async fn secondary_limit_retry_after_is_waited_out() {
    let limits = Limits {
        points_per_minute: 5,
        minute: Duration::from_secs(2),
        ..Limits::default()
    };
    let sim = Simulator::start(SimConfig::default().repo(spec(800, 0)).limits(limits))
        .await
        .unwrap();
    let gh = client(&sim).workers(1).build().unwrap();
    let (items, _, _) = all_issues(&gh, ListOptions::default()).await.unwrap();
    assert_eq!(items.len(), 800);
    let m = gh.metrics();
    assert!(sim.metrics().rate_limited >= 1);
    assert!(m.waits >= sim.metrics().rate_limited);
    assert!(
        m.wait_time >= Duration::from_secs(sim.metrics().rate_limited),
        "waited retry-after (>= 1 s) each time: {:?}",
        m.wait_time
    );
}

// On a paused clock: the waits are exact and take no real time.
#[tokio::test(start_paused = true)]
async fn primary_exhaustion_waits_for_reset_or_returns_a_typed_error() {
    let limits = Limits {
        primary: 3,
        primary_window: Duration::from_secs(2),
        ..Limits::default()
    };
    let sim = Simulator::start(SimConfig::default().repo(spec(500, 0)).limits(limits))
        .await
        .unwrap();
    let impatient = client(&sim)
        .workers(1)
        .max_rate_wait(Duration::ZERO)
        .build()
        .unwrap();
    let err = all_issues(&impatient, ListOptions::default())
        .await
        .unwrap_err();
    match err {
        TrackerError::RateLimited { retry_at, .. } => {
            assert!(retry_at.unix() >= chrono::Utc::now().timestamp() - 1)
        }
        other => panic!("expected RateLimited, got {other}"),
    }
    sim.reset_limits();
    let patient = client(&sim)
        .workers(1)
        .max_rate_wait(Duration::from_secs(10))
        .build()
        .unwrap();
    let (items, _, _) = all_issues(&patient, ListOptions::default()).await.unwrap();
    assert_eq!(items.len(), 500);
    assert!(patient.metrics().waits >= 1);
}

// On a paused clock: the waits are exact and take no real time.
#[tokio::test(start_paused = true)]
async fn a_nearly_spent_budget_with_a_distant_reset_stops_with_a_time_instead_of_pacing_for_an_hour()
 {
    // 60 requests an hour (GitHub's unauthenticated budget); a listing of 70 pages. Pacing
    // the last requests until the reset would mean one request every ten minutes, silently:
    // past `max_rate_wait` the client must stop with the reset time instead.
    let limits = Limits {
        primary: 60,
        primary_window: Duration::from_secs(3_600),
        ..Limits::default()
    };
    let sim = Simulator::start(SimConfig::default().repo(spec(7_000, 0)).limits(limits))
        .await
        .unwrap();
    let gh = client(&sim)
        .workers(2)
        .max_rate_wait(Duration::from_secs(2))
        .build()
        .unwrap();
    let run = all_issues(&gh, ListOptions::default());
    // A guard against the old behaviour (a wait of many minutes), not a timing assertion.
    let r = tokio::time::timeout(Duration::from_secs(120), run)
        .await
        .expect("the client stopped instead of pacing for an hour");
    match r {
        Err(TrackerError::RateLimited { retry_at, .. }) => {
            assert!(retry_at.unix() > chrono::Utc::now().timestamp() + 600)
        }
        Err(other) => panic!("expected RateLimited, got {other}"),
        Ok(_) => panic!("70 pages cannot fit in 60 requests"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_that_fails_after_the_server_committed_is_not_duplicated() {
    let sim = Simulator::start(SimConfig::default().repo(spec(5, 0)))
        .await
        .unwrap();
    for kind in [FaultKind::Status502, FaultKind::Stall] {
        let mut f = ScriptedFault::next("/issues", kind);
        f.method = Some("POST".into());
        f.after_commit = true;
        f.stall = Duration::from_secs(3);
        sim.script_fault(f);
        let gh = client(&sim)
            .request_timeout(Duration::from_millis(800))
            .build()
            .unwrap();
        let title = format!("only once {kind:?}");
        let created = gh
            .create_issue(NewIssue {
                title: title.clone(),
                body: "b".into(),
                ..NewIssue::default()
            })
            .await
            .unwrap();
        assert_eq!(created.title, title);
        let count = sim.with_world(|w| {
            w.repos
                .values()
                .flat_map(|r| r.issues.values())
                .filter(|i| i.title == title)
                .count()
        });
        assert_eq!(count, 1, "{kind:?}: exactly one issue");
    }
    // Comments, milestones and labels too.
    let mut f = ScriptedFault::next("/comments", FaultKind::Status500);
    f.method = Some("POST".into());
    f.after_commit = true;
    sim.script_fault(f);
    let gh = client(&sim).build().unwrap();
    gh.create_comment(
        1,
        NewComment {
            body: "once".into(),
        },
    )
    .await
    .unwrap();
    let n = sim.with_world(|w| {
        w.repos
            .values()
            .flat_map(|r| r.comments.values())
            .filter(|c| c.body == "once")
            .count()
    });
    assert_eq!(n, 1);
    for path in ["/milestones", "/labels"] {
        let mut f = ScriptedFault::next(path, FaultKind::Status502);
        f.method = Some("POST".into());
        f.after_commit = true;
        sim.script_fault(f);
    }
    gh.create_milestone(NewMilestone {
        title: "M-once".into(),
        ..NewMilestone::default()
    })
    .await
    .unwrap();
    gh.create_label(NewLabel {
        name: "L once".into(),
        color: "abcdef".into(),
        description: None,
    })
    .await
    .unwrap();
    sim.with_world(|w| {
        let r = w.repos.values().next().unwrap();
        assert_eq!(
            r.milestones
                .values()
                .filter(|m| m.title == "M-once")
                .count(),
            1
        );
        assert_eq!(r.labels.iter().filter(|l| l.name == "L once").count(), 1);
    });
}

// On a paused clock: the waits are exact and take no real time.
#[tokio::test(start_paused = true)]
async fn writes_are_serialized_and_spaced_as_configured() {
    let sim = Simulator::start(SimConfig::default().repo(spec(10, 0)))
        .await
        .unwrap();
    let gh = client(&sim)
        .write_spacing(Duration::from_millis(300))
        .build()
        .unwrap();
    let started = tokio::time::Instant::now();
    let futures: Vec<_> = (1..=4u64)
        .map(|n| {
            gh.update_issue(
                n,
                IssuePatch {
                    title: Some(format!("t{n}")),
                    ..IssuePatch::default()
                },
            )
        })
        .collect();
    for r in futures::future::join_all(futures).await {
        r.unwrap();
    }
    assert_eq!(
        started.elapsed(),
        Duration::from_millis(900),
        "4 writes, 3 gaps of 300 ms"
    );
    assert!(sim.metrics().peak_concurrency <= 1, "writes are serial");
    assert_eq!(gh.metrics().waits, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_are_classified_and_dropped_fields_detected() {
    let mut a = spec(5, 0);
    a.milestones = 2;
    let config = SimConfig {
        no_push_tokens: vec!["readonly".into()],
        ..SimConfig::default()
            .repo(a)
            .repo(RepoSpec::new("octo", "other"))
    };
    let sim = Simulator::start(config).await.unwrap();
    let gh = client(&sim).build().unwrap();
    sim.delete_issue("octo", "demo", 2);
    sim.transfer_issue("octo", "demo", 3, "octo", "other");
    assert!(matches!(
        gh.get_issue(2).await,
        Err(TrackerError::Gone { .. })
    ));
    assert!(matches!(
        gh.get_issue(3).await,
        Err(TrackerError::Moved { .. })
    ));
    assert!(matches!(
        gh.get_issue(999).await,
        Err(TrackerError::NotFound { .. })
    ));
    let err = gh
        .update_issue(
            1,
            IssuePatch {
                milestone: Some(Some(77)),
                ..IssuePatch::default()
            },
        )
        .await
        .unwrap_err();
    match &err {
        TrackerError::Validation { message, .. } => {
            assert!(message.contains("milestone: invalid"), "{message}")
        }
        other => panic!("{other}"),
    }
    gh.update_issue(
        1,
        IssuePatch {
            state: Some(RemoteState::Open),
            ..IssuePatch::default()
        },
    )
    .await
    .unwrap();
    let closed = gh
        .update_issue(
            1,
            IssuePatch {
                state: Some(RemoteState::Closed),
                state_reason: Some("not_planned".into()),
                ..IssuePatch::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (closed.state, closed.state_reason.as_deref()),
        (RemoteState::Closed, Some("not_planned"))
    );

    let readonly = GitHub::builder("octo", "demo")
        .api_url(sim.url())
        .token(Some(SecretString::from("readonly")))
        .write_spacing(Duration::ZERO)
        .build()
        .unwrap();
    let err = readonly
        .update_issue(
            1,
            IssuePatch {
                labels: Some(vec!["bug".into()]),
                ..IssuePatch::default()
            },
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("did not keep labels"), "{err}");
    assert!(!err.to_string().contains("readonly"), "no token in errors");

    let anon = GitHub::builder("octo", "demo")
        .api_url(sim.url())
        .build()
        .unwrap();
    assert!(matches!(
        anon.current_user().await,
        Err(TrackerError::Unauthorized { .. })
    ));
    assert_eq!(gh.current_user().await.unwrap(), "octocat");
    let b = gh.rate_limit().await.unwrap().expect("rate limiting on");
    assert!(b.remaining <= b.limit && b.limit == 5000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn works_under_the_enterprise_prefix_and_lists_everything_else() {
    let sim = Simulator::start(SimConfig::default().repo(spec(150, 10)))
        .await
        .unwrap();
    let gh = client(&sim)
        .api_url(format!("{}/api/v3", sim.url()))
        .build()
        .unwrap();
    let (items, _, pages) = all_issues(&gh, ListOptions::default()).await.unwrap();
    assert_eq!((items.len(), pages), (150, 2));
    let ms: usize = gh
        .list_milestones()
        .map(|p| p.unwrap().items.len())
        .fold(0, |a, b| async move { a + b })
        .await;
    assert_eq!(ms, 130);
    let labels: usize = gh
        .list_labels()
        .map(|p| p.unwrap().items.len())
        .fold(0, |a, b| async move { a + b })
        .await;
    assert_eq!(labels, 12);
    let comments: usize = gh
        .list_comments(ListOptions::default())
        .map(|p| p.unwrap().items.len())
        .fold(0, |a, b| async move { a + b })
        .await;
    assert_eq!(comments, 160);
    // `since` narrows the listing.
    sim.edit_issue("octo", "demo", 5, |i| i.title = "changed".into());
    let since = roadmap_model::Timestamp::from_unix(chrono::Utc::now().timestamp() - 5);
    let (changed, _, _) = all_issues(
        &gh,
        ListOptions {
            since,
            ..ListOptions::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        changed.iter().map(|i| i.number).collect::<Vec<_>>(),
        vec![5]
    );
}
