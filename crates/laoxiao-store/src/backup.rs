//! Backups of a SQLite database while it serves, and their restore.
//!
//! A backup copies the pages with SQLite's online backup API from one read
//! snapshot: the source connection opens a read transaction before the first
//! step and keeps it to the last, so the copy is one consistent state even
//! while other connections keep writing. In WAL mode (the server's mode) a
//! reader blocks no writer; the copy still goes in steps with a pause between
//! them so that its reads do not crowd out the writers' I/O. (Without the held
//! snapshot, SQLite restarts a backup whenever another connection writes, so a
//! busy server could keep it from ever finishing.)
//!
//! The copy is written to a temporary file beside the target, synced, and
//! linked into place only if no file of that name exists, so a backup is
//! either complete or absent and never replaces another file.
//!
//! A restore first checks the backup (it opens, `PRAGMA integrity_check` says
//! `ok`, and every migration it records is one this binary knows), then copies
//! it beside the target, syncs it and renames it over the target. It refuses a
//! target that exists unless forced, and a target another connection has open.
//!
//! PostgreSQL has its own tools for this (`pg_dump -Fc` / `pg_restore`,
//! docs/operations.md).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Duration;

use r2d2_sqlite::rusqlite::{self, Connection, OpenFlags, backup::StepResult};

use crate::db::{BUSY_TIMEOUT, DbTarget};
use crate::error::{Result, StoreError};

/// How a backup paces itself.
#[derive(Debug, Clone, Copy)]
pub struct BackupOptions {
    /// Pages copied per step (at most 1 … 1,000,000).
    pub pages_per_step: i32,
    /// Pause between steps.
    pub pause: Duration,
}

impl Default for BackupOptions {
    /// 256 pages (8 MiB at the store's 32 KiB pages) per step, 5 ms apart: a
    /// 650 MB database is copied in a few seconds, and writers get the disk
    /// between steps.
    fn default() -> Self {
        BackupOptions {
            pages_per_step: 256,
            pause: Duration::from_millis(5),
        }
    }
}

/// What a backup or a restore found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupInfo {
    /// Pages in the copy.
    pub pages: i64,
    /// Size of the copy in bytes.
    pub bytes: u64,
    /// Newest schema version the copy records.
    pub schema_version: i64,
}

/// The hint given when a backup of PostgreSQL is asked for.
pub const POSTGRES_HINT: &str = "this is a PostgreSQL database: back it up with \
    `pg_dump -Fc --file FILE URL` and restore it with `pg_restore --dbname URL FILE` \
    (docs/operations.md); `laoxiao backup` and `restore` copy SQLite files";

fn file_err(what: &str, path: &Path, e: impl std::fmt::Display) -> StoreError {
    StoreError::File(format!("{what} {}: {e}", path.display()))
}

/// The SQLite file of a target, or why it has none.
pub fn sqlite_path(target: &DbTarget) -> Result<PathBuf> {
    match target {
        DbTarget::Postgres(_) => Err(StoreError::Config(POSTGRES_HINT.into())),
        DbTarget::Sqlite(p) if p == ":memory:" || p.starts_with("file:") => Err(
            StoreError::Config("an in-memory database cannot be backed up or restored".into()),
        ),
        DbTarget::Sqlite(p) => Ok(PathBuf::from(p)),
    }
}

/// A temporary name beside `target`, in the same directory so that the final
/// rename or link stays within one file system.
fn temp_beside(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "laoxiao".into());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    target.with_file_name(format!(".{name}.{}-{nanos}.tmp", std::process::id()))
}

/// Syncs a directory, so that a rename or link within it survives a power cut.
fn sync_dir(file: &Path) -> Result<()> {
    let dir = match file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    File::open(&dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| file_err("syncing directory", &dir, e))
}

fn sync_file(path: &Path) -> Result<u64> {
    let f = File::open(path).map_err(|e| file_err("opening", path, e))?;
    f.sync_all().map_err(|e| file_err("syncing", path, e))?;
    Ok(f.metadata().map(|m| m.len()).unwrap_or(0))
}

/// Removes a temporary file when dropped unless it was kept.
struct TempFile(Option<PathBuf>);

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(&p);
            for ext in ["-journal", "-wal", "-shm"] {
                let _ = std::fs::remove_file(with_suffix(&p, ext));
            }
        }
    }
}

fn with_suffix(p: &Path, suffix: &str) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Copies the SQLite database at `source` to a new file `out` while other
/// connections may read and write it. Refuses to overwrite `out`.
pub fn backup_sqlite(source: &Path, out: &Path, opts: &BackupOptions) -> Result<BackupInfo> {
    if !(1..=1_000_000).contains(&opts.pages_per_step) || opts.pause > Duration::from_secs(10) {
        return Err(StoreError::Config(
            "backup pacing: pages per step must be 1 … 1,000,000 and the pause at most 10 s".into(),
        ));
    }
    if out.exists() {
        return Err(StoreError::Conflict(format!(
            "{} exists; a backup never replaces a file (choose a new name)",
            out.display()
        )));
    }
    if !source.is_file() {
        return Err(file_err("no database at", source, "not found"));
    }
    // Read-write without create: a wrong path must not create an empty database,
    // and a WAL database needs its shared-memory file writable even for reading.
    let src = Connection::open_with_flags(
        source,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    src.busy_timeout(BUSY_TIMEOUT)?;
    let tmp = TempFile(Some(temp_beside(out)));
    let tmp_path = tmp.0.clone().unwrap_or_default();
    let pages = {
        let mut dst = Connection::open(&tmp_path)?;
        // One snapshot for the whole copy (see the module comment).
        src.execute_batch("BEGIN")?;
        src.query_row("SELECT COUNT(*) AS n FROM sqlite_schema", [], |r| {
            r.get::<_, i64>("n")
        })?;
        let pages = {
            let b = rusqlite::backup::Backup::new(&src, &mut dst)?;
            let mut waits = 0u32;
            loop {
                match b.step(opts.pages_per_step)? {
                    StepResult::Done => break,
                    StepResult::More => waits = 0,
                    // Busy or locked: the destination is ours alone, so this is
                    // the source's lock; give up after about BUSY_TIMEOUT.
                    _ => {
                        waits += 1;
                        if waits > 3000 {
                            return Err(StoreError::Database(
                                "backup: the database stayed locked".into(),
                            ));
                        }
                        std::thread::sleep(Duration::from_millis(10));
                        continue;
                    }
                }
                std::thread::sleep(opts.pause);
            }
            i64::from(b.progress().pagecount)
        };
        src.execute_batch("COMMIT")?;
        // The copy carries the source's WAL flag; make it one self-contained file.
        dst.query_row("PRAGMA journal_mode=DELETE", [], |r| {
            r.get::<_, String>("journal_mode")
        })?;
        dst.close().map_err(|(_, e)| StoreError::from(e))?;
        pages
    };
    let bytes = sync_file(&tmp_path)?;
    let schema_version = check_file(&tmp_path)?;
    // A hard link fails if `out` appeared meanwhile: never replace a file.
    std::fs::hard_link(&tmp_path, out).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            StoreError::Conflict(format!(
                "{} exists; a backup never replaces a file (choose a new name)",
                out.display()
            ))
        } else {
            file_err("writing", out, e)
        }
    })?;
    drop(tmp);
    sync_dir(out)?;
    Ok(BackupInfo {
        pages,
        bytes,
        schema_version,
    })
}

/// Checks a backup file: it opens read-only, `PRAGMA integrity_check` is `ok`
/// and every migration it records is known to this binary. Returns its schema version.
pub fn check_file(path: &Path) -> Result<i64> {
    if !path.is_file() {
        return Err(file_err("no backup at", path, "not found"));
    }
    let c = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| file_err("opening backup", path, e))?;
    let problems: Vec<String> = {
        let mut st = c
            .prepare("PRAGMA integrity_check(10)")
            .map_err(|e| file_err("reading backup", path, e))?;
        st.query_map([], |r| r.get::<_, String>("integrity_check"))
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| file_err("checking backup", path, e))?
    };
    if problems != ["ok"] {
        return Err(file_err(
            "backup fails integrity_check:",
            path,
            problems.join("; "),
        ));
    }
    let versions: Vec<i64> = {
        let mut st = c
            .prepare("SELECT version FROM schema_migrations ORDER BY version")
            .map_err(|e| file_err("not a laoxiao database (no schema_migrations):", path, e))?;
        st.query_map([], |r| r.get::<_, i64>("version"))
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| file_err("reading migrations of", path, e))?
    };
    let latest = crate::migrate::latest_version();
    if let Some(v) = versions.iter().find(|v| **v < 1 || **v > latest) {
        return Err(StoreError::Migration {
            version: *v,
            reason: format!(
                "the backup {} records schema {v}, unknown to this binary (latest {latest}); \
                 restore it with the release that made it",
                path.display()
            ),
        });
    }
    versions.last().copied().ok_or_else(|| {
        file_err(
            "not a laoxiao database (no migration recorded):",
            path,
            "empty",
        )
    })
}

/// Whether another connection has the SQLite file at `path` open (the server's
/// connections hold a shared lock on a WAL database while they are open).
fn in_use(path: &Path) -> Result<bool> {
    let c = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| file_err("opening", path, e))?;
    c.busy_timeout(Duration::ZERO)?;
    let r = c.execute_batch(
        "PRAGMA locking_mode=EXCLUSIVE; BEGIN EXCLUSIVE; SELECT COUNT(*) FROM sqlite_schema; COMMIT;",
    );
    match r {
        Ok(()) => Ok(false),
        Err(rusqlite::Error::SqliteFailure(f, _))
            if matches!(
                f.code,
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
            ) =>
        {
            Ok(true)
        }
        // Not a database at all: replacing it is what --force asked for.
        Err(rusqlite::Error::SqliteFailure(f, _))
            if f.code == rusqlite::ErrorCode::NotADatabase =>
        {
            Ok(false)
        }
        Err(e) => Err(e.into()),
    }
}

/// Restores the backup `file` as the SQLite database at `target`, which must
/// not exist (or, with `force`, not be open by anyone).
pub fn restore_sqlite(file: &Path, target: &Path, force: bool) -> Result<BackupInfo> {
    let schema_version = check_file(file)?;
    if target.exists() {
        if !force {
            return Err(StoreError::Conflict(format!(
                "{} exists; restore into a new path, or pass --force to replace it",
                target.display()
            )));
        }
        if in_use(target)? {
            return Err(StoreError::Conflict(format!(
                "{} is in use (a server or another command has it open); stop it first",
                target.display()
            )));
        }
    }
    let tmp = TempFile(Some(temp_beside(target)));
    let tmp_path = tmp.0.clone().unwrap_or_default();
    std::fs::copy(file, &tmp_path).map_err(|e| file_err("copying", file, e))?;
    let bytes = sync_file(&tmp_path)?;
    let pages = {
        let c = Connection::open_with_flags(&tmp_path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        c.query_row("PRAGMA page_count", [], |r| r.get::<_, i64>("page_count"))?
    };
    // The old database's journals must not be replayed onto the new file.
    for ext in ["-wal", "-shm", "-journal"] {
        let p = with_suffix(target, ext);
        match std::fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(file_err("removing", &p, e)),
        }
    }
    std::fs::rename(&tmp_path, target).map_err(|e| file_err("replacing", target, e))?;
    let mut tmp = tmp;
    tmp.0 = None;
    sync_dir(target)?;
    Ok(BackupInfo {
        pages,
        bytes,
        schema_version,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "laoxiao-backup-unit-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default()
        ));
        std::fs::create_dir_all(&d).expect("dir");
        d
    }

    fn small_db(path: &Path, version: i64) {
        let c = Connection::open(path).expect("open");
        c.execute_batch(&format!(
            "PRAGMA journal_mode=WAL; CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, \
             name TEXT NOT NULL, applied_at TEXT NOT NULL); \
             INSERT INTO schema_migrations VALUES ({version}, 'x', 'now'); \
             CREATE TABLE t (x); INSERT INTO t VALUES (1), (2);"
        ))
        .expect("create");
    }

    #[test]
    fn backups_never_replace_a_file_and_restores_refuse_an_existing_target() {
        let d = dir();
        let src = d.join("src.db");
        small_db(&src, 1);
        let out = d.join("out.db");
        std::fs::write(&out, b"precious").expect("write");
        let e = backup_sqlite(&src, &out, &BackupOptions::default()).expect_err("refused");
        assert_eq!(e.code(), "conflict");
        assert_eq!(std::fs::read(&out).expect("read"), b"precious");
        std::fs::remove_file(&out).expect("rm");
        let info = backup_sqlite(&src, &out, &BackupOptions::default()).expect("backup");
        assert_eq!(info.schema_version, 1);
        // No temporary files are left behind.
        let names: Vec<_> = std::fs::read_dir(&d)
            .expect("ls")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect();
        assert!(names.is_empty(), "{names:?}");
        // The target exists: refused without --force, done with it.
        let target = d.join("target.db");
        std::fs::write(&target, b"old").expect("write");
        assert_eq!(
            restore_sqlite(&out, &target, false)
                .expect_err("exists")
                .code(),
            "conflict"
        );
        restore_sqlite(&out, &target, true).expect("forced");
        let c = Connection::open(&target).expect("open");
        let n: i64 = c
            .query_row("SELECT COUNT(*) AS n FROM t", [], |r| r.get("n"))
            .expect("count");
        assert_eq!(n, 2);
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn a_restore_refuses_damaged_files_unknown_schemas_and_a_target_in_use() {
        let d = dir();
        // A file that is not a database.
        let junk = d.join("junk.db");
        std::fs::write(&junk, vec![7u8; 70_000]).expect("write");
        let target = d.join("t.db");
        assert!(restore_sqlite(&junk, &target, false).is_err());
        assert!(!target.exists());
        // A schema from a newer release.
        let newer = d.join("newer.db");
        small_db(&newer, crate::migrate::latest_version() + 1);
        let e = restore_sqlite(&newer, &target, false).expect_err("newer");
        assert_eq!(e.code(), "migration_failed");
        assert!(!target.exists());
        // A damaged page: a good backup with bytes overwritten in a table page.
        let good = d.join("good.db");
        small_db(&good, 1);
        let copy = d.join("copy.db");
        backup_sqlite(&good, &copy, &BackupOptions::default()).expect("backup");
        let mut bytes = std::fs::read(&copy).expect("read");
        let page = usize::from(u16::from_be_bytes([bytes[16], bytes[17]]));
        let at = page.max(512) * 2;
        if bytes.len() > at + 200 {
            for b in &mut bytes[at..at + 200] {
                *b = 0xA5;
            }
        }
        std::fs::write(&copy, &bytes).expect("write");
        assert!(restore_sqlite(&copy, &target, false).is_err());
        assert!(!target.exists());
        // A target another connection holds open (as a server does).
        small_db(&target, 1);
        let holder = Connection::open(&target).expect("open");
        holder
            .query_row("SELECT COUNT(*) AS n FROM t", [], |r| r.get::<_, i64>("n"))
            .expect("read");
        let e = restore_sqlite(&good, &target, true).expect_err("in use");
        assert!(e.to_string().contains("in use"), "{e}");
        drop(holder);
        restore_sqlite(&good, &target, true).expect("free now");
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn postgres_targets_are_pointed_to_pg_dump() {
        let e = sqlite_path(&DbTarget::Postgres("postgres://x/y".into())).expect_err("pg");
        assert!(e.to_string().contains("pg_dump"));
    }
}
