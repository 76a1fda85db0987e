//! The people index (人员检索索引): every live person's list and filter fields
//! held in memory, in list order, so that a list page, its exact count, any
//! combination of filters and a name search (Chinese characters or pinyin
//! initials) take a few milliseconds at city scale on either database.
//!
//! The database stays the record: the index holds ids, areas, registers,
//! statuses, birth dates, the filter codes and the names in search form, and
//! a page's records are read from the database by id. It is kept current by
//! the register versions ([`crate::versions`]): every person write bumps the
//! person version and stamps the row's `change_seq`, so at each query the
//! index fetches the rows changed since the version it holds (one indexed
//! query, usually empty) and patches itself; a bulk write marks the version
//! `rebuilt`, and the index reloads in the background while queries use SQL.
//! Several servers over one database each keep their own index and each sees
//! every other's writes at its next query.
//!
//! Memory: about 20 bytes per person plus the texts (id, name, initials), about
//! 40 MB at scale 1 (1.16 M people); `docs/benchmarks.md` has the figures.
//! Names are personal data: they live here as they live in the database's
//! page cache, and nothing here logs them.

use std::cmp::Ordering;
use std::sync::{Arc, Mutex, OnceLock, RwLock, RwLockReadGuard};

use chrono::{Datelike, NaiveDate};
use laoxiao_model::PersonRole;
use laoxiao_model::person::{LivingArrangement, PersonStatus, SpecialDifficulty};

use crate::db::{Conn, Pool, Row, Value};
use crate::error::{Result, StoreError};
use crate::path_upper;
use crate::people::PersonQuery;
use crate::versions::{self, Versions};

/// Rows fetched per round trip while building.
const BUILD_BATCH: i64 = 50_000;
/// More changed rows than this since the index's version: reload instead.
const MAX_PATCH: i64 = 20_000;
/// Texts longer than this (bytes) are not indexable; the index then stays
/// unbuilt and queries use SQL. Declarations bound ids and names far below.
const MAX_TEXT: usize = u16::MAX as usize;

/// The columns the index reads.
const COLUMNS: &str = "id, role, area_path, status, birth_date, ability_level, \
     living_arrangement, dementia, special_difficulty, name, change_seq, deleted_at";

/// One person in the index. The texts (id, then the name in search form,
/// then the pinyin initials) are in the arena at `text`.
#[derive(Debug, Clone, Copy)]
struct Entry {
    text: u32,
    birth: i32,
    area: u16,
    id_len: u16,
    name_len: u16,
    ini_len: u16,
    role: u8,
    status: u8,
    /// 0: none; else the level + 1.
    ability: u8,
    /// 0: none; else the arrangement's position + 1.
    living: u8,
    dementia: bool,
    /// Bit i: the i-th [`SpecialDifficulty`].
    categories: u8,
}

/// The index proper: entries in list order (area path, register, id).
#[derive(Debug)]
struct Built {
    versions: Versions,
    /// Which build this is (a patch applies only to the build it read).
    generation: u64,
    /// Every area path of the reference tree, sorted; an entry's `area` is a
    /// position here, so positions order as paths do.
    paths: Arc<[Box<str>]>,
    entries: Vec<Entry>,
    arena: Vec<u8>,
    /// Bytes of the arena no entry points to any more.
    garbage: usize,
    /// Counts asked at this version (emptied by every patch): a count is
    /// kept until the next write.
    counts: Mutex<std::collections::HashMap<String, i64>>,
}

/// A person's indexed fields, as read from a row.
struct Item {
    id: String,
    live: bool,
    area: u16,
    entry: Entry,
    name: String,
    initials: String,
}

/// The shared index of a store (in [`Reference`]).
#[derive(Debug, Default)]
pub struct PeopleIndex {
    built: RwLock<Option<Built>>,
    /// Held while patching or starting a build, so that one request does it.
    sync: Mutex<()>,
    building: std::sync::atomic::AtomicBool,
    /// Whether this process keeps the index (servers do; one-off commands
    /// and most tests do not, and use SQL).
    enabled: std::sync::atomic::AtomicBool,
    /// The pool background builds use and the area paths (attached when the
    /// store opens).
    attached: OnceLock<(Pool, Arc<[Box<str>]>)>,
}

/// What a query asks of the index: the filters of [`PersonQuery`] resolved.
struct Filter {
    role: Option<u8>,
    status: Option<u8>,
    ability: Option<u8>,
    living: Option<u8>,
    dementia: Option<bool>,
    category: Option<u8>,
    /// Born on or after / on or before (days from the common era).
    born_after: Option<i32>,
    born_until: Option<i32>,
    /// Lower-case text to find in the name, or in the initials when ASCII.
    text: Option<String>,
    finder: Option<memchr::memmem::Finder<'static>>,
    /// Whether the text may match initials (ASCII letters and digits only).
    initials: bool,
}

/// A question to the index: the subtrees a match must lie in (the scope's,
/// the asked area's), where to start, and the filters.
pub struct Ask<'a> {
    pub within: Vec<&'a str>,
    /// Start after this (area path, register, id): the cursor's place.
    pub after: Option<(&'a str, PersonRole, &'a str)>,
    pub query: &'a PersonQuery,
    pub today: NaiveDate,
}

fn days(d: NaiveDate) -> i32 {
    d.num_days_from_ce()
}

fn role_code(r: PersonRole) -> u8 {
    // List order is by the register's code: "elderly" < "infant".
    match r {
        PersonRole::Elderly => 0,
        PersonRole::Infant => 1,
    }
}

fn position<T: PartialEq + Copy>(all: &[T], x: T) -> u8 {
    all.iter().position(|v| *v == x).map_or(0, |i| i as u8 + 1)
}

fn living_code(l: LivingArrangement) -> u8 {
    position(LivingArrangement::ALL, l)
}

fn status_code(s: PersonStatus) -> u8 {
    position(PersonStatus::ALL, s)
}

fn category_bit(c: SpecialDifficulty) -> u8 {
    SpecialDifficulty::ALL
        .iter()
        .position(|v| *v == c)
        .map_or(0, |i| 1u8 << i)
}

/// The pinyin initials of a name, lower case, for searches typed on a phone
/// ("wxm" finds 王小明). A character with several readings (单 shàn/dān)
/// gives every reading's initial: the name's variants, up to eight, are kept
/// separated by `|` (no query crosses it). Characters without a reading (Latin
/// letters, digits) are kept as they are, lower case.
pub fn initials(name: &str) -> String {
    use pinyin::ToPinyinMulti;
    let mut variants: Vec<String> = vec![String::new()];
    for ch in name.chars() {
        let mut firsts: Vec<char> = Vec::new();
        if let Some(multi) = ch.to_pinyin_multi() {
            for p in multi {
                if let Some(f) = p.first_letter().chars().next() {
                    let f = f.to_ascii_lowercase();
                    if !firsts.contains(&f) {
                        firsts.push(f);
                    }
                }
            }
        } else if ch.is_ascii_alphanumeric() {
            firsts.push(ch.to_ascii_lowercase());
        }
        if firsts.is_empty() {
            continue;
        }
        let mut next = Vec::new();
        for v in &variants {
            for f in &firsts {
                if next.len() < 8 {
                    next.push(format!("{v}{f}"));
                }
            }
        }
        variants = next;
    }
    variants.join("|")
}

/// The name as searched: ASCII letters in lower case (SQL's LIKE ignores
/// their case), everything else as written.
fn search_form(name: &str) -> String {
    name.to_ascii_lowercase()
}

impl Built {
    fn text(&self, e: &Entry) -> &[u8] {
        let start = e.text as usize;
        &self.arena[start..start + e.id_len as usize]
    }

    fn name(&self, e: &Entry) -> &[u8] {
        let start = e.text as usize + e.id_len as usize;
        &self.arena[start..start + e.name_len as usize]
    }

    fn initials(&self, e: &Entry) -> &[u8] {
        let start = e.text as usize + e.id_len as usize + e.name_len as usize;
        &self.arena[start..start + e.ini_len as usize]
    }

    fn cmp_key(&self, e: &Entry, area: u16, role: u8, id: &[u8]) -> Ordering {
        (e.area, e.role)
            .cmp(&(area, role))
            .then_with(|| self.text(e).cmp(id))
    }

    /// Where `(area, role, id)` is or would be.
    fn find(&self, area: u16, role: u8, id: &[u8]) -> std::result::Result<usize, usize> {
        self.entries
            .binary_search_by(|e| self.cmp_key(e, area, role, id))
    }

    fn area_of(&self, path: &str) -> Option<u16> {
        self.paths
            .binary_search_by(|p| p.as_ref().cmp(path))
            .ok()
            .and_then(|i| u16::try_from(i).ok())
    }

    /// The entries whose area path starts with `prefix` (a subtree).
    fn subtree(&self, prefix: &str) -> std::ops::Range<usize> {
        let lo = self.paths.partition_point(|p| p.as_ref() < prefix);
        let upper = path_upper(prefix);
        let hi = self.paths.partition_point(|p| p.as_ref() < upper.as_str());
        let first = self.entries.partition_point(|e| (e.area as usize) < lo);
        let end = self.entries.partition_point(|e| (e.area as usize) < hi);
        first..end.max(first)
    }

    fn push_text(&mut self, item: &Item) -> Option<u32> {
        let at = u32::try_from(self.arena.len()).ok()?;
        self.arena.extend_from_slice(item.id.as_bytes());
        self.arena.extend_from_slice(item.name.as_bytes());
        self.arena.extend_from_slice(item.initials.as_bytes());
        Some(at)
    }

    fn remove(&mut self, area: u16, role: u8, id: &str) {
        if let Ok(i) = self.find(area, role, id.as_bytes()) {
            let e = self.entries.remove(i);
            self.garbage += e.id_len as usize + e.name_len as usize + e.ini_len as usize;
        }
    }

    /// Where each changed person is now (`None`: not in the index), by a
    /// binary search at the row's own place (most writes move nobody), then
    /// one pass over the entries for the rest (new people, moves).
    fn places(&self, items: &[Item]) -> Vec<Option<(u16, u8)>> {
        let mut out: Vec<Option<(u16, u8)>> = items
            .iter()
            .map(|it| {
                self.find(it.area, it.entry.role, it.id.as_bytes())
                    .ok()
                    .map(|_| (it.area, it.entry.role))
            })
            .collect();
        let missing: Vec<usize> = (0..items.len()).filter(|i| out[*i].is_none()).collect();
        if !missing.is_empty() {
            for e in &self.entries {
                for &i in &missing {
                    let id = items[i].id.as_bytes();
                    if e.id_len as usize == id.len() && self.text(e) == id {
                        out[i] = Some((e.area, e.role));
                    }
                }
            }
        }
        out
    }

    /// Applies changed rows at the places [`Built::places`] found; `false` if
    /// one cannot be held (the caller then drops the index).
    fn patch(&mut self, items: Vec<Item>, places: Vec<Option<(u16, u8)>>) -> bool {
        for (item, old) in items.into_iter().zip(places) {
            if let Some((area, role)) = old {
                self.remove(area, role, &item.id);
            }
            if !item.live {
                continue;
            }
            let Some(at) = self.push_text(&item) else {
                return false;
            };
            let mut e = item.entry;
            e.text = at;
            let i = match self.find(e.area, e.role, item.id.as_bytes()) {
                Ok(i) | Err(i) => i,
            };
            self.entries.insert(i, e);
        }
        if self.garbage > 16 << 20 && self.garbage > self.arena.len() / 2 {
            self.compact();
        }
        true
    }

    /// Copies the live texts into a new arena (after many updates).
    fn compact(&mut self) {
        let mut arena = Vec::with_capacity(self.arena.len() - self.garbage);
        for e in &mut self.entries {
            let start = e.text as usize;
            let len = e.id_len as usize + e.name_len as usize + e.ini_len as usize;
            // Cannot overflow: the new arena is smaller than the old one.
            e.text = arena.len() as u32;
            arena.extend_from_slice(&self.arena[start..start + len]);
        }
        self.arena = arena;
        self.garbage = 0;
    }

    fn matches(&self, e: &Entry, f: &Filter) -> bool {
        if f.role.is_some_and(|r| r != e.role)
            || f.status.is_some_and(|s| s != e.status)
            || f.ability.is_some_and(|a| a != e.ability)
            || f.living.is_some_and(|l| l != e.living)
            || f.dementia.is_some_and(|d| d != e.dementia)
            || f.category.is_some_and(|c| e.categories & c == 0)
            || f.born_after.is_some_and(|d| e.birth <= d)
            || f.born_until.is_some_and(|d| e.birth > d)
        {
            return false;
        }
        match &f.finder {
            None => true,
            Some(find) => {
                find.find(self.name(e)).is_some()
                    || (f.initials && find.find(self.initials(e)).is_some())
            }
        }
    }
}

/// Reads one row into an [`Item`]; `None` if the row cannot be indexed.
fn item(paths: &[Box<str>], r: &Row) -> Result<Option<Item>> {
    let id: String = r.get("id")?;
    let path: String = r.get("area_path")?;
    let Some(area) = paths
        .binary_search_by(|p| p.as_ref().cmp(path.as_str()))
        .ok()
        .and_then(|i| u16::try_from(i).ok())
    else {
        return Ok(None);
    };
    let role: PersonRole = r.parse("role")?;
    let status: PersonStatus = r.parse("status")?;
    let birth: NaiveDate = r.get("birth_date")?;
    let ability: Option<i64> = r.get("ability_level")?;
    let living: Option<LivingArrangement> = r.parse_opt("living_arrangement")?;
    let dementia: bool = r.get("dementia")?;
    let cats: Option<String> = r.get("special_difficulty")?;
    let name: String = r.get("name")?;
    let deleted: Option<String> = r.get("deleted_at")?;
    let mut categories = 0u8;
    for code in cats.as_deref().unwrap_or("").split(';') {
        if let Ok(c) = code.parse::<SpecialDifficulty>() {
            categories |= category_bit(c);
        }
    }
    let name_s = search_form(&name);
    let ini = initials(&name);
    if id.len() > MAX_TEXT || name_s.len() > MAX_TEXT || ini.len() > MAX_TEXT {
        return Ok(None);
    }
    let ability = match ability {
        Some(n) => u8::try_from(n)
            .ok()
            .filter(|n| *n <= 4)
            .map_or(0, |n| n + 1),
        None => 0,
    };
    Ok(Some(Item {
        entry: Entry {
            text: 0,
            birth: days(birth),
            area,
            id_len: id.len() as u16,
            name_len: name_s.len() as u16,
            ini_len: ini.len() as u16,
            role: role_code(role),
            status: status_code(status),
            ability,
            living: living.map_or(0, living_code),
            dementia,
            categories,
        },
        live: deleted.is_none(),
        area,
        id,
        name: name_s,
        initials: ini,
    }))
}

impl PeopleIndex {
    /// Gives the index its database and the area tree; until then every
    /// query uses SQL.
    pub fn attach(&self, pool: Pool, areas: &laoxiao_model::AreaTree) {
        let mut all: Vec<Box<str>> = areas
            .all()
            .iter()
            .map(|a| a.path.clone().into_boxed_str())
            .collect();
        all.sort();
        all.dedup();
        let _ = self.attached.set((pool, all.into()));
    }

    /// Whether the index is built and current as of `v`.
    fn current(built: &Option<Built>, v: &Versions) -> bool {
        built.as_ref().is_some_and(|b| {
            b.versions.database == v.database
                && b.versions.person_rebuilt == v.person_rebuilt
                && b.versions.person >= v.person
        })
    }

    /// Keeps the index from now on: builds it in the background now and
    /// again after each bulk write. Servers call this when they start.
    pub fn warm(self: &Arc<Self>) {
        self.enabled
            .store(true, std::sync::atomic::Ordering::SeqCst);
        self.build_in_background();
    }

    /// Builds the index now, on this connection, and keeps it from now on.
    pub fn build(&self, conn: &mut Conn) -> Result<()> {
        self.enabled
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let Some((_, paths)) = self.attached.get() else {
            return Ok(());
        };
        let v = versions::read(conn)?;
        let built = load(conn, Arc::clone(paths), v)?;
        if let Ok(mut b) = self.built.write() {
            *b = built;
        }
        Ok(())
    }

    /// Starts a build on a thread of its own, unless one is running or no
    /// pool is attached.
    pub fn build_in_background(self: &Arc<Self>) {
        use std::sync::atomic::Ordering as A;
        let Some((pool, _)) = self.attached.get() else {
            return;
        };
        let pool = pool.clone();
        if self.building.swap(true, A::SeqCst) {
            return;
        }
        let me = Arc::clone(self);
        let spawned = std::thread::Builder::new()
            .name("people-index".into())
            .spawn(move || {
                let started = std::time::Instant::now();
                let result = pool.conn().and_then(|mut c| me.build(&mut c));
                match result {
                    Ok(()) => tracing::info!(
                        seconds = started.elapsed().as_secs_f64(),
                        people = me.len(),
                        "people index built"
                    ),
                    // The error names a column or the database, never a person.
                    Err(e) => tracing::warn!(error = %e, "people index not built; lists use SQL"),
                }
                me.building.store(false, A::SeqCst);
            });
        if spawned.is_err() {
            self.building.store(false, A::SeqCst);
        }
    }

    /// How many people the index holds (0 when not built).
    pub fn len(&self) -> usize {
        self.built
            .read()
            .ok()
            .and_then(|b| b.as_ref().map(|b| b.entries.len()))
            .unwrap_or(0)
    }

    /// Whether the index holds nobody (or is not built).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The index, current as of now, or `None` when it is not built yet (or
    /// is being rebuilt after a bulk write): the caller then uses SQL.
    fn fresh(
        self: &Arc<Self>,
        conn: &mut Conn,
    ) -> Result<Option<RwLockReadGuard<'_, Option<Built>>>> {
        if self.attached.get().is_none() || !self.enabled.load(std::sync::atomic::Ordering::SeqCst)
        {
            return Ok(None);
        }
        let v = versions::read(conn)?;
        {
            let b = self.read()?;
            if Self::current(&b, &v) {
                return Ok(Some(b));
            }
        }
        let _one = self
            .sync
            .lock()
            .map_err(|_| StoreError::Database("people index lock poisoned".into()))?;
        let (patchable, seen, paths) = {
            let b = self.read()?;
            if Self::current(&b, &v) {
                return Ok(Some(b));
            }
            match b.as_ref() {
                Some(x)
                    if x.versions.database == v.database
                        && x.versions.person_rebuilt == v.person_rebuilt
                        && v.person - x.versions.person <= MAX_PATCH =>
                {
                    (true, x.versions.person, Arc::clone(&x.paths))
                }
                _ => (false, 0, Arc::from(Vec::new())),
            }
        };
        if !patchable {
            // Drop what is stale now, so memory does not hold two indexes.
            if let Ok(mut b) = self.built.write() {
                *b = None;
            }
            self.build_in_background();
            return Ok(None);
        }
        let rows = conn.query(
            &format!(
                "SELECT {COLUMNS} FROM person WHERE change_seq > $1 AND change_seq > 0 ORDER BY change_seq"
            ),
            &[Value::Int(seen)],
        )?;
        let mut top = v.person;
        let mut items = Vec::with_capacity(rows.len());
        for r in &rows {
            let seq: i64 = r.get("change_seq")?;
            top = top.max(seq);
            let Some(it) = item(&paths, r)? else {
                if let Ok(mut b) = self.built.write() {
                    *b = None;
                }
                return Ok(None);
            };
            items.push(it);
        }
        // Old places are found under the read lock (queries go on meanwhile);
        // only this request patches (the sync lock), so they still hold when
        // the write lock is taken, unless a build replaced the index.
        let (places, generation) = {
            let b = self.read()?;
            match b.as_ref() {
                Some(x) => (x.places(&items), x.generation),
                None => return Ok(None),
            }
        };
        {
            let mut b = self
                .built
                .write()
                .map_err(|_| StoreError::Database("people index lock poisoned".into()))?;
            let Some(x) = b.as_mut().filter(|x| x.generation == generation) else {
                return Ok(None);
            };
            if !x.patch(items, places) {
                *b = None;
                return Ok(None);
            }
            if let Ok(mut k) = x.counts.lock() {
                k.clear();
            }
            x.versions = Versions { person: top, ..v };
        }
        let b = self.read()?;
        Ok(Self::current(&b, &v).then_some(b))
    }

    /// Whether the index answers queries now (built, and current after
    /// fetching what changed); `false` while it (re)builds, when queries use SQL.
    pub fn ready(self: &Arc<Self>, conn: &mut Conn) -> Result<bool> {
        Ok(self.fresh(conn)?.is_some_and(|b| b.is_some()))
    }

    fn read(&self) -> Result<RwLockReadGuard<'_, Option<Built>>> {
        self.built
            .read()
            .map_err(|_| StoreError::Database("people index lock poisoned".into()))
    }
}

/// Reads every person into a new index.
fn load(conn: &mut Conn, paths: Arc<[Box<str>]>, v: Versions) -> Result<Option<Built>> {
    static GENERATION: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let mut b = Built {
        versions: v,
        generation: GENERATION.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        paths: Arc::clone(&paths),
        entries: Vec::new(),
        arena: Vec::new(),
        garbage: 0,
        counts: Mutex::default(),
    };
    // In list order, in batches by the list index, so the entries arrive sorted.
    let mut after: Option<(String, String, String)> = None;
    loop {
        let (w, p): (String, Vec<Value>) = match &after {
            None => ("deleted_at IS NULL".into(), vec![]),
            Some((path, role, id)) => (
                // A row value: both databases seek the list index to it.
                "deleted_at IS NULL AND (area_path, role, id) > ($1, $2, $3)".into(),
                vec![
                    path.as_str().into(),
                    role.as_str().into(),
                    id.as_str().into(),
                ],
            ),
        };
        let hint = match conn.backend() {
            crate::db::Backend::Sqlite => " INDEXED BY person_list_idx",
            crate::db::Backend::Postgres => "",
        };
        let rows = conn.query(
            &format!(
                "SELECT {COLUMNS} FROM person{hint} WHERE {w} ORDER BY area_path, role, id LIMIT {BUILD_BATCH}"
            ),
            &p,
        )?;
        let Some(last) = rows.last() else { break };
        after = Some((last.get("area_path")?, last.get("role")?, last.get("id")?));
        let n = rows.len();
        for r in &rows {
            let Some(it) = item(&paths, r)? else {
                return Ok(None);
            };
            let Some(at) = b.push_text(&it) else {
                return Ok(None);
            };
            let mut e = it.entry;
            e.text = at;
            b.entries.push(e);
        }
        if (n as i64) < BUILD_BATCH {
            break;
        }
    }
    // The database's collation decides its order; the index orders by bytes.
    let mut entries = std::mem::take(&mut b.entries);
    entries.sort_by(|x, y| {
        (x.area, x.role)
            .cmp(&(y.area, y.role))
            .then_with(|| b.text(x).cmp(b.text(y)))
    });
    b.entries = entries;
    b.entries.shrink_to_fit();
    b.arena.shrink_to_fit();
    Ok(Some(b))
}

impl Filter {
    /// `None` when the index cannot answer (an ID-number lookup: SQL has its
    /// keyed hash).
    fn of(q: &PersonQuery, today: NaiveDate) -> Option<Filter> {
        let text = match q.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            Some(t) if laoxiao_model::idcard::parse(t).is_ok() => return None,
            Some(t) => Some(t.to_ascii_lowercase()),
            None => None,
        };
        Some(Filter {
            role: q.role.map(role_code),
            status: q.status.map(status_code),
            ability: q.ability_level.map(|a| a.number() + 1),
            living: q.living_arrangement.map(living_code),
            dementia: q.dementia,
            category: q.category.map(category_bit),
            born_until: q
                .min_age
                .map(|m| days(crate::people::years_before(today, m))),
            born_after: q
                .max_age
                .map(|m| days(crate::people::years_before(today, m.saturating_add(1)))),
            initials: text
                .as_deref()
                .is_some_and(|t| t.bytes().all(|b| b.is_ascii_alphanumeric())),
            finder: text
                .as_deref()
                .map(|t| memchr::memmem::Finder::new(t.as_bytes()).into_owned()),
            text,
        })
    }

    /// A key naming the filter, for the kept counts.
    fn key(&self) -> String {
        format!(
            "{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
            self.role,
            self.status,
            self.ability,
            self.living,
            self.dementia,
            self.category,
            self.born_after,
            self.born_until,
            self.text
        )
    }
}

impl Built {
    /// The entries every subtree of `within` holds.
    fn range(&self, within: &[&str]) -> std::ops::Range<usize> {
        let mut r = 0..self.entries.len();
        for prefix in within {
            let s = self.subtree(prefix);
            r = r.start.max(s.start)..r.end.min(s.end);
        }
        r.start..r.end.max(r.start)
    }
}

impl PeopleIndex {
    /// The ids of a page: at most `limit + 1` matches in list order (one more
    /// than asked tells the caller there is a next page). `None`: use SQL.
    pub fn page(
        self: &Arc<Self>,
        conn: &mut Conn,
        ask: &Ask<'_>,
        limit: usize,
    ) -> Result<Option<Vec<String>>> {
        let Some(f) = Filter::of(ask.query, ask.today) else {
            return Ok(None);
        };
        let Some(guard) = self.fresh(conn)? else {
            return Ok(None);
        };
        let Some(b) = guard.as_ref() else {
            return Ok(None);
        };
        let mut r = b.range(&ask.within);
        if let Some((path, role, id)) = ask.after {
            let Some(area) = b.area_of(path) else {
                return Ok(None);
            };
            let from = match b.find(area, role_code(role), id.as_bytes()) {
                Ok(i) => i + 1,
                Err(i) => i,
            };
            r.start = r.start.max(from).min(r.end);
        }
        let mut ids = Vec::new();
        for e in &b.entries[r] {
            if b.matches(e, &f) {
                ids.push(String::from_utf8_lossy(b.text(e)).into_owned());
                if ids.len() > limit {
                    break;
                }
            }
        }
        Ok(Some(ids))
    }

    /// Live people in each band by child area, as [`crate::tally::count`]
    /// answers (system scope), from memory. `None`: use the tally.
    pub fn tally(
        self: &Arc<Self>,
        conn: &mut Conn,
        at: &crate::tally::Where<'_>,
        bands: &[crate::tally::Band],
    ) -> Result<Option<Vec<std::collections::BTreeMap<String, i64>>>> {
        let Some(guard) = self.fresh(conn)? else {
            return Ok(None);
        };
        let Some(b) = guard.as_ref() else {
            return Ok(None);
        };
        let status = at.status.map(status_code);
        let bands: Vec<(u8, i32, i32)> = bands
            .iter()
            .map(|x| {
                (
                    role_code(x.role),
                    x.after.map_or(i32::MIN, days),
                    x.until.map_or(i32::MAX, days),
                )
            })
            .collect();
        let mut out = vec![std::collections::BTreeMap::new(); bands.len()];
        let r = b.range(&[at.path]);
        let entries = &b.entries[r];
        let mut i = 0;
        // One run per area (entries are in area order): the child code is
        // cut once per run.
        while i < entries.len() {
            let area = entries[i].area;
            let end = i + entries[i..].partition_point(|e| e.area == area);
            let mut n = vec![0i64; bands.len()];
            for e in &entries[i..end] {
                if status.is_some_and(|s| s != e.status) {
                    continue;
                }
                for (k, (role, after, until)) in bands.iter().enumerate() {
                    if e.role == *role && e.birth > *after && e.birth <= *until {
                        n[k] += 1;
                    }
                }
            }
            let child = at.child_of(&b.paths[area as usize]);
            for (k, n) in n.into_iter().enumerate() {
                if n != 0 {
                    *out[k].entry(child.clone()).or_insert(0) += n;
                }
            }
            i = end;
        }
        Ok(Some(out))
    }

    /// The exact number of matches. `None`: use SQL.
    pub fn count(self: &Arc<Self>, conn: &mut Conn, ask: &Ask<'_>) -> Result<Option<i64>> {
        let Some(f) = Filter::of(ask.query, ask.today) else {
            return Ok(None);
        };
        let Some(guard) = self.fresh(conn)? else {
            return Ok(None);
        };
        let Some(b) = guard.as_ref() else {
            return Ok(None);
        };
        let r = b.range(&ask.within);
        let key = format!("{}..{}|{}", r.start, r.end, f.key());
        if let Some(n) = b.counts.lock().ok().and_then(|k| k.get(&key).copied()) {
            return Ok(Some(n));
        }
        let n = b.entries[r].iter().filter(|e| b.matches(e, &f)).count() as i64;
        if let Ok(mut k) = b.counts.lock() {
            // Bounded: a burst of distinct questions starts the memory over.
            if k.len() >= 4096 {
                k.clear();
            }
            k.insert(key, n);
        }
        Ok(Some(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initials_take_every_reading_of_a_character() {
        assert!(initials("王小明").split('|').any(|x| x == "wxm"));
        assert_eq!(initials("李小明"), "lxm");
        // 单 reads shàn as a family name, dān and chán otherwise: all are kept.
        let v = initials("单田芳");
        for want in ["stf", "dtf"] {
            assert!(v.split('|').any(|x| x == want), "{want} in {v}");
        }
        assert_eq!(initials("Anna 李"), "annal");
        assert_eq!(initials(""), "");
    }

    #[test]
    fn a_name_with_many_polyphonic_characters_keeps_at_most_eight_variants() {
        let v = initials("单单单单单单");
        assert!(v.split('|').count() <= 8, "{v}");
        assert!(v.split('|').all(|x| x.chars().count() == 6), "{v}");
    }

    #[test]
    fn names_match_by_characters_or_by_initials_but_not_across_variants() {
        let mut b = Built {
            versions: Versions::default(),
            generation: 0,
            paths: Arc::from(vec![Box::<str>::from("/1/")]),
            entries: Vec::new(),
            arena: Vec::new(),
            garbage: 0,
            counts: Mutex::default(),
        };
        let name = "单田芳";
        let it = Item {
            id: "P1".into(),
            live: true,
            area: 0,
            entry: Entry {
                text: 0,
                birth: 0,
                area: 0,
                id_len: 2,
                name_len: name.len() as u16,
                ini_len: initials(name).len() as u16,
                role: 0,
                status: 1,
                ability: 0,
                living: 0,
                dementia: false,
                categories: 0,
            },
            name: name.into(),
            initials: initials(name),
        };
        let places = b.places(std::slice::from_ref(&it));
        assert!(b.patch(vec![it], places));
        let filter = |t: &str| Filter {
            role: None,
            status: None,
            ability: None,
            living: None,
            dementia: None,
            category: None,
            born_after: None,
            born_until: None,
            text: Some(t.into()),
            finder: Some(memchr::memmem::Finder::new(t.as_bytes()).into_owned()),
            initials: t.bytes().all(|b| b.is_ascii_alphanumeric()),
        };
        let e = b.entries[0];
        for hit in ["田", "单田芳", "stf", "tf", "dt"] {
            assert!(b.matches(&e, &filter(hit)), "{hit}");
        }
        for miss in ["王", "fs", "p1", "stfd"] {
            assert!(!b.matches(&e, &filter(miss)), "{miss}");
        }
    }
}
