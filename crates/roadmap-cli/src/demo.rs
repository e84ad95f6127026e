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
        // A history that ends about now, so that the report's timeline has milestones due
        // before and after today: issues are created 10 minutes apart and updated up to 30
        // days later, milestones are due 30 to 50 days after the start.
        epoch: chrono::Utc::now().timestamp()
            - (issues as i64 * 600 + 86_400 * 31).max(86_400 * 45),
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
    // GitHub asks for a second between writes; the demo's few dozen writes go faster, and
    // say so.
    project
        .config_mut()
        .set("write_spacing_ms", "200", Source::Flag)?;
    writeln!(
        out,
        "Simulated GitHub at {} with octo/demo: {issues} issues, {} pull requests, 20 milestones, 2 comments each;",
        sim.url(),
        issues / 20
    )?;
    writeln!(
        out,
        "latency like api.github.com (100 ms + 3 ms per item); writes 200 ms apart (1 s against GitHub). Project: {}",
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
    plan(&project, &gh, &events, out).await?;
    let report_path = if tmp_used {
        std::env::temp_dir().join("roadmap-demo-report.html")
    } else {
        root.join("roadmap-report.html")
    };
    let started = Instant::now();
    crate::report::write(
        &project,
        crate::report::Format::Html,
        Some(&report_path),
        out,
    )
    .await?;
    writeln!(
        out,
        "== 8. The roadmap report ({:.0} ms): {}",
        started.elapsed().as_secs_f64() * 1000.0,
        report_path.display()
    )?;
    writeln!(
        out,
        "   open it in a browser; `roadmap report --format markdown` writes it with Mermaid diagrams"
    )?;
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

/// Step 7: a plan among the open issues of the first open milestone with a due date: the
/// first becomes an epic with the others as sub-issues, and some wait for others; a sync
/// sends them as GitHub's own dependencies and sub-issues.
async fn plan(
    project: &Project,
    gh: &roadmap::github::GitHub,
    events: &(dyn Fn(roadmap::sync::SyncEvent) + Send + Sync),
    out: &mut impl Write,
) -> Result<()> {
    let index = project.index().await?;
    let milestones = index.milestone_progress(None).await;
    index.close().await;
    let Some(m) = milestones?
        .into_iter()
        .find(|m| m.state == "open" && m.due.is_some() && m.total - m.done >= 6)
    else {
        return Ok(());
    };
    let rows = project
        .issues(&IssueQuery {
            status: vec![StatusFilter::Open],
            milestone: Some(m.title.clone()),
            sort: SortKey::Number,
            limit: Some(9),
            ..IssueQuery::default()
        })
        .await?;
    let key = |i: usize| {
        rows[i]
            .number
            .map_or_else(|| rows[i].id.clone(), |n| format!("#{n}"))
    };
    // (issue, waits for, estimate in hours)
    let waits: [(usize, &[usize], f64); 8] = [
        (1, &[], 3.0),
        (2, &[1], 5.0),
        (3, &[2], 8.0),
        (4, &[1], 2.0),
        (5, &[3, 4], 4.0),
        (6, &[5], 3.0),
        (7, &[4], 1.0),
        (8, &[6, 7], 2.0),
    ];
    let mut edited = 0;
    for (i, on, hours) in waits {
        if i >= rows.len() {
            break;
        }
        let edit = IssueEdit {
            parent: Some(Some(key(0))),
            add_depends_on: on
                .iter()
                .filter(|d| **d < rows.len())
                .map(|d| key(*d))
                .collect(),
            estimate: Some(hours),
            ..IssueEdit::default()
        };
        project.edit_issue(&rows[i].id, &edit).await?;
        edited += 1;
    }
    writeln!(
        out,
        "== 7. A plan for milestone {}: {} sub-issues of {}, with dependencies; sync",
        m.title,
        edited,
        key(0)
    )?;
    out.flush()?;
    let report = project.sync(gh, &PullSpec::default(), events).await?;
    let sent = |action: &str| {
        report
            .push
            .plan
            .iter()
            .filter(|p| p.action == action)
            .count()
    };
    writeln!(
        out,
        "Push: {:.2} s, {} writes: {} dependencies and {} sub-issues, as GitHub's own (shown on its issue pages)",
        report.push.duration_ms as f64 / 1000.0,
        report.push.writes,
        sent("add-dependency"),
        sent("add-sub-issue"),
    )?;
    for f in &report.push.failures {
        writeln!(out, "  failed          {}: {}", f.what, f.reason)?;
    }
    writeln!(out, "$ roadmap tree {}", key(0))?;
    let index = project.index().await?;
    let trees = index.trees(Some(&key(0))).await;
    index.close().await;
    for t in trees?.unwrap_or_default() {
        writeln!(
            out,
            "{} {} ({}/{} done)",
            key(0),
            clip(&t.issue.title, 50),
            t.done,
            t.children.len()
        )?;
    }
    Ok(())
}
