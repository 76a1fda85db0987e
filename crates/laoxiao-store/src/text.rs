//! Free text a person typed (notes, reasons, comments): trimmed, bounded,
//! without control characters except line breaks. One rule for every
//! workflow, so a note refused in one place is refused in all.

use laoxiao_model::FieldError;

use crate::{Result, StoreError};

fn refuse(field: &str, why: impl Into<String>) -> StoreError {
    StoreError::Invalid(vec![FieldError::new(field, why)])
}

/// A trimmed text of at most `max` characters; `None` when blank.
pub fn optional(field: &str, s: Option<&str>, max: usize) -> Result<Option<String>> {
    let Some(t) = s.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if t.chars().count() > max {
        return Err(refuse(field, format!("at most {max} characters")));
    }
    if t.chars().any(|c| c.is_control() && c != '\n') {
        return Err(refuse(field, "control characters are not allowed"));
    }
    Ok(Some(t.to_string()))
}

/// A trimmed text that must be given; `missing` says what to write when blank.
pub fn required(field: &str, s: &str, max: usize, missing: &str) -> Result<String> {
    optional(field, Some(s), max)?.ok_or_else(|| refuse(field, missing))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn why(e: StoreError) -> String {
        match e {
            StoreError::Invalid(v) => format!("{}: {}", v[0].field, v[0].reason),
            other => panic!("not a field error: {other:?}"),
        }
    }

    #[test]
    fn blank_is_none_and_text_is_trimmed() {
        assert_eq!(optional("note", Some("   "), 5).expect("ok"), None);
        assert_eq!(optional("note", None, 5).expect("ok"), None);
        assert_eq!(
            optional("note", Some(" 你好 \n"), 5)
                .expect("ok")
                .as_deref(),
            Some("你好")
        );
    }

    #[test]
    fn over_long_and_control_characters_are_refused_naming_the_field() {
        // Counted in characters, not bytes: five Chinese characters fit in 5.
        assert!(optional("note", Some("一二三四五"), 5).is_ok());
        assert_eq!(
            why(optional("note", Some("一二三四五六"), 5).expect_err("long")),
            "note: at most 5 characters"
        );
        assert_eq!(
            why(optional("reason", Some("a\u{7}b"), 5).expect_err("bell")),
            "reason: control characters are not allowed"
        );
        assert!(
            optional("note", Some("a\nb"), 5).is_ok(),
            "a line break is allowed"
        );
    }

    #[test]
    fn required_says_what_is_missing() {
        assert_eq!(
            why(required("reason", "  ", 5, "give a reason").expect_err("blank")),
            "reason: give a reason"
        );
        assert_eq!(
            required("reason", " x ", 5, "give a reason").expect("ok"),
            "x"
        );
    }
}
