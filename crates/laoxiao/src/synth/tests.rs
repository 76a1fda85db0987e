//! Tests of the synthetic city. The scale-1 report (`cargo test --release -p
//! laoxiao synth::tests::scale_one_report -- --ignored --nocapture`) prints the
//! figures quoted in docs/synthetic-city.md.

use laoxiao_model::register::Record as _;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use chrono::{Datelike, NaiveDate};

use laoxiao_model::facility::{FacilityLevel, FilingStatus, Rating};
use laoxiao_model::person::{LivingArrangement, PersonStatus, SpecialDifficulty, age_on};
use laoxiao_model::{Checker, FacilityKind, jiaxing};
use laoxiao_rules::ClassLimits;
use laoxiao_spatial::IndexedBoundary;

use super::*;

fn count(fs: &[Facility], kind: FacilityKind) -> usize {
    fs.iter().filter(|f| f.kind == kind).count()
}

fn sum(fs: &[Facility], kind: FacilityKind, field: fn(&Facility) -> Option<i64>) -> i64 {
    fs.iter().filter(|f| f.kind == kind).filter_map(field).sum()
}

fn csv_bytes(city: &SynthCity) -> Vec<Vec<u8>> {
    let dir = tempfile::tempdir().expect("tempdir");
    let files = write_csv(city, dir.path()).expect("write");
    assert_eq!(files.len(), FILES.len());
    files
        .iter()
        .map(|f| std::fs::read(f).expect("read"))
        .collect()
}

#[test]
fn same_seed_gives_identical_files_and_another_seed_does_not() {
    let a = csv_bytes(&generate(7, 0.002).expect("generate"));
    let b = csv_bytes(&generate(7, 0.002).expect("generate"));
    assert_eq!(a, b);
    let c = csv_bytes(&generate(8, 0.002).expect("generate"));
    for k in 0..FILES.len() {
        assert_ne!(a[k], c[k], "file {k} does not depend on the seed");
    }
    // Headers are the documented English columns.
    let head = |bytes: &[u8]| {
        String::from_utf8_lossy(bytes)
            .lines()
            .next()
            .unwrap_or("")
            .to_string()
    };
    assert_eq!(
        head(&a[2]),
        columns::headers(RecordKind::Elderly, HeaderLang::English).join(",")
    );
    assert!(!a[0].starts_with(&[0xef, 0xbb, 0xbf]));
}

#[test]
fn bad_scales_are_refused() {
    for s in [0.0, -1.0, f64::NAN, f64::INFINITY, MAX_SCALE + 0.1] {
        assert!(matches!(generate(1, s), Err(SynthError::Scale(_))), "{s}");
    }
}

#[test]
fn facility_totals_at_scale_one_are_the_plans() {
    let (fs, classes) = generate_facilities(1, 1.0).expect("facilities");
    use FacilityKind::*;
    // 表1.
    assert_eq!(count(&fs, ElderlyInstitution), 118);
    assert_eq!(sum(&fs, ElderlyInstitution, |f| f.beds), 38_788);
    assert_eq!(sum(&fs, ElderlyInstitution, |f| f.nursing_beds), 20_907);
    let town_homes: Vec<&Facility> = fs
        .iter()
        .filter(|f| f.kind == ElderlyInstitution && f.level == Some(FacilityLevel::Town))
        .collect();
    assert_eq!(town_homes.len(), 62);
    assert_eq!(
        town_homes.iter().filter_map(|f| f.beds).sum::<i64>(),
        15_570
    );
    assert_eq!(count(&fs, TownHomeCareCenter), 79);
    assert_eq!(count(&fs, VillageCareStation), 1_044);
    let guidance: Vec<Option<FacilityLevel>> = fs
        .iter()
        .filter(|f| f.kind == GuidanceCenter)
        .map(|f| f.level)
        .collect();
    assert_eq!(guidance.len(), 80);
    assert_eq!(
        guidance
            .iter()
            .filter(|l| **l == Some(FacilityLevel::City))
            .count(),
        1
    );
    assert_eq!(
        guidance
            .iter()
            .filter(|l| **l == Some(FacilityLevel::County))
            .count(),
        7
    );
    assert_eq!(
        guidance
            .iter()
            .filter(|l| **l == Some(FacilityLevel::Town))
            .count(),
        72
    );
    // 3.11 slots per 1,000 residents; 50 filed institutions with 3,151 slots.
    let slots: i64 = fs
        .iter()
        .filter(|f| f.kind.has_slots())
        .filter_map(|f| f.approved_slots)
        .sum();
    assert_eq!(slots, 16_797);
    let filed: Vec<&Facility> = fs
        .iter()
        .filter(|f| f.kind == ChildcareInstitution && f.filing_status == FilingStatus::Filed)
        .collect();
    assert_eq!(filed.len(), 50);
    assert_eq!(
        filed.iter().filter_map(|f| f.approved_slots).sum::<i64>(),
        3_151
    );
    let by_2020 = filed
        .iter()
        .filter(|f| f.filing_date.is_some_and(|d| d <= util::ymd(2020, 12, 31)))
        .count();
    assert_eq!(by_2020, 8);
    assert_eq!(filed.iter().filter(|f| f.demonstration).count(), 6);
    // The subsidy flags: one demonstration institution in three rated
    // provincial (6 → 2), never without being a demonstration one.
    assert_eq!(
        filed.iter().filter(|f| f.provincial_demonstration).count(),
        2
    );
    assert!(
        fs.iter()
            .all(|f| !f.provincial_demonstration || f.demonstration)
    );
    let parks: Vec<&Facility> = fs.iter().filter(|f| f.kind == SunflowerPark).collect();
    let with_care = parks.iter().filter(|f| f.temporary_care).count();
    assert!(
        with_care > 0 && with_care < parks.len(),
        "{with_care} of {}",
        parks.len()
    );
    assert!(
        fs.iter()
            .any(|f| f.kind == WellnessAlliance && f.medical_care_subsidy)
    );
    let inclusive: i64 = fs
        .iter()
        .filter(|f| f.kind.has_slots() && f.inclusive)
        .filter_map(|f| f.approved_slots)
        .sum();
    let share = inclusive as f64 / slots as f64;
    assert!((0.20..0.25).contains(&share), "inclusive share {share}");
    // Indicator 11: 83% of stations rated 3A or above.
    let rated = fs
        .iter()
        .filter(|f| f.kind == VillageCareStation && f.rating.is_some_and(Rating::is_a_scale))
        .count();
    assert_eq!(rated, (0.83f64 * 1044.0).round() as usize);
    // Indicator 9 (2022 target 10 per 10,000 aged 60+), 12, 20, 22, 26.
    assert_eq!(sum(&fs, ElderlyInstitution, |f| f.dementia_beds), 1_043);
    let smart: BTreeSet<&str> = fs
        .iter()
        .filter(|f| f.smart)
        .map(|f| &f.area_code[..6])
        .collect();
    assert_eq!(smart.len(), 7);
    assert_eq!(fs.iter().filter(|f| f.smart).count(), 7);
    assert_eq!(count(&fs, WellnessAlliance), 8);
    let towns_with = |k: FacilityKind| -> usize {
        fs.iter()
            .filter(|f| f.kind == k)
            .map(|f| &f.area_code[..9])
            .collect::<BTreeSet<_>>()
            .len()
    };
    assert_eq!(towns_with(ElderlySchool), 49); // 68% of 72
    assert_eq!(towns_with(AssistiveDeviceRental), 58); // 80% of 72
    assert_eq!(towns_with(TownHomeCareCenter), 72);
    // 托育服务机构镇（街道）覆盖率 98.61% = 71 of 72.
    let childcare_towns: BTreeSet<&str> = fs
        .iter()
        .filter(|f| f.kind.has_slots())
        .map(|f| &f.area_code[..9])
        .collect();
    assert_eq!(childcare_towns.len(), 71);
    // Every childcare facility's classes sum to its slots, and every record validates.
    class_sums_match(&fs, &classes);
    let (areas, boundary, limits) = checker_parts();
    let ck = Checker {
        areas: &areas,
        boundary: &boundary,
        class_limits: &limits,
    };
    for f in &fs {
        assert!(
            f.validate(&ck, NaiveDate::MAX).is_empty(),
            "{} {}",
            f.id,
            f.name
        );
    }
    for c in &classes {
        assert!(c.validate(&ck, NaiveDate::MAX).is_empty(), "{}", c.id);
    }
    let names: BTreeSet<&str> = fs.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names.len(), fs.len(), "facility names repeat");
}

fn class_sums_match(fs: &[Facility], classes: &[ChildcareClass]) {
    let limits = ClassLimits::embedded().expect("limits");
    let mut by: BTreeMap<&str, i64> = BTreeMap::new();
    for c in classes {
        let max = limits.get(c.class_type).map(|l| l.max_size).unwrap_or(0);
        assert!(c.capacity >= 1 && c.capacity <= max, "{c:?}");
        assert!(c.enrolled <= c.capacity);
        *by.entry(c.facility_id.as_str()).or_default() += c.capacity;
    }
    for f in fs.iter().filter(|f| f.kind.has_slots()) {
        assert_eq!(by.get(f.id.as_str()).copied(), f.approved_slots, "{}", f.id);
    }
    assert_eq!(
        by.len(),
        fs.iter().filter(|f| f.kind.has_slots()).count(),
        "classes of unknown facilities"
    );
}

#[test]
fn people_totals_follow_the_targets() {
    let s = 0.01;
    let mut city = generate(3, s).expect("generate");
    // The live people follow the targets; those who left are counted apart.
    let active = |p: &Person| p.status == PersonStatus::Active;
    let gone_elderly = city.elderly.iter().filter(|&p| !active(p)).count();
    let gone_infants = city.infants.iter().filter(|&p| !active(p)).count();
    assert!(
        gone_elderly > 0 && gone_infants > 0,
        "{gone_elderly} {gone_infants}"
    );
    city.elderly.retain(active);
    city.infants.retain(active);
    let want60 = (1_042_562.0 * s).round() as usize;
    assert_eq!(city.elderly.len(), want60);
    let a65 = city
        .elderly
        .iter()
        .filter(|p| age_on(p.birth_date, city.as_of) >= 65)
        .count() as f64;
    let want65 = 758_584.0 * s;
    assert!((a65 - want65).abs() <= 7.0, "65+ {a65} vs {want65}");
    let a80 = city
        .elderly
        .iter()
        .filter(|p| age_on(p.birth_date, city.as_of) >= 80)
        .count() as f64;
    assert!((a80 / want60 as f64 - 0.17).abs() < 0.005, "80+ {a80}");
    assert_eq!(city.infants.len() as i64, calib::infants_total(s));
    let want_inf = (38_364.0 + 38_600.0 + 36_600.0) * 0.9975 * s;
    assert!((city.infants.len() as f64 - want_inf).abs() <= 3.0);
    for p in &city.infants {
        assert!(age_on(p.birth_date, city.as_of) < 3);
    }
    // Plausible shares (loose bounds at this size).
    let n = city.elderly.len() as f64;
    let disabled = city
        .elderly
        .iter()
        .filter(|p| p.ability_level.is_some_and(|a| a.is_disabled()))
        .count() as f64;
    assert!(
        (0.025..0.065).contains(&(disabled / n)),
        "disabled {}",
        disabled / n
    );
    let inst = city
        .elderly
        .iter()
        .filter(|p| p.living_arrangement == Some(LivingArrangement::InInstitution))
        .count();
    let occupied_max: i64 = city
        .facilities
        .iter()
        .filter(|f| f.kind == FacilityKind::ElderlyInstitution)
        .filter_map(|f| f.beds)
        .sum();
    assert!(inst > 0 && inst as i64 <= occupied_max);
    let first = city
        .infants
        .iter()
        .filter(|p| p.birth_order == Some(1))
        .count() as f64;
    let m = city.infants.len() as f64;
    assert!(
        (0.48..0.62).contains(&(first / m)),
        "first births {}",
        first / m
    );
}

fn checker_parts() -> (laoxiao_model::AreaTree, IndexedBoundary, ClassLimits) {
    (
        jiaxing::areas().expect("areas"),
        IndexedBoundary::new(jiaxing::city_boundary().expect("boundary")),
        ClassLimits::embedded().expect("limits"),
    )
}

#[test]
fn every_record_validates_and_ids_are_unique() {
    let city = generate(11, 0.004).expect("generate");
    let (areas, boundary, limits) = checker_parts();
    let ck = Checker {
        areas: &areas,
        boundary: &boundary,
        class_limits: &limits,
    };
    for f in &city.facilities {
        let e = f.validate(&ck, city.as_of);
        assert!(e.is_empty(), "{} {}: {e:?}", f.id, f.name);
    }
    for c in &city.classes {
        let e = c.validate(&ck, city.as_of);
        assert!(e.is_empty(), "{}: {e:?}", c.id);
    }
    for p in city.elderly.iter().chain(&city.infants) {
        let e = p.validate(&ck, city.as_of);
        assert!(e.is_empty(), "{} {}: {e:?}", p.id, p.id_number);
    }
    class_sums_match(&city.facilities, &city.classes);
    let ids: BTreeSet<&str> = city
        .elderly
        .iter()
        .chain(&city.infants)
        .map(|p| p.id_number.as_str())
        .collect();
    assert_eq!(ids.len(), city.elderly.len() + city.infants.len());
    let rec: BTreeSet<&str> = city
        .elderly
        .iter()
        .chain(&city.infants)
        .map(|p| p.id.as_str())
        .chain(city.facilities.iter().map(|f| f.id.as_str()))
        .collect();
    assert_eq!(
        rec.len(),
        city.elderly.len() + city.infants.len() + city.facilities.len()
    );
    let class_ids: BTreeSet<&str> = city.classes.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(class_ids.len(), city.classes.len());
}

#[test]
fn a_city_moved_to_another_date_still_validates() {
    let base = generate(4, 0.003).expect("generate");
    let to = util::ymd(2026, 11, 28);
    let city = generate_as_of(4, 0.003, to).expect("moved");
    assert_eq!(city.as_of, to);
    let (areas, boundary, limits) = checker_parts();
    let ck = Checker {
        areas: &areas,
        boundary: &boundary,
        class_limits: &limits,
    };
    for (a, b) in base
        .elderly
        .iter()
        .chain(&base.infants)
        .zip(city.elderly.iter().chain(&city.infants))
    {
        assert_eq!(
            age_on(a.birth_date, base.as_of),
            age_on(b.birth_date, to),
            "{}",
            a.id
        );
        assert_eq!(a.id_number[..6], b.id_number[..6]);
        let e = b.validate(&ck, to);
        assert!(e.is_empty(), "{}: {e:?}", b.id);
    }
    for f in &city.facilities {
        assert!(f.validate(&ck, city.as_of).is_empty(), "{}", f.id);
    }
    let ids: BTreeSet<&str> = city
        .elderly
        .iter()
        .chain(&city.infants)
        .map(|p| p.id_number.as_str())
        .collect();
    assert_eq!(ids.len(), city.elderly.len() + city.infants.len());
    // The same date gives the same city; dates outside 2000–2099 are refused.
    let again = generate_as_of(4, 0.003, to).expect("moved");
    assert_eq!(csv_bytes(&city), csv_bytes(&again));
    assert!(matches!(
        generate_as_of(4, 0.003, util::ymd(1990, 1, 1)),
        Err(SynthError::AsOf(_))
    ));
}

/// Every enrolment names a class of the child's age on its start day (the
/// register refuses one that does not), in the generated city and after
/// `demo` moves it to other days: a constant shift in days moves ages in
/// whole months at month ends, which the generator's margins absorb.
#[test]
fn enrolled_children_fit_their_class_on_the_start_day_on_any_date() {
    use laoxiao_model::refs::{KnownRefs, References as _};
    let base = generate(6, 0.05).expect("generate");
    let limits = ClassLimits::embedded().expect("limits");
    for to in [
        base.as_of,
        util::ymd(2026, 7, 31),
        util::ymd(2026, 11, 28),
        util::ymd(2026, 12, 2),
        util::ymd(2027, 3, 1),
        util::ymd(2028, 2, 29),
    ] {
        let mut city = base.clone();
        shift::shift_to(&mut city, to).expect("moved");
        let mut refs = KnownRefs::default().with_class_ages(&limits);
        for f in &city.facilities {
            refs.facilities.insert(f.id.clone(), f.kind);
        }
        for c in &city.classes {
            refs.classes.insert(c.id.clone(), c.facility_id.clone());
            refs.class_types.insert(c.id.clone(), c.class_type);
        }
        for p in &city.infants {
            refs.people
                .insert(p.id.clone(), laoxiao_model::PersonRole::Infant);
            refs.birth_dates.insert(p.id.clone(), p.birth_date);
        }
        let bad: Vec<String> = city
            .enrolments
            .iter()
            .filter_map(|e| {
                let errs = e.references(&refs);
                (!errs.is_empty()).then(|| format!("{}: {errs:?}", e.id))
            })
            .take(5)
            .collect();
        assert!(bad.is_empty(), "{to}: {bad:?}");
        assert!(city.enrolments.len() > 300, "{}", city.enrolments.len());
    }
}

#[test]
fn points_lie_in_their_county_and_ids_carry_its_code() {
    let city = generate(5, 0.004).expect("generate");
    // The plain (unindexed) polygons, so this does not rest on the index.
    let bounds = jiaxing::boundaries().expect("boundaries");
    let regions: BTreeMap<String, laoxiao_spatial::Boundary> =
        bounds.into_iter().map(|b| (b.code, b.boundary)).collect();
    let city_outline = &regions["330400"];
    let mut local = 0usize;
    let people: Vec<&Person> = city.elderly.iter().chain(&city.infants).collect();
    for p in &people {
        let county = &p.residence_area_code[..6];
        let (x, y) = (p.lng.unwrap_or_default(), p.lat.unwrap_or_default());
        assert!(regions[county].contains(x, y), "{} outside {county}", p.id);
        assert!(city_outline.contains(x, y));
        let hukou = p.hukou_area_code.as_deref().unwrap_or_default();
        assert_eq!(&p.id_number[..6], &hukou[..6]);
        if hukou.starts_with(county) {
            local += 1;
        }
    }
    // Hukou mostly in the county of residence.
    assert!(local as f64 / people.len() as f64 > 0.8);
    for f in &city.facilities {
        let (x, y) = (f.lng.unwrap_or_default(), f.lat.unwrap_or_default());
        assert!(
            regions[&f.area_code[..6]].contains(x, y),
            "{} {}",
            f.id,
            f.name
        );
        if let Some(code) = &f.operator_credit_code {
            assert_eq!(laoxiao_model::credit_code::validate(code), Ok(()));
        }
    }
}

#[test]
fn scaled_facilities_keep_their_minimums() {
    let (fs, classes) = generate_facilities(2, 0.002).expect("facilities");
    assert_eq!(count(&fs, FacilityKind::TownHomeCareCenter), 72);
    assert_eq!(count(&fs, FacilityKind::GuidanceCenter), 80);
    assert!(count(&fs, FacilityKind::VillageCareStation) >= 72);
    assert_eq!(count(&fs, FacilityKind::ElderlyInstitution), 7);
    assert!(count(&fs, FacilityKind::ChildcareInstitution) >= 1);
    class_sums_match(&fs, &classes);
    let (half, _) = generate_facilities(2, 0.5).expect("facilities");
    assert_eq!(count(&half, FacilityKind::ElderlyInstitution), 59);
    assert_eq!(
        sum(&half, FacilityKind::ElderlyInstitution, |f| f.beds),
        19_394
    );
    assert_eq!(count(&half, FacilityKind::VillageCareStation), 522);
}

/// Residents per km² on a 1 km grid: each village's residents spread as its
/// people are (same anchors and spreads). Returns (cells > 3,000, cells
/// 1,000–3,000, share of residents in each class).
fn density_classes(seed: u64) -> (usize, usize, f64, f64) {
    let w = world::World::build(seed).expect("world");
    let t = calib::targets(1.0);
    let mut rng = util::stream(seed, util::Concern::Density, 0);
    let origin = (120.0, 30.0);
    let mut grid: BTreeMap<(i64, i64), f64> = BTreeMap::new();
    const K: usize = 200;
    for (c, county) in w.counties.iter().enumerate() {
        let vs: Vec<&world::VillageGeo> = county.towns.iter().flat_map(|t| &t.villages).collect();
        let weights: Vec<f64> = vs.iter().map(|v| v.pop_weight).collect();
        let res = util::apportion(t.counties[c].residents, &weights);
        for (v, r) in vs.iter().zip(res) {
            for _ in 0..K {
                let p = w.jitter(&mut rng, c, v.anchor, v.sigma_m);
                let (x, y) = world::to_metres(origin, p);
                *grid
                    .entry(((x / 1000.0).floor() as i64, (y / 1000.0).floor() as i64))
                    .or_default() += r as f64 / K as f64;
            }
        }
    }
    let total: f64 = grid.values().sum();
    let high: Vec<f64> = grid.values().copied().filter(|d| *d > 3000.0).collect();
    let mid: Vec<f64> = grid
        .values()
        .copied()
        .filter(|d| (1000.0..=3000.0).contains(d))
        .collect();
    (
        high.len(),
        mid.len(),
        high.iter().sum::<f64>() / total,
        mid.iter().sum::<f64>() / total,
    )
}

#[test]
fn both_plan_density_classes_occur() {
    let (high, mid, hs, ms) = density_classes(1);
    assert!(high >= 20, "{high} cells above 3,000/km²");
    assert!(mid >= 100, "{mid} cells of 1,000–3,000/km²");
    assert!(hs > 0.2 && ms > 0.2, "{hs} {ms}");
}

/// The figures for docs/synthetic-city.md, and the timing at scale 1.
#[test]
#[ignore = "scale 1 takes a while in debug builds; run with --release --ignored --nocapture"]
fn scale_one_report() {
    let started = Instant::now();
    let city = generate(1, 1.0).expect("generate");
    let secs = started.elapsed().as_secs_f64();
    println!("generate(1, 1.0): {secs:.2} s");
    let dir = tempfile::tempdir().expect("tempdir");
    let t = Instant::now();
    write_csv(&city, dir.path()).expect("write");
    println!("write_csv: {:.2} s", t.elapsed().as_secs_f64());
    println!(
        "registers: {} elderly, {} infants (with those who left), {} services, {} insurance",
        city.elderly.len(),
        city.infants.len(),
        city.services.len(),
        city.insurance.len()
    );
    for (k, v) in history_indicators(&city) {
        println!("{k}: {v}");
    }
    let city = live_only(&city);
    let t1 = calib::targets(1.0);
    for (c, t) in t1.counties.iter().enumerate() {
        println!(
            "{} residents {} 60+ {} 65+ {} 80+ {} infants {:?}",
            calib::COUNTIES[c],
            t.residents,
            t.aged_60,
            t.aged_65,
            t.aged_80,
            t.births
        );
    }
    let fs = &city.facilities;
    indicator_values(&city);
    for k in FacilityKind::ALL {
        println!(
            "{:<28} {:>5}  beds {:>6} nursing {:>6} dementia {:>5} slots {:>6}",
            k.code(),
            count(fs, *k),
            sum(fs, *k, |f| f.beds),
            sum(fs, *k, |f| f.nursing_beds),
            sum(fs, *k, |f| f.dementia_beds),
            sum(fs, *k, |f| f.approved_slots)
        );
    }
    println!("facilities {} classes {}", fs.len(), city.classes.len());
    let enrolled: i64 = city.classes.iter().map(|c| c.enrolled).sum();
    println!("enrolled {enrolled}");
    let rated: BTreeMap<String, usize> = fs
        .iter()
        .filter_map(|f| f.rating.map(|r| format!("{}:{}", f.kind.code(), r.code())))
        .fold(BTreeMap::new(), |mut m, k| {
            *m.entry(k).or_default() += 1;
            m
        });
    println!("ratings {rated:?}");
    let lapsed = fs
        .iter()
        .filter(|f| f.rating_valid_until.is_some_and(|d| d < city.as_of))
        .count();
    println!("ratings lapsed by as_of: {lapsed}");
    let own: BTreeMap<String, usize> = fs
        .iter()
        .filter_map(|f| {
            f.ownership
                .map(|o| format!("{}:{}", f.kind.code(), o.code()))
        })
        .fold(BTreeMap::new(), |mut m, k| {
            *m.entry(k).or_default() += 1;
            m
        });
    println!("ownership {own:?}");
    let operators: BTreeSet<&str> = fs
        .iter()
        .filter_map(|f| f.operator_credit_code.as_deref())
        .collect();
    println!("distinct operators {}", operators.len());

    let n = city.elderly.len() as f64;
    println!("elderly {}", city.elderly.len());
    let ids: std::collections::HashSet<&str> = city
        .elderly
        .iter()
        .chain(&city.infants)
        .map(|p| p.id_number.as_str())
        .collect();
    assert_eq!(
        ids.len(),
        city.elderly.len() + city.infants.len(),
        "ID numbers repeat"
    );
    let mut by_county: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
    for p in &city.elderly {
        let a = age_on(p.birth_date, city.as_of);
        let e = by_county.entry(&p.residence_area_code[..6]).or_default();
        e.0 += 1;
        if a >= 65 {
            e.1 += 1;
        }
        if a >= 80 {
            e.2 += 1;
        }
    }
    println!("by county (60+, 65+, 80+): {by_county:?}");
    let ages: Vec<i32> = city
        .elderly
        .iter()
        .map(|p| age_on(p.birth_date, city.as_of))
        .collect();
    let a65 = ages.iter().filter(|a| **a >= 65).count();
    println!(
        "65+ {} 80+ {} ({:.2}%) 100+ {}",
        a65,
        ages.iter().filter(|a| **a >= 80).count(),
        100.0 * ages.iter().filter(|a| **a >= 80).count() as f64 / n,
        ages.iter().filter(|a| **a >= 100).count()
    );
    let female = city
        .elderly
        .iter()
        .filter(|p| p.sex == laoxiao_model::person::Sex::Female)
        .count();
    println!("female share {:.1}%", 100.0 * female as f64 / n);
    let mut lv: BTreeMap<String, usize> = BTreeMap::new();
    for p in &city.elderly {
        *lv.entry(
            p.living_arrangement
                .map(|l| l.code().to_string())
                .unwrap_or_default(),
        )
        .or_default() += 1;
    }
    for (k, v) in &lv {
        println!("living {k}: {v} ({:.1}%)", 100.0 * *v as f64 / n);
    }
    let mut ab: BTreeMap<u8, usize> = BTreeMap::new();
    for p in &city.elderly {
        *ab.entry(p.ability_level.map(|a| a.number()).unwrap_or(9))
            .or_default() += 1;
    }
    for (k, v) in &ab {
        println!("ability {k}: {v} ({:.2}%)", 100.0 * *v as f64 / n);
    }
    let dem65 = city
        .elderly
        .iter()
        .zip(&ages)
        .filter(|(p, a)| p.dementia && **a >= 65)
        .count();
    let dem = city.elderly.iter().filter(|p| p.dementia).count();
    println!(
        "dementia {dem} ({:.2}% of 60+), {dem65} ({:.2}% of 65+)",
        100.0 * dem as f64 / n,
        100.0 * dem65 as f64 / a65 as f64
    );
    for sd in SpecialDifficulty::ALL {
        let k = city
            .elderly
            .iter()
            .filter(|p| p.special_difficulty.contains(sd))
            .count();
        println!("{}: {k} ({:.2}%)", sd.code(), 100.0 * k as f64 / n);
    }
    let any = city
        .elderly
        .iter()
        .filter(|p| !p.special_difficulty.is_empty())
        .count();
    println!(
        "any special difficulty: {any} ({:.2}%)",
        100.0 * any as f64 / n
    );
    let tk_dis: Vec<&Person> = city
        .elderly
        .iter()
        .filter(|p| {
            p.special_difficulty
                .contains(&SpecialDifficulty::ExtremePoverty)
                && p.ability_level.is_some_and(|a| a.is_disabled())
        })
        .collect();
    let tk_inst = tk_dis
        .iter()
        .filter(|p| p.living_arrangement == Some(LivingArrangement::InInstitution))
        .count();
    println!(
        "特困 unable to self-care: {} of whom in institutions {tk_inst}",
        tk_dis.len()
    );
    let local = city
        .elderly
        .iter()
        .chain(&city.infants)
        .filter(|p| {
            p.hukou_area_code
                .as_deref()
                .is_some_and(|h| h.starts_with(&p.residence_area_code[..6]))
        })
        .count();
    println!(
        "hukou in county of residence: {:.1}%",
        100.0 * local as f64 / (city.elderly.len() + city.infants.len()) as f64
    );
    println!("infants {}", city.infants.len());
    let mut years: BTreeMap<i32, usize> = BTreeMap::new();
    let mut orders: BTreeMap<i64, usize> = BTreeMap::new();
    for p in &city.infants {
        *years
            .entry(chrono::Datelike::year(&p.birth_date))
            .or_default() += 1;
        *orders.entry(p.birth_order.unwrap_or(0).min(3)).or_default() += 1;
    }
    println!("infants by birth year {years:?}; by order (3 = 3+) {orders:?}");
    let boys = city
        .infants
        .iter()
        .filter(|p| p.sex == laoxiao_model::person::Sex::Male)
        .count();
    println!(
        "boys per girl {:.3}",
        boys as f64 / (city.infants.len() - boys) as f64
    );
    let (high, mid, hs, ms) = density_classes(1);
    println!(
        "residents density: {high} km² cells > 3,000 ({:.1}% of residents), {mid} cells 1,000–3,000 ({:.1}%)",
        100.0 * hs,
        100.0 * ms
    );
    // Elderly per km² from the generated points.
    let mut grid: BTreeMap<(i64, i64), usize> = BTreeMap::new();
    for p in &city.elderly {
        let (x, y) = world::to_metres(
            (120.0, 30.0),
            (p.lng.unwrap_or_default(), p.lat.unwrap_or_default()),
        );
        *grid
            .entry(((x / 1000.0).floor() as i64, (y / 1000.0).floor() as i64))
            .or_default() += 1;
    }
    let eh = grid.values().filter(|v| **v > 3000).count();
    let em = grid.values().filter(|v| (1000..=3000).contains(*v)).count();
    println!(
        "elderly density: {eh} cells > 3,000, {em} cells 1,000–3,000, of {} occupied",
        grid.len()
    );
    let w = world::World::build(1).expect("world");
    println!(
        "anchors: {} of {} towns and {} of {} villages at the 2016 centre; {} centres outside their county",
        w.stats.towns_known,
        w.town_count(),
        w.stats.villages_known,
        w.village_count(),
        w.stats.centres_outside
    );
}

/// Indicator values computable from the phase-1 registers (printed by the report).
fn indicator_values(city: &SynthCity) {
    use FacilityKind::*;
    let fs = &city.facilities;
    let areas = jiaxing::areas().expect("areas");
    let towns = areas.at_level(laoxiao_model::AreaLevel::Town).count() as f64;
    let towns_with = |pred: &dyn Fn(&Facility) -> bool| -> f64 {
        fs.iter()
            .filter(|f| pred(f))
            .map(|f| &f.area_code[..9])
            .collect::<BTreeSet<_>>()
            .len() as f64
    };
    let n60 = city.elderly.len() as f64;
    let tk: Vec<&Person> = city
        .elderly
        .iter()
        .filter(|p| {
            p.special_difficulty
                .contains(&SpecialDifficulty::ExtremePoverty)
                && p.ability_level.is_some_and(|a| a.is_disabled())
        })
        .collect();
    let tk_in = tk
        .iter()
        .filter(|p| p.living_arrangement == Some(LivingArrangement::InInstitution))
        .count();
    println!(
        "ind 6: {:.1}% ({tk_in}/{})",
        100.0 * tk_in as f64 / tk.len() as f64,
        tk.len()
    );
    println!(
        "ind 9: {:.2} dementia beds per 10k 60+",
        sum(fs, ElderlyInstitution, |f| f.dementia_beds) as f64 / (n60 / 10_000.0)
    );
    println!("ind 10: {}", count(fs, TownHomeCareCenter));
    let st: Vec<&Facility> = fs.iter().filter(|f| f.kind == VillageCareStation).collect();
    let rated = st
        .iter()
        .filter(|f| {
            f.rating.is_some_and(Rating::is_a_scale)
                && f.rating_valid_until.is_some_and(|d| d >= city.as_of)
                && f.rating_valid_from.is_some_and(|d| d <= city.as_of)
        })
        .count();
    let villages = areas.at_level(laoxiao_model::AreaLevel::Village).count();
    println!(
        "ind 11: {:.1}% of stations rated 3A+ and valid; {:.1}% of villages",
        100.0 * rated as f64 / st.len() as f64,
        100.0 * rated as f64 / villages as f64
    );
    println!(
        "ind 14: {:.2}%",
        100.0 * sum(fs, ElderlyInstitution, |f| f.nursing_beds) as f64
            / sum(fs, ElderlyInstitution, |f| f.beds) as f64
    );
    println!("ind 20: {}", count(fs, WellnessAlliance));
    println!(
        "ind 22: {:.1}%",
        100.0 * towns_with(&|f| f.kind == AssistiveDeviceRental) / towns
    );
    println!(
        "ind 26: {:.1}%",
        100.0 * towns_with(&|f| f.kind == ElderlySchool) / towns
    );
    let filed = fs
        .iter()
        .filter(|f| f.kind == ChildcareInstitution && f.filing_status == FilingStatus::Filed)
        .count();
    println!(
        "ind 35: {filed}; ind 36: {}",
        fs.iter().filter(|f| f.demonstration).count()
    );
    println!(
        "ind 37: {:.2}%",
        100.0 * towns_with(&|f| f.kind.has_slots()) / towns
    );
    let slots: i64 = fs.iter().filter_map(|f| f.approved_slots).sum();
    let inclusive: i64 = fs
        .iter()
        .filter(|f| f.inclusive)
        .filter_map(|f| f.approved_slots)
        .sum();
    println!(
        "ind 38: {:.3} per 1,000 of {} residents; ind 39: {:.1}%",
        slots as f64 * 1000.0 / calib::targets(1.0).residents() as f64,
        calib::targets(1.0).residents(),
        100.0 * inclusive as f64 / slots as f64
    );
    let with_care: BTreeSet<&str> = fs
        .iter()
        .filter(|f| f.kind.has_slots())
        .map(|f| f.area_code.as_str())
        .collect();
    let communities: Vec<&laoxiao_model::Area> = areas
        .at_level(laoxiao_model::AreaLevel::Village)
        .filter(|a| {
            a.name.contains("社区") || a.name.contains("居委会") || a.name.contains("居民委员会")
        })
        .collect();
    let cc = communities
        .iter()
        .filter(|a| with_care.contains(a.code.as_str()))
        .count();
    println!(
        "ind 40: {:.1}% of {} communities; {:.1}% of all {villages} villages and communities",
        100.0 * cc as f64 / communities.len() as f64,
        communities.len(),
        100.0 * with_care.iter().filter(|c| c.len() == 12).count() as f64 / villages as f64
    );
}

/// The activity registers validate, their ids are unique, and every reference
/// names a record of the right kind (what the importer checks).
#[test]
fn activity_records_validate_and_refer_to_the_registers() {
    use laoxiao_model::activity::StaffRole;
    for city in [
        generate(11, 0.01).expect("generate"),
        generate_as_of(11, 0.01, util::ymd(2026, 11, 28)).expect("moved"),
    ] {
        let (areas, boundary, limits) = checker_parts();
        let ck = Checker {
            areas: &areas,
            boundary: &boundary,
            class_limits: &limits,
        };
        let today = city.as_of;
        let fac: BTreeMap<&str, FacilityKind> = city
            .facilities
            .iter()
            .map(|f| (f.id.as_str(), f.kind))
            .collect();
        let elderly: BTreeSet<&str> = city.elderly.iter().map(|p| p.id.as_str()).collect();
        let infants: BTreeSet<&str> = city.infants.iter().map(|p| p.id.as_str()).collect();
        let classes: BTreeMap<&str, &str> = city
            .classes
            .iter()
            .map(|c| (c.id.as_str(), c.facility_id.as_str()))
            .collect();
        let mut ids = BTreeSet::new();
        for s in &city.staff {
            assert!(s.validate(&ck, today).is_empty(), "{s:?}");
            let k = fac[s.facility_id.as_str()];
            match s.role {
                StaffRole::CareWorker => assert!(k.is_elderly(), "{s:?}"),
                StaffRole::NurseryStaff | StaffRole::InfantCarer => {
                    assert!(!k.is_elderly(), "{s:?}")
                }
                _ => {}
            }
            assert!(ids.insert(s.id.as_str()), "{}", s.id);
        }
        for r in &city.services {
            assert!(r.validate(&ck, today).is_empty(), "{r:?}");
            let people = if r.kind.for_infants() {
                &infants
            } else {
                &elderly
            };
            assert!(people.contains(r.person_id.as_str()), "{r:?}");
            if let Some(f) = &r.facility_id {
                assert!(fac.contains_key(f.as_str()), "{r:?}");
            }
            assert!(ids.insert(r.id.as_str()), "{}", r.id);
        }
        for e in &city.enrolments {
            assert!(e.validate(&ck, today).is_empty(), "{e:?}");
            assert!(infants.contains(e.infant_id.as_str()), "{e:?}");
            assert!(fac[e.facility_id.as_str()].has_slots(), "{e:?}");
            let class = e.class_id.as_deref().expect("class");
            assert_eq!(classes[class], e.facility_id);
            assert!(ids.insert(e.id.as_str()), "{}", e.id);
        }
        for r in &city.residences {
            assert!(r.validate(&ck, today).is_empty(), "{r:?}");
            assert!(elderly.contains(r.person_id.as_str()), "{r:?}");
            assert_eq!(
                fac[r.facility_id.as_str()],
                FacilityKind::ElderlyInstitution
            );
            assert!(ids.insert(r.id.as_str()), "{}", r.id);
        }
        for c in &city.student_cohorts {
            assert!(c.validate(&ck, today).is_empty(), "{c:?}");
            assert!(ids.insert(c.id.as_str()), "{}", c.id);
        }
        let mut insured = BTreeSet::new();
        for x in &city.insurance {
            assert!(x.validate(&ck, today).is_empty(), "{x:?}");
            let people = if x.kind.for_infants() {
                &infants
            } else {
                &elderly
            };
            assert!(people.contains(x.person_id.as_str()), "{x:?}");
            assert!(insured.insert(x.id.as_str()), "{}", x.id);
        }
        assert!(!city.insurance.is_empty());
        // Everyone living in a care home has a residence, and no one else.
        let in_home = city
            .elderly
            .iter()
            .filter(|p| p.living_arrangement == Some(LivingArrangement::InInstitution))
            .count();
        assert_eq!(city.residences.len(), in_home);
        // Each class has its enrolled children on the date.
        for c in &city.classes {
            let active = city
                .enrolments
                .iter()
                .filter(|e| e.class_id.as_deref() == Some(c.id.as_str()) && e.active_on(today))
                .count() as i64;
            assert!(active <= c.enrolled, "{}", c.id);
        }
        assert!(!city.staff.is_empty() && !city.services.is_empty());
    }
}

/// Indicators 6–8, 16–19, 30, 41–42 and enrolment occupancy, from the
/// registers alone (`docs/synthetic-city.md`'s indicator table).
fn activity_indicator_values(city: &SynthCity) {
    use laoxiao_model::activity::{ServiceKind, StaffRole};
    use laoxiao_model::person::PersonStatus;
    let as_of = city.as_of;
    let end2020 = util::ymd(as_of.year() - 2, 12, 31);
    let year_start = util::add_years(as_of, -1) + chrono::Days::new(1);
    let n60 = city
        .elderly
        .iter()
        .filter(|p| p.status == PersonStatus::Active)
        .count() as f64;
    let resident: BTreeSet<&str> = city
        .residences
        .iter()
        .filter(|r| r.active_on(as_of))
        .map(|r| r.person_id.as_str())
        .collect();
    // 6
    let tk: Vec<&Person> = city
        .elderly
        .iter()
        .filter(|p| {
            p.special_difficulty
                .contains(&SpecialDifficulty::ExtremePoverty)
                && p.ability_level.is_some_and(|a| a.is_disabled())
        })
        .collect();
    let tk_in = tk
        .iter()
        .filter(|p| resident.contains(p.id.as_str()))
        .count();
    println!(
        "ind 6: {:.1}% ({tk_in}/{}) with a residence on {as_of}",
        100.0 * tk_in as f64 / tk.len() as f64,
        tk.len()
    );
    // 7
    let served = |kinds: &[ServiceKind]| -> BTreeSet<&str> {
        city.services
            .iter()
            .filter(|s| kinds.contains(&s.kind) && s.date >= year_start && s.date <= as_of)
            .map(|s| s.person_id.as_str())
            .collect()
    };
    let pro = served(&[ServiceKind::ProfessionalCare, ServiceKind::HomeCareBed]);
    let den: Vec<&Person> = city
        .elderly
        .iter()
        .filter(|p| {
            p.hukou_area_code
                .as_deref()
                .is_some_and(|h| h.starts_with("3304"))
                && (p.ability_level.is_some_and(|a| a.is_disabled()) || p.dementia)
        })
        .collect();
    let covered = den
        .iter()
        .filter(|p| resident.contains(p.id.as_str()) || pro.contains(p.id.as_str()))
        .count();
    println!(
        "ind 7: {:.1}% ({covered}/{}; {} in homes)",
        100.0 * covered as f64 / den.len() as f64,
        den.len(),
        den.iter()
            .filter(|p| resident.contains(p.id.as_str()))
            .count()
    );
    // 8
    let sd: BTreeSet<&str> = city
        .elderly
        .iter()
        .filter(|p| !p.special_difficulty.is_empty() && !resident.contains(p.id.as_str()))
        .map(|p| p.id.as_str())
        .collect();
    let mut rates = Vec::new();
    for m in 1..=12u32 {
        let visited: BTreeSet<&str> = city
            .services
            .iter()
            .filter(|s| {
                s.kind == ServiceKind::Visit && s.date.month() == m && s.date.year() == as_of.year()
            })
            .map(|s| s.person_id.as_str())
            .filter(|p| sd.contains(p))
            .collect();
        rates.push(visited.len() as f64 / sd.len() as f64);
    }
    println!(
        "ind 8: monthly visit rate {:.1}% on average (min {:.1}%, December {:.1}%) of {} at home",
        100.0 * rates.iter().sum::<f64>() / 12.0,
        100.0 * rates.iter().copied().fold(1.0, f64::min),
        100.0 * rates[11],
        sd.len()
    );
    // 16–18
    let staff_on = |role: StaffRole, d: chrono::NaiveDate| {
        city.staff
            .iter()
            .filter(move |s| s.role == role && s.employed_on(d))
    };
    for (label, d) in [("2020", end2020), ("2022", as_of)] {
        let sw = staff_on(StaffRole::SocialWorker, d).count() as f64;
        let cw: Vec<_> = staff_on(StaffRole::CareWorker, d).collect();
        let cert = cw.iter().filter(|s| s.certified).count() as f64;
        let senior = cw
            .iter()
            .filter(|s| s.skill_grade.senior_or_above())
            .count() as f64;
        println!(
            "{label}: ind 16: {:.2} social workers per 10k 60+ ({sw}); ind 17: {:.2} certified care workers per 10k ({cert}); ind 18: {:.1}% of {} care workers at 高级工 or above",
            sw / (n60 / 1e4),
            cert / (n60 / 1e4),
            100.0 * senior / cw.len() as f64,
            cw.len()
        );
        let cc: Vec<_> = city
            .staff
            .iter()
            .filter(|s| s.role.is_childcare() && s.employed_on(d))
            .collect();
        let pros = cc
            .iter()
            .filter(|s| s.skill_grade.senior_or_above())
            .count();
        let certified = cc.iter().filter(|s| s.certified).count();
        println!(
            "{label}: ind 41: {pros} childcare professionals (高级工 or above); ind 42: {:.1}% of {} childcare staff certified",
            100.0 * certified as f64 / cc.len() as f64,
            cc.len()
        );
    }
    // 19
    for y in [2020, 2022] {
        let y = i64::from(y + as_of.year() - 2022);
        let n: i64 = city.student_cohorts.iter().map(|c| c.counted_in(y)).sum();
        println!("ind 19: {n} eldercare students in {y} (graduates of the year included)");
    }
    // 30
    let born: Vec<&Person> = city
        .infants
        .iter()
        .filter(|p| p.birth_date >= year_start)
        .collect();
    let nv = served(&[ServiceKind::NewbornVisit]);
    let visited = born.iter().filter(|p| nv.contains(p.id.as_str())).count();
    println!(
        "ind 30: {:.2}% of {} newborns of the year visited",
        100.0 * visited as f64 / born.len() as f64,
        born.len()
    );
    // Enrolments
    let cap: i64 = city.classes.iter().map(|c| c.capacity).sum();
    let active = city
        .enrolments
        .iter()
        .filter(|e| e.active_on(as_of))
        .count();
    println!(
        "enrolments: {active} active of {cap} class places ({:.1}%), {} ended during the year",
        100.0 * active as f64 / cap as f64,
        city.enrolments.len() - active
    );
    let mut by_kind: BTreeMap<&str, usize> = BTreeMap::new();
    for s in &city.services {
        *by_kind.entry(s.kind.code()).or_default() += 1;
    }
    println!(
        "records: {} staff, {} services {by_kind:?}, {} enrolments, {} residences, {} cohorts",
        city.staff.len(),
        city.services.len(),
        city.enrolments.len(),
        city.residences.len(),
        city.student_cohorts.len()
    );
}

/// The city without the people who left (status other than active): the
/// population the census-calibrated figures describe.
fn live_only(city: &SynthCity) -> SynthCity {
    let mut live = city.clone();
    live.elderly.retain(|p| p.status == PersonStatus::Active);
    live.infants.retain(|p| p.status == PersonStatus::Active);
    live
}

/// Indicators 24, 31, 43 and 45 of each year 2020–2022 from the registers'
/// dates, as the indicator engine defines them, with the deaths and moves of
/// each year: `(name, "value (numerator/denominator)")`.
fn history_indicators(city: &SynthCity) -> Vec<(String, String)> {
    use laoxiao_model::activity::{InsuranceKind, ServiceKind};
    let gone = |p: &Person, d: NaiveDate| {
        [p.death_date, p.moved_out_date]
            .into_iter()
            .flatten()
            .any(|x| x <= d)
    };
    let alive = |p: &Person, d: NaiveDate| p.birth_date <= d && !gone(p, d);
    let mut out = Vec::new();
    let first = city.as_of.year() - 2;
    for y in first..=city.as_of.year() {
        let end = util::ymd(y, 12, 31).min(city.as_of);
        let start = util::ymd(y, 1, 1);
        // 24: 60+ with a 3304 hukou alive on the last day, covered that day.
        let covered: BTreeSet<&str> = city
            .insurance
            .iter()
            .filter(|x| x.kind == InsuranceKind::ElderlyAccident && x.covers(end))
            .map(|x| x.person_id.as_str())
            .collect();
        let den: Vec<&Person> = city
            .elderly
            .iter()
            .filter(|p| {
                alive(p, end)
                    && age_on(p.birth_date, end) >= 60
                    && p.hukou_area_code
                        .as_deref()
                        .is_some_and(|h| h.starts_with("3304"))
            })
            .collect();
        let num = den
            .iter()
            .filter(|p| covered.contains(p.id.as_str()))
            .count();
        out.push((
            format!("ind 24 {y}"),
            format!(
                "{:.2}% ({num}/{})",
                100.0 * num as f64 / den.len() as f64,
                den.len()
            ),
        ));
        // 31: deaths under one in the year per live birth in the year (‰).
        let births = city
            .infants
            .iter()
            .filter(|p| p.birth_date.year() == y)
            .count();
        let deaths = city
            .infants
            .iter()
            .filter(|p| {
                p.death_date
                    .is_some_and(|d| d.year() == y && age_on(p.birth_date, d) < 1)
            })
            .count();
        out.push((
            format!("ind 31 {y}"),
            format!(
                "{:.2}‰ ({deaths}/{births})",
                1000.0 * deaths as f64 / births as f64
            ),
        ));
        // 43 and 45: under-threes alive on the last day with a service in the year.
        let kids: Vec<&Person> = city
            .infants
            .iter()
            .filter(|p| alive(p, end) && age_on(p.birth_date, end) < 3)
            .collect();
        for (n, kind) in [
            (43, ServiceKind::ChildHealthCheck),
            (45, ServiceKind::DevelopmentalScreening),
        ] {
            let seen: BTreeSet<&str> = city
                .services
                .iter()
                .filter(|s| s.kind == kind && s.date >= start && s.date <= end)
                .map(|s| s.person_id.as_str())
                .collect();
            let num = kids.iter().filter(|p| seen.contains(p.id.as_str())).count();
            out.push((
                format!("ind {n} {y}"),
                format!(
                    "{:.2}% ({num}/{})",
                    100.0 * num as f64 / kids.len() as f64,
                    kids.len()
                ),
            ));
        }
        let in_year = |d: Option<NaiveDate>| d.is_some_and(|d| d >= start && d <= end);
        out.push((
            format!("left {y}"),
            format!(
                "elderly deaths {}, elderly moves {}, infant deaths {}",
                city.elderly
                    .iter()
                    .filter(|p| in_year(p.death_date))
                    .count(),
                city.elderly
                    .iter()
                    .filter(|p| in_year(p.moved_out_date))
                    .count(),
                city.infants
                    .iter()
                    .filter(|p| in_year(p.death_date))
                    .count()
            ),
        ));
    }
    out
}

/// The history's indicators are the plan's, from the registers' dates.
#[test]
fn history_gives_each_year_s_indicators() {
    let city = generate(2, 0.05).expect("generate");
    let figures: BTreeMap<String, String> = history_indicators(&city).into_iter().collect();
    let pct = |k: &str| -> f64 {
        figures[k]
            .split('%')
            .next()
            .and_then(|v| v.parse().ok())
            .expect("a percentage")
    };
    for y in 2020..=2022 {
        assert_eq!(pct(&format!("ind 24 {y}")), 100.0, "{figures:?}");
        assert!(
            figures[&format!("left {y}")].contains("deaths"),
            "{figures:?}"
        );
    }
    assert!((pct("ind 43 2020") - 98.78).abs() < 0.05, "{figures:?}");
    assert!((pct("ind 43 2022") - 96.0).abs() < 0.05, "{figures:?}");
    assert!((pct("ind 45 2020") - 90.0).abs() < 0.05, "{figures:?}");
    assert!((pct("ind 45 2022") - 88.0).abs() < 0.05, "{figures:?}");
    let permille = |k: &str| -> f64 {
        figures[k]
            .split('‰')
            .next()
            .and_then(|v| v.parse().ok())
            .expect("a rate")
    };
    for y in 2020..=2022 {
        let r = permille(&format!("ind 31 {y}"));
        assert!((1.0..3.5).contains(&r), "{y}: {figures:?}");
    }
    // Everyone who left did so in the years of history, and stays listed.
    for p in city.elderly.iter().chain(&city.infants) {
        match p.status {
            PersonStatus::Active => assert!(p.death_date.is_none() && p.moved_out_date.is_none()),
            PersonStatus::Deceased => {
                assert!(
                    p.death_date
                        .is_some_and(|d| d.year() >= 2020 && d <= city.as_of)
                )
            }
            PersonStatus::MovedOut => assert!(
                p.moved_out_date
                    .is_some_and(|d| d.year() >= 2020 && d <= city.as_of)
            ),
        }
    }
}

/// The activity registers' indicator values at scale 1 (for docs/synthetic-city.md).
#[test]
#[ignore = "scale 1 takes a while in debug builds; run with --release --ignored --nocapture"]
fn activity_indicators_report() {
    let started = Instant::now();
    let city = generate(1, 1.0).expect("generate");
    println!("generate(1, 1.0): {:.2} s", started.elapsed().as_secs_f64());
    for (k, v) in history_indicators(&city) {
        println!("{k}: {v}");
    }
    activity_indicator_values(&live_only(&city));
}
