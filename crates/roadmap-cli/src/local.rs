//! Commands that work on the local project only: issues, milestones, roadmaps, search,
//! index and watch.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, bail};
use futures::StreamExt;
use roadmap_index::{Index, IssueQuery, IssueRow, SortKey, StatusFilter};
use roadmap_model::{Issue, ItemId, Milestone, Priority, Roadmap, Status, Timestamp};
use roadmap_store::{ItemFile, Kind, Store};

use crate::render::{clip, table};
use crate::{IssueCmd, IssueFields, MilestoneCmd, RoadmapCmd};

/// Opens the index; if SQLite cannot be used at all, `None` (callers fall back to scanning).
pub async fn open_index(store: &Store) -> Option<Index> {
    match Index::open(store).await {
        Ok((index, report)) => {
            if let Some(reason) = &report.rebuild_reason
                && reason != "requested"
                && report.updated > 0
            {
                tracing::info!("index rebuilt: {reason}");
            }
            for s in &report.skipped {
                tracing::warn!("skipped {s}");
            }
            Some(index)
        }
        Err(e) => {
            tracing::warn!("the index cannot be used ({e}); reading the files instead");
            None
        }
    }
}

fn new_id(store: &Store, kind: Kind) -> ItemId {
    loop {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let seed = nanos.wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ u64::from(std::process::id()).rotate_left(17);
        let id = ItemId::from_entropy(seed);
        if !store.path_of(kind, &id).exists() {
            return id;
        }
    }
}

fn now() -> Timestamp {
    Timestamp::from_unix(chrono::Utc::now().timestamp()).unwrap_or(Timestamp(chrono::Utc::now()))
}

/// Resolves an id or `#number` to an issue file.
pub async fn resolve_issue(
    store: &Store,
    index: Option<&Index>,
    key: &str,
) -> Result<ItemFile<Issue>> {
    if let Ok(id) = ItemId::new(key) {
        let path = store.path_of(Kind::Issue, &id);
        if path.exists() {
            return Ok(store.load(&path)?);
        }
    }
    if let Some(index) = index {
        if let Some(path) = index.find_issue(key).await? {
            return Ok(store.load(&path)?);
        }
    } else if let Ok(n) = key.trim_start_matches('#').parse::<u64>() {
        for f in store.load_all::<Issue>()?.items {
            if f.item().number() == Some(n) {
                return Ok(f);
            }
        }
    }
    // An id prefix (`1a2b` for `1a2b3c4d`), as git takes a commit's: one match, or a clear
    // error naming the candidates.
    if !key.starts_with('#') && key.len() >= 2 {
        let mut matches: Vec<std::path::PathBuf> = store
            .scan(Kind::Issue)?
            .into_iter()
            .map(|(p, _)| p)
            .filter(|p| {
                p.file_stem()
                    .and_then(|s| s.to_str())
                    .is_some_and(|s| s.starts_with(key))
            })
            .collect();
        match matches.len() {
            0 => {}
            1 => return Ok(store.load(&matches.remove(0))?),
            n => {
                let names: Vec<String> = matches
                    .iter()
                    .take(5)
                    .filter_map(|p| p.file_stem().and_then(|s| s.to_str()).map(str::to_owned))
                    .collect();
                bail!(
                    "`{key}` is the start of {n} issue ids ({}{}): give more of it",
                    names.join(", "),
                    if n > 5 { ", …" } else { "" }
                );
            }
        }
    }
    bail!("no issue `{key}` (give its id or the start of it, or #NUMBER on GitHub)")
}

/// What GitHub would refuse (an empty or over-long title, an over-long body, a bad label
/// name) is refused here, before it is written, rather than at every push.
fn check_issue(issue: &Issue) -> Result<()> {
    let problems = roadmap_sync::validate::issue_problems(issue);
    if !problems.is_empty() {
        bail!("the issue {}", problems.join("; it "));
    }
    Ok(())
}

/// The milestone `--milestone` names, by title or id, as the title issues record; a name
/// that matches none is refused (with the nearest title) unless `--create-milestone` asks for
/// it, so that a typo never makes a milestone on GitHub.
fn check_milestone(store: &Store, f: &mut IssueFields) -> Result<()> {
    let Some(name) = f.milestone.clone().filter(|m| !m.is_empty()) else {
        return Ok(());
    };
    if let Ok(found) = find_milestone(store, &name) {
        f.milestone = Some(found.item().title.clone());
        return Ok(());
    }
    if f.create_milestone {
        let mut m = Milestone::new(new_id(store, Kind::Milestone), name);
        m.created = Some(now());
        let file = store.create(m)?;
        tracing::info!("created milestone {}", file.item().id);
        return Ok(());
    }
    let all = store.load_all::<Milestone>()?;
    let nearest = all
        .items
        .iter()
        .map(|m| m.item().title.as_str())
        .map(|t| {
            (
                strsim::normalized_damerau_levenshtein(&t.to_lowercase(), &name.to_lowercase()),
                t,
            )
        })
        .filter(|(score, _)| *score >= 0.5)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, t)| format!(" (did you mean `{t}`?)"))
        .unwrap_or_default();
    bail!(
        "no milestone `{name}`{nearest}; create it with `roadmap milestone create {name:?}`, or pass --create-milestone"
    )
}

fn apply_fields(issue: &mut Issue, f: &IssueFields) -> Result<()> {
    if let Some(t) = &f.title {
        issue.title = t.clone();
    }
    if let Some(s) = &f.status {
        issue.status = s.parse()?;
        if issue.status != Status::Done {
            issue.close_reason = None;
        }
    }
    if let Some(p) = &f.priority {
        issue.priority = p.parse()?;
    }
    for l in &f.label {
        if !issue.labels.iter().any(|x| x == l) {
            issue.labels.push(l.clone());
        }
    }
    issue.labels.retain(|l| !f.remove_label.contains(l));
    for a in &f.assignee {
        if !issue.assignees.iter().any(|x| x == a) {
            issue.assignees.push(a.clone());
        }
    }
    issue.assignees.retain(|a| !f.remove_assignee.contains(a));
    if let Some(m) = &f.milestone {
        issue.milestone = if m.is_empty() { None } else { Some(m.clone()) };
    }
    if let Some(e) = f.estimate {
        issue.estimate = Some(e);
    }
    if let Some(p) = f.progress {
        if p > 100 {
            bail!("--progress must be 0-100, got {p}");
        }
        issue.progress = Some(p);
    }
    for d in &f.depends_on {
        if !issue.depends_on.contains(d) {
            issue.depends_on.push(d.clone());
        }
    }
    for b in &f.blocks {
        if !issue.blocks.contains(b) {
            issue.blocks.push(b.clone());
        }
    }
    if let Some(b) = &f.body {
        issue.body = if b.ends_with('\n') || b.is_empty() {
            b.clone()
        } else {
            format!("{b}\n")
        };
    }
    Ok(())
}

fn fields_empty(f: &IssueFields) -> bool {
    f.title.is_none()
        && f.status.is_none()
        && f.priority.is_none()
        && f.label.is_empty()
        && f.remove_label.is_empty()
        && f.assignee.is_empty()
        && f.remove_assignee.is_empty()
        && f.milestone.is_none()
        && f.estimate.is_none()
        && f.progress.is_none()
        && f.depends_on.is_empty()
        && f.blocks.is_empty()
        && f.body.is_none()
}

pub async fn issue(
    store: &Store,
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
            let mut fields = fields;
            check_milestone(store, &mut fields)?;
            let mut issue = Issue::new(new_id(store, Kind::Issue), new_title);
            apply_fields(&mut issue, &fields)?;
            check_issue(&issue)?;
            let t = now();
            issue.created = Some(t);
            issue.updated = Some(t);
            let file = store.create(issue)?;
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
            let q = filter.to_query()?;
            let index = open_index(store).await;
            let mut rows: Vec<Vec<String>> = Vec::new();
            let mut json_rows: Vec<IssueRow> = Vec::new();
            let mut push = |r: IssueRow| {
                if json {
                    json_rows.push(r);
                } else {
                    rows.push(vec![
                        r.id,
                        r.number.map(|n| format!("#{n}")).unwrap_or_default(),
                        r.status,
                        r.priority,
                        r.milestone.unwrap_or_default(),
                        r.assignees.join(","),
                        clip(&r.title, 70),
                    ]);
                }
            };
            match &index {
                Some(index) => {
                    let mut stream = index.list_issues(&q);
                    while let Some(r) = stream.next().await {
                        push(r?);
                    }
                }
                None => {
                    let (found, skipped) = roadmap_index::scan_issues(store, &q)?;
                    for s in skipped {
                        tracing::warn!("skipped {s}");
                    }
                    found.into_iter().for_each(&mut push);
                }
            }
            if json {
                serde_json::to_writer(&mut *out, &json_rows)?;
                writeln!(out)?;
            } else {
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
            }
        }
        IssueCmd::Show { id, json } => {
            let index = open_index(store).await;
            let file = resolve_issue(store, index.as_ref(), &id).await?;
            if json {
                writeln!(out, "{}", serde_json::to_string_pretty(&issue_json(&file))?)?;
            } else {
                write!(out, "{}", file.render())?;
                let comments = crate::comments_path(store, file.item());
                if let Ok(text) = fs_err::read_to_string(&comments) {
                    writeln!(out, "\n<!-- comments: {} -->\n{text}", comments.display())?;
                }
            }
        }
        IssueCmd::Edit { id, fields } => {
            let index = open_index(store).await;
            let mut file = resolve_issue(store, index.as_ref(), &id).await?;
            if fields_empty(&fields) {
                edit_in_editor(&file.path, editor)?;
                let reread: ItemFile<Issue> = store.load(&file.path).with_context(
                    || "the edited file is not valid; fix it and run `roadmap index check`",
                )?;
                writeln!(out, "edited issue {}", reread.item().id)?;
            } else {
                let mut fields = fields;
                check_milestone(store, &mut fields)?;
                apply_fields(file.item_mut(), &fields)?;
                check_issue(file.item())?;
                file.item_mut().updated = Some(now());
                store.save(&mut file)?;
                writeln!(out, "updated issue {}", file.item().id)?;
            }
        }
        IssueCmd::Close { id, reason } => {
            // `completed` is GitHub's default: recorded as nothing, as pulls record it.
            let reason = reason.filter(|r| *r != roadmap_model::CloseReason::Completed);
            set_status(store, &id, Status::Done, reason, out).await?
        }
        IssueCmd::Reopen { id } => set_status(store, &id, Status::Todo, None, out).await?,
        IssueCmd::Comment { id, message } => {
            let index = open_index(store).await;
            let file = resolve_issue(store, index.as_ref(), &id).await?;
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
            let issue = file.item();
            let path = roadmap_sync::comments::add(store, &issue.id, &body)
                .map_err(|m| anyhow::anyhow!("nothing added to issue {}: {m}", issue.id))?;
            writeln!(
                out,
                "comment added to issue {} ({}); `roadmap sync push` posts it",
                issue.id,
                path.display()
            )?;
        }
    }
    Ok(())
}

async fn set_status(
    store: &Store,
    id: &str,
    status: Status,
    reason: Option<roadmap_model::CloseReason>,
    out: &mut impl Write,
) -> Result<()> {
    let index = open_index(store).await;
    let mut file = resolve_issue(store, index.as_ref(), id).await?;
    file.item_mut().status = status;
    file.item_mut().close_reason = reason;
    file.item_mut().updated = Some(now());
    store.save(&mut file)?;
    writeln!(
        out,
        "issue {} is now {status}{}",
        file.item().id,
        reason.map(|r| format!(" ({r})")).unwrap_or_default()
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

pub async fn milestone(store: &Store, cmd: MilestoneCmd, out: &mut impl Write) -> Result<()> {
    match cmd {
        MilestoneCmd::Create {
            title,
            due,
            description,
        } => {
            let mut m = Milestone::new(new_id(store, Kind::Milestone), title);
            if let Some(d) = due {
                m.due = Some(Timestamp::parse(&d)?);
            }
            m.created = Some(now());
            m.body = description.map(|d| format!("{d}\n")).unwrap_or_default();
            let f = store.create(m)?;
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
            let f = find_milestone(store, &id)?;
            write!(out, "{}", f.render())?;
        }
        MilestoneCmd::Edit {
            id,
            title,
            due,
            description,
        } => {
            let mut f = find_milestone(store, &id)?;
            let old = f.item().title.clone();
            if let Some(t) = &title {
                let t = t.trim();
                if t.is_empty() {
                    bail!("a milestone title cannot be empty");
                }
                if t != old
                    && store
                        .load_all::<Milestone>()?
                        .items
                        .iter()
                        .any(|m| m.item().title == t)
                {
                    bail!("there is already a milestone titled `{t}`");
                }
                f.item_mut().title = t.to_owned();
            }
            if let Some(d) = due {
                f.item_mut().due = match d.as_str() {
                    "none" | "" => None,
                    d => Some(Timestamp::parse(d).with_context(|| {
                        format!("--due {d}: give a date as YYYY-MM-DD, or `none`")
                    })?),
                };
            }
            if let Some(d) = description {
                f.item_mut().body = if d.is_empty() {
                    String::new()
                } else {
                    format!("{d}\n")
                };
            }
            f.item_mut().updated = Some(now());
            let new = f.item().title.clone();
            store.save(&mut f)?;
            // Issues name their milestone by title: a rename follows into them, or the next
            // push would take the old title for a milestone to create.
            let mut moved = 0;
            if new != old {
                for mut i in store.load_all::<Issue>()?.items {
                    if i.item().milestone.as_deref() == Some(old.as_str()) {
                        i.item_mut().milestone = Some(new.clone());
                        store.save(&mut i)?;
                        moved += 1;
                    }
                }
            }
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
            set_milestone_state(store, &id, roadmap_model::MilestoneState::Closed, out)?;
        }
        MilestoneCmd::Reopen { id } => {
            set_milestone_state(store, &id, roadmap_model::MilestoneState::Open, out)?;
        }
        MilestoneCmd::Status { title, json } => {
            let Some(index) = open_index(store).await else {
                bail!("milestone status needs the index, which cannot be opened")
            };
            let title = title.map(|t| {
                find_milestone(store, &t)
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
                        vec![
                            clip(&p.title, 40),
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
    store: &Store,
    key: &str,
    state: roadmap_model::MilestoneState,
    out: &mut impl Write,
) -> Result<()> {
    let mut f = find_milestone(store, key)?;
    if f.item().state == state {
        writeln!(
            out,
            "milestone {} is already {}",
            f.item().id,
            state.as_str()
        )?;
        return Ok(());
    }
    f.item_mut().state = state;
    f.item_mut().updated = Some(now());
    store.save(&mut f)?;
    writeln!(out, "milestone {} is now {}", f.item().id, state.as_str())?;
    Ok(())
}

fn find_milestone(store: &Store, key: &str) -> Result<ItemFile<Milestone>> {
    if let Ok(id) = ItemId::new(key) {
        let p = store.path_of(Kind::Milestone, &id);
        if p.exists() {
            return Ok(store.load(&p)?);
        }
    }
    let all = store.load_all::<Milestone>()?;
    all.items
        .into_iter()
        .find(|f| {
            f.item().title == key
                || f.item()
                    .remote
                    .as_ref()
                    .is_some_and(|r| format!("#{}", r.number) == key)
        })
        .with_context(|| format!("no milestone `{key}` (give its id or title)"))
}

pub async fn roadmap(store: &Store, cmd: RoadmapCmd, out: &mut impl Write) -> Result<()> {
    match cmd {
        RoadmapCmd::Create {
            title,
            milestone,
            owner,
        } => {
            for m in &milestone {
                find_milestone(store, m)?;
            }
            let r = Roadmap {
                id: new_id(store, Kind::Roadmap),
                title,
                milestones: milestone,
                owner,
                created: Some(now()),
                body: String::new(),
            };
            let f = store.create(r)?;
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
            if let Some(index) = open_index(store).await {
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
    store: &Store,
    query: &str,
    limit: u64,
    json: bool,
    out: &mut impl Write,
) -> Result<()> {
    let hits = match open_index(store).await {
        Some(index) => index.search(query, limit).await?,
        None => {
            let q = IssueQuery {
                text: Some(query.to_owned()),
                limit: Some(limit),
                ..IssueQuery::default()
            };
            roadmap_index::scan_issues(store, &q)?
                .0
                .into_iter()
                .map(|row| roadmap_index::SearchHit {
                    row,
                    snippet: String::new(),
                })
                .collect()
        }
    };
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
    let (mut index, mut report) = if rebuild {
        Index::recreate(store).await?
    } else {
        Index::open(store).await?
    };
    let mut integrity = match index.integrity_check().await {
        Ok(v) => v,
        Err(e) if e.is_corrupt() => e.to_string(),
        Err(e) => return Err(e.into()),
    };
    if integrity != "ok" {
        // Detected: rebuild from the files, then check again.
        writeln!(out, "damaged: {integrity}")?;
        index.close().await;
        (index, report) = Index::recreate(store).await?;
        report.rebuild_reason = Some("the integrity check failed".into());
        integrity = index.integrity_check().await?;
    }
    let (issues, milestones, roadmaps, bad) = index.counts().await?;
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
    Ok(integrity == "ok" && bad == 0)
}

pub async fn watch(store: &Store, out: &mut impl Write) -> Result<()> {
    let (index, report) = Index::open(store).await?;
    writeln!(
        out,
        "watching {} ({} files indexed); Ctrl-C to stop",
        store.layout().dir().display(),
        report.updated + report.unchanged
    )?;
    out.flush()?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let _watcher =
        roadmap_index::IndexWatcher::start(index, std::time::Duration::from_millis(100), tx)?;
    loop {
        tokio::select! {
            ev = rx.recv() => match ev {
                Some(roadmap_index::WatchEvent::Reconciled(r)) => {
                    writeln!(out, "reindexed: {} changed, {} removed", r.updated, r.removed)?;
                    for s in r.skipped { writeln!(out, "skipped: {s}")?; }
                    out.flush()?;
                }
                Some(roadmap_index::WatchEvent::Failed(e)) => tracing::warn!("reconcile failed: {e}"),
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
    /// Order: id, priority, updated, created, title, number.
    #[arg(long, default_value = "id")]
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
