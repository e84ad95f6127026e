CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    mtime_ns INTEGER NOT NULL,
    size INTEGER NOT NULL,
    error TEXT
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS issues (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE COLLATE NOCASE,
    path TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    status TEXT NOT NULL,
    priority TEXT NOT NULL,
    priority_rank INTEGER NOT NULL,
    milestone TEXT,
    estimate REAL,
    progress INTEGER,
    created TEXT,
    updated TEXT,
    closed TEXT,
    number INTEGER,
    remote_state TEXT,
    labels TEXT NOT NULL,
    assignees TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS issues_status ON issues(status, priority_rank);
CREATE INDEX IF NOT EXISTS issues_priority ON issues(priority_rank);
CREATE INDEX IF NOT EXISTS issues_milestone ON issues(milestone);
CREATE INDEX IF NOT EXISTS issues_updated ON issues(updated);
CREATE INDEX IF NOT EXISTS issues_number ON issues(number);

CREATE TABLE IF NOT EXISTS issue_labels (
    label TEXT NOT NULL COLLATE NOCASE,
    issue INTEGER NOT NULL,
    PRIMARY KEY (label, issue)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS issue_labels_issue ON issue_labels(issue);

CREATE TABLE IF NOT EXISTS issue_assignees (
    login TEXT NOT NULL COLLATE NOCASE,
    issue INTEGER NOT NULL,
    PRIMARY KEY (login, issue)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS issue_assignees_issue ON issue_assignees(issue);

CREATE VIRTUAL TABLE IF NOT EXISTS issues_fts USING fts5(
    title, body, content='issues', content_rowid='rowid', tokenize='porter unicode61'
);
-- Words in scripts written without spaces (Chinese, Japanese, Korean) are one token to
-- unicode61: they are found as substrings, in trigrams.
CREATE VIRTUAL TABLE IF NOT EXISTS issues_tri USING fts5(
    title, body, content='issues', content_rowid='rowid', tokenize='trigram'
);
CREATE TRIGGER IF NOT EXISTS issues_ai AFTER INSERT ON issues BEGIN
    INSERT INTO issues_fts(rowid, title, body) VALUES (new.rowid, new.title, new.body);
    INSERT INTO issues_tri(rowid, title, body) VALUES (new.rowid, new.title, new.body);
END;
CREATE TRIGGER IF NOT EXISTS issues_ad AFTER DELETE ON issues BEGIN
    INSERT INTO issues_fts(issues_fts, rowid, title, body) VALUES ('delete', old.rowid, old.title, old.body);
    INSERT INTO issues_tri(issues_tri, rowid, title, body) VALUES ('delete', old.rowid, old.title, old.body);
    DELETE FROM issue_labels WHERE issue = old.rowid;
    DELETE FROM issue_assignees WHERE issue = old.rowid;
    DELETE FROM issue_deps WHERE issue = old.rowid;
END;

-- Relations as the files write them, by `kind`: 0, `issue` waits for `target`
-- (`depends_on`); 1, `target` waits for `issue` (`blocks`); 2, `issue` is part of `target`
-- (`parent`). A target is an id or a `#number`, resolved when read: it may name an issue
-- indexed later, or none at all.
CREATE TABLE IF NOT EXISTS issue_deps (
    issue INTEGER NOT NULL,
    kind INTEGER NOT NULL,
    target TEXT NOT NULL COLLATE NOCASE,
    PRIMARY KEY (issue, kind, target)
) WITHOUT ROWID;

-- Each reference resolved: `other` is the issue `target` names (NULL: none).
CREATE VIEW IF NOT EXISTS issue_refs(issue, field, target, other) AS
    SELECT d.issue, CASE d.kind WHEN 0 THEN 'depends_on' WHEN 1 THEN 'blocks' ELSE 'parent' END, d.target,
           coalesce(
               (SELECT t.rowid FROM issues t WHERE t.id = d.target),
               (SELECT t.rowid FROM issues t
                 WHERE d.target GLOB '#[0-9]*' AND substr(d.target, 2) NOT GLOB '*[^0-9]*'
                   AND t.number = CAST(substr(d.target, 2) AS INTEGER))
           )
    FROM issue_deps d;

-- Who waits for whom, from both fields: `waits_for` is NULL for a `depends_on` naming no
-- issue (`target` says what it named); a `blocks` naming no issue blocks nothing.
CREATE VIEW IF NOT EXISTS issue_edges(waiting, waits_for, target) AS
    SELECT issue, other, CASE WHEN other IS NULL THEN target END FROM issue_refs WHERE field = 'depends_on'
    UNION
    SELECT other, issue, NULL FROM issue_refs WHERE field = 'blocks' AND other IS NOT NULL;

CREATE TABLE IF NOT EXISTS milestones (
    id TEXT PRIMARY KEY COLLATE NOCASE,
    path TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    state TEXT NOT NULL,
    due TEXT,
    number INTEGER,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS milestones_title ON milestones(title);

CREATE TABLE IF NOT EXISTS roadmaps (
    id TEXT PRIMARY KEY COLLATE NOCASE,
    path TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    milestones TEXT NOT NULL,
    owner TEXT,
    body TEXT NOT NULL
);
