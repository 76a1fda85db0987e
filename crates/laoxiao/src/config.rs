//! Configuration: a TOML file, then environment variables, then command-line
//! flags, each overriding the one before, merged into one typed [`Config`] that
//! is passed to whatever needs it (no globals).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use laoxiao_store::io::{ImportLimits, Limit};
use serde::Deserialize;

/// The settings laoxiao runs with.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// SQLite path (default `laoxiao.db`) or `postgres://…` URL.
    pub database_url: String,
    /// Address `serve` and `demo` listen on.
    pub addr: SocketAddr,
    /// Database connections in the pool.
    pub pool_size: u32,
    /// Largest request body accepted, in bytes (uploads included).
    pub max_body_bytes: usize,
    /// `tracing` filter, e.g. `info` or `laoxiao=debug`.
    pub log: String,
    /// The current data key for ID numbers, `keyid:base64` (32 bytes).
    pub data_key: Option<Secret>,
    /// Older data keys, still readable (rotation), each `keyid:base64`.
    pub old_data_keys: Vec<Secret>,
    /// The HMAC key for ID-number lookups, base64 (32 bytes).
    pub hmac_key: Option<Secret>,
    /// The audit key (chain MAC, snapshot digests), base64 (32 bytes).
    pub audit_key: Option<Secret>,
    /// A key file (mode 0600): TOML (`data_key`, `old_data_keys`, `hmac_key`,
    /// `audit_key`) or the `LAOXIAO_…=` lines `laoxiao keys generate` prints.
    pub key_file: Option<PathBuf>,
    /// Mark the session cookie `Secure` (serving behind TLS).
    pub secure_cookies: bool,
    /// What one import may hold (console uploads and `laoxiao import` alike).
    pub import: ImportLimits,
    /// Where uploaded documents are kept (`[uploads] dir`); `None`: beside the
    /// SQLite database (`laoxiao.db` → `laoxiao-uploads/`), or
    /// `laoxiao-uploads/` in the working directory for PostgreSQL.
    pub uploads_dir: Option<PathBuf>,
    /// The largest upload accepted, in bytes (`[uploads] max_bytes`).
    pub upload_max_bytes: u64,
    /// Requests a minute one address may make of the public portal
    /// (`[portal] requests_per_minute`, `LAOXIAO_PORTAL_PER_MINUTE`); 0: no limit.
    pub portal_per_minute: u32,
    /// Seconds the portal's copy of the public places is used before it is
    /// rebuilt (`[portal] places_refresh_seconds`,
    /// `LAOXIAO_PORTAL_PLACES_REFRESH_SECONDS`; 1 to 86400).
    pub portal_places_refresh_seconds: u64,
}

/// `[portal]` in the config file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PortalSection {
    requests_per_minute: Option<u32>,
    places_refresh_seconds: Option<u64>,
}

/// `[uploads]` in the config file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct UploadsSection {
    dir: Option<PathBuf>,
    max_bytes: Option<u64>,
}

/// A secret value: never printed by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// The keys a key file holds (no `Debug`: it holds secrets).
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyFile {
    pub data_key: Option<String>,
    #[serde(default)]
    pub old_data_keys: Vec<String>,
    pub hmac_key: Option<String>,
    pub audit_key: Option<String>,
}

/// What a key file should look like, for error messages.
const KEY_FILE_FORMAT: &str = "a key file holds TOML lines `data_key = \"…\"`, `hmac_key = \"…\"`, \
     `audit_key = \"…\"` (`laoxiao keys generate --out FILE` writes one) or the lines \
     `LAOXIAO_DATA_KEY=…`, `LAOXIAO_HMAC_KEY=…`, `LAOXIAO_AUDIT_KEY=…` that \
     `laoxiao keys generate` prints";

impl KeyFile {
    /// Reads a key file in either form: TOML, or `LAOXIAO_…=value` lines
    /// (`export` and quotes allowed, `#` comments). Errors name the file, the
    /// line and the expected format.
    pub fn read(path: &Path) -> Result<KeyFile> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading key file {}", path.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            if let Ok(m) = std::fs::metadata(path)
                && m.permissions().mode() & 0o077 != 0
            {
                tracing::warn!(
                    file = %path.display(),
                    "the key file is readable by other users: chmod 600 it"
                );
            }
        }
        let first = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'))
            .unwrap_or("");
        let env_form = first.starts_with("LAOXIAO_") || first.starts_with("export ");
        if env_form {
            return KeyFile::from_env_lines(&text)
                .with_context(|| format!("key file {}: {KEY_FILE_FORMAT}", path.display()));
        }
        toml::from_str(&text).map_err(|e| {
            // toml's message names a position but not the file or the format.
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].lines().count().max(1));
            anyhow::anyhow!(
                "key file {}{}: {}; {KEY_FILE_FORMAT}",
                path.display(),
                line.map(|l| format!(" line {l}")).unwrap_or_default(),
                e.message().replace('\n', " ")
            )
        })
    }

    fn from_env_lines(text: &str) -> Result<KeyFile> {
        let mut f = KeyFile::default();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let line = line.strip_prefix("export ").unwrap_or(line).trim();
            let Some((name, value)) = line.split_once('=') else {
                bail!("line {}: expected NAME=value", i + 1);
            };
            let value = value.trim();
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
                .unwrap_or(value)
                .to_string();
            match name.trim() {
                "LAOXIAO_DATA_KEY" => f.data_key = Some(value),
                "LAOXIAO_HMAC_KEY" => f.hmac_key = Some(value),
                "LAOXIAO_AUDIT_KEY" => f.audit_key = Some(value),
                "LAOXIAO_OLD_DATA_KEYS" => {
                    f.old_data_keys = value
                        .split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .collect()
                }
                other => bail!("line {}: unknown name {other:?}", i + 1),
            }
        }
        Ok(f)
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database_url: "laoxiao.db".into(),
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            pool_size: 8,
            max_body_bytes: 32 * 1024 * 1024,
            log: "info".into(),
            data_key: None,
            old_data_keys: Vec::new(),
            hmac_key: None,
            audit_key: None,
            key_file: None,
            secure_cookies: false,
            import: ImportLimits::default(),
            uploads_dir: None,
            upload_max_bytes: laoxiao_store::uploads::DEFAULT_MAX_BYTES,
            portal_per_minute: laoxiao_web::DEFAULT_PORTAL_PER_MINUTE,
            portal_places_refresh_seconds: laoxiao_web::DEFAULT_PLACES_REFRESH_SECONDS,
        }
    }
}

/// The file's shape: every key optional, unknown keys rejected so typos surface.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    database_url: Option<String>,
    addr: Option<String>,
    pool_size: Option<u32>,
    max_body_bytes: Option<usize>,
    log: Option<String>,
    key_file: Option<PathBuf>,
    secure_cookies: Option<bool>,
    /// `[import]`: the import limits, by their names (`max_rows` …).
    import: Option<HashMap<String, u64>>,
    /// `[uploads]`: `dir` and `max_bytes`.
    uploads: Option<UploadsSection>,
    /// `[portal]`: `requests_per_minute`, `places_refresh_seconds`.
    portal: Option<PortalSection>,
}

/// Values given on the command line (None = not given).
#[derive(Debug, Default, Clone)]
pub struct FlagOverrides {
    pub database_url: Option<String>,
    pub addr: Option<String>,
    pub pool_size: Option<u32>,
    pub log: Option<String>,
    pub import: ImportLimitFlags,
    pub uploads_dir: Option<PathBuf>,
}

/// `--import-max-*` flags (global), each overriding one import limit.
#[derive(Debug, Default, Clone, clap::Args)]
pub struct ImportLimitFlags {
    /// Most data rows in one import file (env LAOXIAO_IMPORT_MAX_ROWS).
    #[arg(long, global = true)]
    pub import_max_rows: Option<u64>,
    /// Most columns in one import file (env LAOXIAO_IMPORT_MAX_COLUMNS).
    #[arg(long, global = true)]
    pub import_max_columns: Option<u64>,
    /// Most characters in one cell (env LAOXIAO_IMPORT_MAX_CELL_CHARS).
    #[arg(long, global = true)]
    pub import_max_cell_chars: Option<u64>,
    /// Most non-empty cells in one file (env LAOXIAO_IMPORT_MAX_CELLS).
    #[arg(long, global = true)]
    pub import_max_cells: Option<u64>,
    /// Largest CSV file, bytes (env LAOXIAO_IMPORT_MAX_CSV_BYTES).
    #[arg(long, global = true)]
    pub import_max_csv_bytes: Option<u64>,
    /// Most decompressed bytes of an XLSX file (env LAOXIAO_IMPORT_MAX_XLSX_BYTES).
    #[arg(long, global = true)]
    pub import_max_xlsx_bytes: Option<u64>,
    /// Most decompressed bytes of one XLSX part (env LAOXIAO_IMPORT_MAX_XLSX_PART_BYTES).
    #[arg(long, global = true)]
    pub import_max_xlsx_part_bytes: Option<u64>,
    /// Largest compression ratio of an XLSX part (env LAOXIAO_IMPORT_MAX_XLSX_RATIO).
    #[arg(long, global = true)]
    pub import_max_xlsx_ratio: Option<u64>,
}

impl ImportLimitFlags {
    fn get(&self, l: Limit) -> Option<u64> {
        match l {
            Limit::Rows => self.import_max_rows,
            Limit::Columns => self.import_max_columns,
            Limit::CellChars => self.import_max_cell_chars,
            Limit::Cells => self.import_max_cells,
            Limit::CsvBytes => self.import_max_csv_bytes,
            Limit::XlsxBytes => self.import_max_xlsx_bytes,
            Limit::XlsxPartBytes => self.import_max_xlsx_part_bytes,
            Limit::XlsxRatio => self.import_max_xlsx_ratio,
        }
    }
}

fn parse_addr(s: &str, from: &str) -> Result<SocketAddr> {
    s.parse()
        .with_context(|| format!("{from}: {s:?} is not an address like 127.0.0.1:8080"))
}

impl Config {
    /// Where uploads are kept: the configured directory, else beside the
    /// SQLite file, else `laoxiao-uploads` in the working directory.
    pub fn uploads_dir(&self) -> PathBuf {
        if let Some(d) = &self.uploads_dir {
            return d.clone();
        }
        match laoxiao_store::DbTarget::parse(&self.database_url) {
            Ok(laoxiao_store::DbTarget::Sqlite(p)) if p != ":memory:" => {
                let p = PathBuf::from(p);
                let stem = p
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "laoxiao".into());
                p.with_file_name(format!("{stem}-uploads"))
            }
            _ => PathBuf::from("laoxiao-uploads"),
        }
    }

    /// Merges defaults < file < environment < flags. `file` is read only if given
    /// or if `laoxiao.toml` exists in the working directory.
    pub fn load(
        file: Option<&Path>,
        env: &HashMap<String, String>,
        flags: &FlagOverrides,
    ) -> Result<Config> {
        let mut c = Config::default();
        let path: Option<PathBuf> = match file {
            Some(p) => Some(p.to_path_buf()),
            None => Some(PathBuf::from("laoxiao.toml")).filter(|p| p.exists()),
        };
        if let Some(p) = path {
            let text = std::fs::read_to_string(&p)
                .with_context(|| format!("reading config file {}", p.display()))?;
            let f: FileConfig =
                toml::from_str(&text).with_context(|| format!("config file {}", p.display()))?;
            let from = p.display().to_string();
            if let Some(v) = f.database_url {
                c.database_url = v;
            }
            if let Some(v) = f.addr {
                c.addr = parse_addr(&v, &from)?;
            }
            if let Some(v) = f.pool_size {
                c.pool_size = v;
            }
            if let Some(v) = f.max_body_bytes {
                c.max_body_bytes = v;
            }
            if let Some(v) = f.log {
                c.log = v;
            }
            if let Some(v) = f.key_file {
                c.key_file = Some(v);
            }
            if let Some(v) = f.secure_cookies {
                c.secure_cookies = v;
            }
            for (k, v) in f.import.unwrap_or_default() {
                let Some(l) = Limit::ALL.into_iter().find(|l| l.key() == k) else {
                    bail!(
                        "config file {from}: [import] has no limit {k:?}; known: {}",
                        Limit::ALL.map(Limit::key).join(", ")
                    );
                };
                c.import.set(l, v);
            }
            if let Some(u) = f.uploads {
                if let Some(d) = u.dir {
                    c.uploads_dir = Some(d);
                }
                if let Some(n) = u.max_bytes {
                    c.upload_max_bytes = n;
                }
            }
            if let Some(p) = f.portal {
                if let Some(n) = p.requests_per_minute {
                    c.portal_per_minute = n;
                }
                if let Some(n) = p.places_refresh_seconds {
                    c.portal_places_refresh_seconds = n;
                }
            }
        }
        // Keys only from the environment or a key file: never from the config file
        // itself, which tends to be copied around.
        if let Some(v) = env.get("LAOXIAO_DATA_KEY").filter(|v| !v.is_empty()) {
            c.data_key = Some(Secret(v.clone()));
        }
        if let Some(v) = env.get("LAOXIAO_OLD_DATA_KEYS") {
            c.old_data_keys = v
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| Secret(s.to_string()))
                .collect();
        }
        if let Some(v) = env.get("LAOXIAO_HMAC_KEY").filter(|v| !v.is_empty()) {
            c.hmac_key = Some(Secret(v.clone()));
        }
        if let Some(v) = env.get("LAOXIAO_AUDIT_KEY").filter(|v| !v.is_empty()) {
            c.audit_key = Some(Secret(v.clone()));
        }
        if let Some(v) = env.get("LAOXIAO_KEY_FILE").filter(|v| !v.is_empty()) {
            c.key_file = Some(PathBuf::from(v));
        }
        if let Some(v) = env.get("LAOXIAO_SECURE_COOKIES") {
            c.secure_cookies = matches!(v.as_str(), "1" | "true" | "yes");
        }
        // LAOXIAO_DATABASE_URL wins over the conventional DATABASE_URL.
        if let Some(v) = env
            .get("LAOXIAO_DATABASE_URL")
            .or_else(|| env.get("DATABASE_URL"))
            && !v.is_empty()
        {
            c.database_url = v.clone();
        }
        if let Some(v) = env.get("LAOXIAO_ADDR") {
            c.addr = parse_addr(v, "LAOXIAO_ADDR")?;
        }
        if let Some(v) = env.get("LAOXIAO_POOL_SIZE") {
            c.pool_size = v
                .parse()
                .with_context(|| format!("LAOXIAO_POOL_SIZE: {v:?} is not a number"))?;
        }
        if let Some(v) = env.get("LAOXIAO_MAX_BODY_BYTES") {
            c.max_body_bytes = v
                .parse()
                .with_context(|| format!("LAOXIAO_MAX_BODY_BYTES: {v:?} is not a number"))?;
        }
        if let Some(v) = env.get("LAOXIAO_LOG") {
            c.log = v.clone();
        }
        if let Some(v) = env.get("LAOXIAO_UPLOADS_DIR").filter(|v| !v.is_empty()) {
            c.uploads_dir = Some(PathBuf::from(v));
        }
        if let Some(v) = env
            .get("LAOXIAO_UPLOAD_MAX_BYTES")
            .filter(|v| !v.is_empty())
        {
            c.upload_max_bytes = v
                .parse()
                .with_context(|| format!("LAOXIAO_UPLOAD_MAX_BYTES: {v:?} is not a number"))?;
        }
        if let Some(v) = env
            .get("LAOXIAO_PORTAL_PER_MINUTE")
            .filter(|v| !v.is_empty())
        {
            c.portal_per_minute = v.parse().with_context(|| {
                format!("LAOXIAO_PORTAL_PER_MINUTE: {v:?} is not a whole number")
            })?;
        }
        if let Some(v) = env
            .get("LAOXIAO_PORTAL_PLACES_REFRESH_SECONDS")
            .filter(|v| !v.is_empty())
        {
            c.portal_places_refresh_seconds = v.parse().with_context(|| {
                format!("LAOXIAO_PORTAL_PLACES_REFRESH_SECONDS: {v:?} is not a whole number")
            })?;
        }
        for l in Limit::ALL {
            if let Some(v) = env.get(l.env()).filter(|v| !v.is_empty()) {
                let n = v
                    .parse()
                    .with_context(|| format!("{}: {v:?} is not a whole number", l.env()))?;
                c.import.set(l, n);
            }
        }
        if let Some(v) = &flags.database_url {
            c.database_url = v.clone();
        }
        if let Some(v) = &flags.addr {
            c.addr = parse_addr(v, "--addr")?;
        }
        if let Some(v) = flags.pool_size {
            c.pool_size = v;
        }
        if let Some(v) = &flags.log {
            c.log = v.clone();
        }
        for l in Limit::ALL {
            if let Some(n) = flags.import.get(l) {
                c.import.set(l, n);
            }
        }
        if let Some(v) = &flags.uploads_dir {
            c.uploads_dir = Some(v.clone());
        }
        if c.pool_size == 0 {
            bail!("pool_size must be at least 1");
        }
        if c.upload_max_bytes == 0 || c.upload_max_bytes > laoxiao_store::uploads::MAX_MAX_BYTES {
            bail!(
                "upload max_bytes (LAOXIAO_UPLOAD_MAX_BYTES) must be 1 to {}",
                laoxiao_store::uploads::MAX_MAX_BYTES
            );
        }
        for l in Limit::ALL {
            if c.import.get(l) == 0 {
                bail!("import limit {} ({}) must be at least 1", l.key(), l.env());
            }
        }
        Ok(c)
    }

    /// The keys: from the environment, else the key file; `None` when neither is
    /// configured. A half-configured set is an error, and so are data keys without
    /// an audit key (the trail would not be keyed).
    pub fn keys(&self) -> Result<Option<laoxiao_store::Keys>> {
        use laoxiao_store::crypto::{DataKey, decode_key};
        let mut audit = self.audit_key.as_ref().map(|s| s.0.clone());
        let mut audit_source = "LAOXIAO_AUDIT_KEY".to_string();
        let (data, old, hmac) = match (&self.data_key, &self.hmac_key, &self.key_file) {
            (Some(d), Some(h), _) => (
                d.0.clone(),
                self.old_data_keys.iter().map(|s| s.0.clone()).collect(),
                h.0.clone(),
            ),
            (Some(_), None, _) | (None, Some(_), _) => {
                bail!(
                    "set both LAOXIAO_DATA_KEY and LAOXIAO_HMAC_KEY (or neither and use a key file)"
                )
            }
            (None, None, Some(path)) => {
                if !path.exists() {
                    return Ok(None);
                }
                let f = KeyFile::read(path)?;
                if audit.is_none() {
                    audit = f.audit_key.clone();
                    audit_source = format!("audit_key in key file {}", path.display());
                }
                match (f.data_key, f.hmac_key) {
                    (Some(d), Some(h)) => (d, f.old_data_keys, h),
                    _ => bail!(
                        "key file {} needs data_key and hmac_key; {KEY_FILE_FORMAT}",
                        path.display()
                    ),
                }
            }
            (None, None, None) if audit.is_some() => {
                bail!(
                    "LAOXIAO_AUDIT_KEY is set but no data keys are: set all three (see `laoxiao keys generate`)"
                )
            }
            (None, None, None) => return Ok(None),
        };
        let current = DataKey::parse(&data).context("the data key")?;
        let old = old
            .iter()
            .map(|k| DataKey::parse(k))
            .collect::<std::result::Result<Vec<_>, _>>()
            .context("an old data key")?;
        let hmac = decode_key(&hmac).context("the HMAC key")?;
        let Some(audit) = audit else {
            bail!(
                "no audit key is configured: add `audit_key = \"…\"` to the key file or set \
                 LAOXIAO_AUDIT_KEY (`laoxiao keys generate` prints a new one; keep it apart \
                 from the database like the other keys)"
            );
        };
        let audit =
            decode_key(&audit).with_context(|| format!("the audit key ({audit_source})"))?;
        Ok(Some(
            laoxiao_store::Keys::new(current, old, hmac)?.with_audit_key(audit)?,
        ))
    }

    /// The database URL with any password hidden, for logs.
    pub fn database_display(&self) -> String {
        match (self.database_url.find("://"), self.database_url.rfind('@')) {
            (Some(s), Some(at)) if at > s => {
                let creds = &self.database_url[s + 3..at];
                match creds.find(':') {
                    Some(c) => format!(
                        "{}{}:***{}",
                        &self.database_url[..s + 3],
                        &creds[..c],
                        &self.database_url[at..]
                    ),
                    None => self.database_url.clone(),
                }
            }
            _ => self.database_url.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn file_then_env_then_flags_override_in_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        let f = dir.path().join("laoxiao.toml");
        std::fs::write(&f, "database_url = \"file.db\"\naddr = \"127.0.0.1:9000\"\npool_size = 3\nlog = \"warn\"\n")
            .expect("write");
        let c = Config::load(Some(&f), &env(&[]), &FlagOverrides::default()).expect("file");
        assert_eq!(
            (c.database_url.as_str(), c.addr.port(), c.pool_size),
            ("file.db", 9000, 3)
        );

        let e = env(&[
            ("DATABASE_URL", "env.db"),
            ("LAOXIAO_ADDR", "127.0.0.1:9100"),
        ]);
        let c = Config::load(Some(&f), &e, &FlagOverrides::default()).expect("env");
        assert_eq!(
            (c.database_url.as_str(), c.addr.port(), c.log.as_str()),
            ("env.db", 9100, "warn")
        );

        let flags = FlagOverrides {
            database_url: Some("flag.db".into()),
            ..Default::default()
        };
        let c = Config::load(Some(&f), &e, &flags).expect("flags");
        assert_eq!((c.database_url.as_str(), c.addr.port()), ("flag.db", 9100));
    }

    #[test]
    fn bad_values_name_their_source() {
        let dir = tempfile::tempdir().expect("tempdir");
        let f = dir.path().join("c.toml");
        std::fs::write(&f, "colour = 1\n").expect("write");
        let err =
            Config::load(Some(&f), &env(&[]), &FlagOverrides::default()).expect_err("unknown key");
        assert!(format!("{err:#}").contains("colour"), "{err:#}");
        let err = Config::load(
            None,
            &env(&[("LAOXIAO_ADDR", "nowhere")]),
            &FlagOverrides::default(),
        )
        .expect_err("bad addr");
        assert!(format!("{err:#}").contains("LAOXIAO_ADDR"));
    }

    #[test]
    fn keys_come_from_the_environment_and_are_never_printed() {
        let k = laoxiao_store::crypto::DataKey::generate("k1").encode();
        let h = laoxiao_store::crypto::generate_raw_key();
        let a = laoxiao_store::crypto::generate_raw_key();
        let c = Config::load(
            None,
            &env(&[
                ("LAOXIAO_DATA_KEY", &k),
                ("LAOXIAO_HMAC_KEY", &h),
                ("LAOXIAO_AUDIT_KEY", &a),
            ]),
            &FlagOverrides::default(),
        )
        .expect("config");
        assert!(
            c.keys()
                .expect("keys")
                .is_some_and(|k| k.audit_key().is_some())
        );
        let dbg = format!("{c:?}");
        assert!(
            !dbg.contains(&k) && !dbg.contains(&h) && !dbg.contains(&a),
            "{dbg}"
        );
        // Data keys without an audit key: refused, naming what to add.
        let c = Config::load(
            None,
            &env(&[("LAOXIAO_DATA_KEY", &k), ("LAOXIAO_HMAC_KEY", &h)]),
            &FlagOverrides::default(),
        )
        .expect("config");
        let err = format!("{:#}", c.keys().expect_err("no audit key"));
        assert!(
            err.contains("audit_key") && err.contains("LAOXIAO_AUDIT_KEY"),
            "{err}"
        );
        // Half a pair is an error, not a silent "no keys".
        let c = Config::load(
            None,
            &env(&[("LAOXIAO_DATA_KEY", &k)]),
            &FlagOverrides::default(),
        )
        .expect("config");
        assert!(c.keys().is_err());
        // A key file.
        let dir = tempfile::tempdir().expect("tempdir");
        let f = dir.path().join("k.toml");
        std::fs::write(
            &f,
            format!("data_key = \"{k}\"\nhmac_key = \"{h}\"\naudit_key = \"{a}\"\n"),
        )
        .expect("write");
        let c = Config::load(
            None,
            &env(&[("LAOXIAO_KEY_FILE", f.to_str().expect("path"))]),
            &FlagOverrides::default(),
        )
        .expect("config");
        assert!(c.keys().expect("keys").is_some());
    }

    fn key_file_config(dir: &Path, name: &str, text: &str) -> Config {
        let f = dir.join(name);
        std::fs::write(&f, text).expect("write");
        Config::load(
            None,
            &env(&[("LAOXIAO_KEY_FILE", f.to_str().expect("path"))]),
            &FlagOverrides::default(),
        )
        .expect("config")
    }

    #[test]
    fn hole_12_key_files_in_the_printed_env_line_form_are_read() {
        let k = laoxiao_store::crypto::DataKey::generate("k1").encode();
        let h = laoxiao_store::crypto::generate_raw_key();
        let a = laoxiao_store::crypto::generate_raw_key();
        let dir = tempfile::tempdir().expect("tempdir");
        // What `keys generate` prints, saved as is (comments included), and the
        // shell's `export NAME="value"` spelling.
        for (name, text) in [
            (
                "plain.env",
                format!(
                    "# keep these\nLAOXIAO_DATA_KEY={k}\nLAOXIAO_HMAC_KEY={h}\nLAOXIAO_AUDIT_KEY={a}\n"
                ),
            ),
            (
                "export.env",
                format!(
                    "export LAOXIAO_DATA_KEY=\"{k}\"\nexport LAOXIAO_HMAC_KEY='{h}'\nexport LAOXIAO_AUDIT_KEY={a}\n"
                ),
            ),
        ] {
            let keys = key_file_config(dir.path(), name, &text)
                .keys()
                .expect(name)
                .expect("keys");
            assert!(keys.audit_key().is_some());
            assert_eq!(keys.hmac("X"), {
                let c = Config::load(
                    None,
                    &env(&[
                        ("LAOXIAO_DATA_KEY", &k),
                        ("LAOXIAO_HMAC_KEY", &h),
                        ("LAOXIAO_AUDIT_KEY", &a),
                    ]),
                    &FlagOverrides::default(),
                )
                .expect("config");
                c.keys().expect("keys").expect("keys").hmac("X")
            });
        }
    }

    #[test]
    fn hole_12_a_bad_key_file_is_named_with_the_expected_format() {
        let dir = tempfile::tempdir().expect("tempdir");
        for (name, text) in [
            ("junk.key", "data_key = k1:abc\n".to_string()),
            ("unknown.env", "LAOXIAO_DATA_KEYS=x\n".to_string()),
        ] {
            let err = format!(
                "{:#}",
                key_file_config(dir.path(), name, &text)
                    .keys()
                    .expect_err(name)
            );
            assert!(err.contains(name), "{err}");
            assert!(
                err.contains("data_key = ") && err.contains("LAOXIAO_DATA_KEY=…"),
                "{err}"
            );
        }
    }

    #[test]
    fn uploads_come_from_file_then_env_then_flags_and_default_beside_the_database() {
        let dir = tempfile::tempdir().expect("tempdir");
        let f = dir.path().join("laoxiao.toml");
        std::fs::write(
            &f,
            "database_url = \"/srv/lx/city.db\"\n[uploads]\nmax_bytes = 2000\n",
        )
        .expect("write");
        let c = Config::load(Some(&f), &env(&[]), &FlagOverrides::default()).expect("config");
        assert_eq!(c.upload_max_bytes, 2000);
        assert_eq!(c.uploads_dir(), PathBuf::from("/srv/lx/city-uploads"));
        std::fs::write(&f, "[uploads]\ndir = \"/a\"\n").expect("write");
        let c = Config::load(
            Some(&f),
            &env(&[("LAOXIAO_UPLOADS_DIR", "/b")]),
            &FlagOverrides::default(),
        )
        .expect("config");
        assert_eq!(c.uploads_dir(), PathBuf::from("/b"));
        let flags = FlagOverrides {
            uploads_dir: Some(PathBuf::from("/c")),
            ..Default::default()
        };
        let c =
            Config::load(Some(&f), &env(&[("LAOXIAO_UPLOADS_DIR", "/b")]), &flags).expect("config");
        assert_eq!(c.uploads_dir(), PathBuf::from("/c"));
        let c = Config::load(
            None,
            &env(&[("LAOXIAO_DATABASE_URL", "postgres://x@h/db")]),
            &FlagOverrides::default(),
        )
        .expect("config");
        assert_eq!(c.uploads_dir(), PathBuf::from("laoxiao-uploads"));
        let err = Config::load(
            None,
            &env(&[("LAOXIAO_UPLOAD_MAX_BYTES", "0")]),
            &FlagOverrides::default(),
        )
        .expect_err("zero");
        assert!(
            format!("{err:#}").contains("LAOXIAO_UPLOAD_MAX_BYTES"),
            "{err:#}"
        );
        std::fs::write(&f, "[uploads]\ndirectory = \"/a\"\n").expect("write");
        assert!(Config::load(Some(&f), &env(&[]), &FlagOverrides::default()).is_err());
    }

    #[test]
    fn import_limits_come_from_file_then_env_then_flags() {
        let dir = tempfile::tempdir().expect("tempdir");
        let f = dir.path().join("laoxiao.toml");
        std::fs::write(
            &f,
            "[import]\nmax_rows = 10\nmax_columns = 20\nmax_cells = 30\n",
        )
        .expect("write");
        let e = env(&[
            ("LAOXIAO_IMPORT_MAX_COLUMNS", "21"),
            ("LAOXIAO_IMPORT_MAX_CELLS", "31"),
        ]);
        let flags = FlagOverrides {
            import: ImportLimitFlags {
                import_max_cells: Some(32),
                ..Default::default()
            },
            ..Default::default()
        };
        let c = Config::load(Some(&f), &e, &flags).expect("config");
        assert_eq!(
            (c.import.max_rows, c.import.max_columns, c.import.max_cells),
            (10, 21, 32)
        );
        assert_eq!(
            c.import.max_xlsx_ratio,
            ImportLimits::default().max_xlsx_ratio
        );
        std::fs::write(&f, "[import]\nmax_rowz = 10\n").expect("write");
        let err = Config::load(Some(&f), &env(&[]), &FlagOverrides::default())
            .expect_err("unknown limit");
        assert!(format!("{err:#}").contains("max_rowz"), "{err:#}");
        let err = Config::load(
            None,
            &env(&[("LAOXIAO_IMPORT_MAX_ROWS", "many")]),
            &FlagOverrides::default(),
        )
        .expect_err("bad number");
        assert!(format!("{err:#}").contains("LAOXIAO_IMPORT_MAX_ROWS"));
    }

    #[test]
    fn passwords_are_hidden_in_display() {
        let c = Config {
            database_url: "postgres://u:secret@h/db".into(),
            ..Config::default()
        };
        assert_eq!(c.database_display(), "postgres://u:***@h/db");
    }
}
