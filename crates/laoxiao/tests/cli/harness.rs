//! A small harness in the manner of ripgrep's integration tests: every test gets
//! a temporary directory with its own key file and database, runs the built
//! binary there with a clean environment, and asserts on the exit code, stdout
//! and stderr. Tests declared with [`clitest!`] run on SQLite and again on
//! PostgreSQL (a fresh schema) when `TEST_DATABASE_URL` is set.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A test run once per database: `clitest!(name, |env| { … });`.
macro_rules! clitest {
    ($name:ident, $body:expr) => {
        #[test]
        fn $name() {
            $crate::harness::on_each_database(stringify!($name), $body);
        }
    };
}

/// Runs `body` on a fresh SQLite database, then on a fresh PostgreSQL schema
/// when `TEST_DATABASE_URL` is set; says so on stderr when it is not.
pub fn on_each_database(test: &str, body: impl Fn(&Env)) {
    body(&Env::sqlite());
    match postgres_url() {
        Some(base) => body(&Env::postgres(&base)),
        None => eprintln!("SKIPPED (no TEST_DATABASE_URL): {test} on PostgreSQL"),
    }
}

pub fn postgres_url() -> Option<String> {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|s| !s.trim().is_empty())
}

fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!(
        "{prefix}_{}_{nanos}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

enum Db {
    Sqlite(PathBuf),
    Postgres {
        base: String,
        schema: String,
        url: String,
    },
}

/// A temporary directory, a key file made by `keys generate --out` and a database.
pub struct Env {
    dir: tempfile::TempDir,
    db: Db,
    key_file: PathBuf,
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Db::Postgres { base, schema, .. } = &self.db
            && let Ok(mut c) = pg_client(base)
        {
            let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
        }
    }
}

fn pg_client(base: &str) -> Result<r2d2_postgres::postgres::Client, String> {
    r2d2_postgres::postgres::Client::connect(base, r2d2_postgres::postgres::NoTls)
        .map_err(|e| e.to_string())
}

impl Env {
    fn with_db(db: impl FnOnce(&Path) -> Db) -> Env {
        let dir = tempfile::tempdir().expect("tempdir");
        let key_file = dir.path().join("keys.key");
        let db = db(dir.path());
        let env = Env { dir, db, key_file };
        env.bare()
            .args(["keys", "generate", "--out"])
            .arg(&env.key_file)
            .ok();
        env
    }

    /// A fresh SQLite file (created by the first command).
    pub fn sqlite() -> Env {
        Env::with_db(|dir| Db::Sqlite(dir.join("laoxiao.db")))
    }

    /// A fresh schema in the PostgreSQL database at `base`, dropped with the Env.
    pub fn postgres(base: &str) -> Env {
        let schema = unique("cli");
        pg_client(base)
            .and_then(|mut c| {
                c.batch_execute(&format!("CREATE SCHEMA {schema}"))
                    .map_err(|e| e.to_string())
            })
            .unwrap_or_else(|e| panic!("TEST_DATABASE_URL {base}: {e}"));
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{sep}options=-csearch_path%3D{schema}");
        Env::with_db(|_| Db::Postgres {
            base: base.to_string(),
            schema,
            url,
        })
    }

    /// Another fresh database on the same kind of database, with its own keys.
    pub fn another(&self) -> Env {
        match &self.db {
            Db::Sqlite(_) => Env::sqlite(),
            Db::Postgres { base, .. } => Env::postgres(base),
        }
    }

    /// What `--database` is given.
    pub fn database(&self) -> String {
        match &self.db {
            Db::Sqlite(p) => p.display().to_string(),
            Db::Postgres { url, .. } => url.clone(),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn key_file(&self) -> &Path {
        &self.key_file
    }

    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, contents).expect("write test file");
        p
    }

    /// The binary in this directory with no configuration from the outside.
    pub fn bare(&self) -> Cmd {
        let mut c = Command::new(env!("CARGO_BIN_EXE_laoxiao"));
        c.current_dir(self.dir.path());
        for (k, _) in std::env::vars() {
            if k.starts_with("LAOXIAO_") || k == "DATABASE_URL" {
                c.env_remove(k);
            }
        }
        // Progress bars and colours only on a terminal, which a test is not.
        c.env("LAOXIAO_LOG", "warn");
        Cmd {
            cmd: c,
            shown: "laoxiao".into(),
        }
    }

    /// The binary with this Env's key file and `--database`.
    pub fn cmd(&self) -> Cmd {
        let mut c = self.bare();
        c.env("LAOXIAO_KEY_FILE", &self.key_file)
            .arg("--database")
            .arg(self.database());
        c
    }

    /// Imports `file` as `kind` and returns the rows it reports inserted.
    pub fn import(&self, kind: &str, file: &Path) -> Report {
        let out = self.cmd().arg("import").arg(kind).arg(file).ok();
        Report::parse(&out.stdout).unwrap_or_else(|| panic!("no import report in\n{out}"))
    }

    /// Imports the ten example files in docs/examples, in dependency order.
    pub fn import_examples(&self) {
        for kind in KINDS {
            let file = example(kind);
            let r = self.import(kind, &file);
            assert_eq!(r.inserted, csv_rows(&file).1.len(), "{kind}: {r:?}");
        }
    }

    /// Exports `kind` as CSV with `extra` flags and reads it back.
    pub fn export_csv(&self, kind: &str, extra: &[&str]) -> Table {
        let out = self.path(&format!("{}.csv", unique(kind)));
        let said = self
            .cmd()
            .args(["export", kind, "--out"])
            .arg(&out)
            .args(extra)
            .ok();
        let t = csv_rows(&out);
        assert!(
            said.stdout.contains(&format!("wrote {} rows", t.1.len())),
            "the row count said differs from the file's:\n{said}"
        );
        t
    }
}

/// The ten import kinds, in an order where every reference is already there.
pub const KINDS: [&str; 10] = [
    "facilities",
    "classes",
    "elderly",
    "infants",
    "staff",
    "services",
    "enrolments",
    "residences",
    "student_cohorts",
    "insurance",
];

/// The repository's example import file of `kind`.
pub fn example(kind: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../docs/examples")
        .join(format!("{kind}.csv"))
}

/// `(header, rows)` of a CSV file (a leading BOM dropped).
pub type Table = (Vec<String>, Vec<Vec<String>>);

pub fn csv_rows(path: &Path) -> Table {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(&bytes);
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut all = r
        .records()
        .map(|rec| {
            rec.expect("csv record")
                .iter()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect::<Vec<_>>();
    assert!(!all.is_empty(), "{} has no header", path.display());
    let header = all.remove(0);
    (header, all)
}

pub fn write_csv(path: &Path, t: &Table) {
    let mut w = csv::Writer::from_path(path).expect("csv writer");
    w.write_record(&t.0).expect("write");
    for r in &t.1 {
        w.write_record(r).expect("write");
    }
    w.flush().expect("flush");
}

/// The column of `t` named by any of `names`.
pub fn column(t: &Table, names: &[&str]) -> usize {
    t.0.iter()
        .position(|h| names.contains(&h.as_str()))
        .unwrap_or_else(|| panic!("none of {names:?} in {:?}", t.0))
}

/// Every sheet of an XLSX file, as rows of text.
pub fn xlsx_sheets(path: &Path) -> Vec<(String, Vec<Vec<String>>)> {
    use calamine::{Reader, open_workbook_auto};
    let mut book = open_workbook_auto(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let names = book.sheet_names().to_vec();
    names
        .into_iter()
        .map(|n| {
            let range = book.worksheet_range(&n).expect("sheet");
            let rows = range
                .rows()
                .map(|r| r.iter().map(cell_text).collect())
                .collect();
            (n, rows)
        })
        .collect()
}

/// A cell as text; dates as `YYYY-MM-DD` (XLSX keeps them as day numbers).
fn cell_text(c: &calamine::Data) -> String {
    match c {
        calamine::Data::DateTime(d) if d.is_datetime() => {
            let (y, m, d, ..) = d.to_ymd_hms_milli();
            format!("{y:04}-{m:02}-{d:02}")
        }
        other => other.to_string(),
    }
}

/// A masked citizen ID number: `^\d{6}\*{8}\d{3}[\dX]$`.
pub fn is_masked_id(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 18
        && b[..6].iter().all(u8::is_ascii_digit)
        && b[6..14].iter().all(|&c| c == b'*')
        && b[14..17].iter().all(u8::is_ascii_digit)
        && (b[17].is_ascii_digit() || b[17] == b'X')
}

/// A citizen ID number with a correct check digit (GB 11643).
pub fn is_valid_id(s: &str) -> bool {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const C: &[u8; 11] = b"10X98765432";
    let b = s.as_bytes();
    if b.len() != 18 || !b[..17].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let sum: u32 = b[..17]
        .iter()
        .zip(W)
        .map(|(&d, w)| u32::from(d - b'0') * w)
        .sum();
    C[(sum % 11) as usize] == b[17]
}

/// An import's summary line: `FILE: N rows — I inserted, U updated, K unchanged`.
#[derive(Debug, PartialEq, Eq)]
pub struct Report {
    pub rows: usize,
    pub inserted: usize,
    pub updated: usize,
    pub unchanged: usize,
}

impl Report {
    pub fn parse(stdout: &str) -> Option<Report> {
        let line = stdout.lines().rev().find(|l| l.contains(" rows — "))?;
        let num_before = |word: &str| -> Option<usize> {
            let i = line.find(word)?;
            line[..i].split_whitespace().last()?.parse().ok()
        };
        Some(Report {
            rows: num_before(" rows")?,
            inserted: num_before(" inserted")?,
            updated: num_before(" updated")?,
            unchanged: num_before(" unchanged")?,
        })
    }
}

/// A command being built.
pub struct Cmd {
    cmd: Command,
    shown: String,
}

impl Cmd {
    pub fn arg(&mut self, a: impl AsRef<OsStr>) -> &mut Cmd {
        self.shown.push(' ');
        self.shown.push_str(&a.as_ref().to_string_lossy());
        self.cmd.arg(a);
        self
    }

    pub fn args<I, S>(&mut self, args: I) -> &mut Cmd
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        for a in args {
            self.arg(a);
        }
        self
    }

    pub fn env(&mut self, k: impl AsRef<OsStr>, v: impl AsRef<OsStr>) -> &mut Cmd {
        self.cmd.env(k, v);
        self
    }

    pub fn env_remove(&mut self, k: impl AsRef<OsStr>) -> &mut Cmd {
        self.cmd.env_remove(k);
        self
    }

    pub fn output(&mut self) -> Out {
        let o = self
            .cmd
            .output()
            .unwrap_or_else(|e| panic!("{}: {e}", self.shown));
        Out {
            shown: self.shown.clone(),
            code: o.status.code(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    /// Runs it; it must succeed.
    pub fn ok(&mut self) -> Out {
        let o = self.output();
        assert_eq!(o.code, Some(0), "expected success:\n{o}");
        o
    }

    /// Runs it; it must fail as a command does on a refused request (exit 1),
    /// with an explanation on stderr and no panic.
    pub fn fails(&mut self) -> Out {
        let o = self.output();
        assert_eq!(o.code, Some(1), "expected exit code 1:\n{o}");
        assert!(!o.stderr.trim().is_empty(), "no explanation:\n{o}");
        assert!(!o.stderr.contains("panicked"), "{o}");
        o
    }

    /// Runs it; the flags must be refused before anything runs (exit 2),
    /// pointing to `--help`.
    pub fn usage_error(&mut self) -> Out {
        let o = self.output();
        assert_eq!(o.code, Some(2), "expected a usage error:\n{o}");
        assert!(
            o.stderr.starts_with("error: ") && o.stderr.contains("--help"),
            "{o}"
        );
        assert!(o.stdout.is_empty(), "{o}");
        o
    }

    /// Starts a server (`serve` or `demo`) and waits until it says where it serves.
    pub fn serve(&mut self) -> Server {
        self.cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = self
            .cmd
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}", self.shown));
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel::<String>();
        let out = child.stdout.take().expect("stdout");
        let err = child.stderr.take().expect("stderr");
        let l = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if let Ok(mut l) = l.lock() {
                    l.push_str(&line);
                    l.push('\n');
                }
                let _ = tx.send(line);
            }
        });
        let l = log.clone();
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = BufReader::new(err).read_to_string(&mut s);
            if let Ok(mut l) = l.lock() {
                l.push_str(&s);
            }
        });
        let mut printed = Vec::new();
        let mut server = Server {
            child,
            log,
            addr: String::new(),
            printed: Vec::new(),
        };
        loop {
            match rx.recv_timeout(Duration::from_secs(300)) {
                Ok(line) => {
                    if let Some(rest) = line.split("serving on http://").nth(1) {
                        server.addr = rest.split('/').next().unwrap_or_default().to_string();
                        break;
                    }
                    printed.push(line);
                }
                Err(_) => {
                    let _ = server.child.kill();
                    let _ = server.child.wait();
                    std::thread::sleep(Duration::from_millis(100));
                    panic!("{} did not start serving:\n{}", self.shown, server.log());
                }
            }
        }
        server.printed = printed;
        server
    }
}

/// What a command did.
pub struct Out {
    shown: String,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl std::fmt::Display for Out {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "$ {}\nexit code {:?}\n--- stdout\n{}--- stderr\n{}",
            self.shown, self.code, self.stdout, self.stderr
        )
    }
}

/// A running `serve` or `demo`, killed when dropped.
pub struct Server {
    child: Child,
    log: Arc<Mutex<String>>,
    /// `host:port` it serves on.
    pub addr: String,
    /// Its stdout before the "serving on" line.
    pub printed: Vec<String>,
}

impl Server {
    pub fn log(&self) -> String {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn get(&self, path: &str, headers: &[(&str, &str)]) -> Response {
        http(&self.addr, "GET", path, headers, None)
    }

    /// Logs in on the console as a browser does (the login form's CSRF cookie
    /// and field); returns the session cookie, or None if refused.
    pub fn login(&self, username: &str, password: &str) -> Option<String> {
        let csrf = "cli-test-csrf-token";
        let body = format!(
            "_csrf={csrf}&username={}&password={}",
            form_escape(username),
            form_escape(password)
        );
        let r = http(
            &self.addr,
            "POST",
            "/console/login",
            &[
                ("Cookie", &format!("lx_login_csrf={csrf}")),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            Some(body.as_bytes()),
        );
        if r.status != 303 {
            return None;
        }
        r.set_cookies()
            .into_iter()
            .find(|c| c.starts_with("lx_session="))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn form_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
            .map(|(_, v)| v.split(';').next().unwrap_or_default().to_string())
            .collect()
    }
}

/// A one-shot HTTP/1.1 request (`Connection: close`), enough for a test.
pub fn http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Response {
    let mut s = std::net::TcpStream::connect(addr).unwrap_or_else(|e| panic!("{addr}: {e}"));
    s.set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(b) = body {
        req.push_str(&format!("Content-Length: {}\r\n", b.len()));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).expect("send");
    if let Some(b) = body {
        s.write_all(b).expect("send body");
    }
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of headers");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut rest = raw[split + 4..].to_vec();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .expect("status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    if chunked {
        let mut body = Vec::new();
        let mut at = 0;
        while let Some(eol) = rest[at..].windows(2).position(|w| w == b"\r\n") {
            let size = usize::from_str_radix(
                String::from_utf8_lossy(&rest[at..at + eol])
                    .split(';')
                    .next()
                    .unwrap_or("0")
                    .trim(),
                16,
            )
            .unwrap_or(0);
            if size == 0 {
                break;
            }
            let start = at + eol + 2;
            body.extend_from_slice(&rest[start..start + size]);
            at = start + size + 2;
        }
        rest = body;
    }
    Response {
        status,
        headers,
        body: String::from_utf8_lossy(&rest).into_owned(),
    }
}
