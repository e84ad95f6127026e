//! A project's settings: every key with its type, default and meaning, in layers (built-in
//! defaults, the user's file, the project's `.roadmap/config.toml`, the environment, flags),
//! and the typed [`Settings`] a run uses. [`Config::show`] says which layer each value came
//! from.
//!
//! The defaults are the library crates' own (`roadmap_github::DEFAULT_*`,
//! `roadmap_sync::DEFAULT_*`), written nowhere else. This module never reads the environment
//! itself: the caller hands variables in ([`Config::layer_env`]), so that a program embedding
//! the library decides what its process environment means.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use roadmap_sync::Mapping;

/// Where a value came from; a later layer overrides an earlier one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Source {
    /// Built in.
    Default,
    /// The user's own file (`~/.config/roadmap/config.toml`).
    User,
    /// The project's committed `.roadmap/config.toml` (untrusted: it comes with a clone).
    Project,
    /// An environment variable (`ROADMAP_<KEY>`).
    Env,
    /// A command-line flag, or a value an embedding program sets.
    Flag,
}

impl Source {
    /// A name for `config show`.
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

/// A configuration value that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// No such key.
    #[error("{origin}unknown config key `{key}` (known: {known})")]
    UnknownKey {
        /// Where it was given (`path: `, or empty).
        origin: String,
        /// The key.
        key: String,
        /// Every known key, comma-separated.
        known: String,
    },
    /// A value of the wrong type or out of range.
    #[error("{origin}: `{key}` {message}")]
    Invalid {
        /// Where it was given (a file, a variable, a flag).
        origin: String,
        /// The key.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// A file that is not TOML.
    #[error("{}: invalid TOML: {message}", path.display())]
    Toml {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// A file that cannot be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// No repository is configured.
    #[error("no repository configured (the `repo` key, OWNER/NAME)")]
    NoRepository,
    /// `repo` is not `OWNER/NAME`.
    #[error("repository `{0}` is not OWNER/NAME")]
    BadRepository(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Type {
    Str,
    Int { min: u64, max: u64 },
    Bool,
}

/// One key: its name, type, meaning, and whether only the user may set it.
#[derive(Debug)]
struct Key {
    name: &'static str,
    ty: Type,
    help: &'static str,
    /// Decides what runs or where a token goes: a committed project file cannot set it.
    user_only: bool,
}

const fn key(name: &'static str, ty: Type, help: &'static str) -> Key {
    Key {
        name,
        ty,
        help,
        user_only: false,
    }
}

const fn user_key(name: &'static str, help: &'static str) -> Key {
    Key {
        name,
        ty: Type::Str,
        help,
        user_only: true,
    }
}

/// Every key. The sane range of each number: GitHub allows 100 concurrent requests; a write
/// spacing over a minute or a batch over 10,000 is a typo.
const KEYS: &[Key] = &[
    key("repo", Type::Str, "GitHub repository, OWNER/NAME"),
    key(
        "api_url",
        Type::Str,
        "API base URL (GitHub Enterprise: https://HOST/api/v3)",
    ),
    key(
        "workers",
        Type::Int { min: 1, max: 100 },
        "parallel GET requests and file writers",
    ),
    key(
        "points_per_minute",
        Type::Int {
            min: 10,
            max: 100_000,
        },
        "GitHub's secondary limit on REST points per minute (GET 1, write 5): requests are paced under it",
    ),
    key(
        "batch_size",
        Type::Int {
            min: 1,
            max: 10_000,
        },
        "items per index transaction during a sync",
    ),
    key("comments", Type::Bool, "pull comments"),
    key(
        "write_spacing_ms",
        Type::Int {
            min: 0,
            max: 60_000,
        },
        "minimum time between two writes to GitHub",
    ),
    key(
        "status_labels",
        Type::Str,
        "label prefix carrying in-progress/blocked/review to GitHub, matched ignoring case and spaces (`Status: In Progress`); GitHub's own spelling is kept while the status is unchanged (`off`: status travels as open/closed only)",
    ),
    key(
        "priority_labels",
        Type::Str,
        "label prefix carrying a priority other than medium, matched ignoring case and spaces (`Priority: High`); GitHub's own spelling is kept while the priority is unchanged (`off`: priority stays local)",
    ),
    key(
        "hidden_fields",
        Type::Bool,
        "carry estimate, progress, depends_on, blocks and the local id in a hidden comment ending the body",
    ),
    key("label_color", Type::Str, "colour of labels a push creates"),
    user_key(
        "editor",
        "editor for `issue edit` (else $VISUAL, $EDITOR, vi); user file, environment or flag only",
    ),
    user_key(
        "allowed_hosts",
        "API hosts named by a project's config.toml that may receive your token (comma-separated); user file, environment or flag only",
    ),
    user_key(
        "safe_directories",
        "projects owned by another user that you trust (comma-separated paths, or *); user file, environment or flag only",
    ),
];

/// The built-in value of a key: the library crates' own defaults.
fn default_of(key: &str) -> Option<String> {
    let pull = roadmap_sync::PullOptions::default();
    let mapping = Mapping::default();
    Some(match key {
        "api_url" => roadmap_github::DEFAULT_API_URL.to_owned(),
        "workers" => roadmap_github::DEFAULT_WORKERS.to_string(),
        "points_per_minute" => roadmap_github::DEFAULT_POINTS_PER_MINUTE.to_string(),
        "batch_size" => roadmap_sync::DEFAULT_BATCH_SIZE.to_string(),
        "comments" => pull.comments.to_string(),
        "write_spacing_ms" => roadmap_github::DEFAULT_WRITE_SPACING
            .as_millis()
            .to_string(),
        "status_labels" => mapping.status_prefix.unwrap_or_else(|| "off".into()),
        "priority_labels" => mapping.priority_prefix.unwrap_or_else(|| "off".into()),
        "hidden_fields" => mapping.hidden_fields.to_string(),
        "label_color" => roadmap_sync::DEFAULT_LABEL_COLOR.to_owned(),
        _ => return None,
    })
}

fn key_def(key: &str, origin: &str) -> Result<&'static Key, ConfigError> {
    KEYS.iter()
        .find(|k| k.name == key)
        .ok_or_else(|| ConfigError::UnknownKey {
            origin: if origin.is_empty() {
                String::new()
            } else {
                format!("{origin}: ")
            },
            key: key.to_owned(),
            known: KEYS.iter().map(|k| k.name).collect::<Vec<_>>().join(", "),
        })
}

fn check_value(k: &Key, v: &str, origin: &str) -> Result<(), ConfigError> {
    let invalid = |message: String| ConfigError::Invalid {
        origin: origin.to_owned(),
        key: k.name.to_owned(),
        message,
    };
    match k.ty {
        Type::Int { min, max } => {
            let n = v
                .parse::<u64>()
                .map_err(|_| invalid(format!("must be a whole number, got `{v}`")))?;
            if n < min || n > max {
                return Err(invalid(format!("must be between {min} and {max}, got {n}")));
            }
        }
        Type::Bool => {
            v.parse::<bool>()
                .map_err(|_| invalid(format!("must be true or false, got `{v}`")))?;
        }
        Type::Str => {}
    }
    Ok(())
}

/// One row of [`Config::show`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The key.
    pub key: &'static str,
    /// Its value, if any layer sets it.
    pub value: Option<String>,
    /// The layer it came from.
    pub source: Option<Source>,
    /// What it means.
    pub help: &'static str,
}

/// Layered configuration values.
#[derive(Debug, Clone)]
pub struct Config {
    layers: BTreeMap<Source, BTreeMap<&'static str, String>>,
    project_file: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config::defaults()
    }
}

impl Config {
    /// The built-in defaults only.
    pub fn defaults() -> Config {
        let defaults = KEYS
            .iter()
            .filter_map(|k| default_of(k.name).map(|v| (k.name, v)))
            .collect();
        Config {
            layers: BTreeMap::from([(Source::Default, defaults)]),
            project_file: None,
        }
    }

    /// The user's file: `$ROADMAP_CONFIG`, else `$XDG_CONFIG_HOME/roadmap/config.toml`, else
    /// `$HOME/.config/roadmap/config.toml`, with variables from `var`.
    pub fn user_file(var: impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
        if let Some(x) = var("ROADMAP_CONFIG") {
            return Some(PathBuf::from(x));
        }
        let base = var("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .or_else(|| var("HOME").map(|h| PathBuf::from(h).join(".config")))?;
        Some(base.join("roadmap").join("config.toml"))
    }

    /// Reads a TOML file as the `source` layer (a missing file is an empty layer). A
    /// project's file cannot set the keys that decide what runs or where a token goes: those
    /// are dropped, with a warning.
    pub fn layer_file(&mut self, path: &Path, source: Source) -> Result<(), ConfigError> {
        if source == Source::Project {
            self.project_file = Some(path.to_owned());
        }
        let text = match fs_err::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => {
                return Err(ConfigError::Io {
                    path: path.to_owned(),
                    source: e,
                });
            }
        };
        let table: toml::Table = toml::from_str(&text).map_err(|e| ConfigError::Toml {
            path: path.to_owned(),
            message: e.message().to_owned(),
        })?;
        let origin = path.display().to_string();
        let layer = self.layers.entry(source).or_default();
        for (k, v) in table {
            let def = key_def(&k, &origin)?;
            if source == Source::Project && def.user_only {
                tracing::warn!(
                    "{origin}: ignoring `{k}`: it decides what runs or where your token goes, so only your own config file, the environment or a flag may set it"
                );
                continue;
            }
            let s = match (def.ty, &v) {
                (Type::Str, toml::Value::String(s)) => s.clone(),
                (Type::Int { .. }, toml::Value::Integer(i)) if *i >= 0 => i.to_string(),
                (Type::Bool, toml::Value::Boolean(b)) => b.to_string(),
                (ty, v) => {
                    return Err(ConfigError::Invalid {
                        origin,
                        key: k,
                        message: format!(
                            "must be {}, got {}",
                            match ty {
                                Type::Str => "a string",
                                Type::Int { .. } => "a whole number",
                                Type::Bool => "true or false",
                            },
                            v.type_str()
                        ),
                    });
                }
            };
            check_value(def, &s, &origin)?;
            layer.insert(def.name, s);
        }
        Ok(())
    }

    /// Takes `ROADMAP_<KEY>` variables from `var` as the environment layer.
    pub fn layer_env(&mut self, var: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        for k in KEYS {
            let name = format!("ROADMAP_{}", k.name.to_ascii_uppercase());
            if let Some(v) = var(&name) {
                check_value(k, &v, &name)?;
                self.layers
                    .entry(Source::Env)
                    .or_default()
                    .insert(k.name, v);
            }
        }
        Ok(())
    }

    /// Sets one value in the `source` layer (checked like a file's).
    pub fn set(&mut self, key: &str, value: &str, source: Source) -> Result<(), ConfigError> {
        let def = key_def(key, "")?;
        let origin = match source {
            Source::Flag => format!("--{}", key.replace('_', "-")),
            s => s.as_str().to_owned(),
        };
        check_value(def, value, &origin)?;
        self.layers
            .entry(source)
            .or_default()
            .insert(def.name, value.to_owned());
        Ok(())
    }

    fn entry(&self, key: &str) -> Option<(&str, Source)> {
        self.layers
            .iter()
            .rev()
            .find_map(|(s, l)| l.get(key).map(|v| (v.as_str(), *s)))
    }

    /// A key's value, from the highest layer that sets it.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entry(key).map(|(v, _)| v)
    }

    /// Where a key's value came from.
    pub fn source(&self, key: &str) -> Option<Source> {
        self.entry(key).map(|(_, s)| s)
    }

    /// A value the user set (default, user file, environment, flag), never the project.
    pub fn get_trusted(&self, key: &str) -> Option<&str> {
        self.layers
            .iter()
            .rev()
            .filter(|(s, _)| **s != Source::Project)
            .find_map(|(_, l)| l.get(key).map(String::as_str))
    }

    /// The project's `config.toml`, once a project layer was read.
    pub fn project_file(&self) -> Option<&Path> {
        self.project_file.as_deref()
    }

    /// Whether `key` is a known key.
    pub fn is_key(key: &str) -> bool {
        KEYS.iter().any(|k| k.name == key)
    }

    /// Every key with its value and source (unset keys have none).
    pub fn show(&self) -> Vec<Entry> {
        KEYS.iter()
            .map(|k| {
                let e = self.entry(k.name);
                Entry {
                    key: k.name,
                    value: e.map(|(v, _)| v.to_owned()),
                    source: e.map(|(_, s)| s),
                    help: k.help,
                }
            })
            .collect()
    }

    fn number(&self, key: &str) -> u64 {
        // Every layer was checked on the way in, and the defaults are numbers.
        self.get(key).and_then(|v| v.parse().ok()).unwrap_or(0)
    }

    /// The typed settings a run uses.
    pub fn settings(&self) -> Result<Settings, ConfigError> {
        let prefix = |key: &str| -> Option<String> {
            let v = self.get(key).unwrap_or_default();
            (!v.is_empty() && v != "off" && v != "false").then(|| v.to_owned())
        };
        Ok(Settings {
            repo: self.get("repo").map(str::parse).transpose()?,
            api_url: self
                .get("api_url")
                .unwrap_or(roadmap_github::DEFAULT_API_URL)
                .to_owned(),
            workers: self.number("workers").max(1) as usize,
            points_per_minute: self.number("points_per_minute").max(10) as u32,
            batch_size: self.number("batch_size").max(1) as usize,
            comments: self.get("comments") != Some("false"),
            write_spacing: Duration::from_millis(self.number("write_spacing_ms")),
            mapping: Mapping {
                status_prefix: prefix("status_labels"),
                priority_prefix: prefix("priority_labels"),
                hidden_fields: self.get("hidden_fields") != Some("false"),
                // The sync sets it once it has seen GitHub's relations.
                native_relations: false,
            },
            label_color: self
                .get("label_color")
                .unwrap_or(roadmap_sync::DEFAULT_LABEL_COLOR)
                .to_owned(),
        })
    }
}

/// A repository, `OWNER/NAME`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Repo {
    /// The owner (user or organisation).
    pub owner: String,
    /// The repository's name.
    pub name: String,
}

impl FromStr for Repo {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Repo, ConfigError> {
        s.split_once('/')
            .filter(|(o, n)| !o.is_empty() && !n.is_empty() && !n.contains('/'))
            .map(|(o, n)| Repo {
                owner: o.to_owned(),
                name: n.to_owned(),
            })
            .ok_or_else(|| ConfigError::BadRepository(s.to_owned()))
    }
}

impl fmt::Display for Repo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

/// What a run uses, typed: the values of a [`Config`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Settings {
    /// The repository, when configured.
    pub repo: Option<Repo>,
    /// API base URL.
    pub api_url: String,
    /// Parallel GET requests and file writers.
    pub workers: usize,
    /// REST points per minute the requests are paced under.
    pub points_per_minute: u32,
    /// Items per index transaction.
    pub batch_size: usize,
    /// Whether pulls read comments.
    pub comments: bool,
    /// Minimum time between two writes.
    pub write_spacing: Duration,
    /// How roadmap-only fields travel to GitHub.
    pub mapping: Mapping,
    /// Colour of the labels a push creates.
    pub label_color: String,
}

impl Settings {
    /// The repository, or [`ConfigError::NoRepository`].
    pub fn repo(&self) -> Result<&Repo, ConfigError> {
        self.repo.as_ref().ok_or(ConfigError::NoRepository)
    }
}

/// Sets `key = value` in a config file, keeping its other keys (and validating the value);
/// the file is replaced atomically.
pub fn set_in_file(path: &Path, key: &str, value: &str) -> Result<(), ConfigError> {
    let def = key_def(key, "")?;
    check_value(def, value, key)?;
    let io = |e: std::io::Error| ConfigError::Io {
        path: path.to_owned(),
        source: e,
    };
    let text = match fs_err::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(io(e)),
    };
    let mut table: toml::Table = toml::from_str(&text).map_err(|e| ConfigError::Toml {
        path: path.to_owned(),
        message: e.message().to_owned(),
    })?;
    // Checked above: the parses cannot fail.
    let v = match def.ty {
        Type::Str => toml::Value::String(value.to_owned()),
        Type::Int { .. } => toml::Value::Integer(value.parse().unwrap_or_default()),
        Type::Bool => toml::Value::Boolean(value == "true"),
    };
    table.insert(def.name.to_owned(), v);
    let dir = path.parent().unwrap_or(Path::new("."));
    fs_err::create_dir_all(dir).map_err(io)?;
    let out = toml::to_string(&table).map_err(|e| ConfigError::Toml {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    let mut builder = tempfile::Builder::new();
    // The file follows the user's umask, as the store's files do (a temp file alone is 0600).
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let mut tmp = builder.tempfile_in(dir).map_err(io)?;
    std::io::Write::write_all(&mut tmp, out.as_bytes()).map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_layers_win_whatever_the_order_they_are_read_in() {
        let mut c = Config::defaults();
        c.set("workers", "3", Source::Flag).expect("flag");
        c.set("workers", "5", Source::Project).expect("project");
        assert_eq!(c.get("workers"), Some("3"));
        assert_eq!(c.source("workers"), Some(Source::Flag));
        assert_eq!(c.source("batch_size"), Some(Source::Default));
    }

    #[test]
    fn the_defaults_are_the_engines_own() {
        let s = Config::defaults().settings().expect("settings");
        let pull = roadmap_sync::PullOptions::default();
        let push = roadmap_sync::PushOptions::default();
        assert_eq!(s.workers, pull.workers);
        assert_eq!(s.batch_size, pull.batch_size);
        assert_eq!(s.mapping, pull.mapping);
        assert_eq!(s.label_color, push.label_color);
        assert_eq!(s.write_spacing, roadmap_github::DEFAULT_WRITE_SPACING);
    }

    #[test]
    fn out_of_range_and_unknown_values_name_where_they_came_from() {
        let mut c = Config::defaults();
        let e = c.set("workers", "0", Source::Flag).expect_err("range");
        assert_eq!(
            e.to_string(),
            "--workers: `workers` must be between 1 and 100, got 0"
        );
        let e = c
            .layer_env(|k| (k == "ROADMAP_BATCH_SIZE").then(|| "x".to_owned()))
            .expect_err("type");
        assert!(
            e.to_string()
                .starts_with("ROADMAP_BATCH_SIZE: `batch_size`"),
            "{e}"
        );
        assert!(c.set("nope", "1", Source::Flag).is_err());
    }
}
