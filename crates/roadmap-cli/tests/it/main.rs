//! The `roadmap` binary, run as a user would.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod embed;
mod local;
mod output;
mod report;
mod security;
mod sync;
mod terminal;
mod windows;
mod wire;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use roadmap_sim::{SimConfig, Simulator};

pub fn roadmap(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_roadmap"))
        .args(args)
        .current_dir(dir)
        .env("ROADMAP_CONFIG", dir.join("no-user-config.toml"))
        .env_remove("GITHUB_TOKEN")
        .env_remove("GH_TOKEN")
        .output()
        .expect("run roadmap")
}

pub fn ok(dir: &Path, args: &[&str]) -> String {
    let out = roadmap(dir, args);
    assert!(
        out.status.success(),
        "roadmap {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 stdout")
}

/// A simulator serving `config`, on a runtime of its own that the caller keeps alive.
pub fn simulator(config: SimConfig) -> (tokio::runtime::Runtime, Simulator) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let sim = rt.block_on(Simulator::start(config)).unwrap();
    (rt, sim)
}

/// `roadmap ARGS` in `dir` against `sim` with `token`, and no user config.
pub fn command(dir: &Path, sim: &Simulator, token: &str, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_roadmap"));
    c.args(args)
        .env("ROADMAP_API_URL", sim.url())
        .current_dir(dir)
        .env("ROADMAP_CONFIG", dir.join("none.toml"))
        .env("GITHUB_TOKEN", token)
        .env_remove("GH_TOKEN");
    c
}

/// Every file of the project meant to be shared (committed): all of `.roadmap/` but the
/// index, the cache, the lock, the run statistics and temporary files, by relative path.
/// `sync/state.json` comes without its watermarks: those of a full pull are the server's
/// time when it began, which differs from run to run.
pub fn shared_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let root = dir.join(".roadmap");
    let mut out = BTreeMap::new();
    let mut stack = vec![root.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let path = e.path();
            let rel = path.strip_prefix(&root).unwrap().display().to_string();
            if rel.starts_with("cache")
                || rel.starts_with("index.db")
                || rel == "sync/lock"
                || rel == "sync/last-run.json"
                || rel.contains(".tmp-")
            {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else if rel == "sync/state.json" {
                let mut v: serde_json::Value =
                    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
                v.as_object_mut().unwrap().remove("watermarks");
                out.insert(rel, v.to_string().into_bytes());
            } else {
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    out
}
