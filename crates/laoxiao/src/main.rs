//! `laoxiao`: the command line. Parses flags, loads configuration and calls the crates.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use laoxiao::config::{Config, FlagOverrides};
use laoxiao_model::columns::{HeaderLang, RecordKind};
use laoxiao_model::geo::CoordSystem;
use laoxiao_store::io::{ExportFormat, ImportOptions};
use laoxiao_store::{DbTarget, OpenOptions, Store, StoreError};

#[derive(Parser)]
#[command(
    name = "laoxiao",
    version,
    about = "嘉兴“一老一小”整体解决方案平台 — Jiaxing elderly-care and childcare platform"
)]
struct Cli {
    /// Configuration file (TOML); default ./laoxiao.toml if present.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Database: a SQLite file path or a postgres:// URL (env LAOXIAO_DATABASE_URL or DATABASE_URL).
    #[arg(long, global = true)]
    database: Option<String>,
    /// Log filter, e.g. info or debug (env LAOXIAO_LOG).
    #[arg(long, global = true)]
    log: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the JSON API and console.
    Serve {
        /// Listen address, e.g. 127.0.0.1:8080 (env LAOXIAO_ADDR).
        #[arg(long)]
        addr: Option<String>,
    },
    /// Apply pending database migrations (also done at every start).
    Migrate,
    /// Import a CSV or XLSX file: every row or none.
    Import {
        kind: Kind,
        file: PathBuf,
        /// Coordinate system of rows that do not say (Amap gives gcj02, Baidu bd09).
        #[arg(long, value_enum, default_value = "wgs84")]
        coords: Coords,
        /// Validate and report without writing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Export a register as CSV or XLSX (ID numbers masked unless --full-id-numbers).
    Export {
        kind: Kind,
        #[arg(long, value_enum, default_value = "csv")]
        format: Format,
        #[arg(long)]
        out: PathBuf,
        /// Header language.
        #[arg(long, value_enum, default_value = "zh")]
        lang: Lang,
        /// Write full citizen ID numbers (sensitive personal data).
        #[arg(long)]
        full_id_numbers: bool,
    },
    /// Write a blank import template with Chinese headers and dropdowns.
    Template {
        kind: Kind,
        #[arg(long, value_enum, default_value = "xlsx")]
        format: Format,
        /// Output file (default: <kind>-template.xlsx).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Write the synthetic city as CSV files in the import formats.
    Synth {
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Date the registers describe (default: today), so infants are under three then.
        #[arg(long)]
        as_of: Option<chrono::NaiveDate>,
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
        #[arg(long)]
        out: PathBuf,
    },
    /// Create (or reuse) a demo database with Jiaxing's areas and a synthetic city, then serve.
    Demo {
        /// Share of the full city's people to generate (1 = about 1.15 million).
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Date the synthetic registers describe (default: today).
        #[arg(long)]
        as_of: Option<chrono::NaiveDate>,
        /// Listen address.
        #[arg(long)]
        addr: Option<String>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Kind {
    Facilities,
    Classes,
    Elderly,
    Infants,
    /// 从业人员
    Staff,
    /// 服务记录
    Services,
    /// 入托
    Enrolments,
    /// 入住
    Residences,
    /// 养老服务相关专业学生
    #[value(alias = "student_cohorts")]
    StudentCohorts,
}

impl From<Kind> for RecordKind {
    fn from(k: Kind) -> Self {
        match k {
            Kind::Facilities => RecordKind::Facilities,
            Kind::Classes => RecordKind::Classes,
            Kind::Elderly => RecordKind::Elderly,
            Kind::Infants => RecordKind::Infants,
            Kind::Staff => RecordKind::Staff,
            Kind::Services => RecordKind::Services,
            Kind::Enrolments => RecordKind::Enrolments,
            Kind::Residences => RecordKind::Residences,
            Kind::StudentCohorts => RecordKind::StudentCohorts,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum Coords {
    Wgs84,
    Gcj02,
    Bd09,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Csv,
    Xlsx,
}

#[derive(Clone, Copy, ValueEnum)]
enum Lang {
    Zh,
    En,
}

fn main() {
    let cli = Cli::parse();
    if let Err(e) = run(cli) {
        // An import's row errors are the answer the user needs, not a trace.
        if let Some(StoreError::ImportRejected(rows)) = e.downcast_ref::<StoreError>() {
            for r in rows {
                eprintln!("{r}");
            }
            eprintln!(
                "import rejected: {} error(s); nothing was written",
                rows.len()
            );
        } else {
            eprintln!("error: {e:#}");
        }
        std::process::exit(1);
    }
}

fn init_logging(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

fn bar(len: u64, msg: &str) -> ProgressBar {
    let pb = ProgressBar::new(len);
    if let Ok(style) =
        ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos}/{len} ({per_sec}, {eta})")
    {
        pb.set_style(style.progress_chars("=> "));
    }
    pb.set_message(msg.to_string());
    pb
}

fn open(config: &Config) -> Result<Store> {
    let target = DbTarget::parse(&config.database_url)?;
    Store::open(&OpenOptions {
        target,
        pool_size: config.pool_size,
        migrate: true,
    })
    .with_context(|| format!("opening database {}", config.database_display()))
}

fn run(cli: Cli) -> Result<()> {
    let env: HashMap<String, String> = std::env::vars().collect();
    let addr = match &cli.command {
        Command::Serve { addr } | Command::Demo { addr, .. } => addr.clone(),
        _ => None,
    };
    let mut flags = FlagOverrides {
        database_url: cli.database.clone(),
        addr,
        log: cli.log.clone(),
        ..Default::default()
    };
    if matches!(cli.command, Command::Demo { .. })
        && flags.database_url.is_none()
        && !env.contains_key("LAOXIAO_DATABASE_URL")
    {
        // The demo keeps its own file so it never mixes with real registers.
        flags.database_url = Some("laoxiao-demo.db".into());
    }
    let config = Config::load(cli.config.as_deref(), &env, &flags)?;
    init_logging(&config.log);

    match cli.command {
        Command::Serve { .. } => {
            let store = open(&config)?;
            serve(store, &config)
        }
        Command::Migrate => {
            let store = open(&config)?;
            // open() already migrated; report the resulting version.
            let mut c = store.conn()?;
            let v = c.query_i64(
                "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                &[],
            )?;
            println!(
                "database {} is at schema version {v}",
                config.database_display()
            );
            Ok(())
        }
        Command::Import {
            kind,
            file,
            coords,
            dry_run,
        } => {
            let store = open(&config)?;
            let pb = bar(0, "importing");
            let progress = |done: u64, total: u64| {
                pb.set_length(total);
                pb.set_position(done);
            };
            let opts = ImportOptions {
                coords: match coords {
                    Coords::Wgs84 => CoordSystem::Wgs84,
                    Coords::Gcj02 => CoordSystem::Gcj02,
                    Coords::Bd09 => CoordSystem::Bd09,
                },
                dry_run,
                progress: Some(&progress),
            };
            let started = Instant::now();
            let report = laoxiao_store::io::import_file(&store, kind.into(), &file, &opts);
            pb.finish_and_clear();
            let report = report?;
            println!(
                "{}{}: {} rows — {} inserted, {} updated, {} unchanged ({:.1} s)",
                if dry_run {
                    "dry run, nothing written — "
                } else {
                    ""
                },
                file.display(),
                report.rows,
                report.inserted,
                report.updated,
                report.unchanged,
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Export {
            kind,
            format,
            out,
            lang,
            full_id_numbers,
        } => {
            let store = open(&config)?;
            let n = laoxiao_store::io::export(
                &store,
                kind.into(),
                match format {
                    Format::Csv => ExportFormat::Csv,
                    Format::Xlsx => ExportFormat::Xlsx,
                },
                match lang {
                    Lang::Zh => HeaderLang::Chinese,
                    Lang::En => HeaderLang::English,
                },
                full_id_numbers,
                &out,
            )?;
            println!("wrote {n} rows to {}", out.display());
            Ok(())
        }
        Command::Template { kind, format, out } => {
            if matches!(format, Format::Csv) {
                bail!("templates are XLSX (they carry dropdowns); use --format xlsx");
            }
            let kind: RecordKind = kind.into();
            let out =
                out.unwrap_or_else(|| PathBuf::from(format!("{}-template.xlsx", kind.code())));
            laoxiao_store::io::write_template(kind, &out)?;
            println!("wrote {}", out.display());
            Ok(())
        }
        Command::Synth {
            seed,
            scale,
            as_of,
            out,
        } => {
            let as_of = as_of.unwrap_or_else(today);
            check_scale(scale)?;
            let started = Instant::now();
            let city = laoxiao::synth::generate_as_of(seed, scale, as_of)?;
            let files = laoxiao::synth::write_csv(&city, &out)?;
            for f in files {
                println!("wrote {}", f.display());
            }
            println!(
                "synthetic city (seed {seed}, scale {scale}, as of {as_of}) in {:.1} s",
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Demo {
            scale, seed, as_of, ..
        } => {
            check_scale(scale)?;
            let store = open(&config)?;
            let mut c = store.conn()?;
            let people = c.query_i64("SELECT COUNT(*) FROM person", &[])?;
            let facilities = c.query_i64("SELECT COUNT(*) FROM facility", &[])?;
            drop(c);
            if people + facilities > 0 {
                println!(
                    "reusing {} ({facilities} facilities, {people} people); delete it to regenerate",
                    config.database_display()
                );
            } else {
                load_demo(&store, seed, scale, as_of.unwrap_or_else(today))?;
            }
            println!("the people are synthetic; areas, boundaries and plan figures are real");
            serve(store, &config)
        }
    }
}

fn check_scale(scale: f64) -> Result<()> {
    if !(scale.is_finite() && scale > 0.0 && scale <= 2.0) {
        bail!("--scale must be a number above 0 and at most 2 (got {scale})");
    }
    Ok(())
}

/// Today's date on this machine: imports check ages against it.
fn today() -> chrono::NaiveDate {
    chrono::Local::now().date_naive()
}

fn load_demo(store: &Store, seed: u64, scale: f64, as_of: chrono::NaiveDate) -> Result<()> {
    let started = Instant::now();
    let spinner = ProgressBar::new_spinner();
    spinner.set_message(format!("generating the synthetic city (scale {scale})"));
    spinner.enable_steady_tick(std::time::Duration::from_millis(120));
    let city = laoxiao::synth::generate_as_of(seed, scale, as_of)?;
    spinner.finish_and_clear();
    let generated = started.elapsed();
    let total =
        (city.facilities.len() + city.classes.len() + city.elderly.len() + city.infants.len())
            as u64;
    let pb = bar(total, "loading");
    let progress = |done: u64, _total: u64| pb.set_position(done);
    let mut people = city.elderly;
    people.extend(city.infants);
    let report = laoxiao_store::io::load_records(
        store,
        &city.facilities,
        &city.classes,
        &people,
        Some(&progress),
    )?;
    pb.finish_and_clear();
    let _ = report;
    let activity = laoxiao_store::io::ActivityBatch {
        staff: &city.staff,
        services: &city.services,
        enrolments: &city.enrolments,
        residences: &city.residences,
        student_cohorts: &city.student_cohorts,
    };
    let people_loaded = started.elapsed();
    let pb = bar(activity.len() as u64, "activity");
    let progress = |done: u64, _total: u64| pb.set_position(done);
    laoxiao_store::io::load_activity(store, &activity, Some(&progress))?;
    pb.finish_and_clear();
    println!(
        "demo city loaded: {} facilities, {} classes, {} people, {} staff, {} service records, \
         {} enrolments, {} residences, {} student cohorts (generated in {:.1} s, loaded in {:.1} s: \
         registers {:.1} s, activity {:.1} s)",
        city.facilities.len(),
        city.classes.len(),
        people.len(),
        city.staff.len(),
        city.services.len(),
        city.enrolments.len(),
        city.residences.len(),
        city.student_cohorts.len(),
        generated.as_secs_f64(),
        (started.elapsed() - generated).as_secs_f64(),
        (people_loaded - generated).as_secs_f64(),
        (started.elapsed() - people_loaded).as_secs_f64()
    );
    Ok(())
}

fn serve(store: Store, config: &Config) -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    // The synchronous PostgreSQL client panics if its last handle is dropped on an
    // async worker: keep one handle here and drop it after the runtime is gone.
    let keep = store.clone();
    let state = laoxiao_web::AppState::new(
        store,
        laoxiao_web::WebConfig {
            max_body_bytes: config.max_body_bytes,
        },
    );
    let addr = config.addr;
    let served = rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        let local = listener.local_addr()?;
        println!("laoxiao is serving on http://{local}/  (API: http://{local}/api/openapi.json)");
        axum::serve(listener, laoxiao_web::router(state))
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .context("server stopped")
    });
    drop(rt);
    drop(keep);
    served
}
