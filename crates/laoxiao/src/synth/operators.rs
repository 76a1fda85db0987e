//! Synthetic operators (运营主体) with valid unified social credit codes.

use std::collections::{BTreeMap, BTreeSet};

use laoxiao_model::credit_code;
use rand::Rng;

use super::SynthError;
use super::util::{Concern, stream};

/// FNV-1a of a name, folded to 32 bits (a stream index).
fn fnv1a(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h >> 32) ^ (h & 0xffff_ffff)
}

/// The kind of entity, which fixes the code's first two characters (GB 32100
/// registering department and entity type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Entity {
    /// 11: 机构编制 → 机关 (a town government, a bureau).
    Organ,
    /// 12: 机构编制 → 事业单位 (a welfare centre, a hospital, a public kindergarten).
    PublicInstitution,
    /// 52: 民政 → 民办非企业单位 (a private care home, a social-work agency).
    SocialOrg,
    /// 91: 工商 → 企业 (a company).
    Enterprise,
    /// N2: 农业 → 村级集体经济组织 (a village's economic cooperative).
    Collective,
}

impl Entity {
    fn prefix(self) -> &'static str {
        match self {
            Entity::Organ => "11",
            Entity::PublicInstitution => "12",
            Entity::SocialOrg => "52",
            Entity::Enterprise => "91",
            Entity::Collective => "N2",
        }
    }
}

const LETTERS_DIGITS: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// The GB 11714 check character of an 8-character organization code body.
fn org_check(body: &str) -> Option<char> {
    const W: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];
    let mut s = 0;
    for (c, w) in body.chars().zip(W) {
        s += c.to_digit(36)? * w;
    }
    Some(match 11 - s % 11 {
        10 => 'X',
        11 => '0',
        n => char::from_digit(n, 10)?,
    })
}

/// Remembers every operator by name, so one operator has one code everywhere.
#[derive(Debug, Default)]
pub(crate) struct Operators {
    by_name: BTreeMap<String, String>,
    used: BTreeSet<String>,
}

impl Operators {
    /// The code of `name`, made on first use: prefix, the 6-digit division code,
    /// a 9-character organization code (with its own GB 11714 check) and the
    /// GB 32100 check character.
    ///
    /// The random part comes from a stream keyed by the seed and the name alone,
    /// so an operator's code does not depend on the order operators are met in.
    pub(crate) fn code(
        &mut self,
        seed: u64,
        name: &str,
        entity: Entity,
        division6: &str,
    ) -> Result<String, SynthError> {
        if let Some(c) = self.by_name.get(name) {
            return Ok(c.clone());
        }
        let mut rng = stream(seed, Concern::Operators, fnv1a(name));
        let rng = &mut rng;
        for _ in 0..100 {
            let mut body = String::with_capacity(8);
            match entity {
                Entity::Enterprise => body.push_str("MA"),
                Entity::SocialOrg => body.push_str("MJ"),
                Entity::Collective => body.push_str("MF"),
                Entity::Organ | Entity::PublicInstitution => body.push('0'),
            }
            let digits_only = matches!(entity, Entity::Organ | Entity::PublicInstitution);
            while body.len() < 8 {
                let c = if digits_only {
                    LETTERS_DIGITS[rng.random_range(0..10)]
                } else {
                    LETTERS_DIGITS[rng.random_range(0..LETTERS_DIGITS.len())]
                };
                body.push(c as char);
            }
            let Some(check) = org_check(&body) else {
                continue;
            };
            let first17 = format!("{}{division6}{body}{check}", entity.prefix());
            let code = credit_code::make(&first17).ok_or_else(|| {
                SynthError::Internal(format!("credit code body {first17} is not in the alphabet"))
            })?;
            if self.used.insert(code.clone()) {
                self.by_name.insert(name.to_string(), code.clone());
                return Ok(code);
            }
        }
        Err(SynthError::Internal(
            "could not make a unique credit code".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_valid_and_stable_per_name() {
        let mut ops = Operators::default();
        for (i, e) in [
            Entity::Organ,
            Entity::PublicInstitution,
            Entity::SocialOrg,
            Entity::Enterprise,
            Entity::Collective,
        ]
        .into_iter()
        .enumerate()
        {
            for k in 0..50 {
                let name = format!("op{i}-{k}");
                let c = ops.code(1, &name, e, "330402").expect("code");
                assert_eq!(credit_code::validate(&c), Ok(()), "{c}");
                assert_eq!(credit_code::org_code_warning(&c), None, "{c}");
                assert_eq!(&c[2..8], "330402");
                assert_eq!(ops.code(1, &name, e, "330402").expect("again"), c);
            }
        }
    }
}
