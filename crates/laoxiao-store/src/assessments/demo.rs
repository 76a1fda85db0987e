//! Synthetic assessments for the demo (`laoxiao demo`): finished assessments
//! for a sample of elderly people who have an ability level on the register,
//! with answers that score exactly into that level's band, done by certified
//! staff of the synthetic city over the past fourteen months (so some are
//! due within 30 days and a few overdue), a few changes of condition flagged
//! and one appealed result. Deterministic; a few seconds at most.

use chrono::{Days, NaiveDate};
use laoxiao_rules::assessment::Standard;

use super::{Draft, Reason, create_in, finish_in, flag_change_in, standard};
use crate::db::Conn;
use crate::error::Result;
use crate::scope::Scope;
use crate::{Reference, path_upper};

/// What was made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DemoReport {
    pub finished: usize,
    pub flagged: usize,
    pub appealed: usize,
}

/// A small deterministic generator (xorshift).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
}

/// Answers whose total is `target`: all items at their maxima, then points
/// taken off items chosen at random, one option step at a time.
fn answers_for(
    std: &Standard,
    target: u32,
    rng: &mut Rng,
) -> std::collections::BTreeMap<String, u8> {
    let mut a: std::collections::BTreeMap<String, u8> = std
        .items
        .iter()
        .map(|i| (i.code.clone(), i.max()))
        .collect();
    let mut total: u32 = a.values().map(|v| u32::from(*v)).sum();
    let mut guard = 0;
    while total > target && guard < 10_000 {
        guard += 1;
        let it = &std.items[rng.below(std.items.len() as u64) as usize];
        let cur = a.get(&it.code).copied().unwrap_or(0);
        // The next lower option of this item.
        let lower = it
            .options
            .iter()
            .map(|o| o.score)
            .filter(|s| *s < cur)
            .max();
        if let Some(l) = lower
            && total - u32::from(cur - l) >= target
        {
            total -= u32::from(cur - l);
            a.insert(it.code.clone(), l);
        }
    }
    a
}

/// Makes the demo's assessments (system scope, one transaction).
pub fn seed(
    conn: &mut Conn,
    reference: &Reference,
    today: NaiveDate,
    sample: usize,
) -> Result<DemoReport> {
    let std = standard()?;
    let staff: Vec<String> = conn
        .query(
            "SELECT id FROM staff WHERE certified = $1 AND deleted_at IS NULL AND left_date IS NULL \
             AND hired_date <= $2 ORDER BY id LIMIT 12",
            &[true.into(), (today - Days::new(430)).into()],
        )?
        .iter()
        .map(|r| r.get("id"))
        .collect::<Result<_>>()?;
    if staff.len() < 4 {
        return Ok(DemoReport::default());
    }
    // The demo accounts' county first (its first town holds the town and
    // village accounts), then the rest of the city.
    let county = reference
        .areas
        .get("330402")
        .map(|a| a.path.clone())
        .unwrap_or_else(|| "/330400/".into());
    let mut people: Vec<(String, i64)> = Vec::new();
    for (lo, hi, n) in [
        (county.clone(), path_upper(&county), sample / 2),
        ("/".to_string(), "0".to_string(), sample - sample / 2),
    ] {
        let rows = conn.query(
            "SELECT id, ability_level FROM person WHERE role = 'elderly' AND deleted_at IS NULL \
             AND status = 'active' AND ability_level IS NOT NULL AND area_path >= $1 AND area_path < $2 \
             ORDER BY area_path, id LIMIT $3",
            &[lo.into(), hi.into(), (n as i64).into()],
        )?;
        for r in &rows {
            let id: String = r.get("id")?;
            if !people.iter().any(|(p, _)| p == &id) {
                people.push((id, r.get("ability_level")?));
            }
        }
    }
    let sys = Scope::system("demo");
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    conn.transaction(|c| {
        let mut rep = DemoReport::default();
        let mut ids = Vec::new();
        for (i, (person, level)) in people.iter().enumerate() {
            let level = u8::try_from(*level).unwrap_or(0).min(4);
            let band = std.bands.iter().find(|b| b.level == level).cloned();
            let Some(band) = band else { continue };
            let target = band.min + rng.below(u64::from(band.max - band.min + 1)) as u32;
            let a1 = rng.below(staff.len() as u64) as usize;
            let a2 = (a1 + 1 + rng.below(staff.len() as u64 - 1) as usize) % staff.len();
            // Mostly within the past year; about one in eight overdue.
            let age = 10 + rng.below(410);
            let d = Draft {
                person_id: person.clone(),
                reason: if i % 5 == 0 {
                    Reason::Routine
                } else {
                    Reason::First
                },
                assessed_on: today - Days::new(age),
                assessor1_id: staff[a1].clone(),
                assessor2_id: staff[a2].clone(),
                organisation_id: None,
                answers: answers_for(std, target, &mut rng),
                coma: false,
                diagnoses: Vec::new(),
                risk_events: Default::default(),
                review_of: None,
            };
            if d.assessed_on < super::earliest_day() {
                continue;
            }
            let id = super::new_id();
            create_in(c, &sys, &id, &d, today)?;
            finish_in(c, reference, &sys, &id, today)?;
            ids.push((id, person.clone()));
            rep.finished += 1;
        }
        // A few changes of condition, and one appealed result.
        for (_, person) in ids.iter().skip(3).step_by(40).take(3) {
            flag_change_in(c, &sys, person, "演示：跌倒后行动能力下降", today)?;
            rep.flagged += 1;
        }
        if let Some((id, _)) = ids.get(1) {
            super::appeal_in(c, &sys, id, "演示：家属对结果有疑问")?;
            rep.appealed += 1;
        }
        Ok(rep)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_answers_hit_the_target_total() {
        let std = Standard::embedded().expect("std");
        let mut rng = Rng(7);
        for target in [0u32, 29, 30, 45, 46, 65, 66, 89, 90] {
            let a = answers_for(std, target, &mut rng);
            let total: u32 = a.values().map(|v| u32::from(*v)).sum();
            assert_eq!(total, target);
            assert!(std.check_answers(&a).is_empty());
            let o = std
                .assess(
                    &a,
                    &Default::default(),
                    NaiveDate::from_ymd_opt(2026, 1, 1).expect("d"),
                )
                .expect("assess");
            assert_eq!(o.total, target);
            assert_eq!(o.final_level, o.initial_level);
        }
    }
}
