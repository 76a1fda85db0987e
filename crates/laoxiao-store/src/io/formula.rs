//! Formula injection (CSV injection) in exports: a text cell that begins with
//! `=`, `+`, `-`, `@`, a tab or a carriage return may be run as a formula when
//! the file is opened in a spreadsheet (`=HYPERLINK(…)` sends a click to
//! another host). Exports prefix such cells with a single quote, as OWASP
//! advises; imports remove exactly that quote again, so an exported file
//! imports to the same values.
//!
//! To make the round trip exact, a value that already begins with quotes
//! followed by one of those characters (`'=x`) gets one more quote too: the
//! rule is "strip one quote when what follows it would itself need one".

use std::borrow::Cow;

/// True when `c` starts a formula (or hides one behind white space).
fn triggers(c: char) -> bool {
    matches!(c, '=' | '+' | '-' | '@' | '\t' | '\r')
}

/// True when `v` must be written with a leading quote: after any leading
/// quotes, it begins with a formula trigger.
fn needs_quote(v: &str) -> bool {
    v.trim_start_matches('\'')
        .chars()
        .next()
        .is_some_and(triggers)
}

/// The text to write for a text cell: `v`, or `'` + `v` when a spreadsheet
/// could read `v` as a formula.
pub fn neutralise(v: &str) -> Cow<'_, str> {
    if needs_quote(v) {
        Cow::Owned(format!("'{v}"))
    } else {
        Cow::Borrowed(v)
    }
}

/// The value a text cell read from a file stands for: the quote
/// [`neutralise`] added is removed; anything else is left alone.
pub fn unquote(v: &str) -> &str {
    match v.strip_prefix('\'') {
        Some(rest) if needs_quote(rest) => rest,
        _ => v,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_quoted_and_round_trip() {
        for (v, out) in [
            (
                "=HYPERLINK(\"http://x\",\"y\")",
                "'=HYPERLINK(\"http://x\",\"y\")",
            ),
            ("+8613800000000", "'+8613800000000"),
            ("-", "'-"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("'=1", "''=1"),
            ("张三", "张三"),
            ("'quoted'", "'quoted'"),
            ("", ""),
            ("330402194912311234", "330402194912311234"),
            ("a=b", "a=b"),
        ] {
            assert_eq!(neutralise(v), out, "{v:?}");
            assert_eq!(unquote(&neutralise(v)), v, "{v:?}");
        }
        // A quote a user typed before a plain value stays.
        assert_eq!(unquote("'abc"), "'abc");
        assert_eq!(unquote("'+86"), "+86");
    }
}
