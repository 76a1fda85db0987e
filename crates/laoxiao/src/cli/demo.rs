//! `demo`: a demo database with Jiaxing's areas and a synthetic city, its key
//! file and its accounts, then the server.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use indicatif::ProgressBar;
use laoxiao_store::{DbTarget, Store};

use super::{bar, check_scale, open, today, write_private};
use crate::config::Config;

/// `laoxiao demo`.
pub fn run(config: Config, scale: f64, seed: u64, as_of: Option<chrono::NaiveDate>) -> Result<()> {
    check_scale(scale)?;
    let mut config = config;
    if config.keys()?.is_none() && config.key_file.is_none() {
        config.key_file = Some(demo_key_file(&config.database_url)?);
    }
    let store = open(&config)?;
    let mut c = store.conn()?;
    let laoxiao_store::figures::StoredRows { people, facilities } =
        laoxiao_store::figures::stored_rows(&mut c)?;
    drop(c);
    let day = as_of.unwrap_or_else(today);
    let fresh = people + facilities == 0;
    let later = if !fresh {
        println!(
            "reusing {} ({facilities} facilities, {people} people); delete it to regenerate",
            config.database_display()
        );
        None
    } else {
        let later = Some(load_demo(&store, seed, scale, day)?);
        if let Err(e) = demo_subsidy_runs(&store, day) {
            eprintln!("the demo's subsidy drafts were not prepared: {e}");
        }
        if let Err(e) = demo_assessments(&store, day) {
            eprintln!("the demo's ability assessments were not made: {e}");
        }
        demo_alarms(&store);
        if let Err(e) = demo_admissions(&store, scale, day) {
            eprintln!("the demo's care-home applications were not made: {e}");
        }
        later
    };
    println!("the people are synthetic; areas, boundaries and plan figures are real");
    let accounts = demo_accounts(&store)?;
    println!("demo accounts (also listed on the login page):");
    for a in &accounts {
        println!(
            "  {:<10} {:<22} {} ({})",
            a.username, a.password, a.role, a.area
        );
    }
    if let Some(later) = later {
        load_later(&store, later, day);
    }
    super::serve::serve(store, &config, accounts)
}

/// Finished ability assessments (GB/T 42195-2022) for a sample of elderly
/// people with a level, some due soon, a few overdue, flagged or appealed.
fn demo_assessments(store: &Store, day: chrono::NaiveDate) -> Result<()> {
    let t = std::time::Instant::now();
    let mut c = store.conn()?;
    let r = laoxiao_store::assessments::demo::seed(&mut c, &store.reference, day, 300)?;
    println!(
        "demo ability assessments: {} finished, {} flagged, {} appealed in {:.1} s (see /console/assessments)",
        r.finished,
        r.flagged,
        r.appealed,
        t.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The demo's key file beside its database (created, mode 0600, when absent).
fn demo_key_file(database_url: &str) -> Result<PathBuf> {
    let db = match DbTarget::parse(database_url)? {
        DbTarget::Sqlite(p) if p != ":memory:" => PathBuf::from(p),
        _ => PathBuf::from("laoxiao-demo.db"),
    };
    let path = db.with_extension("key");
    if !path.exists() {
        let k = laoxiao_store::crypto::DataKey::generate("demo1");
        let text = format!(
            "# laoxiao demo keys: for the demo database only, never for real registers\n\
             data_key = \"{}\"\nhmac_key = \"{}\"\naudit_key = \"{}\"\n",
            k.encode(),
            laoxiao_store::crypto::generate_raw_key(),
            laoxiao_store::crypto::generate_raw_key()
        );
        write_private(&path, &text)?;
        println!(
            "no data key configured: created the demo key file {}",
            path.display()
        );
    } else if crate::config::KeyFile::read(&path)
        .map(|f| f.audit_key.is_none())
        .unwrap_or(false)
    {
        // A demo key file from before the audit key: the demo adds one itself.
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))?;
        writeln!(
            f,
            "audit_key = \"{}\"",
            laoxiao_store::crypto::generate_raw_key()
        )?;
        println!("added an audit key to the demo key file {}", path.display());
    }
    Ok(path)
}

/// The demo's accounts, one per role (created when absent). Documented in the
/// README; the passwords are public, so the demo holds synthetic people only.
fn demo_accounts(store: &Store) -> Result<Vec<laoxiao_web::DemoAccount>> {
    use laoxiao_store::Role;
    let areas = &store.reference.areas;
    let county = "330402";
    let town = areas
        .children(county)
        .first()
        .map(|a| a.code.clone())
        .context("the county has no towns")?;
    let village = areas
        .children(&town)
        .first()
        .map(|a| a.code.clone())
        .unwrap_or_else(|| town.clone());
    let mut c = store.conn()?;
    // The first facility (by id) of the area with these field values.
    let first = |area: &str,
                 filters: &[(&str, &str)],
                 c: &mut laoxiao_store::Conn|
     -> Result<Option<(String, String)>> {
        let mut q = laoxiao_store::facilities::FacilityQuery {
            area: Some(area.to_string()),
            limit: Some(1),
            ..Default::default()
        };
        for (k, v) in filters {
            q = q.with(k, v)?;
        }
        Ok(laoxiao_store::facilities::list(
            c,
            &store.reference,
            &laoxiao_store::Scope::system("demo"),
            &q,
        )?
        .items
        .into_iter()
        .next()
        .map(|f| (f.id, f.area_code)))
    };
    // The demo's operator runs a care home (养老机构), so that the demo shows
    // an operator's day (residents, beds, staff): the town's first operating
    // one by id, else the county's.
    let home = [("kind", "elderly_institution"), ("status", "operating")];
    let found = match first(&town, &home, &mut c)? {
        Some(f) => Some(f),
        None => first(county, &home, &mut c)?,
    };
    let operator_area = found
        .as_ref()
        .and_then(|(_, a)| areas.ancestor_at(a, laoxiao_model::AreaLevel::Town))
        .map(|a| a.code.clone())
        .unwrap_or_else(|| town.clone());
    let facility = found.map(|(id, _)| id);
    let provider = facility.clone();
    // The childcare operator (托育机构) files with the county: the county's
    // first institution not yet filed, else its first one.
    let nursery = match first(
        county,
        &[
            ("kind", "childcare_institution"),
            ("filing_status", "unfiled"),
        ],
        &mut c,
    )? {
        Some(f) => Some(f),
        None => first(county, &[("kind", "childcare_institution")], &mut c)?,
    };
    // A small demo city may have no institution in the county: the demo then
    // opens one of its own, not yet filed, so the filing can be shown.
    let nursery = match nursery {
        Some(f) => Some(f),
        None => {
            let mut f = laoxiao_model::Facility::blank(
                "TY-DEMO",
                "演示托育园",
                laoxiao_model::FacilityKind::ChildcareInstitution,
                &town,
            );
            f.filing_status = laoxiao_model::facility::FilingStatus::Unfiled;
            laoxiao_store::facilities::create(
                &mut c,
                &store.reference,
                &laoxiao_store::Scope::system("demo"),
                &f,
            )?;
            Some((f.id, town.clone()))
        }
    };
    let nursery_area = nursery
        .as_ref()
        .and_then(|(_, a)| areas.ancestor_at(a, laoxiao_model::AreaLevel::Town))
        .map(|a| a.code.clone())
        .unwrap_or_else(|| town.clone());
    let town_path = areas.get(&town).map(|a| a.path.clone()).unwrap_or_default();
    let nursery_id = nursery.as_ref().map(|(id, _)| id.clone());
    let plan: Vec<(&str, Role, String, Option<String>)> = vec![
        ("city", Role::CityAdmin, "330400".into(), None),
        ("county", Role::CountyAdmin, county.into(), None),
        ("town", Role::TownStaff, town.clone(), None),
        ("village", Role::VillageStaff, village, None),
        ("operator", Role::FacilityOperator, operator_area, facility),
        (
            "childcare",
            Role::FacilityOperator,
            nursery_area,
            nursery.map(|(id, _)| id),
        ),
        ("inspector", Role::Inspector, county.into(), None),
        // 双随机: every inspection needs two inspectors (国办发〔2015〕58号).
        ("inspector2", Role::Inspector, county.into(), None),
        ("auditor", Role::Auditor, "330400".into(), None),
        ("analyst", Role::Analyst, "330400".into(), None),
        ("family", Role::Family, "330400".into(), None),
    ];
    let mut out = Vec::new();
    for (name, role, area, fac) in plan {
        let password = format!("demo-{name}-2026");
        // A kept account keeps its area: the registers may have grown since
        // (completed key projects open new institutions), so the plan's pick
        // of today could differ from the account's.
        let kept = laoxiao_store::accounts::get_user(&mut c, name).ok();
        let area = kept.map(|u| u.area_code).unwrap_or(area);
        if laoxiao_store::accounts::get_user(&mut c, name).is_err() {
            laoxiao_store::accounts::create_user(
                &mut c,
                &store.reference,
                &laoxiao_store::Scope::system("demo"),
                name,
                role,
                &area,
                fac.as_deref()
                    .or(Some("-"))
                    .filter(|_| role == Role::FacilityOperator),
                &password,
            )?;
        }
        let area_name = areas.get(&area).map(|a| a.name.clone()).unwrap_or_default();
        out.push(laoxiao_web::DemoAccount {
            username: name.to_string(),
            password,
            role: role.code().to_string(),
            area: format!("{area_name} {area}"),
        });
    }
    // The family workflow (子女网上下单): the operator's facility as the
    // provider, the demo family linked to one elderly person of the town.
    if let Some(f) = provider {
        let staff = laoxiao_store::Scope::user(
            laoxiao_store::Actor {
                user: "town".into(),
                ip: None,
            },
            Role::TownStaff,
            &town_path,
            None,
        );
        if let Err(e) = laoxiao_store::family::seed_demo(
            &mut c,
            &store.reference,
            "family",
            &staff,
            &f,
            today(),
        ) {
            eprintln!("the demo's family orders were not created: {e}");
        }
    }
    // Childcare applications (入托申请): the demo family is also a parent, of
    // a child of the county, applying to the childcare operator's institution.
    if let Some(n) = nursery_id.clone() {
        let staff = laoxiao_store::Scope::user(
            laoxiao_store::Actor {
                user: "town".into(),
                ip: None,
            },
            Role::TownStaff,
            &town_path,
            None,
        );
        match laoxiao_store::childcare_applications::seed_demo(
            &mut c,
            &store.reference,
            "family",
            &staff,
            &n,
            today(),
        ) {
            Ok(k) if k > 0 => {
                println!("demo childcare applications: {k} (see /console/childcare/applications)")
            }
            Ok(_) => {}
            Err(e) => eprintln!("the demo's childcare applications were not created: {e}"),
        }
    }
    // The childcare day (一日生活): every enrolled child's guardian may collect
    // it; the childcare operator's institution has had its morning.
    match laoxiao_store::childcare_day::seed_pickups(&mut c, today()) {
        Ok(_) => {
            if let Some(n) = nursery_id.as_deref()
                && let Err(e) = laoxiao_store::childcare_day::seed_demo_day(
                    &mut c,
                    n,
                    chrono::Local::now().naive_local(),
                )
            {
                eprintln!("the demo's childcare day was not recorded: {e}");
            }
        }
        Err(e) => eprintln!("the demo's authorised pickups were not created: {e}"),
    }
    // Bills (托育费账单): every institution has a price list; the childcare
    // operator's institution has billed last month and this month so far.
    match laoxiao_store::childcare_bills::seed_demo_prices(&mut c) {
        Ok(_) => {
            if let Some(n) = nursery_id.as_deref() {
                let now = chrono::Local::now().naive_local();
                let this = laoxiao_rules::subsidies::Month::of(now.date());
                for m in [this.add(-1), this] {
                    if let Err(e) = laoxiao_store::childcare_bills::generate(
                        &mut c,
                        &laoxiao_store::Scope::system("demo"),
                        m,
                        Some(n),
                        now,
                    ) {
                        eprintln!("the demo's childcare bills for {m} were not made: {e}");
                    }
                }
            }
        }
        Err(e) => eprintln!("the demo's childcare prices were not set: {e}"),
    }
    // 家园沟通: a family's message to the class and the class's answer.
    if let Some(n) = nursery_id.as_deref()
        && let Err(e) = laoxiao_store::childcare_messages::seed_demo(&mut c, n, chrono::Utc::now())
    {
        eprintln!("the demo's family messages were not written: {e}");
    }
    // Complaints (投诉): the childcare operator's institution has five, from
    // new to closed, one of them late (escalated to the county).
    if let Some(n) = nursery_id.as_deref() {
        match laoxiao_store::complaints::seed_demo(&mut c, &store.reference, n, chrono::Utc::now())
        {
            Ok(k) if k > 0 => println!("demo complaints: {k} (see /console/complaints)"),
            Ok(_) => {}
            Err(e) => eprintln!("the demo's complaints were not created: {e}"),
        }
    }
    // Random inspections (双随机): a plan of the county with a published
    // draw, one result with a rectification order, one passed.
    match laoxiao_store::inspections::seed_demo(
        &mut c,
        &store.reference,
        county,
        chrono::Utc::now(),
    ) {
        Ok(Some(_)) => println!("demo inspection plan seeded (see /console/inspections)"),
        Ok(None) => {}
        Err(e) => eprintln!("the demo's inspections were not created: {e}"),
    }
    // Key projects (重点项目): a few reported and completed (small).
    match laoxiao_store::key_projects::seed_demo(
        &mut c,
        &store.reference,
        chrono::Utc::now().date_naive(),
    ) {
        Ok(k) if k > 0 => {
            println!("demo key-project progress: {k} projects (see /portal/projects)")
        }
        Ok(_) => {}
        Err(e) => eprintln!("the demo's key-project progress was not recorded: {e}"),
    }
    Ok(out)
}

/// What the demo loads after it starts serving (on a thread of its own,
/// [`load_later`]): the two registers of a million rows each, so that the
/// demo serves within its minute on a shared machine.
struct Later {
    services: Vec<laoxiao_model::activity::ServiceRecord>,
    insurance: Vec<laoxiao_model::activity::InsuranceEnrolment>,
    /// The date the records describe.
    as_of: chrono::NaiveDate,
}

/// The line the demo prints when everything is loaded (the browser tests and
/// benchmarks wait for it).
pub const LOADED_LINE: &str = "demo background load finished";

/// Loads the demo city but its service records and insurance enrolments,
/// which it returns to load once serving.
fn load_demo(store: &Store, seed: u64, scale: f64, as_of: chrono::NaiveDate) -> Result<Later> {
    let started = Instant::now();
    let spinner = ProgressBar::new_spinner();
    spinner.set_message(format!("generating the synthetic city (scale {scale})"));
    spinner.enable_steady_tick(std::time::Duration::from_millis(120));
    let city = crate::synth::generate_as_of(seed, scale, as_of)?;
    spinner.finish_and_clear();
    let generated = started.elapsed();
    let total =
        (city.facilities.len() + city.classes.len() + city.elderly.len() + city.infants.len())
            as u64;
    let pb = bar(total, "loading");
    let progress = |done: u64, _total: u64| pb.set_position(done);
    let mut people = city.elderly;
    people.extend(city.infants);
    // The records are checked on the date they describe: an infant under
    // three then stays on the register after turning three (超龄).
    let report = laoxiao_store::io::load_records_on(
        store,
        &city.facilities,
        &city.classes,
        &people,
        Some(&progress),
        city.as_of,
    )?;
    pb.finish_and_clear();
    let _ = report;
    let activity = laoxiao_store::io::ActivityBatch {
        staff: &city.staff,
        // The service records and the insurance register (a million rows
        // each at scale 1) load after the server starts (`Later`).
        services: &[],
        enrolments: &city.enrolments,
        residences: &city.residences,
        student_cohorts: &city.student_cohorts,
        insurance: &[],
    };
    let people_loaded = started.elapsed();
    let pb = bar(activity.len() as u64, "activity");
    let progress = |done: u64, _total: u64| pb.set_position(done);
    laoxiao_store::io::load_activity_on(store, &activity, Some(&progress), city.as_of)?;
    pb.finish_and_clear();
    let tables: Vec<&str> = laoxiao_model::columns::RecordKind::ALL
        .iter()
        .map(|k| k.register().table)
        .chain(["person_tally"])
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    store.analyze(&tables)?;
    // The synthetic city's residents (indicator 38's denominator): the
    // calibration's county figures at this scale, dated 2020 (the census).
    let targets = crate::synth::calib::targets(scale);
    let source =
        format!("synthetic city (scale {scale}): census 2020 apportioned, docs/synthetic-city.md");
    let mut residents: Vec<(String, i32, i64, String)> = crate::synth::calib::COUNTIES
        .iter()
        .zip(&targets.counties)
        .map(|(code, c)| (code.to_string(), 2020, c.residents, source.clone()))
        .collect();
    residents.push(("330400".into(), 2020, targets.residents(), source));
    laoxiao_store::indicators::replace_residents(&mut store.conn()?, &residents)?;
    println!(
        "demo city loaded: {} facilities, {} classes, {} people, {} staff, \
         {} enrolments, {} residences, {} student cohorts (generated in {:.1} s, loaded in \
         {:.1} s: registers {:.1} s, activity {:.1} s); {} service records and {} insurance \
         enrolments load once it serves",
        city.facilities.len(),
        city.classes.len(),
        people.len(),
        city.staff.len(),
        city.enrolments.len(),
        city.residences.len(),
        city.student_cohorts.len(),
        generated.as_secs_f64(),
        (started.elapsed() - generated).as_secs_f64(),
        (people_loaded - generated).as_secs_f64(),
        (started.elapsed() - people_loaded).as_secs_f64(),
        city.services.len(),
        city.insurance.len(),
    );
    Ok(Later {
        services: city.services,
        insurance: city.insurance,
        as_of: city.as_of,
    })
}

/// The month's visiting rounds (探访关爱) with a few visits recorded by the
/// demo's village account, and home-care bed contracts with service visits
/// (laoxiao_store::visits::demo).
fn demo_visits(store: &Store, day: chrono::NaiveDate) -> Result<()> {
    use laoxiao_store::accounts::get_user;
    let t = std::time::Instant::now();
    let rules = laoxiao_rules::visits::VisitRules::embedded()?.for_month(day)?;
    let mut c = store.conn()?;
    let village = get_user(&mut c, "village")?;
    let path = store
        .reference
        .areas
        .get(&village.area_code)
        .map(|a| a.path.clone())
        .context("the village account's area")?;
    let visitor = laoxiao_store::Scope::user(
        laoxiao_store::Actor {
            user: village.username,
            ip: None,
        },
        village.role,
        &path,
        None,
    );
    let operator = get_user(&mut c, "operator")?.facility_id;
    let s = laoxiao_store::visits::demo(
        &mut c,
        &rules,
        day,
        Some(&visitor),
        operator.as_deref(),
        120,
    )?;
    println!(
        "demo visiting rounds {}: {} tasks ({} already visited), {} recorded by `village`; \
         {} home-care beds with {} service visits ({:.1} s)",
        s.rounds.month,
        s.rounds.total,
        s.rounds.matched,
        s.recorded,
        s.contracts,
        s.service_visits,
        t.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Drafts for the month before the demo's date and for its year, so the
/// subsidy pages have runs to review (prepared by the system: any city
/// administrator may approve them).
fn demo_subsidy_runs(store: &Store, day: chrono::NaiveDate) -> Result<()> {
    use laoxiao_rules::subsidies::{Month, Period};
    let month = Month::of(day).add(-1);
    let mut c = store.conn()?;
    let scope = laoxiao_store::Scope::system("demo");
    let mut said = Vec::new();
    for period in [Period::Month(month), Period::Year(month.year)] {
        // Outside the rules' years (2020–2035) the demo simply has no runs.
        if !(2022..=2035).contains(&period_year(period)) {
            continue;
        }
        let (r, _) = laoxiao_store::subsidies::prepare(&mut c, &scope, period)?;
        said.push(format!(
            "{} ({} lines, {} yuan)",
            r.period,
            r.line_count,
            laoxiao_rules::subsidies::yuan(r.total_fen)
        ));
    }
    if !said.is_empty() {
        println!(
            "demo subsidy drafts prepared: {} (review them at /console/subsidies)",
            said.join(", ")
        );
    }
    Ok(())
}

/// Synthetic care-home applications (a few hundred at scale 1), with offers
/// and some admissions (`laoxiao_store::admission::seed_demo`).
fn demo_admissions(store: &Store, scale: f64, day: chrono::NaiveDate) -> Result<()> {
    // A sample: 300 applicants at scale 1, at least 20.
    let n = ((300.0 * scale).round() as usize).clamp(20, 3_000);
    let mut c = store.conn()?;
    let made = laoxiao_store::admission::seed_demo(&mut c, n, day)?;
    println!("demo care-home applications: {made} (see /console/admission)");
    Ok(())
}

fn period_year(p: laoxiao_rules::subsidies::Period) -> i32 {
    match p {
        laoxiao_rules::subsidies::Period::Month(m) => m.year,
        laoxiao_rules::subsidies::Period::Year(y) => y,
    }
}

/// Loads the service records, then makes the month's visiting rounds (which
/// close the tasks of people visited already), then loads the insurance
/// register, on a thread of its own while the server runs; each load is one
/// transaction in WAL mode, so pages go on reading meanwhile and the figures
/// count each register once it commits. Prints [`LOADED_LINE`] at the end.
fn load_later(store: &Store, later: Later, day: chrono::NaiveDate) {
    let store = store.clone();
    let _ = std::thread::Builder::new()
        .name("demo-later".into())
        .spawn(move || {
            let load = |what: &str, table: &str, batch: laoxiao_store::io::ActivityBatch<'_>| {
                let started = Instant::now();
                let n = batch.len();
                match laoxiao_store::io::load_activity_while_serving(&store, &batch, later.as_of) {
                    Ok(_) => {
                        let _ = store.analyze(&[table]);
                        println!(
                            "demo {what} loaded: {n} in {:.1} s",
                            started.elapsed().as_secs_f64()
                        );
                    }
                    Err(e) => eprintln!("the demo's {what} were not loaded: {e}"),
                }
            };
            let empty = laoxiao_store::io::ActivityBatch {
                staff: &[],
                services: &[],
                enrolments: &[],
                residences: &[],
                student_cohorts: &[],
                insurance: &[],
            };
            load(
                "service records",
                "service_record",
                laoxiao_store::io::ActivityBatch {
                    services: &later.services,
                    ..empty
                },
            );
            if let Err(e) = demo_visits(&store, day) {
                eprintln!("the demo's visiting rounds were not prepared: {e}");
            }
            load(
                "insurance enrolments",
                "insurance_enrolment",
                laoxiao_store::io::ActivityBatch {
                    insurance: &later.insurance,
                    ..empty
                },
            );
            if let Err(e) = demo_publication(&store, day) {
                eprintln!("the demo's indicators were not published: {e}");
            }
            println!("{LOADED_LINE}");
        });
}

/// Publishes the last full year's indicators (发布), so the public portal's
/// statistics and open datasets have a publication to show.
fn demo_publication(store: &Store, day: chrono::NaiveDate) -> Result<()> {
    use chrono::Datelike;
    let year = day.year() - 1;
    if !(laoxiao_rules::indicators::FIRST_YEAR..=laoxiao_rules::indicators::LAST_YEAR)
        .contains(&year)
    {
        return Ok(());
    }
    let started = Instant::now();
    let period = laoxiao_rules::indicators::Period { year, month: None };
    let mut c = store.conn()?;
    let scope = laoxiao_store::Scope::system("demo");
    let p = laoxiao_store::indicators::publish(
        &mut c,
        &scope,
        &store.reference,
        period,
        day,
        Some("演示数据（合成）"),
    )?;
    println!(
        "demo indicators published: {} in {:.1} s (public at /portal/statistics)",
        p.period,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Devices, a demo platform and alarms (docs/alarms.md); prints the platform's
/// secret so a reader can post an event with curl.
fn demo_alarms(store: &Store) {
    let made = laoxiao_rules::alarms::AlarmRules::embedded()
        .map_err(anyhow::Error::from)
        .and_then(|rules| {
            let mut c = store.conn()?;
            Ok(laoxiao_store::alarms::demo(
                &mut c,
                &store.reference,
                rules,
            )?)
        });
    match made {
        Ok(Some(d)) => println!(
            "demo alarms: {} devices, {} alarms; platform {} with secret {} (docs/alarms.md shows how to post an event)",
            d.devices, d.alarms, d.platform, d.secret
        ),
        Ok(None) => {}
        Err(e) => eprintln!("the demo's alarms were not made: {e}"),
    }
}
