//! The file store: a project's issues, milestones and roadmaps as Markdown files with YAML
//! front matter under `.roadmap/`. The files are the source of truth; everything else (the
//! index, caches) is derived and lives in git-ignored paths.
//!
//! Invariants: every write is atomic (temp file in the same directory, fsync, rename) and
//! deterministic; an unchanged file round-trips byte for byte; a file's name is fixed for
//! the item's whole life (`<id>.md`); no write follows a symlink out of `.roadmap/`.
//! This crate never prints and never reads the environment.
//!
//! ```
//! use roadmap_model::{Issue, ItemId};
//! use roadmap_store::{ItemFile, Store};
//!
//! let dir = tempfile::tempdir()?;
//! let store = Store::init(dir.path(), "repo = \"octo/demo\"\n")?;
//! let mut issue = Issue::new(ItemId::new("1a2b3c4d")?, "Fix the login bug");
//! issue.body = "Fails on Safari.\r\nSee #3.".into(); // CRLF, no final newline: kept as is
//! let file = store.create(issue)?;
//! assert!(file.path.ends_with(".roadmap/issues/1a2b3c4d.md"));
//! let again: ItemFile<Issue> = store.get(&ItemId::new("1a2b3c4d")?)?;
//! assert_eq!(again.item().body, "Fails on Safari.\r\nSee #3.");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod frontmatter;
mod layout;
mod store;

pub use frontmatter::{Document, SyntaxError};
pub use layout::{Kind, Layout};
pub use store::{FileStamp, ItemFile, LoadError, MAX_FILE_BYTES, ScanReport, Store, StoreError};
