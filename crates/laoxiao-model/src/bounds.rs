//! Plausible ranges of every count and amount, and the rules every text field
//! follows, in one place. Each record's `validate` applies them, so every write
//! path (API create and update, console forms, CSV/XLSX import, bulk loads)
//! refuses the same values with the same message. `docs/import-formats.md`
//! lists the ranges; a test keeps that table and this file in step.
//!
//! The ranges are generous on purpose: they refuse typing slips and hostile
//! values (a bed count of 9,223,372,036,854,775,807 made the city's totals
//! overflow), not large but real institutions. Their sums over every facility
//! of a province stay far below `i64::MAX`.

use crate::error::FieldError;

/// The allowed range of one numeric field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bound {
    /// The field as the API and the import columns name it.
    pub field: &'static str,
    /// Smallest and largest allowed value, in the field's stored unit.
    pub min: i64,
    pub max: i64,
    /// Stored units per displayed unit (100 for fees stored in fen, shown in yuan).
    pub scale: i64,
    /// The displayed unit, for messages (empty for plain counts).
    pub unit: &'static str,
    /// Why the range is what it is.
    pub why: &'static str,
}

impl Bound {
    const fn count(field: &'static str, min: i64, max: i64, why: &'static str) -> Bound {
        Bound {
            field,
            min,
            max,
            scale: 1,
            unit: "",
            why,
        }
    }

    /// True when `v` lies in the range.
    pub fn contains(&self, v: i64) -> bool {
        (self.min..=self.max).contains(&v)
    }

    fn show(&self, v: i64) -> String {
        let s = if self.scale == 1 {
            v.to_string()
        } else {
            // Exact: i128 keeps i64::MIN's magnitude.
            let v = i128::from(v);
            let s = i128::from(self.scale);
            let sign = if v < 0 { "-" } else { "" };
            let (whole, frac) = (v.abs() / s, v.abs() % s);
            if frac == 0 {
                format!("{sign}{whole}")
            } else {
                format!("{sign}{whole}.{frac:02}")
            }
        };
        if self.unit.is_empty() {
            s
        } else {
            format!("{s} {}", self.unit)
        }
    }

    /// The reason a value outside the range is refused, naming the range.
    pub fn reason(&self, v: i64) -> String {
        format!(
            "{} is outside the plausible range {} to {}",
            self.show(v),
            self.show(self.min),
            self.show(self.max)
        )
    }

    /// Pushes an error for `v` when it lies outside the range.
    pub fn check(&self, v: i64, errs: &mut Vec<FieldError>) {
        if !self.contains(v) {
            errs.push(FieldError::new(self.field, self.reason(v)));
        }
    }

    /// [`Bound::check`] for an optional value.
    pub fn check_opt(&self, v: Option<i64>, errs: &mut Vec<FieldError>) {
        if let Some(v) = v {
            self.check(v, errs);
        }
    }

    /// `v` moved into the range: for reading rows stored before the ranges
    /// were enforced, so that sums of them cannot overflow.
    pub fn clamp(&self, v: i64) -> i64 {
        v.clamp(self.min, self.max)
    }
}

/// 养老床位 of one facility. China's largest care homes have a few thousand beds.
pub const BEDS: Bound = Bound::count(
    "beds",
    0,
    20_000,
    "the largest care homes in China have a few thousand beds",
);
/// 护理型床位 (also at most `beds`).
pub const NURSING_BEDS: Bound = Bound::count("nursing_beds", 0, 20_000, "a share of beds");
/// 认知障碍床位 (also at most `beds`).
pub const DEMENTIA_BEDS: Bound = Bound::count("dementia_beds", 0, 20_000, "a share of beds");
/// 核定托位数 of one facility.
pub const APPROVED_SLOTS: Bound = Bound::count(
    "approved_slots",
    0,
    5_000,
    "childcare institutions approve tens to a few hundred places",
);
/// Places in one class (also at most the national maximum for its type).
pub const CLASS_CAPACITY: Bound = Bound::count(
    "capacity",
    1,
    100,
    "the national maxima are 10 to 20 children per class",
);
/// Children enrolled in one class (also at most its capacity).
pub const CLASS_ENROLLED: Bound = Bound::count("enrolled", 0, 100, "at most the capacity");
/// Caregivers assigned to one class.
pub const CLASS_CAREGIVERS: Bound = Bound::count(
    "caregivers",
    0,
    50,
    "a class of at most 20 children has a few caregivers",
);
/// Monthly fee of a class, stored in fen, imported and shown in yuan.
pub const MONTHLY_FEE: Bound = Bound {
    field: "monthly_fee_yuan",
    min: 0,
    max: 10_000_000,
    scale: 100,
    unit: "yuan",
    why: "childcare costs hundreds to a few thousand yuan a month",
};
/// Price of one unit of a catalogue service (服务目录单价), in fen, shown in yuan.
pub const SERVICE_PRICE: Bound = Bound {
    field: "price_yuan",
    min: 0,
    max: 10_000_000,
    scale: 100,
    unit: "yuan",
    why: "a home service costs a few to a few thousand yuan",
};
/// 孩次 of an infant.
pub const BIRTH_ORDER: Bound = Bound::count("birth_order", 1, 20, "a family's n-th child");
/// Students enrolled in one intake of a programme.
pub const COHORT_ENROLLED: Bound = Bound::count(
    "enrolled",
    0,
    100_000,
    "an intake of one programme at one school is tens to hundreds",
);
/// Graduates of one intake (also at most its enrolled).
pub const COHORT_GRADUATED: Bound = Bound::count("graduated", 0, 100_000, "at most the enrolled");

/// Intake year of a programme (also at most the current year).
pub const INTAKE_YEAR: Bound =
    Bound::count("intake_year", 1950, 2100, "a year; not after this year");

/// 每月服务时长 of a home-care bed contract (家庭养老床位), in hours: a month
/// has at most 744 hours.
pub const CARE_HOURS: Bound = Bound::count(
    "hours_per_month",
    1,
    744,
    "a month has at most 744 hours; contracts plan a few to tens of hours",
);

/// Every numeric range, for the documentation test and for readers.
pub const ALL: &[Bound] = &[
    BEDS,
    NURSING_BEDS,
    DEMENTIA_BEDS,
    APPROVED_SLOTS,
    CLASS_CAPACITY,
    CLASS_ENROLLED,
    CLASS_CAREGIVERS,
    MONTHLY_FEE,
    BIRTH_ORDER,
    COHORT_ENROLLED,
    COHORT_GRADUATED,
    INTAKE_YEAR,
    SERVICE_PRICE,
    CARE_HOURS,
];

/// Longest single-line text field, in characters (names, addresses, ids).
pub const MAX_TEXT_CHARS: usize = 500;
/// Longest multi-line text field (a service record's note), in characters.
pub const MAX_NOTE_CHARS: usize = 4_000;

/// Why `c` may not appear in a text field, or `None` when it may.
fn bad_char(c: char, multi_line: bool) -> Option<&'static str> {
    match c {
        '\n' | '\r' | '\t' if multi_line => None,
        '\0' => Some("a NUL character"),
        // C0 controls, DEL and the C1 controls: invisible, they break
        // terminals, CSV consumers and PostgreSQL (which refuses NUL).
        '\u{1}'..='\u{1f}' | '\u{7f}'..='\u{9f}' => Some("a control character"),
        _ => None,
    }
}

/// Checks a text field: no control characters (line breaks and tabs only where
/// `multi_line`), at most [`MAX_TEXT_CHARS`] (or [`MAX_NOTE_CHARS`]) characters.
pub fn check_text(field: &str, v: &str, multi_line: bool, errs: &mut Vec<FieldError>) {
    let max = if multi_line {
        MAX_NOTE_CHARS
    } else {
        MAX_TEXT_CHARS
    };
    // Fast path for the common case (a million rows of names and addresses):
    // no byte that could start a control character (C0, DEL, or 0xC2, the
    // lead byte of the C1 controls in UTF-8) and too few bytes to be too long.
    if v.len() <= max && !v.bytes().any(|b| b < 0x20 || b == 0x7f || b == 0xc2) {
        return;
    }
    let mut n = 0;
    for (i, c) in v.chars().enumerate() {
        n += 1;
        if let Some(what) = bad_char(c, multi_line) {
            errs.push(FieldError::new(
                field,
                format!(
                    "contains {what} (U+{:04X}) at character {}; {}",
                    c as u32,
                    i + 1,
                    if multi_line {
                        "only line breaks and tabs are allowed"
                    } else {
                        "control characters, line breaks and tabs are not allowed here"
                    }
                ),
            ));
            return;
        }
    }
    if n > max {
        errs.push(FieldError::new(
            field,
            format!("is {n} characters long; at most {max} are allowed"),
        ));
    }
}

/// [`check_text`] for an optional single-line field.
pub fn check_opt_text(field: &str, v: Option<&str>, errs: &mut Vec<FieldError>) {
    if let Some(v) = v {
        check_text(field, v, false, errs);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_name_field_and_range() {
        let mut errs = Vec::new();
        BEDS.check(i64::MAX, &mut errs);
        BEDS.check(120, &mut errs);
        MONTHLY_FEE.check(-150, &mut errs);
        assert_eq!(errs.len(), 2);
        assert_eq!(errs[0].field, "beds");
        assert_eq!(
            errs[0].reason,
            "9223372036854775807 is outside the plausible range 0 to 20000"
        );
        assert_eq!(
            errs[1].reason,
            "-1.50 yuan is outside the plausible range 0 yuan to 100000 yuan"
        );
        assert_eq!(BEDS.clamp(i64::MAX), 20_000);
        assert_eq!(BEDS.clamp(-5), 0);
        let mut errs = Vec::new();
        MONTHLY_FEE.check(i64::MIN, &mut errs);
        assert!(errs[0].reason.starts_with("-92233720368547758.08 yuan"));
    }

    #[test]
    fn text_refuses_control_characters() {
        let mut errs = Vec::new();
        check_text("name", "张三", false, &mut errs);
        check_text("note", "第一行\n第二行\r\n\t缩进", true, &mut errs);
        assert!(errs.is_empty(), "{errs:?}");
        for bad in ["a\0b", "a\u{1}", "a\nb", "x\ty", "\u{7f}", "\u{85}"] {
            let mut errs = Vec::new();
            check_text("name", bad, false, &mut errs);
            assert_eq!(errs.len(), 1, "{bad:?}");
            assert!(errs[0].reason.contains("U+"), "{}", errs[0].reason);
        }
        let mut errs = Vec::new();
        check_text("note", "a\0", true, &mut errs);
        check_text("name", &"字".repeat(MAX_TEXT_CHARS + 1), false, &mut errs);
        assert_eq!(errs.len(), 2);
        assert!(errs[1].reason.contains("at most 500"));
    }

    /// The documentation lists every range as the code has it.
    #[test]
    fn docs_list_every_range() {
        let doc = include_str!("../../../docs/import-formats.md");
        for b in ALL {
            let row = format!("| `{}` | {} | {} |", b.field, b.show(b.min), b.show(b.max));
            assert!(doc.contains(&row), "docs/import-formats.md lacks {row}");
        }
    }
}
