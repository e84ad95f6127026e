//! Reconcile: bringing the index in step with the files (a stat scan, then only the
//! changed, added or removed files are read, parsed in parallel).

#[allow(clippy::wildcard_imports)]
use super::*;

impl Index<'_> {
    /// Drops everything and re-reads every file.
    pub async fn rebuild(&self) -> Result<ReconcileReport, IndexError> {
        let mut tx = self.begin().await?;
        // Emptying tables row by row through the delete trigger costs more than the rebuild:
        // drop the trigger, empty everything, and let the schema script put the trigger back.
        sqlx::raw_sql(
            "DROP TRIGGER IF EXISTS issues_ad; \
             DELETE FROM meta; DELETE FROM files; DELETE FROM issue_labels; DELETE FROM issue_assignees; DELETE FROM issue_deps; \
             DELETE FROM issues; DELETE FROM milestones; DELETE FROM roadmaps; \
             INSERT INTO issues_fts(issues_fts) VALUES ('delete-all'); \
             INSERT INTO issues_tri(issues_tri) VALUES ('delete-all');",
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
            let parsed = parse_parallel(self.store, kind, chunk.to_vec()).await;
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
}

pub(crate) enum Parsed {
    Issue(ItemFile<Issue>),
    Milestone(ItemFile<Milestone>),
    Roadmap(ItemFile<Roadmap>),
    Bad(LoadError, FileStamp),
}

/// Parses files on blocking threads, one chunk per core.
pub(crate) async fn parse_parallel(
    store: &Store,
    kind: Kind,
    paths: Vec<PathBuf>,
) -> Vec<(PathBuf, Parsed)> {
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

pub(crate) fn parse_one(store: &Store, kind: Kind, path: &Path) -> Parsed {
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
