//! Writes N rows of valid synthetic elderly people as CSV (English headers), for
//! the bulk-import benchmark (`bench/import.sh`). Deterministic: the same N gives
//! the same file.
//!
//! ```text
//! cargo run --release -p laoxiao-store --example gen_people -- 1000000 elderly.csv
//! ```
//!
//! Real Jiaxing village codes; coordinates near each village's centre and
//! inside the city outline; ID numbers built with the GB 11643 check character
//! and unique. The people themselves are invented.

use std::io::Write;

use chrono::{Days, NaiveDate};
use laoxiao_model::columns::{HeaderLang, RecordKind, headers};
use laoxiao_model::{AreaLevel, idcard, jiaxing};

/// xorshift64*: deterministic and dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "沈",
    "钱", "陆", "顾", "姚",
];
const GIVEN: &[&str] = &[
    "建国", "秀英", "桂英", "玉兰", "志明", "国庆", "海林", "金娣", "阿毛", "根宝", "美华", "福林",
    "月珍", "永康", "惠芬", "德明",
];
const LIVING: &[&str] = &[
    "with_family",
    "with_family",
    "with_family",
    "empty_nest",
    "living_alone",
    "left_behind",
    "in_institution",
];
const DIFFICULTY: &[&str] = &[
    "",
    "",
    "",
    "",
    "",
    "",
    "",
    "",
    "minimum_living_allowance",
    "extreme_poverty",
    "low_income_margin;severe_disability",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let n: u64 = args.next().as_deref().unwrap_or("1000000").parse()?;
    let out: Box<dyn Write> = match args.next() {
        Some(p) if p != "-" => Box::new(std::fs::File::create(p)?),
        _ => Box::new(std::io::stdout().lock()),
    };
    let mut out = std::io::BufWriter::with_capacity(1 << 20, out);

    let areas = jiaxing::areas()?;
    let city = laoxiao_spatial::IndexedBoundary::new(jiaxing::city_boundary()?);
    // Villages with a known centre inside the city outline.
    let villages: Vec<(&str, &str, (f64, f64))> = areas
        .at_level(AreaLevel::Village)
        .filter_map(|a| {
            let c = a.centre?;
            city.contains(c.0, c.1)
                .then_some((a.code.as_str(), a.name.as_str(), c))
        })
        .collect();
    if villages.is_empty() {
        return Err("no village centres inside the city outline".into());
    }

    writeln!(
        out,
        "{}",
        headers(RecordKind::Elderly, HeaderLang::English).join(",")
    )?;
    let first = NaiveDate::from_ymd_opt(1930, 1, 1).ok_or("date")?;
    // Born 1930–1965: 60 or older from 2026 on.
    let days = NaiveDate::from_ymd_opt(1965, 12, 31)
        .ok_or("date")?
        .signed_duration_since(first)
        .num_days() as u64;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for i in 0..n {
        let (code, vname, (cx, cy)) = villages[rng.below(villages.len())];
        // Unique (birth date, sequence) per row: 1000 sequences a day.
        let birth = first + Days::new((i / 1000 * 7919) % (days + 1));
        let seq = (i % 1000) as u16;
        let id_number = idcard::make(&code[..6], birth, seq);
        let sex = if seq % 2 == 1 { "male" } else { "female" };
        let name = format!(
            "{}{}",
            SURNAMES[rng.below(SURNAMES.len())],
            GIVEN[rng.below(GIVEN.len())]
        );
        // Within ~300 m of the village centre, kept inside the city.
        let (mut x, mut y) = (
            cx + (rng.unit() - 0.5) * 0.006,
            cy + (rng.unit() - 0.5) * 0.006,
        );
        if !city.contains(x, y) {
            (x, y) = (cx, cy);
        }
        let ability = rng.below(5);
        let dementia = rng.below(20) == 0;
        writeln!(
            out,
            "E{i:07},{id_number},{name},{sex},{birth},{hukou},{code},{vname}{num}号,{x:.6},{y:.6},wgs84,{living},{diff},{ability},{dementia},active,",
            hukou = &code[..6],
            num = 1 + rng.below(200),
            living = LIVING[rng.below(LIVING.len())],
            diff = DIFFICULTY[rng.below(DIFFICULTY.len())],
        )?;
    }
    out.flush()?;
    Ok(())
}
