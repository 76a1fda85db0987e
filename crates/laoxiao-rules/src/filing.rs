//! Childcare institution filing (托育机构备案): the documents an institution
//! uploads, the review deadlines of the county health commission, and the
//! checks on the filing form (备案书). The figures and the document list are
//! dated data in `data/policy/filing.toml` (《托育机构登记和备案办法（试行）》
//! 国卫办人口发〔2019〕25号 art. 7–10; 《托育机构设置标准（试行）》 art. 11 for
//! the site); the entry in force on a day applies.

use chrono::{Datelike, Months, NaiveDate, Weekday};
use laoxiao_model::CareType;
use serde::{Deserialize, Serialize};

use crate::error::RulesError;

const TEXT: &str = include_str!("../../../data/policy/filing.toml");

/// The most document types a rule set may list.
const MAX_DOCUMENTS: usize = 30;
/// The most places (托位) one filing may declare: far above any institution.
pub const MAX_PLACES: i64 = 2_000;
/// The longest free-text field of the form, in characters.
pub const MAX_TEXT: usize = 200;

/// When a document type must be uploaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Required {
    Always,
    /// Only for an institution that serves meals (food licence).
    IfMeals,
    Never,
}

/// A document type of the filing (备案材料).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentType {
    pub code: String,
    pub zh: String,
    pub en: String,
    pub required: Required,
    pub clause: String,
}

/// The filing rules in force on a day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilingRules {
    pub from: NaiveDate,
    pub clause: String,
    pub review_working_days: u32,
    pub review_clause: String,
    pub notice_working_days: u32,
    pub notice_clause: String,
    pub correction_working_days: u32,
    pub correction_clause: String,
    pub min_lease_years: u32,
    pub lease_clause: String,
    #[serde(rename = "document")]
    pub documents: Vec<DocumentType>,
}

#[derive(Deserialize)]
struct File {
    rules: Vec<FilingRules>,
}

/// Every dated rule set, oldest first.
#[derive(Debug, Clone)]
pub struct FilingBook {
    sets: Vec<FilingRules>,
}

fn bad(reason: impl Into<String>) -> RulesError {
    RulesError::Parameters {
        file: "data/policy/filing.toml".into(),
        reason: reason.into(),
    }
}

impl FilingBook {
    /// The embedded rules (parsed once).
    pub fn embedded() -> Result<&'static FilingBook, RulesError> {
        static BOOK: std::sync::OnceLock<Result<FilingBook, RulesError>> =
            std::sync::OnceLock::new();
        crate::parsed_once(&BOOK, || FilingBook::parse(TEXT))
    }

    /// Parses and checks a rules file: bounded day counts, unique document
    /// codes of lowercase letters, digits and `_`, at least one required.
    pub fn parse(text: &str) -> Result<FilingBook, RulesError> {
        let f: File = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        let mut sets = f.rules;
        if sets.is_empty() {
            return Err(bad("no [[rules]] entry"));
        }
        sets.sort_by_key(|s| s.from);
        for s in &sets {
            let at = format!("rules from {}", s.from);
            for (name, n) in [
                ("review_working_days", s.review_working_days),
                ("notice_working_days", s.notice_working_days),
                ("correction_working_days", s.correction_working_days),
            ] {
                if !(1..=120).contains(&n) {
                    return Err(bad(format!("{at}: {name} must be 1–120")));
                }
            }
            if s.min_lease_years > 30 {
                return Err(bad(format!("{at}: min_lease_years must be 0–30")));
            }
            if s.documents.is_empty() || s.documents.len() > MAX_DOCUMENTS {
                return Err(bad(format!("{at}: 1 to {MAX_DOCUMENTS} document types")));
            }
            let mut seen: Vec<&str> = Vec::new();
            for d in &s.documents {
                let ok = !d.code.is_empty()
                    && d.code.len() <= 40
                    && d.code
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
                if !ok || seen.contains(&d.code.as_str()) {
                    return Err(bad(format!(
                        "{at}: bad or repeated document code {:?}",
                        d.code
                    )));
                }
                seen.push(&d.code);
            }
            if !s.documents.iter().any(|d| d.required == Required::Always) {
                return Err(bad(format!("{at}: no document is required")));
            }
        }
        Ok(FilingBook { sets })
    }

    /// The rules in force on `day` (the first set before its date: a filing
    /// dated before the 备案办法 is read under it).
    pub fn on(&self, day: NaiveDate) -> &FilingRules {
        let first = &self.sets[0];
        self.sets
            .iter()
            .rev()
            .find(|s| s.from <= day)
            .unwrap_or(first)
    }
}

impl FilingRules {
    /// The document type with this code.
    pub fn document(&self, code: &str) -> Option<&DocumentType> {
        self.documents.iter().find(|d| d.code == code)
    }

    /// The document types still missing for a filing that holds `present`.
    pub fn missing<'a>(&'a self, present: &[&str], serves_meals: bool) -> Vec<&'a DocumentType> {
        self.documents
            .iter()
            .filter(|d| match d.required {
                Required::Always => true,
                Required::IfMeals => serves_meals,
                Required::Never => false,
            })
            .filter(|d| !present.contains(&d.code.as_str()))
            .collect()
    }

    /// The review deadline of materials received on `day` (art. 9).
    pub fn review_deadline(&self, day: NaiveDate) -> NaiveDate {
        add_working_days(day, self.review_working_days)
    }

    /// The deadline to answer a request for corrections made on `day`.
    pub fn correction_deadline(&self, day: NaiveDate) -> NaiveDate {
        add_working_days(day, self.correction_working_days)
    }
}

/// `day` plus `n` working days (Monday to Friday). Public holidays and the
/// weekend days worked in their place (调休) are not modelled: a deadline
/// over a holiday falls early, never late, which errs on the side of the
/// applicant being answered in time.
pub fn add_working_days(day: NaiveDate, n: u32) -> NaiveDate {
    let mut d = day;
    let mut left = n;
    while left > 0 {
        let Some(next) = d.succ_opt() else {
            return d;
        };
        d = next;
        if !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
            left -= 1;
        }
    }
    d
}

/// The filing form (备案书): what the institution declares. The name,
/// credit code and address come from the facility register; these are the
/// filing's own fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilingForm {
    /// 机构负责人: the director's name (published with the filing).
    #[serde(default)]
    pub director_name: String,
    /// 联系电话: the institution's contact number.
    #[serde(default)]
    pub contact_phone: String,
    /// 托位数: the places the institution files for.
    #[serde(default)]
    pub places: i64,
    /// 服务类型: the care types offered (`full_day`, `half_day`, `hourly`, `temporary`).
    #[serde(default)]
    pub care_types: Vec<String>,
    /// 是否提供餐食: a food licence is then required.
    #[serde(default)]
    pub serves_meals: bool,
    /// 场地自有: the site is owned (no lease).
    #[serde(default)]
    pub site_owned: bool,
    /// 租赁期满日: the end of the site's lease (required unless owned).
    #[serde(default)]
    pub lease_until: Option<NaiveDate>,
}

/// A field of the form that breaks a rule, with the reason (the clause named).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormError {
    pub field: &'static str,
    pub reason: String,
}

fn text_ok(s: &str) -> bool {
    s.chars().count() <= MAX_TEXT && !s.chars().any(char::is_control)
}

impl FilingForm {
    /// Every breach of the form on `day` (empty when it may be submitted).
    /// `for_cancellation` skips the fields a cancellation does not declare.
    pub fn check(
        &self,
        rules: &FilingRules,
        day: NaiveDate,
        for_cancellation: bool,
    ) -> Vec<FormError> {
        let mut out = Vec::new();
        let mut err = |field: &'static str, reason: String| out.push(FormError { field, reason });
        let name = self.director_name.trim();
        if name.is_empty() {
            err("director_name", "the director's name is required".into());
        } else if !text_ok(name) {
            err(
                "director_name",
                format!("at most {MAX_TEXT} characters, no control characters"),
            );
        }
        let phone = self.contact_phone.trim();
        let phone_ok = (5..=20).contains(&phone.len())
            && phone
                .bytes()
                .all(|b| b.is_ascii_digit() || b == b'-' || b == b'+' || b == b' ');
        if !phone_ok {
            err(
                "contact_phone",
                "a phone number of 5 to 20 digits (with -, + or spaces) is required".into(),
            );
        }
        if for_cancellation {
            return out;
        }
        if !(1..=MAX_PLACES).contains(&self.places) {
            err(
                "places",
                format!("the places filed for must be 1 to {MAX_PLACES}"),
            );
        }
        if self.care_types.is_empty() {
            err(
                "care_types",
                "at least one care type (全日托, 半日托, 计时托, 临时托)".into(),
            );
        } else if self.care_types.len() > CareType::ALL.len() {
            err("care_types", "each care type at most once".into());
        } else {
            for (i, t) in self.care_types.iter().enumerate() {
                if CareType::parse(t).is_none() {
                    err(
                        "care_types",
                        format!("{t:?} is not a care type (full_day, half_day, hourly, temporary)"),
                    );
                } else if self.care_types[..i].contains(t) {
                    err("care_types", format!("{t} is given twice"));
                }
            }
        }
        if !self.site_owned {
            let need = day
                .checked_add_months(Months::new(12 * rules.min_lease_years))
                .unwrap_or(day);
            match self.lease_until {
                None => err(
                    "lease_until",
                    format!(
                        "the lease's end date is required unless the site is owned ({})",
                        rules.lease_clause
                    ),
                ),
                Some(until) if until < need => err(
                    "lease_until",
                    format!(
                        "the lease ends on {until}; it must run at least {} years, to {need} or later ({})",
                        rules.min_lease_years, rules.lease_clause
                    ),
                ),
                Some(_) => {}
            }
        }
        out
    }

    /// The breaches of the form's bounds, which even a draft must keep: text
    /// lengths, the places from 0 to [`MAX_PLACES`], at most four care types.
    pub fn out_of_bounds(&self) -> Vec<FormError> {
        let mut out = Vec::new();
        if self.director_name.chars().count() > MAX_TEXT {
            out.push(FormError {
                field: "director_name",
                reason: format!("at most {MAX_TEXT} characters"),
            });
        }
        if self.contact_phone.chars().count() > 20 {
            out.push(FormError {
                field: "contact_phone",
                reason: "at most 20 characters".into(),
            });
        }
        if !(0..=MAX_PLACES).contains(&self.places) {
            out.push(FormError {
                field: "places",
                reason: format!("0 to {MAX_PLACES}"),
            });
        }
        if self.care_types.len() > CareType::ALL.len()
            || self.care_types.iter().any(|t| t.len() > 40)
        {
            out.push(FormError {
                field: "care_types",
                reason: "at most the four care types".into(),
            });
        }
        out
    }

    /// The care types as the enumeration (unknown codes dropped).
    pub fn care_types(&self) -> Vec<CareType> {
        self.care_types
            .iter()
            .filter_map(|t| CareType::parse(t))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    fn form() -> FilingForm {
        FilingForm {
            director_name: "王园长".into(),
            contact_phone: "0573-82000000".into(),
            places: 60,
            care_types: vec!["full_day".into(), "half_day".into()],
            serves_meals: true,
            site_owned: false,
            lease_until: Some(d("2030-01-01")),
        }
    }

    #[test]
    fn the_embedded_rules_follow_the_filing_measures() {
        let book = FilingBook::embedded().expect("rules");
        let r = book.on(d("2025-03-01"));
        assert_eq!(r.review_working_days, 5);
        assert_eq!(r.notice_working_days, 15);
        assert_eq!(r.min_lease_years, 3);
        assert!(r.review_clause.contains("第九条"));
        // 备案办法 art. 8 (1)–(5) and the commitment letter are always required.
        let always: Vec<&str> = r
            .documents
            .iter()
            .filter(|x| x.required == Required::Always)
            .map(|x| x.code.as_str())
            .collect();
        for code in [
            "commitment_letter",
            "registration_certificate",
            "site_proof",
            "staff_certificates",
            "health_assessment",
            "fire_safety",
        ] {
            assert!(always.contains(&code), "{code} must be required");
        }
    }

    #[test]
    fn working_days_skip_weekends() {
        // 2025-03-07 is a Friday: five working days later is the next Friday.
        assert_eq!(add_working_days(d("2025-03-07"), 5), d("2025-03-14"));
        // From a Saturday, the first working day is Monday.
        assert_eq!(add_working_days(d("2025-03-08"), 1), d("2025-03-10"));
        assert_eq!(add_working_days(d("2025-03-10"), 0), d("2025-03-10"));
        assert_eq!(add_working_days(d("2025-03-10"), 15), d("2025-03-31"));
    }

    #[test]
    fn missing_documents_depend_on_meals() {
        let book = FilingBook::embedded().expect("rules");
        let r = book.on(d("2025-03-01"));
        let all_but_food = [
            "commitment_letter",
            "registration_certificate",
            "site_proof",
            "staff_certificates",
            "health_assessment",
            "fire_safety",
        ];
        assert!(r.missing(&all_but_food, false).is_empty());
        let m = r.missing(&all_but_food, true);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].code, "food_licence");
        assert_eq!(r.missing(&[], false).len(), 6);
    }

    #[test]
    fn a_lease_shorter_than_three_years_is_refused_citing_article_11() {
        let book = FilingBook::embedded().expect("rules");
        let r = book.on(d("2025-03-01"));
        assert!(form().check(r, d("2025-03-01"), false).is_empty());
        let mut f = form();
        f.lease_until = Some(d("2028-02-28"));
        let e = f.check(r, d("2025-03-01"), false);
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].field, "lease_until");
        assert!(e[0].reason.contains("第十一条"), "{}", e[0].reason);
        assert!(e[0].reason.contains("2028-03-01"), "{}", e[0].reason);
        // Exactly three years is enough; an owned site needs no lease.
        f.lease_until = Some(d("2028-03-01"));
        assert!(f.check(r, d("2025-03-01"), false).is_empty());
        f.lease_until = None;
        assert_eq!(f.check(r, d("2025-03-01"), false)[0].field, "lease_until");
        f.site_owned = true;
        assert!(f.check(r, d("2025-03-01"), false).is_empty());
    }

    #[test]
    fn bad_fields_are_named() {
        let book = FilingBook::embedded().expect("rules");
        let r = book.on(d("2025-03-01"));
        let f = FilingForm {
            director_name: " ".into(),
            contact_phone: "call me".into(),
            places: 0,
            care_types: vec!["full_day".into(), "full_day".into(), "overnight".into()],
            serves_meals: false,
            site_owned: true,
            lease_until: None,
        };
        let fields: Vec<&str> = f
            .check(r, d("2025-03-01"), false)
            .iter()
            .map(|e| e.field)
            .collect();
        for want in ["director_name", "contact_phone", "places", "care_types"] {
            assert!(fields.contains(&want), "{want} missing from {fields:?}");
        }
        // A cancellation declares only who and how to reach them.
        let fields: Vec<&str> = f
            .check(r, d("2025-03-01"), true)
            .iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, vec!["director_name", "contact_phone"]);
    }

    #[test]
    fn a_broken_rules_file_is_refused() {
        assert!(
            FilingBook::parse(&TEXT.replace("review_working_days = 5", "review_working_days = 0"))
                .is_err()
        );
        assert!(
            FilingBook::parse(&TEXT.replace("code = \"other\"", "code = \"fire_safety\"")).is_err()
        );
        assert!(FilingBook::parse("rules = []").is_err());
    }

    #[test]
    fn a_later_entry_takes_over_from_its_date() {
        let head = TEXT
            .split("[[rules.document]]")
            .next()
            .expect("head")
            .replace("from = \"2019-10-08\"", "from = \"2026-01-01\"")
            .replace("review_working_days = 5", "review_working_days = 3");
        let later = format!(
            "{TEXT}\n{}[[rules.document]]\ncode = \"commitment_letter\"\nzh = \"承诺书\"\nen = \"Letter\"\nrequired = \"always\"\nclause = \"x\"\n",
            &head[head.find("[[rules]]\nfrom").expect("entry")..]
        );
        let book = FilingBook::parse(&later).expect("two entries");
        assert_eq!(book.on(d("2025-12-31")).review_working_days, 5);
        assert_eq!(book.on(d("2026-01-01")).review_working_days, 3);
        assert_eq!(book.on(d("2010-01-01")).review_working_days, 5);
    }
}
