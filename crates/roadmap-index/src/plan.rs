//! What a roadmap report draws, grouped by SQL: each milestone's scope and done work by day
//! (its burn-up), and the dependency graph of the open work.

#[allow(clippy::wildcard_imports)]
use super::*;

use serde::Serialize;

/// How a milestone's scope and done work changed on one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BurnupDay {
    /// The milestone's title.
    pub milestone: String,
    /// The day, `YYYY-MM-DD` (UTC).
    pub day: String,
    /// Issues of the milestone created that day: the scope grows by this much.
    pub opened: i64,
    /// Issues of the milestone closed that day (done ones without a closing time count on
    /// the day they were last updated).
    pub closed: i64,
}

/// An open issue in the dependency graph.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GraphNode {
    /// The issue.
    #[serde(flatten)]
    pub row: IssueRow,
    /// Its estimate in hours, if any.
    pub estimate: Option<f64>,
}

/// The open work that waits for other open work, and what waits for what.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct OpenGraph {
    /// Open issues with at least one dependency on, or from, another open issue; by number,
    /// then id.
    pub nodes: Vec<GraphNode>,
    /// `(waiting, waits_for)`, as positions in `nodes`; each pair once, none to itself.
    pub edges: Vec<(usize, usize)>,
}

/// Dependencies between two open issues, each pair once.
const OPEN_EDGES: &str = "SELECT DISTINCT e.waiting, e.waits_for FROM issue_edges e \
     JOIN issues a ON a.rowid = e.waiting JOIN issues b ON b.rowid = e.waits_for \
     WHERE a.status <> 'done' AND b.status <> 'done' AND e.waiting <> e.waits_for";

impl Index<'_> {
    /// Each milestone's issues created and closed per day, by milestone title then day.
    pub async fn burnup(&self) -> Result<Vec<BurnupDay>, IndexError> {
        let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(
            "SELECT milestone, day, sum(opened), sum(closed) FROM ( \
                SELECT milestone, substr(created, 1, 10) AS day, 1 AS opened, 0 AS closed \
                  FROM issues WHERE milestone IS NOT NULL AND created IS NOT NULL \
                UNION ALL \
                SELECT milestone, substr(coalesce(closed, updated), 1, 10), 0, 1 \
                  FROM issues WHERE milestone IS NOT NULL AND status = 'done' \
                   AND coalesce(closed, updated) IS NOT NULL \
             ) GROUP BY milestone, day ORDER BY milestone, day",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(sql_err(&self.path))?;
        Ok(rows
            .into_iter()
            .map(|(milestone, day, opened, closed)| BurnupDay {
                milestone,
                day,
                opened,
                closed,
            })
            .collect())
    }

    /// The dependency graph of the open work: open issues that wait for, or are waited for
    /// by, another open issue. Done issues and references to no issue are left out (they
    /// hold nothing up, or `check` reports them).
    pub async fn open_graph(&self) -> Result<OpenGraph, IndexError> {
        let e = sql_err(&self.path);
        let edges: Vec<(i64, i64)> = sqlx::query_as(AssertSqlSafe(format!(
            "{OPEN_EDGES} ORDER BY e.waiting, e.waits_for"
        )))
        .fetch_all(&self.pool)
        .await
        .map_err(&e)?;
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT i.rowid AS rowid, i.id, i.number, i.title, i.status, i.priority, i.milestone, \
                    i.assignees, i.labels, i.updated, i.path, i.estimate FROM issues i \
             WHERE i.rowid IN (SELECT waiting FROM ({OPEN_EDGES}) UNION SELECT waits_for FROM ({OPEN_EDGES})) \
             ORDER BY i.number IS NULL, i.number, i.id COLLATE BINARY"
        )))
        .fetch_all(&self.pool)
        .await
        .map_err(&e)?;
        let mut at: HashMap<i64, usize> = HashMap::new();
        let nodes = rows
            .iter()
            .enumerate()
            .map(|(n, r)| {
                at.insert(r.try_get("rowid").unwrap_or_default(), n);
                GraphNode {
                    row: read::issue_row(r),
                    estimate: r.try_get("estimate").ok().flatten(),
                }
            })
            .collect();
        let edges = edges
            .into_iter()
            .filter_map(|(w, f)| Some((*at.get(&w)?, *at.get(&f)?)))
            .collect();
        Ok(OpenGraph { nodes, edges })
    }
}
