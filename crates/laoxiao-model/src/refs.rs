//! Rules on the records a record refers to: an enrolment's facility must take
//! children, a residence's must have beds, a service's person must be on the
//! register the service is for. The rules are plain Rust beside each
//! declaration ([`References`]); the store fills [`KnownRefs`] with what it
//! may show the caller (the whole register for an import, the caller's scope
//! for the API), so the import and the API apply the same rules and a record
//! outside the caller's area reads exactly like one that does not exist.

use std::collections::HashMap;

use chrono::NaiveDate;

use crate::error::FieldError;
use crate::facility::{ClassType, FacilityKind};
use crate::person::PersonRole;

/// The referenced records the rules may look at, by id.
#[derive(Debug, Clone, Default)]
pub struct KnownRefs {
    /// Live facilities and their kind.
    pub facilities: HashMap<String, FacilityKind>,
    /// Live childcare classes and their facility.
    pub classes: HashMap<String, String>,
    /// Live people and their register.
    pub people: HashMap<String, PersonRole>,
    /// The type of each live class in `classes`.
    pub class_types: HashMap<String, ClassType>,
    /// The birth date of each person in `people`.
    pub birth_dates: HashMap<String, NaiveDate>,
    /// The ages (in whole months, from inclusive, to exclusive) each class
    /// type takes, with the source to cite (托育机构设置标准).
    pub class_ages: HashMap<ClassType, (i32, i32, String)>,
}

impl KnownRefs {
    /// The kind of facility `id`, or why it cannot be referred to.
    pub fn facility(&self, id: &str) -> Result<FacilityKind, String> {
        self.facilities
            .get(id)
            .copied()
            .ok_or_else(|| format!("facility {id:?} is not on the register"))
    }

    /// `Ok` when person `id` is on the `want` register.
    pub fn person(&self, id: &str, want: PersonRole) -> Result<(), String> {
        match self.people.get(id) {
            None => Err(format!("person {id:?} is not on the register")),
            Some(r) if *r != want => Err(format!(
                "person {id:?} is on the {} register, not the {} one",
                r.code(),
                want.code()
            )),
            Some(_) => Ok(()),
        }
    }

    /// Fills `class_ages` from the class rule.
    pub fn with_class_ages(mut self, rule: &dyn crate::check::ClassSizeRule) -> Self {
        for t in ClassType::VALUES
            .iter()
            .filter_map(|v| ClassType::parse(v.code))
        {
            if let Some((lo, hi, source)) = rule.age_months(t) {
                self.class_ages.insert(t, (lo, hi, source.to_string()));
            }
        }
        self
    }

    /// The facility of class `id`, or why it cannot be referred to.
    pub fn class_facility(&self, id: &str) -> Result<&str, String> {
        self.classes
            .get(id)
            .map(String::as_str)
            .ok_or_else(|| format!("class {id:?} is not on the register"))
    }
}

/// The rules of a record on what its references point to. A register whose
/// references need no more than to exist says so with an empty body.
pub trait References {
    fn references(&self, refs: &KnownRefs) -> Vec<FieldError>;
}

/// The facility `id` is one of the kinds `ok` says, with the reason otherwise.
pub fn facility_of_kind(
    refs: &KnownRefs,
    field: &'static str,
    id: &str,
    ok: impl Fn(FacilityKind) -> bool,
    why: &str,
) -> Option<FieldError> {
    match refs.facility(id) {
        Err(e) => Some(FieldError::new(field, e)),
        Ok(k) if !ok(k) => Some(FieldError::new(
            field,
            format!("{id} is a {}, {why}", k.label_en().to_lowercase()),
        )),
        Ok(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_and_wrong_register_are_told_apart_only_by_role() {
        let mut k = KnownRefs::default();
        k.people.insert("P1".into(), PersonRole::Infant);
        assert!(k.person("P1", PersonRole::Infant).is_ok());
        let e = k
            .person("P1", PersonRole::Elderly)
            .expect_err("wrong register");
        assert!(e.contains("infant") && e.contains("elderly"), "{e}");
        let e = k.person("P2", PersonRole::Elderly).expect_err("absent");
        assert!(e.contains("P2") && e.contains("not on the register"), "{e}");
    }

    #[test]
    fn facility_kind_rule_names_the_kind() {
        let mut k = KnownRefs::default();
        k.facilities
            .insert("F1".into(), FacilityKind::ElderlyInstitution);
        let e = facility_of_kind(
            &k,
            "facility_id",
            "F1",
            FacilityKind::has_slots,
            "which takes no enrolments",
        )
        .expect("a care home takes no children");
        assert_eq!(e.field, "facility_id");
        assert!(e.reason.contains("care home"), "{}", e.reason);
        assert!(facility_of_kind(&k, "facility_id", "F1", FacilityKind::has_beds, "x").is_none());
        assert!(facility_of_kind(&k, "facility_id", "F9", |_| true, "x").is_some());
    }
}
