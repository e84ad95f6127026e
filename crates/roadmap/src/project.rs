//! [`Project`]: a `.roadmap/` folder with its settings, and everything a program does with it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use roadmap_cache::{Cache, CacheOptions};
use roadmap_github::GitHub;
use roadmap_index::{Index, IssueQuery, IssueRow, SearchHit};
use roadmap_model::{Issue, ItemId, Milestone, Roadmap, Timestamp, Tracker};
use roadmap_store::{ItemFile, Kind, Store};
use roadmap_sync::comments::CommentsError;
use roadmap_sync::conflicts::Conflict;
use roadmap_sync::merge::Side;
use roadmap_sync::{Events, LastRun, PullOptions, PullReport, PushOptions, SyncReport, SyncState};
use secrecy::SecretString;

use crate::config::{Config, Settings, Source};
use crate::edit::{IssueEdit, MilestoneEdit};
use crate::host::Host;
use crate::{Error, Result};

/// The memory bound of the HTTP cache a project's client uses: a pull reads each page once
/// per run (the disk layer carries ETags between runs), so a small memory layer keeps peak
/// memory flat however big the repository is.
pub const CACHE_MEMORY_BYTES: u64 = 4 << 20;

/// What a pull reads. The default reads everything, comments as the settings say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullSpec {
    /// Issues.
    pub issues: bool,
    /// Milestones.
    pub milestones: bool,
    /// Labels.
    pub labels: bool,
    /// Comments (with the issues): `None` takes the `comments` setting.
    pub comments: Option<bool>,
    /// List everything and look for deleted or transferred issues.
    pub full: bool,
    /// Report what would change; write nothing.
    pub dry_run: bool,
}

impl Default for PullSpec {
    fn default() -> Self {
        PullSpec {
            issues: true,
            milestones: true,
            labels: true,
            comments: None,
            full: false,
            dry_run: false,
        }
    }
}

/// Where a project stands: its sync state and what waits to be pushed.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ProjectStatus {
    /// The repository, when configured.
    pub repo: Option<String>,
    /// Watermarks by resource.
    pub watermarks: Vec<(String, Timestamp)>,
    /// The last pull.
    pub last_run: Option<LastRun>,
    /// Local issues never pushed.
    pub new_issues: usize,
    /// Pushed issues edited here since.
    pub edited_issues: usize,
    /// Files that do not parse, each with its reason.
    pub unreadable: Vec<String>,
    /// Issues in conflict.
    pub conflicts: Vec<Conflict>,
}

/// A roadmap project: the `.roadmap/` folder (files are the source of truth), its settings,
/// and the operations on both.
#[derive(Debug)]
pub struct Project {
    store: Store,
    config: Config,
}

impl Project {
    /// Creates `.roadmap/` under `root`, recording `repo` in its `config.toml`.
    pub fn init(root: impl AsRef<Path>, repo: Option<&crate::Repo>) -> Result<Project> {
        let mut config = String::from("# roadmap project settings; see `roadmap config show`.\n");
        if let Some(r) = repo {
            config.push_str(&format!("repo = {}\n", toml::Value::String(r.to_string())));
        }
        let store = Store::init(root, &config)?;
        Project::with_store(store, Config::defaults())
    }

    /// Opens the project whose `.roadmap/` is under `root`, with the built-in defaults under
    /// its `config.toml`.
    pub fn open(root: impl AsRef<Path>) -> Result<Project> {
        Project::open_with(root, Config::defaults())
    }

    /// [`Project::open`] with the caller's layers (user file, environment, flags) in `config`.
    pub fn open_with(root: impl AsRef<Path>, config: Config) -> Result<Project> {
        Project::with_store(Store::open(root)?, config)
    }

    /// Opens the nearest project at or above `start`. A `.roadmap/` found this way must
    /// belong to the user running the program (as git checks since CVE-2022-24765): another
    /// user's folder could hold files made to mislead. The trusted `safe_directories` setting
    /// (paths, or `*`) lets one through on purpose.
    pub fn discover_with(start: impl AsRef<Path>, config: Config) -> Result<Project> {
        let store = Store::discover(start)?;
        check_owner(store.layout().dir(), &config)?;
        Project::with_store(store, config)
    }

    fn with_store(store: Store, mut config: Config) -> Result<Project> {
        config.layer_file(&store.layout().dir().join("config.toml"), Source::Project)?;
        Ok(Project { store, config })
    }

    /// The file store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The `.roadmap/` folder.
    pub fn dir(&self) -> &Path {
        self.store.layout().dir()
    }

    /// The layered configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The layered configuration, to set values (as [`Source::Flag`] for a program's own).
    pub fn config_mut(&mut self) -> &mut Config {
        &mut self.config
    }

    /// Sets a value as the program's own (above every file and the environment), checked like
    /// a file's: `project.configure("api_url", "https://ghe.example/api/v3")`.
    pub fn configure(&mut self, key: &str, value: &str) -> Result<()> {
        Ok(self.config.set(key, value, Source::Flag)?)
    }

    /// The typed settings.
    pub fn settings(&self) -> Result<Settings> {
        Ok(self.config.settings()?)
    }

    /// The API host, and whether it may have the user's token.
    pub fn host(&self) -> Result<Host> {
        Ok(Host::of(&self.config)?)
    }

    /// The HTTP cache the project's client uses (`.roadmap/cache/`).
    pub fn cache(&self) -> Cache {
        Cache::new(Some(self.store.layout().cache_dir()), cache_options())
    }

    /// A GitHub client for the configured repository and API, paced, cached and sized as the
    /// settings say. A token for a host the user did not name (see [`Host`]) is not sent.
    pub fn github(&self, token: Option<SecretString>) -> Result<GitHub> {
        self.client(token, None)
    }

    /// [`Project::github`] with another number of parallel requests.
    pub fn github_with_workers(
        &self,
        token: Option<SecretString>,
        workers: usize,
    ) -> Result<GitHub> {
        self.client(token, Some(workers))
    }

    fn client(&self, token: Option<SecretString>, workers: Option<usize>) -> Result<GitHub> {
        let s = self.settings()?;
        let repo = s.repo()?;
        let host = self.host()?;
        let token = match token {
            Some(_) if !host.may_have_token() => {
                tracing::warn!(
                    "no token is sent to {}: only the project's config.toml names that host",
                    host.name
                );
                None
            }
            t => t,
        };
        let dir = self.store.layout().cache_dir();
        for x in [self.dir(), dir.as_path()] {
            if std::fs::symlink_metadata(x).is_ok_and(|m| m.file_type().is_symlink()) {
                return Err(Error::Symlink(x.to_owned()));
            }
        }
        let cache = Arc::new(Cache::new(Some(dir), cache_options()));
        Ok(GitHub::builder(&repo.owner, &repo.name)
            .api_url(&s.api_url)
            .token(token)
            .workers(workers.unwrap_or(s.workers))
            .write_spacing(s.write_spacing)
            .points_per_minute(s.points_per_minute)
            .cache(Some(cache))
            .build()?)
    }

    /// Opens the index (reconciled with the files; [`Index::opened`] tells what that did).
    pub async fn index(&self) -> Result<Index<'_>> {
        Ok(Index::open(&self.store).await?)
    }

    /// The roadmap report as of `today`, read from the index: render it with
    /// [`Report::html`](roadmap_report::Report::html) or
    /// [`Report::markdown`](roadmap_report::Report::markdown). Its heading is the repository
    /// (`owner/name`), or the project's folder when none is set.
    pub async fn report(&self, today: chrono::NaiveDate) -> Result<roadmap_report::Report> {
        let title = match self.settings()?.repo {
            Some(repo) => repo.to_string(),
            None => self.dir().parent().and_then(Path::file_name).map_or_else(
                || "roadmap".to_owned(),
                |n| n.to_string_lossy().into_owned(),
            ),
        };
        let index = self.index().await?;
        let report = roadmap_report::Report::load(&index, title, today).await;
        index.close().await;
        Ok(report?)
    }

    /// The index, or `None` when SQLite cannot be used at all (queries then scan the files).
    pub async fn index_or_scan(&self) -> Option<Index<'_>> {
        match Index::open(&self.store).await {
            Ok(index) => {
                let report = index.opened();
                if let Some(reason) = &report.rebuild_reason
                    && reason != "requested"
                    && report.updated > 0
                {
                    tracing::info!("index rebuilt: {reason}");
                }
                for s in &report.skipped {
                    tracing::warn!("skipped {s}");
                }
                Some(index)
            }
            Err(e) => {
                tracing::warn!("the index cannot be used ({e}); reading the files instead");
                None
            }
        }
    }

    fn pull_options(&self, spec: &PullSpec) -> Result<PullOptions> {
        let s = self.settings()?;
        Ok(PullOptions {
            issues: spec.issues,
            milestones: spec.milestones,
            labels: spec.labels,
            comments: spec.comments.unwrap_or(s.comments) && spec.issues,
            full: spec.full,
            workers: s.workers,
            batch_size: s.batch_size,
            dry_run: spec.dry_run,
            mapping: s.mapping,
        })
    }

    fn push_options(&self, dry_run: bool) -> Result<PushOptions> {
        let s = self.settings()?;
        Ok(PushOptions {
            dry_run,
            mapping: s.mapping,
            label_color: s.label_color,
        })
    }

    /// Checks that `tracker` serves this project's repository, then opens the index.
    async fn index_for(&self, tracker: &dyn Tracker) -> Result<Index<'_>> {
        let project = self.settings()?.repo()?.to_string();
        if !project.eq_ignore_ascii_case(tracker.full_name()) {
            return Err(Error::OtherRepository {
                project,
                tracker: tracker.full_name().to_owned(),
            });
        }
        self.index().await
    }

    /// Pulls from `tracker` into the files and the index.
    pub async fn pull(
        &self,
        tracker: &dyn Tracker,
        spec: &PullSpec,
        events: Events<'_>,
    ) -> Result<PullReport> {
        let opts = self.pull_options(spec)?;
        let index = self.index_for(tracker).await?;
        let report = roadmap_sync::pull(tracker, &index, &opts, events).await;
        index.close().await;
        Ok(report?)
    }

    /// Pushes local changes, after bringing issues, milestones and labels up to date (the
    /// report's `pull`).
    pub async fn push(
        &self,
        tracker: &dyn Tracker,
        dry_run: bool,
        events: Events<'_>,
    ) -> Result<SyncReport> {
        let opts = self.push_options(dry_run)?;
        let index = self.index_for(tracker).await?;
        let report = roadmap_sync::push(tracker, &index, &opts, events).await;
        index.close().await;
        Ok(report?)
    }

    /// Pulls and merges, then pushes.
    pub async fn sync(
        &self,
        tracker: &dyn Tracker,
        spec: &PullSpec,
        events: Events<'_>,
    ) -> Result<SyncReport> {
        let pull = self.pull_options(spec)?;
        let push = self.push_options(spec.dry_run)?;
        let index = self.index_for(tracker).await?;
        let report = roadmap_sync::sync(tracker, &index, &pull, &push, events).await;
        index.close().await;
        Ok(report?)
    }

    /// Watermarks, the last run, what waits to be pushed, conflicts.
    pub fn status(&self) -> Result<ProjectStatus> {
        let repo = self.config.get("repo").map(str::to_owned);
        let state = SyncState::load(&self.store, repo.as_deref().unwrap_or_default())?;
        let issues = self.store.load_all::<Issue>()?;
        let new_issues = issues
            .items
            .iter()
            .filter(|f| f.item().remote.is_none())
            .count();
        let edited_issues = issues
            .items
            .iter()
            .filter(|f| f.item().remote.is_some() && roadmap_sync::map::locally_edited(f.item()))
            .count();
        Ok(ProjectStatus {
            repo,
            watermarks: state.watermarks.into_iter().collect(),
            last_run: state.last_run,
            new_issues,
            edited_issues,
            unreadable: issues.skipped.iter().map(ToString::to_string).collect(),
            conflicts: self.conflicts()?,
        })
    }

    /// Issues matching `query`, from the index (or a scan of the files when the index cannot
    /// be used).
    pub async fn issues(&self, query: &IssueQuery) -> Result<Vec<IssueRow>> {
        match self.index_or_scan().await {
            Some(index) => {
                let rows = roadmap_index::collect_rows(index.list_issues(query)).await;
                index.close().await;
                Ok(rows?)
            }
            None => {
                let (found, skipped) = roadmap_index::scan_issues(&self.store, query)?;
                for s in skipped {
                    tracing::warn!("skipped {s}");
                }
                Ok(found)
            }
        }
    }

    /// Full-text search over titles and bodies (a scan when the index cannot be used).
    pub async fn search(&self, text: &str, limit: u64) -> Result<Vec<SearchHit>> {
        match self.index_or_scan().await {
            Some(index) => {
                let hits = index.search(text, limit).await;
                index.close().await;
                Ok(hits?)
            }
            None => {
                let q = IssueQuery {
                    text: Some(text.to_owned()),
                    limit: Some(limit),
                    ..IssueQuery::default()
                };
                Ok(roadmap_index::scan_issues(&self.store, &q)?
                    .0
                    .into_iter()
                    .map(|row| SearchHit {
                        row,
                        snippet: String::new(),
                    })
                    .collect())
            }
        }
    }

    /// The issue `key` names: its id, `#NUMBER` on GitHub, or the start of its id (at least
    /// two characters, matching one issue only).
    pub async fn find_issue(&self, key: &str) -> Result<ItemFile<Issue>> {
        let store = &self.store;
        if let Ok(id) = ItemId::new(key) {
            let path = store.path_of(Kind::Issue, &id);
            if path.exists() {
                return Ok(store.load(&path)?);
            }
        }
        match self.index_or_scan().await {
            Some(index) => {
                let found = index.find_issue(key).await;
                index.close().await;
                if let Some(path) = found? {
                    return Ok(store.load(&path)?);
                }
            }
            None => {
                if let Ok(n) = key.trim_start_matches('#').parse::<u64>() {
                    for f in store.load_all::<Issue>()?.items {
                        if f.item().number() == Some(n) {
                            return Ok(f);
                        }
                    }
                }
            }
        }
        if !key.starts_with('#') && key.len() >= 2 {
            let mut matches: Vec<String> = store
                .scan(Kind::Issue)?
                .into_iter()
                .filter_map(|(p, _)| p.file_stem().and_then(|s| s.to_str()).map(str::to_owned))
                .filter(|s| s.starts_with(key))
                .collect();
            matches.sort();
            match matches.len() {
                0 => {}
                1 => {
                    return Ok(store.load(&store.path_of(Kind::Issue, &ItemId::new(&matches[0])?))?);
                }
                _ => {
                    return Err(Error::Ambiguous {
                        key: key.to_owned(),
                        candidates: matches,
                    });
                }
            }
        }
        Err(Error::NotFound {
            kind: "issue",
            key: key.to_owned(),
        })
    }

    /// Creates a local issue (pushed to GitHub by the next push). What GitHub would refuse is
    /// refused here, and a milestone must exist unless the edit asks to create it.
    pub fn create_issue(&self, title: &str, edit: &IssueEdit) -> Result<ItemFile<Issue>> {
        let now = now();
        let mut issue = Issue::new(self.new_id(Kind::Issue), title);
        issue.created = Some(now);
        let edit = self.resolve_milestone(edit)?;
        edit.apply(&mut issue, now).map_err(|p| Error::Invalid {
            what: "the issue".into(),
            problems: vec![p],
        })?;
        check_issue(&issue)?;
        Ok(self.store.create(issue)?)
    }

    /// Edits the issue `key` names (see [`Project::find_issue`]).
    pub async fn edit_issue(&self, key: &str, edit: &IssueEdit) -> Result<ItemFile<Issue>> {
        let mut file = self.find_issue(key).await?;
        let edit = self.resolve_milestone(edit)?;
        edit.apply(file.item_mut(), now())
            .map_err(|p| Error::Invalid {
                what: format!("issue {}", file.item().id),
                problems: vec![p],
            })?;
        check_issue(file.item())?;
        self.store.save(&mut file)?;
        Ok(file)
    }

    /// Replaces an issue's file with `text` (an edit made by hand, say in an editor on a
    /// copy), only if it parses, names the same issue and holds nothing GitHub would refuse;
    /// otherwise the file is left as it was and the error says why. Returns the new file.
    pub fn replace_issue_text(
        &self,
        file: &ItemFile<Issue>,
        text: &str,
    ) -> Result<ItemFile<Issue>> {
        let stamp = roadmap_store::FileStamp {
            mtime_ns: 0,
            size: text.len() as u64,
        };
        let parsed = ItemFile::<Issue>::parse(&file.path, text, stamp)?;
        if parsed.item().id != file.item().id {
            return Err(Error::Invalid {
                what: format!("issue {}", file.item().id),
                problems: vec![format!(
                    "cannot change its id (to `{}`): the file name is the id",
                    parsed.item().id
                )],
            });
        }
        if roadmap_sync::conflicts::title_has_markers(&parsed.item().title)
            || parsed.item().body.contains("<<<<<<< ")
        {
            return Err(Error::Invalid {
                what: format!("issue {}", file.item().id),
                problems: vec!["holds conflict markers (<<<<<<< … >>>>>>>)".into()],
            });
        }
        check_issue(parsed.item())?;
        self.store.write_atomic(&file.path, text.as_bytes())?;
        Ok(self.store.load(&file.path)?)
    }

    /// Adds a comment to the issue `key` names; the next push posts it. Returns the issue's
    /// id and its comments file.
    pub async fn comment(&self, key: &str, body: &str) -> Result<(ItemId, PathBuf)> {
        let file = self.find_issue(key).await?;
        let id = file.item().id.clone();
        let path = roadmap_sync::comments::add(&self.store, &id, body).map_err(|e| match e {
            CommentsError::Invalid(problem) => Error::Invalid {
                what: format!("the comment on issue {id}"),
                problems: vec![problem],
            },
            e => Error::Comments(e),
        })?;
        Ok((id, path))
    }

    /// Issues edited on both sides on the same field.
    pub fn conflicts(&self) -> Result<Vec<Conflict>> {
        Ok(roadmap_sync::conflicts::list(&self.store)?)
    }

    /// The id of the issue in conflict `key` names (its id, or `#NUMBER`).
    pub fn conflict_id(&self, key: &str) -> Result<String> {
        match key.strip_prefix('#').and_then(|n| n.parse::<u64>().ok()) {
            Some(n) => self
                .conflicts()?
                .into_iter()
                .find(|c| c.number == Some(n))
                .map(|c| c.id)
                .ok_or_else(|| Error::NotFound {
                    kind: "issue in conflict",
                    key: key.to_owned(),
                }),
            None => Ok(key.to_owned()),
        }
    }

    /// Resolves a conflict by taking one side for every conflicting field; returns the file.
    pub fn resolve_conflict(&self, key: &str, side: Side) -> Result<PathBuf> {
        let id = self.conflict_id(key)?;
        Ok(roadmap_sync::conflicts::resolve(&self.store, &id, side)?)
    }

    /// The milestone `key` names: its id, its title or `#NUMBER`.
    pub fn find_milestone(&self, key: &str) -> Result<ItemFile<Milestone>> {
        if let Ok(id) = ItemId::new(key) {
            let p = self.store.path_of(Kind::Milestone, &id);
            if p.exists() {
                return Ok(self.store.load(&p)?);
            }
        }
        self.store
            .load_all::<Milestone>()?
            .items
            .into_iter()
            .find(|f| {
                f.item().title == key
                    || f.item()
                        .remote
                        .as_ref()
                        .is_some_and(|r| format!("#{}", r.number) == key)
            })
            .ok_or_else(|| Error::NotFound {
                kind: "milestone",
                key: key.to_owned(),
            })
    }

    /// Creates a local milestone.
    pub fn create_milestone(
        &self,
        title: &str,
        due: Option<Timestamp>,
        description: Option<&str>,
    ) -> Result<ItemFile<Milestone>> {
        let title = title.trim();
        if title.is_empty() {
            return Err(Error::Invalid {
                what: "the milestone".into(),
                problems: vec!["has an empty title".into()],
            });
        }
        let mut m = Milestone::new(self.new_id(Kind::Milestone), title);
        m.due = due;
        m.created = Some(now());
        m.body = description.map(|d| format!("{d}\n")).unwrap_or_default();
        Ok(self.store.create(m)?)
    }

    /// Edits the milestone `key` names. A new title is carried to the issues that name the
    /// old one (issues name their milestone by title). Returns the file and how many issues
    /// were moved.
    pub fn edit_milestone(
        &self,
        key: &str,
        edit: &MilestoneEdit,
    ) -> Result<(ItemFile<Milestone>, usize)> {
        let mut f = self.find_milestone(key)?;
        let old = f.item().title.clone();
        if let Some(t) = &edit.title {
            let t = t.trim();
            if t.is_empty() {
                return Err(Error::Invalid {
                    what: format!("milestone {}", f.item().id),
                    problems: vec!["has an empty title".into()],
                });
            }
            if t != old
                && self
                    .store
                    .load_all::<Milestone>()?
                    .items
                    .iter()
                    .any(|m| m.item().title == t)
            {
                return Err(Error::Exists(format!("a milestone titled `{t}`")));
            }
            f.item_mut().title = t.to_owned();
        }
        if let Some(d) = edit.due {
            f.item_mut().due = d;
        }
        if let Some(d) = &edit.description {
            f.item_mut().body = if d.is_empty() {
                String::new()
            } else {
                format!("{d}\n")
            };
        }
        if let Some(s) = edit.state {
            f.item_mut().state = s;
        }
        f.item_mut().updated = Some(now());
        let new = f.item().title.clone();
        self.store.save(&mut f)?;
        let mut moved = 0;
        if new != old {
            for mut i in self.store.load_all::<Issue>()?.items {
                if i.item().milestone.as_deref() == Some(old.as_str()) {
                    i.item_mut().milestone = Some(new.clone());
                    self.store.save(&mut i)?;
                    moved += 1;
                }
            }
        }
        Ok((f, moved))
    }

    /// Creates a roadmap from milestones (each by id or title, in order).
    pub fn create_roadmap(
        &self,
        title: &str,
        milestones: &[String],
        owner: Option<&str>,
    ) -> Result<ItemFile<Roadmap>> {
        for m in milestones {
            self.find_milestone(m)?;
        }
        Ok(self.store.create(Roadmap {
            id: self.new_id(Kind::Roadmap),
            title: title.to_owned(),
            milestones: milestones.to_vec(),
            owner: owner.map(str::to_owned),
            created: Some(now()),
            body: String::new(),
        })?)
    }

    /// A fresh random id for a new item of `kind` (from the OS-seeded thread generator:
    /// two clones creating issues at the same moment do not pick the same id).
    fn new_id(&self, kind: Kind) -> ItemId {
        loop {
            let id = ItemId::from_entropy(rand::random());
            if !self.store.path_of(kind, &id).exists() {
                return id;
            }
        }
    }

    /// The edit with its milestone named by title; a name that matches no milestone is
    /// refused (with the nearest title) unless the edit asks to create it, so that a typo
    /// never makes a milestone on GitHub.
    fn resolve_milestone(&self, edit: &IssueEdit) -> Result<IssueEdit> {
        let mut edit = edit.clone();
        let Some(Some(name)) = edit.milestone.clone().filter(|m| m.as_deref() != Some("")) else {
            return Ok(edit);
        };
        if let Ok(found) = self.find_milestone(&name) {
            edit.milestone = Some(Some(found.item().title.clone()));
            return Ok(edit);
        }
        if edit.create_milestone {
            let file = self.create_milestone(&name, None, None)?;
            tracing::info!("created milestone {}", file.item().id);
            return Ok(edit);
        }
        let nearest = self
            .store
            .load_all::<Milestone>()?
            .items
            .iter()
            .map(|m| m.item().title.clone())
            .map(|t| {
                (
                    strsim::normalized_damerau_levenshtein(&t.to_lowercase(), &name.to_lowercase()),
                    t,
                )
            })
            .filter(|(score, _)| *score >= 0.5)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, t)| t);
        Err(Error::UnknownMilestone { name, nearest })
    }
}

fn cache_options() -> CacheOptions {
    CacheOptions {
        max_memory: CACHE_MEMORY_BYTES,
        ..CacheOptions::default()
    }
}

/// What GitHub would refuse (an empty or over-long title, an over-long body, a bad label
/// name) is refused before it is written, rather than at every push.
fn check_issue(issue: &Issue) -> Result<()> {
    let problems = roadmap_sync::validate::issue_problems(issue);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::Invalid {
            what: "the issue".into(),
            problems,
        })
    }
}

fn now() -> Timestamp {
    let t = chrono::Utc::now();
    Timestamp::from_unix(t.timestamp()).unwrap_or(Timestamp(t))
}

fn check_owner(dir: &Path, config: &Config) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let (Ok(me), Ok(meta)) = (std::fs::metadata("/proc/self"), std::fs::metadata(dir)) else {
            return Ok(());
        };
        if meta.uid() == me.uid() {
            return Ok(());
        }
        let project = dir.parent().unwrap_or(dir);
        let allowed = config
            .get_trusted("safe_directories")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .any(|a| a == "*" || Path::new(a) == project);
        if !allowed {
            return Err(Error::NotOwner {
                project: project.to_owned(),
                owner: meta.uid(),
                user: me.uid(),
            });
        }
    }
    Ok(())
}
