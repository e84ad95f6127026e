use std::path::{Path, PathBuf};

/// The kinds of item files the store holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Kind {
    /// `.roadmap/issues/<id>.md`
    Issue,
    /// `.roadmap/milestones/<id>.md`
    Milestone,
    /// `.roadmap/roadmaps/<id>.md`
    Roadmap,
}

impl Kind {
    /// The folder under `.roadmap/`.
    pub fn dir_name(self) -> &'static str {
        match self {
            Kind::Issue => "issues",
            Kind::Milestone => "milestones",
            Kind::Roadmap => "roadmaps",
        }
    }

    /// A singular noun for messages.
    pub fn noun(self) -> &'static str {
        match self {
            Kind::Issue => "issue",
            Kind::Milestone => "milestone",
            Kind::Roadmap => "roadmap",
        }
    }
}

/// Where everything lives under a project's root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    root: PathBuf,
}

/// What `init` writes into `.roadmap/.gitignore`: every derived path.
pub const GITIGNORE: &str = "# Derived data: rebuilt from the files, never committed.\n/index.db\n/index.db-*\n/cache/\n/lock\n/tmp/\n# Statistics of the last run: they change with every run.\n/sync/last-run.json\n# Where an interrupted full pull stands.\n/sync/pulling/\n";

impl Layout {
    /// The layout of the project at `project_root` (the folder that holds `.roadmap/`).
    pub fn new(project_root: impl Into<PathBuf>) -> Self {
        Layout {
            root: project_root.into().join(".roadmap"),
        }
    }

    /// `.roadmap/`
    pub fn dir(&self) -> &Path {
        &self.root
    }
    /// `.roadmap/config.toml`
    pub fn config(&self) -> PathBuf {
        self.root.join("config.toml")
    }
    /// The folder of one kind.
    pub fn kind_dir(&self, kind: Kind) -> PathBuf {
        self.root.join(kind.dir_name())
    }
    /// `.roadmap/comments/`: one file per issue with its GitHub comments.
    pub fn comments_dir(&self) -> PathBuf {
        self.root.join("comments")
    }
    /// `.roadmap/sync/`: sync state (watermarks, bases), text, committed.
    pub fn sync_dir(&self) -> PathBuf {
        self.root.join("sync")
    }
    /// `.roadmap/sync/base/<kind>/`: each synced item's file as last synced (text, committed;
    /// an unedited item's base is byte for byte its file, so git stores it once).
    pub fn base_dir(&self, kind: Kind) -> PathBuf {
        self.sync_dir().join("base").join(kind.dir_name())
    }
    /// `.roadmap/sync/conflicts/`: GitHub's version of each issue in conflict.
    pub fn conflicts_dir(&self) -> PathBuf {
        self.sync_dir().join("conflicts")
    }
    /// `.roadmap/sync/intents/`: creates begun and not yet recorded (exactly-once pushes).
    pub fn intents_dir(&self) -> PathBuf {
        self.sync_dir().join("intents")
    }
    /// `.roadmap/index.db` (ignored)
    pub fn index(&self) -> PathBuf {
        self.root.join("index.db")
    }
    /// `.roadmap/cache/` (ignored)
    pub fn cache_dir(&self) -> PathBuf {
        self.root.join("cache")
    }
    /// `.roadmap/lock` (ignored)
    pub fn lock(&self) -> PathBuf {
        self.root.join("lock")
    }
    /// `.roadmap/.gitignore`
    pub fn gitignore(&self) -> PathBuf {
        self.root.join(".gitignore")
    }
}
