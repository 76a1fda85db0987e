//! Calibration figures (each with its source) and the county-level targets
//! derived from them. `docs/synthetic-city.md` lists the same figures; the tests
//! check the ones that also sit in `data/jiaxing/` against those files.

use chrono::NaiveDate;

use super::util::{apportion, scaled, ymd};

/// The date the registers describe: people's ages, ratings' validity and the
/// "as of end 2022" facility figures refer to it.
pub(crate) fn as_of() -> NaiveDate {
    ymd(2022, 12, 31)
}

/// County-level units in code order.
pub(crate) const COUNTIES: [&str; 7] = [
    "330402", "330411", "330421", "330424", "330481", "330482", "330483",
];

// ---- Population: 7th census, 2020-11-01 (data/jiaxing/population_2020_census*.csv) ----

/// City residents (常住人口), population_2020_census.csv.
pub(crate) const CITY_RESIDENTS: i64 = 5_400_868;
/// City residents aged 60+ and 65+, population_2020_census.csv.
pub(crate) const CITY_60_PLUS: i64 = 1_042_562;
pub(crate) const CITY_65_PLUS: i64 = 758_584;
/// Counties whose census totals are known in persons: (index, total, 60+, 65+); 0 = unknown.
pub(crate) const KNOWN_COUNTIES: [(usize, i64, i64, i64); 3] = [
    (4, 1_076_199, 203_763, 146_547), // 海宁市
    (5, 671_326, 147_717, 108_726),   // 平湖市
    (6, 1_029_754, 0, 0),             // 桐乡市: total only
];
/// Management-scope census totals in 10k persons (population_2020_census_by_unit_10k.csv)
/// for the four counties without a total in persons: 南湖, 秀洲, 嘉善, 海盐.
pub(crate) const MGMT_10K: [(usize, f64); 4] = [(0, 62.47), (1, 55.70), (2, 64.82), (3, 45.68)];
/// 嘉兴经济技术开发区, managed apart from 南湖 and 秀洲 (same table).
pub(crate) const JINGKAI_10K: f64 = 33.70;
/// 2021 year-end residents of 南湖 and 秀洲 in 10k, administrative scope presumed
/// (population_other.csv); their excess over the management-scope census figures
/// is what each gives to 经开, so 经开 is split between them in that proportion.
pub(crate) const ADMIN_2021_10K: [(usize, f64); 2] = [(0, 86.27), (1, 69.57)];

/// Share of 80+ among 60+ (the brief: "about 17%"; no Jiaxing figure in the data).
pub(crate) const SHARE_80_OF_60: f64 = 0.17;
/// 65–79 split by five-year band (assumption: cohorts shrink with age).
pub(crate) const BANDS_65_79: [f64; 3] = [0.455, 0.320, 0.225];
/// 80+ split into 80–84, 85–89, 90–94, 95–99, 100+ (assumption; 0.2% centenarians
/// gives a few hundred at scale 1).
pub(crate) const BANDS_80_PLUS: [f64; 5] = [0.442, 0.320, 0.170, 0.066, 0.002];

// ---- Births (population_other.csv and the brief) ----

/// Births by calendar year 2020, 2021, 2022. 2020: the 7.09‰ birth rate
/// (population_other.csv, derived) × 541.10万 year-end residents = 38,364;
/// 2021: 3.86万 (population_other.csv); 2022: 3.66万 (the brief; Jiaxing's 2022
/// statistical bulletin, not in the data files).
pub(crate) const BIRTHS: [(i32, f64); 3] = [
    (2020, 7.09e-3 * 5_411_000.0),
    (2021, 38_600.0),
    (2022, 36_600.0),
];
/// Survival to the register date: infant mortality 2‰ (indicator 31, 2020)
/// plus about 0.5‰ at ages 1–2 (assumption).
pub(crate) const UNDER3_SURVIVAL: f64 = 0.9975;
/// Birth order 1, 2, 3+ by birth year (assumption around the brief's 55/38/7;
/// 平湖 2021 reported 58/40/2, population_other.csv; the three-child policy of
/// 2021 raises the third share).
pub(crate) const BIRTH_ORDER: [[f64; 3]; 3] =
    [[0.57, 0.39, 0.04], [0.55, 0.38, 0.07], [0.53, 0.37, 0.10]];
/// Boys per girl at birth (assumption, near the 2020 census figure for Zhejiang).
pub(crate) const SEX_RATIO_AT_BIRTH: f64 = 1.06;

// ---- Facilities: the plan's 表1 (data/jiaxing/plan/facility_figures_2020.csv) ----

pub(crate) const CARE_HOMES: i64 = 118;
pub(crate) const CARE_HOME_BEDS: i64 = 38_788;
pub(crate) const NURSING_BEDS: i64 = 20_907;
pub(crate) const TOWN_CARE_HOMES: i64 = 62;
pub(crate) const TOWN_CARE_HOME_BEDS: i64 = 15_570;
pub(crate) const TOWN_HOME_CARE_CENTRES: i64 = 79;
pub(crate) const VILLAGE_STATIONS: i64 = 1_044;
/// Childcare slots per 1,000 residents.
pub(crate) const SLOTS_PER_1000: f64 = 3.11;
/// Guidance centres: 1 city + 7 county + 72 town = 80 (one per unit, so the
/// generator needs no figure; the tests compare it with 表1).
#[cfg(test)]
pub(crate) const GUIDANCE_CENTRES: i64 = 80;

// ---- Indicator table (data/jiaxing/plan/indicators.csv) and the plan's text ----

/// Indicator 11, 2020: share of village stations rated 3A or above.
pub(crate) const STATIONS_3A_SHARE: f64 = 0.83;
/// Indicator 9, 2022 target: dementia beds per 10,000 people aged 60+.
pub(crate) const DEMENTIA_BEDS_PER_10K: f64 = 10.0;
/// Indicator 12, 2022 target: smart care homes per county.
pub(crate) const SMART_HOMES_PER_COUNTY: i64 = 1;
/// Indicator 20, 2020: wellness alliances (康养联合体).
pub(crate) const WELLNESS_ALLIANCES: i64 = 8;
/// Of which provincial (assumption).
pub(crate) const WELLNESS_PROVINCIAL: i64 = 2;
/// Indicator 22, 2020: towns with an assistive-device rental point.
pub(crate) const RENTAL_TOWN_SHARE: f64 = 0.80;
/// Indicator 26, 2020: towns with an elderly school.
pub(crate) const SCHOOL_TOWN_SHARE: f64 = 0.68;
/// Indicator 35, 2022 value and the text (一(一)4): 50 filed institutions, 3,151 slots.
pub(crate) const FILED_INSTITUTIONS: i64 = 50;
pub(crate) const FILED_SLOTS: i64 = 3_151;
/// Indicator 35, 2020: filed institutions then (their filing dates fall in 2020 or before).
pub(crate) const FILED_BY_2020: i64 = 8;
/// Text 一(一)3: 9 institutions in the national inclusive programme, 709 slots.
pub(crate) const NATIONAL_INCLUSIVE: i64 = 9;
pub(crate) const NATIONAL_INCLUSIVE_SLOTS: i64 = 709;
/// Indicator 36, 2022 target: demonstration institutions.
pub(crate) const DEMONSTRATION: i64 = 6;
/// Indicator 39, 2022 target "20以上": inclusive share of all slots (we aim a little above).
pub(crate) const INCLUSIVE_SLOT_SHARE: f64 = 0.22;
/// Text 一(一)2: 托育服务机构镇（街道）覆盖率 98.61% = 71 of 72 towns.
pub(crate) const CHILDCARE_TOWNS_WITHOUT: usize = 1;

// ---- Assumptions (no source figure; see the doc) ----

/// Childcare institutions not (yet) filed, and their slots.
pub(crate) const UNFILED_INSTITUTIONS: i64 = 110;
pub(crate) const UNFILED_SLOTS: i64 = 6_100;
/// Kindergartens with nursery classes (幼儿园托班); they take the remaining slots.
pub(crate) const NURSERY_KINDERGARTENS: i64 = 330;
/// Share of towns with a sunflower park at the end of 2022 (full coverage due 2023).
pub(crate) const SUNFLOWER_PARK_TOWN_SHARE: f64 = 0.85;
/// Share of villages with a sunflower hut at the end of 2022 (50% due 2025).
pub(crate) const SUNFLOWER_HUT_VILLAGE_SHARE: f64 = 0.30;
/// Village stations with an elderly canteen; every town also has a central canteen.
pub(crate) const CANTEEN_STATION_SHARE: f64 = 0.35;
/// Care-home occupancy, uniform between these (assumption).
pub(crate) const OCCUPANCY: (f64, f64) = (0.40, 0.75);

/// Per-county targets at a scale.
#[derive(Debug, Clone)]
pub(crate) struct CountyTarget {
    pub residents: i64,
    pub aged_60: i64,
    pub aged_65: i64,
    pub aged_80: i64,
    /// Surviving infants born in each of [`BIRTHS`]' years.
    pub births: [i64; 3],
}

/// City-wide targets at a scale.
#[derive(Debug, Clone)]
pub(crate) struct Targets {
    pub scale: f64,
    pub counties: Vec<CountyTarget>,
}

impl Targets {
    pub(crate) fn residents(&self) -> i64 {
        self.counties.iter().map(|c| c.residents).sum()
    }

    pub(crate) fn aged_60(&self) -> i64 {
        self.counties.iter().map(|c| c.aged_60).sum()
    }
}

/// County residents at scale 1, summing to [`CITY_RESIDENTS`].
///
/// 海宁, 平湖 and 桐乡 are the census figures. 经开 is split between 南湖 and 秀洲 in
/// proportion to how far their 2021 administrative-scope figures exceed their
/// management-scope census figures (23.80 : 13.87 万); the four remaining counties
/// are then scaled together so the city total is exact.
pub(crate) fn county_residents() -> [i64; 7] {
    let mut out = [0i64; 7];
    let mut known = 0;
    for (i, total, _, _) in KNOWN_COUNTIES {
        out[i] = total;
        known += total;
    }
    let mut w = [0.0f64; 7];
    for (i, v) in MGMT_10K {
        w[i] = v;
    }
    let gaps: Vec<f64> = ADMIN_2021_10K
        .iter()
        .map(|(i, v)| (v - w[*i]).max(0.0))
        .collect();
    let gap_sum: f64 = gaps.iter().sum();
    for ((i, _), g) in ADMIN_2021_10K.iter().zip(&gaps) {
        w[*i] += JINGKAI_10K * g / gap_sum;
    }
    let rest: Vec<usize> = MGMT_10K.iter().map(|(i, _)| *i).collect();
    let weights: Vec<f64> = rest.iter().map(|i| w[*i]).collect();
    let share = apportion(CITY_RESIDENTS - known, &weights);
    for (i, s) in rest.iter().zip(share) {
        out[*i] = s;
    }
    out
}

/// County 60+ (or 65+) at scale 1: known figures where the census gives them, the
/// rest of the city total in proportion to residents (one shared share).
fn county_aged(
    residents: &[i64; 7],
    city: i64,
    pick: fn(&(usize, i64, i64, i64)) -> i64,
) -> [i64; 7] {
    let mut out = [0i64; 7];
    let mut known = 0;
    let mut is_known = [false; 7];
    for k in KNOWN_COUNTIES.iter() {
        let v = pick(k);
        if v > 0 {
            out[k.0] = v;
            known += v;
            is_known[k.0] = true;
        }
    }
    let rest: Vec<usize> = (0..7).filter(|i| !is_known[*i]).collect();
    let weights: Vec<f64> = rest.iter().map(|i| residents[*i] as f64).collect();
    let share = apportion(city - known, &weights);
    for (i, s) in rest.iter().zip(share) {
        out[*i] = s;
    }
    out
}

/// The targets at `scale`: each city total is rounded once and apportioned over
/// the counties by their scale-1 figures, so scale 1 reproduces them exactly.
pub(crate) fn targets(scale: f64) -> Targets {
    let res1 = county_residents();
    let a60 = county_aged(&res1, CITY_60_PLUS, |k| k.2);
    let a65 = county_aged(&res1, CITY_65_PLUS, |k| k.3);
    let f = |v: &[i64; 7]| -> Vec<f64> { v.iter().map(|x| *x as f64).collect() };
    let residents = apportion(scaled(CITY_RESIDENTS as f64, scale), &f(&res1));
    let aged_60 = apportion(scaled(CITY_60_PLUS as f64, scale), &f(&a60));
    let aged_65 = apportion(scaled(CITY_65_PLUS as f64, scale), &f(&a65));
    let births: Vec<Vec<i64>> = BIRTHS
        .iter()
        .map(|(_, b)| apportion(scaled(b * UNDER3_SURVIVAL, scale), &f(&res1)))
        .collect();
    let counties = (0..7)
        .map(|i| {
            let aged_65 = aged_65[i].min(aged_60[i]);
            CountyTarget {
                residents: residents[i],
                aged_60: aged_60[i],
                aged_65,
                aged_80: ((aged_60[i] as f64 * SHARE_80_OF_60).round() as i64).min(aged_65),
                births: [births[0][i], births[1][i], births[2][i]],
            }
        })
        .collect();
    Targets { scale, counties }
}

/// Surviving under-threes in the city at `scale` (the sum the counties share).
pub(crate) fn infants_total(scale: f64) -> i64 {
    BIRTHS
        .iter()
        .map(|(_, b)| scaled(b * UNDER3_SURVIVAL, scale))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_one_reproduces_the_census() {
        let t = targets(1.0);
        assert_eq!(t.residents(), CITY_RESIDENTS);
        assert_eq!(t.aged_60(), CITY_60_PLUS);
        assert_eq!(
            t.counties.iter().map(|c| c.aged_65).sum::<i64>(),
            CITY_65_PLUS
        );
        assert_eq!(t.counties[4].residents, 1_076_199);
        assert_eq!(t.counties[5].aged_60, 147_717);
        assert_eq!(t.counties[4].aged_65, 146_547);
        assert_eq!(t.counties[6].residents, 1_029_754);
        let infants: i64 = t.counties.iter().flat_map(|c| c.births).sum();
        assert_eq!(infants, infants_total(1.0));
        // 南湖 and 秀洲 get 经开 (33.70万) in the 23.80 : 13.87 proportion.
        let r = county_residents();
        assert!((r[0] - 837_600).abs() < 300, "{}", r[0]);
        assert!((r[1] - 681_000).abs() < 300, "{}", r[1]);
    }

    /// The constants agree with the data files they come from.
    #[test]
    fn constants_match_the_data_files() {
        let census = include_str!("../../../../data/jiaxing/population_2020_census.csv");
        let row = |code: &str| -> Vec<String> {
            census
                .lines()
                .find(|l| l.starts_with(code))
                .map(|l| l.split(',').map(str::to_string).collect())
                .unwrap_or_default()
        };
        let city = row("330400");
        assert_eq!(city[2], CITY_RESIDENTS.to_string());
        assert_eq!(city[7], CITY_60_PLUS.to_string());
        assert_eq!(city[8], CITY_65_PLUS.to_string());
        for (i, total, a60, a65) in KNOWN_COUNTIES {
            let r = row(COUNTIES[i]);
            assert_eq!(r[2], total.to_string());
            if a60 > 0 {
                assert_eq!(r[7], a60.to_string());
                assert_eq!(r[8], a65.to_string());
            }
        }
        let units = include_str!("../../../../data/jiaxing/population_2020_census_by_unit_10k.csv");
        for (i, v) in MGMT_10K {
            let line = units
                .lines()
                .find(|l| l.contains(&format!(",{},", COUNTIES[i])))
                .unwrap_or_default();
            assert!(line.contains(&format!(",{v:.2},")), "{line}");
        }
        assert!(units.contains(&format!(",,{JINGKAI_10K:.2},")));
        let other = include_str!("../../../../data/jiaxing/population_other.csv");
        for (i, v) in ADMIN_2021_10K {
            assert!(other.contains(&format!("{},", COUNTIES[i])));
            assert!(
                other.contains(&format!("2021,year_end_population,{v:.2},")),
                "{v}"
            );
        }
        assert!(other.contains("2020,birth_rate,7.09,"));
        assert!(other.contains("2020,year_end_population,541.10,"));
        assert!(other.contains("2021,births,3.86,"));
    }

    /// 表1 figures agree with the plan table (rows missing while the table is
    /// being transcribed are skipped).
    #[test]
    fn facility_figures_match_the_plan_table() {
        let table = include_str!("../../../../data/jiaxing/plan/facility_figures_2020.csv");
        let value = |n: &str| -> Option<String> {
            table
                .lines()
                .map(|l| l.split(',').collect::<Vec<_>>())
                .find(|f| f.first() == Some(&n))
                .and_then(|f| f.get(3).map(|v| v.to_string()))
        };
        let expect = [
            ("1", CARE_HOMES.to_string()),
            ("2", CARE_HOME_BEDS.to_string()),
            ("3", NURSING_BEDS.to_string()),
            ("5", TOWN_HOME_CARE_CENTRES.to_string()),
            ("6", VILLAGE_STATIONS.to_string()),
            ("7", TOWN_CARE_HOMES.to_string()),
            ("8", TOWN_CARE_HOME_BEDS.to_string()),
            ("9", SLOTS_PER_1000.to_string()),
            ("10", GUIDANCE_CENTRES.to_string()),
        ];
        for (n, want) in expect {
            if let Some(v) = value(n) {
                assert_eq!(v, want, "表1 row {n}");
            }
        }
    }
}
