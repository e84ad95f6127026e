//! Relations between issues: dependencies (`depends_on`, `blocks`), what is ready to work
//! on, what is blocked and by what, the check for cycles and references to no issue; and
//! the sub-issue trees (`parent`).
//!
//! An issue waits for another when its `depends_on` names it, or when the other's `blocks`
//! names it; a name is an id (any case) or a `#number`. A dependency is met once the issue
//! it names is done; one that names no issue is never met (and `check` reports it).

#[allow(clippy::wildcard_imports)]
use super::*;

use petgraph::graphmap::DiGraphMap;
use serde::Serialize;

/// An issue as the dependency views show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IssueRef {
    /// The local id.
    pub id: String,
    /// The GitHub number, once synced.
    pub number: Option<i64>,
    /// The title.
    pub title: String,
    /// The status (`todo`, `in-progress`, `blocked`, `review`, `done`).
    pub status: String,
    /// The file.
    pub path: String,
}

/// What an open issue waits for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Blocker {
    /// An issue not done yet.
    Issue(IssueRef),
    /// A `depends_on` entry that names no issue.
    Unknown {
        /// The entry as written.
        reference: String,
    },
}

/// An open issue that cannot be worked on yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Blocked {
    /// The issue.
    pub issue: IssueRef,
    /// What it waits for; empty when it is only marked `blocked` by its status.
    pub blockers: Vec<Blocker>,
}

/// A `depends_on` or `blocks` entry that names no issue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnknownRef {
    /// The issue whose file holds the entry.
    pub issue: IssueRef,
    /// `depends_on` or `blocks`.
    pub field: String,
    /// The entry as written.
    pub reference: String,
}

/// What `check` finds wrong with the dependencies.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DependencyCheck {
    /// Issues that wait for each other: in each group, every issue waits for itself through
    /// the others (a strongly connected group, by id); an issue that names itself is a group
    /// of one.
    pub cycles: Vec<Vec<IssueRef>>,
    /// Issues that are parts of each other (through `parent`), by group as above.
    pub parent_cycles: Vec<Vec<IssueRef>>,
    /// Entries naming no issue.
    pub unknown: Vec<UnknownRef>,
}

impl DependencyCheck {
    /// Whether nothing is wrong.
    pub fn is_clean(&self) -> bool {
        self.cycles.is_empty() && self.parent_cycles.is_empty() && self.unknown.is_empty()
    }
}

/// An issue with its sub-issues (the issues whose `parent` names it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TreeNode {
    /// The issue.
    pub issue: IssueRef,
    /// Of its direct sub-issues, how many are done.
    pub done: usize,
    /// Its sub-issues, by number (then id), each with its own.
    pub children: Vec<TreeNode>,
}

/// The `issue_edges` whose dependency is not met: what keeps `waiting` from being ready.
const UNMET: &str = "SELECT e.waiting, e.waits_for, e.target FROM issue_edges e \
     LEFT JOIN issues t ON t.rowid = e.waits_for WHERE t.rowid IS NULL OR t.status <> 'done'";

const REF_COLUMNS: &str = "id, number, title, status, path";

fn issue_ref(r: &sqlx::sqlite::SqliteRow, prefix: &str) -> IssueRef {
    let col = |c: &str| format!("{prefix}{c}");
    IssueRef {
        id: r.try_get(col("id").as_str()).unwrap_or_default(),
        number: r.try_get(col("number").as_str()).ok().flatten(),
        title: r.try_get(col("title").as_str()).unwrap_or_default(),
        status: r.try_get(col("status").as_str()).unwrap_or_default(),
        path: r.try_get(col("path").as_str()).unwrap_or_default(),
    }
}

impl Index<'_> {
    /// Open issues ready to work on (not marked `blocked`, every dependency done) that match
    /// `q`'s filters, in `q`'s order (`IssueQuery::ready()`: most urgent first).
    pub async fn ready(&self, q: &IssueQuery) -> Result<Vec<IssueRow>, IndexError> {
        let ready = format!(
            "i.status NOT IN ('done', 'blocked') \
             AND i.rowid NOT IN (SELECT waiting FROM ({UNMET}) WHERE waiting IS NOT NULL)"
        );
        let (sql, binds) = read::select_issues(q, Some(&ready));
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for b in binds {
            query = query.bind(b);
        }
        let rows = query
            .fetch_all(&self.pool)
            .await
            .map_err(sql_err(&self.path))?;
        Ok(rows.iter().map(read::issue_row).collect())
    }

    /// Open issues that cannot be worked on yet, most urgent first, each with what it waits
    /// for: open issues and references to no issue. Issues marked `blocked` by their status
    /// are listed too, with what they wait for if anything.
    pub async fn blocked(&self) -> Result<Vec<Blocked>, IndexError> {
        let sql = format!(
            "SELECT w.rowid AS w_rowid, w.id AS w_id, w.number AS w_number, w.title AS w_title, w.status AS w_status, w.path AS w_path, \
                    t.id AS t_id, t.number AS t_number, t.title AS t_title, t.status AS t_status, t.path AS t_path, \
                    u.waits_for IS NOT NULL AS known, u.target AS target \
             FROM issues w LEFT JOIN ({UNMET}) u ON u.waiting = w.rowid LEFT JOIN issues t ON t.rowid = u.waits_for \
             WHERE w.status <> 'done' AND (u.waiting IS NOT NULL OR w.status = 'blocked') \
             ORDER BY w.priority_rank DESC, w.id COLLATE BINARY ASC, t.number IS NULL, t.number, t.id, u.target"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await
            .map_err(sql_err(&self.path))?;
        let mut out: Vec<(i64, Blocked)> = Vec::new();
        for r in &rows {
            let rowid: i64 = r.try_get("w_rowid").unwrap_or_default();
            if out.last().is_none_or(|(id, _)| *id != rowid) {
                out.push((
                    rowid,
                    Blocked {
                        issue: issue_ref(r, "w_"),
                        blockers: Vec::new(),
                    },
                ));
            }
            let Some((_, b)) = out.last_mut() else {
                continue;
            };
            let target: Option<String> = r.try_get("target").ok().flatten();
            let known: Option<bool> = r.try_get("known").ok().flatten();
            match (known, target) {
                (Some(true), _) => b.blockers.push(Blocker::Issue(issue_ref(r, "t_"))),
                (Some(false), Some(reference)) => b.blockers.push(Blocker::Unknown { reference }),
                _ => {}
            }
        }
        Ok(out.into_iter().map(|(_, b)| b).collect())
    }

    /// Cycles among the dependencies and among the parents, and entries naming no issue.
    pub async fn check_dependencies(&self) -> Result<DependencyCheck, IndexError> {
        let e = sql_err(&self.path);
        let waits: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT waiting, waits_for FROM issue_edges WHERE waiting IS NOT NULL AND waits_for IS NOT NULL",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(&e)?;
        let parents: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT issue, other FROM issue_refs WHERE field = 'parent' AND other IS NOT NULL",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(&e)?;
        let (cycles, parent_cycles) = (cyclic_groups(&waits), cyclic_groups(&parents));
        let wanted: Vec<i64> = cycles
            .iter()
            .chain(&parent_cycles)
            .flatten()
            .copied()
            .collect();
        let refs = self.refs(&wanted).await?;
        let named = |groups: Vec<Vec<i64>>| -> Vec<Vec<IssueRef>> {
            let mut out: Vec<Vec<IssueRef>> = groups
                .into_iter()
                .map(|c| {
                    let mut group: Vec<IssueRef> =
                        c.iter().filter_map(|v| refs.get(v).cloned()).collect();
                    group.sort_by(|a, b| a.id.cmp(&b.id));
                    group
                })
                .collect();
            out.sort_by(|a, b| a.first().map(|i| &i.id).cmp(&b.first().map(|i| &i.id)));
            out
        };
        let (cycles, parent_cycles) = (named(cycles), named(parent_cycles));
        const UNKNOWN: &str = "SELECT i.id, i.number, i.title, i.status, i.path, r.field, r.target FROM issue_refs r \
             JOIN issues i ON i.rowid = r.issue WHERE r.other IS NULL \
             ORDER BY i.path, r.field, r.target";
        let unknown = sqlx::query(UNKNOWN)
            .fetch_all(&self.pool)
            .await
            .map_err(&e)?
            .iter()
            .map(|r| UnknownRef {
                issue: issue_ref(r, ""),
                field: r.try_get("field").unwrap_or_default(),
                reference: r.try_get("target").unwrap_or_default(),
            })
            .collect();
        Ok(DependencyCheck {
            cycles,
            parent_cycles,
            unknown,
        })
    }
}

impl Index<'_> {
    /// The sub-issue tree under `root` (an id, any case, or `#number`; `Ok(None)`: no such
    /// issue), or with `None` every tree: the issues that have sub-issues and no parent. An
    /// issue met again below itself (a `parent` cycle, which `check` reports) ends its branch.
    pub async fn trees(&self, root: Option<&str>) -> Result<Option<Vec<TreeNode>>, IndexError> {
        let e = sql_err(&self.path);
        let edges: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT r.other, r.issue FROM issue_refs r JOIN issues c ON c.rowid = r.issue \
             WHERE r.field = 'parent' AND r.other IS NOT NULL \
             ORDER BY r.other, c.number IS NULL, c.number, c.id COLLATE BINARY",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(&e)?;
        let mut children: HashMap<i64, Vec<i64>> = HashMap::new();
        let mut has_parent = std::collections::HashSet::new();
        for (parent, child) in &edges {
            children.entry(*parent).or_default().push(*child);
            has_parent.insert(*child);
        }
        let roots: Vec<i64> = match root {
            Some(key) => {
                let number = key.strip_prefix('#').and_then(|n| n.parse::<i64>().ok());
                let found: Option<(i64,)> = sqlx::query_as(
                    "SELECT rowid FROM issues WHERE id = ?1 OR (?2 IS NOT NULL AND number = ?2) \
                     ORDER BY id = ?1 DESC LIMIT 1",
                )
                .bind(key)
                .bind(number)
                .fetch_optional(&self.pool)
                .await
                .map_err(&e)?;
                match found {
                    Some((r,)) => vec![r],
                    None => return Ok(None),
                }
            }
            None => {
                let mut r: Vec<i64> = children
                    .keys()
                    .filter(|p| !has_parent.contains(p))
                    .copied()
                    .collect();
                r.sort_unstable();
                r
            }
        };
        let mut wanted: Vec<i64> = roots.clone();
        wanted.extend(edges.iter().flat_map(|(p, c)| [*p, *c]));
        let refs = self.refs(&wanted).await?;
        fn grow(
            at: i64,
            children: &HashMap<i64, Vec<i64>>,
            refs: &HashMap<i64, IssueRef>,
            above: &mut Vec<i64>,
        ) -> Option<TreeNode> {
            let issue = refs.get(&at)?.clone();
            above.push(at);
            let mut kids: Vec<TreeNode> = Vec::new();
            for c in children.get(&at).into_iter().flatten() {
                if !above.contains(c)
                    && let Some(k) = grow(*c, children, refs, above)
                {
                    kids.push(k);
                }
            }
            above.pop();
            Some(TreeNode {
                done: kids.iter().filter(|k| k.issue.status == "done").count(),
                issue,
                children: kids,
            })
        }
        let mut trees: Vec<TreeNode> = roots
            .iter()
            .filter_map(|r| grow(*r, &children, &refs, &mut Vec::new()))
            .collect();
        if root.is_none() {
            trees.sort_by(|a, b| {
                (a.issue.number.is_none(), a.issue.number, &a.issue.id).cmp(&(
                    b.issue.number.is_none(),
                    b.issue.number,
                    &b.issue.id,
                ))
            });
        }
        Ok(Some(trees))
    }
}

impl Index<'_> {
    /// The issues of `rowids`, by rowid.
    async fn refs(&self, rowids: &[i64]) -> Result<HashMap<i64, IssueRef>, IndexError> {
        if rowids.is_empty() {
            return Ok(HashMap::new());
        }
        let sql = format!(
            "SELECT rowid, {REF_COLUMNS} FROM issues WHERE rowid IN (SELECT value FROM json_each(?))"
        );
        Ok(sqlx::query(AssertSqlSafe(sql))
            .bind(serde_json::to_string(rowids).unwrap_or_else(|_| "[]".into()))
            .fetch_all(&self.pool)
            .await
            .map_err(sql_err(&self.path))?
            .iter()
            .map(|r| (r.try_get("rowid").unwrap_or_default(), issue_ref(r, "")))
            .collect())
    }
}

/// The groups of `edges`' nodes that reach themselves: strongly connected components
/// (petgraph's Tarjan) of two or more, or one with an edge to itself.
fn cyclic_groups(edges: &[(i64, i64)]) -> Vec<Vec<i64>> {
    let graph: DiGraphMap<i64, ()> = edges.iter().copied().collect();
    petgraph::algo::tarjan_scc(&graph)
        .into_iter()
        .filter(|scc| scc.len() > 1 || graph.contains_edge(scc[0], scc[0]))
        .collect()
}
