//! A person as the values of one `person` row, without a heap allocation per
//! value: text goes into one reusable buffer, the rest inline. The values are
//! those of [`crate::people::params`] and the row hash is that of
//! [`crate::row_hash`] over [`laoxiao_model::columns::person_to_row`]; tests
//! check both against the originals, so the bulk path and the single-record
//! path can never disagree about a row.

use std::fmt::Write;

use chrono::{Datelike, NaiveDate};
use laoxiao_model::person::{Person, PersonRole};

use crate::crypto::Keys;
#[cfg(test)]
use crate::db::Value;

/// Number of values per row: the person columns (the ID number as its keyed
/// hash), `area_path`, `row_hash` and `id_number_enc`.
pub(crate) const N_VALUES: usize = 23;

/// One value of a row; text is a span of [`Item::text`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Col {
    Null,
    Int(i64),
    Real(f64),
    Bool(bool),
    Text(u32, u32),
}

/// One validated person, ready to write.
#[derive(Debug, Clone)]
pub(crate) struct Item {
    pub row: usize,
    pub role: PersonRole,
    pub text: String,
    pub cols: [Col; N_VALUES],
}

impl Default for Item {
    fn default() -> Self {
        Item {
            row: 0,
            role: PersonRole::Elderly,
            text: String::new(),
            cols: [Col::Null; N_VALUES],
        }
    }
}

impl Item {
    /// The text of a span.
    pub fn str(&self, c: Col) -> Option<&str> {
        match c {
            Col::Text(a, b) => self.text.get(a as usize..b as usize),
            _ => None,
        }
    }

    /// Column `i` as text (id, id_number, row_hash …).
    pub fn text_of(&self, i: usize) -> &str {
        self.str(self.cols[i]).unwrap_or_default()
    }

    /// Column `i` as a [`Value`] (for tests and slow paths).
    #[cfg(test)]
    pub fn value(&self, i: usize) -> Value {
        match self.cols[i] {
            Col::Null => Value::Null,
            Col::Int(n) => Value::Int(n),
            Col::Real(x) => Value::Real(x),
            Col::Bool(b) => Value::Bool(b),
            c @ Col::Text(..) => Value::Text(self.str(c).unwrap_or_default().to_string()),
        }
    }

    fn push(&mut self, s: &str) -> Col {
        let a = self.text.len() as u32;
        self.text.push_str(s);
        Col::Text(a, self.text.len() as u32)
    }

    fn push_opt(&mut self, s: Option<&str>) -> Col {
        match s {
            Some(s) => self.push(s),
            None => Col::Null,
        }
    }

    /// A date as `people::params` writes it (`%Y-%m-%d`).
    fn push_date(&mut self, d: NaiveDate) -> Col {
        let a = self.text.len() as u32;
        if (0..=9999).contains(&d.year()) {
            write_date(&mut self.text, d);
        } else {
            let _ = write!(self.text, "{}", d.format("%Y-%m-%d"));
        }
        Col::Text(a, self.text.len() as u32)
    }
}

/// `YYYY-MM-DD`, as chrono's `%Y-%m-%d` and `Display` write it.
fn write_date(out: &mut String, d: NaiveDate) {
    let y = d.year();
    if (0..=9999).contains(&y) {
        let (y, m, d) = (y as u32, d.month(), d.day());
        for v in [y / 1000, y / 100 % 10, y / 10 % 10, y % 10] {
            out.push(char::from(b'0' + v as u8));
        }
        for (sep, v) in [('-', m), ('-', d)] {
            out.push(sep);
            out.push(char::from(b'0' + (v / 10) as u8));
            out.push(char::from(b'0' + (v % 10) as u8));
        }
    } else {
        let _ = write!(out, "{d}");
    }
}

/// 64-bit FNV-1a over cells, each followed by 0x1f: [`crate::row_hash`].
struct Fnv(u64);

impl Fnv {
    fn cell(&mut self, s: &[u8]) {
        for &b in s.iter().chain(std::iter::once(&0x1f)) {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn opt(&mut self, s: Option<&str>) {
        self.cell(s.unwrap_or_default().as_bytes());
    }
}

/// Fills `item` with the row values of `p` (the item's buffer is reused).
/// `scratch` is a reusable formatting buffer.
pub(crate) fn encode(
    keys: &Keys,
    p: &Person,
    area_path: &str,
    row: usize,
    item: &mut Item,
    scratch: &mut String,
) {
    item.row = row;
    item.role = p.role;
    item.text.clear();
    // The ID number leaves here only as its keyed hash and its ciphertext.
    let hmac = keys.hmac(&p.id_number);
    // Encryption cannot fail with a valid key; an empty value would be refused
    // when read back, never silently accepted.
    let enc = keys.encrypt(&p.id_number).unwrap_or_default();
    // The hash first: the cells of person_to_row, the ID number as its hash.
    let mut h = Fnv(0xcbf2_9ce4_8422_2325);
    h.cell(p.id.as_bytes());
    h.cell(hmac.as_bytes());
    h.cell(p.name.as_bytes());
    h.cell(p.sex.code().as_bytes());
    scratch.clear();
    write_date(scratch, p.birth_date);
    h.cell(scratch.as_bytes());
    h.opt(p.hukou_area_code.as_deref());
    h.cell(p.residence_area_code.as_bytes());
    h.opt(p.address.as_deref());
    for v in [p.lng, p.lat] {
        scratch.clear();
        if let Some(x) = v {
            let _ = write!(scratch, "{x:.6}");
        }
        h.cell(scratch.as_bytes());
    }
    h.cell(if p.lng.is_some() { b"wgs84" } else { b"" });
    match p.role {
        PersonRole::Elderly => {
            h.opt(p.living_arrangement.map(|x| x.code()));
            scratch.clear();
            for (i, s) in p.special_difficulty.iter().enumerate() {
                if i > 0 {
                    scratch.push(';');
                }
                scratch.push_str(s.code());
            }
            h.cell(scratch.as_bytes());
            h.opt(p.ability_level.map(|x| x.code()));
            h.cell(if p.dementia { b"true" } else { b"false" });
        }
        PersonRole::Infant => {
            scratch.clear();
            if let Some(n) = p.birth_order {
                let _ = write!(scratch, "{n}");
            }
            h.cell(scratch.as_bytes());
            h.opt(p.guardian_name.as_deref());
            h.opt(p.guardian_phone.as_deref());
        }
    }
    h.cell(p.status.code().as_bytes());
    scratch.clear();
    if let Some(d) = p.death_date {
        write_date(scratch, d);
    }
    h.cell(scratch.as_bytes());

    // The values, in people::params order.
    let id = item.push(&p.id);
    let role = item.push(p.role.code());
    let number = item.push(&hmac);
    let name = item.push(&p.name);
    let sex = item.push(p.sex.code());
    let birth = item.push_date(p.birth_date);
    let hukou = item.push_opt(p.hukou_area_code.as_deref());
    let residence = item.push(&p.residence_area_code);
    let address = item.push_opt(p.address.as_deref());
    let living = item.push_opt(p.living_arrangement.map(|x| x.code()));
    let difficulty = if p.special_difficulty.is_empty() {
        Col::Null
    } else {
        let a = item.text.len() as u32;
        item.text.push(';');
        for s in &p.special_difficulty {
            item.text.push_str(s.code());
            item.text.push(';');
        }
        Col::Text(a, item.text.len() as u32)
    };
    let guardian = item.push_opt(p.guardian_name.as_deref());
    let phone = item.push_opt(p.guardian_phone.as_deref());
    let status = item.push(p.status.code());
    let death = match p.death_date {
        Some(d) => item.push_date(d),
        None => Col::Null,
    };
    let path = item.push(area_path);
    let hash = {
        let a = item.text.len() as u32;
        let _ = write!(item.text, "{:016x}", h.0);
        Col::Text(a, item.text.len() as u32)
    };
    let enc = item.push(&enc);
    item.cols = [
        id,
        role,
        number,
        name,
        sex,
        birth,
        hukou,
        residence,
        address,
        p.lng.map_or(Col::Null, Col::Real),
        p.lat.map_or(Col::Null, Col::Real),
        living,
        difficulty,
        p.ability_level
            .map_or(Col::Null, |a| Col::Int(i64::from(a.number()))),
        Col::Bool(p.dementia),
        p.birth_order.map_or(Col::Null, Col::Int),
        guardian,
        phone,
        status,
        death,
        path,
        hash,
        enc,
    ];
}

/// An exact, compact key for duplicate checks: strings of up to 15 bytes are
/// packed into a `u128` (bytes and length); `None` for longer ones.
pub(crate) fn short_key(s: &str) -> Option<u128> {
    let b = s.as_bytes();
    if b.len() > 15 {
        return None;
    }
    let mut k = [0u8; 16];
    k[..b.len()].copy_from_slice(b);
    k[15] = b.len() as u8;
    Some(u128::from_le_bytes(k))
}

/// An exact key for an 18-character ID number (17 digits and a check
/// character 0–9 or X); `None` for anything else.
pub(crate) fn id_number_key(s: &str) -> Option<u128> {
    let b = s.as_bytes();
    if b.len() != 18 || !b[..17].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let digits = b[..17]
        .iter()
        .fold(0u128, |acc, d| acc * 10 + u128::from(d - b'0'));
    let check = match b[17] {
        d @ b'0'..=b'9' => u128::from(d - b'0'),
        b'X' => 10,
        _ => return None,
    };
    Some(digits * 11 + check)
}

#[cfg(test)]
mod tests {
    use super::*;
    use laoxiao_model::person::{
        AbilityLevel, LivingArrangement, PersonStatus, Sex, SpecialDifficulty,
    };

    fn people() -> Vec<Person> {
        let born = NaiveDate::from_ymd_opt(1949, 12, 31).expect("date");
        let mut base = Person::blank("E1", PersonRole::Elderly, "330402007024", born, Sex::Female);
        base.id_number = "33040219491231002X".into();
        base.name = "张三".into();
        let mut v = vec![base.clone()];
        let mut p = base.clone();
        p.hukou_area_code = Some("330402".into());
        p.address = Some("建设街道\t\"某\"弄;1号".into());
        p.lng = Some(120.123_456_789_012);
        p.lat = Some(30.000_000_4);
        p.living_arrangement = Some(LivingArrangement::LivingAlone);
        p.special_difficulty = vec![
            SpecialDifficulty::ExtremePoverty,
            SpecialDifficulty::SevereDisability,
        ];
        p.ability_level = Some(AbilityLevel::Intact);
        p.dementia = true;
        p.status = PersonStatus::Deceased;
        p.death_date = NaiveDate::from_ymd_opt(2020, 2, 29);
        v.push(p.clone());
        p.special_difficulty = vec![SpecialDifficulty::LowIncomeMargin];
        p.ability_level = Some(AbilityLevel::Complete);
        v.push(p);
        let mut i = base;
        i.role = PersonRole::Infant;
        i.birth_order = Some(2);
        i.guardian_name = Some("王女士".into());
        i.guardian_phone = Some("138".into());
        v.push(i.clone());
        i.birth_order = None;
        i.lng = Some(-0.5);
        i.lat = Some(0.0);
        // Years outside 0–9999 are written differently by chrono's Display
        // and by `%Y`; both forms must still match.
        i.death_date = NaiveDate::from_ymd_opt(12_000, 1, 1);
        v.push(i);
        v
    }

    #[test]
    fn values_and_hash_match_the_single_record_path() {
        let mut item = Item::default();
        let mut scratch = String::new();
        for p in people() {
            let path = "/330400/330402/330402007/330402007024/";
            let keys = Keys::for_tests();
            encode(&keys, &p, path, 7, &mut item, &mut scratch);
            let want = crate::people::params(&keys, &p, path).expect("params");
            assert_eq!(want.len(), N_VALUES);
            // All but the ciphertext (a fresh nonce each time), which must decrypt.
            for (i, w) in want.iter().enumerate().take(N_VALUES - 1) {
                assert_eq!(&item.value(i), w, "value {i} of {p:?}");
            }
            assert_eq!(
                keys.decrypt(item.text_of(22)).expect("decrypts"),
                p.id_number
            );
            assert!(!item.text.contains(&p.id_number), "no plaintext in the row");
            assert_eq!(
                item.text_of(21),
                crate::people::person_row_hash(&p, &keys.hmac(&p.id_number)),
                "{p:?}"
            );
            assert_eq!(item.row, 7);
        }
    }

    #[test]
    fn dates_are_written_as_chrono_does() {
        for (y, m, d) in [
            (1880, 1, 1),
            (1949, 12, 31),
            (2024, 2, 29),
            (9999, 12, 31),
            (5, 6, 7),
        ] {
            let date = NaiveDate::from_ymd_opt(y, m, d).expect("date");
            let mut s = String::new();
            write_date(&mut s, date);
            assert_eq!(s, date.to_string());
            assert_eq!(s, date.format("%Y-%m-%d").to_string());
        }
        for date in [NaiveDate::MIN, NaiveDate::MAX] {
            let mut s = String::new();
            write_date(&mut s, date);
            assert_eq!(s, date.to_string());
        }
    }

    #[test]
    fn keys_are_exact() {
        assert_eq!(short_key("E1"), short_key("E1"));
        assert_ne!(short_key("E1"), short_key("E1\0"));
        assert_ne!(short_key(""), short_key("\0"));
        assert_eq!(short_key("0123456789abcdef"), None);
        let a = id_number_key("33040219491231002X").expect("key");
        let b = id_number_key("330402194912310029").expect("key");
        assert_ne!(a, b);
        assert_eq!(
            id_number_key("999999999999999999"),
            Some(99_999_999_999_999_999 * 11 + 9)
        );
        assert_eq!(id_number_key("33040219491231002x"), None);
        assert_eq!(id_number_key("3304021949123100"), None);
    }
}
