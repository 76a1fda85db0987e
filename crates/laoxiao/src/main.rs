//! `laoxiao`: the command line. Parses flags, loads configuration and calls the crates.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use laoxiao::config::{Config, FlagOverrides};
use laoxiao_model::columns::{HeaderLang, RecordKind};
use laoxiao_spatial::CoordSystem;
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
    #[command(flatten)]
    import_limits: laoxiao::config::ImportLimitFlags,
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
    if matches!(cli.command, Command::Serve { .. } | Command::Demo { .. })
        && let Some(e) = laoxiao::process::limit_malloc_arenas()
    {
        eprintln!("note: could not restart with MALLOC_ARENA_MAX set ({e}); continuing");
    }
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
    let store = Store::open(&OpenOptions {
        target,
        pool_size: config.pool_size,
        migrate: true,
    })
    .with_context(|| format!("opening database {}", config.database_display()))?;
    if let Some(keys) = config.keys()? {
        let n = store.set_keys(keys)?;
        if n > 0 {
            println!("encrypted the ID numbers of {n} people (first start with a data key)");
        }
    }
    Ok(store)
}

/// The scope of CLI commands: the operator of the server.
fn cli_scope() -> laoxiao_store::Scope {
    let who = std::env::var("USER").unwrap_or_else(|_| "cli".into());
    laoxiao_store::Scope::system(&format!("cli:{who}"))
}

/// Refuses to serve people without a key; creates the first administrator.
fn prepare_to_serve(store: &Store) -> Result<()> {
    if !store.reference.has_keys() {
        let people = store
            .conn()?
            .query_i64("SELECT COUNT(*) FROM person", &[])?;
        if people > 0 {
            bail!(
                "no data key is configured but the register holds {people} people: set \
                 LAOXIAO_DATA_KEY, LAOXIAO_HMAC_KEY and LAOXIAO_AUDIT_KEY or LAOXIAO_KEY_FILE \
                 (see `laoxiao keys generate`); the server will not start without them"
            );
        }
        eprintln!(
            "warning: no keys are configured; people cannot be registered and the audit \
             trail is not keyed until they are (see `laoxiao keys generate`)"
        );
    }
    bootstrap(store)
}

fn bootstrap(store: &Store) -> Result<()> {
    let mut c = store.conn()?;
    if let Some(pw) = laoxiao_store::accounts::bootstrap_admin(&mut c, &store.reference)? {
        println!(
            "created the city administrator `admin` with the one-time password: {pw}\n\
             (shown once; change it with `laoxiao user password admin`)"
        );
    }
    Ok(())
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
        import: cli.import_limits.clone(),
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
            prepare_to_serve(&store)?;
            serve(store, &config, Vec::new())
        }
        Command::Migrate => {
            let store = open(&config)?;
            bootstrap(&store)?;
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
            if matches!(kind, Kind::Elderly | Kind::Infants) && !store.reference.has_keys() {
                bail!(
                    "people's ID numbers are encrypted at rest: set LAOXIAO_DATA_KEY and \
                     LAOXIAO_HMAC_KEY (see `laoxiao keys generate`) or LAOXIAO_KEY_FILE first"
                );
            }
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
                limits: config.import,
            };
            let started = Instant::now();
            let report = laoxiao_store::io::import_file(&store, kind.into(), &file, &opts);
            pb.finish_and_clear();
            let report = report?;
            if !dry_run {
                laoxiao_store::audit::append(
                    &mut store.conn()?,
                    &cli_scope(),
                    laoxiao_store::audit::Event {
                        action: "import",
                        entity: RecordKind::from(kind).code(),
                        entity_id: None,
                        before: None,
                        after: Some(format!(
                            "{{\"rows\":{},\"inserted\":{},\"updated\":{}}}",
                            report.rows, report.inserted, report.updated
                        )),
                    },
                )?;
            }
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
                &cli_scope(),
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
            let mut config = config;
            if config.keys()?.is_none() && config.key_file.is_none() {
                config.key_file = Some(demo_key_file(&config.database_url)?);
            }
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
            let accounts = demo_accounts(&store)?;
            println!("demo accounts (also listed on the login page):");
            for a in &accounts {
                println!(
                    "  {:<10} {:<22} {} ({})",
                    a.username, a.password, a.role, a.area
                );
            }
            serve(store, &config, accounts)
        }
        Command::Backup { out } => {
            let source =
                laoxiao_store::backup::sqlite_path(&DbTarget::parse(&config.database_url)?)?;
            let started = Instant::now();
            let info = laoxiao_store::backup::backup_sqlite(&source, &out, &Default::default())?;
            println!(
                "backed up {} to {} ({} bytes, schema {}) in {:.1} s",
                source.display(),
                out.display(),
                info.bytes,
                info.schema_version,
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Restore { file, force } => {
            let target =
                laoxiao_store::backup::sqlite_path(&DbTarget::parse(&config.database_url)?)?;
            let info = laoxiao_store::backup::restore_sqlite(&file, &target, force)?;
            println!(
                "restored {} as {} ({} bytes, schema {}, integrity ok); run `laoxiao audit verify` \
                 with the same keys",
                file.display(),
                target.display(),
                info.bytes,
                info.schema_version
            );
            Ok(())
        }
        Command::User { command } => user_command(&config, command),
        Command::Audit {
            command: AuditCmd::Verify { head },
        } => {
            // Read the head first: a bad file should not cost a full verification.
            let head = match &head {
                Some(path) => {
                    let text = std::fs::read_to_string(path)
                        .with_context(|| format!("reading audit head {}", path.display()))?;
                    Some(
                        laoxiao_store::audit::Head::parse(&text)
                            .map_err(anyhow::Error::msg)
                            .with_context(|| format!("audit head {}", path.display()))?,
                    )
                }
                None => None,
            };
            let store = open(&config)?;
            let mut c = store.conn()?;
            let v = laoxiao_store::audit::verify(&mut c)?;
            if let Some((seq, why)) = v.first_broken {
                bail!(
                    "audit trail broken at entry {seq}: {why} ({} entries before it verified)",
                    v.entries
                );
            }
            if let Some(h) = &head
                && let Some(why) = laoxiao_store::audit::check_head(&mut c, h)?
            {
                bail!("audit trail does not match the head: {why}");
            }
            let keyed = match v.first_keyed {
                Some(seq) => format!("keyed (MAC) from entry {seq}"),
                None => "no keyed entries".to_string(),
            };
            match &head {
                Some(h) => println!(
                    "audit trail intact: {} entries verified ({keyed}); head entry {} matches",
                    v.entries, h.seq
                ),
                None => println!(
                    "audit trail intact: {} entries verified ({keyed})",
                    v.entries
                ),
            }
            Ok(())
        }
        Command::Audit {
            command: AuditCmd::Head,
        } => {
            let store = open(&config)?;
            match laoxiao_store::audit::head(&mut store.conn()?)? {
                Some(h) => {
                    println!("{}", h.line());
                    Ok(())
                }
                None => bail!("the audit trail is empty: there is no head to keep yet"),
            }
        }
        Command::Keys {
            command: KeysCmd::Generate { id, out },
        } => {
            let id = id.unwrap_or_else(|| format!("k{}", today().format("%Y%m%d")));
            let k = laoxiao_store::crypto::DataKey::generate(&id);
            let hmac = laoxiao_store::crypto::generate_raw_key();
            let audit = laoxiao_store::crypto::generate_raw_key();
            if let Some(out) = out {
                write_private(
                    &out,
                    &format!(
                        "# laoxiao keys (LAOXIAO_KEY_FILE or key_file names this file); keep it\n\
                         # outside the repository and the database, with a separate backup.\n\
                         data_key = \"{}\"\nhmac_key = \"{hmac}\"\naudit_key = \"{audit}\"\n",
                        k.encode()
                    ),
                )?;
                println!(
                    "wrote {} (mode 0600): set LAOXIAO_KEY_FILE={} or key_file in laoxiao.toml",
                    out.display(),
                    out.display()
                );
                return Ok(());
            }
            println!("# keep these outside the repository and the database: set them in the");
            println!(
                "# environment, or save them as a key file (mode 0600) named by LAOXIAO_KEY_FILE"
            );
            println!("# (`laoxiao keys generate --out FILE` writes one).");
            println!("LAOXIAO_DATA_KEY={}", k.encode());
            println!("LAOXIAO_HMAC_KEY={hmac}");
            println!("LAOXIAO_AUDIT_KEY={audit}");
            println!("# rotating: make the new key LAOXIAO_DATA_KEY, list the old one in");
            println!("# LAOXIAO_OLD_DATA_KEYS, run `laoxiao keys rotate`, then drop the old one.");
            println!("# The HMAC and audit keys stay: changing the HMAC key means re-hashing");
            println!("# every ID number; a new audit key cannot verify older entries.");
            Ok(())
        }
        Command::Keys {
            command: KeysCmd::Rotate,
        } => {
            let store = open(&config)?;
            if !store.reference.has_keys() {
                bail!("no data key is configured");
            }
            let n = laoxiao_store::people::reencrypt(&mut store.conn()?, &store.reference)?;
            laoxiao_store::audit::append(
                &mut store.conn()?,
                &cli_scope(),
                laoxiao_store::audit::Event {
                    action: "rotate_keys",
                    entity: "person",
                    entity_id: None,
                    before: None,
                    after: Some(format!("{{\"reencrypted\":{n}}}")),
                },
            )?;
            println!("re-encrypted {n} ID numbers under the current data key");
            Ok(())
        }
    }
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
    } else if laoxiao::config::KeyFile::read(&path)
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

/// Writes a file readable by its owner only.
fn write_private(path: &std::path::Path, text: &str) -> Result<()> {
    use std::io::Write;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let mut f = o.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            anyhow::anyhow!("{} exists: refusing to overwrite it", path.display())
        } else {
            anyhow::Error::new(e).context(format!("creating {}", path.display()))
        }
    })?;
    f.write_all(text.as_bytes())?;
    Ok(())
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
    let town_path = areas.get(&town).map(|a| a.path.clone()).unwrap_or_default();
    let facility = c
        .query_opt(
            "SELECT id, area_code FROM facility WHERE deleted_at IS NULL AND area_path >= $1 AND area_path < $2 ORDER BY id LIMIT 1",
            &[
                town_path.as_str().into(),
                laoxiao_store::path_upper(&town_path).into(),
            ],
        )?
        .map(|r| r.text(0));
    let plan: Vec<(&str, Role, String, Option<String>)> = vec![
        ("city", Role::CityAdmin, "330400".into(), None),
        ("county", Role::CountyAdmin, county.into(), None),
        ("town", Role::TownStaff, town.clone(), None),
        ("village", Role::VillageStaff, village, None),
        ("operator", Role::FacilityOperator, town, facility),
        ("inspector", Role::Inspector, county.into(), None),
        ("auditor", Role::Auditor, "330400".into(), None),
        ("analyst", Role::Analyst, "330400".into(), None),
    ];
    let mut out = Vec::new();
    for (name, role, area, fac) in plan {
        let password = format!("demo-{name}-2026");
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
    Ok(out)
}

fn user_command(config: &Config, cmd: UserCmd) -> Result<()> {
    use laoxiao_store::accounts;
    let store = open(config)?;
    let mut c = store.conn()?;
    let by = cli_scope();
    match cmd {
        UserCmd::Add {
            username,
            role,
            area,
            facility,
        } => {
            let role: laoxiao_store::Role = role.parse().map_err(anyhow::Error::msg)?;
            let pw = accounts::generate_password();
            accounts::create_user(
                &mut c,
                &store.reference,
                &by,
                &username,
                role,
                &area,
                facility.as_deref(),
                &pw,
            )?;
            accounts::set_must_change(&mut c, &username, true)?;
            println!("created {username} ({role}, area {area}); one-time password: {pw}");
        }
        UserCmd::List => {
            for u in accounts::list_users(&mut c)? {
                println!(
                    "{:<20} {:<18} {:<12} {:<16} {}",
                    u.username,
                    u.role.code(),
                    u.area_code,
                    u.facility_id.unwrap_or_else(|| "-".into()),
                    if u.disabled { "disabled" } else { "active" }
                );
            }
        }
        UserCmd::Disable { username } => {
            accounts::set_disabled(&mut c, &by, &username, true)?;
            println!("disabled {username}");
        }
        UserCmd::Enable { username } => {
            accounts::set_disabled(&mut c, &by, &username, false)?;
            println!("enabled {username}");
        }
        UserCmd::Password { username } => {
            let pw = accounts::generate_password();
            accounts::set_password(&mut c, &by, &username, &pw)?;
            println!("new one-time password for {username}: {pw}");
        }
        UserCmd::Token {
            username,
            name,
            days,
        } => {
            let t = accounts::create_token(&mut c, &by, &username, &name, days)?;
            println!("API token {name:?} for {username}, valid {days} days (shown once):\n{t}");
        }
        UserCmd::Revoke { username, name } => {
            accounts::revoke_token(&mut c, &by, &username, &name)?;
            println!("revoked token {name:?} of {username}");
        }
        UserCmd::Tokens { username } => {
            for t in accounts::list_tokens(&mut c, &username)? {
                println!(
                    "{:<20} created {} expires {} {}",
                    t.name,
                    t.created_at,
                    t.expires_at,
                    t.revoked_at
                        .map(|r| format!("revoked {r}"))
                        .unwrap_or_default()
                );
            }
        }
    }
    Ok(())
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

fn serve(
    store: Store,
    config: &Config,
    demo_accounts: Vec<laoxiao_web::DemoAccount>,
) -> Result<()> {
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
            secure_cookies: config.secure_cookies,
            demo_accounts,
            import_limits: config.import,
        },
    );
    let addr = config.addr;
    let served = rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        let local = listener.local_addr()?;
        println!("laoxiao is serving on http://{local}/  (API: http://{local}/api/openapi.json)");
        axum::serve(
            listener,
            laoxiao_web::router(state)
                .into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
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
