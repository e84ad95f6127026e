//! `roadmap demo` ends by writing the roadmap report, and that report works in a real
//! browser: headless Chromium (Debian's `chromium`) opens it, its script runs without a
//! console message, the milestones and the plan's nodes are in the page, and a filter given
//! in the address hides the issues of other milestones.

use std::path::Path;
use std::process::Command;

use crate::ok;

/// Chromium, or `None` when `ROADMAP_SKIP_BROWSER` says it cannot be had (CI sets it when
/// the package cannot be installed); otherwise its absence fails the test.
fn chromium() -> Option<&'static str> {
    let found = ["chromium", "chromium-browser"].into_iter().find(|c| {
        Command::new(c)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if found.is_none() && std::env::var_os("ROADMAP_SKIP_BROWSER").is_some() {
        eprintln!("SKIPPED: no chromium, and ROADMAP_SKIP_BROWSER is set");
        return None;
    }
    Some(
        found
            .expect("chromium is needed (apt-get install chromium), or set ROADMAP_SKIP_BROWSER=1"),
    )
}

/// The page at `url` after its scripts ran (`--dump-dom`), and what Chromium logged.
fn open(chromium: &str, url: &str, profile: &Path) -> (String, String) {
    let out = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--dump-dom", url])
        .output()
        .expect("run chromium");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The open-issue rows of a page: (milestone, hidden).
fn rows(dom: &str) -> Vec<(String, bool)> {
    let table = dom
        .split("<table class=\"issues\">")
        .nth(1)
        .expect("the open-issues table");
    table
        .split("<tr data-m=\"")
        .skip(1)
        .map(|tr| {
            let (m, rest) = tr.split_once('"').expect("a quoted milestone");
            let tag = rest.split('>').next().unwrap_or("");
            (m.to_owned(), tag.contains(" hidden"))
        })
        .collect()
}

#[test]
fn the_demo_ends_with_a_report_that_chromium_opens_without_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path().join("demo");
    let out = ok(
        tmp.path(),
        &[
            "demo",
            "--keep",
            project.to_str().unwrap(),
            "--issues",
            "400",
        ],
    );
    let report = project.join("roadmap-report.html");
    let last = out.lines().rev().find(|l| l.starts_with("== ")).unwrap();
    assert!(
        last.starts_with("== 8. The roadmap report")
            && last.ends_with(&report.display().to_string()),
        "the demo's last step is the report: {last}"
    );
    // Step 7's plan went to GitHub as its own relations: every one sent, none left.
    let plan = out
        .lines()
        .skip_while(|l| !l.starts_with("== 7."))
        .take_while(|l| !l.starts_with("== 8."))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        plan.contains("writes: 9 dependencies and 8 sub-issues, as GitHub's own")
            && !plan.contains("failed"),
        "{plan}"
    );
    let html = fs_err::read_to_string(&report).unwrap();
    // Self-contained: the only address in it is SVG's namespace name (never fetched).
    let addresses = html.matches("http").count();
    assert_eq!(
        addresses,
        html.matches("xmlns=\"http://www.w3.org/2000/svg\"").count(),
        "the report refers to nothing outside itself"
    );

    // What the page must show: every milestone, and the plan the demo made (step 7).
    let status: serde_json::Value =
        serde_json::from_str(&ok(&project, &["milestone", "status", "--json"])).unwrap();
    let milestones: Vec<String> = status
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["title"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(milestones.len(), 20);
    let trees: serde_json::Value =
        serde_json::from_str(&ok(&project, &["tree", "--json"])).unwrap();
    let epic = &trees.as_array().unwrap()[0];
    let children: Vec<i64> = epic["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["issue"]["number"].as_i64().unwrap())
        .collect();
    assert_eq!(children.len(), 8, "{epic}");

    // The Markdown form, from the same index.
    let md = ok(&project, &["report", "--format", "markdown", "-o", "-"]);
    assert!(md.contains("```mermaid\ngantt\n") && md.contains("```mermaid\ngraph LR\n"));
    for n in &children {
        assert!(
            md.contains(&format!("  - [ ] #{n} ")),
            "#{n} in the Markdown tree"
        );
    }

    let Some(chromium) = chromium() else { return };
    let url = format!("file://{}", report.display());
    let (dom, log) = open(chromium, &url, &tmp.path().join("profile"));
    assert!(
        dom.contains("data-ready=\"1\""),
        "the script ran to its end"
    );
    assert!(!dom.contains("data-errors=\""), "no script error");
    let console: Vec<&str> = log.lines().filter(|l| l.contains(":CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:#?}");
    for m in &milestones {
        assert!(
            dom.contains("<g class=\"milestone") && dom.contains(&format!("data-m=\"{m}\"")),
            "milestone {m} on the timeline"
        );
    }
    let nodes = dom.matches("<g class=\"node").count();
    assert!(nodes >= 8, "the plan's graph: {nodes} nodes");
    for n in &children {
        assert!(
            dom.contains(&format!("<tspan class=\"num\">#{n}</tspan>"))
                || dom.contains(&format!("<b>#{n}</b>")),
            "#{n} drawn"
        );
    }
    assert!(dom.contains("Critical path ("), "a critical path is named");
    let all = rows(&dom);
    assert!(
        all.len() > 100 && all.iter().all(|r| !r.1),
        "no filter: every open issue shown"
    );

    // A filter in the address: only that milestone's open issues stay.
    let m = &milestones[0];
    let (dom, log) = open(
        chromium,
        &format!("{url}#milestone={m}"),
        &tmp.path().join("profile"),
    );
    assert!(dom.contains("data-ready=\"1\"") && !dom.contains("data-errors=\""));
    assert!(!log.contains(":CONSOLE"), "{log}");
    let filtered = rows(&dom);
    assert_eq!(filtered.len(), all.len());
    let shown: Vec<_> = filtered.iter().filter(|r| !r.1).collect();
    assert!(
        !shown.is_empty() && shown.len() < all.len(),
        "{} of {} shown",
        shown.len(),
        all.len()
    );
    assert!(shown.iter().all(|r| &r.0 == m), "only {m}'s issues shown");
    assert!(dom.contains(&format!("<span id=\"shown\">{}</span>", shown.len())));
}
