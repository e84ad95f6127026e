//! Open a project, pull from a (simulated) GitHub, list open issues, edit one, push.
#![allow(clippy::print_stdout)]
use roadmap::simulator::{RepoSpec, SimConfig, Simulator};
use roadmap::{IssueEdit, IssueQuery, Priority, Project, PullSpec};

#[tokio::main]
pub async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let repo = RepoSpec::sample("octo", "demo", 200);
    let sim = Simulator::start(SimConfig::default().repo(repo)).await?;
    let dir = std::env::temp_dir().join(format!("roadmap-quickstart-{}", std::process::id()));
    let mut project = Project::init(&dir, Some(&"octo/demo".parse()?))?;
    // Against github.com: no `api_url`, and a real token.
    project.configure("api_url", &sim.url())?;
    let github = project.github(Some("example-token".into()))?;

    let pulled = project.pull(&github, &PullSpec::default(), &|_| {}).await?;
    let (items, calls) = (pulled.items(), pulled.api.calls());
    println!("pulled {items} items with {calls} requests");

    let query = IssueQuery::open().assignee("alice");
    let open = project.issues(&query).await?;
    println!("{} open issues assigned to alice", open.len());
    let edit = IssueEdit::priority(Priority::High);
    let edited = project.edit_issue(&open[0].id, &edit).await?;
    let pushed = project.push(&github, false, &|_| {}).await?;

    let (id, writes) = (&edited.item().id, pushed.push.writes);
    let dir = dir.display();
    println!("raised {id} to high, pushed {writes} write(s); files in {dir}");
    Ok(())
}
