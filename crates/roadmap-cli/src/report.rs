//! `roadmap report`: the roadmap drawn as one HTML file, or as Markdown with Mermaid.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use roadmap::Project;

/// What `roadmap report` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One self-contained HTML page (no network needed to view it).
    Html,
    /// Markdown with Mermaid diagrams, which GitHub draws.
    Markdown,
}

impl Format {
    fn file_name(self) -> &'static str {
        match self {
            Format::Html => "roadmap-report.html",
            Format::Markdown => "roadmap-report.md",
        }
    }
}

/// Renders the report as of today (UTC) and writes it to `output` (`-`: standard output;
/// default: beside `.roadmap/`), atomically. Returns where it went, `None` for standard output.
pub async fn write(
    project: &Project,
    format: Format,
    output: Option<&Path>,
    out: &mut impl Write,
) -> Result<Option<PathBuf>> {
    let today = chrono::Utc::now().date_naive();
    let report = project.report(today).await?;
    let text = match format {
        Format::Html => report.html(),
        Format::Markdown => report.markdown(),
    };
    if output == Some(Path::new("-")) {
        out.write_all(text.as_bytes())?;
        return Ok(None);
    }
    let path = match output {
        Some(p) => p.to_owned(),
        None => project
            .dir()
            .parent()
            .unwrap_or(Path::new("."))
            .join(format.file_name()),
    };
    write_atomically(&path, text.as_bytes())
        .with_context(|| format!("cannot write the report to {}", path.display()))?;
    Ok(Some(path))
}

/// Writes `bytes` to `path` through a temporary file in the same folder, renamed over it.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    // A report is for sharing: readable by others like any file the user writes (the
    // temporary file starts private).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
