//! Citizen ID number (公民身份号码), GB 11643-1999.
//!
//! Layout of the 18 characters: a 6-digit address code (GB/T 2260), the birth date
//! as YYYYMMDD, a 3-digit sequence whose last digit is odd for men and even for
//! women, and a check character (ISO 7064 MOD 11-2, 10 written as `X`).
use chrono::{Datelike, NaiveDate};

use crate::person::Sex;

/// What an ID number tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdInfo {
    pub address_code: String,
    pub birth_date: NaiveDate,
    pub sex: Sex,
}

/// Weights for positions i = 1…17: 2^(18−i) mod 11 (ISO 7064 MOD 11-2).
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// Check character for S mod 11 = 0…10.
const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];
/// Province prefixes in use; 81/82/83 are the Hong Kong, Macao and Taiwan
/// residence permits, which share the number format.
const PROVINCES: &[u8] = &[
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
    53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83,
];
const PROVINCES_TEXT: &str = "11–15, 21–23, 31–37, 41–46, 50–54, 61–65, 71, 81–83";
/// Births before this are implausible for a living person and usually a typo.
const EARLIEST_BIRTH: (i32, u32, u32) = (1880, 1, 1);

fn valid_province(p: u8) -> bool {
    PROVINCES.contains(&p)
}

/// The number with a lower-case trailing `x` made upper case and surrounding
/// blanks removed; stored numbers use this form so equal numbers compare equal.
pub fn normalize(id: &str) -> String {
    id.trim().to_ascii_uppercase()
}

/// Parses and checks an 18-character ID number. A lower-case trailing `x` is
/// accepted as `X`. Errors are plain English and name the expected value.
pub fn parse(id: &str) -> Result<IdInfo, String> {
    let chars: Vec<char> = id.chars().collect();
    if chars.iter().any(|c| c.is_whitespace()) {
        return Err("ID number contains blanks, expected 18 characters without any".into());
    }
    if chars.len() == 15 && chars.iter().all(|c| c.is_ascii_digit()) {
        // Legacy numbers lack the century and the check character; converting
        // them needs the holder's records, so the register takes only 18 digits.
        return Err(
            "15-digit legacy ID number, expected 18 characters: convert it by inserting \
                    19 before the 2-digit year and appending the check character"
                .into(),
        );
    }
    if chars.len() != 18 {
        return Err(format!(
            "ID number has {} characters, expected 18",
            chars.len()
        ));
    }
    if let Some((i, c)) = chars[..17]
        .iter()
        .enumerate()
        .find(|(_, c)| !c.is_ascii_digit())
    {
        return Err(format!("character {} is '{c}', expected a digit", i + 1));
    }
    let last = chars[17].to_ascii_uppercase();
    if !(last.is_ascii_digit() || last == 'X') {
        return Err(format!(
            "check character is '{}', expected a digit or X",
            chars[17]
        ));
    }
    let first17: String = chars[..17].iter().collect();
    let digits: Vec<u32> = chars[..17].iter().filter_map(|c| c.to_digit(10)).collect();
    let num = |r: std::ops::Range<usize>| digits[r].iter().fold(0u32, |acc, d| acc * 10 + d);

    let province = num(0..2) as u8;
    if !valid_province(province) {
        return Err(format!(
            "province code {:02} is not valid, expected one of {PROVINCES_TEXT}",
            province
        ));
    }
    let date_text = &first17[6..14];
    let (y, m, d) = (num(6..10) as i32, num(10..12), num(12..14));
    let birth_date = NaiveDate::from_ymd_opt(y, m, d).ok_or_else(|| {
        format!("birth date {date_text} is not a real calendar date, expected YYYYMMDD")
    })?;
    let (ey, em, ed) = EARLIEST_BIRTH;
    if birth_date < NaiveDate::from_ymd_opt(ey, em, ed).unwrap_or(NaiveDate::MIN) {
        return Err(format!(
            "birth date {date_text} is before 1880-01-01, expected a later date"
        ));
    }
    let expected = check_of(&digits);
    if last != expected {
        return Err(format!("check character is {last}, expected {expected}"));
    }
    let sex = if digits[16] % 2 == 1 {
        Sex::Male
    } else {
        Sex::Female
    };
    Ok(IdInfo {
        address_code: first17[..6].to_string(),
        birth_date,
        sex,
    })
}

/// Check character for 17 digit values.
fn check_of(digits: &[u32]) -> char {
    let s: u32 = digits.iter().zip(WEIGHTS).map(|(d, w)| d * w).sum();
    CHECK[(s % 11) as usize]
}

/// Check character for the first 17 digits; `None` unless `first17` is exactly
/// 17 ASCII digits.
pub fn check_char(first17: &str) -> Option<char> {
    let digits: Vec<u32> = first17
        .chars()
        .map(|c| c.to_digit(10))
        .collect::<Option<_>>()?;
    (digits.len() == 17).then(|| check_of(&digits))
}

/// Builds a number from a 6-digit address code, a birth date and a sequence
/// (taken mod 1000; odd last digit = male). Used by the synthetic data generator.
///
/// If `address6` is not six ASCII digits the result cannot be valid; its check
/// character is then `?` so that [`parse`] rejects it rather than this panicking.
pub fn make(address6: &str, birth: NaiveDate, seq3: u16) -> String {
    let first17 = format!(
        "{address6}{:04}{:02}{:02}{:03}",
        birth.year(),
        birth.month(),
        birth.day(),
        seq3 % 1000
    );
    let check = check_char(&first17).unwrap_or('?');
    format!("{first17}{check}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("date")
    }

    #[test]
    fn standard_vector_is_valid() {
        let info = parse("11010519491231002X").expect("valid");
        assert_eq!(info.address_code, "110105");
        assert_eq!(info.birth_date, date(1949, 12, 31));
        assert_eq!(info.sex, Sex::Female);
        assert_eq!(check_char("11010519491231002"), Some('X'));
    }

    #[test]
    fn weights_are_powers_of_two_mod_11() {
        for (i, w) in WEIGHTS.iter().enumerate() {
            assert_eq!(*w, (1u32 << (17 - i)) % 11);
        }
    }

    #[test]
    fn wrong_check_character() {
        let e = parse("110105194912310023").expect_err("wrong check");
        assert_eq!(e, "check character is 3, expected X");
    }

    #[test]
    fn impossible_date() {
        let id = make("330402", date(1999, 2, 28), 123).replace("19990228", "19990230");
        // Recompute the check character so only the date is wrong.
        let id = format!("{}{}", &id[..17], check_char(&id[..17]).expect("digits"));
        let e = parse(&id).expect_err("bad date");
        assert!(
            e.contains("19990230") && e.contains("not a real calendar date"),
            "{e}"
        );
        let early = make("330402", date(1879, 12, 31), 1);
        assert!(
            parse(&early)
                .expect_err("too early")
                .contains("before 1880-01-01")
        );
        assert!(parse(&make("330402", date(1880, 1, 1), 1)).is_ok());
    }

    #[test]
    fn lower_case_x_is_accepted() {
        let info = parse("11010519491231002x").expect("lower-case x");
        assert_eq!(info.birth_date, date(1949, 12, 31));
        assert_eq!(normalize(" 11010519491231002x "), "11010519491231002X");
    }

    #[test]
    fn fifteen_digit_numbers_are_rejected() {
        let e = parse("110105491231002").expect_err("legacy");
        assert!(e.contains("15-digit") && e.contains("convert"), "{e}");
    }

    #[test]
    fn other_malformed_numbers() {
        assert!(
            parse("")
                .expect_err("empty")
                .contains("0 characters, expected 18")
        );
        assert!(
            parse("1101051949123100")
                .expect_err("16")
                .contains("16 characters")
        );
        assert!(
            parse("11010519491231002X ")
                .expect_err("blank")
                .contains("blanks")
        );
        assert_eq!(
            parse("1101051949123100AX").expect_err("letter"),
            "character 17 is 'A', expected a digit"
        );
        assert!(
            parse("11010519491231002Y")
                .expect_err("Y")
                .contains("expected a digit or X")
        );
        let bad_province = make("990105", date(1949, 12, 31), 2);
        assert!(
            parse(&bad_province)
                .expect_err("province")
                .contains("province code 99")
        );
        // Full-width digits are not ASCII digits.
        assert!(parse("１１0105194912310020").is_err());
        assert_eq!(check_char("1101051949123100"), None);
        assert_eq!(check_char("1101051949123100A"), None);
    }

    #[test]
    fn sex_from_digit_17() {
        for seq in 0..20u16 {
            let info = parse(&make("330402", date(1950, 6, 1), seq)).expect("valid");
            let want = if seq % 2 == 1 { Sex::Male } else { Sex::Female };
            assert_eq!(info.sex, want, "seq {seq}");
        }
    }

    #[test]
    fn province_codes() {
        for p in [
            11, 15, 21, 23, 31, 37, 41, 46, 50, 54, 61, 65, 71, 81, 82, 83,
        ] {
            assert!(
                parse(&make(&format!("{p}0101"), date(1990, 1, 1), 11)).is_ok(),
                "{p}"
            );
        }
        for p in [
            0, 10, 16, 20, 24, 30, 38, 40, 47, 49, 55, 60, 66, 70, 72, 80, 84, 99,
        ] {
            assert!(
                parse(&make(&format!("{p:02}0101"), date(1990, 1, 1), 11)).is_err(),
                "{p}"
            );
        }
    }

    #[test]
    fn make_round_trips_through_parse() {
        let mut state: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = move || {
            // xorshift64: deterministic and dependency-free.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let start = date(1880, 1, 1);
        for _ in 0..5000 {
            let province = PROVINCES[(next() % PROVINCES.len() as u64) as usize];
            let address = format!("{province:02}{:04}", next() % 10_000);
            let birth = start + chrono::Days::new(next() % 53_000);
            let seq = (next() % 1000) as u16;
            let id = make(&address, birth, seq);
            assert_eq!(id.len(), 18);
            let info = parse(&id).unwrap_or_else(|e| panic!("{id}: {e}"));
            assert_eq!(info.address_code, address);
            assert_eq!(info.birth_date, birth);
            assert_eq!(info.sex == Sex::Male, seq % 2 == 1);
        }
        assert!(make("33040", date(1990, 1, 1), 1).ends_with('?'));
    }
}
