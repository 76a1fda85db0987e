//! The synthetic city: Jiaxing's real divisions, boundaries and plan figures,
//! populated with synthetic facilities and people.
//!
//! [`generate`] builds the registers (facilities, childcare classes, the
//! elderly and infants, and the activity registers: staff, service records,
//! enrolments, residences, student cohorts) for a seed and a scale; [`write_csv`] writes them in the
//! import formats. The same seed and scale always give the same records and
//! byte-identical files: every random draw comes from a ChaCha stream keyed by
//! the seed, a concern (care homes, stations, elderly, …) and an index (usually
//! the county), areas are walked in code order, and no hash-map order reaches the
//! output. What is calibrated to which source, and how closely, is in
//! `docs/synthetic-city.md`.

mod activity;
pub(crate) mod calib;
mod facilities;
mod history;
mod names;
mod operators;
mod people;
mod shift;
mod util;
mod world;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use laoxiao_model::activity::{
    Enrolment, InsuranceEnrolment, Residence, ServiceRecord, Staff, StudentCohort,
};
use laoxiao_model::columns::{self, HeaderLang, RecordKind};
use laoxiao_model::{ChildcareClass, Facility, ModelError, Person};
use laoxiao_rules::{ClassLimits, RulesError};

/// The largest scale accepted (about 4.6 million people).
pub const MAX_SCALE: f64 = 4.0;

/// A generated city: the registers as they would be imported.
#[derive(Debug, Clone)]
pub struct SynthCity {
    pub facilities: Vec<Facility>,
    pub classes: Vec<ChildcareClass>,
    /// People aged 60 or more on `as_of`, then those who died or moved out
    /// since the start of `as_of`'s year − 2 (status and date set).
    pub elderly: Vec<Person>,
    /// Children under 3 on `as_of`, then those of them born who died under
    /// one (status `deceased`, `death_date`).
    pub infants: Vec<Person>,
    /// Staff of the facilities (从业人员), including those who left since 2020.
    pub staff: Vec<Staff>,
    /// A year of service records up to `as_of` (服务记录).
    pub services: Vec<ServiceRecord>,
    /// Childcare enrolments (入托): each class's children, and some who left.
    pub enrolments: Vec<Enrolment>,
    /// Who lives in which care home (入住).
    pub residences: Vec<Residence>,
    /// Eldercare student cohorts (养老服务相关专业学生).
    pub student_cohorts: Vec<StudentCohort>,
    /// Insurance enrolments (参保登记), yearly from `as_of`'s year − 2.
    pub insurance: Vec<InsuranceEnrolment>,
    /// The date the registers describe (2022-12-31).
    pub as_of: NaiveDate,
}

/// Why generation or writing failed.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// The scale is not a number in (0, [`MAX_SCALE`]].
    #[error("scale must be above 0 and at most {MAX_SCALE} (got {0})")]
    Scale(f64),
    /// The register date is outside 2000–2099.
    #[error("the register date must lie in 2000–2099 (got {0})")]
    AsOf(NaiveDate),
    /// The embedded reference data could not be read (a build defect).
    #[error(transparent)]
    Reference(#[from] ModelError),
    /// The embedded national standards could not be read (a build defect).
    #[error(transparent)]
    Standards(#[from] RulesError),
    /// The geography could not be set up (a reference-data defect).
    #[error("geography: {0}")]
    Geography(String),
    /// An internal invariant failed.
    #[error("synthetic city: {0}")]
    Internal(String),
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Csv { path: PathBuf, source: csv::Error },
}

/// The date the registers describe: 2022-12-31. Ages (60+, under 3), ratings'
/// validity and the end-2022 figures (smart care homes, filed institutions)
/// refer to it.
pub fn as_of() -> NaiveDate {
    calib::as_of()
}

fn check_scale(scale: f64) -> Result<(), SynthError> {
    if scale.is_finite() && scale > 0.0 && scale <= MAX_SCALE {
        Ok(())
    } else {
        Err(SynthError::Scale(scale))
    }
}

/// Generates the city for `seed` at `scale` (1 = Jiaxing's size: about 1.16
/// million people, 2,200 facilities). Counties are generated in parallel and
/// merged in code order, so the result does not depend on thread timing.
pub fn generate(seed: u64, scale: f64) -> Result<SynthCity, SynthError> {
    check_scale(scale)?;
    let world = world::World::build(seed)?;
    let targets = calib::targets(scale);
    let limits = ClassLimits::embedded()?;
    let fac = facilities::generate(&world, &targets, &limits, seed)?;
    let as_of = calib::as_of();
    let results: Vec<Result<people::CountyPeople, SynthError>> = std::thread::scope(|sc| {
        let handles: Vec<_> = (0..world.counties.len())
            .map(|c| {
                let (world, targets, homes) = (&world, &targets, &fac.homes);
                sc.spawn(move || people::county(world, c, &targets.counties[c], homes, seed, as_of))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(SynthError::Internal("a county thread panicked".into()))
                })
            })
            .collect()
    });
    let mut elderly = Vec::with_capacity(targets.aged_60().max(0) as usize);
    let mut infants = Vec::with_capacity(calib::infants_total(scale).max(0) as usize);
    let mut residents = Vec::new();
    for r in results {
        let p = r?;
        let base = elderly.len();
        residents.extend(p.residents.into_iter().map(|(i, f)| (base + i, f)));
        elderly.extend(p.elderly);
        infants.extend(p.infants);
    }
    let act = activity::generate(
        &activity::Inputs {
            facilities: &fac.facilities,
            classes: &fac.classes,
            elderly: &elderly,
            infants: &infants,
            residents: &residents,
            limits: &limits,
            scale,
            as_of,
        },
        seed,
    );
    // History: who left the registers, the infants' yearly health services,
    // insurance. Drawn from streams of their own, after the rest.
    let mut services = act.services;
    services.extend(history::child_health(&infants, seed, as_of));
    let (gone_elderly, gone_infants) = history::departed(&elderly, &infants, seed, as_of);
    elderly.extend(gone_elderly);
    infants.extend(gone_infants);
    let insurance = history::insurance(&elderly, &act.enrolments, seed, as_of);
    Ok(SynthCity {
        facilities: fac.facilities,
        classes: fac.classes,
        elderly,
        infants,
        staff: act.staff,
        services,
        enrolments: act.enrolments,
        residences: act.residences,
        student_cohorts: act.student_cohorts,
        insurance,
        as_of,
    })
}

/// [`generate`], moved to describe `as_of` instead of 2022-12-31: every date
/// (births, openings, filings, ratings) moves by the same number of days, each
/// person keeps their age on the new date, and ID numbers are rebuilt around the
/// moved birth dates. The counts stay those of the figures calibrated to 2022.
/// Use it when the records are checked against today's date (an infant born in
/// 2020 is no longer under 3 in 2026). Deterministic for a given `as_of`.
pub fn generate_as_of(seed: u64, scale: f64, as_of: NaiveDate) -> Result<SynthCity, SynthError> {
    shift::check_as_of(as_of)?;
    let mut city = generate(seed, scale)?;
    shift::shift_to(&mut city, as_of)?;
    Ok(city)
}

/// The facility registers alone (cheap: no people), identical to those of
/// [`generate`] with the same seed and scale.
pub fn generate_facilities(
    seed: u64,
    scale: f64,
) -> Result<(Vec<Facility>, Vec<ChildcareClass>), SynthError> {
    check_scale(scale)?;
    let world = world::World::build(seed)?;
    let targets = calib::targets(scale);
    let limits = ClassLimits::embedded()?;
    let fac = facilities::generate(&world, &targets, &limits, seed)?;
    Ok((fac.facilities, fac.classes))
}

/// The file names [`write_csv`] writes, in order.
pub const FILES: [(&str, RecordKind); 10] = [
    ("facilities.csv", RecordKind::Facilities),
    ("classes.csv", RecordKind::Classes),
    ("elderly.csv", RecordKind::Elderly),
    ("infants.csv", RecordKind::Infants),
    ("staff.csv", RecordKind::Staff),
    ("services.csv", RecordKind::Services),
    ("enrolments.csv", RecordKind::Enrolments),
    ("residences.csv", RecordKind::Residences),
    ("student_cohorts.csv", RecordKind::StudentCohorts),
    ("insurance.csv", RecordKind::Insurance),
];

/// Writes the [`FILES`] (`facilities.csv`, `classes.csv`, `elderly.csv`,
/// `infants.csv` and the activity registers) into `dir` (created if missing) in the import formats: UTF-8 without BOM, `\n`
/// line ends, English headers, full ID numbers (these are import files).
/// Returns the paths written.
pub fn write_csv(city: &SynthCity, dir: &Path) -> Result<Vec<PathBuf>, SynthError> {
    std::fs::create_dir_all(dir).map_err(|source| SynthError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut written = Vec::new();
    for (file, kind) in FILES {
        let path = dir.join(file);
        let csv_err = |source| SynthError::Csv {
            path: path.clone(),
            source,
        };
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .buffer_capacity(1 << 16)
            .from_path(&path)
            .map_err(csv_err)?;
        w.write_record(columns::headers(kind, HeaderLang::English))
            .map_err(csv_err)?;
        match kind {
            RecordKind::Facilities => {
                for f in &city.facilities {
                    w.write_record(columns::facility_to_row(f))
                        .map_err(csv_err)?;
                }
            }
            RecordKind::Classes => {
                for c in &city.classes {
                    w.write_record(columns::class_to_row(c)).map_err(csv_err)?;
                }
            }
            RecordKind::Elderly | RecordKind::Infants => {
                let people = if kind == RecordKind::Elderly {
                    &city.elderly
                } else {
                    &city.infants
                };
                for p in people {
                    w.write_record(columns::person_to_row(p)).map_err(csv_err)?;
                }
            }
            RecordKind::Staff => {
                for x in &city.staff {
                    w.write_record(columns::staff_to_row(x)).map_err(csv_err)?;
                }
            }
            RecordKind::Services => {
                for x in &city.services {
                    w.write_record(columns::service_to_row(x))
                        .map_err(csv_err)?;
                }
            }
            RecordKind::Enrolments => {
                for x in &city.enrolments {
                    w.write_record(columns::enrolment_to_row(x))
                        .map_err(csv_err)?;
                }
            }
            RecordKind::Residences => {
                for x in &city.residences {
                    w.write_record(columns::residence_to_row(x))
                        .map_err(csv_err)?;
                }
            }
            RecordKind::StudentCohorts => {
                for x in &city.student_cohorts {
                    w.write_record(columns::cohort_to_row(x)).map_err(csv_err)?;
                }
            }
            RecordKind::Insurance => {
                for x in &city.insurance {
                    w.write_record(columns::insurance_to_row(x))
                        .map_err(csv_err)?;
                }
            }
            // The synthetic city has no catalogue: the demo publishes one
            // (`laoxiao_store::family::seed_demo`).
            RecordKind::Catalogue => {}
            // Home-care bed contracts are made by the demo
            // (laoxiao_store::visits::demo), not written as a file.
            RecordKind::HomeCareBeds => {}
            // Devices are not among the synthetic city's files.
            RecordKind::Devices => {}
        }
        w.flush().map_err(|source| SynthError::Io {
            path: path.clone(),
            source,
        })?;
        written.push(path);
    }
    Ok(written)
}
