//! Encryption of citizen ID numbers at rest and their keyed lookup hash.
//!
//! * `id_number_enc`: AES-256-GCM under the current data key, stored as
//!   `keyid:base64(nonce || ciphertext)`; older keys stay readable for rotation.
//! * `id_number_hmac`: HMAC-SHA256 of the normalised number under a separate key,
//!   hex; unique, so lookups and duplicate checks never need the plaintext.
//!
//! * The audit key ([`AuditKey`]) MACs the audit chain and hashes the personal
//!   values of audit snapshots; a third key, so that holding the lookup key (needed
//!   by every app server) does not let anyone forge the trail's links.
//!
//! Keys come from configuration or the environment, never from the database.

use std::collections::HashMap;
use std::fmt;

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::error::{Result, StoreError};

/// One named 256-bit key.
#[derive(Clone)]
pub struct DataKey {
    pub id: String,
    bytes: [u8; 32],
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DataKey({:?}, <secret>)", self.id)
    }
}

impl DataKey {
    /// Parses `id:base64` (32 bytes once decoded).
    pub fn parse(s: &str) -> Result<DataKey> {
        let s = s.trim();
        let (id, b64) = s
            .split_once(':')
            .ok_or_else(|| bad_key("a data key is written id:base64"))?;
        let id = id.trim();
        if id.is_empty()
            || !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(bad_key(
                "a data key id is letters, digits, '-' or '_' (before the ':')",
            ));
        }
        Ok(DataKey {
            id: id.to_string(),
            bytes: decode_key(b64)?,
        })
    }

    /// A key from its bytes.
    pub fn from_bytes(id: &str, bytes: [u8; 32]) -> DataKey {
        DataKey {
            id: id.to_string(),
            bytes,
        }
    }

    /// A fresh random key with this id.
    pub fn generate(id: &str) -> DataKey {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        DataKey {
            id: id.to_string(),
            bytes,
        }
    }

    /// `id:base64`, for a key file or environment variable.
    pub fn encode(&self) -> String {
        format!("{}:{}", self.id, B64.encode(self.bytes))
    }
}

fn bad_key(msg: &str) -> StoreError {
    StoreError::Config(msg.to_string())
}

/// Decodes a base64 32-byte key.
pub fn decode_key(b64: &str) -> Result<[u8; 32]> {
    let v = B64
        .decode(b64.trim())
        .map_err(|_| bad_key("a key must be base64"))?;
    <[u8; 32]>::try_from(v.as_slice()).map_err(|_| bad_key("a key must be 32 bytes"))
}

/// A fresh random 32-byte key, base64 (for the HMAC key).
pub fn generate_raw_key() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    B64.encode(bytes)
}

/// The audit key: two HMAC-SHA256 subkeys derived from one 32-byte secret with
/// distinct labels, one for the chain's links and one for snapshot values, so a
/// value digest can never be replayed as a link (or the other way round).
#[derive(Clone)]
pub struct AuditKey {
    chain: Hmac<Sha256>,
    field: Hmac<Sha256>,
}

impl fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuditKey(<secret>)")
    }
}

fn hmac_state(key: &[u8]) -> Result<Hmac<Sha256>> {
    <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(key).map_err(|_| bad_key("a key is invalid"))
}

impl AuditKey {
    /// Derives the subkeys from the 32-byte audit key.
    pub fn new(bytes: [u8; 32]) -> Result<AuditKey> {
        let base = hmac_state(&bytes)?;
        let derive = |label: &[u8]| -> Result<Hmac<Sha256>> {
            let mut m = base.clone();
            m.update(label);
            hmac_state(&m.finalize().into_bytes())
        };
        Ok(AuditKey {
            chain: derive(b"laoxiao audit chain v2")?,
            field: derive(b"laoxiao audit field v2")?,
        })
    }

    /// The MAC of an audit entry's canonical bytes, hex.
    pub fn chain_mac(&self, data: &[u8]) -> String {
        let mut m = self.chain.clone();
        m.update(data);
        hex(&m.finalize().into_bytes())
    }

    /// The digest of one personal value in a snapshot, hex. The inputs are
    /// length-prefixed, so no two different (entity, id, field, value) collide.
    pub fn field_digest(&self, entity: &str, entity_id: &str, field: &str, value: &str) -> String {
        let mut m = self.field.clone();
        for part in [entity, entity_id, field, value] {
            m.update(format!("{}:", part.len()).as_bytes());
            m.update(part.as_bytes());
        }
        hex(&m.finalize().into_bytes())
    }
}

/// The keys of one deployment.
#[derive(Clone)]
pub struct Keys {
    current: DataKey,
    /// Every key that can decrypt, by id (the current one included).
    ciphers: HashMap<String, Aes256Gcm>,
    /// HMAC-SHA256 state with the lookup key already absorbed.
    hmac_keyed: Hmac<Sha256>,
    /// The audit key, when configured (shared so connections can carry it).
    audit: Option<std::sync::Arc<AuditKey>>,
}

impl fmt::Debug for Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut ids: Vec<&String> = self.ciphers.keys().collect();
        ids.sort();
        write!(f, "Keys(current {:?}, known {ids:?})", self.current.id)
    }
}

impl Keys {
    /// The current data key, older data keys (still readable) and the HMAC key.
    pub fn new(current: DataKey, old: Vec<DataKey>, hmac_key: [u8; 32]) -> Result<Keys> {
        let mut ciphers = HashMap::new();
        for k in old.iter().chain(std::iter::once(&current)) {
            let c = Aes256Gcm::new_from_slice(&k.bytes)
                .map_err(|_| bad_key("a data key must be 32 bytes"))?;
            ciphers.insert(k.id.clone(), c);
        }
        let hmac_keyed = hmac_state(&hmac_key)?;
        Ok(Keys {
            current,
            ciphers,
            hmac_keyed,
            audit: None,
        })
    }

    /// These keys with the audit key.
    pub fn with_audit_key(mut self, bytes: [u8; 32]) -> Result<Keys> {
        self.audit = Some(std::sync::Arc::new(AuditKey::new(bytes)?));
        Ok(self)
    }

    /// The audit key, if configured.
    pub fn audit_key(&self) -> Option<&std::sync::Arc<AuditKey>> {
        self.audit.as_ref()
    }

    /// Fixed keys for tests (never use outside tests): only in test builds and
    /// with the `test-support` feature, which production builds leave off.
    #[cfg(any(test, feature = "test-support"))]
    pub fn for_tests() -> Keys {
        let k = DataKey::from_bytes("test", [7u8; 32]);
        // Constant input: cannot fail.
        Keys::new(k, Vec::new(), [9u8; 32])
            .and_then(|k| k.with_audit_key(TEST_AUDIT_KEY))
            .unwrap_or_else(|_| unreachable!())
    }

    pub fn current_id(&self) -> &str {
        &self.current.id
    }

    /// `keyid:base64(nonce || ciphertext)` of a plaintext.
    pub fn encrypt(&self, plain: &str) -> Result<String> {
        let cipher = self
            .ciphers
            .get(&self.current.id)
            .ok_or_else(|| bad_key("the current key is missing"))?;
        let mut nonce = [0u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        let ct = cipher
            .encrypt(Nonce::from_slice(&nonce), plain.as_bytes())
            .map_err(|_| StoreError::Crypto("encryption failed".into()))?;
        let mut out = Vec::with_capacity(12 + ct.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Ok(format!("{}:{}", self.current.id, B64.encode(out)))
    }

    /// The plaintext of `keyid:base64(…)`, with whichever known key it names.
    pub fn decrypt(&self, stored: &str) -> Result<String> {
        let (id, b64) = stored
            .split_once(':')
            .ok_or_else(|| StoreError::Crypto("not an encrypted value".into()))?;
        let cipher = self.ciphers.get(id).ok_or_else(|| {
            StoreError::Crypto(format!("no key {id:?} is configured to decrypt with"))
        })?;
        let raw = B64
            .decode(b64)
            .map_err(|_| StoreError::Crypto("bad ciphertext encoding".into()))?;
        if raw.len() < 12 + 16 {
            return Err(StoreError::Crypto("ciphertext too short".into()));
        }
        let (nonce, ct) = raw.split_at(12);
        let plain = cipher
            .decrypt(Nonce::from_slice(nonce), ct)
            .map_err(|_| StoreError::Crypto("decryption failed (wrong key or tampered)".into()))?;
        String::from_utf8(plain).map_err(|_| StoreError::Crypto("plaintext is not UTF-8".into()))
    }

    /// Whether a stored value is under the current key (else rotation re-encrypts it).
    pub fn is_current(&self, stored: &str) -> bool {
        stored
            .split_once(':')
            .is_some_and(|(id, _)| id == self.current.id)
    }

    /// The keyed lookup hash of an ID number (normalised: trimmed, upper case), hex.
    pub fn hmac(&self, id_number: &str) -> String {
        // A clone of the keyed state skips hashing the key for every number.
        let mut m = self.hmac_keyed.clone();
        let t = id_number.trim();
        if t.bytes().any(|b| b.is_ascii_lowercase()) {
            m.update(t.to_ascii_uppercase().as_bytes());
        } else {
            m.update(t.as_bytes());
        }
        hex(&m.finalize().into_bytes())
    }
}

impl Keys {
    /// A public reference for a record that must not expose its register key:
    /// HMAC-SHA256 of `domain NUL id` under the lookup key, the first 60 bits
    /// in 12 Crockford base32 characters (lower case). Stable while the lookup
    /// key is; not reversible without it.
    pub fn public_ref(&self, domain: &str, id: &str) -> String {
        let mut m = self.hmac_keyed.clone();
        m.update(b"public-ref\0");
        m.update(domain.as_bytes());
        m.update(b"\0");
        m.update(id.as_bytes());
        let d = m.finalize().into_bytes();
        const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
        let mut bits: u64 = 0;
        for b in d.iter().take(8) {
            bits = (bits << 8) | u64::from(*b);
        }
        (0..12)
            .map(|i| char::from(ALPHABET[((bits >> (64 - 5 * (i + 1))) & 31) as usize]))
            .collect()
    }
}

/// The audit key of [`Keys::for_tests`] (tests that verify a chain by hand use it).
#[cfg(any(test, feature = "test-support"))]
pub const TEST_AUDIT_KEY: [u8; 32] = [5u8; 32];

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
        s.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
    }
    s
}

/// SHA-256 of bytes, hex (tokens, session ids, audit chain).
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

/// A random secret of `n` bytes, URL-safe base64 without padding.
pub fn random_token(n: usize) -> String {
    let mut v = vec![0u8; n];
    rand::rng().fill_bytes(&mut v);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v)
}

/// `n` random bytes as upper-case hex (record ids assigned by the server).
pub fn random_hex(n: usize) -> String {
    let mut v = vec![0u8; n];
    rand::rng().fill_bytes(&mut v);
    hex(&v).to_ascii_uppercase()
}

/// Constant-time equality of two strings (for CSRF tokens and the like).
pub fn ct_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_hash_is_hmac_sha256_of_the_normalised_number() {
        let keys = Keys::for_tests();
        // RFC 2104 computed from scratch: the cached keyed state must agree.
        let mut key = [0u8; 64];
        key[..32].copy_from_slice(&[9u8; 32]);
        let pad = |b: u8| key.iter().map(|k| k ^ b).collect::<Vec<u8>>();
        let inner = Sha256::new()
            .chain_update(pad(0x36))
            .chain_update(b"33040219491231002X")
            .finalize();
        let outer = Sha256::new()
            .chain_update(pad(0x5c))
            .chain_update(inner)
            .finalize();
        assert_eq!(keys.hmac("33040219491231002X"), hex(&outer));
        assert_eq!(keys.hmac(" 33040219491231002x "), hex(&outer));
        assert_ne!(keys.hmac("330402194912310038"), hex(&outer));
    }

    #[test]
    fn round_trip_and_rotation() {
        let k1 = DataKey::generate("k1");
        let k2 = DataKey::generate("k2");
        let h = [1u8; 32];
        let old = Keys::new(k1.clone(), vec![], h).expect("keys");
        let c = old.encrypt("33040219491231002X").expect("enc");
        assert!(c.starts_with("k1:"));
        assert!(!c.contains("3304021949"));
        let new = Keys::new(k2, vec![k1], h).expect("keys");
        assert_eq!(new.decrypt(&c).expect("dec"), "33040219491231002X");
        assert!(!new.is_current(&c));
        assert_eq!(
            old.hmac("33040219491231002x"),
            new.hmac("33040219491231002X")
        );
        // Tampering is detected.
        let mut bad = c.clone();
        bad.pop();
        bad.push(if c.ends_with('A') { 'B' } else { 'A' });
        assert!(new.decrypt(&bad).is_err());
    }

    #[test]
    fn audit_subkeys_differ_from_each_other_and_from_the_key() {
        let k = AuditKey::new([5u8; 32]).expect("key");
        let data = b"x";
        let chain = k.chain_mac(data);
        // Recomputed from the documented derivation.
        let sub = |label: &[u8]| {
            let mut m = hmac_state(&[5u8; 32]).expect("h");
            m.update(label);
            m.finalize().into_bytes()
        };
        let mut m = hmac_state(&sub(b"laoxiao audit chain v2")).expect("h");
        m.update(data);
        assert_eq!(chain, hex(&m.finalize().into_bytes()));
        assert_ne!(chain, k.field_digest("", "", "", "x"));
        assert_ne!(
            k.field_digest("person", "P1", "name", "\"ab\""),
            k.field_digest("person", "P1", "nam", "e\"ab\"")
        );
        assert!(!format!("{k:?}").contains('5'));
    }

    #[test]
    fn keys_parse() {
        let k = DataKey::generate("2026-11");
        let p = DataKey::parse(&k.encode()).expect("parse");
        assert_eq!(p.id, "2026-11");
        assert!(DataKey::parse("nocolon").is_err());
        assert!(DataKey::parse("a:AAAA").is_err());
        assert!(ct_eq("abc", "abc") && !ct_eq("abc", "abd"));
    }
}
