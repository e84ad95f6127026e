//! The dependency views: `ready`, `blocked` and `check`, answered by the index.

use std::io::Write;

use anyhow::Result;
use roadmap::index::{Blocker, IssueRef};
use roadmap::{IssueQuery, Project};

use crate::local::issue_table;
use crate::render::{clip, table};

/// `#12` for a synced issue, its id otherwise.
fn name(i: &IssueRef) -> String {
    i.number.map_or_else(|| i.id.clone(), |n| format!("#{n}"))
}

/// Open issues ready to work on, most urgent first, filtered by `q`.
pub async fn ready(
    project: &Project,
    q: &IssueQuery,
    json: bool,
    out: &mut impl Write,
) -> Result<()> {
    let index = project.index().await?;
    let rows = index.ready(q).await;
    index.close().await;
    let rows = rows?;
    if json {
        serde_json::to_writer(&mut *out, &rows)?;
        writeln!(out)?;
    } else if rows.is_empty() {
        writeln!(
            out,
            "No open issue is ready: each waits for another (see `roadmap blocked`), or none matches."
        )?;
    } else {
        issue_table(out, rows)?;
    }
    Ok(())
}

/// Open issues that wait for something, with what.
pub async fn blocked(project: &Project, json: bool, out: &mut impl Write) -> Result<()> {
    let index = project.index().await?;
    let blocked = index.blocked().await;
    index.close().await;
    let blocked = blocked?;
    if json {
        serde_json::to_writer(&mut *out, &blocked)?;
        writeln!(out)?;
        return Ok(());
    }
    if blocked.is_empty() {
        writeln!(out, "No open issue waits for another.")?;
        return Ok(());
    }
    let rows: Vec<Vec<String>> = blocked
        .into_iter()
        .map(|b| {
            let on: Vec<String> = b
                .blockers
                .iter()
                .map(|x| match x {
                    Blocker::Issue(i) => format!("{} ({})", name(i), i.status),
                    Blocker::Unknown { reference } => format!("{reference} (no such issue)"),
                })
                .collect();
            let on = if on.is_empty() {
                "(marked blocked)".to_owned()
            } else {
                on.join(", ")
            };
            vec![
                b.issue.id.clone(),
                b.issue.number.map(|n| format!("#{n}")).unwrap_or_default(),
                b.issue.status.clone(),
                clip(&b.issue.title, 50),
                clip(&on, 80),
            ]
        })
        .collect();
    table(out, &["id", "#", "status", "title", "waits for"], &rows)?;
    Ok(())
}

/// `path` relative to the folder holding `.roadmap/`, as a person would look for it.
fn shown(project: &Project, path: &str) -> String {
    let root = project.dir().parent().unwrap_or(project.dir());
    std::path::Path::new(path)
        .strip_prefix(root)
        .map_or_else(|_| path.to_owned(), |p| p.display().to_string())
}

/// `what`, then a line per issue of `group`: its file and title.
fn print_group(
    project: &Project,
    out: &mut impl Write,
    what: &str,
    group: &[IssueRef],
) -> Result<()> {
    writeln!(out, "{what}")?;
    for i in group {
        writeln!(
            out,
            "           {}: {}",
            shown(project, &i.path),
            clip(&i.title, 60)
        )?;
    }
    Ok(())
}

/// Cycles and references to no issue; `false` when there are any.
pub async fn check(project: &Project, json: bool, out: &mut impl Write) -> Result<bool> {
    let index = project.index().await?;
    let check = index.check_dependencies().await;
    index.close().await;
    let check = check?;
    if json {
        serde_json::to_writer(&mut *out, &check)?;
        writeln!(out)?;
        return Ok(check.is_clean());
    }
    for group in &check.cycles {
        let names: Vec<String> = group.iter().map(name).collect();
        let what = if group.len() == 1 {
            format!("cycle      {} waits for itself", names[0])
        } else {
            format!("cycle      {} wait for each other", names.join(", "))
        };
        print_group(project, out, &what, group)?;
    }
    for group in &check.parent_cycles {
        let names: Vec<String> = group.iter().map(name).collect();
        let what = format!(
            "parents    {} are parts of each other (through `parent`)",
            names.join(", ")
        );
        print_group(project, out, &what, group)?;
    }
    for u in &check.unknown {
        writeln!(
            out,
            "unknown    {}: `{}: {}` names no issue",
            shown(project, &u.issue.path),
            u.field,
            u.reference
        )?;
    }
    if check.is_clean() {
        writeln!(
            out,
            "dependencies: no cycle, every reference names an issue"
        )?;
    } else {
        let count =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        writeln!(
            out,
            "dependencies: {}, {} among parents, {} to no issue",
            count(check.cycles.len(), "cycle", "cycles"),
            count(check.parent_cycles.len(), "cycle", "cycles"),
            count(check.unknown.len(), "reference", "references")
        )?;
    }
    Ok(check.is_clean())
}

/// One line of a tree: `#12  title  [status]  2/3 done`.
fn tree_label(n: &roadmap::index::TreeNode) -> String {
    let mut s = format!(
        "{}  {}  [{}]",
        name(&n.issue),
        clip(&n.issue.title, 60),
        n.issue.status
    );
    if !n.children.is_empty() {
        s.push_str(&format!("  {}/{} done", n.done, n.children.len()));
    }
    s
}

fn tree_of(n: &roadmap::index::TreeNode) -> termtree::Tree<String> {
    termtree::Tree::new(tree_label(n)).with_leaves(n.children.iter().map(tree_of))
}

/// The sub-issue tree under `root`, or every tree.
pub async fn tree(
    project: &Project,
    root: Option<&str>,
    json: bool,
    out: &mut impl Write,
) -> Result<()> {
    // Resolved as every command resolves an issue (id, its start, gh-N or #N).
    let root = match root {
        Some(key) => Some(project.find_issue(key).await?.item().id.to_string()),
        None => None,
    };
    let root = root.as_deref();
    let index = project.index().await?;
    let trees = index.trees(root).await;
    index.close().await;
    let Some(trees) = trees? else {
        anyhow::bail!("no issue `{}`", root.unwrap_or_default());
    };
    if json {
        serde_json::to_writer(&mut *out, &trees)?;
        writeln!(out)?;
    } else if trees.is_empty() {
        writeln!(
            out,
            "no issue has sub-issues (set one's parent with `roadmap issue edit ID --parent PARENT`)"
        )?;
    } else {
        for t in &trees {
            write!(out, "{}", tree_of(t))?;
        }
    }
    Ok(())
}
