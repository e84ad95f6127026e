//! Plain tables for listings, aligned by display width (a CJK character takes two columns,
//! a combining mark none), so that they line up in a terminal whatever the script.

use std::io::Write;

use unicode_width::UnicodeWidthStr;

/// Columns `s` takes in a terminal.
fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// Prints rows as aligned columns; the last column is not padded.
pub fn table(out: &mut impl Write, header: &[&str], rows: &[Vec<String>]) -> std::io::Result<()> {
    let mut widths: Vec<usize> = header.iter().map(|h| width(h)).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(width(c));
        }
    }
    let line = |out: &mut dyn Write, cells: &[String]| -> std::io::Result<()> {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            s.push_str(c);
            if i + 1 < cells.len() {
                s.push_str(&" ".repeat(widths[i] - width(c) + 2));
            }
        }
        writeln!(out, "{}", s.trim_end())
    };
    line(
        out,
        &header.iter().map(|h| h.to_uppercase()).collect::<Vec<_>>(),
    )?;
    for r in rows {
        line(out, r)?;
    }
    Ok(())
}

/// Shortens text to `max` columns with an ellipsis; control characters become spaces so
/// that hostile titles cannot garble the terminal.
pub fn clip(s: &str, max: usize) -> String {
    let clean: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if width(&clean) <= max {
        return clean;
    }
    let mut t = String::new();
    let mut used = 0;
    for c in clean.chars() {
        let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w + 1 > max {
            break;
        }
        used += w;
        t.push(c);
    }
    t.push('…');
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up_by_display_width() {
        let mut out = Vec::new();
        let rows = vec![
            vec!["gh-1".to_owned(), "修复登录崩溃".to_owned(), "x".to_owned()],
            vec!["gh-2".to_owned(), "Fix login".to_owned(), "y".to_owned()],
        ];
        table(&mut out, &["id", "title", "z"], &rows).expect("write");
        let text = String::from_utf8(out).expect("utf-8");
        let cols: Vec<usize> = text
            .lines()
            .map(|l| {
                let at = l.rfind(['x', 'y', 'Z']).expect("last column");
                width(&l[..at])
            })
            .collect();
        assert!(cols.windows(2).all(|w| w[0] == w[1]), "{text}");
    }

    #[test]
    fn clipping_counts_columns_not_characters() {
        let c = clip("修复登录崩溃的问题", 7);
        assert!(width(&c) <= 7, "{c}");
        assert!(c.ends_with('…'));
        assert_eq!(clip("short", 10), "short");
    }
}
