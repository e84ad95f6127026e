//! A listing whose reader pauses (a sync reads milestones and labels before it applies the
//! issue pages it has already asked for) must not hold the client's read slots: the
//! requests it has in flight finish on their own and give their slots back. Seen before
//! the fix: a pull under secondary limits stalled for good, with whole page responses
//! waiting unread in the sockets, because the futures that would read them were only
//! polled by a reader that was itself waiting for a slot.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use futures::StreamExt;
use roadmap_model::{ListOptions, Split, Tracker};
use roadmap_sim::{Latency, RepoSpec, SimConfig, Simulator};

use crate::GitHub;

const WORKERS: usize = 4;

async fn start(issues: u64) -> (Simulator, GitHub) {
    let mut spec = RepoSpec::new("octo", "demo");
    spec.issues = issues;
    spec.comments = 1;
    let latency = Latency {
        base: Duration::from_millis(150),
        per_item: Duration::ZERO,
        jitter: Duration::from_millis(50),
    };
    let sim = Simulator::start(SimConfig::default().repo(spec).latency(latency))
        .await
        .unwrap();
    let gh = GitHub::builder("octo", "demo")
        .api_url(sim.url())
        .workers(WORKERS)
        .build()
        .unwrap();
    (sim, gh)
}

/// Waits until the simulator has been sent nothing for a while: whatever the paused
/// listing started has been answered.
async fn settle(sim: &Simulator) {
    let mut before = sim.metrics().requests;
    loop {
        tokio::time::sleep(Duration::from_millis(600)).await;
        let now = sim.metrics().requests;
        if now == before {
            return;
        }
        before = now;
    }
}

/// Secondary limits halve the slots while requests are in flight (4 → 1), then another
/// request must still get one.
async fn another_request_goes_through(gh: &GitHub) {
    gh.core.gets.backoff();
    gh.core.gets.backoff();
    assert_eq!(gh.core.gets.stats().0, 1);
    tokio::time::timeout(Duration::from_secs(30), gh.get_issue(1))
        .await
        .expect("a request beside a paused listing waits for a slot forever")
        .unwrap();
}

// On a paused clock: the waits are exact and take no real time.
#[tokio::test(start_paused = true)]
async fn a_paused_split_listing_gives_its_slots_back() {
    let (sim, gh) = start(3_000).await;
    let mut pages = gh.list_issues(ListOptions {
        split: Split::Fresh,
        ..ListOptions::default()
    });
    pages.next().await.unwrap().unwrap();
    settle(&sim).await;
    another_request_goes_through(&gh).await;
    // The pages read ahead are still there once the reader comes back.
    let mut items = 0;
    while let Some(p) = pages.next().await {
        items += p.unwrap().items.len();
    }
    assert!(items > 0);
}

// On a paused clock: the waits are exact and take no real time.
#[tokio::test(start_paused = true)]
async fn a_paused_numbered_listing_gives_its_slots_back() {
    // Comments page by number, so the listing reads `WORKERS` pages ahead.
    let (sim, gh) = start(3_000).await;
    let mut pages = gh.list_comments(ListOptions::default());
    pages.next().await.unwrap().unwrap();
    let second = pages.next().await.unwrap().unwrap();
    assert_eq!(second.number, 2);
    settle(&sim).await;
    another_request_goes_through(&gh).await;
    let mut last = second.number;
    while let Some(p) = pages.next().await {
        let p = p.unwrap();
        assert_eq!(p.number, last + 1, "pages still come in order");
        last = p.number;
    }
    assert_eq!(last, 30);
}
