//! Commands that work on the local project only: issues, milestones, roadmaps, search,
//! index and watch.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, bail};
use roadmap::{
    CloseReason, Index, Issue, IssueEdit, IssueQuery, IssueRow, ItemFile, ItemId, Milestone,
    MilestoneEdit, MilestoneState, Priority, Project, Roadmap, SortKey, Status, StatusFilter,
    Store, Timestamp,
};

use crate::render::{clip, table};
use crate::{IssueCmd, IssueFields, MilestoneCmd, RoadmapCmd};

impl IssueFields {
    /// The flags as a typed edit.
    pub fn to_edit(&self) -> Result<IssueEdit> {
        Ok(IssueEdit {
            title: self.title.clone(),
            status: self.status.as_deref().map(str::parse).transpose()?,
            priority: self.priority.as_deref().map(str::parse).transpose()?,
            add_labels: self.label.clone(),
            remove_labels: self.remove_label.clone(),
            add_assignees: self.assignee.clone(),
            remove_assignees: self.remove_assignee.clone(),
            milestone: self
                .milestone
                .clone()
                .map(|m| Some(m).filter(|m| !m.is_empty())),
            create_milestone: self.create_milestone,
            estimate: self.estimate,
            progress: self.progress,
            add_depends_on: self.depends_on.clone(),
            add_blocks: self.blocks.clone(),
            parent: self
                .parent
                .clone()
                .map(|p| Some(p).filter(|p| !p.is_empty())),
            body: self.body.clone(),
            ..IssueEdit::default()
        })
    }
}

pub async fn issue(
    project: &Project,
    cmd: IssueCmd,
    editor: Option<&str>,
    out: &mut impl Write,
) -> Result<()> {
    match cmd {
        IssueCmd::Create {
            new_title,
            fields,
            json,
        } => {
            let file = project.create_issue(&new_title, &fields.to_edit()?)?;
            if json {
                writeln!(out, "{}", serde_json::to_string(&issue_json(&file))?)?;
            } else {
                writeln!(
                    out,
                    "created issue {} ({})",
                    file.item().id,
                    file.path.display()
                )?;
            }
        }
        IssueCmd::List { filter, json } => {
            let rows = project.issues(&filter.to_query()?).await?;
            if json {
                serde_json::to_writer(&mut *out, &rows)?;
                writeln!(out)?;
            } else {
                issue_table(out, rows)?;
            }
        }
        IssueCmd::Show { id, json, raw } => {
            let file = project.find_issue(&id).await?;
            let comments = roadmap::sync::comments::path(project.store(), &file.item().id);
            if json {
                writeln!(out, "{}", serde_json::to_string_pretty(&issue_json(&file))?)?;
            } else if raw {
                write!(out, "{}", file.render())?;
                if let Ok(text) = fs_err::read_to_string(&comments) {
                    writeln!(out, "\n<!-- comments: {} -->\n{text}", comments.display())?;
                }
            } else {
                let list = roadmap::sync::comments::read(project.store(), &comments)
                    .unwrap_or_else(|e| {
                        tracing::warn!("{e}");
                        Vec::new()
                    });
                show_issue(out, &file, &list)?;
            }
        }
        IssueCmd::Edit { id, fields } => {
            let edit = fields.to_edit()?;
            if edit.is_empty() {
                // The editor works on a copy: the issue's file changes only if the result is
                // valid, so a bad edit never hides the issue from every listing.
                let file = project.find_issue(&id).await?;
                let original = fs_err::read_to_string(&file.path)?;
                let mut copy = tempfile::Builder::new()
                    .prefix(&format!("roadmap-{}-", file.item().id))
                    .suffix(".md")
                    .tempfile()?;
                std::io::Write::write_all(&mut copy, original.as_bytes())?;
                edit_in_editor(copy.path(), editor)?;
                let edited = fs_err::read_to_string(copy.path())?;
                if edited == original {
                    writeln!(out, "issue {} unchanged", file.item().id)?;
                    return Ok(());
                }
                match project.replace_issue_text(&file, &edited) {
                    Ok(f) => writeln!(out, "edited issue {}", f.item().id)?,
                    Err(e) => {
                        let (_, kept) = copy.keep()?;
                        bail!(
                            "{e}; the issue's file is unchanged, your edit is kept in {}",
                            kept.display()
                        );
                    }
                }
            } else {
                let file = project.edit_issue(&id, &edit).await?;
                writeln!(out, "updated issue {}", file.item().id)?;
            }
        }
        IssueCmd::Close { id, reason } => {
            set_status(project, &id, Status::Done, reason, out).await?
        }
        IssueCmd::Reopen { id } => set_status(project, &id, Status::Todo, None, out).await?,
        IssueCmd::Comment { id, message } => {
            // Found before the editor opens: a wrong id costs no writing.
            let file = project.find_issue(&id).await?;
            let body = match message {
                Some(m) => m,
                None => {
                    // Written in a temporary file: nothing is added unless it is kept.
                    let tmp = tempfile::Builder::new()
                        .prefix("roadmap-comment-")
                        .suffix(".md")
                        .tempfile()?;
                    edit_in_editor(tmp.path(), editor)?;
                    let text = fs_err::read_to_string(tmp.path())?;
                    // An editor ends the text with a newline the writer did not mean.
                    text.trim_end().to_owned()
                }
            };
            let (id, path) = project
                .comment(file.item().id.as_str(), &body)
                .await
                .map_err(|e| match e {
                    roadmap::Error::Invalid { problems, .. } => anyhow::anyhow!(
                        "nothing added to issue {}: the comment {}",
                        file.item().id,
                        problems.join("; ")
                    ),
                    e => e.into(),
                })?;
            writeln!(
                out,
                "comment added to issue {id} ({}); `roadmap sync push` posts it",
                path.display()
            )?;
        }
    }
    Ok(())
}

/// An issue for a person to read: a header, the fields that are set, the body, comments.
fn show_issue(
    out: &mut impl Write,
    file: &ItemFile<Issue>,
    comments: &[roadmap::model::Comment],
) -> Result<()> {
    let i = file.item();
    let number = i.number().map(|n| format!("  #{n}")).unwrap_or_default();
    writeln!(out, "{}{number}  {}", i.id, clip(&i.title, 200))?;
    let mut fields = vec![
        format!(
            "status: {}{}",
            i.status,
            i.close_reason
                .map(|r| format!(" ({r})"))
                .unwrap_or_default()
        ),
        format!("priority: {}", i.priority),
    ];
    if let Some(m) = &i.milestone {
        fields.push(format!("milestone: {}", clip(m, 60)));
    }
    writeln!(out, "{}", fields.join("   "))?;
    let list = |name: &str, v: &[String]| {
        (!v.is_empty()).then(|| format!("{name}: {}", clip(&v.join(", "), 200)))
    };
    let more: Vec<String> = [
        list("labels", &i.labels),
        list("assignees", &i.assignees),
        i.estimate.map(|e| format!("estimate: {e}h")),
        i.progress.map(|p| format!("progress: {p}%")),
        list("depends on", &i.depends_on),
        list("blocks", &i.blocks),
    ]
    .into_iter()
    .flatten()
    .collect();
    for m in more {
        writeln!(out, "{m}")?;
    }
    let when = |t: Option<Timestamp>| t.map(|t| t.0.format("%Y-%m-%d %H:%M").to_string());
    let mut dates = Vec::new();
    if let Some(c) = when(i.created) {
        dates.push(format!("created {c}"));
    }
    if let Some(u) = when(i.updated) {
        dates.push(format!("updated {u}"));
    }
    if let Some(url) = i.remote.as_ref().and_then(|r| r.url.as_deref()) {
        dates.push(url.to_owned());
    }
    if !dates.is_empty() {
        writeln!(out, "{}", dates.join(" · "))?;
    }
    writeln!(out, "file: {}", file.path.display())?;
    if !i.body.is_empty() {
        writeln!(out)?;
        for l in i.body.lines() {
            writeln!(
                out,
                "{}",
                l.chars()
                    .map(|c| if c.is_control() && c != '\t' { ' ' } else { c })
                    .collect::<String>()
            )?;
        }
    }
    if !comments.is_empty() {
        writeln!(out, "\n── {} comments ──", comments.len())?;
        for c in comments {
            let who = if c.author.is_empty() {
                "you (not pushed yet)"
            } else {
                &c.author
            };
            writeln!(out, "{who}, {}:", when(c.created).unwrap_or_default())?;
            for l in c.body.lines() {
                writeln!(out, "  {}", clip(l, 1000))?;
            }
        }
    }
    Ok(())
}

async fn set_status(
    project: &Project,
    id: &str,
    status: Status,
    reason: Option<CloseReason>,
    out: &mut impl Write,
) -> Result<()> {
    let file = project
        .edit_issue(id, &IssueEdit::status(status, reason))
        .await?;
    writeln!(
        out,
        "issue {} is now {status}{}",
        file.item().id,
        file.item()
            .close_reason
            .map(|r| format!(" ({r})"))
            .unwrap_or_default()
    )?;
    Ok(())
}

fn issue_json(file: &ItemFile<Issue>) -> crate::json::IssueJson<'_> {
    crate::json::IssueJson::of(file.item(), &file.path)
}

pub fn edit_in_editor(path: &Path, editor: Option<&str>) -> Result<()> {
    let editor = editor
        .map(str::to_owned)
        .or_else(|| std::env::var("VISUAL").ok())
        .or_else(|| std::env::var("EDITOR").ok())
        .unwrap_or_else(|| "vi".into());
    let mut parts = editor.split_whitespace();
    let program = parts.next().context("empty editor command")?;
    let status = std::process::Command::new(program)
        .args(parts)
        .arg(path)
        .status()
        .with_context(|| format!("starting editor `{editor}`"))?;
    if !status.success() {
        bail!("editor `{editor}` exited with {status}");
    }
    Ok(())
}

pub async fn milestone(project: &Project, cmd: MilestoneCmd, out: &mut impl Write) -> Result<()> {
    let store = project.store();
    match cmd {
        MilestoneCmd::Create {
            title,
            due,
            description,
        } => {
            let due = due.map(|d| Timestamp::parse(&d)).transpose()?;
            let f = project.create_milestone(&title, due, description.as_deref())?;
            writeln!(
                out,
                "created milestone {} ({})",
                f.item().id,
                f.path.display()
            )?;
        }
        MilestoneCmd::List { json } => {
            let report = store.load_all::<Milestone>()?;
            for s in &report.skipped {
                tracing::warn!("skipped {s}");
            }
            if json {
                let v: Vec<_> = report
                    .items
                    .iter()
                    .map(|f| crate::json::MilestoneJson::of(f.item(), &f.path))
                    .collect();
                writeln!(out, "{}", serde_json::to_string(&v)?)?;
            } else {
                let rows: Vec<Vec<String>> = report
                    .items
                    .iter()
                    .map(|f| {
                        let m = f.item();
                        vec![
                            m.id.to_string(),
                            m.remote
                                .as_ref()
                                .map(|r| format!("#{}", r.number))
                                .unwrap_or_default(),
                            m.state.as_str().into(),
                            m.due
                                .map(|d| d.0.format("%Y-%m-%d").to_string())
                                .unwrap_or_default(),
                            clip(&m.title, 60),
                        ]
                    })
                    .collect();
                table(out, &["id", "#", "state", "due", "title"], &rows)?;
            }
        }
        MilestoneCmd::Show { id } => {
            let f = project.find_milestone(&id)?;
            write!(out, "{}", f.render())?;
        }
        MilestoneCmd::Edit {
            id,
            title,
            due,
            description,
        } => {
            let due = due
                .map(|d| match d.as_str() {
                    "none" | "" => Ok(None),
                    d => Timestamp::parse(d).map(Some).with_context(|| {
                        format!("--due {d}: give a date as YYYY-MM-DD, or `none`")
                    }),
                })
                .transpose()?;
            let edit = MilestoneEdit {
                title,
                due,
                description,
                ..MilestoneEdit::default()
            };
            let (f, moved) = project.edit_milestone(&id, &edit)?;
            let new = &f.item().title;
            writeln!(
                out,
                "milestone {} saved{}",
                f.item().id,
                if moved > 0 {
                    format!(" ({moved} issues now name `{new}`)")
                } else {
                    String::new()
                }
            )?;
        }
        MilestoneCmd::Close { id } => {
            set_milestone_state(project, &id, MilestoneState::Closed, out)?;
        }
        MilestoneCmd::Reopen { id } => {
            set_milestone_state(project, &id, MilestoneState::Open, out)?;
        }
        MilestoneCmd::Status { title, json } => {
            let Some(index) = project.index_or_scan().await else {
                bail!("milestone status needs the index, which cannot be opened")
            };
            let title = title.map(|t| {
                project
                    .find_milestone(&t)
                    .map(|f| f.item().title.clone())
                    .unwrap_or(t)
            });
            let progress = index.milestone_progress(title.as_deref()).await?;
            if title.is_some() && progress.is_empty() {
                bail!("no milestone `{}`", title.unwrap_or_default());
            }
            if json {
                writeln!(out, "{}", serde_json::to_string(&progress)?)?;
            } else {
                let rows: Vec<Vec<String>> = progress
                    .iter()
                    .map(|p| {
                        let pct = if p.total == 0 {
                            0
                        } else {
                            p.done * 100 / p.total
                        };
                        let due = match (&p.due, p.overdue) {
                            (Some(d), true) => format!("{d} OVERDUE"),
                            (Some(d), false) => d.clone(),
                            (None, _) => "-".to_owned(),
                        };
                        vec![
                            clip(&p.title, 40),
                            p.state.clone(),
                            due,
                            format!("{}/{}", p.done, p.total),
                            format!("{pct}%"),
                            bar(pct),
                            format!("{:.1}h", p.estimate),
                            p.by_status
                                .iter()
                                .map(|(s, n)| format!("{s}:{n}"))
                                .collect::<Vec<_>>()
                                .join(" "),
                        ]
                    })
                    .collect();
                table(
                    out,
                    &[
                        "milestone",
                        "state",
                        "due",
                        "done",
                        "%",
                        "progress",
                        "estimate",
                        "by status",
                    ],
                    &rows,
                )?;
            }
        }
    }
    Ok(())
}

fn bar(pct: i64) -> String {
    let filled = (pct / 5) as usize;
    format!(
        "[{}{}]",
        "#".repeat(filled),
        "-".repeat(20 - filled.min(20))
    )
}

fn set_milestone_state(
    project: &Project,
    key: &str,
    state: MilestoneState,
    out: &mut impl Write,
) -> Result<()> {
    let f = project.find_milestone(key)?;
    if f.item().state == state {
        writeln!(
            out,
            "milestone {} is already {}",
            f.item().id,
            state.as_str()
        )?;
        return Ok(());
    }
    let edit = MilestoneEdit {
        state: Some(state),
        ..MilestoneEdit::default()
    };
    let (f, _) = project.edit_milestone(key, &edit)?;
    writeln!(out, "milestone {} is now {}", f.item().id, state.as_str())?;
    Ok(())
}

pub async fn roadmap(project: &Project, cmd: RoadmapCmd, out: &mut impl Write) -> Result<()> {
    let store = project.store();
    match cmd {
        RoadmapCmd::Create {
            title,
            milestone,
            owner,
        } => {
            let f = project.create_roadmap(&title, &milestone, owner.as_deref())?;
            writeln!(
                out,
                "created roadmap {} ({})",
                f.item().id,
                f.path.display()
            )?;
        }
        RoadmapCmd::List { json } => {
            let report = store.load_all::<Roadmap>()?;
            if json {
                let v: Vec<_> = report
                    .items
                    .iter()
                    .map(|f| crate::json::RoadmapJson::of(f.item(), &f.path))
                    .collect();
                writeln!(out, "{}", serde_json::to_string(&v)?)?;
            } else {
                let rows: Vec<Vec<String>> = report
                    .items
                    .iter()
                    .map(|f| {
                        vec![
                            f.item().id.to_string(),
                            f.item().milestones.len().to_string(),
                            clip(&f.item().title, 60),
                        ]
                    })
                    .collect();
                table(out, &["id", "milestones", "title"], &rows)?;
            }
        }
        RoadmapCmd::Show { id } => {
            let id = ItemId::new(id)?;
            let f = store.get::<Roadmap>(&id)?;
            write!(out, "{}", f.render())?;
            if let Some(index) = project.index_or_scan().await {
                writeln!(out)?;
                for m in &f.item().milestones {
                    for p in index.milestone_progress(Some(m)).await? {
                        writeln!(
                            out,
                            "{:<30} {}/{} done",
                            clip(&p.title, 30),
                            p.done,
                            p.total
                        )?;
                    }
                }
            }
        }
    }
    Ok(())
}

pub async fn search(
    project: &Project,
    query: &str,
    limit: u64,
    json: bool,
    out: &mut impl Write,
) -> Result<()> {
    let hits = project.search(query, limit).await?;
    if json {
        writeln!(out, "{}", serde_json::to_string(&hits)?)?;
    } else {
        let rows: Vec<Vec<String>> = hits
            .into_iter()
            .map(|h| {
                vec![
                    h.row.id,
                    h.row.status,
                    clip(&h.row.title, 50),
                    clip(&h.snippet, 80),
                ]
            })
            .collect();
        table(out, &["id", "status", "title", "match"], &rows)?;
    }
    Ok(())
}

pub async fn index_cmd(store: &Store, rebuild: bool, out: &mut impl Write) -> Result<bool> {
    let mut index = if rebuild {
        Index::recreate(store).await?
    } else {
        Index::open(store).await?
    };
    let mut report = index.opened().clone();
    let mut integrity = match index.integrity_check().await {
        Ok(v) => v,
        Err(e) if e.is_corrupt() => e.to_string(),
        Err(e) => return Err(e.into()),
    };
    if integrity != "ok" {
        // Detected: rebuild from the files, then check again.
        writeln!(out, "damaged: {integrity}")?;
        index.close().await;
        index = Index::recreate(store).await?;
        report = index.opened().clone();
        report.rebuild_reason = Some("the integrity check failed".into());
        integrity = index.integrity_check().await?;
    }
    let counts = index.counts().await?;
    let (issues, milestones, roadmaps) = (counts.issues, counts.milestones, counts.roadmaps);
    writeln!(out, "index: {}", store.layout().index().display())?;
    writeln!(out, "integrity: {integrity}")?;
    if let Some(r) = &report.rebuild_reason {
        writeln!(out, "rebuilt: {r}")?;
    }
    writeln!(
        out,
        "files read: {}, removed: {}, unchanged: {}",
        report.updated, report.removed, report.unchanged
    )?;
    writeln!(
        out,
        "indexed: {issues} issues, {milestones} milestones, {roadmaps} roadmaps"
    )?;
    for s in &report.skipped {
        writeln!(out, "skipped: {s}")?;
    }
    index.close().await;
    Ok(integrity == "ok" && counts.bad_files == 0)
}

pub async fn watch(store: &Store, out: &mut impl Write) -> Result<()> {
    let index = Index::open(store).await?;
    let report = index.opened();
    writeln!(
        out,
        "watching {} ({} files indexed); Ctrl-C to stop",
        store.layout().dir().display(),
        report.updated + report.unchanged
    )?;
    index.close().await;
    out.flush()?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let _watcher = roadmap::index::IndexWatcher::start(
        store.clone(),
        std::time::Duration::from_millis(100),
        tx,
    )?;
    loop {
        tokio::select! {
            ev = rx.recv() => match ev {
                Some(roadmap::index::WatchEvent::Reconciled(r)) => {
                    writeln!(out, "reindexed: {} changed, {} removed", r.updated, r.removed)?;
                    for s in r.skipped { writeln!(out, "skipped: {s}")?; }
                    out.flush()?;
                }
                Some(roadmap::index::WatchEvent::Failed(e)) => tracing::warn!("reconcile failed: {e}"),
                Some(_) => {}
                None => break,
            },
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    Ok(())
}

/// Filters for `issue list`.
#[derive(Debug, clap::Args)]
pub struct ListFilter {
    /// Status: todo, in-progress, blocked, review, done, or open (not done) / closed; repeatable.
    #[arg(long, short)]
    pub status: Vec<String>,
    /// Priority: low, medium, high, critical.
    #[arg(long, short)]
    pub priority: Option<String>,
    /// Assigned to this login.
    #[arg(long, short)]
    pub assignee: Option<String>,
    /// In this milestone (title).
    #[arg(long, short)]
    pub milestone: Option<String>,
    /// Has this label; repeatable (all must match).
    #[arg(long, short)]
    pub label: Vec<String>,
    /// Words in the title or body.
    #[arg(long, short)]
    pub text: Option<String>,
    /// Order: number (GitHub's, as numbers; new local issues last), id, priority, updated,
    /// created, title.
    #[arg(long, default_value = "number")]
    pub sort: String,
    /// At most this many issues.
    #[arg(long, short = 'n')]
    pub limit: Option<u64>,
}

impl ListFilter {
    pub fn to_query(&self) -> Result<IssueQuery> {
        Ok(IssueQuery {
            status: self
                .status
                .iter()
                .map(|s| s.parse::<StatusFilter>())
                .collect::<Result<_, _>>()?,
            priority: self
                .priority
                .as_deref()
                .map(str::parse::<Priority>)
                .transpose()?,
            assignee: self.assignee.clone(),
            milestone: self.milestone.clone(),
            labels: self.label.clone(),
            text: self.text.clone(),
            sort: self.sort.parse::<SortKey>().map_err(anyhow::Error::msg)?,
            limit: self.limit,
        })
    }
}

/// Issue rows as a table: id, number, status, priority, milestone, assignees, title.
pub fn issue_table(out: &mut impl Write, rows: Vec<IssueRow>) -> Result<()> {
    let rows: Vec<Vec<String>> = rows
        .into_iter()
        .map(|r| {
            vec![
                r.id,
                r.number.map(|n| format!("#{n}")).unwrap_or_default(),
                r.status,
                r.priority,
                r.milestone.unwrap_or_default(),
                r.assignees.join(","),
                clip(&r.title, 70),
            ]
        })
        .collect();
    table(
        out,
        &[
            "id",
            "#",
            "status",
            "priority",
            "milestone",
            "assignees",
            "title",
        ],
        &rows,
    )?;
    Ok(())
}
