//! `laoxiao`: the command line. Parses flags, loads configuration and calls the
//! commands in the library (`laoxiao::cli`).

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand, ValueEnum};
use laoxiao::cli;
use laoxiao::config::{Config, FlagOverrides};
use laoxiao_model::columns::{HeaderLang, RecordKind};
use laoxiao_spatial::CoordSystem;
use laoxiao_store::io::ExportFormat;

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
    #[command(flatten)]
    import_limits: laoxiao::config::ImportLimitFlags,
    /// Where uploaded documents are kept (env LAOXIAO_UPLOADS_DIR; default:
    /// beside the SQLite database, `laoxiao.db` → `laoxiao-uploads/`).
    #[arg(long, global = true)]
    uploads_dir: Option<std::path::PathBuf>,
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
        /// The date the file describes (its registration date; default today):
        /// the rules check ages and dates on it, so an infant must be under
        /// three then and may have turned three since (超龄).
        #[arg(long)]
        as_of: Option<chrono::NaiveDate>,
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
    /// Copy the SQLite database to a new file, consistent while the server runs
    /// (PostgreSQL: use pg_dump, docs/operations.md).
    Backup {
        /// The new file (never replaced if it exists).
        #[arg(long)]
        out: PathBuf,
    },
    /// Restore a backup as the configured SQLite database, after checking it.
    Restore {
        file: PathBuf,
        /// Replace an existing database (refused while anyone has it open).
        #[arg(long)]
        force: bool,
    },
    /// Accounts and API tokens.
    User {
        #[command(subcommand)]
        command: UserCmd,
    },
    /// The audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCmd,
    },
    /// Keys for ID numbers at rest.
    Keys {
        #[command(subcommand)]
        command: KeysCmd,
    },
    /// The plan's 44 indicators (指标监测): compute, export, publish, report values.
    Indicators {
        #[command(subcommand)]
        command: IndicatorsCmd,
    },
    /// Ability assessments (老年人能力评估, GB/T 42195-2022): paper imports, due counts.
    Assess {
        #[command(subcommand)]
        command: AssessCmd,
    },
    /// Alarms (告警): device platforms that post signed alarms.
    Alarms {
        #[command(subcommand)]
        command: AlarmsCmd,
    },
    /// Subsidies (补助发放): runs, review, payout lists, explanations, what-ifs.
    Subsidies {
        #[command(subcommand)]
        command: SubsidiesCmd,
    },
    /// Visiting rounds (探访关爱): generate a month's rounds, time them.
    Visits {
        #[command(subcommand)]
        command: VisitsCmd,
    },
    /// Childcare (托育): the month's bills for every institution, timed.
    Childcare {
        #[command(subcommand)]
        command: ChildcareCmd,
    },
    /// Spatial planning (设施布局规划): coverage, accessibility, siting, slots.
    Plan {
        #[command(subcommand)]
        command: PlanCmd,
    },
    /// Supervision (双随机、一公开): re-run a published inspection draw.
    Supervise {
        #[command(subcommand)]
        command: SuperviseCmd,
    },
}

#[derive(Subcommand)]
enum SuperviseCmd {
    /// Re-run a published draw document (JSON) from its seed and rosters,
    /// with no database, and say whether it matches; exits 1 when not.
    VerifyDraw {
        /// The draw document (GET /api/inspections/draws/{id}).
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum PlanCmd {
    /// Who is out of reach under a distance rule: by area, the uncovered
    /// clusters, the cells and the people.
    Coverage {
        #[command(flatten)]
        common: cli::plan::Common,
        /// The rule: institution (500 m / 1,000 m) or home_care_walk (15 minutes).
        #[arg(long, default_value = "institution")]
        rule: String,
        /// The area (default: the city).
        #[arg(long)]
        area: Option<String>,
        /// Clusters listed.
        #[arg(long, default_value_t = 10)]
        clusters: usize,
        /// The table by area (.csv or .xlsx).
        #[arg(long)]
        out: Option<PathBuf>,
        /// The area's cells (.csv, .xlsx or .geojson).
        #[arg(long)]
        cells: Option<PathBuf>,
        /// Only the cells where someone is not covered.
        #[arg(long)]
        uncovered: bool,
        /// Every person of the rule's population in the area (.csv; audited).
        #[arg(long)]
        people: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Accessibility by 2SFCA / E2SFCA: beds for the elderly, slots for infants.
    Access {
        #[command(flatten)]
        common: cli::plan::Common,
        /// beds or slots.
        #[arg(long, default_value = "beds")]
        side: String,
        /// Catchment radius in metres (default: the rules').
        #[arg(long)]
        radius: Option<f64>,
        /// uniform, gaussian:SIGMA or step:D1=W1,D2=W2,...
        #[arg(long)]
        decay: Option<String>,
        /// Whose demand: elderly, infants or residents.
        #[arg(long)]
        demand: Option<String>,
        #[arg(long)]
        area: Option<String>,
        /// The table by area (.csv, .xlsx) or the cells with values (.geojson).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Write the inputs and answers for bench/access_pysal.py to this directory.
        #[arg(long)]
        inputs: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Where the next facilities should go in a county.
    Site {
        #[command(flatten)]
        common: cli::plan::Common,
        #[arg(long)]
        county: String,
        #[arg(long, default_value = "institution")]
        rule: String,
        /// Choose this many sites (default 10).
        #[arg(long)]
        k: Option<usize>,
        /// Or add sites until this share of those in scope is covered (0.95).
        #[arg(long)]
        target: Option<f64>,
        /// Or add childcare sites sized to the need until 4.6 slots per 1,000.
        #[arg(long)]
        slots: bool,
        /// centres, grid, or a CSV file of lng,lat[,name].
        #[arg(long, default_value = "centres")]
        candidates: String,
        /// Grid spacing in metres (grid candidates).
        #[arg(long)]
        spacing: Option<f64>,
        /// Accepted optimality gap (0 = prove optimal).
        #[arg(long, default_value_t = 0.0)]
        max_gap: f64,
        /// Time allowed to the solver.
        #[arg(long, default_value_t = 5.0)]
        seconds: f64,
        /// The sites (.csv, .xlsx or .geojson).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Save the sites as planned facilities.
        #[arg(long)]
        save: bool,
        /// Save as this account (its scope applies).
        #[arg(long = "as")]
        who: Option<String>,
        #[arg(long)]
        json: bool,
        /// Write the covering problem to this directory (for bench/siting_spopt.py).
        #[arg(long)]
        instance: Option<PathBuf>,
    },
    /// Childcare slots per 1,000 residents by area against the norms.
    Slots {
        #[command(flatten)]
        common: cli::plan::Common,
        #[arg(long)]
        area: Option<String>,
        /// The table (.csv or .xlsx).
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// The imported resident grid: show it, load a CSV (lng,lat,residents), or --clear.
    Residents {
        file: Option<PathBuf>,
        #[arg(long)]
        clear: bool,
    },
    /// Measure coverage, accessibility and siting (docs/benchmarks.md).
    Bench {
        #[command(flatten)]
        common: cli::plan::Common,
        #[arg(long, default_value_t = 5)]
        repeat: usize,
        /// The county for the siting measurement (default: the one with most uncovered).
        #[arg(long)]
        county: Option<String>,
    },
}

#[derive(Subcommand)]
enum AssessCmd {
    /// Enter paper assessments from a CSV or XLSX file (one finished
    /// assessment a row), all or nothing.
    Import {
        file: PathBuf,
        /// Check every row and write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Import as this account (its area limits the people); default: the system.
        #[arg(long = "as")]
        who: Option<String>,
    },
    /// Count people overdue, due within 30 days and never assessed.
    Due {
        #[arg(long = "as")]
        who: Option<String>,
    },
}

#[derive(Subcommand)]
enum ChildcareCmd {
    /// Bill a month for every child of every childcare institution
    /// (idempotent: bills not yet paid are recomputed, paid ones kept).
    Bills {
        /// YYYY-MM (default: last month).
        #[arg(long)]
        month: Option<String>,
    },
    /// Time billing a month for the whole city on a month of synthetic
    /// attendance (everything rolled back); the median goes to
    /// docs/benchmarks.md.
    BenchBills {
        /// YYYY-MM (default: last month).
        #[arg(long)]
        month: Option<String>,
        #[arg(long, default_value_t = 5)]
        repeat: usize,
    },
}

#[derive(Subcommand)]
enum VisitsCmd {
    /// Generate a month's visit tasks for everyone due in the city
    /// (idempotent; visits already on the register close their tasks).
    Rounds {
        /// YYYY-MM (default: this month).
        #[arg(long)]
        month: Option<String>,
    },
    /// Time the generation of a month's rounds for the whole city (each run
    /// rolled back); the median goes to docs/benchmarks.md.
    Bench {
        /// YYYY-MM (default: next month, which has no rounds yet).
        #[arg(long)]
        month: Option<String>,
        #[arg(long, default_value_t = 5)]
        repeat: usize,
    },
}

#[derive(Subcommand)]
enum AlarmsCmd {
    /// Add a device platform (设备平台); prints its HMAC secret once.
    AddPlatform {
        /// The platform's id (letters, digits, - _ . :), sent as X-Laoxiao-Platform.
        id: String,
        /// Its name (default: the id).
        #[arg(long)]
        name: Option<String>,
    },
    /// List device platforms and their refused requests per reason.
    Platforms,
}

#[derive(Subcommand)]
enum SubsidiesCmd {
    /// Compute a month's (--month) or a year's (--year) entitlements into a
    /// draft run; a period's draft is replaced.
    Run {
        #[arg(long)]
        month: Option<String>,
        #[arg(long)]
        year: Option<String>,
        /// Prepare as this account (a city administrator); default: the system.
        #[arg(long = "as")]
        who: Option<String>,
    },
    /// List the runs.
    List,
    /// A run's header, totals and lines.
    Show {
        id: i64,
        #[arg(long)]
        county: Option<String>,
        #[arg(long)]
        rule: Option<String>,
        #[arg(long)]
        payee: Option<String>,
        #[arg(long)]
        kind: Option<String>,
        #[arg(long)]
        after: Option<i64>,
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// Approve a draft, as a second account (not the one who prepared it).
    Approve {
        id: i64,
        #[arg(long = "as")]
        who: String,
        #[arg(long)]
        note: Option<String>,
    },
    /// Reject a draft, as a second account.
    Reject {
        id: i64,
        #[arg(long = "as")]
        who: String,
        #[arg(long)]
        note: Option<String>,
    },
    /// Mark an approved run paid (its awards enter the ledger).
    Paid {
        id: i64,
        #[arg(long = "as")]
        who: String,
    },
    /// Write a run's payout list (--out FILE.csv|.xlsx).
    Export {
        id: i64,
        #[arg(long)]
        out: PathBuf,
    },
    /// Explain a payee's amounts for a month or a year.
    Explain {
        #[arg(long)]
        payee: String,
        #[arg(long)]
        month: Option<String>,
        #[arg(long)]
        year: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Cost a reform (a parameter file) month by month for a year.
    Whatif {
        #[arg(long)]
        year: i32,
        #[arg(long)]
        reform: PathBuf,
        /// Every cell (month, rule, county) as CSV or XLSX.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Load county incomes (CSV: county_code,year,yuan,source).
    Income { file: PathBuf },
    /// Record awards paid before the platform (CSV: award_key,amount_yuan,paid_date,source).
    AwardsPaid { file: PathBuf },
    /// Run the rules' YAML test cases (the shipped ones, or the files given).
    Test { files: Vec<PathBuf> },
}

#[derive(Subcommand)]
enum IndicatorsCmd {
    /// Compute every indicator for every area of a period; print an area's
    /// values, or write the plan's table with them (--out FILE.csv|.xlsx).
    Compute {
        /// A year (2022) or a month (2022-06).
        #[arg(long)]
        period: String,
        /// Area code (default: the city).
        #[arg(long)]
        area: Option<String>,
        #[arg(long)]
        out: Option<PathBuf>,
        /// The live (provisional) values even if the period is published.
        #[arg(long)]
        live: bool,
        /// With --out FILE.csv: every value of every area under --area, one
        /// row each, instead of the plan's table.
        #[arg(long, requires = "out")]
        all: bool,
    },
    /// Publish a period: freeze its values as the official ones.
    Publish {
        #[arg(long)]
        period: String,
        #[arg(long)]
        note: Option<String>,
    },
    /// List what recomputing a published period would change, and why.
    Recompute {
        #[arg(long)]
        period: String,
    },
    /// Enter reported values from a CSV or XLSX file (every row or none).
    ReportValues { file: PathBuf },
    /// Write the reported values entered (the format report-values reads).
    Reported {
        #[arg(long)]
        period: Option<String>,
        #[arg(long)]
        out: PathBuf,
    },
    /// Enter resident figures (CSV: area_code,year,residents,source).
    Residents { file: PathBuf },
    /// Set an area's own target (a county's own plan), e.g. 95 or 72以上.
    Target {
        #[arg(long)]
        indicator: u32,
        #[arg(long)]
        area: String,
        #[arg(long)]
        year: i32,
        #[arg(long)]
        target: String,
        #[arg(long)]
        source: Option<String>,
    },
}

#[derive(Subcommand)]
enum UserCmd {
    /// Create an account; prints a one-time password.
    Add {
        #[arg(long)]
        username: String,
        /// city_admin, county_admin, town_staff, village_staff, facility_operator,
        /// inspector, auditor or analyst.
        #[arg(long)]
        role: String,
        /// Home area code: access is limited to its subtree.
        #[arg(long)]
        area: String,
        /// Facility operators: their facility's id.
        #[arg(long)]
        facility: Option<String>,
    },
    /// List accounts.
    List,
    /// Disable an account (its sessions end at once).
    Disable { username: String },
    /// Enable a disabled account.
    Enable { username: String },
    /// Set a new one-time password (and start its failed-login count over); prints it.
    Password { username: String },
    /// Issue an API token; prints it once.
    Token {
        username: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value_t = 90)]
        days: i64,
    },
    /// Revoke an API token by name.
    Revoke {
        username: String,
        #[arg(long)]
        name: String,
    },
    /// List a user's API tokens (never the secrets).
    Tokens { username: String },
}

#[derive(Subcommand)]
enum AuditCmd {
    /// Check the chain (hashes and MACs); names the first broken entry.
    Verify {
        /// A head saved earlier by `laoxiao audit head`: also detects a cut tail
        /// and a chain rewritten since.
        #[arg(long)]
        head: Option<PathBuf>,
    },
    /// Print the newest entry's position and MAC as one line, to keep outside the
    /// database (e.g. `laoxiao audit head >> /elsewhere/audit-heads`).
    Head,
}

#[derive(Subcommand)]
enum KeysCmd {
    /// Print a new data key, HMAC key and audit key as environment lines, or
    /// write them as a key file with --out.
    Generate {
        /// Id of the new data key (default: k + today's date).
        #[arg(long)]
        id: Option<String>,
        /// Write a key file (TOML, mode 0600) that LAOXIAO_KEY_FILE / key_file can
        /// name; an existing file is never overwritten.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Re-encrypt every ID number under the current data key (old keys configured
    /// in LAOXIAO_OLD_DATA_KEYS or the key file's old_data_keys).
    Rotate,
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
    /// 参保登记
    Insurance,
    /// 家庭养老床位
    #[value(alias = "home_care_beds")]
    HomeCareBeds,
    /// 服务目录 (what providers publish for families to order)
    Catalogue,
    /// 智能设备
    Devices,
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
            Kind::Insurance => RecordKind::Insurance,
            Kind::HomeCareBeds => RecordKind::HomeCareBeds,
            Kind::Catalogue => RecordKind::Catalogue,
            Kind::Devices => RecordKind::Devices,
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

impl From<Coords> for CoordSystem {
    fn from(c: Coords) -> Self {
        match c {
            Coords::Wgs84 => CoordSystem::Wgs84,
            Coords::Gcj02 => CoordSystem::Gcj02,
            Coords::Bd09 => CoordSystem::Bd09,
        }
    }
}

impl From<Format> for ExportFormat {
    fn from(f: Format) -> Self {
        match f {
            Format::Csv => ExportFormat::Csv,
            Format::Xlsx => ExportFormat::Xlsx,
        }
    }
}

impl From<Lang> for HeaderLang {
    fn from(l: Lang) -> Self {
        match l {
            Lang::Zh => HeaderLang::Chinese,
            Lang::En => HeaderLang::English,
        }
    }
}

fn main() {
    let cli = Cli::parse();
    if matches!(cli.command, Command::Serve { .. } | Command::Demo { .. })
        && let Some(e) = laoxiao::process::limit_malloc_arenas()
    {
        eprintln!("note: could not restart with MALLOC_ARENA_MAX set ({e}); continuing");
    }
    if let Err(e) = run(cli) {
        cli::print_error(&e);
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<()> {
    // Needs no configuration, key or database: anyone may check a draw.
    if let Command::Supervise {
        command: SuperviseCmd::VerifyDraw { file },
    } = &cli.command
    {
        return cli::supervise::verify_draw(file);
    }
    let env: HashMap<String, String> = std::env::vars().collect();
    let addr = match &cli.command {
        Command::Serve { addr } | Command::Demo { addr, .. } => addr.clone(),
        _ => None,
    };
    let mut flags = FlagOverrides {
        database_url: cli.database.clone(),
        addr,
        log: cli.log.clone(),
        import: cli.import_limits.clone(),
        uploads_dir: cli.uploads_dir.clone(),
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
    cli::init_logging(&config.log);

    match cli.command {
        Command::Serve { .. } => cli::serve::run(&config),
        Command::Migrate => cli::serve::migrate(&config),
        Command::Import {
            kind,
            file,
            coords,
            dry_run,
            as_of,
        } => cli::registers::import(&config, kind.into(), &file, coords.into(), dry_run, as_of),
        Command::Export {
            kind,
            format,
            out,
            lang,
            full_id_numbers,
        } => cli::registers::export(
            &config,
            kind.into(),
            format.into(),
            &out,
            lang.into(),
            full_id_numbers,
        ),
        Command::Template { kind, format, out } => {
            cli::registers::template(kind.into(), format.into(), out)
        }
        Command::Synth {
            seed,
            scale,
            as_of,
            out,
        } => cli::registers::synth(seed, scale, as_of, &out),
        Command::Demo {
            scale, seed, as_of, ..
        } => cli::demo::run(config, scale, seed, as_of),
        Command::Backup { out } => cli::backup::backup(&config, &out),
        Command::Restore { file, force } => cli::backup::restore(&config, &file, force),
        Command::User { command } => match command {
            UserCmd::Add {
                username,
                role,
                area,
                facility,
            } => cli::user::add(&config, &username, &role, &area, facility.as_deref()),
            UserCmd::List => cli::user::list(&config),
            UserCmd::Disable { username } => cli::user::set_disabled(&config, &username, true),
            UserCmd::Enable { username } => cli::user::set_disabled(&config, &username, false),
            UserCmd::Password { username } => cli::user::password(&config, &username),
            UserCmd::Token {
                username,
                name,
                days,
            } => cli::user::token(&config, &username, &name, days),
            UserCmd::Revoke { username, name } => cli::user::revoke(&config, &username, &name),
            UserCmd::Tokens { username } => cli::user::tokens(&config, &username),
        },
        Command::Audit { command } => match command {
            AuditCmd::Verify { head } => cli::audit::verify(&config, head.as_deref()),
            AuditCmd::Head => cli::audit::head(&config),
        },
        Command::Keys { command } => match command {
            KeysCmd::Generate { id, out } => cli::keys::generate(id, out.as_deref()),
            KeysCmd::Rotate => cli::keys::rotate(&config),
        },
        Command::Supervise { .. } => Ok(()),
        Command::Plan { command } => match command {
            PlanCmd::Coverage {
                common,
                rule,
                area,
                clusters,
                out,
                cells,
                uncovered,
                people,
                json,
            } => cli::plan::coverage(
                &config,
                &common,
                &rule,
                area.as_deref(),
                clusters,
                out.as_deref(),
                cells.as_deref(),
                uncovered,
                people.as_deref(),
                json,
            ),
            PlanCmd::Access {
                common,
                side,
                radius,
                decay,
                demand,
                area,
                out,
                inputs,
                json,
            } => cli::plan::access(
                &config,
                &common,
                &side,
                radius,
                decay.as_deref(),
                demand.as_deref(),
                area.as_deref(),
                out.as_deref(),
                inputs.as_deref(),
                json,
            ),
            PlanCmd::Site {
                common,
                county,
                rule,
                k,
                target,
                slots,
                candidates,
                spacing,
                max_gap,
                seconds,
                out,
                save,
                who,
                json,
                instance,
            } => cli::plan::site(
                &config,
                &common,
                &cli::plan::SiteArgs {
                    county,
                    rule,
                    k,
                    target,
                    slots,
                    candidates,
                    spacing,
                    max_gap,
                    seconds,
                    out,
                    save,
                    who,
                    json,
                    instance,
                },
            ),
            PlanCmd::Slots {
                common,
                area,
                out,
                json,
            } => cli::plan::slots(&config, &common, area.as_deref(), out.as_deref(), json),
            PlanCmd::Residents { file, clear } => {
                cli::plan::residents(&config, file.as_deref(), clear)
            }
            PlanCmd::Bench {
                common,
                repeat,
                county,
            } => cli::plan::bench(&config, &common, repeat, county.as_deref()),
        },
        Command::Assess { command } => match command {
            AssessCmd::Import { file, dry_run, who } => {
                cli::assess::import_file(&config, &file, dry_run, who.as_deref())
            }
            AssessCmd::Due { who } => cli::assess::due(&config, who.as_deref()),
        },
        Command::Childcare { command } => match command {
            ChildcareCmd::Bills { month } => cli::childcare::bills(&config, month.as_deref()),
            ChildcareCmd::BenchBills { month, repeat } => {
                cli::childcare::bench(&config, month.as_deref(), repeat)
            }
        },
        Command::Visits { command } => match command {
            VisitsCmd::Rounds { month } => cli::visits::rounds(&config, month.as_deref()),
            VisitsCmd::Bench { month, repeat } => {
                cli::visits::bench(&config, month.as_deref(), repeat)
            }
        },
        Command::Alarms { command } => match command {
            AlarmsCmd::AddPlatform { id, name } => {
                cli::alarms::platform_add(&config, &id, name.as_deref().unwrap_or(&id))
            }
            AlarmsCmd::Platforms => cli::alarms::platform_list(&config),
        },
        Command::Subsidies { command } => match command {
            SubsidiesCmd::Run { month, year, who } => cli::subsidies::run(
                &config,
                cli::subsidies::period_of(month.as_deref(), year.as_deref())?,
                who.as_deref(),
            ),
            SubsidiesCmd::List => cli::subsidies::list(&config),
            SubsidiesCmd::Show {
                id,
                county,
                rule,
                payee,
                kind,
                after,
                limit,
            } => cli::subsidies::show(
                &config,
                id,
                laoxiao_store::subsidies::LineQuery {
                    county,
                    rule,
                    payee,
                    kind,
                    after,
                    limit: Some(limit),
                },
            ),
            SubsidiesCmd::Approve { id, who, note } => {
                cli::subsidies::review(&config, id, &who, true, note.as_deref())
            }
            SubsidiesCmd::Reject { id, who, note } => {
                cli::subsidies::review(&config, id, &who, false, note.as_deref())
            }
            SubsidiesCmd::Paid { id, who } => cli::subsidies::paid(&config, id, &who),
            SubsidiesCmd::Export { id, out } => cli::subsidies::export(&config, id, &out),
            SubsidiesCmd::Explain {
                payee,
                month,
                year,
                json,
            } => cli::subsidies::explain(
                &config,
                &payee,
                cli::subsidies::period_of(month.as_deref(), year.as_deref())?,
                json,
            ),
            SubsidiesCmd::Whatif { year, reform, out } => {
                cli::subsidies::whatif(&config, year, &reform, out.as_deref())
            }
            SubsidiesCmd::Income { file } => cli::subsidies::income(&config, &file),
            SubsidiesCmd::AwardsPaid { file } => cli::subsidies::awards_paid(&config, &file),
            SubsidiesCmd::Test { files } => cli::subsidies::test(&files),
        },
        Command::Indicators { command } => match command {
            IndicatorsCmd::Compute {
                period,
                area,
                out,
                live,
                all,
            } => cli::indicators::compute(
                &config,
                &period,
                area.as_deref(),
                out.as_deref(),
                live,
                all,
            ),
            IndicatorsCmd::Publish { period, note } => {
                cli::indicators::publish(&config, &period, note.as_deref())
            }
            IndicatorsCmd::Recompute { period } => cli::indicators::recompute(&config, &period),
            IndicatorsCmd::ReportValues { file } => cli::indicators::report_values(&config, &file),
            IndicatorsCmd::Reported { period, out } => {
                cli::indicators::reported(&config, period.as_deref(), &out)
            }
            IndicatorsCmd::Residents { file } => cli::indicators::residents(&config, &file),
            IndicatorsCmd::Target {
                indicator,
                area,
                year,
                target,
                source,
            } => {
                cli::indicators::target(&config, indicator, &area, year, &target, source.as_deref())
            }
        },
    }
}
