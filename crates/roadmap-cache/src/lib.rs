//! A two-level byte cache: an in-memory layer with a TTL and a size bound over a persistent
//! layer on disk with a versioned layout (`<dir>/v1/ab/abcdef…`).
//!
//! Invariants: this crate knows nothing of HTTP or GitHub; keys and values are opaque. A
//! corrupt, truncated or old-version entry is a miss, never an error. Disk writes are atomic
//! (temp file + rename). Keys are stored hashed on disk (they may embed a token fingerprint).
//!
//! ```
//! use roadmap_cache::{Cache, CacheOptions};
//!
//! let dir = tempfile::tempdir()?;
//! let cache = Cache::new(Some(dir.path().to_owned()), CacheOptions::default());
//! cache.put("GET /repos/octo/demo/issues", b"[]".to_vec());
//! assert_eq!(cache.get("GET /repos/octo/demo/issues").as_deref(), Some(&b"[]".to_vec()));
//! // A second process (a new cache over the same folder) finds it on disk.
//! let again = Cache::new(Some(dir.path().to_owned()), CacheOptions::default());
//! assert!(again.get("GET /repos/octo/demo/issues").is_some());
//! # Ok::<(), std::io::Error>(())
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use dashmap::DashMap;
use sha2::{Digest, Sha256};

/// The on-disk layout version; entries under other versions are never read.
pub const LAYOUT: &str = "v1";
const MAGIC: &[u8] = b"roadmap-cache-v1\n";

/// Settings of a cache.
#[derive(Debug, Clone)]
pub struct CacheOptions {
    /// How long an entry stays in memory (default 5 minutes, seed 000's TTL).
    pub ttl: Duration,
    /// Memory bound in bytes (default 64 MiB); past it the oldest entries are evicted.
    pub max_memory: u64,
}

impl Default for CacheOptions {
    fn default() -> Self {
        CacheOptions {
            ttl: Duration::from_secs(300),
            max_memory: 64 << 20,
        }
    }
}

/// Counters, for `roadmap cache stats` and sync reports.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct CacheStats {
    /// Gets answered from memory.
    pub memory_hits: u64,
    /// Gets answered from disk.
    pub disk_hits: u64,
    /// Gets that found nothing usable.
    pub misses: u64,
    /// Entries in memory.
    pub memory_entries: u64,
    /// Bytes in memory.
    pub memory_bytes: u64,
    /// Entries on disk.
    pub disk_entries: u64,
    /// Bytes on disk.
    pub disk_bytes: u64,
}

/// A cache failure that callers may want to report (only `clear` and `stats` return one).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CacheError {
    /// The cache folder could not be read or emptied.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

#[derive(Debug)]
struct Entry {
    at: Instant,
    value: Arc<Vec<u8>>,
}

/// A two-level cache. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct Cache {
    mem: DashMap<String, Entry>,
    mem_bytes: AtomicU64,
    dir: Option<PathBuf>,
    opts: CacheOptions,
    memory_hits: AtomicU64,
    disk_hits: AtomicU64,
    misses: AtomicU64,
}

fn digest(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

impl Cache {
    /// A cache persisted under `dir` (e.g. `.roadmap/cache/`), or memory-only with `None`.
    pub fn new(dir: Option<PathBuf>, opts: CacheOptions) -> Self {
        Cache {
            mem: DashMap::new(),
            mem_bytes: AtomicU64::new(0),
            dir,
            opts,
            memory_hits: AtomicU64::new(0),
            disk_hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    fn path(&self, key: &str) -> Option<PathBuf> {
        let h = digest(key);
        Some(self.dir.as_ref()?.join(LAYOUT).join(&h[..2]).join(h))
    }

    /// The value under `key`: from memory if fresh, else from disk; `None` on a miss or an
    /// unreadable entry.
    pub fn get(&self, key: &str) -> Option<Arc<Vec<u8>>> {
        if let Some(e) = self.mem.get(key)
            && e.at.elapsed() < self.opts.ttl
        {
            self.memory_hits.fetch_add(1, Ordering::Relaxed);
            return Some(e.value.clone());
        }
        match self.path(key).and_then(|p| read_entry(&p, key)) {
            Some(v) => {
                self.disk_hits.fetch_add(1, Ordering::Relaxed);
                let v = Arc::new(v);
                self.remember(key, v.clone());
                Some(v)
            }
            None => {
                self.misses.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }

    /// Stores `value` under `key` in memory and on disk. A failed disk write is ignored: the
    /// next run simply misses.
    pub fn put(&self, key: &str, value: Vec<u8>) {
        if let Some(p) = self.path(key) {
            let _ = write_entry(&p, key, &value);
        }
        self.remember(key, Arc::new(value));
    }

    fn remember(&self, key: &str, value: Arc<Vec<u8>>) {
        let len = value.len() as u64;
        if len > self.opts.max_memory {
            return;
        }
        if let Some(old) = self.mem.insert(
            key.to_owned(),
            Entry {
                at: Instant::now(),
                value,
            },
        ) {
            self.mem_bytes
                .fetch_sub(old.value.len() as u64, Ordering::Relaxed);
        }
        let total = self.mem_bytes.fetch_add(len, Ordering::Relaxed) + len;
        if total > self.opts.max_memory {
            self.evict();
        }
    }

    /// Drops expired entries, then the oldest ones, until under the memory bound.
    fn evict(&self) {
        let ttl = self.opts.ttl;
        self.mem.retain(|_, e| {
            let keep = e.at.elapsed() < ttl;
            if !keep {
                self.mem_bytes
                    .fetch_sub(e.value.len() as u64, Ordering::Relaxed);
            }
            keep
        });
        if self.mem_bytes.load(Ordering::Relaxed) <= self.opts.max_memory {
            return;
        }
        let mut ages: Vec<(Instant, String)> =
            self.mem.iter().map(|e| (e.at, e.key().clone())).collect();
        ages.sort();
        for (_, k) in ages {
            if self.mem_bytes.load(Ordering::Relaxed) <= self.opts.max_memory * 3 / 4 {
                break;
            }
            if let Some((_, e)) = self.mem.remove(&k) {
                self.mem_bytes
                    .fetch_sub(e.value.len() as u64, Ordering::Relaxed);
            }
        }
    }

    /// Counters and sizes (walks the disk layer).
    pub fn stats(&self) -> CacheStats {
        let (disk_entries, disk_bytes) =
            self.dir.as_ref().map_or((0, 0), |d| walk(&d.join(LAYOUT)));
        CacheStats {
            memory_hits: self.memory_hits.load(Ordering::Relaxed),
            disk_hits: self.disk_hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            memory_entries: self.mem.len() as u64,
            memory_bytes: self.mem_bytes.load(Ordering::Relaxed),
            disk_entries,
            disk_bytes,
        }
    }

    /// Empties both layers (every layout version on disk); returns the entries removed.
    pub fn clear(&self) -> Result<u64, CacheError> {
        self.mem.clear();
        self.mem_bytes.store(0, Ordering::Relaxed);
        let Some(dir) = &self.dir else { return Ok(0) };
        let (n, _) = walk(dir);
        match fs_err::remove_dir_all(dir) {
            Ok(()) => Ok(n),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
            Err(e) => Err(e.into()),
        }
    }
}

fn walk(dir: &Path) -> (u64, u64) {
    let mut n = 0;
    let mut bytes = 0;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return (0, 0);
    };
    for e in entries.flatten() {
        match e.file_type() {
            Ok(t) if t.is_dir() => {
                let (a, b) = walk(&e.path());
                n += a;
                bytes += b;
            }
            Ok(t) if t.is_file() => {
                n += 1;
                bytes += e.metadata().map_or(0, |m| m.len());
            }
            _ => {}
        }
    }
    (n, bytes)
}

/// Entry file: MAGIC, key length (8 bytes LE), key, value length (8 bytes LE), value.
fn read_entry(path: &Path, key: &str) -> Option<Vec<u8>> {
    let data = std::fs::read(path).ok()?;
    let rest = data.strip_prefix(MAGIC)?;
    let (klen, rest) = split_len(rest)?;
    if rest.len() < klen || &rest[..klen] != key.as_bytes() {
        return None;
    }
    let (vlen, rest) = split_len(&rest[klen..])?;
    (rest.len() == vlen).then(|| rest.to_vec())
}

fn split_len(b: &[u8]) -> Option<(usize, &[u8])> {
    let (n, rest) = b.split_at_checked(8)?;
    Some((u64::from_le_bytes(n.try_into().ok()?) as usize, rest))
}

fn write_entry(path: &Path, key: &str, value: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| std::io::Error::other("no parent"))?;
    fs_err::create_dir_all(dir)?;
    let mut buf = Vec::with_capacity(MAGIC.len() + 16 + key.len() + value.len());
    buf.extend_from_slice(MAGIC);
    buf.extend_from_slice(&(key.len() as u64).to_le_bytes());
    buf.extend_from_slice(key.as_bytes());
    buf.extend_from_slice(&(value.len() as u64).to_le_bytes());
    buf.extend_from_slice(value);
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut tmp, &buf)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_then_disk_then_miss() {
        let dir = tempfile::tempdir().unwrap();
        let c = Cache::new(Some(dir.path().to_owned()), CacheOptions::default());
        assert!(c.get("k").is_none());
        c.put("k", b"value".to_vec());
        assert_eq!(c.get("k").unwrap().as_slice(), b"value");
        // A new process: only the disk layer.
        let c2 = Cache::new(Some(dir.path().to_owned()), CacheOptions::default());
        assert_eq!(c2.get("k").unwrap().as_slice(), b"value");
        let s = c2.stats();
        assert_eq!((s.disk_hits, s.memory_hits, s.disk_entries), (1, 0, 1));
        assert_eq!(c.stats().misses, 1);
    }

    #[test]
    fn corrupt_truncated_and_old_entries_are_misses() {
        let dir = tempfile::tempdir().unwrap();
        let c = Cache::new(Some(dir.path().to_owned()), CacheOptions::default());
        c.put("k", b"value".to_vec());
        let p = c.path("k").unwrap();
        let fresh = || Cache::new(Some(dir.path().to_owned()), CacheOptions::default());
        let full = std::fs::read(&p).unwrap();
        std::fs::write(&p, &full[..full.len() - 2]).unwrap();
        assert!(fresh().get("k").is_none(), "truncated");
        std::fs::write(&p, b"garbage").unwrap();
        assert!(fresh().get("k").is_none(), "corrupt");
        let mut old = full.clone();
        old[14] = b'0';
        std::fs::write(&p, old).unwrap();
        assert!(fresh().get("k").is_none(), "old magic");
        // Entries of another layout version are never looked at.
        let other = dir.path().join("v0");
        std::fs::create_dir_all(&other).unwrap();
        assert!(fresh().get("x").is_none());
        assert!(fresh().clear().unwrap() >= 1);
        assert!(!dir.path().exists());
    }

    #[test]
    fn ttl_and_size_bound_the_memory_layer() {
        let c = Cache::new(
            None,
            CacheOptions {
                ttl: Duration::from_millis(0),
                max_memory: 1 << 20,
            },
        );
        c.put("a", vec![1; 10]);
        assert!(
            c.get("a").is_none(),
            "expired immediately, and no disk layer"
        );
        let c = Cache::new(
            None,
            CacheOptions {
                ttl: Duration::from_secs(60),
                max_memory: 100,
            },
        );
        for i in 0..10 {
            c.put(&format!("k{i}"), vec![0; 30]);
        }
        assert!(c.stats().memory_bytes <= 100);
        assert!(c.get("k9").is_some(), "the newest survives");
    }
}
