//! `roadmap-sim serve`: the GitHub API simulator as a process, for scripts and manual use.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};
use roadmap_sim::{Faults, Latency, Limits, PageStyle, RepoSpec, SimConfig, Simulator, Wire};

#[derive(Debug, Parser)]
#[command(name = "roadmap-sim", version, about = "A GitHub REST API simulator")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Serve a generated repository until interrupted.
    Serve(Serve),
}

#[derive(Debug, clap::Args)]
struct Serve {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Write the chosen port here once listening.
    #[arg(long)]
    port_file: Option<PathBuf>,
    /// Repository owner.
    #[arg(long, default_value = "octo")]
    owner: String,
    /// Repository name.
    #[arg(long, default_value = "demo")]
    repo: String,
    /// Issues.
    #[arg(long, default_value_t = 100)]
    issues: u64,
    /// Pull requests (interleaved in the issue list).
    #[arg(long, default_value_t = 0)]
    prs: u64,
    /// Milestones.
    #[arg(long, default_value_t = 5)]
    milestones: u64,
    /// Labels.
    #[arg(long, default_value_t = 10)]
    labels: u64,
    /// Comments per issue.
    #[arg(long, default_value_t = 0)]
    comments: u64,
    /// Base latency per request, ms.
    #[arg(long, default_value_t = 100)]
    latency_ms: u64,
    /// Extra latency per returned item, ms.
    #[arg(long, default_value_t = 3)]
    per_item_ms: u64,
    /// Generator seed (also seeds faults).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Fraction of requests that fail (0-1).
    #[arg(long, default_value_t = 0.0)]
    fault_rate: f64,
    /// Fault kinds: 500,502,503,reset,truncate,stall.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "500,502,503,reset,truncate"
    )]
    fault_kinds: Vec<String>,
    /// Primary rate limit per token per hour.
    #[arg(long, default_value_t = 5000)]
    rate_limit: u64,
    /// How the issue listing pages: `cursor` (github.com today) or `page` (numbered with
    /// `last`: GitHub Enterprise Server and older hosts).
    #[arg(long, default_value = "cursor", value_parser = ["cursor", "page"])]
    pagination: String,
    /// Every listing (comments, milestones, labels too) pages this way.
    #[arg(long)]
    all_listings: bool,
    /// Repeat `Link` on 304 answers (not established for github.com; off by default).
    #[arg(long)]
    link_on_304: bool,
    /// Play GitHub Enterprise Server with its defaults: numbered pages, rate limiting off.
    #[arg(long)]
    enterprise_server: bool,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let Cmd::Serve(s) = Cli::parse().cmd;
    let mut spec = RepoSpec::new(&s.owner, &s.repo);
    spec.issues = s.issues;
    spec.prs = s.prs;
    spec.milestones = s.milestones;
    spec.labels = s.labels;
    spec.comments = s.comments;
    spec.seed = s.seed;
    let mut kinds = Vec::new();
    for k in &s.fault_kinds {
        match roadmap_sim::FaultKind::parse(k) {
            Some(k) => kinds.push(k),
            None => {
                eprintln!(
                    "error: unknown fault kind `{k}` (500, 502, 503, reset, truncate, stall)"
                );
                std::process::exit(2);
            }
        }
    }
    let config = SimConfig::default()
        .repo(spec)
        .latency(Latency {
            base: Duration::from_millis(s.latency_ms),
            per_item: Duration::from_millis(s.per_item_ms),
            jitter: Duration::ZERO,
        })
        .limits(Limits {
            primary: s.rate_limit,
            ..Limits::default()
        })
        .faults(Faults {
            rate: s.fault_rate,
            kinds,
            seed: s.seed,
            ..Faults::default()
        });
    let style = PageStyle::parse(&s.pagination).unwrap_or(PageStyle::Cursor);
    let mut wire = if s.enterprise_server {
        Wire::enterprise_server()
    } else {
        Wire::github()
    };
    if !s.enterprise_server {
        wire.issues = style;
    }
    if s.all_listings {
        wire.comments = style;
        wire.milestones = style;
        wire.labels = style;
    }
    wire.link_on_304 = s.link_on_304;
    let config = SimConfig {
        port: s.port,
        ..config.wire(wire)
    };
    let sim = Simulator::start(config).await?;
    if let Some(p) = &s.port_file {
        let tmp = p.with_extension("tmp");
        std::fs::write(&tmp, sim.addr().port().to_string())?;
        std::fs::rename(&tmp, p)?;
    }
    println!(
        "serving {}/{} at {} (Ctrl-C to stop)",
        s.owner,
        s.repo,
        sim.url()
    );
    tokio::signal::ctrl_c().await?;
    sim.shutdown().await;
    Ok(())
}
