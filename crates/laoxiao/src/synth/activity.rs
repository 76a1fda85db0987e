//! The activity registers of the synthetic city: staff, a year of service
//! records, childcare enrolments, care-home residences and eldercare student
//! cohorts. Rates are calibrated to the plan's indicators (16–19, 41–42 for
//! staff and students; 6–8 and 30 for services); `docs/synthetic-city.md` lists
//! them with the values generated.

use std::collections::BTreeMap;

use chrono::{Datelike, Days, Months, NaiveDate};
use laoxiao_model::activity::{
    Enrolment, Residence, ServiceKind, ServiceRecord, SkillGrade, Staff, StaffRole, StudentCohort,
};
use laoxiao_model::person::{LivingArrangement, age_months_on, age_on};
use laoxiao_model::{ChildcareClass, Facility, FacilityKind, Person};
use laoxiao_rules::ClassLimits;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::names::{Era, Names};
use super::util::{Concern, add_years, apportion, date_between, shuffle, stream, ymd};

/// Per 10,000 aged 60+: social workers (indicator 16) and certified care
/// workers (indicator 17) at the end of 2020 and of 2022.
pub(crate) const SOCIAL_WORKERS_PER_10K: (f64, f64) = (20.0, 22.0);
pub(crate) const CERTIFIED_CARE_WORKERS_PER_10K: (f64, f64) = (16.0, 21.0);
/// Care workers without a certificate, as a share of the certified (assumption).
pub(crate) const UNCERTIFIED_CARE_WORKERS: f64 = 0.30;
/// Share of care workers at 高级工 or above at the end of 2022 (indicator 18).
pub(crate) const SENIOR_CARE_WORKERS: f64 = 0.15;
/// Staff who were employed at the end of 2020 and left in 2021–2022 (assumption).
pub(crate) const TURNOVER: f64 = 0.12;
/// Childcare professionals (托育服务专业人才: childcare staff at 高级工 or above)
/// at the end of 2020 and of 2022 (indicator 41), at scale 1.
pub(crate) const CHILDCARE_PROFESSIONALS: (f64, f64) = (108.0, 250.0);
/// Share of childcare staff holding a certificate at the end of 2022
/// (indicator 42: "85以上"; everyone employed at the end of 2020 is certified).
pub(crate) const CHILDCARE_CERTIFIED_2022: f64 = 0.86;
/// Eldercare students' intakes by year 2017–2022 and the graduates of the
/// 2017–2019 intakes, at every scale: indicator 19 gives 120 (2020) and 180 (2022).
pub(crate) const INTAKES: [(i32, f64); 6] = [
    (2017, 30.0),
    (2018, 30.0),
    (2019, 30.0),
    (2020, 32.0),
    (2021, 55.0),
    (2022, 65.0),
];
pub(crate) const GRADUATES: [(i32, f64); 3] = [(2017, 28.0), (2018, 28.0), (2019, 28.0)];
/// Monthly visit rate of special-difficulty elderly living at home (indicator 8, 2022).
pub(crate) const VISIT_RATE: f64 = 0.80;
/// Newborns visited at home (indicator 30: "90以上"; 2020 baseline 99.11%).
pub(crate) const NEWBORN_VISIT_RATE: f64 = 0.985;
/// Disabled or demented elderly at home who get professional care during the year.
pub(crate) const PROFESSIONAL_CARE_RATE: f64 = 0.55;
/// Disabled elderly at home given a home-care bed during the year.
pub(crate) const HOME_CARE_BED_RATE: f64 = 0.10;
/// Elderly aged 70+ at home taking meals (助餐), more for those living alone.
pub(crate) const MEAL_RATE: f64 = 0.02;

/// The activity registers.
#[derive(Debug, Clone, Default)]
pub(crate) struct ActivityOut {
    pub staff: Vec<Staff>,
    pub services: Vec<ServiceRecord>,
    pub enrolments: Vec<Enrolment>,
    pub residences: Vec<Residence>,
    pub student_cohorts: Vec<StudentCohort>,
}

/// What the generator reads from the other registers.
pub(crate) struct Inputs<'a> {
    pub facilities: &'a [Facility],
    pub classes: &'a [ChildcareClass],
    pub elderly: &'a [Person],
    pub infants: &'a [Person],
    /// (index in `elderly`, care home id) for everyone living in a home.
    pub residents: &'a [(usize, String)],
    pub limits: &'a ClassLimits,
    pub scale: f64,
    pub as_of: NaiveDate,
}

/// Generates the activity registers.
pub(crate) fn generate(inp: &Inputs<'_>, seed: u64) -> ActivityOut {
    let places = Places::new(inp.facilities);
    let mut out = ActivityOut {
        residences: residences(inp, seed),
        ..Default::default()
    };
    out.staff = staff(inp, seed);
    out.enrolments = enrolments(inp, seed);
    out.services = services(inp, &places, seed);
    out.student_cohorts = cohorts(inp, seed);
    out
}

/// Providers by place: town centres and canteens by town code, stations by
/// village code, guidance centres by town, care homes by county.
struct Places<'a> {
    station: BTreeMap<&'a str, &'a str>,
    centre: BTreeMap<&'a str, &'a str>,
    canteen: BTreeMap<&'a str, &'a str>,
    guidance: BTreeMap<&'a str, &'a str>,
    homes: BTreeMap<&'a str, Vec<&'a str>>,
}

impl<'a> Places<'a> {
    fn new(fs: &'a [Facility]) -> Self {
        let mut p = Places {
            station: BTreeMap::new(),
            centre: BTreeMap::new(),
            canteen: BTreeMap::new(),
            guidance: BTreeMap::new(),
            homes: BTreeMap::new(),
        };
        for f in fs {
            let town = &f.area_code[..9.min(f.area_code.len())];
            match f.kind {
                FacilityKind::VillageCareStation => {
                    p.station.entry(f.area_code.as_str()).or_insert(&f.id);
                }
                FacilityKind::TownHomeCareCenter => {
                    p.centre.entry(town).or_insert(&f.id);
                }
                FacilityKind::ElderlyCanteen => {
                    p.canteen.entry(town).or_insert(&f.id);
                }
                FacilityKind::GuidanceCenter if f.area_code.len() >= 9 => {
                    p.guidance.entry(town).or_insert(&f.id);
                }
                FacilityKind::ElderlyInstitution => {
                    p.homes.entry(&f.area_code[..6]).or_default().push(&f.id);
                }
                _ => {}
            }
        }
        p
    }

    /// The station of the person's village, else the centre of their town.
    fn near(&self, area: &str) -> Option<String> {
        self.station
            .get(area)
            .or_else(|| self.centre.get(&area[..9.min(area.len())]))
            .map(|s| s.to_string())
    }

    fn centre(&self, area: &str) -> Option<String> {
        self.centre
            .get(&area[..9.min(area.len())])
            .map(|s| s.to_string())
    }
}

/// The first day of the `k`-th of the 12 months ending with `as_of`'s month.
fn month_start(as_of: NaiveDate, k: u32) -> NaiveDate {
    let first = ymd(as_of.year(), as_of.month(), 1);
    first
        .checked_sub_months(Months::new(11 - k))
        .unwrap_or(first)
}

/// A random day of the month starting `start`, not after `as_of`.
fn day_in_month(rng: &mut ChaCha8Rng, start: NaiveDate, as_of: NaiveDate) -> NaiveDate {
    let end = start
        .checked_add_months(Months::new(1))
        .and_then(|d| d.pred_opt())
        .unwrap_or(start)
        .min(as_of);
    date_between(rng, start, end)
}

fn residences(inp: &Inputs<'_>, seed: u64) -> Vec<Residence> {
    let mut rng = stream(seed, Concern::Residences, 0);
    let opened: BTreeMap<&str, NaiveDate> = inp
        .facilities
        .iter()
        .filter_map(|f| f.opening_date.map(|d| (f.id.as_str(), d)))
        .collect();
    let mut out = Vec::with_capacity(inp.residents.len());
    for (i, home) in inp.residents {
        let p = &inp.elderly[*i];
        // Stays are short for the frail and long for the others (assumption:
        // up to 8 years, never before the home opened or the person turned 60).
        let years = if p.ability_level.is_some_and(|a| a.is_disabled()) {
            3
        } else {
            8
        };
        let earliest = add_years(inp.as_of, -years)
            .max(opened.get(home.as_str()).copied().unwrap_or(inp.as_of))
            .max(add_years(p.birth_date, 60))
            .min(inp.as_of);
        out.push(Residence {
            id: format!("R{}", p.id),
            person_id: p.id.clone(),
            facility_id: home.clone(),
            admitted_date: date_between(&mut rng, earliest, inp.as_of),
            discharged_date: None,
        });
    }
    out
}

/// Hire dates of staff who were employed on `end2020` and still are (`A`),
/// who left in between (`B`), or were hired after it (`C`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Tenure {
    Stayed,
    Left,
    New,
}

fn tenure_dates(
    rng: &mut ChaCha8Rng,
    t: Tenure,
    opened: NaiveDate,
    end2020: NaiveDate,
    as_of: NaiveDate,
) -> (NaiveDate, Option<NaiveDate>) {
    let early = opened.max(ymd(2008, 1, 1)).min(end2020);
    match t {
        Tenure::Stayed => (date_between(rng, early, end2020), None),
        Tenure::Left => {
            let hired = date_between(rng, early, end2020);
            let left = date_between(rng, end2020 + Days::new(1), as_of - Days::new(1));
            (hired, Some(left))
        }
        Tenure::New => (
            date_between(rng, (end2020 + Days::new(1)).max(opened), as_of),
            None,
        ),
    }
}

/// Splits the staff of a role into (stayed, left, new) from the counts at the
/// end of 2020 and of 2022.
fn tenures(n2020: i64, n2022: i64) -> Vec<Tenure> {
    let left = (n2020 as f64 * TURNOVER).round() as i64;
    let stayed = (n2020 - left).min(n2022);
    let new = n2022 - stayed;
    let mut v = Vec::new();
    v.extend(std::iter::repeat_n(Tenure::Stayed, stayed.max(0) as usize));
    v.extend(std::iter::repeat_n(
        Tenure::Left,
        (n2020 - stayed).max(0) as usize,
    ));
    v.extend(std::iter::repeat_n(Tenure::New, new.max(0) as usize));
    v
}

struct StaffMaker<'a> {
    names: Names,
    opened: BTreeMap<&'a str, NaiveDate>,
    out: Vec<Staff>,
}

impl StaffMaker<'_> {
    fn name(&self, rng: &mut ChaCha8Rng, female_share: f64) -> String {
        let male = rng.random::<f64>() >= female_share;
        let era = if rng.random::<f64>() < 0.5 {
            Era::Parent
        } else {
            Era::Elderly
        };
        self.names.full(rng, era, male).0
    }

    fn opened(&self, facility: &str, as_of: NaiveDate) -> NaiveDate {
        self.opened.get(facility).copied().unwrap_or(as_of)
    }

    fn push(&mut self, s: Staff) {
        let mut s = s;
        s.id = format!("ST{:06}", self.out.len() + 1);
        self.out.push(s);
    }
}

/// Elderly-care employers weighted by size: care homes by beds, centres and stations flat.
fn pick_employer<'a>(rng: &mut ChaCha8Rng, pools: &[(Vec<&'a Facility>, f64)]) -> &'a Facility {
    let r = rng.random::<f64>();
    let mut acc = 0.0;
    for (pool, share) in pools {
        acc += share;
        if r < acc && !pool.is_empty() {
            return pool[rng.random_range(0..pool.len())];
        }
    }
    let pool = pools
        .iter()
        .map(|p| &p.0)
        .find(|p| !p.is_empty())
        .cloned()
        .unwrap_or_default();
    pool[rng.random_range(0..pool.len())]
}

fn staff(inp: &Inputs<'_>, seed: u64) -> Vec<Staff> {
    let mut rng = stream(seed, Concern::Staff, 0);
    let as_of = inp.as_of;
    let end2020 = ymd(as_of.year() - 2, 12, 31);
    let mut m = StaffMaker {
        names: Names::new(),
        opened: inp
            .facilities
            .iter()
            .filter_map(|f| f.opening_date.map(|d| (f.id.as_str(), d)))
            .collect(),
        out: Vec::new(),
    };
    let of_kind = |k: FacilityKind| -> Vec<&Facility> {
        inp.facilities
            .iter()
            .filter(|f| f.kind == k && f.opening_date.is_none_or(|d| d <= as_of))
            .collect()
    };
    // Care homes repeated by beds / 20, so picks follow their size.
    let mut homes: Vec<&Facility> = Vec::new();
    for f in of_kind(FacilityKind::ElderlyInstitution) {
        for _ in 0..(f.beds.unwrap_or(20) / 20).max(1) {
            homes.push(f);
        }
    }
    let centres = of_kind(FacilityKind::TownHomeCareCenter);
    let stations = of_kind(FacilityKind::VillageCareStation);
    let n60 = inp.elderly.len() as f64 / 10_000.0;
    let per = |x: f64| (x * n60).round() as i64;

    // Care workers: certified by tenure, then the uncertified; grades so that
    // 15% of those employed at the end are 高级工 or above.
    let certified = tenures(
        per(CERTIFIED_CARE_WORKERS_PER_10K.0),
        per(CERTIFIED_CARE_WORKERS_PER_10K.1),
    );
    let active_certified = certified.iter().filter(|t| **t != Tenure::Left).count();
    let uncertified = (active_certified as f64 * UNCERTIFIED_CARE_WORKERS).round() as usize;
    let seniors = ((active_certified + uncertified) as f64 * SENIOR_CARE_WORKERS).round() as usize;
    let mut senior_flags: Vec<bool> = (0..active_certified).map(|i| i < seniors).collect();
    shuffle(&mut rng, &mut senior_flags);
    let pools = [
        (homes.clone(), 0.75),
        (centres.clone(), 0.15),
        (stations.clone(), 0.10),
    ];
    let mut k = 0;
    for t in &certified {
        let mut f = pick_employer(&mut rng, &pools);
        // Staff employed at the end of 2020 work where a home was open then.
        for _ in 0..20 {
            if *t == Tenure::New || m.opened(&f.id, as_of) <= end2020 {
                break;
            }
            f = pick_employer(&mut rng, &pools);
        }
        let (hired, left) = tenure_dates(&mut rng, *t, m.opened(&f.id, as_of), end2020, as_of);
        let grade = if *t != Tenure::Left && senior_flags.get(k).copied().unwrap_or(false) {
            [
                SkillGrade::Senior,
                SkillGrade::Technician,
                SkillGrade::SeniorTechnician,
            ][super::util::pick_weighted(&mut rng, &[0.80, 0.17, 0.03])]
        } else if rng.random::<f64>() < 0.45 {
            SkillGrade::Junior
        } else {
            SkillGrade::Intermediate
        };
        if *t != Tenure::Left {
            k += 1;
        }
        let name = m.name(&mut rng, 0.85);
        m.push(Staff {
            id: String::new(),
            facility_id: f.id.clone(),
            role: StaffRole::CareWorker,
            name,
            certified: true,
            certificate: Some("养老护理员职业技能等级证书".into()),
            skill_grade: grade,
            hired_date: hired,
            left_date: left,
            health_check_date: None,
        });
    }
    for _ in 0..uncertified {
        let f = pick_employer(&mut rng, &pools);
        let opened = m.opened(&f.id, as_of);
        let hired = date_between(&mut rng, opened.max(add_years(as_of, -6)).min(as_of), as_of);
        let name = m.name(&mut rng, 0.85);
        m.push(Staff {
            id: String::new(),
            facility_id: f.id.clone(),
            role: StaffRole::CareWorker,
            name,
            certified: false,
            certificate: None,
            skill_grade: SkillGrade::Ungraded,
            hired_date: hired,
            left_date: None,
            health_check_date: None,
        });
    }

    // Social workers (no skill grades; 70% hold the national qualification).
    let pools = [
        (centres.clone(), 0.40),
        (homes.clone(), 0.30),
        (stations.clone(), 0.30),
    ];
    for t in tenures(per(SOCIAL_WORKERS_PER_10K.0), per(SOCIAL_WORKERS_PER_10K.1)) {
        let mut f = pick_employer(&mut rng, &pools);
        for _ in 0..20 {
            if t == Tenure::New || m.opened(&f.id, as_of) <= end2020 {
                break;
            }
            f = pick_employer(&mut rng, &pools);
        }
        let (hired, left) = tenure_dates(&mut rng, t, m.opened(&f.id, as_of), end2020, as_of);
        let certified = rng.random::<f64>() < 0.7;
        let certificate = certified.then(|| {
            if rng.random::<f64>() < 0.75 {
                "助理社会工作师".to_string()
            } else {
                "社会工作师".to_string()
            }
        });
        let name = m.name(&mut rng, 0.7);
        m.push(Staff {
            id: String::new(),
            facility_id: f.id.clone(),
            role: StaffRole::SocialWorker,
            name,
            certified,
            certificate,
            skill_grade: SkillGrade::Ungraded,
            hired_date: hired,
            left_date: left,
            health_check_date: None,
        });
    }

    // A manager in every care home and town centre.
    let mut managed: Vec<&Facility> = of_kind(FacilityKind::ElderlyInstitution);
    managed.extend(centres.iter().copied());
    for f in managed {
        let opened = m.opened(&f.id, as_of);
        let hired = date_between(
            &mut rng,
            opened.max(add_years(as_of, -10)).min(as_of),
            as_of,
        );
        let name = m.name(&mut rng, 0.5);
        m.push(Staff {
            id: String::new(),
            facility_id: f.id.clone(),
            role: StaffRole::Other,
            name,
            certified: false,
            certificate: None,
            skill_grade: SkillGrade::Ungraded,
            hired_date: hired,
            left_date: None,
            health_check_date: None,
        });
    }

    // The childcare staff's health checks draw from a stream of their own,
    // so the other draws (and the calibrated counts) stay as they were.
    let mut checks = stream(seed, Concern::Staff, 1);
    childcare_staff(inp, &mut m, &mut rng, &mut checks, end2020);
    m.out
}

/// One staff member per class caregiver (保育员 or 育婴员) and a 保健员 per
/// childcare facility; certificates and grades per indicators 41 and 42.
fn childcare_staff(
    inp: &Inputs<'_>,
    m: &mut StaffMaker<'_>,
    rng: &mut ChaCha8Rng,
    checks: &mut ChaCha8Rng,
    end2020: NaiveDate,
) {
    let as_of = inp.as_of;
    let mut drafts: Vec<(String, StaffRole, NaiveDate)> = Vec::new();
    let mut with_classes: Vec<&str> = Vec::new();
    for c in inp.classes {
        if with_classes.last() != Some(&c.facility_id.as_str()) {
            with_classes.push(&c.facility_id);
        }
        for _ in 0..c.caregivers {
            let role = if rng.random::<f64>() < 0.6 {
                StaffRole::NurseryStaff
            } else {
                StaffRole::InfantCarer
            };
            drafts.push((c.facility_id.clone(), role, as_of));
        }
    }
    with_classes.sort_unstable();
    with_classes.dedup();
    for f in with_classes {
        drafts.push((f.to_string(), StaffRole::HealthStaff, as_of));
    }
    for d in &mut drafts {
        let opened = m.opened(&d.0, as_of);
        d.2 = date_between(rng, opened.max(add_years(as_of, -6)).min(as_of), as_of);
    }
    let total = drafts.len();
    // Uncertified: only among those hired after 2020 (everyone employed at the
    // end of 2020 held a certificate).
    let mut new: Vec<usize> = (0..total).filter(|&i| drafts[i].2 > end2020).collect();
    shuffle(rng, &mut new);
    let uncertified =
        ((total as f64 * (1.0 - CHILDCARE_CERTIFIED_2022)).round() as usize).min(new.len());
    let mut certified = vec![true; total];
    for &i in &new[..uncertified] {
        certified[i] = false;
    }
    // Professionals (高级工 or above): the 2020 number among carers employed
    // then, the rest among certified carers hired later.
    let carer = |i: usize| drafts[i].1 != StaffRole::HealthStaff && certified[i];
    let mut old: Vec<usize> = (0..total)
        .filter(|&i| carer(i) && drafts[i].2 <= end2020)
        .collect();
    let mut later: Vec<usize> = (0..total)
        .filter(|&i| carer(i) && drafts[i].2 > end2020)
        .collect();
    shuffle(rng, &mut old);
    shuffle(rng, &mut later);
    let (p2020, p2022) = CHILDCARE_PROFESSIONALS;
    let n2020 = ((p2020 * inp.scale).round() as usize).min(old.len());
    let n2022 = (p2022 * inp.scale).round() as usize;
    let mut senior = vec![false; total];
    for &i in &old[..n2020] {
        senior[i] = true;
    }
    let rest: Vec<usize> = later
        .into_iter()
        .chain(old[n2020..].iter().copied())
        .collect();
    for &i in rest.iter().take(n2022.saturating_sub(n2020)) {
        senior[i] = true;
    }
    for (i, (facility, role, hired)) in drafts.into_iter().enumerate() {
        let grade = if !certified[i] || role == StaffRole::HealthStaff {
            SkillGrade::Ungraded
        } else if senior[i] {
            if rng.random::<f64>() < 0.9 {
                SkillGrade::Senior
            } else {
                SkillGrade::Technician
            }
        } else if rng.random::<f64>() < 0.55 {
            SkillGrade::Junior
        } else {
            SkillGrade::Intermediate
        };
        let certificate = certified[i].then(|| {
            match role {
                StaffRole::NurseryStaff => "保育师职业技能等级证书",
                StaffRole::InfantCarer => "育婴员职业技能等级证书",
                _ => "托幼机构保健员培训合格证",
            }
            .to_string()
        });
        let name = m.name(rng, 0.95);
        // 管理规范 art. 28: checked before starting, then yearly. Most checks
        // fall in the last year (after the hire), one in sixteen has lapsed
        // (13 to 18 months ago), one in forty has none on record.
        let r = checks.random::<f64>();
        let health_check_date = if r < 0.025 {
            None
        } else if r < 0.0875 && hired < as_of - Days::new(400) {
            Some(as_of - Days::new(checks.random_range(396..548)))
        } else {
            let back = (as_of - hired).num_days().clamp(1, 364);
            Some(as_of - Days::new(checks.random_range(0..back as u64)))
        };
        m.push(Staff {
            id: String::new(),
            facility_id: facility,
            role,
            name,
            certified: certified[i],
            certificate,
            skill_grade: grade,
            hired_date: hired,
            left_date: None,
            health_check_date,
        });
    }
}

/// Each class's enrolled children, of the class's ages, from the facility's
/// county; 15% more children enrolled earlier in the year and have left.
fn enrolments(inp: &Inputs<'_>, seed: u64) -> Vec<Enrolment> {
    let mut rng = stream(seed, Concern::Enrolments, 0);
    let as_of = inp.as_of;
    let county_of: BTreeMap<&str, &str> = inp
        .facilities
        .iter()
        .map(|f| (f.id.as_str(), &f.area_code[..6]))
        .collect();
    // Infants by county, shuffled once.
    let mut by_county: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, p) in inp.infants.iter().enumerate() {
        by_county
            .entry(&p.residence_area_code[..6])
            .or_default()
            .push(i);
    }
    for v in by_county.values_mut() {
        shuffle(&mut rng, v);
    }
    let mut cursor: BTreeMap<&str, usize> = BTreeMap::new();
    let mut taken = vec![false; inp.infants.len()];
    let mut out = Vec::new();
    for c in inp.classes {
        let Some(limit) = inp.limits.get(c.class_type) else {
            continue;
        };
        let (lo, hi) = (limit.min_age_months as i32, limit.max_age_months as i32);
        let Some(county) = county_of.get(c.facility_id.as_str()) else {
            continue;
        };
        let Some(pool) = by_county.get(county) else {
            continue;
        };
        let current = c.enrolled.max(0) as usize;
        let left = (current as f64 * 0.15).round() as usize;
        let mut got = 0;
        let start_at = *cursor.get(county).unwrap_or(&0);
        let mut scanned = 0;
        let mut pos = start_at;
        while got < current + left && scanned < pool.len() {
            let i = pool[pos % pool.len()];
            pos += 1;
            scanned += 1;
            if taken[i] {
                continue;
            }
            let p = &inp.infants[i];
            // Of the class's ages on the register date, already so 40 days
            // before it and still a week after, so that a start date (the
            // register checks the age on it) exists for children who have
            // left too, and stays inside the ages when `demo` moves every date
            // by the same number of days (whole months have unequal days).
            let age = age_months_on(p.birth_date, as_of + Days::new(7));
            let age_before = age_months_on(p.birth_date, as_of - Days::new(40));
            if age_before < lo || age >= hi.max(lo + 1) {
                continue;
            }
            taken[i] = true;
            // The first day of the class's youngest age (adding months to the
            // 29th–31st clamps to a month's end, a few days short).
            let mut old_enough = p
                .birth_date
                .checked_add_months(Months::new(lo.max(0) as u32))
                .unwrap_or(p.birth_date);
            while age_months_on(p.birth_date, old_enough) < lo {
                old_enough = old_enough + Days::new(1);
            }
            // A week's margin for the same reason.
            let old_enough = old_enough + Days::new(7);
            let earliest = old_enough.max(as_of - Days::new(400)).min(as_of);
            let active = got < current;
            // Children who left did so before the register date.
            let latest = if active { as_of } else { as_of - Days::new(2) };
            let start = date_between(&mut rng, earliest.min(latest), latest);
            let end = if active {
                None
            } else {
                Some(date_between(&mut rng, start, as_of - Days::new(1)))
            };
            out.push(Enrolment {
                id: format!("EN{}{:03}", c.id, got + 1),
                infant_id: p.id.clone(),
                facility_id: c.facility_id.clone(),
                class_id: Some(c.id.clone()),
                start_date: start,
                end_date: end,
                // Most places in the city are full-day ones; the generator has no share to calibrate others by.
                care_type: Some(laoxiao_model::facility::CareType::FullDay),
            });
            got += 1;
        }
        cursor.insert(county, pos % pool.len().max(1));
    }
    out
}

fn services(inp: &Inputs<'_>, places: &Places<'_>, seed: u64) -> Vec<ServiceRecord> {
    let as_of = inp.as_of;
    let year_start = add_years(as_of, -1) + Days::new(1);
    let mut out = Vec::new();
    let in_home: Vec<Option<&str>> = {
        let mut v = vec![None; inp.elderly.len()];
        for (i, f) in inp.residents {
            v[*i] = Some(f.as_str());
        }
        v
    };
    // One stream per county so that a county's records do not depend on another's.
    let mut county = String::new();
    let mut rng = stream(seed, Concern::Services, 0);
    let mut county_index = 0u64;
    for (i, p) in inp.elderly.iter().enumerate() {
        if p.residence_area_code[..6] != county {
            county = p.residence_area_code[..6].to_string();
            county_index += 1;
            rng = stream(seed, Concern::Services, county_index);
        }
        let area = p.residence_area_code.as_str();
        let ability = p.ability_level.map(|a| a.number()).unwrap_or(0);
        let disabled = ability >= 2;
        let home = in_home[i];
        let at_home =
            home.is_none() && p.living_arrangement != Some(LivingArrangement::InInstitution);
        let age = age_on(p.birth_date, as_of);
        let rec = |id: String, kind: ServiceKind, date: NaiveDate, facility: Option<String>| {
            ServiceRecord {
                id,
                person_id: p.id.clone(),
                kind,
                date,
                facility_id: facility,
                ability_level: None,
                note: None,
            }
        };
        // Monthly visits to special-difficulty elderly living at home.
        if at_home && !p.special_difficulty.is_empty() {
            let by = places.near(area);
            for k in 0..12 {
                if rng.random::<f64>() < VISIT_RATE {
                    let d = day_in_month(&mut rng, month_start(as_of, k), as_of);
                    let mut r = rec(
                        format!("V{}-{:02}", p.id, k + 1),
                        ServiceKind::Visit,
                        d,
                        by.clone(),
                    );
                    if rng.random::<f64>() < 0.2 {
                        r.note = Some("电话探访".into());
                    }
                    out.push(r);
                }
            }
        }
        // Ability assessments: everyone in a home (annual), the disabled at
        // home, a third of the mildly impaired, a few others aged 80+.
        let assessed = home.is_some()
            || (at_home
                && (disabled
                    || (ability == 1 && rng.random::<f64>() < 0.35)
                    || (age >= 80 && rng.random::<f64>() < 0.02)));
        if assessed {
            let d = date_between(&mut rng, year_start, as_of);
            let mut r = rec(
                format!("A{}", p.id),
                ServiceKind::AbilityAssessment,
                d,
                home.map(str::to_string),
            );
            r.ability_level = p.ability_level;
            out.push(r);
        }
        if !at_home {
            continue;
        }
        // Professional care (quarterly records) and home-care beds for the
        // disabled or demented at home; respite for some of their families.
        if disabled || p.dementia {
            let bed = disabled && rng.random::<f64>() < HOME_CARE_BED_RATE;
            let centre = places.centre(area);
            if bed {
                let d = date_between(&mut rng, year_start, as_of);
                out.push(rec(
                    format!("B{}", p.id),
                    ServiceKind::HomeCareBed,
                    d,
                    centre.clone(),
                ));
            }
            if bed || rng.random::<f64>() < PROFESSIONAL_CARE_RATE {
                let first = rng.random_range(0..4u32);
                for q in first..4 {
                    let d = date_between(
                        &mut rng,
                        month_start(as_of, 3 * q),
                        month_start(as_of, 3 * q + 2),
                    );
                    out.push(rec(
                        format!("P{}-Q{}", p.id, q + 1),
                        ServiceKind::ProfessionalCare,
                        d,
                        centre.clone(),
                    ));
                }
            }
            if rng.random::<f64>() < 0.05 {
                let homes = places.homes.get(&area[..6]);
                let by = homes.map(|h| h[rng.random_range(0..h.len())].to_string());
                let d = date_between(&mut rng, year_start, as_of);
                out.push(rec(
                    format!("H{}", p.id),
                    ServiceKind::RespiteService,
                    d,
                    by,
                ));
            }
        }
        // Meals for some aged 70+, more for those living alone.
        if age >= 70 {
            let rate = match p.living_arrangement {
                Some(LivingArrangement::LivingAlone) => 2.5 * MEAL_RATE,
                Some(LivingArrangement::EmptyNest) => 1.5 * MEAL_RATE,
                _ => MEAL_RATE,
            };
            if rng.random::<f64>() < rate {
                let by = places
                    .canteen
                    .get(&area[..9.min(area.len())])
                    .map(|s| s.to_string());
                let first = rng.random_range(0..12u32);
                for k in first..12 {
                    let d = day_in_month(&mut rng, month_start(as_of, k), as_of);
                    let mut r = rec(
                        format!("M{}-{:02}", p.id, k + 1),
                        ServiceKind::MealAssistance,
                        d,
                        by.clone(),
                    );
                    r.note = Some(format!("{}餐", rng.random_range(8..=26)));
                    out.push(r);
                }
            }
        }
    }
    // Newborn home visits for the year's births.
    let mut rng = stream(seed, Concern::Services, 1 << 20);
    for p in inp.infants {
        if p.birth_date < year_start || rng.random::<f64>() >= NEWBORN_VISIT_RATE {
            continue;
        }
        let d = p.birth_date + Days::new(rng.random_range(3..=14));
        if d > as_of {
            continue;
        }
        let area = p.residence_area_code.as_str();
        let by = places
            .guidance
            .get(&area[..9.min(area.len())])
            .map(|s| s.to_string());
        out.push(ServiceRecord {
            id: format!("NV{}", p.id),
            person_id: p.id.clone(),
            kind: ServiceKind::NewbornVisit,
            date: d,
            facility_id: by,
            ability_level: None,
            note: None,
        });
    }
    out
}

/// Eldercare student cohorts: each year's intake split over the schools'
/// programmes (synthetic names). Not scaled: the schools serve the whole
/// city whatever the share of its people generated, and the figure is a count.
fn cohorts(inp: &Inputs<'_>, seed: u64) -> Vec<StudentCohort> {
    const SCHOOLS: [(&str, &str); 4] = [
        ("嘉兴康颐职业技术学院", "智慧健康养老服务与管理"),
        ("嘉兴康颐职业技术学院", "老年保健与管理"),
        ("禾城护理职业学校", "护理（老年护理方向）"),
        ("嘉兴市第二职业技术学校", "老年人服务与管理"),
    ];
    let mut rng = stream(seed, Concern::Students, 0);
    let shift = inp.as_of.year() - 2022;
    let mut out = Vec::new();
    for (year, n) in INTAKES {
        let total = n.round() as i64;
        // Newer programmes start later: the fourth from 2020.
        let open = if year < 2020 { 3 } else { 4 };
        let w: Vec<f64> = (0..open).map(|_| rng.random_range(0.7..1.3)).collect();
        let intake = apportion(total, &w);
        let graduates = GRADUATES
            .iter()
            .find(|g| g.0 == year)
            .map(|g| g.1.round() as i64)
            .unwrap_or(0);
        let grad_w: Vec<f64> = intake.iter().map(|x| *x as f64).collect();
        let grads = apportion(graduates.min(total), &grad_w);
        for (k, (school, program)) in SCHOOLS.iter().take(open).enumerate() {
            if intake[k] == 0 {
                continue;
            }
            out.push(StudentCohort {
                id: format!("K{}-{}", year + shift, k + 1),
                institution: school.to_string(),
                program: program.to_string(),
                intake_year: i64::from(year + shift),
                enrolled: intake[k],
                graduated: grads[k].min(intake[k]),
            });
        }
    }
    out
}
