//! Unified social credit code (统一社会信用代码), GB 32100-2015.
//!
//! Layout of the 18 characters: registering department (1), entity type (1),
//! administrative division code (6 digits), entity identifier — the GB 11714
//! organization code (9), check character (1).

/// The code alphabet; each character's value is its index. I, O, S, V and Z are
/// left out because they are easily misread as 1, 0, 5, U and 2.
pub const ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
/// Weights for positions 1–17: 3^(i−1) mod 31.
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

fn value(c: char) -> Option<u32> {
    ALPHABET.find(c).map(|i| i as u32)
}

fn alphabet_char(v: u32) -> Option<char> {
    ALPHABET.chars().nth(v as usize)
}

/// Checks an 18-character code: alphabet, upper case, digits in characters 3–8
/// and the check character. Errors are plain English and name the expected value.
pub fn validate(code: &str) -> Result<(), String> {
    let chars: Vec<char> = code.chars().collect();
    if chars.len() != 18 {
        return Err(format!(
            "credit code has {} characters, expected 18",
            chars.len()
        ));
    }
    for (i, &c) in chars.iter().enumerate() {
        let pos = i + 1;
        if c.is_ascii_lowercase() {
            // Lower case is not part of the standard; saying so beats a vague
            // "invalid character" when someone typed the right code.
            return Err(format!(
                "character {pos} is '{c}': the credit code must be upper case"
            ));
        }
        if matches!(c, 'I' | 'O' | 'S' | 'V' | 'Z') {
            return Err(format!(
                "character {pos} is '{c}', which credit codes never use (no I, O, S, V, Z), expected one of {ALPHABET}"
            ));
        }
        if value(c).is_none() {
            return Err(format!(
                "character {pos} is '{c}', expected one of {ALPHABET}"
            ));
        }
        if (3..=8).contains(&pos) && !c.is_ascii_digit() {
            return Err(format!(
                "character {pos} is '{c}', expected a digit (characters 3–8 are the division code)"
            ));
        }
    }
    let first17: String = chars[..17].iter().collect();
    let expected = check_char(&first17)
        .ok_or_else(|| "credit code has characters outside the alphabet".to_string())?;
    if chars[17] != expected {
        return Err(format!(
            "check character is {}, expected {expected}",
            chars[17]
        ));
    }
    Ok(())
}

/// Check character for the first 17 characters; `None` unless `first17` is 17
/// characters of the (upper-case) alphabet.
pub fn check_char(first17: &str) -> Option<char> {
    let values: Vec<u32> = first17.chars().map(value).collect::<Option<_>>()?;
    if values.len() != 17 {
        return None;
    }
    let s: u32 = values.iter().zip(WEIGHTS).map(|(v, w)| v * w).sum();
    // r = 31 − (S mod 31), with 31 meaning 0; r = 30 is 'Y', not '0' — a common
    // bug in public validators.
    let r = (31 - s % 31) % 31;
    alphabet_char(r)
}

/// The full code for 17 leading characters, with its check character appended;
/// `None` if `first17` is not 17 characters of the alphabet.
pub fn make(first17: &str) -> Option<String> {
    let c = check_char(first17)?;
    Some(format!("{first17}{c}"))
}

/// The embedded organization code's own check (GB 11714, characters 9–17):
/// `Some(message)` when it fails. Implementations disagree on enforcing it, and
/// some registrations carry placeholder organization codes, so callers treat this
/// as a warning rather than an error. `None` when it passes or cannot be read.
pub fn org_code_warning(code: &str) -> Option<String> {
    const W: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];
    let chars: Vec<char> = code.chars().collect();
    if chars.len() != 18 {
        return None;
    }
    let org = &chars[8..17];
    let mut s = 0;
    for (c, w) in org[..8].iter().zip(W) {
        // Digits are 0–9 and letters A = 10 … Z = 35.
        s += c.to_digit(36)? * w;
    }
    let expected = match 11 - s % 11 {
        10 => 'X',
        11 => '0',
        n => char::from_digit(n, 10)?,
    };
    (org[8] != expected).then(|| {
        let org: String = org.iter().collect();
        format!(
            "organization code {org} has check character {}, expected {expected}",
            chars[16]
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_vector_is_valid() {
        assert_eq!(validate("91350100M000100Y43"), Ok(()));
        assert_eq!(check_char("91350100M000100Y4"), Some('3'));
        assert_eq!(
            make("91350100M000100Y4").as_deref(),
            Some("91350100M000100Y43")
        );
        assert_eq!(org_code_warning("91350100M000100Y43"), None);
    }

    #[test]
    fn weights_are_powers_of_three_mod_31() {
        let mut p = 1;
        for w in WEIGHTS {
            assert_eq!(w, p);
            p = p * 3 % 31;
        }
        assert_eq!(ALPHABET.len(), 31);
    }

    #[test]
    fn wrong_check_character() {
        assert_eq!(
            validate("91350100M000100Y44"),
            Err("check character is 4, expected 3".to_string())
        );
    }

    #[test]
    fn forbidden_letters_and_lower_case() {
        for bad in ['I', 'O', 'S', 'V', 'Z'] {
            let code = format!("91350100M000100{bad}43");
            let e = validate(&code).expect_err("forbidden");
            assert!(e.contains("character 16") && e.contains("never use"), "{e}");
        }
        let e = validate("91350100m000100Y43").expect_err("lower case");
        assert!(e.contains("character 9") && e.contains("upper case"), "{e}");
        assert!(
            validate("91350100M000100Y4-")
                .expect_err("symbol")
                .contains("expected one of")
        );
        assert_eq!(check_char("91350100M000100I4"), None);
        assert_eq!(check_char("91350100m000100Y4"), None);
    }

    #[test]
    fn division_code_must_be_digits() {
        let code = make("913501A0M000100Y4").expect("alphabet");
        let e = validate(&code).expect_err("letter in division code");
        assert!(
            e.contains("character 7") && e.contains("expected a digit"),
            "{e}"
        );
    }

    #[test]
    fn length() {
        assert!(
            validate("")
                .expect_err("empty")
                .contains("0 characters, expected 18")
        );
        assert!(
            validate("91350100M000100Y4")
                .expect_err("17")
                .contains("17 characters")
        );
        assert!(
            validate("91350100M000100Y433")
                .expect_err("19")
                .contains("19 characters")
        );
        assert_eq!(check_char("91350100M000100Y"), None);
        assert_eq!(make("91350100M000100Y43"), None);
    }

    #[test]
    fn check_value_30_is_y() {
        // Vary the last two identifier characters until the check value is 30.
        let base = "91330402MA2B3C4";
        let mut found = None;
        'search: for a in ALPHABET.chars() {
            for b in ALPHABET.chars() {
                let first17 = format!("{base}{a}{b}");
                let values: Vec<u32> = first17
                    .chars()
                    .map(|c| value(c).expect("alphabet"))
                    .collect();
                let s: u32 = values.iter().zip(WEIGHTS).map(|(v, w)| v * w).sum();
                if s % 31 == 1 {
                    found = Some(first17);
                    break 'search;
                }
            }
        }
        let first17 = found.expect("some suffix gives r = 30");
        assert_eq!(check_char(&first17), Some('Y'));
        let code = make(&first17).expect("code");
        assert!(code.ends_with('Y'));
        assert_eq!(validate(&code), Ok(()));
        let wrong = format!("{first17}0");
        assert_eq!(
            validate(&wrong),
            Err("check character is 0, expected Y".to_string())
        );
    }

    #[test]
    fn check_value_31_is_0() {
        let base = "91330402MA2B3C4";
        let first17 = ALPHABET
            .chars()
            .map(|a| format!("{base}0{a}"))
            .chain(ALPHABET.chars().map(|a| format!("{base}1{a}")))
            .find(|f| {
                let s: u32 = f
                    .chars()
                    .zip(WEIGHTS)
                    .map(|(c, w)| value(c).expect("alphabet") * w)
                    .sum();
                s.is_multiple_of(31)
            })
            .expect("some suffix gives S mod 31 = 0");
        assert_eq!(check_char(&first17), Some('0'));
    }

    #[test]
    fn organization_code_warning() {
        let w = org_code_warning("91350100M000100Y53").expect("inner check fails");
        assert!(w.contains("M000100Y5") && w.contains("expected 4"), "{w}");
        // Results 10 and 11 are written X and 0.
        assert_eq!(org_code_warning("9135010040000000X0"), None);
        assert!(
            org_code_warning("913501004000000010")
                .expect("1 for X")
                .contains("expected X")
        );
        assert_eq!(org_code_warning("913501000000000000"), None);
        assert!(
            org_code_warning("913501000000000010")
                .expect("1 for 0")
                .contains("expected 0")
        );
        assert_eq!(org_code_warning("short"), None);
    }
}
