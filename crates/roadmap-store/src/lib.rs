//! The file store: a project's issues, milestones and roadmaps as Markdown files with YAML
//! front matter under `.roadmap/`. The files are the source of truth; everything else (the
//! index, caches) is derived and lives in git-ignored paths.
//!
//! Invariants: every write is atomic (temp file in the same directory, fsync, rename) and
//! deterministic; an unchanged file round-trips byte for byte; a file's name is fixed for
//! the item's whole life (`<id>.md`); no write follows a symlink out of `.roadmap/`.
//! This crate never prints and never reads the environment.

pub mod frontmatter;
mod layout;
mod store;

pub use frontmatter::{Document, SyntaxError};
pub use layout::{Kind, Layout};
pub use store::{FileStamp, ItemFile, LoadError, MAX_FILE_BYTES, ScanReport, Store, StoreError};
