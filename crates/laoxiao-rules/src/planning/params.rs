//! The planning rules' parameters, read from `data/planning/coverage.toml`.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use laoxiao_model::FacilityKind;
use serde::Deserialize;

use crate::error::RulesError;

const EMBEDDED: &str = include_str!("../../../../data/planning/coverage.toml");
/// A rules file larger than this is refused (the embedded one is ~4 KB).
const MAX_FILE: usize = 256 * 1024;
/// Distances and densities beyond these are refused as typing errors.
const MAX_DISTANCE_M: f64 = 50_000.0;
const MAX_DENSITY: f64 = 1_000_000.0;

/// The population a grid layer, a density or a rule counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Layer {
    /// 老年人 (60 and over, on the register).
    Elderly,
    /// 婴幼儿 (under 3, on the register).
    Infants,
    /// 常住人口 (estimated per cell, or an imported grid).
    Residents,
}

impl Layer {
    pub const ALL: [Layer; 3] = [Layer::Elderly, Layer::Infants, Layer::Residents];

    /// The glossary identifier.
    pub fn code(self) -> &'static str {
        match self {
            Layer::Elderly => "elderly",
            Layer::Infants => "infants",
            Layer::Residents => "residents",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Layer::Elderly => "老年人",
            Layer::Infants => "婴幼儿",
            Layer::Residents => "常住人口",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Layer::Elderly => "Elderly",
            Layer::Infants => "Infants",
            Layer::Residents => "Residents",
        }
    }

    /// The layer's index in a grid (0, 1, 2).
    pub fn index(self) -> usize {
        self as usize
    }

    pub fn parse(s: &str) -> Option<Layer> {
        Layer::ALL.into_iter().find(|l| l.code() == s.trim())
    }
}

/// The plan's density class of a residential area (居住区人口密度).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DensityClass {
    /// 高密度居住区: more than 3,000 per km².
    High,
    /// 中密度居住区: 1,000 to 3,000 per km².
    Medium,
    /// Below 1,000 per km²: the plan sets no distance.
    Low,
}

impl DensityClass {
    pub const ALL: [DensityClass; 3] =
        [DensityClass::High, DensityClass::Medium, DensityClass::Low];

    pub fn code(self) -> &'static str {
        match self {
            DensityClass::High => "high",
            DensityClass::Medium => "medium",
            DensityClass::Low => "low",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            DensityClass::High => "高密度",
            DensityClass::Medium => "中密度",
            DensityClass::Low => "低密度",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            DensityClass::High => "High density",
            DensityClass::Medium => "Medium density",
            DensityClass::Low => "Low density",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// How density is measured and classed.
#[derive(Debug, Clone, PartialEq)]
pub struct Density {
    /// What is counted (residents by default; elderly is the other reading).
    pub basis: Layer,
    /// The side of the square neighbourhood a cell's density is measured over.
    pub window_m: f64,
    /// High density: strictly above this.
    pub high_above: f64,
    /// Medium density: from this up to `high_above` inclusive.
    pub medium_from: f64,
    pub clause: String,
}

impl Density {
    /// The class of a density (people per km²).
    pub fn class(&self, per_km2: f64) -> DensityClass {
        if per_km2 > self.high_above {
            DensityClass::High
        } else if per_km2 >= self.medium_from {
            DensityClass::Medium
        } else {
            DensityClass::Low
        }
    }

    /// How many cells on each side of a cell the window reaches for cells of
    /// `cell_m`: the window is `(2 · reach + 1)` cells wide, the odd width
    /// nearest to `window_m` (11 cells, 1.1 km, for 100 m cells and 1 km).
    pub fn reach(&self, cell_m: f64) -> usize {
        let cells = (self.window_m / cell_m).max(1.0);
        (((cells - 1.0) / 2.0).round().max(0.0)) as usize
    }
}

/// A walk turned into a straight-line distance.
#[derive(Debug, Clone, PartialEq)]
pub struct Walk {
    pub minutes: f64,
    pub m_per_min: f64,
    /// Walking distance = straight-line distance × this.
    pub detour_factor: f64,
}

impl Walk {
    /// The straight-line distance the walk reaches.
    pub fn straight_m(&self) -> f64 {
        self.minutes * self.m_per_min / self.detour_factor
    }
}

/// One distance rule: who must have which facility kinds within what distance.
#[derive(Debug, Clone, PartialEq)]
pub struct CoverageRule {
    pub code: String,
    pub zh: String,
    pub en: String,
    /// The facility kinds that count (a configurable mapping).
    pub kinds: Vec<FacilityKind>,
    /// Whose coverage it is (elderly or infants).
    pub population: Layer,
    /// The distance (metres, inclusive) by density class; `None`: no rule there.
    pub threshold: [Option<f64>; 3],
    /// Set when the distance comes from a walk.
    pub walk: Option<Walk>,
    pub clause: String,
}

impl CoverageRule {
    /// The distance for a density class, if the rule applies there.
    pub fn threshold(&self, class: DensityClass) -> Option<f64> {
        self.threshold[class.index()]
    }

    /// The largest distance of the rule.
    pub fn max_threshold(&self) -> Option<f64> {
        self.threshold.iter().flatten().copied().reduce(f64::max)
    }

    /// True when a facility kind counts for the rule.
    pub fn counts(&self, kind: FacilityKind) -> bool {
        self.kinds.contains(&kind)
    }
}

/// The childcare slot norms.
#[derive(Debug, Clone, PartialEq)]
pub struct ChildcareNorms {
    pub kinds: Vec<FacilityKind>,
    pub new_area_per_1000: f64,
    pub existing_per_1000: f64,
    pub city_per_1000: f64,
    pub city_target_year: i32,
    pub indicator: u32,
    pub new_areas: BTreeSet<String>,
    pub clause: String,
}

impl ChildcareNorms {
    /// The norm for an area given its own and its ancestors' codes: a new
    /// residential area (or one inside it) takes the new-area norm.
    pub fn norm_for<'a>(&self, codes: impl IntoIterator<Item = &'a str>) -> f64 {
        if codes.into_iter().any(|c| self.new_areas.contains(c)) {
            self.new_area_per_1000
        } else {
            self.existing_per_1000
        }
    }
}

/// Defaults of the accessibility measure.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessDefaults {
    pub radius_m: f64,
    pub decay: String,
}

/// Defaults of the siting tool.
#[derive(Debug, Clone, PartialEq)]
pub struct SitingDefaults {
    pub grid_spacing_m: f64,
    pub childcare_min_slots: f64,
    pub childcare_max_slots: f64,
    /// The kind a proposed site is saved as, by rule code (and `childcare`).
    pub save_as: std::collections::BTreeMap<String, FacilityKind>,
}

/// Every planning parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    pub from: NaiveDate,
    pub density: Density,
    pub rules: Vec<CoverageRule>,
    pub childcare: ChildcareNorms,
    pub access: AccessDefaults,
    pub siting: SitingDefaults,
    /// Where they came from (`embedded` or a file name).
    pub source: String,
    /// A digest of the text, printed with every result.
    pub version: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDoc {
    from: NaiveDate,
    density: FileDensity,
    rule: Vec<FileRule>,
    childcare: FileChildcare,
    access: FileAccess,
    siting: FileSiting,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSiting {
    grid_spacing_m: f64,
    childcare_min_slots: f64,
    childcare_max_slots: f64,
    save_as: std::collections::BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDensity {
    basis: String,
    window_m: f64,
    high_above: f64,
    medium_from: f64,
    clause: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRule {
    code: String,
    zh: String,
    en: String,
    kinds: Vec<String>,
    population: String,
    high_m: Option<f64>,
    medium_m: Option<f64>,
    low_m: Option<f64>,
    walk_minutes: Option<f64>,
    walk_m_per_min: Option<f64>,
    detour_factor: Option<f64>,
    clause: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileChildcare {
    kinds: Vec<String>,
    new_area_per_1000: f64,
    existing_per_1000: f64,
    city_per_1000: f64,
    city_target_year: i32,
    indicator: u32,
    new_areas: Vec<String>,
    clause: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileAccess {
    radius_m: f64,
    decay: String,
}

fn fnv(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

impl Params {
    /// The embedded rules.
    pub fn embedded() -> Result<Params, RulesError> {
        Params::parse("embedded", EMBEDDED)
    }

    /// Parses a rules file (the embedded one's format).
    pub fn parse(source: &str, text: &str) -> Result<Params, RulesError> {
        let bad = |reason: String| RulesError::Parameters {
            file: source.to_string(),
            reason,
        };
        if text.len() > MAX_FILE {
            return Err(bad(format!("larger than {MAX_FILE} bytes")));
        }
        let doc: FileDoc = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        let distance = |what: &str, v: f64| -> Result<f64, RulesError> {
            if v.is_finite() && v > 0.0 && v <= MAX_DISTANCE_M {
                Ok(v)
            } else {
                Err(bad(format!(
                    "{what}: {v} is not a distance from 0 to {MAX_DISTANCE_M} m"
                )))
            }
        };
        let positive = |what: &str, v: f64, max: f64| -> Result<f64, RulesError> {
            if v.is_finite() && v > 0.0 && v <= max {
                Ok(v)
            } else {
                Err(bad(format!(
                    "{what}: {v} is not a number above 0 and up to {max}"
                )))
            }
        };
        let kinds = |what: &str, list: &[String]| -> Result<Vec<FacilityKind>, RulesError> {
            if list.is_empty() || list.len() > 32 {
                return Err(bad(format!("{what}.kinds: give 1 to 32 facility kinds")));
            }
            list.iter()
                .map(|k| {
                    FacilityKind::parse(k)
                        .ok_or_else(|| bad(format!("{what}.kinds: unknown facility kind {k:?}")))
                })
                .collect()
        };
        let d = &doc.density;
        let basis = match Layer::parse(&d.basis) {
            Some(l @ (Layer::Residents | Layer::Elderly)) => l,
            _ => {
                return Err(bad(format!(
                    "density.basis: {:?} is not residents or elderly",
                    d.basis
                )));
            }
        };
        let density = Density {
            basis,
            window_m: distance("density.window_m", d.window_m)?,
            high_above: positive("density.high_above", d.high_above, MAX_DENSITY)?,
            medium_from: positive("density.medium_from", d.medium_from, MAX_DENSITY)?,
            clause: d.clause.clone(),
        };
        if density.medium_from > density.high_above {
            return Err(bad("density: medium_from is above high_above".into()));
        }
        if doc.rule.is_empty() || doc.rule.len() > 16 {
            return Err(bad("give 1 to 16 [[rule]] entries".into()));
        }
        let mut rules = Vec::new();
        for r in &doc.rule {
            let what = format!("rule {}", r.code);
            if r.code.is_empty()
                || r.code.len() > 40
                || !r.code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
            {
                return Err(bad(format!(
                    "rule code {:?}: use a-z and _ (at most 40)",
                    r.code
                )));
            }
            if rules.iter().any(|x: &CoverageRule| x.code == r.code) {
                return Err(bad(format!("{what}: the code appears twice")));
            }
            let population = match Layer::parse(&r.population) {
                Some(l @ (Layer::Elderly | Layer::Infants)) => l,
                _ => {
                    return Err(bad(format!(
                        "{what}.population: {:?} is not elderly or infants",
                        r.population
                    )));
                }
            };
            let walk = match (r.walk_minutes, r.walk_m_per_min, r.detour_factor) {
                (None, None, None) => None,
                (Some(m), Some(v), Some(f)) => Some(Walk {
                    minutes: positive(&format!("{what}.walk_minutes"), m, 120.0)?,
                    m_per_min: positive(&format!("{what}.walk_m_per_min"), v, 200.0)?,
                    detour_factor: if (1.0..=3.0).contains(&f) {
                        f
                    } else {
                        return Err(bad(format!("{what}.detour_factor: {f} is not from 1 to 3")));
                    },
                }),
                _ => {
                    return Err(bad(format!(
                        "{what}: give walk_minutes, walk_m_per_min and detour_factor together"
                    )));
                }
            };
            let threshold = match &walk {
                Some(w) => {
                    if r.high_m.is_some() || r.medium_m.is_some() || r.low_m.is_some() {
                        return Err(bad(format!(
                            "{what}: a walk rule takes no high_m, medium_m or low_m"
                        )));
                    }
                    let d = distance(&format!("{what} walk"), w.straight_m())?;
                    [Some(d); 3]
                }
                None => {
                    let t = [
                        r.high_m
                            .map(|v| distance(&format!("{what}.high_m"), v))
                            .transpose()?,
                        r.medium_m
                            .map(|v| distance(&format!("{what}.medium_m"), v))
                            .transpose()?,
                        r.low_m
                            .map(|v| distance(&format!("{what}.low_m"), v))
                            .transpose()?,
                    ];
                    if t.iter().all(Option::is_none) {
                        return Err(bad(format!(
                            "{what}: give a distance for some density class"
                        )));
                    }
                    t
                }
            };
            rules.push(CoverageRule {
                code: r.code.clone(),
                zh: r.zh.clone(),
                en: r.en.clone(),
                kinds: kinds(&what, &r.kinds)?,
                population,
                threshold,
                walk,
                clause: r.clause.clone(),
            });
        }
        let c = &doc.childcare;
        if c.new_areas.len() > 10_000 {
            return Err(bad("childcare.new_areas: at most 10,000 codes".into()));
        }
        let childcare = ChildcareNorms {
            kinds: kinds("childcare", &c.kinds)?,
            new_area_per_1000: positive(
                "childcare.new_area_per_1000",
                c.new_area_per_1000,
                1000.0,
            )?,
            existing_per_1000: positive(
                "childcare.existing_per_1000",
                c.existing_per_1000,
                1000.0,
            )?,
            city_per_1000: positive("childcare.city_per_1000", c.city_per_1000, 1000.0)?,
            city_target_year: if (2020..=2035).contains(&c.city_target_year) {
                c.city_target_year
            } else {
                return Err(bad(
                    "childcare.city_target_year: not from 2020 to 2035".into()
                ));
            },
            indicator: c.indicator,
            new_areas: c.new_areas.iter().cloned().collect(),
            clause: c.clause.clone(),
        };
        let access = AccessDefaults {
            radius_m: distance("access.radius_m", doc.access.radius_m)?,
            decay: doc.access.decay.clone(),
        };
        let st = &doc.siting;
        let mut save_as = std::collections::BTreeMap::new();
        for (code, kind) in &st.save_as {
            if code != "childcare" && !rules.iter().any(|r| r.code == *code) {
                return Err(bad(format!(
                    "siting.save_as: {code:?} is not a rule code or childcare"
                )));
            }
            let k = FacilityKind::parse(kind).ok_or_else(|| {
                bad(format!(
                    "siting.save_as.{code}: unknown facility kind {kind:?}"
                ))
            })?;
            save_as.insert(code.clone(), k);
        }
        let siting = SitingDefaults {
            grid_spacing_m: distance("siting.grid_spacing_m", st.grid_spacing_m)?,
            childcare_min_slots: positive(
                "siting.childcare_min_slots",
                st.childcare_min_slots,
                10_000.0,
            )?,
            childcare_max_slots: positive(
                "siting.childcare_max_slots",
                st.childcare_max_slots,
                10_000.0,
            )?,
            save_as,
        };
        if siting.childcare_min_slots > siting.childcare_max_slots {
            return Err(bad(
                "siting: childcare_min_slots is above childcare_max_slots".into(),
            ));
        }
        Ok(Params {
            from: doc.from,
            density,
            rules,
            childcare,
            access,
            siting,
            source: source.to_string(),
            version: fnv(text),
        })
    }

    /// A rule by code.
    pub fn rule(&self, code: &str) -> Option<&CoverageRule> {
        self.rules.iter().find(|r| r.code == code)
    }

    /// The rule codes, for error messages.
    pub fn rule_codes(&self) -> String {
        let v: Vec<&str> = self.rules.iter().map(|r| r.code.as_str()).collect();
        v.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_rules_read_as_the_plan_says() {
        let p = Params::embedded().expect("embedded rules");
        assert_eq!(p.density.basis, Layer::Residents);
        // > 3000 is high; 3000 itself is medium; 1000 is medium; below is low.
        assert_eq!(p.density.class(3000.5), DensityClass::High);
        assert_eq!(p.density.class(3000.0), DensityClass::Medium);
        assert_eq!(p.density.class(1000.0), DensityClass::Medium);
        assert_eq!(p.density.class(999.9), DensityClass::Low);
        let inst = p.rule("institution").expect("institution rule");
        assert_eq!(inst.threshold(DensityClass::High), Some(500.0));
        assert_eq!(inst.threshold(DensityClass::Medium), Some(1000.0));
        assert_eq!(inst.threshold(DensityClass::Low), None);
        assert!(inst.counts(FacilityKind::ElderlyInstitution));
        assert!(!inst.counts(FacilityKind::VillageCareStation));
        // 15 minutes at 60 m a minute is 900 m of walking, 692.3 m straight.
        let walk = p.rule("home_care_walk").expect("walk rule");
        let d = walk.threshold(DensityClass::Low).expect("every class");
        assert!((d - 900.0 / 1.3).abs() < 1e-9, "{d}");
        assert_eq!(p.childcare.norm_for(["330402001"]), 8.0);
        assert_eq!(p.childcare.city_per_1000, 4.6);
        // 100 m cells and a 1 km window: 11 cells (reach 5); 250 m: 5 cells; 1 km: itself.
        assert_eq!(p.density.reach(100.0), 5);
        assert_eq!(p.density.reach(250.0), 2);
        assert_eq!(p.density.reach(1000.0), 0);
        assert_eq!(p.version.len(), 16);
    }

    #[test]
    fn bad_files_are_refused_with_the_reason() {
        let good = EMBEDDED;
        let cases = [
            (
                good.replace("basis = \"residents\"", "basis = \"infants\""),
                "density.basis",
            ),
            (
                good.replace("high_m = 500", "high_m = -5"),
                "rule institution.high_m",
            ),
            (
                good.replace("\"village_care_station\"]", "\"spaceship\"]"),
                "unknown facility kind",
            ),
            (
                good.replace("detour_factor = 1.3", "detour_factor = 9"),
                "detour_factor",
            ),
            (
                good.replace("medium_from = 1000", "medium_from = 5000"),
                "medium_from is above",
            ),
            (
                good.replace("code = \"home_care_walk\"", "code = \"institution\""),
                "twice",
            ),
            (
                good.replace("[access]", "[access]\nextra = 1"),
                "unknown field",
            ),
        ];
        for (text, want) in cases {
            let e = Params::parse("test.toml", &text)
                .expect_err(want)
                .to_string();
            assert!(e.contains(want) && e.contains("test.toml"), "{want}: {e}");
        }
        let mut with_new = good.replace("new_areas = []", "new_areas = [\"330402001\"]");
        let p = Params::parse("x", &with_new).expect("valid");
        assert_eq!(p.childcare.norm_for(["330402001001", "330402001"]), 10.0);
        assert_ne!(p.version, Params::embedded().expect("embedded").version);
        with_new.push_str(&" ".repeat(MAX_FILE));
        assert!(Params::parse("x", &with_new).is_err());
    }
}
