//! Repository tasks: `cargo xtask gen-tree DIR [--issues N] [--milestones M]`,
//! `cargo xtask bench [--quick]`.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod bench;
mod gen_tree;
mod plot;
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
        _ => bail!("usage: cargo xtask <gen-tree DIR|bench [--quick]>"),
    }
}
