//! JSON bodies of the write endpoints: any bytes deserialised as each record
//! type (facility, class, person, and the six activity registers), and what
//! deserialises validated. Never a panic; no accepted record outside the
//! documented ranges.
#![no_main]

use std::sync::OnceLock;

use laoxiao_model::{
    AreaTree, Checker, ChildcareClass, Enrolment, Facility, InsuranceEnrolment, Person, Residence,
    ServiceRecord, Staff, StudentCohort, bounds,
};
use laoxiao_model::Record as _;
use laoxiao_rules::ClassLimits;
use laoxiao_spatial::IndexedBoundary;
use libfuzzer_sys::fuzz_target;

struct Ctx {
    areas: AreaTree,
    boundary: IndexedBoundary,
    limits: ClassLimits,
}

fn ctx() -> &'static Ctx {
    static CTX: OnceLock<Ctx> = OnceLock::new();
    CTX.get_or_init(|| Ctx {
        areas: laoxiao_model::jiaxing::areas().expect("areas"),
        boundary: laoxiao_model::jiaxing::city_boundary()
            .expect("boundary")
            .into(),
        limits: ClassLimits::embedded().expect("limits"),
    })
}

fuzz_target!(|data: &[u8]| {
    let c = ctx();
    let ck = Checker {
        areas: &c.areas,
        boundary: &c.boundary,
        class_limits: &c.limits,
    };
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 30).expect("date");
    if let Ok(f) = serde_json::from_slice::<Facility>(data)
        && f.validate(&ck, today).is_empty()
    {
        assert!(f.beds.is_none_or(|b| bounds::BEDS.contains(b)));
        assert!(
            f.approved_slots
                .is_none_or(|b| bounds::APPROVED_SLOTS.contains(b))
        );
        assert!(!f.name.contains('\0'));
    }
    if let Ok(x) = serde_json::from_slice::<ChildcareClass>(data)
        && x.validate(&ck, today).is_empty()
    {
        assert!(bounds::CLASS_CAREGIVERS.contains(x.caregivers));
    }
    if let Ok(p) = serde_json::from_slice::<Person>(data) {
        p.validate(&ck, today);
    }
    if let Ok(x) = serde_json::from_slice::<Staff>(data) {
        x.validate(&ck, today);
    }
    if let Ok(x) = serde_json::from_slice::<ServiceRecord>(data) {
        x.validate(&ck, today);
    }
    if let Ok(x) = serde_json::from_slice::<Enrolment>(data) {
        x.validate(&ck, today);
    }
    if let Ok(x) = serde_json::from_slice::<Residence>(data) {
        x.validate(&ck, today);
    }
    if let Ok(x) = serde_json::from_slice::<StudentCohort>(data) {
        x.validate(&ck, today);
        let _ = x.counted_in(2026);
    }
    if let Ok(x) = serde_json::from_slice::<InsuranceEnrolment>(data) {
        x.validate(&ck, today);
    }
});
