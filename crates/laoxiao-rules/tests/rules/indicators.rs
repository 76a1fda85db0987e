//! The computed indicators on a small hand-made city whose right answers are
//! worked out in the comments: ten areas, nine elderly people, seven
//! infants, fifteen facilities, eight staff and five student intakes,
//! including the edge cases the definitions state (a death and a move in the
//! year, a rating that lapsed, a facility opened and one closed mid-year, a
//! month without visits, a filing dated after the day, a child who turned three).

use chrono::NaiveDate;
use laoxiao_model::activity::{ServiceKind, SkillGrade, StaffRole};
use laoxiao_model::area::child_path;
use laoxiao_model::facility::{FacilityLevel, FilingStatus, Rating};
use laoxiao_model::person::SpecialDifficulty;
use laoxiao_model::{Area, AreaLevel, AreaTree, FacilityKind};
use laoxiao_rules::indicators::facts::{
    CohortFact, FacilityFact, NONE, PersonEvent, PersonFact, ResidentsFact, StaffFact, day,
};
use laoxiao_rules::indicators::{Computed, Facts, Period, compute, definitions};

fn d(s: &str) -> i32 {
    day(NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date"))
}

fn pos<T: PartialEq>(all: &[T], v: T) -> u8 {
    all.iter().position(|x| *x == v).expect("value") as u8
}

/// Positions in the tree below.
const CITY: u32 = 0;
const V3: u32 = 3; // 甲社区居委会 (a community) in town A1
const V4: u32 = 4; // 乙村 in town A1
const A1: u32 = 2;
const A2: u32 = 5;
const V6: u32 = 6; // 丁村 in town A2
const B: u32 = 7;
const B1: u32 = 8;
const V9: u32 = 9; // 己社区 (a community) in town B1
const A: u32 = 1;

fn tree() -> AreaTree {
    let spec = [
        ("330400", "嘉兴市", AreaLevel::City, None),
        ("330402", "南湖区", AreaLevel::County, Some(0)),
        ("330402001", "甲街道", AreaLevel::Town, Some(1)),
        ("330402001001", "甲社区居委会", AreaLevel::Village, Some(2)),
        ("330402001002", "乙村", AreaLevel::Village, Some(2)),
        ("330402002", "丙镇", AreaLevel::Town, Some(1)),
        ("330402002001", "丁村", AreaLevel::Village, Some(5)),
        ("330411", "秀洲区", AreaLevel::County, Some(0)),
        ("330411001", "戊镇", AreaLevel::Town, Some(7)),
        ("330411001001", "己社区", AreaLevel::Village, Some(8)),
    ];
    let mut areas: Vec<Area> = Vec::new();
    for (code, name, level, parent) in spec {
        let parent: Option<&Area> = parent.map(|p: usize| &areas[p]);
        let a = Area {
            code: code.into(),
            name: name.into(),
            level,
            parent_code: parent.map(|p| p.code.clone()),
            path: child_path(parent.map(|p| p.path.as_str()), code),
            urban_rural_code: None,
            centre: None,
        };
        areas.push(a);
    }
    AreaTree::new(areas)
}

fn person(area: u32, birth: &str) -> PersonFact {
    PersonFact {
        area,
        infant: false,
        birth: d(birth),
        death: NONE,
        moved_out: NONE,
        gone_undated: false,
        hukou: 0,
        hukou_len: 0,
        ability: -1,
        dementia: false,
        care_insurance: false,
        difficulty: 0,
        living: -1,
    }
}

fn hukou(p: PersonFact, code: &str) -> PersonFact {
    PersonFact {
        hukou: code.parse().expect("code"),
        hukou_len: code.len() as u8,
        ..p
    }
}

fn category(c: SpecialDifficulty) -> u8 {
    1 << pos(SpecialDifficulty::ALL, c)
}

fn facility(area: u32, kind: FacilityKind) -> FacilityFact {
    FacilityFact {
        area,
        kind: pos(FacilityKind::ALL, kind),
        level: -1,
        rating: -1,
        not_operating: false,
        opening: NONE,
        closed: NONE,
        rating_from: NONE,
        rating_until: NONE,
        filing_status: pos(FilingStatus::ALL, FilingStatus::NotRequired),
        filing_date: NONE,
        beds: 0,
        nursing_beds: 0,
        dementia_beds: 0,
        approved_slots: 0,
        smart: false,
        demonstration: false,
        inclusive: false,
    }
}

fn staff(
    facility: u32,
    role: StaffRole,
    certified: bool,
    grade: SkillGrade,
    hired: &str,
    left: Option<&str>,
) -> StaffFact {
    StaffFact {
        facility,
        role: pos(StaffRole::ALL, role),
        certified,
        grade: pos(SkillGrade::ALL, grade),
        hired: d(hired),
        left: left.map_or(NONE, d),
    }
}

fn service(person: u32, kind: ServiceKind, date: &str) -> PersonEvent {
    PersonEvent {
        person,
        kind: pos(ServiceKind::ALL, kind),
        from: d(date),
        until: d(date),
    }
}

fn city() -> Facts {
    use SpecialDifficulty::*;
    let mut f = Facts::default();
    // ---- Elderly people (positions 0–8) ----
    // E1 (0): 特困, level 3, in a care home since 2021-05-01; local hukou.
    let mut e1 = hukou(person(V3, "1940-01-01"), "330402001001");
    e1.difficulty = category(ExtremePoverty);
    e1.ability = 3;
    // E2 (1): 特困, level 2, at home; visited on the 15th of January to
    // November, not in December.
    let mut e2 = hukou(person(V3, "1945-05-05"), "330402001001");
    e2.difficulty = category(ExtremePoverty);
    e2.ability = 2;
    // E3 (2): 特困, level 4, at home, died 2022-06-30; never visited.
    let mut e3 = hukou(person(V4, "1930-03-03"), "330402001002");
    e3.difficulty = category(ExtremePoverty);
    e3.ability = 4;
    e3.death = d("2022-06-30");
    // E4 (3): level 1 with dementia, hukou 330481 (within Jiaxing),
    // professional care on 2022-03-10.
    let mut e4 = hukou(person(V4, "1950-07-07"), "330481001001");
    e4.ability = 1;
    e4.dementia = true;
    // E5 (4): level 2, hukou in Nanjing (320100), 低保, in a care home.
    let mut e5 = hukou(person(V6, "1948-02-02"), "320100");
    e5.ability = 2;
    e5.difficulty = category(MinimumLivingAllowance);
    // E6 (5): 59 on 2022-12-31 (60 on 2023-03-01): not yet elderly; 特困.
    let mut e6 = hukou(person(V6, "1963-03-01"), "330402002001");
    e6.difficulty = category(ExtremePoverty);
    e6.ability = 3;
    // E7 (6): 重度残疾, at home, visited on the 10th of January to July,
    // moved out on 2022-08-01.
    let mut e7 = hukou(person(V9, "1955-09-09"), "330411001001");
    e7.difficulty = category(SevereDisability);
    e7.moved_out = d("2022-08-01");
    // E8 (7): 低保边缘, level 0, at home, visited on the 20th of every month;
    // accident insurance for 2022.
    let mut e8 = hukou(person(V9, "1952-12-12"), "330411001001");
    e8.difficulty = category(LowIncomeMargin);
    e8.ability = 0;
    // E9 (8): no category; accident insurance for 2021 only (lapsed).
    let e9 = hukou(person(V9, "1958-08-08"), "330411001001");
    f.people.extend([e1, e2, e3, e4, e5, e6, e7, e8, e9]);
    // ---- Infants (positions 9–15) ----
    let infant = |area, birth: &str| PersonFact {
        infant: true,
        ..person(area, birth)
    };
    // I1 (9): born 2022-03-01; newborn visit, health check, screening.
    // I2 (10): born 2022-12-20; not visited yet.
    // I3 (11): born 2022-02-01, visited, died 2022-08-01 (under one).
    // I4 (12): born 2021-06-01, died 2022-07-01 aged one (not an infant death).
    // I5 (13): born 2019-12-01: three on 2022-12-01, aged out; a check in May.
    // I6 (14): born 2020-05-01: a health check, no screening.
    // I7 (15): born 2021-01-15: no check.
    let mut i3 = infant(V4, "2022-02-01");
    i3.death = d("2022-08-01");
    let mut i4 = infant(V6, "2021-06-01");
    i4.death = d("2022-07-01");
    f.people.extend([
        infant(V3, "2022-03-01"),
        infant(V3, "2022-12-20"),
        i3,
        i4,
        infant(V9, "2019-12-01"),
        infant(V9, "2020-05-01"),
        infant(V6, "2021-01-15"),
    ]);
    // ---- Services ----
    for m in 1..=11 {
        f.services
            .push(service(1, ServiceKind::Visit, &format!("2022-{m:02}-15")));
    }
    for m in 1..=7 {
        f.services
            .push(service(6, ServiceKind::Visit, &format!("2022-{m:02}-10")));
    }
    for m in 1..=12 {
        f.services
            .push(service(7, ServiceKind::Visit, &format!("2022-{m:02}-20")));
    }
    f.services
        .push(service(3, ServiceKind::ProfessionalCare, "2022-03-10"));
    f.services
        .push(service(9, ServiceKind::NewbornVisit, "2022-03-10"));
    f.services
        .push(service(9, ServiceKind::ChildHealthCheck, "2022-06-01"));
    f.services.push(service(
        9,
        ServiceKind::DevelopmentalScreening,
        "2022-09-01",
    ));
    f.services
        .push(service(11, ServiceKind::NewbornVisit, "2022-02-10"));
    f.services
        .push(service(13, ServiceKind::ChildHealthCheck, "2022-05-01"));
    f.services
        .push(service(14, ServiceKind::ChildHealthCheck, "2022-04-01"));
    // ---- Care-home stays ----
    f.residences.push(PersonEvent {
        person: 0,
        kind: 0,
        from: d("2021-05-01"),
        until: NONE,
    });
    f.residences.push(PersonEvent {
        person: 4,
        kind: 0,
        from: d("2020-01-01"),
        until: NONE,
    });
    // ---- Insurance (elderly_accident is kind 0; ends are exclusive) ----
    f.insurance.push(PersonEvent {
        person: 0,
        kind: 0,
        from: d("2020-01-01"),
        until: NONE,
    });
    f.insurance.push(PersonEvent {
        person: 7,
        kind: 0,
        from: d("2022-01-01"),
        until: d("2023-01-01"),
    });
    f.insurance.push(PersonEvent {
        person: 8,
        kind: 0,
        from: d("2021-01-01"),
        until: d("2022-01-01"),
    });
    // ---- Facilities (positions 0–14) ----
    use FacilityKind::*;
    // F1 (0): care home in town A1: 100 beds, 60 nursing, 10 dementia, smart.
    let mut f1 = facility(A1, ElderlyInstitution);
    (f1.beds, f1.nursing_beds, f1.dementia_beds, f1.smart) = (100, 60, 10, true);
    f1.opening = d("2019-01-01");
    // F2 (1): care home in town B1 opened 2022-07-01: 50 / 20 / 5.
    let mut f2 = facility(B1, ElderlyInstitution);
    (f2.beds, f2.nursing_beds, f2.dementia_beds) = (50, 20, 5);
    f2.opening = d("2022-07-01");
    // F3 (2): care home in town A2 closed 2022-05-01: 40 / 40 / 8.
    let mut f3 = facility(A2, ElderlyInstitution);
    (f3.beds, f3.nursing_beds, f3.dementia_beds) = (40, 40, 8);
    f3.opening = d("2015-01-01");
    f3.closed = d("2022-05-01");
    // F4 (3): town centre in A1; F5 (4): a suspended one in A2.
    let f4 = facility(A1, TownHomeCareCenter);
    let mut f5 = facility(A2, TownHomeCareCenter);
    f5.not_operating = true;
    // S1 (5): station in V3 rated 4A until 2023; S2 (6): in V4 rated 3A
    // until 2022-06-30 (lapsed); S3 (7): in V9, unrated.
    let mut s1 = facility(V3, VillageCareStation);
    s1.rating = pos(Rating::ALL, Rating::A4) as i8;
    (s1.rating_from, s1.rating_until) = (d("2021-01-01"), d("2023-12-31"));
    let mut s2 = facility(V4, VillageCareStation);
    s2.rating = pos(Rating::ALL, Rating::A3) as i8;
    (s2.rating_from, s2.rating_until) = (d("2020-01-01"), d("2022-06-30"));
    let s3 = facility(V9, VillageCareStation);
    // W1 (8): provincial wellness alliance in B1; R1 (9): rental point in V6;
    // K1 (10): elderly school in A1 opening 2023-02-01.
    let mut w1 = facility(B1, WellnessAlliance);
    w1.level = pos(FacilityLevel::ALL, FacilityLevel::Provincial) as i8;
    let r1 = facility(V6, AssistiveDeviceRental);
    let mut k1 = facility(A1, ElderlySchool);
    k1.opening = d("2023-02-01");
    // C1 (11): childcare in V3, 50 slots, inclusive, filed 2022-03-01, demonstration.
    let filed = pos(FilingStatus::ALL, FilingStatus::Filed);
    let mut c1 = facility(V3, ChildcareInstitution);
    (c1.approved_slots, c1.inclusive, c1.demonstration) = (50, true, true);
    (c1.filing_status, c1.filing_date) = (filed, d("2022-03-01"));
    // C2 (12): childcare in town B1, 30 slots, filing pending.
    let mut c2 = facility(B1, ChildcareInstitution);
    c2.approved_slots = 30;
    c2.filing_status = pos(FilingStatus::ALL, FilingStatus::Pending);
    // C3 (13): nursery class in V6, 20 slots, inclusive.
    let mut c3 = facility(V6, KindergartenNurseryClass);
    (c3.approved_slots, c3.inclusive) = (20, true);
    // C4 (14): childcare in V4 opened 2022-01-01, 40 slots, filed 2023-01-10.
    let mut c4 = facility(V4, ChildcareInstitution);
    c4.approved_slots = 40;
    c4.opening = d("2022-01-01");
    (c4.filing_status, c4.filing_date) = (filed, d("2023-01-10"));
    f.facilities
        .extend([f1, f2, f3, f4, f5, s1, s2, s3, w1, r1, k1, c1, c2, c3, c4]);
    // ---- Staff ----
    use SkillGrade::*;
    use StaffRole::*;
    f.staff.extend([
        staff(0, SocialWorker, true, Ungraded, "2020-01-01", None), // T1
        staff(
            3,
            SocialWorker,
            true,
            Ungraded,
            "2021-01-01",
            Some("2022-09-30"),
        ), // T2 left
        staff(0, CareWorker, true, Senior, "2022-02-01", None),     // T3
        staff(1, CareWorker, false, Junior, "2022-08-01", None),    // T4
        staff(
            2,
            CareWorker,
            true,
            Technician,
            "2016-01-01",
            Some("2022-05-01"),
        ), // T5 left
        staff(11, InfantCarer, true, Senior, "2021-01-01", None),   // T6
        staff(12, NurseryStaff, false, Ungraded, "2022-05-01", None), // T7
        staff(14, HealthStaff, true, Intermediate, "2023-01-05", None), // T8 not yet
    ]);
    // ---- Student intakes ----
    f.cohorts.extend(
        [
            (2018, 30, 29),
            (2019, 40, 38),
            (2020, 50, 0),
            (2021, 60, 0),
            (2022, 70, 0),
        ]
        .map(|(intake_year, enrolled, graduated)| CohortFact {
            intake_year,
            enrolled,
            graduated,
        }),
    );
    // ---- Residents: county A 10,000 (2020) then 14,000 (2022); B 5,000 ----
    f.residents.extend([
        ResidentsFact {
            area: A,
            year: 2020,
            residents: 10_000,
        },
        ResidentsFact {
            area: A,
            year: 2022,
            residents: 14_000,
        },
        ResidentsFact {
            area: B,
            year: 2020,
            residents: 5_000,
        },
    ]);
    f.finish();
    f
}

struct Run {
    rows: Vec<Computed>,
}

impl Run {
    fn new(period: &str) -> Run {
        let defs: Vec<_> = definitions().expect("definitions").all.iter().collect();
        let p = Period::parse(period).expect("period");
        let rows = compute(&defs, &city(), &tree(), p, p.end());
        Run { rows }
    }

    fn get(&self, n: u32, area: u32) -> &Computed {
        let code = tree().all()[area as usize].code.clone();
        self.rows
            .iter()
            .find(|r| r.indicator == n && r.area_code == code)
            .unwrap_or_else(|| panic!("no value for {n} at {code}"))
    }

    /// (numerator, denominator, value rounded to 4 decimals)
    fn nd(&self, n: u32, area: u32) -> (Option<i64>, Option<i64>, Option<f64>) {
        let r = self.get(n, area);
        (
            r.numerator,
            r.denominator,
            r.value.map(|v| (v * 1e4).round() / 1e4),
        )
    }

    fn has(&self, n: u32, area: u32) -> bool {
        let code = tree().all()[area as usize].code.clone();
        self.rows
            .iter()
            .any(|r| r.indicator == n && r.area_code == code)
    }
}

#[test]
fn elderly_care_indicators() {
    let r = Run::new("2022");
    // Elderly on 2022-12-31: E1, E2, E4, E5, E8, E9 (E3 died, E6 is 59, E7
    // moved out): 3 in town A1, 1 in A2, 2 in B1.
    // 6: 特困 at level 2+ alive: E1, E2 (E3 died, E6 not 60): E1 in a home.
    assert_eq!(r.nd(6, CITY), (Some(1), Some(2), Some(50.0)));
    assert_eq!(
        r.nd(6, B),
        (Some(0), Some(0), None),
        "nobody to count: no data"
    );
    // 7: local hukou and (level 2+ or dementia): E1, E2, E4 (E5's hukou is
    // Nanjing); covered: E1 (home), E4 (professional care in March).
    assert_eq!(r.nd(7, CITY), (Some(2), Some(3), Some(66.6667)));
    assert_eq!(r.nd(7, V4), (Some(1), Some(1), Some(100.0)));
    // 8: at home with a category, month by month (see the comments in
    // `city`): Jan–May 3/4, Jun–Jul 3/3, Aug–Nov 2/2, Dec 1/2 (E2 not
    // visited): (5×75 + 2×100 + 4×100 + 50) / 12 = 85.4167.
    let v8 = r.get(8, CITY);
    assert_eq!(v8.months.len(), 12);
    assert_eq!((v8.months[0].numerator, v8.months[0].denominator), (3, 4));
    assert_eq!(
        v8.months[11].rate,
        Some(50.0),
        "a month without visits counts as 0, not skipped"
    );
    assert_eq!(r.nd(8, CITY), (Some(30), Some(36), Some(85.4167)));
    // County A: Jan–May 1/2, Jun–Nov 1/1, Dec 0/1: (250 + 600 + 0) / 12.
    assert_eq!(r.nd(8, A).2, Some(70.8333));
    // 9: dementia beds of homes open on the day: F1 10 + F2 5 (F3 closed in
    // May) per 6 elderly × 10,000.
    assert_eq!(r.nd(9, CITY), (Some(15), Some(6), Some(25_000.0)));
    // 10: town centres operating: F4 (F5 is suspended).
    assert_eq!(r.nd(10, CITY), (Some(1), None, Some(1.0)));
    assert_eq!(r.nd(10, A2).0, Some(0));
    // 11: stations 3A+ with a valid rating: S1 (S2's lapsed on 2022-06-30) of 3.
    assert_eq!(r.nd(11, CITY), (Some(1), Some(3), Some(33.3333)));
    assert_eq!(r.nd(11, A), (Some(1), Some(2), Some(50.0)));
    // 12: smart homes per county: A 1, B 0; the city is the least county.
    assert_eq!(r.nd(12, A).2, Some(1.0));
    assert_eq!(r.nd(12, B).2, Some(0.0));
    assert_eq!(r.nd(12, CITY).2, Some(0.0));
    assert!(!r.has(12, A1), "12 has no town values");
    // 14: nursing beds of open homes: (60 + 20) / (100 + 50).
    assert_eq!(r.nd(14, CITY), (Some(80), Some(150), Some(53.3333)));
    // 16: social workers employed on the day: T1 (T2 left) per 6 × 10,000.
    assert_eq!(r.nd(16, CITY), (Some(1), Some(6), Some(1666.6667)));
    // 17: certified care workers: T3 (T5 left).
    assert_eq!(r.nd(17, CITY), (Some(1), Some(6), Some(1666.6667)));
    // 18: care workers at senior or above: T3 of T3, T4.
    assert_eq!(r.nd(18, CITY), (Some(1), Some(2), Some(50.0)));
    // 19: 2022 counts intakes 2020–2022 (50 + 60 + 70) and 2019's graduates (38).
    assert_eq!(r.nd(19, CITY).0, Some(218));
    assert!(!r.has(19, A));
    // 20: one wellness alliance.
    assert_eq!(r.nd(20, CITY).0, Some(1));
    // 22: towns with a rental point: A2 of A1, A2, B1.
    assert_eq!(r.nd(22, CITY), (Some(1), Some(3), Some(33.3333)));
    assert_eq!(r.nd(22, A2).2, Some(100.0));
    assert_eq!(r.nd(22, A1).2, Some(0.0));
    assert!(!r.has(22, V6), "coverage of towns has no village values");
    // 24: local hukou elderly: E1, E2, E4, E8, E9; insured on the day: E1, E8.
    assert_eq!(r.nd(24, CITY), (Some(2), Some(5), Some(40.0)));
    // 26: the only school opens in 2023.
    assert_eq!(r.nd(26, CITY), (Some(0), Some(3), Some(0.0)));
}

#[test]
fn childcare_indicators() {
    let r = Run::new("2022");
    // 30: born in 2022: I1, I2, I3; visited: I1, I3.
    assert_eq!(r.nd(30, CITY), (Some(2), Some(3), Some(66.6667)));
    // 31: I3 died under one (I4 was one): 1 per 3 births × 1,000.
    assert_eq!(r.nd(31, CITY), (Some(1), Some(3), Some(333.3333)));
    assert_eq!(r.nd(31, B), (Some(0), Some(0), None));
    // 35: filed by the day: C1 (C4's filing is dated 2023).
    assert_eq!(r.nd(35, CITY).0, Some(1));
    // 36: demonstration: C1.
    assert_eq!(r.nd(36, CITY).0, Some(1));
    // 37: towns with childcare: A1 (C1, C4), A2 (C3), B1 (C2): 3 of 3.
    assert_eq!(r.nd(37, CITY), (Some(3), Some(3), Some(100.0)));
    // 38: slots 50 + 30 + 20 + 40 = 140 per residents; A has 14,000 from
    // 2022, B 5,000 from 2020, the city none of its own: their sum.
    assert_eq!(r.nd(38, A), (Some(110), Some(14_000), Some(7.8571)));
    assert_eq!(r.nd(38, B), (Some(30), Some(5_000), Some(6.0)));
    assert_eq!(r.nd(38, CITY), (Some(140), Some(19_000), Some(7.3684)));
    // 39: inclusive slots C1 50 + C3 20 of 140.
    assert_eq!(r.nd(39, CITY), (Some(70), Some(140), Some(50.0)));
    // 40: communities 甲社区居委会 (C1) and 己社区 (none).
    assert_eq!(r.nd(40, CITY), (Some(1), Some(2), Some(50.0)));
    // 41: childcare staff at senior or above: T6.
    assert_eq!(r.nd(41, CITY).0, Some(1));
    // 42: childcare staff employed: T6, T7 (T8 starts in 2023); certified T6.
    assert_eq!(r.nd(42, CITY), (Some(1), Some(2), Some(50.0)));
    // 43: under three on the day: I1, I2, I6, I7 (I3, I4 died, I5 turned
    // three); checked in 2022: I1, I6.
    assert_eq!(r.nd(43, CITY), (Some(2), Some(4), Some(50.0)));
    // 45: screened: I1.
    assert_eq!(r.nd(45, CITY), (Some(1), Some(4), Some(25.0)));
}

#[test]
fn earlier_years_and_months() {
    // 2021: F3 was still open and F2 not yet: (60 + 40) / (100 + 40).
    let r = Run::new("2021");
    assert_eq!(r.nd(14, CITY), (Some(100), Some(140), Some(71.4286)));
    // 38 in 2021 uses county A's 2020 figure.
    assert_eq!(r.nd(38, A).1, Some(10_000));
    // 19 in 2021: intakes 2019–2021 (40 + 50 + 60) and 2018's graduates (29).
    assert_eq!(r.nd(19, CITY).0, Some(179));
    // One month: December 2022 alone for the monthly indicator.
    let r = Run::new("2022-12");
    assert_eq!(r.nd(8, CITY), (Some(1), Some(2), Some(50.0)));
    assert!(
        !r.rows.iter().any(|x| x.indicator == 14),
        "14 has no monthly values"
    );
}
