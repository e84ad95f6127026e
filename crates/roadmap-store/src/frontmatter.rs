//! Markdown files with YAML front matter, read and written so that an unchanged file
//! round-trips byte for byte.
//!
//! A file is `---\n<yaml>---\n<body>`. The front matter is split into top-level entries
//! (a key at column 0 and its indented continuation lines) and kept as raw text next to the
//! typed value decoded from it. Writing re-emits only the entries whose value changed; every
//! other entry, unknown keys, comments and their order stay exactly as they were.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// Where and why front matter could not be read. Lines and columns are 1-based and count
/// from the first line of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// 1-based line in the file, when known.
    pub line: Option<u64>,
    /// 1-based column, when known.
    pub column: Option<u64>,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "line {l}, column {c}: {}", self.message),
            (Some(l), None) => write!(f, "line {l}: {}", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    /// A top-level key with its full raw text (key line and continuation lines).
    Entry { key: String, raw: String },
    /// Comments, blank lines, anything between entries.
    Other(String),
}

/// A parsed file: its front matter segments, the values they decoded to, and the body.
#[derive(Debug, Clone, PartialEq)]
pub struct Document<T> {
    /// The typed front matter, with `body` filled in by the caller's `with_body`.
    pub value: T,
    /// Markdown after the closing delimiter, verbatim.
    pub body: String,
    segments: Vec<Segment>,
    /// The decoded value as a JSON map, to tell which fields a write changed.
    original: Map<String, Value>,
    /// Line ending used by the delimiters (`\n` or `\r\n`).
    newline: &'static str,
    /// Whether segmentation agreed with the YAML parser; if not, writes re-emit all entries.
    faithful: bool,
}

/// Splits a file into front matter text, body, the first line of the front matter and the
/// newline style.
fn split(text: &str) -> Result<(&str, &str, &'static str), SyntaxError> {
    let (newline, rest) = if let Some(r) = text.strip_prefix("---\n") {
        ("\n", r)
    } else if let Some(r) = text.strip_prefix("---\r\n") {
        ("\r\n", r)
    } else {
        return Err(SyntaxError {
            line: Some(1),
            column: Some(1),
            message: "file does not start with a `---` front matter delimiter".into(),
        });
    };
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        let content = line.trim_end_matches(['\n', '\r']);
        if content == "---" || content == "..." {
            let front = &rest[..offset];
            let body = &rest[offset + line.len()..];
            return Ok((front, body, newline));
        }
        offset += line.len();
    }
    // A file whose front matter is closed at end of file without a newline.
    if rest.ends_with("---") && (rest.len() == 3 || rest[..rest.len() - 3].ends_with('\n')) {
        return Ok((&rest[..rest.len() - 3], "", newline));
    }
    Err(SyntaxError {
        line: Some(1),
        column: Some(1),
        message: "front matter is not closed by a `---` line".into(),
    })
}

fn entry_key(line: &str) -> Option<String> {
    let first = line.chars().next()?;
    if first.is_whitespace()
        || matches!(
            first,
            '#' | '-' | '[' | '{' | '?' | '&' | '*' | '!' | '|' | '>'
        )
    {
        return None;
    }
    let content = line.trim_end_matches(['\n', '\r']);
    let (key, _) = content.split_once(':')?;
    let key = key.trim();
    let key = key
        .strip_prefix('"')
        .and_then(|k| k.strip_suffix('"'))
        .or_else(|| key.strip_prefix('\'').and_then(|k| k.strip_suffix('\'')))
        .unwrap_or(key);
    Some(key.to_owned())
}

fn segment(front: &str) -> Vec<Segment> {
    let mut segments = Vec::new();
    for line in front.split_inclusive('\n') {
        if let Some(key) = entry_key(line) {
            segments.push(Segment::Entry {
                key,
                raw: line.to_owned(),
            });
            continue;
        }
        let continues_entry = line.starts_with([' ', '\t', '-']);
        match segments.last_mut() {
            Some(Segment::Entry { raw, .. }) if continues_entry => raw.push_str(line),
            Some(Segment::Other(raw)) => raw.push_str(line),
            _ => segments.push(Segment::Other(line.to_owned())),
        }
    }
    segments
}

fn to_syntax_error(err: &serde_saphyr::Error) -> SyntaxError {
    let loc = err.location();
    // The front matter starts on line 2 of the file, after the opening delimiter.
    SyntaxError {
        line: loc.map(|l| l.line() + 1),
        column: loc.map(|l| l.column()),
        message: clean_message(&err.to_string()),
    }
}

/// The parser's message without its own (front-matter-relative) location prefix.
fn clean_message(s: &str) -> String {
    let mut m = first_line(s);
    if let Some(rest) = m.strip_prefix("error: ") {
        m = rest.to_owned();
    }
    if m.starts_with("line ")
        && let Some(pos) = m.find(": ")
    {
        m = m[pos + 2..].to_owned();
    }
    m
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or(s).trim().to_owned()
}

fn as_map<T: Serialize>(value: &T) -> Map<String, Value> {
    match serde_json::to_value(value) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

impl<T: Serialize + DeserializeOwned> Document<T> {
    /// Parses a whole file. Fails with the line and column of the first problem.
    pub fn parse(text: &str) -> Result<Self, SyntaxError> {
        let (front, body, newline) = split(text)?;
        let value: T = if front.trim().is_empty() {
            serde_saphyr::from_str("{}").map_err(|e| to_syntax_error(&e))?
        } else {
            serde_saphyr::from_str(front).map_err(|e| to_syntax_error(&e))?
        };
        let segments = segment(front);
        // The parser is the authority: if our line split disagrees with its keys, fall back
        // to re-emitting every entry on write rather than risk mangling one.
        let generic: Result<Map<String, Value>, _> = if front.trim().is_empty() {
            Ok(Map::new())
        } else {
            serde_saphyr::from_str(front)
        };
        let faithful = match &generic {
            Ok(map) => {
                let keys: Vec<&str> = segments
                    .iter()
                    .filter_map(|s| match s {
                        Segment::Entry { key, .. } => Some(key.as_str()),
                        Segment::Other(_) => None,
                    })
                    .collect();
                keys.len() == map.len() && keys.iter().zip(map.keys()).all(|(a, b)| *a == b)
            }
            Err(_) => false,
        };
        let mut segments = segments;
        if !faithful {
            // Keep unknown entries as values so that a re-emit does not lose them.
            segments = match generic {
                Ok(map) => map
                    .into_iter()
                    .map(|(k, v)| Segment::Entry {
                        raw: emit_entry(&k, &v, newline),
                        key: k,
                    })
                    .collect(),
                Err(_) => Vec::new(),
            };
        }
        let original = as_map(&value);
        Ok(Document {
            value,
            body: body.to_owned(),
            segments,
            original,
            newline,
            faithful,
        })
    }

    /// A new document for a value never written before.
    pub fn new(value: T, body: String) -> Self {
        Document {
            value,
            body,
            segments: Vec::new(),
            original: Map::new(),
            newline: "\n",
            faithful: true,
        }
    }

    /// Renders the file. Entries whose value is unchanged keep their original text; changed
    /// known fields are re-emitted in place; new fields are appended in the type's field order.
    pub fn render(&self) -> String {
        let current = as_map(&self.value);
        let mut out = String::with_capacity(256 + self.body.len());
        out.push_str("---");
        out.push_str(self.newline);
        let mut written = std::collections::HashSet::new();
        for seg in &self.segments {
            match seg {
                Segment::Other(raw) => out.push_str(raw),
                Segment::Entry { key, raw } => {
                    let known = self.original.contains_key(key) || current.contains_key(key);
                    if !known {
                        // Unknown to the type: kept as written.
                        out.push_str(raw);
                        continue;
                    }
                    written.insert(key.as_str());
                    match current.get(key) {
                        None => {} // removed
                        Some(v) if self.faithful && self.original.get(key) == Some(v) => {
                            out.push_str(raw)
                        }
                        Some(v) => out.push_str(&emit_entry(key, v, self.newline)),
                    }
                }
            }
        }
        for (key, v) in &current {
            // A field absent from the file that still holds its default stays absent.
            if !written.contains(key.as_str()) && self.original.get(key) != Some(v) {
                out.push_str(&emit_entry(key, v, self.newline));
            }
        }
        out.push_str("---");
        out.push_str(self.newline);
        out.push_str(&self.body);
        out
    }
}

/// Emits one top-level entry in canonical form.
fn emit_entry(key: &str, value: &Value, newline: &str) -> String {
    let mut single = Map::new();
    single.insert(key.to_owned(), value.clone());
    let mut text = serde_saphyr::to_string(&Value::Object(single))
        .unwrap_or_else(|_| format!("{key}: null\n"));
    if !text.ends_with('\n') {
        text.push('\n');
    }
    if newline != "\n" {
        text = text.replace('\n', newline);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use roadmap_model::{Issue, Status};

    const SAMPLE: &str = "---\nid: a1\n# a comment\ntitle: 'Fix: the thing'\nstatus: todo\ncustom_key:\n  nested: [1, 2]\nlabels:\n- bug\n- ui\n---\n# Body\n\n---\nid: not-front-matter\n---\n";

    #[test]
    fn unchanged_round_trip_is_exact() {
        let doc = Document::<Issue>::parse(SAMPLE).unwrap();
        assert_eq!(doc.render(), SAMPLE);
        assert!(doc.body.contains("id: not-front-matter"));
    }

    #[test]
    fn a_change_rewrites_only_its_entry() {
        let mut doc = Document::<Issue>::parse(SAMPLE).unwrap();
        doc.value.status = Status::Done;
        let out = doc.render();
        assert!(out.contains("status: done\n"), "{out}");
        assert!(
            out.contains("title: 'Fix: the thing'\n# a comment")
                || out.contains("# a comment\ntitle: 'Fix: the thing'")
        );
        assert!(out.contains("custom_key:\n  nested: [1, 2]\n"));
        let again = Document::<Issue>::parse(&out).unwrap();
        assert_eq!(again.value.status, Status::Done);
        assert_eq!(again.render(), out);
    }

    #[test]
    fn errors_name_line_and_column() {
        let err = Document::<Issue>::parse("---\nid: a\ntitle: x\nstatus: wip\n---\n").unwrap_err();
        assert!(err.message.contains("unknown status"), "{err}");
        assert_eq!(err.line, Some(4), "{err:?}");
        let err = Document::<Issue>::parse("---\nid: a\ntitle: [x\n---\n").unwrap_err();
        assert!(err.line.is_some(), "{err:?}");
        let err = Document::<Issue>::parse("no front matter").unwrap_err();
        assert!(err.message.contains("delimiter"));
    }
}
