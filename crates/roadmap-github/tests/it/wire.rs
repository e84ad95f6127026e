//! The client on the real wire: the bytes it sends (read by `httparse`, a strict parser we
//! did not write), and what it does with servers that page badly or answer hugely.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use roadmap_cache::{Cache, CacheOptions};
use roadmap_github::GitHub;
use roadmap_model::{
    ListOptions, NewComment, NewIssue, NewMilestone, Timestamp, Tracker, TrackerError,
};
use roadmap_sim::{Limits, SimConfig, Simulator, Wire};
use secrecy::SecretString;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::{ISSUES, all_issues, client, spec};

/// One request as the server read it.
#[derive(Debug, Clone)]
struct Seen {
    path: String,
    headers: Vec<(String, Vec<u8>)>,
}

type Handler = Arc<dyn Fn(&str) -> (u16, Vec<(String, String)>, Vec<u8>) + Send + Sync>;

/// A hand-written HTTP/1.1 server: parses each request with `httparse` and answers what
/// `handler` says for its path. Returns its base URL and what it saw.
async fn server(handler: Handler) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let handler = handler.clone();
            let log = log.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                loop {
                    // Read one request head (and its body, if any).
                    let head_end = loop {
                        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            break p + 4;
                        }
                        let mut chunk = [0u8; 8192];
                        match sock.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    };
                    let mut headers = [httparse::EMPTY_HEADER; 64];
                    let mut req = httparse::Request::new(&mut headers);
                    let Ok(httparse::Status::Complete(_)) = req.parse(&buf[..head_end]) else {
                        let _ = sock
                            .write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
                            .await;
                        return;
                    };
                    let path = req.path.unwrap_or_default().to_owned();
                    let hs: Vec<(String, Vec<u8>)> = req
                        .headers
                        .iter()
                        .map(|h| (h.name.to_ascii_lowercase(), h.value.to_vec()))
                        .collect();
                    let body_len = hs
                        .iter()
                        .find(|(k, _)| k == "content-length")
                        .and_then(|(_, v)| std::str::from_utf8(v).ok()?.parse::<usize>().ok())
                        .unwrap_or(0);
                    while buf.len() < head_end + body_len {
                        let mut chunk = [0u8; 8192];
                        match sock.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    buf.drain(..head_end + body_len);
                    log.lock().unwrap().push(Seen {
                        path: path.clone(),
                        headers: hs,
                    });
                    let (status, extra, body) = handler(&path);
                    let mut out = format!(
                        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
                        body.len()
                    );
                    for (k, v) in extra {
                        out.push_str(&format!("{k}: {v}\r\n"));
                    }
                    out.push_str("\r\n");
                    if sock.write_all(out.as_bytes()).await.is_err()
                        || sock.write_all(&body).await.is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    (format!("http://{addr}"), seen)
}

fn gh(url: &str) -> GitHub {
    GitHub::builder("octo", "demo")
        .api_url(url)
        .token(Some(SecretString::from("ghp_wire_token")))
        .retry(roadmap_github::RetryPolicy {
            max_retries: 1,
            base: Duration::from_millis(1),
            max: Duration::from_millis(2),
        })
        .write_spacing(Duration::ZERO)
        .request_timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

/// An issue as a server would list it (only what the client reads).
fn issue_json(n: u64) -> serde_json::Value {
    serde_json::json!({
        "id": n, "number": n, "title": format!("issue {n}"), "body": null, "state": "open",
        "labels": [], "assignees": [], "milestone": null, "user": {"login": "octocat"},
        "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
        "closed_at": null
    })
}

fn page_of(numbers: impl Iterator<Item = u64>) -> Vec<u8> {
    serde_json::to_vec(&numbers.map(issue_json).collect::<Vec<_>>()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_header_is_sent_once_on_every_kind_of_request() {
    let handler: Handler = Arc::new(|path: &str| {
        if path.contains("/comments") {
            let c = serde_json::json!({"id": 9, "body": "hi", "user": {"login": "octocat"}, "issue_url": "http://x/repos/octo/demo/issues/1", "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"});
            (201, vec![], serde_json::to_vec(&c).unwrap())
        } else if path.starts_with("/repos/octo/demo/issues?") {
            (
                200,
                vec![("etag".into(), "W/\"abc\"".into())],
                page_of(1..=3),
            )
        } else {
            (200, vec![], serde_json::to_vec(&issue_json(1)).unwrap())
        }
    });
    let (url, seen) = server(handler).await;
    let gh = gh(&url);
    let _ = all_issues(&gh, ListOptions::default()).await.unwrap();
    gh.get_issue(1).await.unwrap();
    gh.create_issue(NewIssue {
        title: "t".into(),
        body: "b".into(),
        ..NewIssue::default()
    })
    .await
    .unwrap();
    gh.create_comment(1, NewComment { body: "hi".into() })
        .await
        .unwrap();
    let seen = seen.lock().unwrap().clone();
    assert!(seen.len() >= 4);
    for req in &seen {
        let mut count: BTreeMap<&str, usize> = BTreeMap::new();
        for (k, _) in &req.headers {
            *count.entry(k.as_str()).or_default() += 1;
        }
        let repeated: Vec<_> = count.iter().filter(|(_, n)| **n > 1).collect();
        assert!(repeated.is_empty(), "{} repeats {repeated:?}", req.path);
        let get = |k: &str| {
            req.headers
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
        };
        assert_eq!(
            get("user-agent").as_deref(),
            Some(concat!("roadmap/", env!("CARGO_PKG_VERSION")))
        );
        assert_eq!(get("x-github-api-version").as_deref(), Some("2022-11-28"));
        assert_eq!(
            get("accept").as_deref(),
            Some("application/vnd.github+json")
        );
        assert_eq!(
            get("authorization").as_deref(),
            Some("Bearer ghp_wire_token")
        );
        assert!(get("host").is_some());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_strict_simulator_accepts_every_request_the_client_makes() {
    let sim = Simulator::start(SimConfig::default().repo(spec(250, 10)))
        .await
        .unwrap();
    let gh = client(&sim).build().unwrap();
    let (items, _, _) = all_issues(&gh, ListOptions::default()).await.unwrap();
    assert_eq!(items.len(), 250);
    gh.create_issue(NewIssue {
        title: "strict".into(),
        ..NewIssue::default()
    })
    .await
    .unwrap();
    // Every request went through on its first try: three pages and one create.
    let m = sim.metrics();
    assert_eq!(m.requests, 4);
    assert_eq!(gh.metrics().calls(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_304_without_link_continues_the_listing_from_the_cached_links() {
    for link_on_304 in [false, true] {
        let wire = Wire {
            link_on_304,
            ..Wire::github()
        };
        let sim = Simulator::start(SimConfig::default().repo(spec(450, 20)).wire(wire))
            .await
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let cache = Arc::new(Cache::new(
            Some(dir.path().to_path_buf()),
            CacheOptions::default(),
        ));
        let gh = client(&sim).cache(Some(cache.clone())).build().unwrap();
        let (first, _, pages) = all_issues(&gh, ListOptions::default()).await.unwrap();
        assert_eq!((first.len(), pages), (450, 5));
        // A new process with the same on-disk cache: every page answers 304.
        let cache2 = Arc::new(Cache::new(
            Some(dir.path().to_path_buf()),
            CacheOptions::default(),
        ));
        let gh2 = client(&sim).cache(Some(cache2)).build().unwrap();
        sim.reset_metrics();
        let (again, _, pages) = all_issues(&gh2, ListOptions::default()).await.unwrap();
        assert_eq!(
            (again.len(), pages),
            (450, 5),
            "link_on_304 = {link_on_304}"
        );
        assert_eq!(sim.metrics().routes[ISSUES].not_modified, 5);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_refusing_deep_page_numbers_is_listed_by_its_next_links() {
    // It advertises `last`, yet answers 422 past page 3 unless given a cursor.
    let wire = Wire {
        cursor_with_last: true,
        page_cap: 3,
        ..Wire::github()
    };
    let sim = Simulator::start(SimConfig::default().repo(spec(1000, 0)).wire(wire))
        .await
        .unwrap();
    let gh = client(&sim).build().unwrap();
    let (items, _, pages) = all_issues(&gh, ListOptions::default()).await.unwrap();
    assert_eq!(items.len(), 1000);
    assert_eq!(pages, 10);
    let numbers: std::collections::BTreeSet<u64> = items.iter().map(|i| i.number).collect();
    assert_eq!(numbers.len(), 1000);
}

fn next_link(url: &str) -> (String, String) {
    ("link".into(), format!("<{url}>; rel=\"next\""))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_next_link_back_to_a_page_already_read_stops_the_listing() {
    let port = Arc::new(Mutex::new(String::new()));
    let p = port.clone();
    let (url, seen) = server(Arc::new(move |path: &str| {
        let base = p.lock().unwrap().clone();
        // Page 1 → page 2 → page 1 again.
        let next = if path.contains("after=two") {
            format!(
                "{base}/repos/octo/demo/issues?state=all&sort=updated&direction=asc&per_page=100"
            )
        } else {
            format!("{base}/repositories/1/issues?after=two")
        };
        (200, vec![next_link(&next)], page_of(1..=2))
    }))
    .await;
    *port.lock().unwrap() = url.clone();
    let gh = gh(&url);
    let err = all_issues(&gh, ListOptions::default()).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("leads back to a page already read"),
        "{err}"
    );
    assert_eq!(seen.lock().unwrap().len(), 2);

    // A `next` that points at itself.
    let port = Arc::new(Mutex::new(String::new()));
    let p = port.clone();
    let (url, seen) = server(Arc::new(move |_path: &str| {
        let me = format!("{}/repositories/1/issues?after=same", p.lock().unwrap());
        (200, vec![next_link(&me)], page_of(1..=2))
    }))
    .await;
    *port.lock().unwrap() = url.clone();
    let err = all_issues(&gh_at(&url), ListOptions::default())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("pagination loops"), "{err}");
    assert_eq!(seen.lock().unwrap().len(), 2);
}

fn gh_at(url: &str) -> GitHub {
    gh(url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endless_chains_huge_last_pages_and_huge_bodies_are_bounded() {
    // An endless chain of new URLs that repeat the same items: stops after a few pages.
    let port = Arc::new(Mutex::new(String::new()));
    let p = port.clone();
    let counter = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let c = counter.clone();
    let (url, seen) = server(Arc::new(move |_path: &str| {
        let k = c.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let next = format!("{}/repositories/1/issues?after=c{k}", p.lock().unwrap());
        (200, vec![next_link(&next)], page_of(1..=100))
    }))
    .await;
    *port.lock().unwrap() = url.clone();
    let err = all_issues(&gh_at(&url), ListOptions::default())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("stopped bringing new items"), "{err}");
    assert!(seen.lock().unwrap().len() <= 4);

    // An endless chain of new items: stops at max_pages.
    let port = Arc::new(Mutex::new(String::new()));
    let p = port.clone();
    let counter = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let c = counter.clone();
    let (url, seen) = server(Arc::new(move |_path: &str| {
        let k = c.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let next = format!("{}/repositories/1/issues?after=c{k}", p.lock().unwrap());
        (
            200,
            vec![next_link(&next)],
            page_of(k * 10 + 1..=k * 10 + 10),
        )
    }))
    .await;
    *port.lock().unwrap() = url.clone();
    let gh = GitHub::builder("octo", "demo")
        .api_url(&url)
        .max_pages(50)
        .build()
        .unwrap();
    let err = all_issues(&gh, ListOptions::default())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("past 50 pages"), "{err}");
    assert_eq!(seen.lock().unwrap().len(), 50);

    // A `last` of page 10^9: ignored in favour of `next` (no attempt to plan a billion pages).
    let port = Arc::new(Mutex::new(String::new()));
    let p = port.clone();
    let (url, _) = server(Arc::new(move |path: &str| {
        let base = p.lock().unwrap().clone();
        let last = format!("<{base}/repositories/1/issues?page=1000000000>; rel=\"last\"");
        if path.contains("after=2") {
            (200, vec![("link".into(), last)], page_of(101..=150))
        } else {
            let next = format!("<{base}/repositories/1/issues?after=2>; rel=\"next\"");
            (
                200,
                vec![("link".into(), format!("{next}, {last}"))],
                page_of(1..=100),
            )
        }
    }))
    .await;
    *port.lock().unwrap() = url.clone();
    let (items, _, pages) = all_issues(&gh_at(&url), ListOptions::default())
        .await
        .unwrap();
    assert_eq!((items.len(), pages), (150, 2));

    // A 10 MB body: refused with a clear error, not buffered whole.
    let (url, seen) = server(Arc::new(|_p: &str| {
        (200, vec![], vec![b' '; 10 * 1024 * 1024])
    }))
    .await;
    let gh = GitHub::builder("octo", "demo")
        .api_url(&url)
        .max_body_bytes(1024 * 1024)
        .build()
        .unwrap();
    let err = all_issues(&gh, ListOptions::default())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("larger than 1 MiB"), "{err}");
    assert_eq!(seen.lock().unwrap().len(), 1, "not retried");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn githubs_own_words_reach_the_user_and_locked_issues_are_not_retried() {
    let sim = Simulator::start(SimConfig::default().repo(spec(5, 0)))
        .await
        .unwrap();
    let gh = client(&sim).build().unwrap();
    let err = gh
        .create_issue(NewIssue {
            title: "long".into(),
            body: "x".repeat(70_000),
            ..NewIssue::default()
        })
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("body is too long (maximum is 65536 characters)"),
        "{err}"
    );
    assert!(sim.lock_issue("octo", "demo", 2, true));
    sim.reset_metrics();
    let err = gh
        .create_comment(2, NewComment { body: "hi".into() })
        .await
        .unwrap_err();
    assert!(matches!(err, TrackerError::Forbidden { .. }), "{err:?}");
    assert!(err.to_string().contains("locked"), "{err}");
    assert_eq!(sim.metrics().requests, 1, "not retried");
}

// On a paused clock: the waits are exact and take no real time.
#[tokio::test(start_paused = true)]
async fn secondary_limits_without_retry_after_or_in_the_old_wording_are_waited_out() {
    for abuse_wording in [false, true] {
        let wire = Wire {
            secondary_retry_after: false,
            abuse_wording,
            ..Wire::github()
        };
        let limits = Limits {
            points_per_minute: 3,
            minute: Duration::from_millis(400),
            ..Limits::default()
        };
        let sim = Simulator::start(
            SimConfig::default()
                .repo(spec(450, 0))
                .wire(wire)
                .limits(limits),
        )
        .await
        .unwrap();
        let gh = client(&sim)
            .secondary_backoff(Duration::from_millis(450))
            .build()
            .unwrap();
        let (items, _, _) = all_issues(&gh, ListOptions::default()).await.unwrap();
        assert_eq!(items.len(), 450, "abuse wording {abuse_wording}");
        let m = gh.metrics();
        assert!(m.waits >= 1 && sim.metrics().rate_limited >= 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enterprise_server_without_rate_limiting_works_and_says_so() {
    let sim = Simulator::start(
        SimConfig::default()
            .repo(spec(320, 0))
            .wire(Wire::enterprise_server()),
    )
    .await
    .unwrap();
    let gh = client(&sim).build().unwrap();
    assert_eq!(gh.rate_limit().await.unwrap(), None);
    let (items, _, pages) = all_issues(&gh, ListOptions::default()).await.unwrap();
    assert_eq!((items.len(), pages), (320, 4));
    assert_eq!(gh.metrics().rate_remaining, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_due_date_comes_back_as_the_same_calendar_date() {
    let sim = Simulator::start(SimConfig::default().repo(spec(1, 0)))
        .await
        .unwrap();
    let gh = client(&sim).build().unwrap();
    for date in [
        "2026-07-15",
        "2026-01-15",
        "2026-03-08",
        "2026-11-01",
        "2026-12-31",
    ] {
        for time in ["T00:00:00Z", "T07:00:00Z", "T08:00:00Z", "T23:59:59Z"] {
            let due = Timestamp::parse(&format!("{date}{time}")).unwrap();
            let m = gh
                .create_milestone(NewMilestone {
                    title: format!("m {date}{time}"),
                    description: None,
                    due_on: Some(due),
                })
                .await
                .unwrap();
            let back = m.due_on.unwrap();
            assert_eq!(
                back.0.date_naive().to_string(),
                date,
                "{date}{time} → {back}"
            );
        }
    }
}

// On a paused clock: the waits are exact and take no real time.
#[tokio::test(start_paused = true)]
async fn a_slow_create_after_a_502_is_looked_for_patiently_and_never_sent_twice() {
    let config = SimConfig {
        listing_lag: Duration::from_millis(1_500),
        ..SimConfig::default().repo(spec(3, 0))
    };
    let sim = Simulator::start(config).await.unwrap();
    let new = |title: &str| NewIssue {
        title: title.into(),
        body: "b".into(),
        ..NewIssue::default()
    };
    let posts = |sim: &Simulator| {
        sim.writes()
            .iter()
            .filter(|w| w.method == "POST" && w.path.ends_with("/issues"))
            .count()
    };
    let count = |sim: &Simulator, title: &str| {
        sim.with_world(|w| {
            w.repos
                .values()
                .flat_map(|r| r.issues.values())
                .filter(|i| i.title == title)
                .count()
        })
    };
    // Quick lookups (tests' short backoff): unseen in time, so not sent again.
    let mut f = roadmap_sim::ScriptedFault::next("/issues", roadmap_sim::FaultKind::Status502);
    f.method = Some("POST".into());
    f.after_commit = true;
    sim.script_fault(f.clone());
    let gh = client(&sim).build().unwrap();
    let err = gh.create_issue(new("slow one")).await.unwrap_err();
    assert!(matches!(err, TrackerError::Ambiguous { .. }), "{err:?}");
    assert_eq!(posts(&sim), 1, "not sent again");
    assert_eq!(count(&sim, "slow one"), 1, "it exists once");

    // GitHub's pace (the default backoff: lookups at 0.5, 1, 2, 4 s): found when it shows.
    sim.reset_metrics();
    sim.script_fault(f);
    let gh = GitHub::builder("octo", "demo")
        .api_url(sim.url())
        .token(Some(SecretString::from("ghp_test_token_value")))
        .write_spacing(Duration::ZERO)
        .build()
        .unwrap();
    let made = gh.create_issue(new("slow two")).await.unwrap();
    assert_eq!(made.title, "slow two");
    assert_eq!(posts(&sim), 1);
    assert_eq!(count(&sim, "slow two"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_text_reaches_the_user_without_control_characters() {
    let (url, _) = server(Arc::new(|_p: &str| {
        (
            422,
            vec![],
            br#"{"message":"\u001b[2J\u001b]0;pwned\u0007 cleared","errors":[{"message":"bad \u001b[31mred"}]}"#
                .to_vec(),
        )
    }))
    .await;
    let err = gh_at(&url)
        .create_issue(NewIssue {
            title: "t".into(),
            ..NewIssue::default()
        })
        .await
        .unwrap_err()
        .to_string();
    assert!(!err.chars().any(char::is_control), "{err:?}");
    assert!(err.contains("cleared") && err.contains("red"), "{err}");
}
