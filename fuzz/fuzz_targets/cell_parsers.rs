//! The cell parsers (dates, whole numbers, decimals, booleans, enums, enum
//! lists, coordinates with their conversion) through every register's row
//! reader, and the record's validation after it.
#![no_main]

use std::sync::OnceLock;

use laoxiao_model::columns::{self, HeaderLang, HeaderMap, RecordKind};
use laoxiao_model::{AreaTree, Checker, PersonRole};
use laoxiao_model::Record as _;
use laoxiao_rules::ClassLimits;
use laoxiao_spatial::{CoordSystem, IndexedBoundary};
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
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let kind = RecordKind::ALL[pick as usize % RecordKind::ALL.len()];
    let coords =
        [CoordSystem::Wgs84, CoordSystem::Gcj02, CoordSystem::Bd09][(pick as usize / 16) % 3];
    // Cells are separated by U+001E (record separator), so any other text,
    // tabs and line breaks included, can sit in a cell.
    let text = String::from_utf8_lossy(rest);
    let cells: Vec<String> = text.split('\u{1e}').map(str::to_string).collect();
    let _ = columns::parse_date(&text);
    let _ = columns::parse_bool(&text);
    let headers: Vec<String> = columns::headers(kind, HeaderLang::English)
        .into_iter()
        .map(str::to_string)
        .collect();
    let map = HeaderMap::new(kind, &headers).expect("own headers");
    let c = ctx();
    let ck = Checker {
        areas: &c.areas,
        boundary: &c.boundary,
        class_limits: &c.limits,
    };
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 30).expect("date");
    let row = map.row(&cells, coords);
    match kind {
        RecordKind::Facilities => {
            if let Ok(f) = columns::facility_from_row(row) {
                f.validate(&ck, today);
                let _ = columns::facility_to_row(&f);
            }
        }
        RecordKind::Classes => {
            if let Ok(x) = columns::class_from_row(row) {
                x.validate(&ck, today);
                let _ = columns::class_to_row(&x);
            }
        }
        RecordKind::Elderly | RecordKind::Infants => {
            let role = if kind == RecordKind::Elderly {
                PersonRole::Elderly
            } else {
                PersonRole::Infant
            };
            if let Ok(p) = columns::person_from_row(row, role) {
                p.validate(&ck, today);
                let _ = columns::person_to_row(&p);
            }
        }
        RecordKind::Staff => {
            if let Ok(x) = columns::staff_from_row(row) {
                x.validate(&ck, today);
            }
        }
        RecordKind::Services => {
            if let Ok(x) = columns::service_from_row(row) {
                x.validate(&ck, today);
            }
        }
        RecordKind::Enrolments => {
            if let Ok(x) = columns::enrolment_from_row(row) {
                x.validate(&ck, today);
            }
        }
        RecordKind::Residences => {
            if let Ok(x) = columns::residence_from_row(row) {
                x.validate(&ck, today);
            }
        }
        RecordKind::StudentCohorts => {
            if let Ok(x) = columns::cohort_from_row(row) {
                x.validate(&ck, today);
                for y in [i64::MIN, 0, 2026, i64::MAX] {
                    let _ = x.counted_in(y);
                }
            }
        }
        RecordKind::Insurance => {
            if let Ok(x) = columns::insurance_from_row(row) {
                x.validate(&ck, today);
            }
        }
    }
});
