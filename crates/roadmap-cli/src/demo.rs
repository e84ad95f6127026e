//! `roadmap demo`: a simulated GitHub, a pull, a catch-up pull, a no-change pull, a two-way
//! sync, then queries; all through the library's [`Project`], as an embedding program would.
//! Built with the default `demo` feature (without it the binary holds no HTTP server).

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Result, bail};
use roadmap::simulator::{Latency, RepoSpec, SimConfig, Simulator};
use roadmap::{
    IssueEdit, IssueQuery, ItemId, Priority, Project, PullSpec, SortKey, Source, StatusFilter,
};

use crate::render::{clip, table};
use crate::sync::{Progress, Report, print_report, print_sync_report};

pub async fn run(dir: Option<PathBuf>, issues: u64, out: &mut impl Write) -> Result<()> {
    let spec = RepoSpec {
        issues,
        prs: issues / 20,
        milestones: 20,
        labels: 12,
        comments: 2,
        ..RepoSpec::new("octo", "demo")
    };
    let sim = Simulator::start(SimConfig::default().repo(spec).latency(Latency::github())).await?;
    let tmp;
    let tmp_used = dir.is_none();
    let root = match dir {
        Some(d) => d,
        None => {
            tmp = tempfile::tempdir()?;
            tmp.path().to_owned()
        }
    };
    let mut project = Project::init(&root, Some(&"octo/demo".parse()?))?;
    project
        .config_mut()
        .set("api_url", &sim.url(), Source::Flag)?;
    writeln!(
        out,
        "Simulated GitHub at {} with octo/demo: {issues} issues, {} pull requests, 20 milestones, 2 comments each;",
        sim.url(),
        issues / 20
    )?;
    writeln!(
        out,
        "latency like api.github.com (100 ms + 3 ms per item). Project: {}",
        root.display()
    )?;
    let gh = project.github(Some("demo-token".into()))?;
    let progress = Progress::new(false);
    let events = |e| progress.handle(e);
    for (title, note) in [
        (
            "1. First pull (full)",
            "issues, milestones, labels and comments, by GitHub's cursor links",
        ),
        (
            "2. Second pull (incremental)",
            "only what changed since the watermark",
        ),
        (
            "3. Third pull (no change)",
            "conditional requests, every answer a 304, no file touched",
        ),
    ] {
        writeln!(out, "== {title}: {note}")?;
        out.flush()?;
        let report = project.pull(&gh, &PullSpec::default(), &events).await?;
        print_report(out, &report, Report::Short)?;
    }
    writeln!(
        out,
        "== 4. #5 edited and #6 commented on GitHub; pull again"
    )?;
    sim.edit_issue("octo", "demo", 5, |i| {
        i.title = "Edited on GitHub during the demo".into()
    });
    sim.add_comment("octo", "demo", 6, "A comment added during the demo");
    let report = project.pull(&gh, &PullSpec::default(), &events).await?;
    print_report(out, &report, Report::Short)?;
    writeln!(
        out,
        "== 5. A new local issue, #7 retitled here and its body rewritten on GitHub; sync"
    )?;
    project.create_issue(
        "Written offline during the demo",
        &IssueEdit {
            priority: Some(Priority::High),
            estimate: Some(2.0),
            body: Some("Created as a file, pushed by `roadmap sync`.\n".into()),
            ..IssueEdit::default()
        },
    )?;
    project
        .edit_issue(
            "#7",
            &IssueEdit {
                title: Some("Retitled locally during the demo".into()),
                ..IssueEdit::default()
            },
        )
        .await?;
    sim.edit_issue("octo", "demo", 7, |i| {
        i.body = Some("Body rewritten on GitHub during the demo.\n".into())
    });
    let report = project.sync(&gh, &PullSpec::default(), &events).await?;
    print_sync_report(
        out,
        &report,
        Report::Short,
        project.settings()?.write_spacing,
    )?;
    writeln!(out, "== 6. Local queries on the index (no network)")?;
    let query = IssueQuery {
        status: vec![StatusFilter::Open],
        assignee: Some("alice".into()),
        limit: Some(3),
        sort: SortKey::Number,
        ..IssueQuery::default()
    };
    let started = Instant::now();
    let rows = project.issues(&query).await?;
    writeln!(
        out,
        "$ roadmap issue list --status open --assignee alice --limit 3   ({:.1} ms)",
        started.elapsed().as_secs_f64() * 1000.0
    )?;
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.id.clone(),
                r.status.clone(),
                r.milestone.clone().unwrap_or_default(),
                clip(&r.title, 60),
            ]
        })
        .collect();
    table(out, &["id", "status", "milestone", "title"], &rows)?;
    let started = Instant::now();
    let hits = project.search("login crash", 3).await?;
    writeln!(
        out,
        "$ roadmap search \"login crash\"   ({:.1} ms)",
        started.elapsed().as_secs_f64() * 1000.0
    )?;
    let rows: Vec<Vec<String>> = hits
        .iter()
        .map(|h| {
            vec![
                h.row.id.clone(),
                clip(&h.row.title, 50),
                clip(&h.snippet, 60),
            ]
        })
        .collect();
    table(out, &["id", "title", "match"], &rows)?;
    let index = project.index().await?;
    let progress_rows = index.milestone_progress(None).await?;
    index.close().await;
    writeln!(
        out,
        "$ roadmap milestone status   (first 3 of {})",
        progress_rows.len()
    )?;
    for p in progress_rows.iter().take(3) {
        writeln!(out, "{:<8} {:>4}/{:<4} done", p.title, p.done, p.total)?;
    }
    let shown = project
        .store()
        .path_of(roadmap::store::Kind::Issue, &ItemId::for_remote_issue(5));
    writeln!(
        out,
        "$ roadmap issue show '#5' --raw   (the file: {})",
        shown.display()
    )?;
    let text = fs_err::read_to_string(&shown)?;
    for l in text.lines().take(12) {
        writeln!(out, "{l}")?;
    }
    if issues == 0 {
        bail!("nothing to show");
    }
    if tmp_used {
        writeln!(
            out,
            "\nThe project was a temporary folder, removed now: `roadmap demo --keep DIR` keeps it to explore."
        )?;
    } else {
        writeln!(
            out,
            "\nThe project is in {}: try `roadmap -C {} issue list`.",
            root.display(),
            root.display()
        )?;
    }
    Ok(())
}
