//! The SQLite index: a derived, rebuildable view of the file store that answers listings,
//! filters and full-text search without reading the files.
//!
//! Invariants: the files are the truth; the index never holds anything that cannot be
//! rebuilt from them. Opening it reconciles it with the files (a stat scan; only changed,
//! added or deleted files are read), so it is never stale. A missing, corrupt or old-schema
//! index is rebuilt. Values are always bound, never formatted into SQL. This crate never
//! prints and never reads the environment.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use roadmap_index::{Index, IssueQuery};
//! use roadmap_model::{Issue, ItemId, Status};
//! use roadmap_store::Store;
//!
//! let dir = tempfile::tempdir()?;
//! let store = Store::init(dir.path(), "")?;
//! let mut done = Issue::new(ItemId::new("0000aaaa")?, "Ship the login page");
//! done.status = Status::Done;
//! store.create(done)?;
//! store.create(Issue::new(ItemId::new("0000bbbb")?, "Fix the login crash"))?;
//!
//! let (index, report) = Index::open(&store).await?; // reconciled with the files
//! assert_eq!(report.updated, 2);
//! let open = roadmap_index::collect_rows(index.list_issues(&IssueQuery::open())).await?;
//! assert_eq!(open.len(), 1);
//! let hits = index.search("login", 10).await?;
//! assert_eq!(hits.len(), 2);
//! index.close().await;
//! # Ok(()) }
//! ```

mod query;
mod watch;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use futures::stream::{BoxStream, StreamExt, TryStreamExt};
use roadmap_model::{Issue, Milestone, Roadmap};
use roadmap_store::{FileStamp, ItemFile, Kind, LoadError, Store, StoreError};
use sha2::{Digest, Sha256};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, Row, Sqlite, Transaction};

pub use query::{IssueQuery, IssueRow, SortKey, StatusFilter, sort_rows};
pub use watch::{IndexWatcher, WatchEvent};

/// The schema version, kept in `PRAGMA user_version`; an index of another version is rebuilt.
pub const SCHEMA_VERSION: i64 = 2;
const SCHEMA: &str = include_str!("schema.sql");
/// Rows written per transaction when reconciling.
const BATCH: usize = 500;

/// A failure of the index.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IndexError {
    /// SQLite failed; the message names the index file.
    #[error("index {path}: {source}")]
    Sqlite {
        /// The index file.
        path: PathBuf,
        /// The failure.
        #[source]
        source: SqlError,
    },
    /// The file store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What SQLite said, without the driver's types in this crate's public signatures.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct SqlError(#[from] sqlx::Error);

impl IndexError {
    /// Whether SQLite reports the file damaged (`SQLITE_CORRUPT`, `SQLITE_NOTADB`) or
    /// holding values of the wrong type: a rebuild from the files is the cure.
    pub fn is_corrupt(&self) -> bool {
        match self {
            IndexError::Sqlite { source, .. } => match &source.0 {
                sqlx::Error::Database(db) => {
                    matches!(db.code().as_deref(), Some("11" | "26"))
                        || db.message().contains("malformed")
                }
                sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => true,
                _ => false,
            },
            IndexError::Store(_) => false,
        }
    }
}

/// What a reconcile did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ReconcileReport {
    /// Whether the index was (re)built from nothing.
    pub rebuilt: bool,
    /// Why it was rebuilt, if it was.
    pub rebuild_reason: Option<String>,
    /// Files read because they were new or changed.
    pub updated: u64,
    /// Files gone from disk and dropped from the index.
    pub removed: u64,
    /// Files left alone because their stamp matched.
    pub unchanged: u64,
    /// Bad files (path:line:column: message), skipped.
    pub skipped: Vec<String>,
}

/// A full-text search hit.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SearchHit {
    /// The issue.
    pub row: IssueRow,
    /// A snippet of the matching text, with matches in `[...]`.
    pub snippet: String,
}

/// Progress of one milestone, from its issues.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MilestoneProgress {
    /// Milestone title.
    pub title: String,
    /// Issues in it.
    pub total: i64,
    /// Of which done.
    pub done: i64,
    /// Sum of estimates, hours.
    pub estimate: f64,
    /// Issues by status.
    pub by_status: Vec<(String, i64)>,
}

/// The SQLite index of one project.
#[derive(Debug, Clone)]
pub struct Index {
    pool: SqlitePool,
    store: Store,
    path: PathBuf,
}

fn sql_err(path: &Path) -> impl Fn(sqlx::Error) -> IndexError + '_ {
    move |source| IndexError::Sqlite {
        path: path.to_owned(),
        source: SqlError(source),
    }
}

impl Index {
    /// Opens (creating or rebuilding as needed) the index of `store` and reconciles it
    /// with the files.
    pub async fn open(store: &Store) -> Result<(Index, ReconcileReport), IndexError> {
        let path = store.layout().index();
        match Self::try_open(store, &path).await {
            Ok((index, reason)) => {
                let mut report = match index.reconcile().await {
                    Ok(r) => r,
                    // Damage the open probe missed shows up here: start over.
                    Err(e) if e.is_corrupt() => {
                        index.close().await;
                        let (index, mut report) = Self::recreate(store).await?;
                        report.rebuild_reason = Some(format!("the index was damaged ({e})"));
                        return Ok((index, report));
                    }
                    Err(e) => return Err(e),
                };
                if let Some(reason) = reason {
                    report.rebuilt = true;
                    report.rebuild_reason = Some(reason);
                }
                Ok((index, report))
            }
            Err(e) => {
                // Corrupt beyond opening: start over from the files.
                remove_db(&path);
                let (index, _) = Self::try_open(store, &path).await?;
                let mut report = index.reconcile().await?;
                report.rebuilt = true;
                report.rebuild_reason = Some(format!("the index could not be opened ({e})"));
                Ok((index, report))
            }
        }
    }

    /// Deletes the index file and builds a new one from the files: the cure for any damage,
    /// and faster than emptying the tables of a large index.
    pub async fn recreate(store: &Store) -> Result<(Index, ReconcileReport), IndexError> {
        let path = store.layout().index();
        remove_db(&path);
        let (index, _) = Self::try_open(store, &path).await?;
        let mut report = index.reconcile().await?;
        report.rebuilt = true;
        report.rebuild_reason = Some("requested".into());
        Ok((index, report))
    }

    async fn try_open(store: &Store, path: &Path) -> Result<(Index, Option<String>), IndexError> {
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .pragma("cache_size", "-16384")
            .pragma("temp_store", "memory");
        let pool = SqlitePoolOptions::new()
            .max_connections(2)
            .connect_with(opts)
            .await
            .map_err(sql_err(path))?;
        let version: i64 = sqlx::query_scalar("PRAGMA user_version")
            .fetch_one(&pool)
            .await
            .map_err(sql_err(path))?;
        let mut reason = None;
        if version != SCHEMA_VERSION {
            if version != 0 {
                reason = Some(format!(
                    "schema version {version}, this roadmap uses {SCHEMA_VERSION}"
                ));
                pool.close().await;
                remove_db(path);
                return Box::pin(Self::try_open(store, path))
                    .await
                    .map(|(i, _)| (i, reason));
            }
            let mut conn = pool.acquire().await.map_err(sql_err(path))?;
            sqlx::raw_sql(SCHEMA)
                .execute(&mut *conn)
                .await
                .map_err(sql_err(path))?;
            sqlx::raw_sql(AssertSqlSafe(format!(
                "PRAGMA user_version = {SCHEMA_VERSION}"
            )))
            .execute(&mut *conn)
            .await
            .map_err(sql_err(path))?;
        } else {
            // A cheap probe that fails on a damaged file header or schema.
            sqlx::query("SELECT count(*) FROM files WHERE 0")
                .execute(&pool)
                .await
                .map_err(sql_err(path))?;
        }
        Ok((
            Index {
                pool,
                store: store.clone(),
                path: path.to_owned(),
            },
            reason,
        ))
    }

    /// The file store this index mirrors.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Drops everything and re-reads every file.
    pub async fn rebuild(&self) -> Result<ReconcileReport, IndexError> {
        let mut tx = self.begin().await?;
        // Emptying tables row by row through the delete trigger costs more than the rebuild:
        // drop the trigger, empty everything, and let the schema script put the trigger back.
        sqlx::raw_sql(
            "DROP TRIGGER IF EXISTS issues_ad; \
             DELETE FROM meta; DELETE FROM files; DELETE FROM issue_labels; DELETE FROM issue_assignees; \
             DELETE FROM issues; DELETE FROM milestones; DELETE FROM roadmaps; \
             INSERT INTO issues_fts(issues_fts) VALUES ('delete-all');",
        )
        .execute(&mut *tx)
        .await
        .map_err(sql_err(&self.path))?;
        sqlx::raw_sql(SCHEMA)
            .execute(&mut *tx)
            .await
            .map_err(sql_err(&self.path))?;
        tx.commit().await.map_err(sql_err(&self.path))?;
        let mut report = self.reconcile().await?;
        report.rebuilt = true;
        report.rebuild_reason = Some("requested".into());
        Ok(report)
    }

    /// Every transaction here writes: `BEGIN IMMEDIATE` takes the write lock at once, waiting
    /// out another writer within the busy timeout. A deferred one that reads first and then
    /// writes fails at once with "database is locked" when another process wrote meanwhile
    /// (SQLite cannot wait then without risking a deadlock).
    async fn begin(&self) -> Result<Transaction<'static, Sqlite>, IndexError> {
        self.pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(sql_err(&self.path))
    }

    /// Brings the index in step with the files: reads only files whose size or mtime
    /// changed, drops rows of deleted files.
    pub async fn reconcile(&self) -> Result<ReconcileReport, IndexError> {
        let mut report = ReconcileReport::default();
        // One stat per file; if the listing's signature matches the one recorded after the last
        // reconcile, nothing changed and the per-file comparison is skipped.
        let mut scans = Vec::new();
        let mut h = Sha256::new();
        for kind in [Kind::Issue, Kind::Milestone, Kind::Roadmap] {
            let scan = self.store.scan(kind)?;
            for (p, st) in &scan {
                h.update(p.as_os_str().as_encoded_bytes());
                h.update(st.mtime_ns.to_le_bytes());
                h.update(st.size.to_le_bytes());
            }
            scans.push((kind, scan));
        }
        let signature = hex::encode(h.finalize());
        let recorded: Option<(String,)> =
            sqlx::query_as("SELECT value FROM meta WHERE key = 'signature'")
                .fetch_optional(&self.pool)
                .await
                .map_err(sql_err(&self.path))?;
        if recorded.is_some_and(|(s,)| s == signature) {
            report.unchanged = scans.iter().map(|(_, s)| s.len() as u64).sum();
        } else {
            for (kind, scan) in scans {
                self.reconcile_kind(kind, scan, &mut report).await?;
            }
            sqlx::query("INSERT OR REPLACE INTO meta(key, value) VALUES ('signature', ?)")
                .bind(&signature)
                .execute(&self.pool)
                .await
                .map_err(sql_err(&self.path))?;
        }
        // Bad files stay reported on every run until fixed.
        let bad: Vec<(String, String)> =
            sqlx::query_as("SELECT path, error FROM files WHERE error IS NOT NULL ORDER BY path")
                .fetch_all(&self.pool)
                .await
                .map_err(sql_err(&self.path))?;
        report.skipped = bad.into_iter().map(|(_, e)| e).collect();
        Ok(report)
    }

    async fn reconcile_kind(
        &self,
        kind: Kind,
        on_disk: Vec<(PathBuf, FileStamp)>,
        report: &mut ReconcileReport,
    ) -> Result<(), IndexError> {
        let known: Vec<(String, i64, i64)> =
            sqlx::query_as("SELECT path, mtime_ns, size FROM files WHERE kind = ?")
                .bind(kind.noun())
                .fetch_all(&self.pool)
                .await
                .map_err(sql_err(&self.path))?;
        let mut known: HashMap<String, (i64, i64)> =
            known.into_iter().map(|(p, m, s)| (p, (m, s))).collect();
        let mut changed = Vec::new();
        for (path, stamp) in on_disk {
            let key = path.to_string_lossy().into_owned();
            match known.remove(&key) {
                Some((m, s)) if m == stamp.mtime_ns && s == stamp.size as i64 => {
                    report.unchanged += 1
                }
                _ => changed.push(path),
            }
        }
        let removed: Vec<String> = known.into_keys().collect();
        report.removed += removed.len() as u64;
        report.updated += changed.len() as u64;
        for chunk in removed.chunks(BATCH) {
            let mut tx = self.begin().await?;
            for path in chunk {
                delete_path(&mut tx, kind, path)
                    .await
                    .map_err(sql_err(&self.path))?;
            }
            tx.commit().await.map_err(sql_err(&self.path))?;
        }
        for chunk in changed.chunks(BATCH) {
            let parsed = parse_parallel(&self.store, kind, chunk.to_vec()).await;
            let mut tx = self.begin().await?;
            if kind == Kind::Issue {
                // Issues come in thousands: a handful of set-based statements per batch.
                let mut good = Vec::new();
                let mut files = Vec::new();
                for (path, result) in parsed {
                    let key = path.to_string_lossy().into_owned();
                    match result {
                        Parsed::Issue(f) => good.push(f),
                        Parsed::Bad(e, stamp) => {
                            files.push(file_json(&key, kind, stamp, Some(e.to_string())))
                        }
                        _ => {}
                    }
                }
                let paths: Vec<String> = chunk
                    .iter()
                    .map(|p| p.to_string_lossy().into_owned())
                    .collect();
                self.bulk_issues(&mut tx, &paths, &good, files).await?;
                tx.commit().await.map_err(sql_err(&self.path))?;
                continue;
            }
            for (path, result) in parsed {
                let key = path.to_string_lossy().into_owned();
                delete_path(&mut tx, kind, &key)
                    .await
                    .map_err(sql_err(&self.path))?;
                let stamp = match &result {
                    Parsed::Issue(f) => f.stamp,
                    Parsed::Milestone(f) => f.stamp,
                    Parsed::Roadmap(f) => f.stamp,
                    Parsed::Bad(_, stamp) => *stamp,
                };
                let mut error = match &result {
                    Parsed::Bad(e, _) => Some(e.to_string()),
                    _ => None,
                };
                if error.is_none() {
                    let outcome = match &result {
                        Parsed::Milestone(f) => insert_milestone(&mut tx, f).await,
                        Parsed::Roadmap(f) => insert_roadmap(&mut tx, f).await,
                        _ => Ok(()),
                    };
                    if let Err(e) = outcome {
                        error = Some(match e.as_database_error() {
                            Some(db) if db.is_unique_violation() => {
                                format!(
                                    "{key}: duplicate id (another {} file has the same id, ignoring case)",
                                    kind.noun()
                                )
                            }
                            _ => return Err(sql_err(&self.path)(e)),
                        });
                    }
                }
                sqlx::query(
                    "INSERT INTO files(path, kind, mtime_ns, size, error) VALUES (?, ?, ?, ?, ?)",
                )
                .bind(&key)
                .bind(kind.noun())
                .bind(stamp.mtime_ns)
                .bind(stamp.size as i64)
                .bind(error)
                .execute(&mut *tx)
                .await
                .map_err(sql_err(&self.path))?;
            }
            tx.commit().await.map_err(sql_err(&self.path))?;
        }
        Ok(())
    }

    /// Replaces the rows of `paths` with `good` issues (and `extra_files` rows for bad ones),
    /// with one statement per table; an issue whose id is taken (ignoring case) is recorded
    /// as a bad file.
    async fn bulk_issues(
        &self,
        tx: &mut Transaction<'static, Sqlite>,
        paths: &[String],
        good: &[ItemFile<Issue>],
        mut files: Vec<serde_json::Value>,
    ) -> Result<(), IndexError> {
        let e = sql_err(&self.path);
        let paths_json = serde_json::to_string(paths).unwrap_or_else(|_| "[]".into());
        sqlx::query("DELETE FROM issues WHERE path IN (SELECT value FROM json_each(?))")
            .bind(&paths_json)
            .execute(&mut **tx)
            .await
            .map_err(&e)?;
        sqlx::query("DELETE FROM files WHERE path IN (SELECT value FROM json_each(?))")
            .bind(&paths_json)
            .execute(&mut **tx)
            .await
            .map_err(&e)?;
        let rows: Vec<serde_json::Value> = good.iter().map(issue_json).collect();
        let rows = serde_json::Value::Array(rows).to_string();
        sqlx::query(
            "INSERT OR IGNORE INTO issues(id, path, title, status, priority, priority_rank, milestone, estimate, progress, created, updated, number, remote_state, labels, assignees, body) \
             SELECT v->>'id', v->>'path', v->>'title', v->>'status', v->>'priority', v->>'rank', v->>'milestone', v->>'estimate', v->>'progress', \
                    v->>'created', v->>'updated', v->>'number', v->>'remote_state', v->>'labels', v->>'assignees', v->>'body' \
             FROM (SELECT value AS v FROM json_each(?))",
        )
        .bind(&rows)
        .execute(&mut **tx)
        .await
        .map_err(&e)?;
        sqlx::query(
            "INSERT OR IGNORE INTO issue_labels(label, issue) SELECT l.value, i.rowid FROM json_each(?) j \
             JOIN issues i ON i.path = j.value->>'path', json_each(j.value->>'labels') l",
        )
        .bind(&rows)
        .execute(&mut **tx)
        .await
        .map_err(&e)?;
        sqlx::query(
            "INSERT OR IGNORE INTO issue_assignees(login, issue) SELECT a.value, i.rowid FROM json_each(?) j \
             JOIN issues i ON i.path = j.value->>'path', json_each(j.value->>'assignees') a",
        )
        .bind(&rows)
        .execute(&mut **tx)
        .await
        .map_err(&e)?;
        // Rows the id constraint kept out are duplicates.
        let kept: Vec<(String,)> = sqlx::query_as(
            "SELECT path FROM issues WHERE path IN (SELECT value->>'path' FROM json_each(?))",
        )
        .bind(&rows)
        .fetch_all(&mut **tx)
        .await
        .map_err(&e)?;
        let kept: std::collections::HashSet<String> = kept.into_iter().map(|(p,)| p).collect();
        for f in good {
            let key = f.path.to_string_lossy().into_owned();
            let error = (!kept.contains(&key)).then(|| {
                format!("{key}: duplicate id (another issue file has the same id, ignoring case)")
            });
            files.push(file_json(&key, Kind::Issue, f.stamp, error));
        }
        sqlx::query(
            "INSERT OR REPLACE INTO files(path, kind, mtime_ns, size, error) \
             SELECT value->>'path', value->>'kind', value->>'mtime_ns', value->>'size', value->>'error' FROM json_each(?)",
        )
        .bind(serde_json::Value::Array(files).to_string())
        .execute(&mut **tx)
        .await
        .map_err(&e)?;
        Ok(())
    }

    /// Records issue files the caller just wrote (one transaction for the batch), so that the
    /// next reconcile finds them unchanged.
    pub async fn upsert_issues(&self, files: &[ItemFile<Issue>]) -> Result<(), IndexError> {
        let mut tx = self.begin().await?;
        forget_signature(&mut tx)
            .await
            .map_err(sql_err(&self.path))?;
        let paths: Vec<String> = files
            .iter()
            .map(|f| f.path.to_string_lossy().into_owned())
            .collect();
        self.bulk_issues(&mut tx, &paths, files, Vec::new()).await?;
        tx.commit().await.map_err(sql_err(&self.path))
    }

    /// Records milestone files the caller just wrote.
    pub async fn upsert_milestones(&self, files: &[ItemFile<Milestone>]) -> Result<(), IndexError> {
        let mut tx = self.begin().await?;
        forget_signature(&mut tx)
            .await
            .map_err(sql_err(&self.path))?;
        for f in files {
            let key = f.path.to_string_lossy().into_owned();
            delete_path(&mut tx, Kind::Milestone, &key)
                .await
                .map_err(sql_err(&self.path))?;
            insert_milestone(&mut tx, f)
                .await
                .map_err(sql_err(&self.path))?;
            upsert_file(&mut tx, Kind::Milestone, &key, f.stamp)
                .await
                .map_err(sql_err(&self.path))?;
        }
        tx.commit().await.map_err(sql_err(&self.path))
    }

    /// Issues matching `q`, streamed row by row.
    pub fn list_issues(&self, q: &IssueQuery) -> BoxStream<'_, Result<IssueRow, IndexError>> {
        let mut sql = String::from(
            "SELECT i.id, i.number, i.title, i.status, i.priority, i.milestone, i.assignees, i.labels, i.updated, i.path FROM issues i",
        );
        let mut binds: Vec<String> = Vec::new();
        let mut clauses: Vec<String> = Vec::new();
        if let Some(text) = &q.text {
            sql.push_str(" JOIN issues_fts f ON f.rowid = i.rowid");
            clauses.push("issues_fts MATCH ?".into());
            binds.push(fts_query(text));
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
        if !clauses.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&clauses.join(" AND "));
        }
        sql.push_str(" ORDER BY ");
        sql.push_str(query::order_by(q.sort));
        if let Some(limit) = q.limit {
            sql.push_str(&format!(" LIMIT {limit}"));
        }
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

    /// Full-text search over titles and bodies, best matches first.
    pub async fn search(&self, text: &str, limit: u64) -> Result<Vec<SearchHit>, IndexError> {
        let rows = sqlx::query(
            "SELECT i.id, i.number, i.title, i.status, i.priority, i.milestone, i.assignees, i.labels, i.updated, i.path, \
             snippet(issues_fts, -1, '[', ']', '…', 12) AS snip \
             FROM issues_fts f JOIN issues i ON i.rowid = f.rowid WHERE issues_fts MATCH ? ORDER BY rank LIMIT ?",
        )
        .bind(fts_query(text))
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await
        .map_err(sql_err(&self.path))?;
        Ok(rows
            .iter()
            .map(|r| SearchHit {
                row: issue_row(r),
                snippet: r.try_get("snip").unwrap_or_default(),
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

    /// Milestones with their progress, by title.
    pub async fn milestone_progress(
        &self,
        title: Option<&str>,
    ) -> Result<Vec<MilestoneProgress>, IndexError> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT m.title, coalesce(i.status, ''), count(i.rowid) FROM milestones m LEFT JOIN issues i ON i.milestone = m.title \
             WHERE (?1 IS NULL OR m.title = ?1) GROUP BY m.title, i.status ORDER BY m.title",
        )
        .bind(title)
        .fetch_all(&self.pool)
        .await
        .map_err(sql_err(&self.path))?;
        let est: Vec<(String, f64)> = sqlx::query_as(
            "SELECT m.title, coalesce(sum(i.estimate), 0.0) FROM milestones m LEFT JOIN issues i ON i.milestone = m.title \
             WHERE (?1 IS NULL OR m.title = ?1) GROUP BY m.title",
        )
        .bind(title)
        .fetch_all(&self.pool)
        .await
        .map_err(sql_err(&self.path))?;
        let est: HashMap<String, f64> = est.into_iter().collect();
        let mut out: Vec<MilestoneProgress> = Vec::new();
        for (t, status, n) in rows {
            if out.last().is_none_or(|m| m.title != t) {
                out.push(MilestoneProgress {
                    estimate: est.get(&t).copied().unwrap_or(0.0),
                    title: t,
                    total: 0,
                    done: 0,
                    by_status: Vec::new(),
                });
            }
            let Some(m) = out.last_mut() else { continue };
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

    /// Counts of indexed rows: (issues, milestones, roadmaps, bad files).
    pub async fn counts(&self) -> Result<(i64, i64, i64, i64), IndexError> {
        sqlx::query_as(
            "SELECT (SELECT count(*) FROM issues), (SELECT count(*) FROM milestones), (SELECT count(*) FROM roadmaps), (SELECT count(*) FROM files WHERE error IS NOT NULL)",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(sql_err(&self.path))
    }

    /// Runs SQLite's integrity check; `ok` when sound.
    pub async fn integrity_check(&self) -> Result<String, IndexError> {
        let rows: Vec<(String,)> = sqlx::query_as("PRAGMA integrity_check")
            .fetch_all(&self.pool)
            .await
            .map_err(sql_err(&self.path))?;
        Ok(rows
            .into_iter()
            .map(|(s,)| s)
            .collect::<Vec<_>>()
            .join("; "))
    }

    /// Closes the pool, flushing the WAL.
    pub async fn close(self) {
        self.pool.close().await;
    }
}

fn remove_db(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
}

/// Quotes every word so that user text can never be read as FTS5 syntax.
fn fts_query(text: &str) -> String {
    let words: Vec<String> = query::words(text).map(|w| format!("\"{w}\"")).collect();
    if words.is_empty() {
        "\"\"".into()
    } else {
        words.join(" ")
    }
}

fn issue_row(r: &sqlx::sqlite::SqliteRow) -> IssueRow {
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

enum Parsed {
    Issue(ItemFile<Issue>),
    Milestone(ItemFile<Milestone>),
    Roadmap(ItemFile<Roadmap>),
    Bad(LoadError, FileStamp),
}

/// Parses files on blocking threads, one chunk per core.
async fn parse_parallel(store: &Store, kind: Kind, paths: Vec<PathBuf>) -> Vec<(PathBuf, Parsed)> {
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(8);
    let per = paths.len().div_ceil(threads).max(1);
    let mut tasks = Vec::new();
    for chunk in paths.chunks(per) {
        let chunk = chunk.to_vec();
        let store = store.clone();
        tasks.push(tokio::task::spawn_blocking(move || {
            chunk
                .into_iter()
                .map(|p| {
                    let parsed = parse_one(&store, kind, &p);
                    (p, parsed)
                })
                .collect::<Vec<_>>()
        }));
    }
    let mut out = Vec::with_capacity(paths.len());
    for t in tasks {
        if let Ok(v) = t.await {
            out.extend(v);
        }
    }
    out
}

fn parse_one(store: &Store, kind: Kind, path: &Path) -> Parsed {
    let stamp = std::fs::metadata(path)
        .map(|m| FileStamp {
            mtime_ns: m
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos() as i64),
            size: m.len(),
        })
        .unwrap_or(FileStamp {
            mtime_ns: 0,
            size: 0,
        });
    let r = match kind {
        Kind::Issue => store.load::<Issue>(path).map(Parsed::Issue),
        Kind::Milestone => store.load::<Milestone>(path).map(Parsed::Milestone),
        _ => store.load::<Roadmap>(path).map(Parsed::Roadmap),
    };
    r.unwrap_or_else(|e| Parsed::Bad(e, stamp))
}

fn issue_json(f: &ItemFile<Issue>) -> serde_json::Value {
    let i = f.item();
    serde_json::json!({
        "id": i.id.as_str(),
        "path": f.path.to_string_lossy(),
        "title": i.title,
        "status": i.status.as_str(),
        "priority": i.priority.as_str(),
        "rank": i.priority.rank(),
        "milestone": i.milestone,
        "estimate": i.estimate,
        "progress": i.progress,
        "created": i.created.map(|t| t.to_string()),
        "updated": i.updated.map(|t| t.to_string()),
        "number": i.number(),
        "remote_state": i.remote.as_ref().and_then(|r| r.state.clone()),
        "labels": serde_json::to_string(&i.labels).unwrap_or_else(|_| "[]".into()),
        "assignees": serde_json::to_string(&i.assignees).unwrap_or_else(|_| "[]".into()),
        "body": i.body,
    })
}

fn file_json(path: &str, kind: Kind, stamp: FileStamp, error: Option<String>) -> serde_json::Value {
    serde_json::json!({"path": path, "kind": kind.noun(), "mtime_ns": stamp.mtime_ns, "size": stamp.size, "error": error})
}

/// Files were written behind reconcile's back: the next one compares file by file.
async fn forget_signature(tx: &mut Transaction<'static, Sqlite>) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM meta WHERE key = 'signature'")
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn delete_path(
    tx: &mut Transaction<'static, Sqlite>,
    kind: Kind,
    path: &str,
) -> Result<(), sqlx::Error> {
    let table = match kind {
        Kind::Issue => "DELETE FROM issues WHERE path = ?",
        Kind::Milestone => "DELETE FROM milestones WHERE path = ?",
        _ => "DELETE FROM roadmaps WHERE path = ?",
    };
    sqlx::query(table).bind(path).execute(&mut **tx).await?;
    sqlx::query("DELETE FROM files WHERE path = ?")
        .bind(path)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn insert_milestone(
    tx: &mut Transaction<'static, Sqlite>,
    f: &ItemFile<Milestone>,
) -> Result<(), sqlx::Error> {
    let m = f.item();
    sqlx::query(
        "INSERT INTO milestones(id, path, title, state, due, number, body) VALUES (?,?,?,?,?,?,?)",
    )
    .bind(m.id.as_str())
    .bind(f.path.to_string_lossy())
    .bind(&m.title)
    .bind(m.state.as_str())
    .bind(m.due.map(|t| t.to_string()))
    .bind(m.remote.as_ref().map(|r| r.number as i64))
    .bind(&m.body)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn insert_roadmap(
    tx: &mut Transaction<'static, Sqlite>,
    f: &ItemFile<Roadmap>,
) -> Result<(), sqlx::Error> {
    let r = f.item();
    sqlx::query(
        "INSERT INTO roadmaps(id, path, title, milestones, owner, body) VALUES (?,?,?,?,?,?)",
    )
    .bind(r.id.as_str())
    .bind(f.path.to_string_lossy())
    .bind(&r.title)
    .bind(serde_json::to_string(&r.milestones).unwrap_or_else(|_| "[]".into()))
    .bind(r.owner.as_deref())
    .bind(&r.body)
    .execute(&mut **tx)
    .await?;
    Ok(())
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

impl Index {
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

async fn upsert_file(
    tx: &mut Transaction<'static, Sqlite>,
    kind: Kind,
    path: &str,
    stamp: FileStamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT OR REPLACE INTO files(path, kind, mtime_ns, size, error) VALUES (?, ?, ?, ?, NULL)",
    )
    .bind(path)
    .bind(kind.noun())
    .bind(stamp.mtime_ns)
    .bind(stamp.size as i64)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
