//! The conditions of an indicator definition: a small language a bureau
//! official can read, parsed into [`Cond`] against the register fields each
//! source has. Codes are the glossary identifiers (the model's enumerations);
//! an unknown field or code is an error naming it.
//!
//! ```text
//! condition := term ("or" term)*
//! term      := "not" term
//!            | "has" relation
//!            | field                        (a yes/no field is yes)
//!            | field ("=" | "!=") code
//!            | field "in" "(" code ("," code)* ")"
//!            | field (">=" | "<=" | ">" | "<") number
//!            | field "has" (code | "any")  (a list field holds the code)
//!            | field "within" area-code     (an area field lies in the area)
//! relation  := "residence"                  (a care-home stay live on the day)
//!            | "service" code ("," code)*   (a service of a kind in the period)
//!            | "insurance" code ("," code)* (an enrolment covering the day)
//!            | "facility" code ("," code)*  (an operating facility in the area)
//! ```

use laoxiao_model::activity::{SkillGrade, StaffRole};
use laoxiao_model::facility::{FacilityLevel, FilingStatus, Rating};
use laoxiao_model::person::{AbilityLevel, LivingArrangement, SpecialDifficulty};
use laoxiao_model::register::EnumValue;
use laoxiao_model::{FacilityKind, ServiceKind};
use serde::Serialize;

use super::Source;

/// The insurance kinds (参保登记 险种), by glossary identifier.
pub const INSURANCE_KINDS: &[EnumValue] = laoxiao_model::activity::InsuranceKind::VALUES;

/// The position of an insurance kind's code in [`INSURANCE_KINDS`].
pub fn parse_insurance_kind(code: &str) -> Option<u8> {
    INSURANCE_KINDS
        .iter()
        .position(|v| v.code == code)
        .map(|p| p as u8)
}

/// A register field a condition can test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    // People.
    AbilityLevel,
    Dementia,
    CareInsurance,
    SpecialDifficulty,
    LivingArrangement,
    HukouAreaCode,
    /// Whole years of age at death.
    AgeAtDeath,
    // Facilities.
    Kind,
    Level,
    Rating,
    /// The rating's validity covers the day.
    RatingValid,
    Smart,
    Demonstration,
    Inclusive,
    /// Filing status 已备案 with a filing date on or before the day.
    Filed,
    FilingStatus,
    // Staff.
    Role,
    Certified,
    SkillGrade,
}

#[derive(Debug, Clone, Copy)]
enum Type {
    /// A whole number (ability levels are their number, 0–4).
    Int,
    Flag,
    Enum(&'static [EnumValue]),
    Set(&'static [EnumValue]),
    Area,
}

const PEOPLE: &[(&str, Field, Type)] = &[
    ("ability_level", Field::AbilityLevel, Type::Int),
    ("dementia", Field::Dementia, Type::Flag),
    ("care_insurance", Field::CareInsurance, Type::Flag),
    (
        "special_difficulty",
        Field::SpecialDifficulty,
        Type::Set(SpecialDifficulty::VALUES),
    ),
    (
        "living_arrangement",
        Field::LivingArrangement,
        Type::Enum(LivingArrangement::VALUES),
    ),
    ("hukou_area_code", Field::HukouAreaCode, Type::Area),
    ("age_at_death", Field::AgeAtDeath, Type::Int),
];
const FACILITIES: &[(&str, Field, Type)] = &[
    ("kind", Field::Kind, Type::Enum(FacilityKind::VALUES)),
    ("level", Field::Level, Type::Enum(FacilityLevel::VALUES)),
    ("rating", Field::Rating, Type::Enum(Rating::VALUES)),
    ("rating_valid", Field::RatingValid, Type::Flag),
    ("smart", Field::Smart, Type::Flag),
    ("demonstration", Field::Demonstration, Type::Flag),
    ("inclusive", Field::Inclusive, Type::Flag),
    ("filed", Field::Filed, Type::Flag),
    (
        "filing_status",
        Field::FilingStatus,
        Type::Enum(FilingStatus::VALUES),
    ),
];
const STAFF: &[(&str, Field, Type)] = &[
    ("role", Field::Role, Type::Enum(StaffRole::VALUES)),
    ("certified", Field::Certified, Type::Flag),
    (
        "skill_grade",
        Field::SkillGrade,
        Type::Enum(SkillGrade::VALUES),
    ),
];

fn fields(source: Source) -> &'static [(&'static str, Field, Type)] {
    match source {
        Source::Elderly | Source::Infants | Source::Births | Source::InfantDeaths => PEOPLE,
        Source::Facilities => FACILITIES,
        Source::Staff => STAFF,
        _ => &[],
    }
}

fn relations(source: Source) -> &'static [&'static str] {
    match source {
        Source::Elderly | Source::Infants | Source::Births | Source::InfantDeaths => {
            &["residence", "service", "insurance"]
        }
        Source::Towns | Source::Communities => &["facility"],
        _ => &[],
    }
}

/// Comparison of a whole-number field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum CmpOp {
    Ge,
    Le,
    Gt,
    Lt,
}

/// A related record that must exist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    /// A care-home stay (入住) live on the day.
    Residence,
    /// A service record of one of these kinds (positions in
    /// `ServiceKind::VALUES`) dated in the period (in the month, for monthly
    /// rates), and not after the day.
    Service(Vec<u8>),
    /// An insurance enrolment of one of these kinds covering the day.
    Insurance(Vec<u8>),
    /// A facility of one of these kinds operating in the area on the day.
    Facility(Vec<u8>),
}

/// A parsed condition. Enumerations are held as positions in their
/// `VALUES`, so a test is a comparison of small integers.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cond {
    Cmp(Field, CmpOp, i32),
    /// The field's value is one of these (negated: none of these).
    In(Field, Vec<u8>, bool),
    /// A list field holds this value (`None`: any value).
    Has(Field, Option<u8>),
    Flag(Field),
    /// An area field lies within the area of this code (a code prefix; the
    /// code also as a number).
    Within(Field, String, u64),
    Related(Relation),
    Not(Box<Cond>),
    Or(Vec<Cond>),
}

/// Parses one condition line for a source.
pub(super) fn condition(source: Source, text: &str) -> Result<Cond, String> {
    let text = text.trim();
    if text.len() > 500 {
        return Err("longer than 500 characters".into());
    }
    let alts: Vec<&str> = split_or(text);
    if alts.len() > 1 {
        return alts
            .into_iter()
            .map(|a| term(source, a))
            .collect::<Result<Vec<_>, _>>()
            .map(Cond::Or);
    }
    term(source, text)
}

/// Splits at " or " outside parentheses.
fn split_or(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'(' => depth += 1,
            b')' => depth -= 1,
            b' ' if depth == 0 && text[i..].starts_with(" or ") => {
                parts.push(text[start..i].trim());
                i += 4;
                start = i;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    parts.push(text[start..].trim());
    parts
}

fn codes(list: &str, values: &'static [EnumValue], what: &str) -> Result<Vec<u8>, String> {
    let inner = list.trim().trim_start_matches('(').trim_end_matches(')');
    let mut out = Vec::new();
    for c in inner.split(',') {
        let c = c.trim();
        let pos = values.iter().position(|v| v.code == c).ok_or_else(|| {
            let known: Vec<&str> = values.iter().map(|v| v.code).collect();
            format!("unknown {what} {c:?}; known: {}", known.join(", "))
        })?;
        out.push(pos as u8);
    }
    if out.is_empty() {
        return Err(format!("no {what} given"));
    }
    Ok(out)
}

fn term(source: Source, text: &str) -> Result<Cond, String> {
    let text = text.trim();
    if let Some(rest) = text.strip_prefix("not ") {
        return Ok(Cond::Not(Box::new(term(source, rest)?)));
    }
    if let Some(rest) = text.strip_prefix("has ") {
        let rest = rest.trim();
        let (name, args) = rest.split_once(' ').unwrap_or((rest, ""));
        if !relations(source).contains(&name) {
            return Err(format!("{source:?} has no related {name:?}"));
        }
        let rel = match name {
            "residence" if args.is_empty() => Relation::Residence,
            "residence" => return Err("`has residence` takes no kinds".into()),
            "service" => Relation::Service(codes(args, ServiceKind::VALUES, "service kind")?),
            "insurance" => Relation::Insurance(codes(args, INSURANCE_KINDS, "insurance kind")?),
            _ => Relation::Facility(codes(args, FacilityKind::VALUES, "facility kind")?),
        };
        return Ok(Cond::Related(rel));
    }
    let mut words = text.splitn(3, ' ');
    let name = words.next().unwrap_or_default();
    let op = words.next();
    let arg = words.next().unwrap_or_default().trim();
    let &(_, field, ty) = fields(source)
        .iter()
        .find(|(n, _, _)| *n == name)
        .ok_or_else(|| {
            let known: Vec<&str> = fields(source).iter().map(|(n, _, _)| *n).collect();
            format!(
                "{source:?} has no field {name:?}; fields: {}",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            )
        })?;
    let int = |a: &str| -> Result<i32, String> {
        a.parse::<i32>()
            .ok()
            .filter(|n| (-1000..=1000).contains(n))
            .ok_or_else(|| format!("{a:?} is not a whole number from -1000 to 1000"))
    };
    match (ty, op) {
        (Type::Flag, None) => Ok(Cond::Flag(field)),
        (Type::Int, Some(o @ (">=" | "<=" | ">" | "<"))) => {
            let op = match o {
                ">=" => CmpOp::Ge,
                "<=" => CmpOp::Le,
                ">" => CmpOp::Gt,
                _ => CmpOp::Lt,
            };
            let n = match field {
                // Ability levels are written as their number (0–4) or code.
                Field::AbilityLevel => AbilityLevel::parse(arg)
                    .map(|l| i32::from(l.number()))
                    .ok_or_else(|| format!("{arg:?} is not an ability level (0-4)"))?,
                _ => int(arg)?,
            };
            Ok(Cond::Cmp(field, op, n))
        }
        (Type::Enum(values), Some("=")) => Ok(Cond::In(field, codes(arg, values, name)?, false)),
        (Type::Enum(values), Some("!=")) => Ok(Cond::In(field, codes(arg, values, name)?, true)),
        (Type::Enum(values), Some("in")) if arg.starts_with('(') && arg.ends_with(')') => {
            Ok(Cond::In(field, codes(arg, values, name)?, false))
        }
        (Type::Set(_), Some("has")) if arg == "any" => Ok(Cond::Has(field, None)),
        (Type::Set(values), Some("has")) => {
            let c = codes(arg, values, name)?;
            Ok(Cond::Has(field, c.first().copied()))
        }
        (Type::Area, Some("within"))
            if !arg.is_empty() && arg.bytes().all(|b| b.is_ascii_digit()) && arg.len() <= 12 =>
        {
            let n = arg.parse::<u64>().map_err(|e| e.to_string())?;
            Ok(Cond::Within(field, arg.to_string(), n))
        }
        _ => Err(format!(
            "cannot read {text:?} (see the grammar in docs/indicators.md)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_each_form() {
        let e = Source::Elderly;
        assert_eq!(
            condition(e, "ability_level >= 2").expect("ge"),
            Cond::Cmp(Field::AbilityLevel, CmpOp::Ge, 2)
        );
        assert_eq!(
            condition(e, "dementia").expect("flag"),
            Cond::Flag(Field::Dementia)
        );
        assert_eq!(
            condition(e, "special_difficulty has any").expect("any"),
            Cond::Has(Field::SpecialDifficulty, None)
        );
        assert_eq!(
            condition(e, "special_difficulty has extreme_poverty").expect("has"),
            Cond::Has(Field::SpecialDifficulty, Some(0))
        );
        assert_eq!(
            condition(e, "not has residence").expect("not"),
            Cond::Not(Box::new(Cond::Related(Relation::Residence)))
        );
        assert_eq!(
            condition(e, "ability_level >= 2 or dementia").expect("or"),
            Cond::Or(vec![
                Cond::Cmp(Field::AbilityLevel, CmpOp::Ge, 2),
                Cond::Flag(Field::Dementia)
            ])
        );
        assert_eq!(
            condition(e, "hukou_area_code within 3304").expect("within"),
            Cond::Within(Field::HukouAreaCode, "3304".into(), 3304)
        );
        let f = Source::Facilities;
        match condition(
            f,
            "kind in (childcare_institution, kindergarten_nursery_class)",
        ) {
            Ok(Cond::In(Field::Kind, v, false)) => assert_eq!(v.len(), 2),
            other => panic!("{other:?}"),
        }
        match condition(Source::Towns, "has facility elderly_school") {
            Ok(Cond::Related(Relation::Facility(v))) => assert_eq!(v.len(), 1),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn errors_name_what_is_wrong() {
        let cases = [
            (
                Source::Elderly,
                "kind = elderly_institution",
                "no field \"kind\"",
            ),
            (
                Source::Facilities,
                "kind = care_castle",
                "unknown kind \"care_castle\"",
            ),
            (
                Source::Elderly,
                "has facility elderly_school",
                "no related \"facility\"",
            ),
            (
                Source::Elderly,
                "has service teleportation",
                "unknown service kind",
            ),
            (
                Source::Elderly,
                "ability_level >= 9",
                "not an ability level",
            ),
            (Source::Elderly, "hukou_area_code within abc", "cannot read"),
            (Source::Staff, "role in social_worker", "cannot read"),
            (Source::Residents, "x", "fields: none"),
        ];
        for (s, text, want) in cases {
            let e = condition(s, text).expect_err(text);
            assert!(e.contains(want), "{text}: {e}");
        }
        assert!(condition(Source::Elderly, &"x".repeat(600)).is_err());
    }
}
