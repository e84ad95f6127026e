//! A roadmap drawn from the index: milestones on a timeline (due dates, progress, overdue),
//! the dependency graph of the open work with its critical path, the sub-issue trees and a
//! burn-up per milestone.
//!
//! [`Report::load`] asks the index (SQL groups the burn-up by milestone and day, resolves the
//! dependencies and the trees); [`Report::html`] renders one self-contained HTML file (inline
//! CSS, SVG and a little script for the filters: nothing is fetched), and
//! [`Report::markdown`] renders Markdown whose Mermaid diagrams (a gantt chart and a graph)
//! GitHub draws when the file is committed or pasted into an issue. Rendering is pure: the
//! same report renders the same bytes.
//!
//! ```no_run
//! # async fn f(store: &roadmap_store::Store) -> Result<(), roadmap_index::IndexError> {
//! let index = roadmap_index::Index::open(store).await?;
//! let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
//! let report = roadmap_report::Report::load(&index, "acme/widgets", today).await?;
//! std::fs::write("roadmap.html", report.html()).unwrap();
//! # Ok(()) }
//! ```

mod html;
mod layout;
mod markdown;

use std::collections::HashMap;

use chrono::NaiveDate;
use roadmap_index::{
    BurnupDay, Index, IndexError, IssueQuery, IssueRow, MilestoneProgress, OpenGraph, TreeNode,
};

pub use layout::{Layout, layout};

/// What a report shows, read from the index.
#[derive(Debug, Clone)]
pub struct Report {
    /// The heading (the repository, or the project's folder).
    pub title: String,
    /// The day the report is for: what is due before it is overdue.
    pub today: NaiveDate,
    /// Milestones with their progress, in the order they are due.
    pub milestones: Vec<MilestoneProgress>,
    /// Issues created and closed per milestone and day.
    pub burnup: Vec<BurnupDay>,
    /// The dependency graph of the open work.
    pub graph: OpenGraph,
    /// Every sub-issue tree (issues with sub-issues and no parent).
    pub trees: Vec<TreeNode>,
    /// Every issue, in id order.
    pub issues: Vec<IssueRow>,
}

/// A milestone as the report draws it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Span {
    pub title: String,
    /// The first day an issue of it was created.
    pub start: Option<NaiveDate>,
    pub due: Option<NaiveDate>,
    pub done: i64,
    pub total: i64,
    pub open: bool,
    pub overdue: bool,
}

impl Report {
    /// Reads what the report shows from `index`.
    pub async fn load(
        index: &Index<'_>,
        title: impl Into<String>,
        today: NaiveDate,
    ) -> Result<Report, IndexError> {
        let milestones = index.milestone_progress(None).await?;
        let burnup = index.burnup().await?;
        let graph = index.open_graph().await?;
        let trees = index.trees(None).await?.unwrap_or_default();
        let issues = roadmap_index::collect_rows(index.list_issues(&IssueQuery::default())).await?;
        Ok(Report {
            title: title.into(),
            today,
            milestones,
            burnup,
            graph,
            trees,
            issues,
        })
    }

    /// The report as one self-contained HTML page.
    pub fn html(&self) -> String {
        html::render(self)
    }

    /// The report as Markdown with Mermaid diagrams.
    pub fn markdown(&self) -> String {
        markdown::render(self)
    }

    /// The milestones with their first day, due day and whether they are overdue today.
    pub(crate) fn spans(&self) -> Vec<Span> {
        let mut start: HashMap<&str, NaiveDate> = HashMap::new();
        for d in &self.burnup {
            if let Some(day) = date(&d.day) {
                start
                    .entry(d.milestone.as_str())
                    .and_modify(|s| *s = (*s).min(day))
                    .or_insert(day);
            }
        }
        self.milestones
            .iter()
            .map(|m| {
                let due = m.due.as_deref().and_then(date);
                let open = m.state == "open";
                Span {
                    title: m.title.clone(),
                    start: start.get(m.title.as_str()).copied(),
                    due,
                    done: m.done,
                    total: m.total,
                    open,
                    overdue: open && due.is_some_and(|d| d < self.today),
                }
            })
            .collect()
    }

    /// The layout of the dependency graph (weights: estimates, 1 without one).
    pub(crate) fn graph_layout(&self) -> Layout {
        let nodes = &self.graph.nodes;
        layout(nodes.len(), &self.graph.edges, |i| {
            nodes[i].estimate.filter(|e| *e > 0.0).unwrap_or(1.0)
        })
    }

    /// Issues by id (any case), for what the trees do not carry.
    pub(crate) fn by_id(&self) -> HashMap<String, &IssueRow> {
        self.issues
            .iter()
            .map(|r| (r.id.to_ascii_lowercase(), r))
            .collect()
    }
}

/// `#12` for a synced issue, its id otherwise.
pub(crate) fn name(number: Option<i64>, id: &str) -> String {
    number.map_or_else(|| id.to_owned(), |n| format!("#{n}"))
}

/// At most `n` characters of `s`, with `…` when cut.
pub(crate) fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(n.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// A `YYYY-MM-DD` day.
pub(crate) fn date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok()
}
