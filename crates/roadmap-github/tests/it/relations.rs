//! Issue relations through the client, both ways, against the simulator: dependencies
//! added and removed, sub-issues added, reordered, moved to another parent and removed; the
//! summaries of the issue listing follow; a change already in place is no error; and a host
//! without relations answers 404 and sends no summaries.

use std::collections::BTreeMap;

use roadmap_github::GitHub;
use roadmap_model::{SubIssuePlace, Tracker, TrackerError};
use roadmap_sim::{SimConfig, Simulator, Wire};

use roadmap_model::ListOptions;

use crate::{all_issues, client, spec};

/// Database id by issue number.
async fn ids(gh: &GitHub) -> BTreeMap<u64, u64> {
    let (issues, _, _) = all_issues(gh, ListOptions::default()).await.unwrap();
    issues.iter().map(|i| (i.number, i.id)).collect()
}

fn numbers(issues: &[roadmap_model::RemoteIssue]) -> Vec<u64> {
    issues.iter().map(|i| i.number).collect()
}

fn calls(gh: &GitHub, endpoint: &str) -> u64 {
    gh.metrics().endpoints.get(endpoint).map_or(0, |e| e.calls)
}

const POST_BLOCKED_BY: &str = "POST /repos/{owner}/{repo}/issues/{n}/dependencies/blocked_by";
const GET_BLOCKED_BY: &str = "GET /repos/{owner}/{repo}/issues/{n}/dependencies/blocked_by";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dependencies_and_sub_issues_round_trip_and_the_summaries_follow() {
    let sim = Simulator::start(SimConfig::default().repo(spec(12, 0)))
        .await
        .unwrap();
    let gh = client(&sim).build().unwrap();
    let id = ids(&gh).await;

    // Dependencies: #3 waits for #1 and #2.
    gh.add_blocked_by(3, id[&1]).await.unwrap();
    gh.add_blocked_by(3, id[&2]).await.unwrap();
    assert_eq!(numbers(&gh.blocked_by(3).await.unwrap()), vec![1, 2]);
    assert_eq!(numbers(&gh.blocking(1).await.unwrap()), vec![3]);
    assert_eq!(numbers(&gh.blocked_by(1).await.unwrap()), Vec::<u64>::new());
    // Already so: GitHub refuses the repeat (422); the listing shows it is in place.
    let (posts, gets) = (calls(&gh, POST_BLOCKED_BY), calls(&gh, GET_BLOCKED_BY));
    gh.add_blocked_by(3, id[&1]).await.unwrap();
    assert_eq!(
        calls(&gh, POST_BLOCKED_BY),
        posts + 1,
        "sent once, not retried"
    );
    assert_eq!(calls(&gh, GET_BLOCKED_BY), gets + 1, "then one look");
    // A dependency on itself is refused, and not in place: the refusal stands.
    let err = gh.add_blocked_by(4, id[&4]).await.unwrap_err();
    assert!(matches!(err, TrackerError::Validation { .. }), "{err}");

    // Sub-issues of #5: #6, #7, #8, in that order; reordered; one moved to #9; one removed.
    for c in [6, 7, 8] {
        gh.add_sub_issue(5, id[&c], false).await.unwrap();
    }
    assert_eq!(numbers(&gh.sub_issues(5).await.unwrap()), vec![6, 7, 8]);
    gh.move_sub_issue(5, id[&8], SubIssuePlace::Before(id[&6]))
        .await
        .unwrap();
    assert_eq!(numbers(&gh.sub_issues(5).await.unwrap()), vec![8, 6, 7]);
    gh.move_sub_issue(5, id[&6], SubIssuePlace::After(id[&7]))
        .await
        .unwrap();
    assert_eq!(numbers(&gh.sub_issues(5).await.unwrap()), vec![8, 7, 6]);
    // One parent each: without replace_parent, #9 cannot take #6.
    let err = gh.add_sub_issue(9, id[&6], false).await.unwrap_err();
    assert!(matches!(err, TrackerError::Validation { .. }), "{err}");
    gh.add_sub_issue(9, id[&6], true).await.unwrap();
    assert_eq!(numbers(&gh.sub_issues(5).await.unwrap()), vec![8, 7]);
    assert_eq!(numbers(&gh.sub_issues(9).await.unwrap()), vec![6]);
    gh.remove_sub_issue(5, id[&7]).await.unwrap();
    gh.remove_sub_issue(5, id[&7]).await.unwrap(); // already so
    assert_eq!(numbers(&gh.sub_issues(5).await.unwrap()), vec![8]);

    // The listing's summaries say who has relations.
    let (issues, _, _) = all_issues(&gh, ListOptions::default()).await.unwrap();
    let rel: BTreeMap<u64, _> = issues.iter().map(|i| (i.number, i.relations)).collect();
    assert!(rel.values().all(|r| r.known));
    assert_eq!(
        (rel[&3].blocked_by, rel[&1].blocking, rel[&2].blocking),
        (2, 1, 1)
    );
    assert_eq!((rel[&5].sub_issues, rel[&9].sub_issues), (1, 1));
    let related: Vec<u64> = rel
        .iter()
        .filter(|(_, r)| r.blocked_by + r.blocking + r.sub_issues > 0)
        .map(|(n, _)| *n)
        .collect();
    assert_eq!(related, vec![1, 2, 3, 5, 9]);

    // Removing a dependency, twice (the second finds it already gone).
    gh.remove_blocked_by(3, id[&1]).await.unwrap();
    gh.remove_blocked_by(3, id[&1]).await.unwrap();
    assert_eq!(numbers(&gh.blocked_by(3).await.unwrap()), vec![2]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_without_relations_sends_no_summaries_and_answers_404() {
    let wire = Wire {
        relations: false,
        ..Wire::enterprise_server()
    };
    let sim = Simulator::start(SimConfig::default().repo(spec(3, 0)).wire(wire))
        .await
        .unwrap();
    let gh = client(&sim).build().unwrap();
    let (issues, _, _) = all_issues(&gh, ListOptions::default()).await.unwrap();
    assert!(issues.iter().all(|i| !i.relations.known));
    let id = ids(&gh).await;
    for err in [
        gh.blocked_by(1).await.unwrap_err(),
        gh.sub_issues(1).await.unwrap_err(),
        gh.add_blocked_by(2, id[&1]).await.unwrap_err(),
        gh.add_sub_issue(2, id[&1], false).await.unwrap_err(),
    ] {
        assert!(matches!(err, TrackerError::NotFound { .. }), "{err}");
    }
}
