//! Layered configuration: built-in defaults, the user file, the project's
//! `.roadmap/config.toml`, `ROADMAP_*` environment variables, then flags. `config show`
//! says which layer each value came from. This is the only module that reads the environment
//! (besides the token lookup in `auth`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// Where a value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Default,
    User,
    Project,
    Env,
    Flag,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Default => "default",
            Source::User => "user file",
            Source::Project => ".roadmap/config.toml",
            Source::Env => "environment",
            Source::Flag => "flag",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Type {
    Str,
    Int,
    Bool,
}

/// Every key, its type, default and meaning.
const KEYS: &[(&str, Type, Option<&str>, &str)] = &[
    ("repo", Type::Str, None, "GitHub repository, OWNER/NAME"),
    (
        "api_url",
        Type::Str,
        Some("https://api.github.com"),
        "API base URL (GitHub Enterprise: https://HOST/api/v3)",
    ),
    (
        "workers",
        Type::Int,
        Some("8"),
        "parallel GET requests and file writers",
    ),
    (
        "points_per_minute",
        Type::Int,
        Some("900"),
        "GitHub's secondary limit on REST points per minute (GET 1, write 5): requests are paced under it",
    ),
    (
        "batch_size",
        Type::Int,
        Some("50"),
        "items per index transaction during a sync",
    ),
    ("comments", Type::Bool, Some("true"), "pull comments"),
    (
        "write_spacing_ms",
        Type::Int,
        Some("1000"),
        "minimum time between two writes to GitHub",
    ),
    (
        "status_labels",
        Type::Str,
        Some("status:"),
        "label prefix carrying in-progress/blocked/review to GitHub, matched ignoring case and spaces (`Status: In Progress`); GitHub's own spelling is kept while the status is unchanged (`off`: status travels as open/closed only)",
    ),
    (
        "priority_labels",
        Type::Str,
        Some("priority:"),
        "label prefix carrying a priority other than medium, matched ignoring case and spaces (`Priority: High`); GitHub's own spelling is kept while the priority is unchanged (`off`: priority stays local)",
    ),
    (
        "hidden_fields",
        Type::Bool,
        Some("true"),
        "carry estimate, progress, depends_on, blocks and the local id in a hidden comment ending the body",
    ),
    (
        "label_color",
        Type::Str,
        Some("ededed"),
        "colour of labels a push creates",
    ),
    (
        "editor",
        Type::Str,
        None,
        "editor for `issue edit` (else $VISUAL, $EDITOR, vi); user file, environment or flag only",
    ),
    (
        "allowed_hosts",
        Type::Str,
        None,
        "API hosts named by a project's config.toml that may receive your token (comma-separated); user file, environment or flag only",
    ),
    (
        "safe_directories",
        Type::Str,
        None,
        "projects owned by another user that you trust (comma-separated paths, or *); user file, environment or flag only",
    ),
];

/// Keys that decide what runs or where a token goes: a committed project file (untrusted: it
/// comes with a clone) cannot set them. See docs/security.md.
const USER_ONLY: &[&str] = &["editor", "allowed_hosts", "safe_directories"];

#[derive(Debug, Clone)]
pub struct Config {
    values: BTreeMap<&'static str, (String, Source)>,
    pub project_file: Option<PathBuf>,
}

pub fn user_config_path() -> Option<PathBuf> {
    if let Some(x) = std::env::var_os("ROADMAP_CONFIG") {
        return Some(PathBuf::from(x));
    }
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("roadmap").join("config.toml"))
}

fn key_def(key: &str) -> Result<&'static (&'static str, Type, Option<&'static str>, &'static str)> {
    KEYS.iter().find(|k| k.0 == key).with_context(|| {
        format!(
            "unknown config key `{key}` (known: {})",
            KEYS.iter().map(|k| k.0).collect::<Vec<_>>().join(", ")
        )
    })
}

/// The sane range of each number (GitHub allows 100 concurrent requests; a write spacing over
/// a minute or a batch over 10,000 is a typo).
fn range_of(key: &str) -> (u64, u64) {
    match key {
        "workers" => (1, 100),
        "points_per_minute" => (10, 100_000),
        "batch_size" => (1, 10_000),
        "write_spacing_ms" => (0, 60_000),
        _ => (0, u64::MAX),
    }
}

fn check_value(key: &str, ty: Type, v: &str, origin: &str) -> Result<()> {
    match ty {
        Type::Int => {
            let n = v
                .parse::<u64>()
                .with_context(|| format!("{origin}: `{key}` must be a whole number, got `{v}`"))?;
            let (lo, hi) = range_of(key);
            if n < lo || n > hi {
                bail!("{origin}: `{key}` must be between {lo} and {hi}, got {n}");
            }
        }
        Type::Bool => {
            v.parse::<bool>()
                .with_context(|| format!("{origin}: `{key}` must be true or false, got `{v}`"))?;
        }
        Type::Str => {}
    }
    Ok(())
}

fn load_file(path: &Path) -> Result<Vec<(&'static str, String)>> {
    let text = match fs_err::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let table: toml::Table =
        toml::from_str(&text).with_context(|| format!("{}: invalid TOML", path.display()))?;
    let mut out = Vec::new();
    for (k, v) in table {
        let def = key_def(&k).with_context(|| format!("{}", path.display()))?;
        let s = match (&def.1, &v) {
            (Type::Str, toml::Value::String(s)) => s.clone(),
            (Type::Int, toml::Value::Integer(i)) if *i >= 0 => {
                check_value(&k, Type::Int, &i.to_string(), &path.display().to_string())?;
                i.to_string()
            }
            (Type::Bool, toml::Value::Boolean(b)) => b.to_string(),
            (ty, v) => bail!(
                "{}: `{k}` must be {}, got {}",
                path.display(),
                match ty {
                    Type::Str => "a string",
                    Type::Int => "a whole number",
                    Type::Bool => "true or false",
                },
                v.type_str()
            ),
        };
        out.push((def.0, s));
    }
    Ok(out)
}

impl Config {
    /// Loads every layer. `project_dir` is the `.roadmap/` folder when inside a project.
    pub fn load(
        project_dir: Option<&Path>,
        flags: &[(&'static str, Option<String>)],
    ) -> Result<Config> {
        let mut values = BTreeMap::new();
        for (k, _, d, _) in KEYS {
            if let Some(d) = d {
                values.insert(*k, (d.to_string(), Source::Default));
            }
        }
        let user_file = user_config_path();
        if let Some(p) = &user_file {
            for (k, v) in load_file(p)? {
                values.insert(k, (v, Source::User));
            }
        }
        let project_file = project_dir.map(|d| d.join("config.toml"));
        if let Some(p) = &project_file {
            for (k, v) in load_file(p)? {
                if USER_ONLY.contains(&k) {
                    tracing::warn!(
                        "{}: ignoring `{k}`: it decides what runs or where your token goes, so only your own config file, the environment or a flag may set it",
                        p.display()
                    );
                    continue;
                }
                values.insert(k, (v, Source::Project));
            }
        }
        for (k, ty, _, _) in KEYS {
            let var = format!("ROADMAP_{}", k.to_ascii_uppercase());
            if let Ok(v) = std::env::var(&var) {
                check_value(k, *ty, &v, &var)?;
                values.insert(*k, (v, Source::Env));
            }
        }
        for (k, v) in flags {
            if let Some(v) = v {
                let def = key_def(k)?;
                check_value(k, def.1, v, &format!("--{}", k.replace('_', "-")))?;
                values.insert(def.0, (v.clone(), Source::Flag));
            }
        }
        Ok(Config {
            values,
            project_file,
        })
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(|(v, _)| v.as_str())
    }

    /// Where a key's value came from.
    pub fn source(&self, key: &str) -> Option<Source> {
        self.values.get(key).map(|(_, s)| *s)
    }

    /// A value set by the user (default, user file, environment, flag), never by the project.
    pub fn get_trusted(&self, key: &str) -> Option<&str> {
        self.values
            .get(key)
            .filter(|(_, s)| *s != Source::Project)
            .map(|(v, _)| v.as_str())
    }

    /// Every key with its value and source (unset keys have none).
    pub fn show(&self) -> Vec<(&'static str, Option<String>, Option<Source>, &'static str)> {
        KEYS.iter()
            .map(|(k, _, _, help)| {
                let v = self.values.get(k);
                (*k, v.map(|x| x.0.clone()), v.map(|x| x.1), *help)
            })
            .collect()
    }
}

/// Sets `key = value` in a config file, keeping its other keys (and validating the value).
pub fn set_in_file(path: &Path, key: &str, value: &str) -> Result<()> {
    let def = key_def(key)?;
    check_value(key, def.1, value, key)?;
    let text = match fs_err::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e.into()),
    };
    let mut table: toml::Table =
        toml::from_str(&text).with_context(|| format!("{}: invalid TOML", path.display()))?;
    let v = match def.1 {
        Type::Str => toml::Value::String(value.to_owned()),
        Type::Int => toml::Value::Integer(value.parse()?),
        Type::Bool => toml::Value::Boolean(value.parse()?),
    };
    table.insert(def.0.to_owned(), v);
    if let Some(dir) = path.parent() {
        fs_err::create_dir_all(dir)?;
    }
    let out = toml::to_string(&table)?;
    let mut tmp = tempfile::NamedTempFile::new_in(path.parent().unwrap_or(Path::new(".")))?;
    std::io::Write::write_all(&mut tmp, out.as_bytes())?;
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
