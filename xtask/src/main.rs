//! Repository tasks: `cargo xtask gen-tree DIR [--issues N] [--milestones M]`,
//! `cargo xtask bench [--quick]`, `cargo xtask bench-relations [--quick]` (one section of
//! the benchmarks, printed), `cargo xtask reliability [--quick]`.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod bench;
mod gen_tree;
mod plot;
mod reliability;
#[cfg(test)]
mod tidy;

use anyhow::{Context, Result, bail};

fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("gen-tree") => {
            let dir = args
                .get(1)
                .context("usage: cargo xtask gen-tree DIR [--issues N] [--milestones M]")?;
            let issues = flag(&args, "--issues").map_or(Ok(10_000), |v| v.parse())?;
            let milestones = flag(&args, "--milestones").map_or(Ok(100), |v| v.parse())?;
            gen_tree::generate(std::path::Path::new(dir), issues, milestones)?;
            println!("generated {issues} issues and {milestones} milestones in {dir}");
            Ok(())
        }
        Some("bench") => bench::run(args.iter().any(|a| a == "--quick")),
        Some("bench-relations") => {
            bench::build()?;
            let mut md = String::new();
            bench::relations_bench(&mut md, args.iter().any(|a| a == "--quick"))?;
            print!("{md}");
            Ok(())
        }
        Some("reliability") => reliability::run(args.iter().any(|a| a == "--quick")),
        _ => bail!(
            "usage: cargo xtask <gen-tree DIR|bench [--quick]|bench-relations [--quick]|reliability [--quick]>"
        ),
    }
}

/// The workspace root.
pub(crate) fn bench_root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Cores, memory, commit and date, for report headers.
pub(crate) fn bench_machine() -> String {
    bench::machine()
}
