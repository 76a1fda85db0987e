//! A person as the values of one `person` row, without a heap allocation per
//! value: text goes into one reusable buffer, the rest inline. The values are
//! those of [`crate::people::params`] and the row hash is that of
//! [`crate::row_hash`] over [`laoxiao_model::columns::person_to_row`]; tests
//! check both against the originals, so the bulk path and the single-record
//! path can never disagree about a row.

use std::fmt::Write;

use std::sync::LazyLock;

use chrono::{Datelike, NaiveDate};
use laoxiao_model::person::{PEOPLE, Person, PersonRole};
use laoxiao_model::register::{CellRef, Field, FieldType, Record};

use crate::crypto::Keys;
#[cfg(test)]
use crate::db::Value;

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
    /// [`crate::people::write_columns`]'s values.
    pub cols: Vec<Col>,
}

impl Default for Item {
    fn default() -> Self {
        Item {
            row: 0,
            role: PersonRole::Elderly,
            text: String::new(),
            cols: Vec::with_capacity(crate::people::n_values()),
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
}

/// How a declared field of a person is written, found once.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    /// Its keyed hash in the row, its ciphertext after the row hash.
    IdNumber,
    /// An enumeration with numeric codes, stored as an integer.
    NumericEnum,
    Plain,
}

fn kinds() -> &'static [(Kind, &'static Field)] {
    static KINDS: LazyLock<Vec<(Kind, &'static Field)>> = LazyLock::new(|| {
        PEOPLE
            .fields
            .iter()
            .map(|f| {
                let k = if matches!(f.ty, FieldType::IdNumber) {
                    Kind::IdNumber
                } else if crate::activity::numeric_enum(f) {
                    Kind::NumericEnum
                } else {
                    Kind::Plain
                };
                (k, f)
            })
            .collect()
    });
    &KINDS
}

/// A borrowed cell as [`laoxiao_model::register::format_cell`] writes it
/// into a file row (what the row hash covers), into `out`.
fn file_text(f: &Field, c: CellRef<'_>, out: &mut String) {
    match (c, &f.ty) {
        (CellRef::Null, _) => {}
        (CellRef::Text(s), _) => out.push_str(s),
        (CellRef::Int(n), FieldType::Money(_)) => {
            let sign = if n < 0 { "-" } else { "" };
            let a = n.unsigned_abs();
            let _ = write!(out, "{sign}{}.{:02}", a / 100, a % 100);
        }
        (CellRef::Int(n), _) => {
            let _ = write!(out, "{n}");
        }
        (CellRef::Real(x), _) => {
            let _ = write!(out, "{x:.6}");
        }
        (CellRef::Bool(b), _) => out.push_str(if b { "true" } else { "false" }),
        (CellRef::Date(d), _) => write_date(out, d),
        (CellRef::Codes(list), _) => {
            let mut first = true;
            list.each_code(&mut |s| {
                if !first {
                    out.push(';');
                }
                first = false;
                out.push_str(s);
            });
        }
    }
}

/// Fills `item` with the row values of `p` (the item's buffer is reused), in
/// [`crate::people::write_columns`] order, every field as the declaration
/// types it. `scratch` is a reusable formatting buffer.
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
    item.cols.clear();
    let cells = p.cell_refs();
    // The ID number leaves here only as its keyed hash and its ciphertext.
    // Encryption cannot fail with a valid key; an empty value would be
    // refused when read back, never silently accepted.
    let mut sealed: Vec<(String, String)> = Vec::with_capacity(1);
    for (c, (k, _)) in cells.iter().zip(kinds()) {
        if *k == Kind::IdNumber {
            let plain = match c {
                CellRef::Text(s) => *s,
                _ => "",
            };
            sealed.push((keys.hmac(plain), keys.encrypt(plain).unwrap_or_default()));
        }
    }
    // The hash first: the cells of person_to_row, the ID number as its hash.
    let mut h = Fnv(0xcbf2_9ce4_8422_2325);
    let mut hmacs = sealed.iter();
    for (f, at) in p.role.register().fields.iter().zip(p.role.file_plan()) {
        scratch.clear();
        match at {
            Some(i) if kinds()[*i].0 == Kind::IdNumber => {
                scratch.push_str(hmacs.next().map_or("", |s| s.0.as_str()));
            }
            Some(i) => file_text(f, cells[*i], scratch),
            // The coordinate system: what the store holds is WGS-84.
            None if p.lng.is_some() => scratch.push_str("wgs84"),
            None => {}
        }
        h.cell(scratch.as_bytes());
    }

    // The values, in people::params order.
    let mut hmacs = sealed.iter();
    for (c, (k, _)) in cells.iter().zip(kinds()) {
        let col = match (*c, k) {
            (_, Kind::IdNumber) => item.push(hmacs.next().map_or("", |s| s.0.as_str())),
            (CellRef::Null, _) => Col::Null,
            (CellRef::Text(s), Kind::NumericEnum) => s.parse::<i64>().map_or(Col::Null, Col::Int),
            (CellRef::Text(s), _) => item.push(s),
            (CellRef::Int(n), _) => Col::Int(n),
            (CellRef::Real(x), _) => Col::Real(x),
            (CellRef::Bool(b), _) => Col::Bool(b),
            (CellRef::Date(d), _) => item.push_date(d),
            (CellRef::Codes(list), _) => {
                // `;a;b;` as crate::activity::list_value stores it; empty: NULL.
                if list.is_empty() {
                    Col::Null
                } else {
                    let a = item.text.len() as u32;
                    item.text.push(';');
                    list.each_code(&mut |s| {
                        item.text.push_str(s);
                        item.text.push(';');
                    });
                    Col::Text(a, item.text.len() as u32)
                }
            }
        };
        item.cols.push(col);
    }
    let path = item.push(area_path);
    item.cols.push(path);
    let hash = {
        let a = item.text.len() as u32;
        let _ = write!(item.text, "{:016x}", h.0);
        Col::Text(a, item.text.len() as u32)
    };
    item.cols.push(hash);
    for (_, enc) in &sealed {
        let c = item.push(enc);
        item.cols.push(c);
    }
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
            let n = crate::people::n_values();
            let (_, hash_at) = crate::people::value_positions();
            assert_eq!(want.len(), n);
            assert_eq!(item.cols.len(), n);
            // All but the ciphertext (a fresh nonce each time), which must decrypt.
            for (i, w) in want.iter().enumerate().take(n - 1) {
                assert_eq!(&item.value(i), w, "value {i} of {p:?}");
            }
            assert_eq!(
                keys.decrypt(item.text_of(n - 1)).expect("decrypts"),
                p.id_number
            );
            assert!(!item.text.contains(&p.id_number), "no plaintext in the row");
            assert_eq!(
                item.text_of(hash_at),
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
