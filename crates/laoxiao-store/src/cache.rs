//! Answers kept until the next write (缓存): figures and map points that
//! change only when a register they read is written. Each entry remembers the
//! versions ([`crate::versions`]) of the registers it read and is served only
//! while the database still holds those versions, so a write through any
//! server empties every server's stale entries at their next request.
//!
//! Bounded: at most [`MAX_ENTRIES`] entries; when full, stale entries go
//! first, then everything (the next requests recompute).

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::db::Conn;
use crate::error::Result;
use crate::versions::{self, Versions};

/// At most this many answers are kept (each a few kilobytes to a few hundred).
pub const MAX_ENTRIES: usize = 1024;

/// Which registers an answer reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reads {
    pub people: bool,
    pub facilities: bool,
    pub activity: bool,
}

impl Reads {
    pub const PEOPLE_AND_FACILITIES: Reads = Reads {
        people: true,
        facilities: true,
        activity: false,
    };
    pub const PEOPLE: Reads = Reads {
        people: true,
        facilities: false,
        activity: false,
    };
    pub const FACILITIES: Reads = Reads {
        people: false,
        facilities: true,
        activity: false,
    };

    /// The versions an answer depends on, the others zeroed.
    fn stamp(self, v: &Versions) -> Versions {
        Versions {
            database: v.database,
            person: if self.people { v.person } else { 0 },
            person_rebuilt: if self.people { v.person_rebuilt } else { 0 },
            facility: if self.facilities { v.facility } else { 0 },
            activity: if self.activity { v.activity } else { 0 },
            indicator: 0,
        }
    }
}

type Entry = (Reads, Versions, Arc<dyn Any + Send + Sync>);

/// The cache of a store (in [`crate::Reference`]).
#[derive(Default)]
pub struct Cache {
    entries: Mutex<HashMap<String, Entry>>,
    hits: std::sync::atomic::AtomicU64,
    misses: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache")
            .field("entries", &self.len())
            .finish()
    }
}

impl Cache {
    /// The answer under `key` if the registers it `reads` are unchanged since
    /// it was computed, else `compute`'s (kept for the next request).
    pub fn get_or<T, F>(&self, conn: &mut Conn, key: &str, reads: Reads, compute: F) -> Result<T>
    where
        T: Clone + Send + Sync + 'static,
        F: FnOnce(&mut Conn) -> Result<T>,
    {
        use std::sync::atomic::Ordering::Relaxed;
        let all = versions::read(conn)?;
        let now = reads.stamp(&all);
        if let Ok(m) = self.entries.lock()
            && let Some((_, at, v)) = m.get(key)
            && *at == now
            && let Some(v) = v.downcast_ref::<T>()
        {
            self.hits.fetch_add(1, Relaxed);
            return Ok(v.clone());
        }
        self.misses.fetch_add(1, Relaxed);
        // Computed outside the lock: two requests may both compute, and
        // the later one's answer (as fresh) is kept.
        let v = compute(conn)?;
        if let Ok(mut m) = self.entries.lock() {
            if m.len() >= MAX_ENTRIES && !m.contains_key(key) {
                m.retain(|_, (r, at, _)| *at == r.stamp(&all));
                if m.len() >= MAX_ENTRIES {
                    m.clear();
                }
            }
            m.insert(key.to_string(), (reads, now, Arc::new(v.clone())));
        }
        Ok(v)
    }

    /// How many answers are kept.
    pub fn len(&self) -> usize {
        self.entries.lock().map(|m| m.len()).unwrap_or(0)
    }

    /// Whether nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Answers served from the cache and computed, since the start.
    pub fn hits_and_misses(&self) -> (u64, u64) {
        use std::sync::atomic::Ordering::Relaxed;
        (self.hits.load(Relaxed), self.misses.load(Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdb::TestDb;

    #[test]
    fn an_answer_is_kept_until_a_register_it_reads_is_written() {
        let db = TestDb::sqlite().expect("db");
        let mut c = db.store.conn().expect("conn");
        let cache = Cache::default();
        let mut computed = 0;
        let mut get = |c: &mut Conn, reads: Reads, key: &str| {
            cache
                .get_or(c, key, reads, |_| {
                    computed += 1;
                    Ok(computed)
                })
                .expect("get")
        };
        assert_eq!(get(&mut c, Reads::FACILITIES, "f"), 1);
        assert_eq!(get(&mut c, Reads::FACILITIES, "f"), 1, "kept");
        versions::bump(&mut c, versions::PERSON).expect("bump");
        assert_eq!(
            get(&mut c, Reads::FACILITIES, "f"),
            1,
            "a people write leaves it"
        );
        versions::bump(&mut c, versions::FACILITY).expect("bump");
        assert_eq!(
            get(&mut c, Reads::FACILITIES, "f"),
            2,
            "a facility write drops it"
        );
        assert_eq!(get(&mut c, Reads::PEOPLE_AND_FACILITIES, "pf"), 3);
        versions::bump_rebuilt(&mut c, versions::PERSON).expect("bump");
        assert_eq!(get(&mut c, Reads::PEOPLE_AND_FACILITIES, "pf"), 4);
        assert_eq!(get(&mut c, Reads::FACILITIES, "f"), 2);
    }

    #[test]
    fn the_cache_never_holds_more_than_its_bound() {
        let db = TestDb::sqlite().expect("db");
        let mut c = db.store.conn().expect("conn");
        let cache = Cache::default();
        for i in 0..(MAX_ENTRIES + 10) {
            cache
                .get_or(&mut c, &format!("k{i}"), Reads::FACILITIES, |_| Ok(i))
                .expect("get");
            assert!(cache.len() <= MAX_ENTRIES);
        }
    }
}
