//! Proof of work for the public portal's forms (工作量证明): what a visitor's
//! browser spends instead of a third-party CAPTCHA. The server hands out a
//! signed, expiring **challenge**; the page's script looks for a **nonce**
//! (a decimal number) such that `SHA-256(challenge ‖ nonce)` — the two ASCII
//! strings one after the other — starts with `bits` zero bits. Checking is
//! one hash; finding takes about `2^bits` hashes.
//!
//! A challenge is `v1.{bits}.{issued}.{salt}.{mac}`: the format, the
//! difficulty, the issue time (Unix seconds), 16 random hex digits and a MAC
//! over the rest made with a key only the server holds (the store signs and
//! checks it: `laoxiao_store::portal_public`). This module is the pure part:
//! the format, the hash test and a solver (for tests and tools).

use sha2::{Digest, Sha256};

/// The challenge format's tag.
pub const FORMAT: &str = "v1";
/// A challenge is at most this long (bytes); anything longer is refused
/// before it is parsed.
pub const MAX_CHALLENGE: usize = 120;
/// A nonce is at most this many decimal digits.
pub const MAX_NONCE: usize = 20;
/// The difficulty a challenge may name: at most this many bits.
pub const MAX_BITS: u32 = 32;

/// A parsed challenge (its MAC is checked by the store).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub bits: u32,
    /// Unix seconds.
    pub issued: i64,
    /// 16 lower-case hex digits, random: what marks a challenge used.
    pub salt: String,
    pub mac: String,
}

impl Challenge {
    /// The text the MAC covers: everything but the MAC.
    pub fn signed_part(bits: u32, issued: i64, salt: &str) -> String {
        format!("{FORMAT}.{bits}.{issued}.{salt}")
    }

    /// The challenge as the page carries it.
    pub fn text(&self) -> String {
        format!(
            "{}.{}",
            Challenge::signed_part(self.bits, self.issued, &self.salt),
            self.mac
        )
    }

    /// Parses `v1.{bits}.{issued}.{salt}.{mac}`; `None` for anything else.
    pub fn parse(s: &str) -> Option<Challenge> {
        if s.len() > MAX_CHALLENGE || !s.is_ascii() {
            return None;
        }
        let mut it = s.split('.');
        let (Some(f), Some(b), Some(i), Some(salt), Some(mac), None) = (
            it.next(),
            it.next(),
            it.next(),
            it.next(),
            it.next(),
            it.next(),
        ) else {
            return None;
        };
        let digits = |x: &str, max: usize| {
            !x.is_empty() && x.len() <= max && x.bytes().all(|c| c.is_ascii_digit())
        };
        if f != FORMAT || !digits(b, 2) || !digits(i, 12) {
            return None;
        }
        if salt.len() != 16 || !salt.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')) {
            return None;
        }
        if mac.is_empty() || mac.len() > 32 || !mac.bytes().all(|c| c.is_ascii_alphanumeric()) {
            return None;
        }
        let bits: u32 = b.parse().ok()?;
        if bits > MAX_BITS {
            return None;
        }
        Some(Challenge {
            bits,
            issued: i.parse().ok()?,
            salt: salt.to_string(),
            mac: mac.to_string(),
        })
    }
}

/// Leading zero bits of a byte string.
pub fn leading_zero_bits(h: &[u8]) -> u32 {
    let mut n = 0;
    for b in h {
        if *b == 0 {
            n += 8;
        } else {
            return n + b.leading_zeros();
        }
    }
    n
}

/// Whether `nonce` (1 to [`MAX_NONCE`] decimal digits) solves `challenge` at
/// `bits`: `SHA-256(challenge ‖ nonce)` starts with `bits` zero bits.
pub fn solves(challenge: &str, nonce: &str, bits: u32) -> bool {
    if nonce.is_empty() || nonce.len() > MAX_NONCE || !nonce.bytes().all(|c| c.is_ascii_digit()) {
        return false;
    }
    let mut h = Sha256::new();
    h.update(challenge.as_bytes());
    h.update(nonce.as_bytes());
    leading_zero_bits(&h.finalize()) >= bits
}

/// The first nonce from 0 that solves `challenge` at `bits`, trying at most
/// `max` (what the page's script does, for tests and tools).
pub fn solve(challenge: &str, bits: u32, max: u64) -> Option<String> {
    (0..max)
        .map(|n| n.to_string())
        .find(|n| solves(challenge, n, bits))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_bits_are_counted_across_bytes() {
        assert_eq!(leading_zero_bits(&[0x80]), 0);
        assert_eq!(leading_zero_bits(&[0x01]), 7);
        assert_eq!(leading_zero_bits(&[0, 0x10, 0xff]), 11);
        assert_eq!(leading_zero_bits(&[0, 0]), 16);
    }

    #[test]
    fn a_known_answer() {
        // `printf 1 | sha256sum` = 6b86b273…: 0x6b = 0110_1011, one zero bit.
        assert!(solves("", "1", 1));
        assert!(!solves("", "1", 2));
        assert!(!solves("ab", "", 0), "an empty nonce is refused");
        assert!(!solves("ab", "1x", 0), "a nonce is digits only");
        assert!(!solves("ab", &"1".repeat(21), 0), "a nonce is bounded");
    }

    #[test]
    fn a_solution_is_found_and_checked_and_a_wrong_one_is_not() {
        let c = "v1.12.1767225600.0123456789abcdef.mac";
        let n = solve(c, 12, 1 << 20).expect("solved");
        assert!(solves(c, &n, 12));
        // The hash itself, computed independently here.
        let d = Sha256::digest(format!("{c}{n}").as_bytes());
        assert!(leading_zero_bits(&d) >= 12);
        // Another challenge is not solved by the same nonce (almost surely:
        // checked for this fixed pair).
        let other = "v1.12.1767225600.0123456789abcdee.mac";
        let d2 = Sha256::digest(format!("{other}{n}").as_bytes());
        assert_eq!(solves(other, &n, 12), leading_zero_bits(&d2) >= 12);
        // The nonces before the first solution do not solve it.
        let first: u64 = n.parse().expect("digits");
        assert!((0..first).all(|k| !solves(c, &k.to_string(), 12)));
    }

    #[test]
    fn challenges_parse_strictly() {
        let c = Challenge {
            bits: 16,
            issued: 1_767_225_600,
            salt: "0123456789abcdef".into(),
            mac: "abcdefghjkmn".into(),
        };
        assert_eq!(c.text(), "v1.16.1767225600.0123456789abcdef.abcdefghjkmn");
        assert_eq!(Challenge::parse(&c.text()), Some(c.clone()));
        for bad in [
            "",
            "v2.16.1767225600.0123456789abcdef.abc",
            "v1.16.1767225600.0123456789ABCDEF.abc",
            "v1.16.1767225600.0123456789abcde.abc",
            "v1.33.1767225600.0123456789abcdef.abc",
            "v1.16.-1.0123456789abcdef.abc",
            "v1.16.1767225600.0123456789abcdef.",
            "v1.16.1767225600.0123456789abcdef.abc.x",
            "v1.16.1767225600.0123456789abcdef.a-c",
        ] {
            assert_eq!(Challenge::parse(bad), None, "{bad}");
        }
        assert_eq!(Challenge::parse(&"v".repeat(MAX_CHALLENGE + 1)), None);
    }
}
