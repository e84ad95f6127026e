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
mod security;
mod sync;
mod terminal;
mod windows;
mod wire;

use std::path::Path;
use std::process::{Command, Output};

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
