//! `roadmap`: GitHub issues as Markdown files, indexed in SQLite, synced both ways.
//!
//! This binary is thin: it parses arguments, loads configuration, finds the token, calls the
//! library crates and renders what they return. Only here are the environment read, output
//! printed and exit codes chosen: 0 ok, 1 failure, 2 usage, 3 a partial sync, 4 stopped by a
//! rate limit (see `sync::exit`).

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod auth;
#[cfg(feature = "demo")]
mod demo;
mod deps;
mod json;
mod local;
mod render;
mod report;
mod sync;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use roadmap::config::{Config, ConfigError, Source};
use roadmap::{Project, Repo};

#[derive(Debug, Parser)]
#[command(
    name = "roadmap",
    version,
    about = "GitHub issues as Markdown files, indexed and synced",
    after_help = "Examples:\n  roadmap init && roadmap sync pull      # GITHUB_TOKEN or `gh auth login` for the token\n  roadmap issue list --status open --assignee alice\n  roadmap issue create 'Fix the login crash' -p high && roadmap sync\n\nExit codes: 0 done; 1 failed (one line on stderr says why and what to do); 2 usage;\n3 a sync partly done (the report lists what failed); 4 stopped by a rate limit (run again\nafter the time printed)."
)]
struct Cli {
    /// Project folder (default: the current folder or the nearest parent holding .roadmap/).
    #[arg(long, short = 'C', global = true)]
    dir: Option<PathBuf>,
    /// More detail: every API figure in sync reports, and info logs (-vv: debug logs).
    #[arg(long, short, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// Print nothing but errors (no progress, no report).
    #[arg(long, short, global = true, conflicts_with = "verbose")]
    quiet: bool,
    #[command(subcommand)]
    cmd: Cmd,
}

// Parsed once per process: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum Cmd {
    /// Create .roadmap/ in the project folder.
    #[command(
        after_help = "Examples:\n  roadmap init                      # the repository from the git remote origin\n  roadmap init --repo octo/app"
    )]
    Init {
        /// GitHub repository OWNER/NAME to record in the config (default: the git remote
        /// `origin`, when it is on github.com).
        #[arg(long)]
        repo: Option<String>,
    },
    /// Create, list, show and edit issues.
    #[command(subcommand)]
    #[command(
        after_help = "Examples:\n  roadmap issue create 'Fix the login crash' -p high -l bug\n  roadmap issue list --status open --assignee alice"
    )]
    Issue(IssueCmd),
    /// Create, list and follow milestones.
    #[command(subcommand)]
    #[command(
        after_help = "Examples:\n  roadmap milestone create v1.0 --due 2027-03-31\n  roadmap milestone status"
    )]
    Milestone(MilestoneCmd),
    /// Group milestones into roadmaps.
    #[command(subcommand)]
    #[command(
        after_help = "Examples:\n  roadmap roadmap create 2027 -m v1.0 -m v1.1\n  roadmap roadmap show 1a2b3c4d"
    )]
    Roadmap(RoadmapCmd),
    /// Open issues ready to work on: not marked blocked, every dependency done.
    #[command(
        after_help = "Examples:\n  roadmap ready\n  roadmap ready --assignee alice -m v1.0\n  roadmap ready -n 10 --json"
    )]
    Ready {
        /// Assigned to this login.
        #[arg(long, short)]
        assignee: Option<String>,
        /// In this milestone (title).
        #[arg(long, short)]
        milestone: Option<String>,
        /// Has this label; repeatable (all must match).
        #[arg(long, short)]
        label: Vec<String>,
        /// At most this many, most urgent first.
        #[arg(short = 'n', long)]
        limit: Option<u64>,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Open issues waiting for something, with what each waits for.
    #[command(after_help = "Examples:\n  roadmap blocked\n  roadmap blocked --json")]
    Blocked {
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Check the dependencies: cycles and references to no issue (exit code 1 when any).
    #[command(after_help = "Examples:\n  roadmap check\n  roadmap check --json   # in CI")]
    Check {
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Sub-issue trees with progress: under one issue, or every issue with sub-issues.
    #[command(after_help = "Examples:\n  roadmap tree\n  roadmap tree '#12' --json")]
    Tree {
        /// Id or #NUMBER of the top issue (default: every tree).
        id: Option<String>,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Draw the roadmap: milestones on a timeline, the dependency graph of open work with its
    /// critical path, sub-issue trees and a burn-up per milestone; one self-contained HTML
    /// file, or Markdown with Mermaid diagrams that GitHub draws.
    #[command(
        after_help = "Examples:\n  roadmap report                           # roadmap-report.html beside .roadmap/\n  roadmap report --format markdown -o ROADMAP.md\n  roadmap report --format markdown -o -    # to standard output"
    )]
    Report {
        /// What to write.
        #[arg(long, value_enum, default_value_t = report::Format::Html)]
        format: report::Format,
        /// Where to write it (`-`: standard output). Default: roadmap-report.html (.md for
        /// Markdown) in the folder that holds .roadmap/.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Full-text search over issue titles and bodies.
    #[command(
        after_help = "Examples:\n  roadmap search 'login crash'\n  roadmap search safari -n 5 --json"
    )]
    Search {
        /// Words to find.
        query: String,
        /// At most this many hits.
        #[arg(long, short = 'n', default_value_t = 20)]
        limit: u64,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Maintain the SQLite index.
    #[command(subcommand)]
    #[command(after_help = "Examples:\n  roadmap index check\n  roadmap index rebuild")]
    Index(IndexCmd),
    /// Read and change configuration.
    #[command(subcommand)]
    #[command(
        after_help = "Examples:\n  roadmap config show\n  roadmap config set workers 16\n  roadmap config set --user allowed_hosts ghe.example.com"
    )]
    Config(ConfigCmd),
    /// Keep the index in step with the files as they change.
    #[command(
        after_help = "Example:\n  roadmap watch          # keeps the index current while you edit .roadmap/ by hand"
    )]
    Watch,
    /// Sync with GitHub: with no subcommand, pull and merge, then push local changes.
    #[command(
        after_help = "Examples:\n  roadmap sync                      # pull, merge, push\n  roadmap sync --dry-run            # what a sync would send\n  roadmap sync pull --full"
    )]
    Sync(SyncArgs),
    /// List and resolve issues edited on both sides on the same field.
    #[command(subcommand)]
    #[command(
        after_help = "Examples:\n  roadmap conflicts list\n  roadmap conflicts resolve '#12' --theirs"
    )]
    Conflicts(ConflictsCmd),
    /// Check what a sync needs: token, rate limit, latency, cache and index health.
    #[command(
        after_help = "Examples:\n  roadmap doctor\n  roadmap doctor --api-url https://ghe.example.com/api/v3"
    )]
    Doctor {
        #[command(flatten)]
        remote: sync::Remote,
    },
    /// Show or empty the HTTP cache.
    #[command(subcommand)]
    #[command(after_help = "Examples:\n  roadmap cache stats\n  roadmap cache clear")]
    Cache(CacheCmd),
    /// Print a shell completion script.
    #[command(
        after_help = "Examples:\n  roadmap completions bash > ~/.local/share/bash-completion/completions/roadmap\n  roadmap completions zsh > ~/.zfunc/_roadmap\n  roadmap completions fish > ~/.config/fish/completions/roadmap.fish"
    )]
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff).
    #[command(
        after_help = "Example:\n  roadmap man > ~/.local/share/man/man1/roadmap.1 && man roadmap"
    )]
    Man,
    /// Run the demo: a simulated GitHub, a pull, an incremental and a no-change pull, queries.
    #[cfg(feature = "demo")]
    #[command(
        after_help = "Examples:\n  roadmap demo\n  roadmap demo --keep ./demo-project --issues 500"
    )]
    Demo {
        /// Keep the demo project in this folder to explore afterwards (default: a temporary
        /// folder, removed at the end).
        #[arg(long = "keep", value_name = "DIR")]
        dir: Option<PathBuf>,
        /// Issues in the simulated repository.
        #[arg(long, default_value_t = 2000)]
        issues: u64,
    },
}

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
struct SyncArgs {
    #[command(subcommand)]
    cmd: Option<SyncCmd>,
    #[command(flatten)]
    args: sync::PullArgs,
}

#[derive(Debug, Subcommand)]
enum SyncCmd {
    /// Pull issues, milestones, labels and comments from GitHub.
    #[command(
        after_help = "Examples:\n  roadmap sync pull\n  roadmap sync pull --full --workers 16\n  roadmap sync pull --issues --no-comments --json"
    )]
    Pull(sync::PullArgs),
    /// Push local changes (after bringing issues, milestones and labels up to date).
    #[command(
        after_help = "Examples:\n  roadmap sync push --dry-run        # the requests it would send\n  roadmap sync push"
    )]
    Push(sync::PullArgs),
    /// Watermarks, last run and pending conflicts.
    #[command(after_help = "Example:\n  roadmap sync status")]
    Status,
}

#[derive(Debug, Subcommand)]
enum ConflictsCmd {
    /// Issues in conflict, with each conflicting field's two sides.
    #[command(after_help = "Examples:\n  roadmap conflicts list\n  roadmap conflicts list --json")]
    List {
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Resolve one: keep ours, take theirs, or edit the merged file by hand.
    #[command(
        after_help = "Examples:\n  roadmap conflicts resolve '#12' --ours\n  roadmap conflicts resolve 1a2b --edit"
    )]
    Resolve {
        /// Issue id (or `#number`).
        id: String,
        /// Conflicting fields keep the local value.
        #[arg(long, group = "side")]
        ours: bool,
        /// Conflicting fields take GitHub's value.
        #[arg(long, group = "side")]
        theirs: bool,
        /// Open the merged file (conflict markers in the body) in the editor.
        #[arg(long, group = "side")]
        edit: bool,
    },
}

#[derive(Debug, Subcommand)]
enum CacheCmd {
    /// Entries and size.
    #[command(after_help = "Example:\n  roadmap cache stats")]
    Stats,
    /// Remove every entry.
    #[command(after_help = "Example:\n  roadmap cache clear")]
    Clear,
}

#[derive(Debug, clap::Args)]
pub struct IssueFields {
    /// New title.
    #[arg(long)]
    pub title: Option<String>,
    /// Status: todo, in-progress, blocked, review, done.
    #[arg(long, short)]
    pub status: Option<String>,
    /// Priority: low, medium, high, critical.
    #[arg(long, short)]
    pub priority: Option<String>,
    /// Add a label; repeatable.
    #[arg(long, short)]
    pub label: Vec<String>,
    /// Remove a label; repeatable.
    #[arg(long)]
    pub remove_label: Vec<String>,
    /// Add an assignee; repeatable.
    #[arg(long, short)]
    pub assignee: Vec<String>,
    /// Remove an assignee; repeatable.
    #[arg(long)]
    pub remove_assignee: Vec<String>,
    /// Milestone title or id ("" to clear); it must exist (see --create-milestone).
    #[arg(long, short)]
    pub milestone: Option<String>,
    /// Make the --milestone given when there is none by that title (a local milestone, created
    /// on GitHub by the next push).
    #[arg(long, requires = "milestone")]
    pub create_milestone: bool,
    /// Estimate in hours.
    #[arg(long)]
    pub estimate: Option<f64>,
    /// Percent done.
    #[arg(long)]
    pub progress: Option<u8>,
    /// Depends on this issue; repeatable.
    #[arg(long)]
    pub depends_on: Vec<String>,
    /// Blocks this issue; repeatable.
    #[arg(long)]
    pub blocks: Vec<String>,
    /// Part of this issue (its parent: id or #NUMBER; "" to clear).
    #[arg(long)]
    pub parent: Option<String>,
    /// Markdown body.
    #[arg(long, short)]
    pub body: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum IssueCmd {
    /// Create an issue.
    #[command(
        after_help = "Examples:\n  roadmap issue create 'Fix the login crash'\n  roadmap issue create 'Dark mode' -p high -l ui -m v1.0 -a alice --estimate 3"
    )]
    Create {
        /// Title.
        #[arg(value_name = "TITLE")]
        new_title: String,
        #[command(flatten)]
        fields: IssueFields,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// List issues, filtered and sorted.
    #[command(alias = "ls")]
    #[command(
        after_help = "Examples:\n  roadmap issue list --status open --sort priority\n  roadmap issue list -l bug -m v1.0 --json"
    )]
    List {
        #[command(flatten)]
        filter: local::ListFilter,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Show one issue: its fields, body and comments (`--raw`: the file as it is).
    #[command(
        after_help = "Examples:\n  roadmap issue show '#12'\n  roadmap issue show 1a2b --raw\n  roadmap issue show 1a2b --json | jq .labels"
    )]
    Show {
        /// Id (or the start of it) or #NUMBER.
        id: String,
        /// JSON output.
        #[arg(long, conflicts_with = "raw")]
        json: bool,
        /// The file itself (front matter and body), then the comments file.
        #[arg(long)]
        raw: bool,
    },
    /// Edit an issue: with field flags, or in $EDITOR without.
    #[command(
        after_help = "Examples:\n  roadmap issue edit '#12' --status in-progress -a alice\n  roadmap issue edit 1a2b              # in $EDITOR, on a copy"
    )]
    Edit {
        /// Id or #NUMBER.
        id: String,
        #[command(flatten)]
        fields: IssueFields,
    },
    /// Mark an issue done (closed on GitHub by the next push).
    #[command(
        after_help = "Examples:\n  roadmap issue close '#12'\n  roadmap issue close 1a2b --reason not-planned"
    )]
    Close {
        /// Id (or the start of it) or #NUMBER.
        id: String,
        /// Why: completed (the default), not-planned or duplicate (GitHub's close reasons).
        #[arg(long)]
        reason: Option<roadmap::CloseReason>,
    },
    /// Mark an issue todo again.
    #[command(after_help = "Example:\n  roadmap issue reopen '#12'")]
    Reopen {
        /// Id or #NUMBER.
        id: String,
    },
    /// Comment on an issue; the next `roadmap sync push` posts it.
    #[command(
        after_help = "Examples:\n  roadmap issue comment '#12' -m 'Fixed in 1a2b3c'\n  roadmap issue comment 1a2b          # write it in $EDITOR"
    )]
    Comment {
        /// Id (or the start of it) or #NUMBER.
        id: String,
        /// The comment (default: written in $VISUAL / $EDITOR).
        #[arg(short, long)]
        message: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum MilestoneCmd {
    /// Create a milestone.
    #[command(
        after_help = "Example:\n  roadmap milestone create v1.0 --due 2027-03-31 -d 'First release'"
    )]
    Create {
        /// Title.
        title: String,
        /// Due date (YYYY-MM-DD).
        #[arg(long)]
        due: Option<String>,
        /// Description.
        #[arg(long, short)]
        description: Option<String>,
    },
    /// List milestones.
    #[command(alias = "ls")]
    #[command(after_help = "Examples:\n  roadmap milestone list\n  roadmap milestone list --json")]
    List {
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Show one milestone (id or title).
    #[command(after_help = "Example:\n  roadmap milestone show v1.0")]
    Show {
        /// Id or title.
        id: String,
    },
    /// Progress of one or every milestone, from its issues.
    #[command(
        after_help = "Examples:\n  roadmap milestone status\n  roadmap milestone status v1.0 --json"
    )]
    Status {
        /// Id or title (default: all).
        title: Option<String>,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Change a milestone's title, due date or description (a new title is carried to its
    /// issues).
    #[command(
        after_help = "Examples:\n  roadmap milestone edit v1.0 --due 2027-03-31\n  roadmap milestone edit v1.0 --title 'v1.0 (LTS)' --due none"
    )]
    Edit {
        /// Id, title or #NUMBER.
        id: String,
        /// New title.
        #[arg(long)]
        title: Option<String>,
        /// New due date (YYYY-MM-DD), or `none` to clear it.
        #[arg(long)]
        due: Option<String>,
        /// New description.
        #[arg(long)]
        description: Option<String>,
    },
    /// Close a milestone (the next push closes it on GitHub).
    #[command(after_help = "Example:\n  roadmap milestone close v1.0")]
    Close {
        /// Id, title or #NUMBER.
        id: String,
    },
    /// Open a closed milestone again.
    #[command(after_help = "Example:\n  roadmap milestone reopen v1.0")]
    Reopen {
        /// Id, title or #NUMBER.
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum RoadmapCmd {
    /// Create a roadmap from milestones.
    #[command(after_help = "Example:\n  roadmap roadmap create 2027 -m v1.0 -m v1.1 --owner alice")]
    Create {
        /// Title.
        title: String,
        /// A milestone (id or title); repeatable, in order.
        #[arg(long, short)]
        milestone: Vec<String>,
        /// Owner.
        #[arg(long)]
        owner: Option<String>,
    },
    /// List roadmaps.
    #[command(alias = "ls")]
    #[command(after_help = "Example:\n  roadmap roadmap list")]
    List {
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Show a roadmap and the progress of its milestones.
    #[command(after_help = "Example:\n  roadmap roadmap show 1a2b3c4d")]
    Show {
        /// Id.
        id: String,
    },
}

#[derive(Debug, Subcommand)]
enum IndexCmd {
    /// Drop the index and rebuild it from the files.
    #[command(after_help = "Example:\n  roadmap index rebuild")]
    Rebuild,
    /// Reconcile with the files, run SQLite's integrity check, report bad files (exit 1 if any).
    #[command(after_help = "Example:\n  roadmap index check")]
    Check,
}

#[derive(Debug, Subcommand)]
enum ConfigCmd {
    /// Print one value.
    #[command(after_help = "Example:\n  roadmap config get workers")]
    Get {
        /// Key.
        key: String,
    },
    /// Set a value in .roadmap/config.toml (or the user file with --user).
    #[command(
        after_help = "Examples:\n  roadmap config set workers 16\n  roadmap config set --user editor 'code --wait'"
    )]
    Set {
        /// Key.
        key: String,
        /// Value.
        value: String,
        /// Write the user file instead of the project's.
        #[arg(long)]
        user: bool,
    },
    /// Every key with its value and where it came from.
    #[command(after_help = "Example:\n  roadmap config show")]
    Show,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    init_tracing(cli.verbose, cli.quiet);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            // A closed pipe (`roadmap issue list --json | head`) ends quietly, as `rg` does;
            // serde_json wraps the write error in its own type.
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
                    || c.downcast_ref::<serde_json::Error>()
                        .and_then(serde_json::Error::io_error_kind)
                        == Some(std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            // A stop already says what happened and what to do, in one line.
            if let Some(s) = e.downcast_ref::<sync::Stop>() {
                eprintln!("error: {s}");
                return ExitCode::from(s.code);
            }
            match hint(&e) {
                Some(h) => eprintln!("error: {e:#}; {h}"),
                None => eprintln!("error: {e:#}"),
            }
            ExitCode::FAILURE
        }
    }
}

fn init_tracing(verbose: u8, quiet: bool) {
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (_, 0) => "warn",
        (_, 1) => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("ROADMAP_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour only for a person at a terminal, never into a pipe or a log file.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .without_time()
        .try_init();
}

/// What the user can do about a library error, in this command's words (the library's
/// messages name no command).
fn hint(e: &anyhow::Error) -> Option<String> {
    use roadmap::Error;
    let config = |c: &ConfigError| match c {
        ConfigError::NoRepository => {
            Some("pass --repo OWNER/NAME or run `roadmap config set repo OWNER/NAME`".into())
        }
        _ => None,
    };
    if let Some(c) = e.chain().find_map(|c| c.downcast_ref::<ConfigError>()) {
        return config(c);
    }
    match e.chain().find_map(|c| c.downcast_ref::<Error>())? {
        Error::Config(c) => config(c),
        Error::Store(roadmap::store::StoreError::NotAProject(_)) => Some(
            "create one with `roadmap init` (it takes the repository from `git remote`)".into(),
        ),
        Error::Conflict(roadmap::sync::conflicts::ConflictError::NotInConflict(_)) => {
            Some("`roadmap conflicts list` shows the issues in conflict".into())
        }
        Error::OtherRepository { project, .. } => Some(format!(
            "pass --repo {project}, or change the project's repository with `roadmap config set repo OWNER/NAME`"
        )),
        Error::UnknownMilestone { name, .. } => Some(format!(
            "create it with `roadmap milestone create {name:?}`, or pass --create-milestone"
        )),
        Error::NotOwner { project, .. } => Some(format!(
            "if you trust it: ROADMAP_SAFE_DIRECTORY={p} roadmap …, or `roadmap config set --user safe_directories {p}`",
            p = project.display()
        )),
        Error::NotFound { kind: "issue", .. } => {
            Some("give its id or the start of it, or #NUMBER on GitHub".into())
        }
        Error::NotFound {
            kind: "milestone", ..
        } => Some("give its id or title".into()),
        _ => None,
    }
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// The user's layers: built-in defaults, the user file, `ROADMAP_*` variables, then flags
/// (the project's `config.toml` goes in between when a project is opened).
fn user_config(flags: &[(&'static str, Option<String>)]) -> Result<Config> {
    let mut config = Config::defaults();
    if let Some(path) = Config::user_file(env_var) {
        config.layer_file(&path, Source::User)?;
    }
    config.layer_env(env_var)?;
    // git's spelling (`safe.directory`), added to the user's own list.
    if let Some(v) = env_var("ROADMAP_SAFE_DIRECTORY") {
        let all = match config.get_trusted("safe_directories") {
            Some(mine) => format!("{v},{mine}"),
            None => v,
        };
        config.set("safe_directories", &all, Source::Env)?;
    }
    for (k, v) in flags {
        if let Some(v) = v {
            config.set(k, v, Source::Flag)?;
        }
    }
    Ok(config)
}

/// The project at `--dir`, or the nearest one above the current folder (which must belong
/// to the user, see [`Project::discover_with`]).
fn open_project(cli_dir: Option<&Path>, config: Config) -> Result<Project> {
    Ok(match cli_dir {
        Some(d) => Project::open_with(d, config)?,
        None => Project::discover_with(
            std::env::current_dir().context("reading the current folder")?,
            config,
        )?,
    })
}

/// The project, or `None` outside one; a project that is there but cannot be opened (a bad
/// `config.toml`) is an error.
fn maybe_project(cli_dir: Option<&Path>, config: Config) -> Result<Option<Project>> {
    match open_project(cli_dir, config) {
        Ok(p) => Ok(Some(p)),
        Err(e)
            if matches!(
                e.downcast_ref::<roadmap::Error>(),
                Some(roadmap::Error::Store(
                    roadmap::store::StoreError::NotAProject(_)
                ))
            ) =>
        {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

fn remote_flags(r: &sync::Remote) -> Vec<(&'static str, Option<String>)> {
    vec![("repo", r.repo.clone()), ("api_url", r.api_url.clone())]
}

async fn run(cli: Cli) -> Result<ExitCode> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let dir = cli.dir.as_deref();
    let mut flags = Vec::new();
    match &cli.cmd {
        Cmd::Sync(SyncArgs { cmd, args }) => {
            let given = match cmd {
                Some(SyncCmd::Pull(a) | SyncCmd::Push(a)) => a,
                _ => args,
            };
            flags = remote_flags(&given.remote);
            flags.push(("workers", given.workers.map(|w| w.to_string())));
            flags.push(("batch_size", given.batch_size.map(|w| w.to_string())));
        }
        Cmd::Doctor { remote } => flags = remote_flags(remote),
        _ => {}
    }
    match &cli.cmd {
        Cmd::Completions { shell } => {
            use clap::CommandFactory;
            // Into memory first: the generator panics on a write error (a closed pipe).
            let mut script = Vec::new();
            clap_complete::generate(*shell, &mut Cli::command(), "roadmap", &mut script);
            out.write_all(&script)?;
            out.flush()?;
            return Ok(ExitCode::SUCCESS);
        }
        Cmd::Man => {
            use clap::CommandFactory;
            clap_mangen::Man::new(Cli::command()).render(&mut out)?;
            out.flush()?;
            return Ok(ExitCode::SUCCESS);
        }
        _ => {}
    }
    let config = user_config(&flags)?;
    let project = || open_project(dir, config.clone());
    let code = match cli.cmd {
        Cmd::Init { repo } => {
            let root = match dir {
                Some(d) => d.to_owned(),
                None => std::env::current_dir().context("reading the current folder")?,
            };
            let origin = roadmap::origin::of(&root);
            let repo = repo.or_else(|| {
                origin
                    .as_ref()
                    .filter(|o| o.host == "github.com")
                    .map(|o| o.repo.clone())
            });
            let parsed = repo.as_deref().map(str::parse::<Repo>).transpose()?;
            let project = Project::init(&root, parsed.as_ref())?;
            writeln!(out, "initialised {}", project.dir().display())?;
            match (&repo, &origin) {
                (Some(r), Some(o)) if o.host == "github.com" && &o.repo == r => {
                    writeln!(out, "repository {r} (from the git remote origin)")?;
                }
                (None, Some(o)) => writeln!(
                    out,
                    "the git remote origin is {}/{}: for GitHub Enterprise, run `roadmap config set repo {}` and pass `--api-url https://{}/api/v3`",
                    o.host, o.repo, o.repo, o.host
                )?,
                (None, None) => writeln!(
                    out,
                    "no repository yet: `roadmap config set repo OWNER/NAME` before a sync"
                )?,
                _ => {}
            }
            ExitCode::SUCCESS
        }
        Cmd::Issue(cmd) => {
            let project = project()?;
            let editor = project.config().get_trusted("editor").map(str::to_owned);
            local::issue(&project, cmd, editor.as_deref(), &mut out).await?;
            ExitCode::SUCCESS
        }
        Cmd::Milestone(cmd) => {
            local::milestone(&project()?, cmd, &mut out).await?;
            ExitCode::SUCCESS
        }
        Cmd::Roadmap(cmd) => {
            local::roadmap(&project()?, cmd, &mut out).await?;
            ExitCode::SUCCESS
        }
        Cmd::Ready {
            assignee,
            milestone,
            label,
            limit,
            json,
        } => {
            let q = roadmap::IssueQuery {
                assignee,
                milestone,
                labels: label,
                limit,
                ..roadmap::IssueQuery::ready()
            };
            deps::ready(&project()?, &q, json, &mut out).await?;
            ExitCode::SUCCESS
        }
        Cmd::Blocked { json } => {
            deps::blocked(&project()?, json, &mut out).await?;
            ExitCode::SUCCESS
        }
        Cmd::Check { json } => {
            if deps::check(&project()?, json, &mut out).await? {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Cmd::Tree { id, json } => {
            deps::tree(&project()?, id.as_deref(), json, &mut out).await?;
            ExitCode::SUCCESS
        }
        Cmd::Report { format, output } => {
            if let Some(path) =
                report::write(&project()?, format, output.as_deref(), &mut out).await?
            {
                writeln!(out, "Report written to {}", path.display())?;
            }
            ExitCode::SUCCESS
        }
        Cmd::Search { query, limit, json } => {
            local::search(&project()?, &query, limit, json, &mut out).await?;
            ExitCode::SUCCESS
        }
        Cmd::Index(cmd) => {
            let rebuild = matches!(cmd, IndexCmd::Rebuild);
            let ok = local::index_cmd(project()?.store(), rebuild, &mut out).await?;
            if ok || rebuild {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Cmd::Config(cmd) => {
            let project = maybe_project(dir, config.clone())?;
            let config = project.as_ref().map_or(&config, Project::config);
            match cmd {
                ConfigCmd::Get { key } => match config.get(&key) {
                    Some(v) => writeln!(out, "{v}")?,
                    None => {
                        if !Config::is_key(&key) {
                            anyhow::bail!("unknown config key `{key}`");
                        }
                    }
                },
                ConfigCmd::Set { key, value, user } => {
                    let path = if user {
                        Config::user_file(env_var)
                            .context("no user config folder (set HOME or XDG_CONFIG_HOME)")?
                    } else {
                        config.project_file().map(Path::to_owned).context(
                            "not in a roadmap project (run `roadmap init`, or use --user)",
                        )?
                    };
                    roadmap::config::set_in_file(&path, &key, &value)?;
                    writeln!(out, "{key} = {value} ({})", path.display())?;
                }
                ConfigCmd::Show => {
                    let rows: Vec<Vec<String>> = config
                        .show()
                        .into_iter()
                        .map(|e| {
                            vec![
                                e.key.to_owned(),
                                e.value.unwrap_or_else(|| "(unset)".into()),
                                e.source.map_or("", |s| s.as_str()).to_owned(),
                                e.help.to_owned(),
                            ]
                        })
                        .collect();
                    render::table(&mut out, &["key", "value", "source", "meaning"], &rows)?;
                }
            }
            ExitCode::SUCCESS
        }
        Cmd::Watch => {
            local::watch(project()?.store(), &mut out).await?;
            ExitCode::SUCCESS
        }
        Cmd::Sync(SyncArgs { cmd, args }) => {
            let project = project()?;
            let style = |a: &sync::PullArgs| sync::Report::of(a.json, cli.quiet, cli.verbose);
            let code = match cmd {
                Some(SyncCmd::Pull(args)) => {
                    sync::pull(&project, &args, style(&args), &mut out).await?
                }
                Some(SyncCmd::Push(args)) => {
                    sync::two_way(&project, &args, true, style(&args), &mut out).await?
                }
                Some(SyncCmd::Status) => {
                    sync::status(&project, &mut out)?;
                    sync::exit::OK
                }
                None => sync::two_way(&project, &args, false, style(&args), &mut out).await?,
            };
            ExitCode::from(code)
        }
        Cmd::Conflicts(cmd) => {
            let project = project()?;
            match cmd {
                ConflictsCmd::List { json } => sync::conflicts_list(&project, json, &mut out)?,
                ConflictsCmd::Resolve {
                    id,
                    ours,
                    theirs,
                    edit,
                } => {
                    use roadmap::Side;
                    let side = match (ours, theirs, edit) {
                        (true, _, _) => Some(Side::Ours),
                        (_, true, _) => Some(Side::Theirs),
                        (_, _, true) => None,
                        _ => {
                            anyhow::bail!("say how to resolve: --ours, --theirs or --edit")
                        }
                    };
                    let editor = project.config().get_trusted("editor").map(str::to_owned);
                    sync::conflicts_resolve(&project, &id, side, editor.as_deref(), &mut out)?;
                }
            }
            ExitCode::SUCCESS
        }
        Cmd::Doctor { .. } => {
            let project = maybe_project(dir, config.clone())?;
            if sync::doctor(project.as_ref(), &config, &mut out).await? {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Cmd::Cache(cmd) => {
            sync::cache(&project()?, matches!(cmd, CacheCmd::Clear), &mut out)?;
            ExitCode::SUCCESS
        }
        Cmd::Completions { .. } | Cmd::Man => ExitCode::SUCCESS,
        #[cfg(feature = "demo")]
        Cmd::Demo {
            dir: demo_dir,
            issues,
        } => {
            demo::run(demo_dir, issues, &mut out).await?;
            ExitCode::SUCCESS
        }
    };
    out.flush()?;
    Ok(code)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
