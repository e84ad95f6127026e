//! The HTML report: one file, inline CSS and SVG, a short script for the filters. Every text
//! goes through maud, which escapes it: a title holding `</script>` or `"` is only text.

use std::collections::BTreeSet;

use chrono::{Datelike, Duration, NaiveDate};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use roadmap_index::{IssueRow, TreeNode};

use crate::{Report, Span, clip, date, name};

const CSS: &str = include_str!("report.css");
const SCRIPT: &str = include_str!("report.js");

/// Width of the timeline's label column and of its chart, in pixels.
const LABEL_W: f64 = 240.0;
const CHART_W: f64 = 640.0;
const ROW_H: f64 = 30.0;
/// Room right of the chart for a bar's `12/30 overdue`.
const COUNT_W: f64 = 110.0;

/// Graph cells: a node's box and the space around it.
const NODE_W: f64 = 210.0;
const NODE_H: f64 = 34.0;
const COL_W: f64 = 260.0;
const LINE_H: f64 = 46.0;

pub(crate) fn render(r: &Report) -> String {
    let open: Vec<&IssueRow> = r.issues.iter().filter(|i| i.status != "done").collect();
    let done = r.issues.len() - open.len();
    let labels: BTreeSet<&str> = r
        .issues
        .iter()
        .flat_map(|i| i.labels.iter().map(String::as_str))
        .collect();
    let assignees: BTreeSet<&str> = r
        .issues
        .iter()
        .flat_map(|i| i.assignees.iter().map(String::as_str))
        .collect();
    let spans = r.spans();
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Roadmap: " (r.title) }
                style { (PreEscaped(CSS)) }
            }
            body {
                header {
                    h1 { "Roadmap: " (r.title) }
                    p.meta {
                        "As of " (r.today) ": " (r.issues.len()) " issues, "
                        (open.len()) " open, " (done) " done; "
                        (spans.len()) " milestones, "
                        (spans.iter().filter(|s| s.overdue).count()) " overdue."
                    }
                    form #filters {
                        label { "Milestone " select name="milestone" {
                            option value="" { "any" }
                            @for s in &spans { option value=(s.title) { (s.title) } }
                        } }
                        label { "Label " select name="label" {
                            option value="" { "any" }
                            @for l in &labels { option value=(l) { (l) } }
                        } }
                        label { "Assignee " select name="assignee" {
                            option value="" { "anyone" }
                            @for a in &assignees { option value=(a) { (a) } }
                        } }
                        button type="reset" { "Clear" }
                    }
                }
                details #timeline open {
                    summary { h2 { "Milestones" } }
                    (timeline(r, &spans))
                }
                details #graph open {
                    summary { h2 { "Dependencies of open work" } }
                    (graph(r))
                }
                details #trees open {
                    summary { h2 { "Sub-issues" } }
                    (trees(r))
                }
                details #burnup open {
                    summary { h2 { "Burn-up" } }
                    (burnups(r, &spans))
                }
                details #open open {
                    summary { h2 { "Open issues (" span #shown { (open.len()) } ")" } }
                    (open_table(&open))
                }
                script { (PreEscaped(SCRIPT)) }
            }
        }
    }
    .into_string()
}

/// The classes that are on, and the status's (`st-todo`).
fn classes(on: &[(&str, bool)], status: &str) -> String {
    let mut out: Vec<String> = on.iter().filter(|c| c.1).map(|c| c.0.to_owned()).collect();
    out.push(format!("st-{status}"));
    out.join(" ")
}

/// The filter attributes of an issue: its milestone, labels and assignees (one per line).
fn issue_data(row: Option<&IssueRow>) -> (String, String, String) {
    row.map_or_else(Default::default, |r| {
        (
            r.milestone.clone().unwrap_or_default(),
            r.labels.join("\n"),
            r.assignees.join("\n"),
        )
    })
}

fn timeline(r: &Report, spans: &[Span]) -> Markup {
    if spans.is_empty() {
        return html! { p.empty { "No milestones." } };
    }
    // The days shown: every start and due day, and today, with a week on either side.
    let days: Vec<NaiveDate> = spans
        .iter()
        .flat_map(|s| [s.start, s.due])
        .flatten()
        .chain([r.today])
        .collect();
    let first = days.iter().min().copied().unwrap_or(r.today) - Duration::days(7);
    let last = days.iter().max().copied().unwrap_or(r.today) + Duration::days(7);
    let span_days = (last - first).num_days().max(1) as f64;
    let x = |d: NaiveDate| LABEL_W + (d - first).num_days() as f64 / span_days * CHART_W;
    let height = 30.0 + ROW_H * spans.len() as f64;
    let ticks = month_starts(first, last);
    html! {
        svg.timeline xmlns="http://www.w3.org/2000/svg" role="img"
            viewBox=(format!("0 0 {} {height}", LABEL_W + CHART_W + COUNT_W))
            width=(LABEL_W + CHART_W + COUNT_W) height=(height) {
            @for t in &ticks {
                line.tick x1=(x(*t)) x2=(x(*t)) y1="18" y2=(height) {}
                text.tick x=(x(*t) + 3.0) y="12" { (t.format(if t.day() == 1 { "%Y-%m" } else { "%m-%d" })) }
            }
            @for (i, s) in spans.iter().enumerate() {
                @let y = 24.0 + ROW_H * i as f64;
                @let start = s.start.or(s.due.map(|d| d - Duration::days(14))).unwrap_or(r.today);
                @let end = s.due.unwrap_or(r.today).max(start);
                @let w = (x(end) - x(start)).max(4.0);
                @let frac = if s.total > 0 { s.done as f64 / s.total as f64 } else { 0.0 };
                g.milestone.overdue[s.overdue].closed[!s.open].nodue[s.due.is_none()] data-m=(s.title) {
                    title {
                        (s.title) ": " (s.done) "/" (s.total) " done"
                        @if let Some(d) = s.due { ", due " (d) }
                        @if s.overdue { " (overdue)" }
                        @if !s.open { " (closed)" }
                    }
                    text.label x="4" y=(y + 15.0) { (clip(&s.title, 28)) }
                    rect.bar x=(x(start)) y=(y + 2.0) width=(w) height="18" rx="3" {}
                    rect.done x=(x(start)) y=(y + 2.0) width=(w * frac) height="18" rx="3" {}
                    text.count x=(x(start) + w + 4.0) y=(y + 15.0) {
                        (s.done) "/" (s.total)
                        @if s.overdue { " overdue" }
                    }
                }
            }
            line.today x1=(x(r.today)) x2=(x(r.today)) y1="14" y2=(height) {}
            text.today x=(x(r.today) + 3.0) y=(height - 2.0) { "today" }
        }
        table.milestones {
            thead { tr { th { "Milestone" } th { "Due" } th { "State" } th { "Done" } th {} } }
            tbody {
                @for s in spans {
                    tr.overdue[s.overdue] data-m=(s.title) {
                        td { (s.title) }
                        td { @if let Some(d) = s.due { (d) } @else { "—" } }
                        td { @if s.open { "open" } @else { "closed" } }
                        td { (s.done) "/" (s.total) }
                        td { @if s.overdue { strong { "overdue" } } }
                    }
                }
            }
        }
    }
}

/// The first day of each month from `first` to `last`.
fn month_starts(first: NaiveDate, last: NaiveDate) -> Vec<NaiveDate> {
    let mut out = Vec::new();
    let mut d = NaiveDate::from_ymd_opt(first.year(), first.month(), 1).unwrap_or(first);
    while d <= last {
        if d >= first {
            out.push(d);
        }
        d = d
            .checked_add_months(chrono::Months::new(1))
            .unwrap_or(last + Duration::days(1));
    }
    if out.len() < 3 {
        // A short span: Mondays instead.
        out = (0..=(last - first).num_days())
            .map(|k| first + Duration::days(k))
            .filter(|d| d.weekday() == chrono::Weekday::Mon)
            .collect();
    }
    // A long span would crowd the labels: keep about a dozen.
    let step = out.len().div_ceil(12).max(1);
    out.into_iter().step_by(step).collect()
}

fn graph(r: &Report) -> Markup {
    let nodes = &r.graph.nodes;
    if nodes.is_empty() {
        return html! { p.empty { "No open issue waits for another." } };
    }
    let l = r.graph_layout();
    let width = COL_W * l.columns as f64 + 20.0;
    let height = LINE_H * l.rows as f64 + 20.0;
    let at = |i: usize| {
        (
            10.0 + COL_W * l.column[i] as f64,
            10.0 + LINE_H * l.row[i] as f64,
        )
    };
    let cycles = l.in_cycle.iter().filter(|c| **c).count();
    html! {
        p.legend {
            (nodes.len()) " open issues, " (r.graph.edges.len()) " dependencies. "
            @if !l.critical.is_empty() {
                "Critical path (" (l.critical.len()) " issues): "
                @for (k, i) in l.critical.iter().enumerate() {
                    @if k > 0 { " → " }
                    (name(nodes[*i].row.number, &nodes[*i].row.id))
                }
                "."
            }
            @if cycles > 0 { " " strong.cycle { (cycles) " issues wait on a cycle" } " (see " code { "roadmap check" } ")." }
        }
        div.scroll {
            svg.graph xmlns="http://www.w3.org/2000/svg" role="img"
                viewBox=(format!("0 0 {width} {height}")) width=(width) height=(height) {
                defs {
                    marker #arrow viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" markerHeight="7" orient="auto" {
                        path d="M0,0 L8,4 L0,8 z" {}
                    }
                    marker #arrow-crit viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" markerHeight="7" orient="auto" {
                        path.crit d="M0,0 L8,4 L0,8 z" {}
                    }
                }
                @for (waiting, waits_for) in &r.graph.edges {
                    @let (x1, y1) = at(*waits_for);
                    @let (x2, y2) = at(*waiting);
                    @let (x1, y1, y2) = (x1 + NODE_W, y1 + NODE_H / 2.0, y2 + NODE_H / 2.0);
                    @let crit = l.critical_edge(*waiting, *waits_for);
                    path.edge.crit[crit]
                        d=(format!("M{x1},{y1} C{},{y1} {},{y2} {x2},{y2}", x1 + 30.0, x2 - 30.0))
                        marker-end=(if crit { "url(#arrow-crit)" } else { "url(#arrow)" }) {}
                }
                @for (i, n) in nodes.iter().enumerate() {
                    @let (x, y) = at(i);
                    @let (m, labels, assignees) = issue_data(Some(&n.row));
                    g class=(classes(&[
                            ("node", true),
                            ("crit", l.critical.contains(&i)),
                            ("cycle", l.in_cycle[i]),
                        ], &n.row.status))
                        data-m=(m) data-l=(labels) data-a=(assignees) data-id=(n.row.id) {
                        title {
                            (name(n.row.number, &n.row.id)) " " (n.row.title) " (" (n.row.status)
                            @if let Some(e) = n.estimate { ", " (e) " h" }
                            ")"
                        }
                        rect x=(x) y=(y) width=(NODE_W) height=(NODE_H) rx="5" {}
                        text x=(x + 8.0) y=(y + 21.0) {
                            tspan.num { (name(n.row.number, &n.row.id)) }
                            " " (clip(&n.row.title, 24))
                        }
                    }
                }
            }
        }
    }
}

fn trees(r: &Report) -> Markup {
    if r.trees.is_empty() {
        return html! { p.empty { "No issue has sub-issues." } };
    }
    let by_id = r.by_id();
    html! {
        ul.tree {
            @for t in &r.trees { (tree(t, &by_id)) }
        }
    }
}

fn tree(t: &TreeNode, by_id: &std::collections::HashMap<String, &IssueRow>) -> Markup {
    let (m, labels, assignees) = issue_data(by_id.get(&t.issue.id.to_ascii_lowercase()).copied());
    let head = html! {
        span class=(format!("status st-{}", t.issue.status)) { (t.issue.status) }
        " " b { (name(t.issue.number, &t.issue.id)) } " " (t.issue.title)
        @if !t.children.is_empty() {
            " " span.progress { (t.done) "/" (t.children.len()) " done" }
        }
    };
    html! {
        li data-m=(m) data-l=(labels) data-a=(assignees) {
            @if t.children.is_empty() {
                (head)
            } @else {
                details open {
                    summary { (head) }
                    ul { @for c in &t.children { (tree(c, by_id)) } }
                }
            }
        }
    }
}

fn burnups(r: &Report, spans: &[Span]) -> Markup {
    let charts: Vec<Markup> = spans.iter().filter_map(|s| burnup(r, s)).collect();
    if charts.is_empty() {
        return html! { p.empty { "No milestone has issues with dates." } };
    }
    html! { div.charts { @for c in charts { (c) } } }
}

/// One milestone's scope (issues created, summed) and done work (issues closed, summed)
/// over time, as steps.
fn burnup(r: &Report, s: &Span) -> Option<Markup> {
    let days: Vec<(NaiveDate, i64, i64)> = r
        .burnup
        .iter()
        .filter(|d| d.milestone == s.title)
        .filter_map(|d| Some((date(&d.day)?, d.opened, d.closed)))
        .collect();
    let first = days.first()?.0;
    let mut last = days.last()?.0.max(s.due.unwrap_or(first));
    if s.open {
        last = last.max(r.today);
    }
    let (w, h, pad) = (320.0, 150.0, 28.0);
    let span_days = (last - first).num_days().max(1) as f64;
    let scope: i64 = days.iter().map(|d| d.1).sum();
    let top = scope.max(days.iter().map(|d| d.2).sum()).max(1) as f64;
    let x = |d: NaiveDate| pad + (d - first).num_days() as f64 / span_days * (w - 2.0 * pad);
    let y = |n: i64| h - pad - n as f64 / top * (h - 2.0 * pad);
    let steps = |pick: fn(&(NaiveDate, i64, i64)) -> i64| {
        let mut pts = vec![format!("{},{}", x(first), y(0))];
        let mut sum = 0;
        for d in &days {
            pts.push(format!("{},{}", x(d.0), y(sum)));
            sum += pick(d);
            pts.push(format!("{},{}", x(d.0), y(sum)));
        }
        pts.push(format!("{},{}", x(last), y(sum)));
        pts.join(" ")
    };
    Some(html! {
        figure.burnup data-m=(s.title) {
            figcaption { (s.title) @if s.overdue { " " strong { "overdue" } } }
            svg xmlns="http://www.w3.org/2000/svg" role="img"
                viewBox=(format!("0 0 {w} {h}")) width=(w) height=(h) {
                title { (s.title) ": " (s.done) " of " (scope) " done" }
                line.axis x1=(pad) y1=(h - pad) x2=(w - pad) y2=(h - pad) {}
                line.axis x1=(pad) y1=(pad) x2=(pad) y2=(h - pad) {}
                text.tick x="2" y=(y(scope) + 4.0) { (scope) }
                text.tick x=(pad) y=(h - 8.0) { (first) }
                text.tick x=(w - pad) y=(h - 8.0) text-anchor="end" { (last) }
                @if let Some(d) = s.due {
                    line.due x1=(x(d)) x2=(x(d)) y1=(pad - 6.0) y2=(h - pad) {}
                    text.tick x=(x(d) - 2.0) y=(pad - 8.0) text-anchor="end" { "due" }
                }
                polyline.scope points=(steps(|d| d.1)) {}
                polyline.donel points=(steps(|d| d.2)) {}
            }
        }
    })
}

fn open_table(open: &[&IssueRow]) -> Markup {
    html! {
        table.issues {
            thead { tr { th { "#" } th { "Title" } th { "Status" } th { "Priority" } th { "Milestone" } th { "Labels" } th { "Assignees" } } }
            tbody {
                @for i in open {
                    @let (m, labels, assignees) = issue_data(Some(i));
                    tr data-m=(m) data-l=(labels) data-a=(assignees) {
                        td { (name(i.number, &i.id)) }
                        td { (i.title) }
                        td { span class=(format!("status st-{}", i.status)) { (i.status) } }
                        td { (i.priority) }
                        td { (i.milestone.as_deref().unwrap_or("")) }
                        td { (i.labels.join(", ")) }
                        td { (i.assignees.join(", ")) }
                    }
                }
            }
        }
    }
}
