use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::UNIX_EPOCH;

use roadmap_model::{Issue, ItemId, Milestone, Roadmap};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::frontmatter::{Document, SyntaxError};
use crate::layout::{GITIGNORE, Kind, Layout};

/// A failure of the store as a whole (not of one file's content).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// No `.roadmap/` folder at the root.
    #[error("no roadmap project at {0} (no .roadmap/ folder there or above)")]
    NotAProject(PathBuf),
    /// Filesystem failure; the message names the path.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// A write would go through a symlink or leave `.roadmap/`.
    #[error("refusing to write {0}: it is a symlink or outside .roadmap/")]
    UnsafePath(PathBuf),
    /// A read would go through a symlink (a clone could point it anywhere).
    #[error("refusing to read {0}: it is a symlink, or inside a symlinked folder")]
    UnsafeRead(PathBuf),
    /// A file over the size any item file can have.
    #[error("refusing to read {path}: {size} bytes, over the {max}-byte limit of a roadmap file")]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size.
        size: u64,
        /// The limit.
        max: u64,
    },
    /// An item with this id already exists.
    #[error("{kind} {id} already exists at {path}")]
    Exists {
        /// Kind noun.
        kind: &'static str,
        /// The id.
        id: ItemId,
        /// Its file.
        path: PathBuf,
    },
    /// No item with this id or number.
    #[error("no {kind} `{key}`")]
    NotFound {
        /// Kind noun.
        kind: &'static str,
        /// What was looked up.
        key: String,
    },
    /// A file could not be read as an item.
    #[error(transparent)]
    Load(#[from] LoadError),
}

/// A file that could not be read as an item: names the path, line and column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{}: {}", path.display(), location(*line, *column), message)]
pub struct LoadError {
    /// The file.
    pub path: PathBuf,
    /// 1-based line, when known.
    pub line: Option<u64>,
    /// 1-based column, when known.
    pub column: Option<u64>,
    /// What is wrong.
    pub message: String,
}

fn location(line: Option<u64>, column: Option<u64>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(":{l}:{c}"),
        (Some(l), None) => format!(":{l}"),
        _ => String::new(),
    }
}

impl LoadError {
    fn new(path: &Path, e: SyntaxError) -> Self {
        LoadError {
            path: path.to_owned(),
            line: e.line,
            column: e.column,
            message: e.message,
        }
    }
    fn plain(path: &Path, message: impl Into<String>) -> Self {
        LoadError {
            path: path.to_owned(),
            line: None,
            column: None,
            message: message.into(),
        }
    }
}

/// What the filesystem says about a file, to tell whether it changed since last seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileStamp {
    /// Modification time, nanoseconds since the epoch.
    pub mtime_ns: i64,
    /// Size in bytes.
    pub size: u64,
}

impl FileStamp {
    fn of(meta: &std::fs::Metadata) -> Self {
        let mtime_ns = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos() as i64);
        FileStamp {
            mtime_ns,
            size: meta.len(),
        }
    }
}

/// A type stored as one file per item.
pub trait StoredItem: Serialize + DeserializeOwned + Clone {
    /// Its kind.
    const KIND: Kind;
    /// Its id (names the file).
    fn id(&self) -> &ItemId;
    /// Its Markdown body.
    fn body(&self) -> &str;
    /// Sets the body.
    fn set_body(&mut self, body: String);
    /// Checks values the types allow but the format does not, naming the key.
    fn validate(&self) -> Result<(), String> {
        Ok(())
    }
}

macro_rules! stored {
    ($t:ty, $k:expr $(, $validate:expr)?) => {
        impl StoredItem for $t {
            const KIND: Kind = $k;
            fn id(&self) -> &ItemId {
                &self.id
            }
            fn body(&self) -> &str {
                &self.body
            }
            fn set_body(&mut self, body: String) {
                self.body = body;
            }
            $(
                fn validate(&self) -> Result<(), String> {
                    #[allow(clippy::redundant_closure_call)]
                    ($validate)(self)
                }
            )?
        }
    };
}
stored!(Issue, Kind::Issue, |i: &Issue| {
    if let Some(p) = i.progress
        && p > 100
    {
        return Err(format!("`progress` must be 0 to 100, got {p}"));
    }
    if let Some(e) = i.estimate
        && !(e.is_finite() && e >= 0.0)
    {
        return Err(format!(
            "`estimate` must be a number of hours, 0 or more, got {e}"
        ));
    }
    Ok(())
});
stored!(Milestone, Kind::Milestone);
stored!(Roadmap, Kind::Roadmap);

/// An item read from its file, with what is needed to write it back exactly.
#[derive(Debug, Clone)]
pub struct ItemFile<T> {
    /// The file.
    pub path: PathBuf,
    /// Its stamp when read.
    pub stamp: FileStamp,
    doc: Document<T>,
}

impl<T: StoredItem> ItemFile<T> {
    /// The item (with its body).
    pub fn item(&self) -> &T {
        &self.doc.value
    }
    /// Mutable access to the item; `render` then writes only what changed.
    pub fn item_mut(&mut self) -> &mut T {
        &mut self.doc.value
    }
    /// The file's text as it would be written now.
    pub fn render(&self) -> String {
        let mut doc = self.doc.clone();
        doc.body = self.doc.value.body().to_owned();
        doc.render()
    }
    /// Parses a file's text.
    pub fn parse(path: &Path, text: &str, stamp: FileStamp) -> Result<Self, LoadError> {
        // Some editors start a UTF-8 file with a byte order mark: not part of the text.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut doc = Document::<T>::parse(text).map_err(|e| LoadError::new(path, e))?;
        if let Err(m) = doc.value.validate() {
            return Err(LoadError::plain(path, m));
        }
        let body = std::mem::take(&mut doc.body);
        doc.value.set_body(body.clone());
        doc.body = body;
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        if stem != doc.value.id().as_str() {
            return Err(LoadError::plain(
                path,
                format!(
                    "id `{}` does not match the file name `{stem}.md`",
                    doc.value.id()
                ),
            ));
        }
        Ok(ItemFile {
            path: path.to_owned(),
            stamp,
            doc,
        })
    }
}

/// What a scan of a folder found.
#[derive(Debug, Default)]
pub struct ScanReport<T> {
    /// Items read, sorted by file name.
    pub items: Vec<ItemFile<T>>,
    /// Files skipped, each with its reason.
    pub skipped: Vec<LoadError>,
}

/// Temp files of atomic writes are named `.tmp-<pid>-<random>`.
const TEMP_PREFIX: &str = ".tmp-";

/// The largest file the store reads (64 MiB): an issue body is at most 65,536 characters, so
/// no item or comments file comes near it; a bigger one is refused with a clear error rather
/// than read whole.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// A project's file store.
#[derive(Debug, Clone)]
pub struct Store {
    layout: Layout,
    /// Writes of re-derivable files skip their own flush; [`Store::flush`] flushes them all
    /// at once (see [`Store::deferring_flush`]).
    deferred: bool,
    /// Folders already checked (real folders inside `.roadmap/`, created if missing) by this
    /// store or a clone of it: each is checked once per process, not once per file. A
    /// symlink in a cloned project is there before the first write, so it is still caught.
    checked: Arc<Mutex<HashSet<PathBuf>>>,
}

impl Store {
    /// Opens the project at `root` (the folder holding `.roadmap/`).
    pub fn open(root: impl AsRef<Path>) -> Result<Self, StoreError> {
        let layout = Layout::new(root.as_ref());
        if !layout.dir().is_dir() {
            return Err(StoreError::NotAProject(root.as_ref().to_owned()));
        }
        Ok(Store {
            layout,
            deferred: false,
            checked: Arc::default(),
        })
    }

    /// Finds the project that holds `start` or one of its parents.
    pub fn discover(start: impl AsRef<Path>) -> Result<Self, StoreError> {
        let mut dir = Some(start.as_ref());
        while let Some(d) = dir {
            if d.join(".roadmap").is_dir() {
                return Store::open(d);
            }
            dir = d.parent();
        }
        Err(StoreError::NotAProject(start.as_ref().to_owned()))
    }

    /// Creates `.roadmap/` with its folders, `.gitignore` and `config` text (kept if present).
    pub fn init(root: impl AsRef<Path>, config: &str) -> Result<Self, StoreError> {
        let layout = Layout::new(root.as_ref());
        for kind in [Kind::Issue, Kind::Milestone, Kind::Roadmap] {
            fs_err::create_dir_all(layout.kind_dir(kind))?;
        }
        fs_err::create_dir_all(layout.comments_dir())?;
        let store = Store {
            layout,
            deferred: false,
            checked: Arc::default(),
        };
        if !store.layout.gitignore().exists() {
            store.write_atomic(&store.layout.gitignore(), GITIGNORE.as_bytes())?;
        }
        if !store.layout.config().exists() {
            store.write_atomic(&store.layout.config(), config.as_bytes())?;
        }
        Ok(store)
    }

    /// The layout.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The path of an item's file.
    pub fn path_of(&self, kind: Kind, id: &ItemId) -> PathBuf {
        self.layout.kind_dir(kind).join(format!("{id}.md"))
    }

    /// Every `*.md` file of a kind with its stamp, sorted by path. Only a stat per file.
    pub fn scan(&self, kind: Kind) -> Result<Vec<(PathBuf, FileStamp)>, StoreError> {
        let dir = self.layout.kind_dir(kind);
        let entries = match fs_err::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        let mut md = Vec::new();
        for entry in entries {
            let entry = entry?;
            if entry.path().extension().is_some_and(|e| e == "md") {
                md.push(entry);
            }
        }
        // A stat per file is most of a reconcile (measured: splitting it over threads did
        // not help on two cores; the kernel's dentry lookups contend).
        let mut out = Vec::with_capacity(md.len());
        for entry in &md {
            // Relative to the open folder: cheaper than a stat by full path.
            let meta = entry.metadata()?;
            if meta.is_file() {
                out.push((entry.path(), FileStamp::of(&meta)));
            }
        }
        // Byte order of the names (all in one folder): cheaper than comparing path components.
        out.sort_unstable_by(|a, b| a.0.as_os_str().cmp(b.0.as_os_str()));
        Ok(out)
    }

    /// Reads a file under `.roadmap/`: never through a symlink (the file itself, `.roadmap/`,
    /// or any folder between), never more than [`MAX_FILE_BYTES`]. A file outside `.roadmap/`
    /// is read with the size bound only.
    pub fn read_file(&self, path: &Path) -> Result<Vec<u8>, StoreError> {
        let root = self.layout.dir();
        if path.starts_with(root) {
            let mut cur = root.to_path_buf();
            let unsafe_read = || StoreError::UnsafeRead(path.to_owned());
            if std::fs::symlink_metadata(&cur).is_ok_and(|m| m.file_type().is_symlink()) {
                return Err(unsafe_read());
            }
            for comp in path
                .strip_prefix(root)
                .unwrap_or(Path::new(""))
                .components()
            {
                cur.push(comp);
                if std::fs::symlink_metadata(&cur).is_ok_and(|m| m.file_type().is_symlink()) {
                    return Err(unsafe_read());
                }
            }
        }
        let file = fs_err::File::open(path)?;
        let size = file.metadata()?.len();
        if size > MAX_FILE_BYTES {
            return Err(StoreError::TooLarge {
                path: path.to_owned(),
                size,
                max: MAX_FILE_BYTES,
            });
        }
        let mut bytes = Vec::with_capacity(size as usize);
        std::io::Read::read_to_end(
            &mut std::io::Read::take(file, MAX_FILE_BYTES + 1),
            &mut bytes,
        )?;
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(StoreError::TooLarge {
                path: path.to_owned(),
                size: bytes.len() as u64,
                max: MAX_FILE_BYTES,
            });
        }
        Ok(bytes)
    }

    /// Reads one file.
    pub fn load<T: StoredItem>(&self, path: &Path) -> Result<ItemFile<T>, LoadError> {
        let bytes = self
            .read_file(path)
            .map_err(|e| LoadError::plain(path, format!("cannot read: {e}")))?;
        let meta = std::fs::metadata(path)
            .map_err(|e| LoadError::plain(path, format!("cannot stat: {e}")))?;
        let text = String::from_utf8(bytes).map_err(|e| {
            LoadError::plain(
                path,
                format!(
                    "not UTF-8 (invalid byte at offset {})",
                    e.utf8_error().valid_up_to()
                ),
            )
        })?;
        ItemFile::parse(path, &text, FileStamp::of(&meta))
    }

    /// Reads an item by id.
    pub fn get<T: StoredItem>(&self, id: &ItemId) -> Result<ItemFile<T>, StoreError> {
        let path = self.path_of(T::KIND, id);
        if !path.exists() {
            return Err(StoreError::NotFound {
                kind: T::KIND.noun(),
                key: id.to_string(),
            });
        }
        Ok(self.load(&path)?)
    }

    /// Reads every file of a kind; bad files are reported and skipped, and so is every file
    /// claiming an id already taken (the id must match the file name, so only a case-folding
    /// filesystem can produce this).
    pub fn load_all<T: StoredItem>(&self) -> Result<ScanReport<T>, StoreError> {
        let mut report = ScanReport {
            items: Vec::new(),
            skipped: Vec::new(),
        };
        let mut seen: HashMap<String, PathBuf> = HashMap::new();
        // Symlinked files are never read, and said so (a clone could point one anywhere).
        if let Ok(entries) = std::fs::read_dir(self.layout.kind_dir(T::KIND)) {
            for e in entries.flatten() {
                if e.path().extension().is_some_and(|x| x == "md")
                    && e.file_type().is_ok_and(|t| t.is_symlink())
                {
                    report.skipped.push(LoadError::plain(
                        &e.path(),
                        "a symlink: not read (item files must be real files)",
                    ));
                }
            }
        }
        for (path, _) in self.scan(T::KIND)? {
            match self.load::<T>(&path) {
                Ok(file) => {
                    let key = file.item().id().as_str().to_ascii_lowercase();
                    if let Some(first) = seen.get(&key) {
                        report.skipped.push(LoadError::plain(
                            &path,
                            format!(
                                "duplicate id `{}` (also in {})",
                                file.item().id(),
                                first.display()
                            ),
                        ));
                    } else {
                        seen.insert(key, path.clone());
                        report.items.push(file);
                    }
                }
                Err(e) => report.skipped.push(e),
            }
        }
        Ok(report)
    }

    /// Creates the file of a new item; fails if one with its id exists.
    pub fn create<T: StoredItem>(&self, item: T) -> Result<ItemFile<T>, StoreError> {
        Ok(self.create_with_text(item)?.0)
    }

    fn create_with_text<T: StoredItem>(
        &self,
        item: T,
    ) -> Result<(ItemFile<T>, String), StoreError> {
        let path = self.path_of(T::KIND, item.id());
        // A symlink is refused by the write below; anything else there is an item.
        if std::fs::symlink_metadata(&path).is_ok_and(|m| !m.file_type().is_symlink()) {
            return Err(StoreError::Exists {
                kind: T::KIND.noun(),
                id: item.id().clone(),
                path,
            });
        }
        let body = item.body().to_owned();
        let mut file = ItemFile {
            path: path.clone(),
            stamp: FileStamp {
                mtime_ns: 0,
                size: 0,
            },
            doc: Document::new(item, body),
        };
        let text = file.render();
        file.stamp = self.write_atomic(&path, text.as_bytes())?;
        Ok((file, text))
    }

    /// Writes an item back if its text changed; returns whether it wrote.
    pub fn save<T: StoredItem>(&self, file: &mut ItemFile<T>) -> Result<bool, StoreError> {
        let text = file.render();
        let current = std::fs::read(&file.path).ok();
        if current.as_deref() == Some(text.as_bytes()) {
            return Ok(false);
        }
        file.stamp = self.write_atomic(&file.path, text.as_bytes())?;
        // Later renders compare against what is now on disk.
        if let Ok(doc) = Document::<T>::parse(&text) {
            file.doc = doc;
            file.doc.value.set_body(file.doc.body.clone());
        }
        Ok(true)
    }

    /// The path of an item's sync base: the text of its file as last synced.
    pub fn base_path(&self, kind: Kind, id: &ItemId) -> PathBuf {
        self.layout.base_dir(kind).join(format!("{id}.md"))
    }

    /// Reads an item's sync base, if it has one that parses.
    pub fn read_base<T: StoredItem>(&self, id: &ItemId) -> Option<ItemFile<T>> {
        self.load(&self.base_path(T::KIND, id)).ok()
    }

    /// Like [`Store::create`], and records the file's text as its sync base.
    pub fn create_synced<T: StoredItem>(&self, item: T) -> Result<ItemFile<T>, StoreError> {
        let (file, text) = self.create_with_text(item)?;
        self.write_base(&file, &text)?;
        Ok(file)
    }

    /// Like [`Store::save`], and records the file's text as its sync base (also when the file
    /// itself was already current but had no base).
    pub fn save_synced<T: StoredItem>(&self, file: &mut ItemFile<T>) -> Result<bool, StoreError> {
        let text = file.render();
        let base = self.base_path(T::KIND, file.item().id());
        let current = std::fs::read(&file.path).ok();
        if current.as_deref() == Some(text.as_bytes()) {
            if !base.exists() {
                self.write_base(file, &text)?;
            }
            return Ok(false);
        }
        file.stamp = self.write_atomic(&file.path, text.as_bytes())?;
        self.write_base(file, &text)?;
        if let Ok(doc) = Document::<T>::parse(&text) {
            file.doc = doc;
            file.doc.value.set_body(file.doc.body.clone());
        }
        Ok(true)
    }

    /// Records `text` as the sync base of `file`'s item. A base is a copy that can be rebuilt
    /// (its fingerprint is checked against the file's `remote.hash` before use), so it is
    /// written atomically but without waiting for the disk.
    pub fn write_base<T: StoredItem>(
        &self,
        file: &ItemFile<T>,
        text: &str,
    ) -> Result<(), StoreError> {
        let path = self.base_path(T::KIND, file.item().id());
        self.write_replace(&path, text.as_bytes(), false)?;
        Ok(())
    }

    /// The same store, for writing many files that can be rebuilt from elsewhere (a pull's
    /// copies of GitHub's issues): each write stays atomic (temp file, then rename) but does
    /// not wait for the disk; the caller calls [`Store::flush`] once per batch, before it
    /// records the batch as done. After a power loss before that flush, a file may be left
    /// empty: readers take an empty item file for a missing one. Files that hold local work
    /// must be written through a store that does not defer.
    pub fn deferring_flush(&self) -> Store {
        Store {
            layout: self.layout.clone(),
            deferred: cfg!(unix),
            checked: self.checked.clone(),
        }
    }

    /// Flushes what this store's deferred writes left in memory to the disk: one `syncfs` of
    /// the file system on Linux, a `sync` elsewhere on Unix.
    pub fn flush(&self) -> Result<(), StoreError> {
        if !self.deferred {
            return Ok(());
        }
        #[cfg(target_os = "linux")]
        {
            let dir = std::fs::File::open(self.layout.dir())?;
            rustix::fs::syncfs(&dir).map_err(|e| StoreError::Io(e.into()))?;
        }
        #[cfg(all(unix, not(target_os = "linux")))]
        rustix::fs::sync();
        Ok(())
    }

    /// Writes `bytes` to `path` (inside `.roadmap/`) atomically: a temp file in the same folder,
    /// flushed to disk, then renamed over the target. Refuses symlinks.
    pub fn write_atomic(&self, path: &Path, bytes: &[u8]) -> Result<FileStamp, StoreError> {
        self.write_replace(path, bytes, true)
    }

    fn write_replace(
        &self,
        path: &Path,
        bytes: &[u8],
        durable: bool,
    ) -> Result<FileStamp, StoreError> {
        let dir = path
            .parent()
            .ok_or_else(|| StoreError::UnsafePath(path.to_owned()))?;
        self.prepare_dir(dir, path)?;
        if let Ok(meta) = std::fs::symlink_metadata(path)
            && meta.file_type().is_symlink()
        {
            return Err(StoreError::UnsafePath(path.to_owned()));
        }
        let prefix = format!("{TEMP_PREFIX}{}-", std::process::id());
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix);
        // Files follow the user's umask, as git's do (a temp file alone would be 0600).
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
        let mut tmp = builder.tempfile_in(dir).map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("creating a temp file in {}: {e}", dir.display()),
            )
        })?;
        tmp.write_all(bytes)?;
        if durable && !self.deferred {
            tmp.as_file().sync_data()?;
        }
        let file = tmp.persist(path).map_err(|e| {
            std::io::Error::new(
                e.error.kind(),
                format!("renaming into {}: {}", path.display(), e.error),
            )
        })?;
        Ok(FileStamp::of(&file.metadata()?))
    }

    /// Removes the temp files that writers killed mid-write left behind (`.tmp-<pid>-*` whose
    /// process is gone; on systems without `/proc`, those older than an hour). Returns how many.
    pub fn sweep_temp(&self) -> usize {
        fn walk(dir: &Path, out: &mut usize) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for e in entries.flatten() {
                let Ok(ft) = e.file_type() else { continue };
                let name = e.file_name();
                let name = name.to_string_lossy();
                if ft.is_dir() {
                    if name != "cache" {
                        walk(&e.path(), out);
                    }
                } else if ft.is_file()
                    && let Some(rest) = name.strip_prefix(TEMP_PREFIX)
                    && abandoned(rest, &e)
                    && std::fs::remove_file(e.path()).is_ok()
                {
                    *out += 1;
                }
            }
        }
        fn abandoned(rest: &str, e: &std::fs::DirEntry) -> bool {
            let pid = rest.split('-').next().and_then(|p| p.parse::<u32>().ok());
            let proc_fs = Path::new("/proc/self").exists();
            match pid {
                Some(pid) if proc_fs => {
                    pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists()
                }
                _ => e
                    .metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|age| age > std::time::Duration::from_secs(3600)),
            }
        }
        let mut n = 0;
        walk(self.layout.dir(), &mut n);
        n
    }

    /// Removes a file inside `.roadmap/` (never through a symlinked folder).
    pub fn remove(&self, path: &Path) -> Result<(), StoreError> {
        if let Some(dir) = path.parent() {
            self.check_inside(dir, path)?;
        }
        fs_err::remove_file(path)?;
        Ok(())
    }

    /// Checks that `dir` is a real folder inside `.roadmap/` and creates it if missing, once
    /// per store (see `checked`).
    fn prepare_dir(&self, dir: &Path, path: &Path) -> Result<(), StoreError> {
        let checked = || self.checked.lock().unwrap_or_else(|e| e.into_inner());
        if checked().contains(dir) {
            return Ok(());
        }
        self.check_inside(dir, path)?;
        fs_err::create_dir_all(dir)?;
        checked().insert(dir.to_owned());
        Ok(())
    }

    fn check_inside(&self, dir: &Path, path: &Path) -> Result<(), StoreError> {
        let root = self.layout.dir();
        if !dir.starts_with(root)
            || std::fs::symlink_metadata(root).is_ok_and(|m| m.file_type().is_symlink())
        {
            return Err(StoreError::UnsafePath(path.to_owned()));
        }
        // Each existing folder between `.roadmap/` and the target must be a real folder.
        let mut cur = root.to_path_buf();
        for comp in dir.strip_prefix(root).unwrap_or(Path::new("")).components() {
            cur.push(comp);
            match std::fs::symlink_metadata(&cur) {
                Ok(m) if m.file_type().is_symlink() => {
                    return Err(StoreError::UnsafePath(path.to_owned()));
                }
                _ => {}
            }
        }
        Ok(())
    }
}
