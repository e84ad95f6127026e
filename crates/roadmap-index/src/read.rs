//! Reads: listings, full-text search, lookups, milestone progress, and the scan of the
//! files that stands in when SQLite cannot be used.

#[allow(clippy::wildcard_imports)]
use super::*;

impl Index<'_> {
    /// Issues matching `q`, streamed row by row.
    pub fn list_issues(&self, q: &IssueQuery) -> BoxStream<'_, Result<IssueRow, IndexError>> {
        let (sql, binds) = select_issues(q, None);
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for b in binds {
            query = query.bind(b);
        }
        let path = self.path.clone();
        query
            .fetch(&self.pool)
            .map(move |r| {
                r.map_err(|source| IndexError::Sqlite {
                    path: path.clone(),
                    source: SqlError(source),
                })
                .map(|row| issue_row(&row))
            })
            .boxed()
    }

    /// Full-text search over titles and bodies, best matches first. Words match by prefix
    /// (`log` finds `login`); words in scripts written without spaces (CJK) match anywhere
    /// in the text.
    pub async fn search(&self, text: &str, limit: u64) -> Result<Vec<SearchHit>, IndexError> {
        let (words, unspaced) = split_words(text);
        let mut clauses = Vec::new();
        let mut binds = Vec::new();
        for w in &unspaced {
            push_substring(w, &mut clauses, &mut binds);
        }
        let columns = "i.id, i.number, i.title, i.status, i.priority, i.milestone, i.assignees, i.labels, i.updated, i.path";
        let sql = match fts_query(&words) {
            Some(m) => {
                binds.insert(0, m);
                clauses.insert(0, "issues_fts MATCH ?".into());
                format!(
                    "SELECT {columns}, snippet(issues_fts, -1, '[', ']', '…', 12) AS snip \
                     FROM issues_fts f JOIN issues i ON i.rowid = f.rowid WHERE {} ORDER BY rank LIMIT ?",
                    clauses.join(" AND ")
                )
            }
            None if !clauses.is_empty() => format!(
                "SELECT {columns}, '' AS snip FROM issues i WHERE {} ORDER BY i.number IS NULL, i.number LIMIT ?",
                clauses.join(" AND ")
            ),
            None => return Ok(Vec::new()),
        };
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for b in &binds {
            query = query.bind(b);
        }
        let rows = query
            .bind(limit as i64)
            .fetch_all(&self.pool)
            .await
            .map_err(sql_err(&self.path))?;
        Ok(rows
            .iter()
            .map(|r| {
                let row = issue_row(r);
                let mut snippet: String = r.try_get("snip").unwrap_or_default();
                if snippet.is_empty()
                    && let Some(w) = unspaced.first()
                {
                    snippet = around(&row.title, w).unwrap_or_default();
                }
                SearchHit { row, snippet }
            })
            .collect())
    }

    /// The file of the issue with this id, or `#N`/`N` GitHub number.
    pub async fn find_issue(&self, key: &str) -> Result<Option<PathBuf>, IndexError> {
        let number = key.strip_prefix('#').unwrap_or(key).parse::<i64>().ok();
        let row: Option<(String,)> = match number {
            Some(n) => sqlx::query_as("SELECT path FROM issues WHERE number = ? OR id = ? ORDER BY number = ? DESC LIMIT 1")
                .bind(n)
                .bind(key)
                .bind(n)
                .fetch_optional(&self.pool)
                .await,
            None => sqlx::query_as("SELECT path FROM issues WHERE id = ?").bind(key).fetch_optional(&self.pool).await,
        }
        .map_err(sql_err(&self.path))?;
        Ok(row.map(|(p,)| PathBuf::from(p)))
    }

    /// Milestones with their progress, in the order they are due (those without a due date
    /// last, then by title).
    pub async fn milestone_progress(
        &self,
        title: Option<&str>,
    ) -> Result<Vec<MilestoneProgress>, IndexError> {
        type Row = (String, String, Option<String>, bool, String, i64, f64);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT m.title, m.state, substr(m.due, 1, 10), \
                    m.state = 'open' AND m.due IS NOT NULL AND substr(m.due, 1, 10) < date('now'), \
                    coalesce(i.status, ''), count(i.rowid), coalesce(sum(i.estimate), 0.0) \
             FROM milestones m LEFT JOIN issues i ON i.milestone = m.title \
             WHERE (?1 IS NULL OR m.title = ?1) GROUP BY m.title, i.status \
             ORDER BY m.due IS NULL, m.due, m.title, i.status",
        )
        .bind(title)
        .fetch_all(&self.pool)
        .await
        .map_err(sql_err(&self.path))?;
        let mut out: Vec<MilestoneProgress> = Vec::new();
        for (t, state, due, overdue, status, n, estimate) in rows {
            if out.last().is_none_or(|m| m.title != t) {
                out.push(MilestoneProgress {
                    title: t,
                    state,
                    due,
                    overdue,
                    total: 0,
                    done: 0,
                    estimate: 0.0,
                    by_status: Vec::new(),
                });
            }
            let Some(m) = out.last_mut() else { continue };
            m.estimate += estimate;
            if status.is_empty() {
                continue;
            }
            m.total += n;
            if status == "done" {
                m.done += n;
            }
            m.by_status.push((status, n));
        }
        Ok(out)
    }
}

/// Whether a word is in a script written without spaces between words (Han, kana, Hangul):
/// the word tokenizer sees a whole phrase as one token, so such words match as substrings.
fn unspaced(w: &str) -> bool {
    w.chars().any(|c| {
        matches!(c as u32,
            0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xAC00..=0xD7AF
            | 0xF900..=0xFAFF | 0x20000..=0x2FA1F)
    })
}

/// The words of a query: (words matched by prefix, words matched as substrings).
pub(crate) fn split_words(text: &str) -> (Vec<String>, Vec<String>) {
    query::words(text).partition(|w| !unspaced(w))
}

/// The word index query: every word quoted (user text is never FTS5 syntax) and matched by
/// prefix; `None` without words.
pub(crate) fn fts_query(words: &[String]) -> Option<String> {
    (!words.is_empty()).then(|| {
        words
            .iter()
            .map(|w| format!("\"{w}\"*"))
            .collect::<Vec<_>>()
            .join(" ")
    })
}

/// A substring condition: the trigram index for three characters or more, else `LIKE` (the
/// words are alphanumeric: no `%` or `_` to escape).
fn push_substring(w: &str, clauses: &mut Vec<String>, binds: &mut Vec<String>) {
    if w.chars().count() >= 3 {
        clauses.push("i.rowid IN (SELECT rowid FROM issues_tri WHERE issues_tri MATCH ?)".into());
        binds.push(format!("\"{w}\""));
    } else {
        clauses.push("(i.title LIKE ? OR i.body LIKE ?)".into());
        binds.push(format!("%{w}%"));
        binds.push(format!("%{w}%"));
    }
}

/// A few characters around the first `w` in `text`, marked as the word index marks them.
fn around(text: &str, w: &str) -> Option<String> {
    let at = text.find(w)?;
    let before: String = text[..at]
        .chars()
        .rev()
        .take(12)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let after: String = text[at + w.len()..].chars().take(12).collect();
    Some(format!("{before}[{w}]{after}"))
}

pub(crate) fn issue_row(r: &sqlx::sqlite::SqliteRow) -> IssueRow {
    let list = |col: &str| -> Vec<String> {
        r.try_get::<String, _>(col)
            .ok()
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default()
    };
    IssueRow {
        id: r.try_get("id").unwrap_or_default(),
        number: r.try_get("number").ok().flatten(),
        title: r.try_get("title").unwrap_or_default(),
        status: r.try_get("status").unwrap_or_default(),
        priority: r.try_get("priority").unwrap_or_default(),
        milestone: r.try_get("milestone").ok().flatten(),
        assignees: list("assignees"),
        labels: list("labels"),
        updated: r.try_get("updated").ok().flatten(),
        path: r.try_get("path").unwrap_or_default(),
    }
}

/// Lists issues by reading every file: the fallback when SQLite cannot be used.
pub fn scan_issues(
    store: &Store,
    q: &IssueQuery,
) -> Result<(Vec<IssueRow>, Vec<LoadError>), StoreError> {
    let report = store.load_all::<Issue>()?;
    let mut rows: Vec<(IssueRow, i64, Option<String>)> = report
        .items
        .iter()
        .filter(|f| q.matches(f.item()))
        .map(|f| {
            let i = f.item();
            (
                IssueRow::from_issue(i, &f.path),
                i.priority.rank(),
                i.created.map(|t| t.to_string()),
            )
        })
        .collect();
    sort_rows(&mut rows, q.sort);
    let mut rows: Vec<IssueRow> = rows.into_iter().map(|r| r.0).collect();
    if let Some(limit) = q.limit {
        rows.truncate(limit as usize);
    }
    Ok((rows, report.skipped))
}

/// Collects a row stream (for callers that want a Vec).
pub async fn collect_rows(
    stream: BoxStream<'_, Result<IssueRow, IndexError>>,
) -> Result<Vec<IssueRow>, IndexError> {
    stream.try_collect().await
}

impl FromStr for IssueQuery {
    type Err = std::convert::Infallible;
    /// A query of only free text.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(IssueQuery {
            text: Some(s.to_owned()),
            ..IssueQuery::default()
        })
    }
}

impl Index<'_> {
    /// Every indexed issue with a GitHub number: number → file.
    pub async fn issue_numbers(&self) -> Result<HashMap<u64, PathBuf>, IndexError> {
        let rows: Vec<(i64, String)> =
            sqlx::query_as("SELECT number, path FROM issues WHERE number IS NOT NULL")
                .fetch_all(&self.pool)
                .await
                .map_err(sql_err(&self.path))?;
        Ok(rows
            .into_iter()
            .map(|(n, p)| (n as u64, PathBuf::from(p)))
            .collect())
    }

    /// Files of the issues in a milestone (by title).
    pub async fn issues_in_milestone(&self, title: &str) -> Result<Vec<PathBuf>, IndexError> {
        let rows: Vec<(String,)> = sqlx::query_as("SELECT path FROM issues WHERE milestone = ?")
            .bind(title)
            .fetch_all(&self.pool)
            .await
            .map_err(sql_err(&self.path))?;
        Ok(rows.into_iter().map(|(p,)| PathBuf::from(p)).collect())
    }
}

/// The `SELECT` of the issue rows matching `q` (and `extra`, a condition on `i`), with its
/// values to bind in order.
pub(crate) fn select_issues(q: &IssueQuery, extra: Option<&str>) -> (String, Vec<String>) {
    let mut sql = String::from(
        "SELECT i.id, i.number, i.title, i.status, i.priority, i.milestone, i.assignees, i.labels, i.updated, i.path FROM issues i",
    );
    let mut binds: Vec<String> = Vec::new();
    let mut clauses: Vec<String> = Vec::new();
    if let Some(text) = &q.text {
        let (words, unspaced) = split_words(text);
        if let Some(m) = fts_query(&words) {
            sql.push_str(" JOIN issues_fts f ON f.rowid = i.rowid");
            clauses.push("issues_fts MATCH ?".into());
            binds.push(m);
        }
        for w in &unspaced {
            push_substring(w, &mut clauses, &mut binds);
        }
        if words.is_empty() && unspaced.is_empty() {
            clauses.push("0".into());
        }
    }
    if !q.status.is_empty() {
        let mut ors = Vec::new();
        for f in &q.status {
            match f {
                StatusFilter::Is(s) => {
                    ors.push("i.status = ?".to_owned());
                    binds.push(s.to_string());
                }
                StatusFilter::Open => ors.push("i.status <> 'done'".to_owned()),
                StatusFilter::Closed => ors.push("i.status = 'done'".to_owned()),
            }
        }
        clauses.push(format!("({})", ors.join(" OR ")));
    }
    if let Some(p) = q.priority {
        clauses.push("i.priority = ?".into());
        binds.push(p.to_string());
    }
    if let Some(a) = &q.assignee {
        clauses.push("i.rowid IN (SELECT issue FROM issue_assignees WHERE login = ?)".into());
        binds.push(a.clone());
    }
    if let Some(m) = &q.milestone {
        clauses.push("i.milestone = ?".into());
        binds.push(m.clone());
    }
    for l in &q.labels {
        clauses.push("i.rowid IN (SELECT issue FROM issue_labels WHERE label = ?)".into());
        binds.push(l.clone());
    }
    if let Some(x) = extra {
        clauses.push(format!("({x})"));
    }
    if !clauses.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&clauses.join(" AND "));
    }
    sql.push_str(" ORDER BY ");
    sql.push_str(query::order_by(q.sort));
    if let Some(limit) = q.limit {
        sql.push_str(&format!(" LIMIT {limit}"));
    }
    (sql, binds)
}
