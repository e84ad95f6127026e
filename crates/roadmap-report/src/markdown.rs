//! The Markdown report: tables, and Mermaid diagrams (a gantt chart of the milestones, a
//! graph of the open work's dependencies) that GitHub draws in committed files, issues and
//! comments.
//!
//! Mermaid reads its own syntax inside labels, so every text that goes into a diagram is
//! made plain first (`mermaid_text`), and a table cell's `|` is escaped.

use std::collections::HashSet;
use std::fmt::Write as _;

use roadmap_index::TreeNode;

use crate::{Report, clip, name};

/// The most nodes the dependency graph draws: GitHub stops rendering big diagrams (Mermaid's
/// default limits are 50,000 characters and 500 edges).
pub(crate) const MAX_GRAPH_NODES: usize = 150;

pub(crate) fn render(r: &Report) -> String {
    let mut out = String::new();
    let open = r.issues.iter().filter(|i| i.status != "done").count();
    let spans = r.spans();
    let _ = writeln!(out, "# Roadmap: {}\n", cell(&r.title));
    let _ = writeln!(
        out,
        "As of {}: {} issues, {open} open, {} done; {} milestones, {} overdue.\n",
        r.today,
        r.issues.len(),
        r.issues.len() - open,
        spans.len(),
        spans.iter().filter(|s| s.overdue).count()
    );

    out.push_str("## Milestones\n\n");
    if spans.is_empty() {
        out.push_str("No milestones.\n\n");
    } else {
        out.push_str("| Milestone | Due | State | Done | |\n|---|---|---|---|---|\n");
        for s in &spans {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {}/{} | {} |",
                cell(&s.title),
                s.due.map_or_else(|| "—".to_owned(), |d| d.to_string()),
                if s.open { "open" } else { "closed" },
                s.done,
                s.total,
                if s.overdue { "**overdue**" } else { "" }
            );
        }
        out.push('\n');
        let dated: Vec<_> = spans.iter().filter(|s| s.due.is_some()).collect();
        if !dated.is_empty() {
            out.push_str("```mermaid\ngantt\n    title Milestones\n    dateFormat YYYY-MM-DD\n");
            let _ = writeln!(out, "    todayMarker on\n    section Milestones");
            for (k, s) in dated.iter().enumerate() {
                let Some(due) = s.due else { continue };
                let start = s
                    .start
                    .filter(|d| *d < due)
                    .unwrap_or(due - chrono::Duration::days(14));
                let tag = if !s.open || (s.total > 0 && s.done == s.total) {
                    "done, "
                } else if s.overdue {
                    "crit, "
                } else {
                    "active, "
                };
                let _ = writeln!(
                    out,
                    "    {} ({}/{}) :{tag}m{k}, {start}, {due}",
                    mermaid_text(&clip(&s.title, 40)),
                    s.done,
                    s.total
                );
            }
            out.push_str("```\n\n");
        }
    }

    out.push_str("## Dependencies of open work\n\n");
    graph(r, &mut out);

    out.push_str("## Sub-issues\n\n");
    if r.trees.is_empty() {
        out.push_str("No issue has sub-issues.\n\n");
    } else {
        for t in &r.trees {
            tree(t, 0, &mut out);
        }
        out.push('\n');
    }
    out
}

fn graph(r: &Report, out: &mut String) {
    let nodes = &r.graph.nodes;
    if nodes.is_empty() {
        out.push_str("No open issue waits for another.\n\n");
        return;
    }
    let l = r.graph_layout();
    // Which nodes to draw: the critical path first, then by number, up to the limit.
    let mut drawn: Vec<usize> = l.critical.clone();
    let mut have: HashSet<usize> = drawn.iter().copied().collect();
    for i in 0..nodes.len() {
        if drawn.len() >= MAX_GRAPH_NODES {
            break;
        }
        if have.insert(i) {
            drawn.push(i);
        }
    }
    drawn.sort_unstable();
    if !l.critical.is_empty() {
        let path: Vec<String> = l
            .critical
            .iter()
            .map(|i| name(nodes[*i].row.number, &nodes[*i].row.id))
            .collect();
        let _ = writeln!(
            out,
            "Critical path ({} issues): {}.\n",
            path.len(),
            path.join(" → ")
        );
    }
    out.push_str("```mermaid\ngraph LR\n");
    for &i in &drawn {
        let n = &nodes[i].row;
        let _ = writeln!(
            out,
            "    n{i}[\"{} {}\"]",
            mermaid_text(&name(n.number, &n.id)),
            mermaid_text(&clip(&n.title, 40))
        );
    }
    for (waiting, waits_for) in &r.graph.edges {
        if have.contains(waiting) && have.contains(waits_for) {
            let arrow = if l.critical_edge(*waiting, *waits_for) {
                "==>"
            } else {
                "-->"
            };
            let _ = writeln!(out, "    n{waits_for} {arrow} n{waiting}");
        }
    }
    if !l.critical.is_empty() {
        let ids: Vec<String> = l.critical.iter().map(|i| format!("n{i}")).collect();
        let _ = writeln!(
            out,
            "    classDef crit stroke:#cf222e,stroke-width:3px\n    class {} crit",
            ids.join(",")
        );
    }
    out.push_str("```\n\n");
    if drawn.len() < nodes.len() {
        let _ = writeln!(
            out,
            "{} more issues are not drawn (GitHub renders diagrams up to a size); the HTML \
             report (`roadmap report`) draws them all.\n",
            nodes.len() - drawn.len()
        );
    }
}

fn tree(t: &TreeNode, depth: usize, out: &mut String) {
    let check = if t.issue.status == "done" { "x" } else { " " };
    let progress = if t.children.is_empty() {
        String::new()
    } else {
        format!(" ({}/{} done)", t.done, t.children.len())
    };
    let _ = writeln!(
        out,
        "{}- [{check}] {} {}{progress}",
        "  ".repeat(depth),
        name(t.issue.number, &t.issue.id),
        inline(&t.issue.title)
    );
    for c in &t.children {
        tree(c, depth + 1, out);
    }
}

/// Text for a Mermaid label: characters Mermaid would read as syntax become its entity
/// codes (`#quot;`), and line breaks spaces.
pub(crate) fn mermaid_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '#' => out.push_str("#35;"),
            ':' => out.push_str("#58;"),
            ';' => out.push_str("#59;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '&' => out.push_str("#amp;"),
            '`' => out.push_str("#96;"),
            '[' | ']' | '{' | '}' | '(' | ')' | '|' => {
                let _ = write!(out, "#{};", c as u32);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Text inside a Markdown line: no line breaks, and no HTML.
fn inline(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Text inside a table cell.
fn cell(s: &str) -> String {
    inline(s).replace('|', "\\|")
}
