//! Two-way sync with a conflict: one issue's title is edited here and on GitHub (a conflict,
//! left alone until resolved), another is edited on different fields on each side (merged).
#![allow(clippy::print_stdout)]
use roadmap::simulator::{RepoSpec, SimConfig, Simulator};
use roadmap::{IssueEdit, Project, PullSpec, Side};

#[tokio::main]
pub async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let repo = RepoSpec::sample("octo", "demo", 20);
    let sim = Simulator::start(SimConfig::default().repo(repo)).await?;
    let dir = tempfile::tempdir()?;
    let mut project = Project::init(dir.path(), Some(&"octo/demo".parse()?))?;
    project.configure("api_url", &sim.url())?;
    let github = project.github(Some("example-token".into()))?;
    project.pull(&github, &PullSpec::default(), &|_| {}).await?;

    // #3: the title, on both sides.
    let ours = IssueEdit {
        title: Some("Ours: fix the login crash".into()),
        ..IssueEdit::default()
    };
    project.edit_issue("#3", &ours).await?;
    sim.edit_issue("octo", "demo", 3, |i| {
        i.title = "Theirs: the crash at login".into()
    });
    // #4: the body here, the title on GitHub.
    let body = IssueEdit {
        body: Some("Steps to reproduce: sign in twice.".into()),
        ..IssueEdit::default()
    };
    project.edit_issue("#4", &body).await?;
    sim.edit_issue("octo", "demo", 4, |i| i.title = "Retitled on GitHub".into());

    let report = project.sync(&github, &PullSpec::default(), &|_| {}).await?;
    let merged = report.pull.resources["issues"].merged;
    println!("merged {merged}, in conflict {:?}", report.pull.conflicts);
    for c in project.conflicts()? {
        for f in &c.fields {
            println!(
                "  {} {}: ours {:?}, theirs {:?}",
                c.id, f.field, f.ours, f.theirs
            );
        }
    }
    assert_eq!((merged, report.pull.conflicts.len()), (1, 1));

    // Keep ours for the conflicting field; the next sync sends it.
    project.resolve_conflict("#3", Side::Ours)?;
    let report = project.sync(&github, &PullSpec::default(), &|_| {}).await?;
    let three = project.find_issue("#3").await?;
    println!(
        "{} write(s); #3 is {:?}",
        report.push.writes,
        three.item().title
    );
    assert!(project.conflicts()?.is_empty());
    assert_eq!(three.item().title, "Ours: fix the login crash");
    Ok(())
}
