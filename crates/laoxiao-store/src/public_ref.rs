//! Public references (公开编号) of facilities: what the public portal links and
//! files complaints by, in place of the register's `id`, which links people to
//! the place and is not public (docs/security.md, "Public facility fields").

use crate::Reference;
use crate::db::Conn;
use crate::error::Result;

/// The HMAC domain of facility references.
pub const FACILITY: &str = "facility";

/// Length of a reference (Crockford base32, lower case).
pub const LEN: usize = 12;

/// The public reference of a facility.
pub fn facility_ref(reference: &Reference, facility_id: &str) -> Result<String> {
    Ok(reference.keys()?.public_ref(FACILITY, facility_id))
}

/// Whether a string has the shape of a reference (checked before any lookup).
pub fn well_formed(r: &str) -> bool {
    r.len() == LEN
        && r.bytes()
            .all(|b| b.is_ascii_digit() || (b.is_ascii_lowercase() && !b"ilou".contains(&b)))
}

/// The facility (register id) a public reference names, among the facilities
/// not deleted; `None` when none does. It hashes every facility id, so callers
/// on a hot path keep their own map (the portal's place index does).
pub fn resolve_facility(conn: &mut Conn, reference: &Reference, r: &str) -> Result<Option<String>> {
    if !well_formed(r) {
        return Ok(None);
    }
    let keys = reference.keys()?;
    let rows = conn.query("SELECT id FROM facility WHERE deleted_at IS NULL", &[])?;
    for row in &rows {
        let id: String = row.get("id")?;
        if keys.public_ref(FACILITY, &id) == r {
            return Ok(Some(id));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Keys;

    #[test]
    fn a_reference_is_stable_distinct_and_well_formed() {
        let k = Keys::for_tests();
        let a = k.public_ref(FACILITY, "F1");
        assert_eq!(a, k.public_ref(FACILITY, "F1"));
        assert_ne!(a, k.public_ref(FACILITY, "F2"));
        assert_ne!(a, k.public_ref("other", "F1"));
        assert!(well_formed(&a), "{a}");
        assert!(!well_formed("ABCDEFGHJKMN"));
        assert!(!well_formed("abc"));
        assert!(!well_formed("abcdefghjkmi"));
    }
}
