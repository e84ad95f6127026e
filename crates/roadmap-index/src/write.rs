//! Writes: rows for issues, milestones and roadmaps, in batched transactions.

#[allow(clippy::wildcard_imports)]
use super::*;

impl Index<'_> {
    /// Replaces the rows of `paths` with `good` issues (and `extra_files` rows for bad ones),
    /// with one statement per table; an issue whose id is taken (ignoring case) is recorded
    /// as a bad file.
    pub(crate) async fn bulk_issues(
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
            "INSERT OR IGNORE INTO issues(id, path, title, status, priority, priority_rank, milestone, estimate, progress, created, updated, closed, number, remote_state, labels, assignees, body) \
             SELECT v->>'id', v->>'path', v->>'title', v->>'status', v->>'priority', v->>'rank', v->>'milestone', v->>'estimate', v->>'progress', \
                    v->>'created', v->>'updated', v->>'closed', v->>'number', v->>'remote_state', v->>'labels', v->>'assignees', v->>'body' \
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
        sqlx::query(
            "INSERT OR IGNORE INTO issue_deps(issue, kind, target) \
             SELECT i.rowid, 0, trim(d.value) FROM json_each(?1) j JOIN issues i ON i.path = j.value->>'path', json_each(j.value->>'depends_on') d \
             WHERE trim(d.value) <> '' \
             UNION ALL \
             SELECT i.rowid, 1, trim(b.value) FROM json_each(?1) j JOIN issues i ON i.path = j.value->>'path', json_each(j.value->>'blocks') b \
             WHERE trim(b.value) <> '' \
             UNION ALL \
             SELECT i.rowid, 2, trim(j.value->>'parent') FROM json_each(?1) j JOIN issues i ON i.path = j.value->>'path' \
             WHERE trim(coalesce(j.value->>'parent', '')) <> ''",
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
}

pub(crate) fn issue_json(f: &ItemFile<Issue>) -> serde_json::Value {
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
        "closed": i.closed.map(|t| t.to_string()),
        "number": i.number(),
        "remote_state": i.remote.as_ref().and_then(|r| r.state.clone()),
        "labels": serde_json::to_string(&i.labels).unwrap_or_else(|_| "[]".into()),
        "assignees": serde_json::to_string(&i.assignees).unwrap_or_else(|_| "[]".into()),
        "depends_on": serde_json::to_string(&i.depends_on).unwrap_or_else(|_| "[]".into()),
        "blocks": serde_json::to_string(&i.blocks).unwrap_or_else(|_| "[]".into()),
        "parent": i.parent,
        "body": i.body,
    })
}

pub(crate) fn file_json(
    path: &str,
    kind: Kind,
    stamp: FileStamp,
    error: Option<String>,
) -> serde_json::Value {
    serde_json::json!({"path": path, "kind": kind.noun(), "mtime_ns": stamp.mtime_ns, "size": stamp.size, "error": error})
}

/// Files were written behind reconcile's back: the next one compares file by file.
pub(crate) async fn forget_signature(
    tx: &mut Transaction<'static, Sqlite>,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM meta WHERE key = 'signature'")
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub(crate) async fn delete_path(
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

pub(crate) async fn insert_milestone(
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

pub(crate) async fn insert_roadmap(
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

pub(crate) async fn upsert_file(
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
