//! A simulated power cut for SQLite (issue 9, hole 11): an in-memory VFS, in
//! safe Rust through the `sqlite-vfs` crate, that records every write,
//! truncation and sync of the files under a directory, and rebuilds what a disk
//! would hold after power failed at any point of the record.
//!
//! The disk model: a file's content survives up to its last sync; of the writes
//! (and truncations) made to it since, any subset may have reached the platter,
//! in any combination — which is what a drive's write cache and the kernel's
//! writeback are allowed to do. A sync makes that file's earlier writes
//! durable. Creating and deleting a file are taken as durable at once (the
//! crate does not pass SQLite's directory-sync flag on), so the model checks
//! the ordering of page writes and syncs, which is what decides whether a
//! rollback journal can restore the database.

use std::collections::{HashMap, HashSet};
use std::io::{Error, ErrorKind};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use rand::{Rng, RngCore};
use sqlite_vfs::{DatabaseHandle, LockKind, OpenAccess, OpenOptions, Vfs, WalDisabled};

/// The VFS name to put in a URI: `file:/DIR/x.db?vfs=powercut`.
pub const VFS: &str = "powercut";

/// One recorded file operation.
#[derive(Debug, Clone)]
pub enum Op {
    Create(String),
    Delete(String),
    Write(String, u64, Vec<u8>),
    Truncate(String, u64),
    Sync(String),
}

#[derive(Default)]
struct Locks {
    shared: HashSet<u64>,
    writer: Option<(u64, LockKind)>,
}

#[derive(Default)]
struct Fs {
    files: HashMap<String, Vec<u8>>,
    locks: HashMap<String, Locks>,
    /// Directory whose files are recorded, with the record so far.
    recording: Option<(String, Vec<Op>)>,
    next_id: u64,
}

impl Fs {
    fn record(&mut self, name: &str, op: impl FnOnce() -> Op) {
        if let Some((dir, log)) = &mut self.recording
            && name.starts_with(dir.as_str())
        {
            log.push(op());
        }
    }
}

fn fs() -> &'static Arc<Mutex<Fs>> {
    static FS: OnceLock<Arc<Mutex<Fs>>> = OnceLock::new();
    FS.get_or_init(|| {
        let fs = Arc::new(Mutex::new(Fs::default()));
        sqlite_vfs::register(VFS, PowerCutVfs(fs.clone()), false).expect("register the VFS");
        fs
    })
}

fn lock() -> MutexGuard<'static, Fs> {
    fs().lock().unwrap_or_else(|p| p.into_inner())
}

/// Registers the VFS (once per process).
pub fn install() {
    let _ = fs();
}

/// Starts recording the files under `dir`; returns their content now (taken
/// as durable: the test starts from a quiet, flushed disk).
pub fn start(dir: &str) -> HashMap<String, Vec<u8>> {
    let mut fs = lock();
    fs.recording = Some((dir.to_string(), Vec::new()));
    fs.files
        .iter()
        .filter(|(k, _)| k.starts_with(dir))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Stops recording and returns the record.
pub fn stop() -> Vec<Op> {
    lock().recording.take().map(|r| r.1).unwrap_or_default()
}

/// The files a disk could hold after a power cut just before `log[cut]`:
/// each file as of its last sync, plus a random subset of its later writes
/// (in their order). `keep` is the chance of each unsynced write surviving.
pub fn after_cut(
    start: &HashMap<String, Vec<u8>>,
    log: &[Op],
    cut: usize,
    keep: f64,
    rng: &mut impl RngCore,
) -> HashMap<String, Vec<u8>> {
    let mut durable: HashMap<String, Vec<u8>> = start.clone();
    let mut pending: HashMap<String, Vec<&Op>> = HashMap::new();
    for op in &log[..cut] {
        match op {
            Op::Create(f) => {
                durable.entry(f.clone()).or_default();
                pending.remove(f);
            }
            Op::Delete(f) => {
                durable.remove(f);
                pending.remove(f);
            }
            Op::Write(f, ..) | Op::Truncate(f, _) => pending.entry(f.clone()).or_default().push(op),
            Op::Sync(f) => {
                if let Some(ops) = pending.remove(f)
                    && let Some(d) = durable.get_mut(f)
                {
                    for op in ops {
                        apply(d, op);
                    }
                }
            }
        }
    }
    for (f, ops) in pending {
        if let Some(d) = durable.get_mut(&f) {
            for op in ops {
                if rng.random_bool(keep) {
                    apply(d, op);
                }
            }
        }
    }
    durable
}

fn apply(d: &mut Vec<u8>, op: &Op) {
    match op {
        Op::Write(_, off, data) => write_at(d, *off, data),
        Op::Truncate(_, len) => d.resize(usize::try_from(*len).unwrap_or(usize::MAX), 0),
        _ => {}
    }
}

fn write_at(d: &mut Vec<u8>, off: u64, data: &[u8]) {
    let off = usize::try_from(off).unwrap_or(usize::MAX);
    let end = off + data.len();
    if d.len() < end {
        d.resize(end, 0);
    }
    d[off..end].copy_from_slice(data);
}

struct PowerCutVfs(Arc<Mutex<Fs>>);

impl PowerCutVfs {
    fn fs(&self) -> MutexGuard<'_, Fs> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

struct Handle {
    fs: Arc<Mutex<Fs>>,
    name: String,
    id: u64,
    lock: LockKind,
}

impl Handle {
    fn fs(&self) -> MutexGuard<'_, Fs> {
        self.fs.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Vfs for PowerCutVfs {
    type Handle = Handle;

    fn open(&self, db: &str, opts: OpenOptions) -> Result<Handle, Error> {
        let mut fs = self.fs();
        let exists = fs.files.contains_key(db);
        match opts.access {
            OpenAccess::CreateNew if exists => {
                return Err(Error::new(ErrorKind::AlreadyExists, db.to_string()));
            }
            OpenAccess::Create | OpenAccess::CreateNew if !exists => {
                fs.files.insert(db.to_string(), Vec::new());
                fs.record(db, || Op::Create(db.to_string()));
            }
            _ if !exists => return Err(Error::new(ErrorKind::NotFound, db.to_string())),
            _ => {}
        }
        fs.next_id += 1;
        Ok(Handle {
            fs: self.0.clone(),
            name: db.to_string(),
            id: fs.next_id,
            lock: LockKind::None,
        })
    }

    fn delete(&self, db: &str) -> Result<(), Error> {
        let mut fs = self.fs();
        if fs.files.remove(db).is_none() {
            return Err(Error::new(ErrorKind::NotFound, db.to_string()));
        }
        fs.record(db, || Op::Delete(db.to_string()));
        Ok(())
    }

    fn exists(&self, db: &str) -> Result<bool, Error> {
        Ok(self.fs().files.contains_key(db))
    }

    fn temporary_name(&self) -> String {
        let mut fs = self.fs();
        fs.next_id += 1;
        format!("temp-{}", fs.next_id)
    }

    fn random(&self, buffer: &mut [i8]) {
        let mut rng = rand::rng();
        for b in buffer {
            *b = rng.random();
        }
    }

    fn sleep(&self, duration: Duration) -> Duration {
        std::thread::sleep(duration);
        duration
    }
}

impl DatabaseHandle for Handle {
    type WalIndex = WalDisabled;

    fn size(&self) -> Result<u64, Error> {
        Ok(self
            .fs()
            .files
            .get(&self.name)
            .map_or(0, |d| d.len() as u64))
    }

    fn read_exact_at(&mut self, buf: &mut [u8], offset: u64) -> Result<(), Error> {
        let fs = self.fs();
        let data = fs.files.get(&self.name).map(Vec::as_slice).unwrap_or(&[]);
        let off = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(data.len());
        let n = buf.len().min(data.len() - off);
        buf[..n].copy_from_slice(&data[off..off + n]);
        if n < buf.len() {
            // SQLite wants the rest zeroed on a short read.
            buf[n..].fill(0);
            return Err(Error::new(ErrorKind::UnexpectedEof, "short read"));
        }
        Ok(())
    }

    fn write_all_at(&mut self, buf: &[u8], offset: u64) -> Result<(), Error> {
        let mut fs = self.fs();
        let name = self.name.clone();
        let d = fs
            .files
            .get_mut(&name)
            .ok_or_else(|| Error::new(ErrorKind::NotFound, name.clone()))?;
        write_at(d, offset, buf);
        fs.record(&name, || Op::Write(name.clone(), offset, buf.to_vec()));
        Ok(())
    }

    fn sync(&mut self, _data_only: bool) -> Result<(), Error> {
        let mut fs = self.fs();
        let name = self.name.clone();
        fs.record(&name, || Op::Sync(name.clone()));
        Ok(())
    }

    fn set_len(&mut self, size: u64) -> Result<(), Error> {
        let mut fs = self.fs();
        let name = self.name.clone();
        if let Some(d) = fs.files.get_mut(&name) {
            d.resize(usize::try_from(size).unwrap_or(usize::MAX), 0);
        }
        fs.record(&name, || Op::Truncate(name.clone(), size));
        Ok(())
    }

    fn lock(&mut self, to: LockKind) -> Result<bool, Error> {
        let (id, name) = (self.id, self.name.clone());
        let mut fs = self.fs();
        let l = fs.locks.entry(name).or_default();
        let other_writer = l.writer.is_some_and(|(w, _)| w != id);
        let ok = match to {
            LockKind::None => {
                l.shared.remove(&id);
                if l.writer.is_some_and(|(w, _)| w == id) {
                    l.writer = None;
                }
                true
            }
            LockKind::Shared => {
                if l.writer.is_some_and(|(w, _)| w == id) {
                    l.writer = None;
                    l.shared.insert(id);
                    true
                } else if l
                    .writer
                    .is_some_and(|(_, k)| matches!(k, LockKind::Pending | LockKind::Exclusive))
                {
                    false
                } else {
                    l.shared.insert(id);
                    true
                }
            }
            LockKind::Reserved | LockKind::Pending if other_writer => false,
            LockKind::Reserved | LockKind::Pending => {
                l.writer = Some((id, to));
                true
            }
            LockKind::Exclusive if other_writer => false,
            LockKind::Exclusive => {
                if l.shared.iter().any(|s| *s != id) {
                    // Hold PENDING (no new readers) until the readers leave.
                    l.writer = Some((id, LockKind::Pending));
                    false
                } else {
                    l.writer = Some((id, LockKind::Exclusive));
                    true
                }
            }
        };
        drop(fs);
        if ok {
            self.lock = to;
        }
        Ok(ok)
    }

    fn reserved(&mut self) -> Result<bool, Error> {
        Ok(self
            .fs()
            .locks
            .get(&self.name)
            .is_some_and(|l| l.writer.is_some()))
    }

    fn current_lock(&self) -> Result<LockKind, Error> {
        Ok(self.lock)
    }

    fn wal_index(&self, _readonly: bool) -> Result<WalDisabled, Error> {
        Ok(WalDisabled)
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        let (id, name) = (self.id, self.name.clone());
        let mut fs = self.fs();
        if let Some(l) = fs.locks.get_mut(&name) {
            l.shared.remove(&id);
            if l.writer.is_some_and(|(w, _)| w == id) {
                l.writer = None;
            }
        }
    }
}
