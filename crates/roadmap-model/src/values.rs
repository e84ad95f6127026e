use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A value that could not be parsed from its text form; names what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} `{value}`, expected one of: {}", expected.trim_end_matches(", "))]
pub struct ParseValueError {
    /// What kind of value this was (`status`, `priority`, ...).
    pub kind: &'static str,
    /// The text that was given.
    pub value: String,
    /// The accepted spellings, comma separated.
    pub expected: &'static str,
}

macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident, $kind:literal, { $($(#[$vmeta:meta])* $variant:ident => $text:literal $(| $alias:literal)*),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every variant, in their natural order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The canonical text form, as written in front matter.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = ParseValueError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let lower = s.trim().to_ascii_lowercase();
                match lower.as_str() {
                    $($text $(| $alias)* => Ok($name::$variant),)+
                    _ => Err(ParseValueError {
                        kind: $kind,
                        value: s.to_owned(),
                        expected: concat!($($text, ", "),+),
                    }),
                }
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

text_enum!(
    /// Where an issue stands in its workflow.
    Status, "status", {
        /// Not started.
        Todo => "todo" | "backlog",
        /// Being worked on.
        InProgress => "in-progress" | "in_progress" | "doing",
        /// Waiting on something else.
        Blocked => "blocked",
        /// Done, awaiting review.
        Review => "review",
        /// Finished (closed on GitHub).
        Done => "done" | "closed",
    }
);

impl Status {
    /// Whether the issue counts as closed (GitHub `state: closed`).
    pub fn is_closed(self) -> bool {
        matches!(self, Status::Done)
    }
}

text_enum!(
    /// Why a done issue was closed (GitHub's `state_reason`).
    CloseReason, "close reason", {
        /// Done as asked (GitHub's default).
        Completed => "completed",
        /// Closed without doing it: won't fix, out of scope, stale.
        NotPlanned => "not-planned" | "not_planned" | "wontfix",
        /// The same as another issue.
        Duplicate => "duplicate",
    }
);

impl CloseReason {
    /// GitHub's spelling (`state_reason`).
    pub fn github(self) -> &'static str {
        match self {
            CloseReason::Completed => "completed",
            CloseReason::NotPlanned => "not_planned",
            CloseReason::Duplicate => "duplicate",
        }
    }

    /// What a file records for GitHub's `state_reason` of a closed issue: nothing for the
    /// default (`completed`, or none given), so that most closed issues carry no extra line.
    pub fn recorded(github: Option<&str>) -> Option<CloseReason> {
        match github? {
            "not_planned" => Some(CloseReason::NotPlanned),
            "duplicate" => Some(CloseReason::Duplicate),
            _ => None,
        }
    }
}

text_enum!(
    /// How urgent an issue is.
    Priority, "priority", {
        /// Nice to have.
        Low => "low",
        /// The default.
        Medium => "medium" | "normal",
        /// Soon.
        High => "high",
        /// Now.
        Critical => "critical" | "urgent",
    }
);

impl Priority {
    /// A sortable rank: higher is more urgent.
    pub fn rank(self) -> i64 {
        match self {
            Priority::Low => 0,
            Priority::Medium => 1,
            Priority::High => 2,
            Priority::Critical => 3,
        }
    }
}

/// The local, stable id of an item. It names the item's file (`<id>.md`) for the item's whole
/// life. Issues first seen on GitHub get `gh-<number>`; issues created locally get a random
/// 8-hex-digit id. Ids are restricted to `[A-Za-z0-9._-]` (no leading dot) so that they are
/// always a safe file name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ItemId(String);

impl ItemId {
    /// Checks and wraps an id.
    pub fn new(id: impl Into<String>) -> Result<Self, ParseValueError> {
        let id = id.into();
        let ok = !id.is_empty()
            && id.len() <= 100
            && !id.starts_with('.')
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if ok {
            Ok(ItemId(id))
        } else {
            Err(ParseValueError {
                kind: "id",
                value: id,
                expected: "1-100 characters of [A-Za-z0-9._-], not starting with a dot",
            })
        }
    }

    /// The id of an issue first pulled from GitHub with this number.
    pub fn for_remote_issue(number: u64) -> Self {
        ItemId(format!("gh-{number}"))
    }

    /// The id of a milestone first pulled from GitHub with this number.
    pub fn for_remote_milestone(number: u64) -> Self {
        ItemId(format!("ms-{number}"))
    }

    /// A fresh random id for a locally created item, derived from `seed` bytes (the caller
    /// supplies entropy so that this crate stays free of IO and clocks).
    pub fn from_entropy(seed: u64) -> Self {
        ItemId(format!("{:08x}", (seed ^ (seed >> 32)) as u32))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ItemId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for ItemId {
    type Err = ParseValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ItemId::new(s)
    }
}

impl<'de> Deserialize<'de> for ItemId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Numbers are accepted as ids too (`id: 12` in a hand-written file).
        let v = serde_json::Value::deserialize(d)?;
        let s = match v {
            serde_json::Value::String(s) => s,
            serde_json::Value::Number(n) => n.to_string(),
            other => {
                return Err(serde::de::Error::custom(format!(
                    "invalid type for id: {other}, expected a string"
                )));
            }
        };
        ItemId::new(s).map_err(serde::de::Error::custom)
    }
}

/// A point in time, UTC, second resolution as GitHub gives it. Written as RFC 3339
/// (`2025-10-12T08:47:01Z`); reading also accepts a naive `2025-10-12T08:47:01.231368`
/// (taken as UTC) and a plain date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timestamp(pub chrono::DateTime<chrono::Utc>);

impl Timestamp {
    /// Parses the accepted text forms.
    pub fn parse(s: &str) -> Result<Self, ParseValueError> {
        use chrono::{NaiveDate, NaiveDateTime, TimeZone, Utc};
        let s = s.trim();
        if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
            return Ok(Timestamp(t.with_timezone(&Utc)));
        }
        if let Ok(t) = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f") {
            return Ok(Timestamp(Utc.from_utc_datetime(&t)));
        }
        if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d")
            && let Some(t) = d.and_hms_opt(0, 0, 0)
        {
            return Ok(Timestamp(Utc.from_utc_datetime(&t)));
        }
        Err(ParseValueError {
            kind: "timestamp",
            value: s.to_owned(),
            expected: "RFC 3339 (2025-10-12T08:47:01Z), or a date (2025-10-12)",
        })
    }

    /// Whole seconds since the epoch.
    pub fn unix(self) -> i64 {
        self.0.timestamp()
    }

    /// From whole seconds since the epoch.
    pub fn from_unix(secs: i64) -> Option<Self> {
        chrono::DateTime::from_timestamp(secs, 0).map(Timestamp)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}",
            self.0.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
        )
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Timestamp::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_parses_aliases_and_rejects_unknown() {
        assert_eq!("In-Progress".parse::<Status>(), Ok(Status::InProgress));
        assert_eq!("closed".parse::<Status>(), Ok(Status::Done));
        let err = "wip".parse::<Status>().unwrap_err();
        assert!(err.to_string().contains("unknown status `wip`"), "{err}");
    }

    #[test]
    fn ids_are_safe_file_names() {
        assert!(ItemId::new("gh-12").is_ok());
        for bad in ["", "../x", "a/b", ".hidden", "a b", "nul\0"] {
            assert!(ItemId::new(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn timestamps_accept_naive_and_print_rfc3339() {
        let t = Timestamp::parse("2025-10-12T08:47:01.231368").unwrap();
        assert_eq!(Timestamp::parse(&t.to_string()).unwrap(), t);
        assert_eq!(
            Timestamp::parse("2024-01-02T03:04:05Z")
                .unwrap()
                .to_string(),
            "2024-01-02T03:04:05Z"
        );
    }
}
