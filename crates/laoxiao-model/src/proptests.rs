//! Property tests of the parsers and checks that read hostile input: cells,
//! ID numbers, credit codes and JSON bodies. A bounded number of cases each
//! (256), so they run in every `cargo test`; the fuzz targets in `fuzz/` run
//! the same code for longer.

use crate::register::Record as _;
use std::sync::OnceLock;

use chrono::NaiveDate;
use proptest::prelude::*;

use crate::check::test_rules::NationalMaxima;
use crate::columns::{self, HeaderLang, HeaderMap, RecordKind};
use crate::{AreaTree, Checker, PersonRole, credit_code, idcard};
use laoxiao_spatial::{CoordSystem, IndexedBoundary};

struct Ctx {
    areas: AreaTree,
    boundary: IndexedBoundary,
}

fn ctx() -> &'static Ctx {
    static CTX: OnceLock<Ctx> = OnceLock::new();
    CTX.get_or_init(|| Ctx {
        areas: crate::jiaxing::areas().expect("areas"),
        boundary: crate::jiaxing::city_boundary().expect("boundary").into(),
    })
}

fn checker() -> Checker<'static> {
    let c = ctx();
    Checker {
        areas: &c.areas,
        boundary: &c.boundary,
        class_limits: &NationalMaxima,
    }
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 30).expect("date")
}

/// Text that looks like what a cell might hold, hostile or not.
fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[0-9]{0,20}",
        "-?[0-9]{1,25}(\\.[0-9]{0,5})?",
        "[0-9]{4}[-/]?[0-9]{1,2}[-/]?[0-9]{1,2}([T ][0-9:]{0,8})?",
        "(true|false|是|否|yes|no|1|0|t|f|y|n)",
        "[a-z_]{0,30}",
        "(3304[0-9]{2,8})",
        "[=+@\\-'\t\r]{0,3}.{0,10}",
        Just(String::new()),
    ]
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    /// Every register's row parser and its record's validation take any cells.
    #[test]
    fn rows_of_any_cells_parse_or_fail_without_panic(
        kind in prop::sample::select(RecordKind::ALL.to_vec()),
        cells in prop::collection::vec(cell(), 0..40),
        coords in prop::sample::select(vec![CoordSystem::Wgs84, CoordSystem::Gcj02, CoordSystem::Bd09]),
    ) {
        let headers: Vec<String> = columns::headers(kind, HeaderLang::English)
            .into_iter()
            .map(str::to_string)
            .collect();
        let map = HeaderMap::new(kind, &headers).expect("own headers");
        let ck = checker();
        let row = map.row(&cells, coords);
        match kind {
            RecordKind::Facilities => {
                if let Ok(f) = columns::facility_from_row(row) {
                    f.validate(&ck, today());
                }
            }
            RecordKind::Classes => {
                if let Ok(c) = columns::class_from_row(row) {
                    c.validate(&ck, today());
                }
            }
            RecordKind::Elderly | RecordKind::Infants => {
                let role = if kind == RecordKind::Elderly { PersonRole::Elderly } else { PersonRole::Infant };
                if let Ok(p) = columns::person_from_row(row, role) {
                    p.validate(&ck, today());
                }
            }
            RecordKind::Staff => {
                if let Ok(x) = columns::staff_from_row(row) {
                    x.validate(&ck, today());
                }
            }
            RecordKind::Services => {
                if let Ok(x) = columns::service_from_row(row) {
                    x.validate(&ck, today());
                }
            }
            RecordKind::Enrolments => {
                if let Ok(x) = columns::enrolment_from_row(row) {
                    x.validate(&ck, today());
                }
            }
            RecordKind::Residences => {
                if let Ok(x) = columns::residence_from_row(row) {
                    x.validate(&ck, today());
                }
            }
            RecordKind::StudentCohorts => {
                if let Ok(x) = columns::cohort_from_row(row) {
                    x.validate(&ck, today());
                }
            }
            RecordKind::Insurance => {
                if let Ok(x) = columns::insurance_from_row(row) {
                    x.validate(&ck, today());
                }
            }
            RecordKind::Catalogue => {
                if let Ok(x) = columns::catalogue_from_row(row) {
                    x.validate(&ck, today());
                }
            }
            RecordKind::HomeCareBeds => {
                if let Ok(x) = columns::home_care_from_row(row) {
                    x.validate(&ck, today());
                }
            }
            RecordKind::Devices => {
                if let Ok(x) = columns::record_from_row::<crate::alarms::Device>(row) {
                    x.validate(&ck, today());
                }
            }
        }
    }

    /// Dates: any text parses or not; every real date reads back in each format.
    #[test]
    fn dates_parse_any_text_and_read_back(s in any::<String>(), days in 0i64..80_000) {
        let _ = columns::parse_date(&s);
        let d = NaiveDate::from_ymd_opt(1900, 1, 1).expect("date") + chrono::Days::new(days as u64);
        for f in ["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y-%m-%dT12:00:00"] {
            prop_assert_eq!(columns::parse_date(&d.format(f).to_string()), Some(d));
        }
    }

    /// Booleans: any text is true, false or nothing.
    #[test]
    fn booleans_parse_any_text(s in any::<String>()) {
        let _ = columns::parse_bool(&s);
    }

    /// Enums: any text parses or gives a reason; every code reads back.
    #[test]
    fn enums_parse_any_text(s in any::<String>()) {
        let _ = s.parse::<crate::FacilityKind>();
        let _ = s.parse::<crate::person::AbilityLevel>();
        let _ = s.parse::<crate::activity::ServiceKind>();
        for k in crate::FacilityKind::ALL {
            prop_assert_eq!(k.code().parse::<crate::FacilityKind>().ok(), Some(*k));
            prop_assert_eq!(k.label_zh().parse::<crate::FacilityKind>().ok(), Some(*k));
        }
    }

    /// Coordinates: any numbers convert without panic, and a point converts
    /// back to where it was.
    #[test]
    fn coordinates_convert_any_numbers(x in any::<f64>(), y in any::<f64>(), lng in 120.3f64..121.3, lat in 30.3f64..31.0) {
        for cs in [CoordSystem::Wgs84, CoordSystem::Gcj02, CoordSystem::Bd09] {
            let _ = laoxiao_spatial::to_wgs84(cs, x, y);
            let (a, b) = laoxiao_spatial::from_wgs84(cs, lng, lat);
            let (l2, b2) = laoxiao_spatial::to_wgs84(cs, a, b);
            prop_assert!((l2 - lng).abs() < 1e-6 && (b2 - lat).abs() < 1e-6);
        }
        let mut errs = Vec::new();
        checker().check_point(Some(x), Some(y), &mut errs);
    }

    /// ID numbers: any text is checked without panic; a generated number is
    /// accepted; one changed digit is refused.
    #[test]
    fn id_numbers_accept_valid_and_refuse_one_changed_digit(
        s in any::<String>(),
        days in 0i64..50_000,
        seq in 0u16..1000,
        pos in 0usize..17,
        delta in 1u32..10,
    ) {
        let _ = idcard::parse(&s);
        let birth = NaiveDate::from_ymd_opt(1890, 1, 1).expect("date") + chrono::Days::new(days as u64);
        let id = idcard::make("330402", birth, seq);
        let info = idcard::parse(&id).expect("generated number");
        prop_assert_eq!(info.birth_date, birth);
        let mut chars: Vec<char> = id.chars().collect();
        let d = chars[pos].to_digit(10).expect("digit");
        chars[pos] = char::from_digit((d + delta) % 10, 10).expect("digit");
        let changed: String = chars.into_iter().collect();
        prop_assert!(idcard::parse(&changed).is_err(), "{} accepted", changed);
    }

    /// Credit codes: any text is checked without panic; a generated code is
    /// accepted; one changed character is refused.
    #[test]
    fn credit_codes_accept_valid_and_refuse_one_changed_character(
        s in any::<String>(),
        head in "[0-9A-HJ-NP-RTUW-Y]{2}[0-9]{6}[0-9A-HJ-NP-RTUW-Y]{9}",
        pos in 0usize..18,
        delta in 1usize..31,
    ) {
        let _ = credit_code::validate(&s);
        let code = credit_code::make(&head).expect("17 characters of the alphabet");
        prop_assert!(credit_code::validate(&code).is_ok(), "{} refused", code);
        let alphabet: Vec<char> = credit_code::ALPHABET.chars().collect();
        let mut chars: Vec<char> = code.chars().collect();
        let i = alphabet.iter().position(|&c| c == chars[pos]).expect("in alphabet");
        chars[pos] = alphabet[(i + delta) % alphabet.len()];
        let changed: String = chars.into_iter().collect();
        prop_assert!(credit_code::validate(&changed).is_err(), "{} accepted", changed);
    }

    /// JSON bodies: any JSON shaped like a record deserialises or not, and
    /// whatever deserialises validates without panic.
    #[test]
    fn json_bodies_deserialise_and_validate_without_panic(v in json_record()) {
        let ck = checker();
        if let Ok(f) = serde_json::from_value::<crate::Facility>(v.clone()) {
            f.validate(&ck, today());
        }
        if let Ok(c) = serde_json::from_value::<crate::ChildcareClass>(v.clone()) {
            c.validate(&ck, today());
        }
        if let Ok(p) = serde_json::from_value::<crate::Person>(v.clone()) {
            p.validate(&ck, today());
        }
        if let Ok(x) = serde_json::from_value::<crate::Staff>(v.clone()) {
            x.validate(&ck, today());
        }
        if let Ok(x) = serde_json::from_value::<crate::ServiceRecord>(v.clone()) {
            x.validate(&ck, today());
        }
        if let Ok(x) = serde_json::from_value::<crate::Enrolment>(v.clone()) {
            x.validate(&ck, today());
        }
        if let Ok(x) = serde_json::from_value::<crate::Residence>(v.clone()) {
            x.validate(&ck, today());
        }
        if let Ok(x) = serde_json::from_value::<crate::StudentCohort>(v.clone()) {
            x.validate(&ck, today());
        }
        if let Ok(x) = serde_json::from_value::<crate::InsuranceEnrolment>(v) {
            x.validate(&ck, today());
        }
    }
}

/// A JSON value for a field: any type, extreme numbers, hostile text.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::{Value, json};
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        prop_oneof![
            Just(i64::MAX),
            Just(i64::MIN),
            Just(0),
            Just(-1),
            Just(20_001)
        ]
        .prop_map(Value::from),
        any::<f64>().prop_map(|x| json!(x)),
        cell().prop_map(Value::from),
        prop::collection::vec(cell(), 0..3).prop_map(|v| json!(v)),
    ]
}

/// A JSON object with the fields of the records (a random subset, random values).
fn json_record() -> impl Strategy<Value = serde_json::Value> {
    const FIELDS: &[&str] = &[
        "id",
        "name",
        "kind",
        "area_code",
        "beds",
        "nursing_beds",
        "dementia_beds",
        "approved_slots",
        "lng",
        "lat",
        "address",
        "phone",
        "filing_status",
        "filing_date",
        "rating",
        "status",
        "facility_id",
        "class_type",
        "capacity",
        "enrolled",
        "caregivers",
        "monthly_fee_fen",
        "role",
        "id_number",
        "sex",
        "birth_date",
        "residence_area_code",
        "hukou_area_code",
        "birth_order",
        "special_difficulty",
        "ability_level",
        "certified",
        "certificate",
        "skill_grade",
        "hired_date",
        "left_date",
        "person_id",
        "date",
        "note",
        "infant_id",
        "class_id",
        "start_date",
        "end_date",
        "admitted_date",
        "discharged_date",
        "institution",
        "program",
        "intake_year",
        "graduated",
        "guardian_name",
        "guardian_phone",
        "death_date",
        "moved_out_date",
        "closed_date",
    ];
    prop::collection::vec((prop::sample::select(FIELDS), json_value()), 0..30).prop_map(|kv| {
        serde_json::Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    })
}
