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
//! let index = Index::open(&store).await?; // borrows the store, reconciled with its files
//! assert_eq!(index.opened().updated, 2);
//! let open = roadmap_index::collect_rows(index.list_issues(&IssueQuery::open())).await?;
//! assert_eq!(open.len(), 1);
//! let hits = index.search("login", 10).await?;
//! assert_eq!(hits.len(), 2);
//! index.close().await;
//! # Ok(()) }
//! ```

mod deps;
mod plan;
mod query;
mod read;
mod reconcile;
mod watch;
mod write;

pub use deps::{Blocked, Blocker, DependencyCheck, IssueRef, TreeNode, UnknownRef};
pub use plan::{BurnupDay, GraphNode, OpenGraph};
pub use read::{collect_rows, scan_issues};
use write::*;

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
pub use watch::{IndexWatcher, WatchError, WatchEvent};

/// The schema version, kept in `PRAGMA user_version`; an index of another version is rebuilt.
pub const SCHEMA_VERSION: i64 = 5;
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
    /// `open` or `closed`.
    pub state: String,
    /// Due date (`YYYY-MM-DD`), if set.
    pub due: Option<String>,
    /// Open and past its due date (today by the system clock, UTC).
    pub overdue: bool,
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
pub struct Index<'s> {
    pool: SqlitePool,
    store: &'s Store,
    path: PathBuf,
    opened: ReconcileReport,
}

/// How many rows the index holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct IndexCounts {
    /// Indexed issues.
    pub issues: i64,
    /// Indexed milestones.
    pub milestones: i64,
    /// Indexed roadmaps.
    pub roadmaps: i64,
    /// Files that could not be parsed (kept with their error, skipped by every query).
    pub bad_files: i64,
}

fn sql_err(path: &Path) -> impl Fn(sqlx::Error) -> IndexError + '_ {
    move |source| IndexError::Sqlite {
        path: path.to_owned(),
        source: SqlError(source),
    }
}

impl<'s> Index<'s> {
    /// Opens (creating or rebuilding as needed) the index of `store` and reconciles it
    /// with the files; [`Index::opened`] tells what that found. The index borrows the
    /// store: the files are the root, the index a view of them.
    pub async fn open(store: &'s Store) -> Result<Index<'s>, IndexError> {
        let path = store.layout().index();
        match Self::try_open(store, &path).await {
            Ok((mut index, reason)) => {
                let mut report = match index.reconcile().await {
                    Ok(r) => r,
                    // Damage the open probe missed shows up here: start over.
                    Err(e) if e.is_corrupt() => {
                        index.close().await;
                        let mut index = Self::recreate(store).await?;
                        index.opened.rebuild_reason = Some(format!("the index was damaged ({e})"));
                        return Ok(index);
                    }
                    Err(e) => return Err(e),
                };
                if let Some(reason) = reason {
                    report.rebuilt = true;
                    report.rebuild_reason = Some(reason);
                }
                index.opened = report;
                Ok(index)
            }
            Err(e) => {
                // Corrupt beyond opening: start over from the files.
                remove_db(&path);
                let (mut index, _) = Self::try_open(store, &path).await?;
                let mut report = index.reconcile().await?;
                report.rebuilt = true;
                report.rebuild_reason = Some(format!("the index could not be opened ({e})"));
                index.opened = report;
                Ok(index)
            }
        }
    }

    /// Deletes the index file and builds a new one from the files: the cure for any damage,
    /// and faster than emptying the tables of a large index.
    pub async fn recreate(store: &'s Store) -> Result<Index<'s>, IndexError> {
        let path = store.layout().index();
        remove_db(&path);
        let (mut index, _) = Self::try_open(store, &path).await?;
        let mut report = index.reconcile().await?;
        report.rebuilt = true;
        report.rebuild_reason = Some("requested".into());
        index.opened = report;
        Ok(index)
    }

    /// What reconciling with the files found when the index was opened (or recreated):
    /// files read, removed, skipped, and whether (and why) it was rebuilt.
    pub fn opened(&self) -> &ReconcileReport {
        &self.opened
    }

    async fn try_open(
        store: &'s Store,
        path: &Path,
    ) -> Result<(Index<'s>, Option<String>), IndexError> {
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
                store,
                path: path.to_owned(),
                opened: ReconcileReport::default(),
            },
            reason,
        ))
    }

    /// The file store this index mirrors.
    pub fn store(&self) -> &'s Store {
        self.store
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

    /// How many rows the index holds.
    pub async fn counts(&self) -> Result<IndexCounts, IndexError> {
        let (issues, milestones, roadmaps, bad_files) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM issues), (SELECT count(*) FROM milestones), (SELECT count(*) FROM roadmaps), (SELECT count(*) FROM files WHERE error IS NOT NULL)",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(sql_err(&self.path))?;
        Ok(IndexCounts {
            issues,
            milestones,
            roadmaps,
            bad_files,
        })
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
