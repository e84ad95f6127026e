//! How a text GitHub holds (an issue body, a milestone description) is kept in a file, byte
//! for byte. See docs/decisions/0005-exact-text-round-trips.md.
//!
//! A file's body always ends with a newline (editors add one anyway) and uses `\n` line
//! endings when GitHub's text used `\r\n` throughout. What that changed is recorded as a
//! [`TextForm`] beside the text (`remote.body_form` in the front matter), and undone when the
//! text goes back: `null`, `crlf`, `no-final-newline`. A text the form cannot describe
//! exactly (mixed line endings, say) is stored as it is.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What to undo to get GitHub's text back from a file's body.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct TextForm {
    /// GitHub holds `null` (the file's body is empty).
    pub null: bool,
    /// GitHub's line endings are `\r\n` (the file has `\n`).
    pub crlf: bool,
    /// GitHub's text has no final newline (the file's has one).
    pub no_final_newline: bool,
}

impl TextForm {
    /// The plain form: the file's body is GitHub's text.
    pub fn is_plain(&self) -> bool {
        *self == TextForm::default()
    }

    /// Splits GitHub's text into a file body and the form that restores it exactly:
    /// `form.join(&body) == text` for every text.
    pub fn split(text: Option<&str>) -> (String, TextForm) {
        let Some(text) = text else {
            return (
                String::new(),
                TextForm {
                    null: true,
                    ..TextForm::default()
                },
            );
        };
        let mut form = TextForm::default();
        let mut body = text.to_owned();
        if text.contains("\r\n") {
            let lf = text.replace("\r\n", "\n");
            // Only when converting back is exact, and a file later saved with CRLF by an
            // editor still converts back to the same text.
            if !lf.contains('\r') && lf.replace('\n', "\r\n") == text {
                body = lf;
                form.crlf = true;
            }
        }
        if !body.is_empty() && !body.ends_with('\n') {
            body.push('\n');
            form.no_final_newline = true;
        }
        (body, form)
    }

    /// GitHub's text for a file body (`None`: null).
    pub fn join(&self, body: &str) -> Option<String> {
        if self.null && body.is_empty() {
            return None;
        }
        let mut text = body.to_owned();
        if self.no_final_newline {
            // One final newline is the file's, not GitHub's (an editor may have added it, or
            // the user may have removed it: either way it is not sent).
            if text.ends_with("\r\n") && self.crlf {
                text.truncate(text.len() - 2);
            } else if text.ends_with('\n') {
                text.pop();
            }
        }
        if self.crlf {
            text = text.replace("\r\n", "\n").replace('\n', "\r\n");
        }
        Some(text)
    }

    /// `join`, with null as an empty text.
    pub fn join_or_empty(&self, body: &str) -> String {
        self.join(body).unwrap_or_default()
    }

    fn words(&self) -> Vec<&'static str> {
        let mut w = Vec::new();
        if self.null {
            w.push("null");
        }
        if self.crlf {
            w.push("crlf");
        }
        if self.no_final_newline {
            w.push("no-final-newline");
        }
        w
    }
}

impl Serialize for TextForm {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.words().join(" "))
    }
}

impl<'de> Deserialize<'de> for TextForm {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let mut form = TextForm::default();
        for w in text.split_whitespace() {
            match w {
                "null" => form.null = true,
                "crlf" => form.crlf = true,
                "no-final-newline" => form.no_final_newline = true,
                other => {
                    return Err(serde::de::Error::custom(format!(
                        "unknown body form `{other}` (expected null, crlf, no-final-newline)"
                    )));
                }
            }
        }
        Ok(form)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_shape_round_trips_exactly() {
        let cases = [
            None,
            Some(""),
            Some("x"),
            Some("x\n"),
            Some("x\n\n"),
            Some("a\r\nb"),
            Some("a\r\nb\r\n"),
            Some("a\r\nb\nc"),
            Some("a\r\r\nb"),
            Some("a\rb"),
            Some("x\r"),
            Some("\n"),
            Some("\r\n"),
            Some("trailing spaces   "),
            Some("---\ntitle: not front matter\n---"),
            Some("emoji 🎉\r\n中文"),
        ];
        for text in cases {
            let (body, form) = TextForm::split(text);
            assert_eq!(form.join(&body).as_deref(), text, "{text:?}");
            assert!(
                body.is_empty() || body.ends_with('\n'),
                "{text:?} → {body:?}"
            );
        }
    }

    #[test]
    fn an_editor_final_newline_or_crlf_save_is_not_an_edit() {
        let (body, form) = TextForm::split(Some("a\r\nb"));
        assert_eq!(body, "a\nb\n");
        // Saved with CRLF, or without the final newline, it is still GitHub's text.
        assert_eq!(form.join("a\r\nb\r\n").as_deref(), Some("a\r\nb"));
        assert_eq!(form.join("a\nb").as_deref(), Some("a\r\nb"));
        let (_, null) = TextForm::split(None);
        assert_eq!(null.join(""), None);
        assert_eq!(null.join("now text\n").as_deref(), Some("now text\n"));
    }

    #[test]
    fn the_form_reads_back_from_its_words() {
        let f = TextForm {
            null: false,
            crlf: true,
            no_final_newline: true,
        };
        let json = serde_json::to_string(&f).unwrap();
        assert_eq!(json, "\"crlf no-final-newline\"");
        assert_eq!(serde_json::from_str::<TextForm>(&json).unwrap(), f);
        assert!(serde_json::from_str::<TextForm>("\"lf\"").is_err());
    }
}
