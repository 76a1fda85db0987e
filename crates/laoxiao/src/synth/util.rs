//! Small helpers: seeded random streams, weighted choice, apportionment and dates.

use chrono::{Datelike, Days, NaiveDate};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// What a random stream is for; each concern × index gets its own ChaCha stream,
/// so that changing how one register is generated leaves the others' bytes alone.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Concern {
    Geography = 1,
    CareHomes = 3,
    TownCentres = 4,
    Stations = 5,
    Guidance = 6,
    Childcare = 7,
    Classes = 8,
    Wellness = 9,
    Schools = 10,
    Canteens = 11,
    Rentals = 12,
    Sunflower = 13,
    Operators = 14,
    Elderly = 15,
    Infants = 16,
    Staff = 18,
    Services = 19,
    Enrolments = 20,
    Residences = 21,
    Students = 22,
    Departures = 23,
    HealthChecks = 24,
    Screenings = 25,
    Insurance = 26,
    #[cfg(test)]
    Density = 17,
}

/// The random stream for `concern` and `index` (a county's position, usually).
pub(crate) fn stream(seed: u64, concern: Concern, index: u64) -> ChaCha8Rng {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    r.set_stream(((concern as u64) << 32) | (index & 0xffff_ffff));
    r
}

/// An index drawn with probability proportional to `weights` (all ≥ 0, some > 0).
pub(crate) fn pick_weighted<R: Rng>(rng: &mut R, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    let mut x = rng.random::<f64>() * total;
    for (i, w) in weights.iter().enumerate() {
        if x < *w {
            return i;
        }
        x -= w;
    }
    // Rounding: the last index with a positive weight.
    weights.iter().rposition(|w| *w > 0.0).unwrap_or(0)
}

/// A cumulative table for repeated weighted draws (binary search).
#[derive(Debug, Clone)]
pub(crate) struct Cumulative {
    cum: Vec<f64>,
}

impl Cumulative {
    pub(crate) fn new(weights: &[f64]) -> Self {
        let mut acc = 0.0;
        let cum = weights
            .iter()
            .map(|w| {
                acc += w.max(0.0);
                acc
            })
            .collect();
        Cumulative { cum }
    }

    pub(crate) fn draw<R: Rng>(&self, rng: &mut R) -> usize {
        let total = self.cum.last().copied().unwrap_or(0.0);
        let x = rng.random::<f64>() * total;
        let i = self.cum.partition_point(|c| *c <= x);
        i.min(self.cum.len().saturating_sub(1))
    }
}

/// Splits `total` in proportion to `weights` by the largest-remainder method
/// (ties to the lower index). With integer weights summing to `total` it returns
/// the weights themselves, which is what makes scale 1 exact.
pub(crate) fn apportion(total: i64, weights: &[f64]) -> Vec<i64> {
    let n = weights.len();
    if n == 0 || total <= 0 {
        return vec![0; n];
    }
    let wsum: f64 = weights.iter().map(|w| w.max(0.0)).sum();
    if wsum <= 0.0 {
        let mut out = vec![total / n as i64; n];
        for x in out.iter_mut().take((total % n as i64) as usize) {
            *x += 1;
        }
        return out;
    }
    let mut out = Vec::with_capacity(n);
    let mut rem = Vec::with_capacity(n);
    let mut given = 0;
    for (i, w) in weights.iter().enumerate() {
        let exact = total as f64 * w.max(0.0) / wsum;
        let fl = exact.floor() as i64;
        out.push(fl);
        given += fl;
        rem.push((exact - fl as f64, i));
    }
    rem.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut left = total - given;
    let mut k = 0;
    while left > 0 {
        out[rem[k % n].1] += 1;
        left -= 1;
        k += 1;
    }
    out
}

/// Like [`apportion`], but each share is at least `lo` and at most its cap
/// (water-filling). The caller makes sure `lo × n ≤ total ≤ Σ caps`; anything
/// that does not fit is dropped rather than breaking a cap.
pub(crate) fn apportion_capped(total: i64, weights: &[f64], lo: i64, caps: &[i64]) -> Vec<i64> {
    let n = weights.len();
    let mut out: Vec<i64> = caps.iter().map(|c| lo.min(*c)).collect();
    let mut left = total - out.iter().sum::<i64>();
    for _ in 0..(n + 2) {
        if left <= 0 {
            break;
        }
        let open: Vec<usize> = (0..n).filter(|&i| out[i] < caps[i]).collect();
        if open.is_empty() {
            break;
        }
        let w: Vec<f64> = open.iter().map(|&i| weights[i].max(1e-9)).collect();
        let share = apportion(left, &w);
        let mut given = 0;
        for (k, &i) in open.iter().enumerate() {
            let add = share[k].min(caps[i] - out[i]);
            out[i] += add;
            given += add;
        }
        left -= given;
    }
    out
}

/// Rounds `x × scale` to the nearest whole number (half away from zero).
pub(crate) fn scaled(x: f64, scale: f64) -> i64 {
    (x * scale).round() as i64
}

/// A uniformly random date in `from..=to`.
pub(crate) fn date_between<R: Rng>(rng: &mut R, from: NaiveDate, to: NaiveDate) -> NaiveDate {
    let span = (to - from).num_days().max(0) as u64;
    from + Days::new(rng.random_range(0..=span))
}

/// `d` moved by whole years (29 February becomes 28 February).
pub(crate) fn add_years(d: NaiveDate, years: i32) -> NaiveDate {
    let y = d.year() + years;
    NaiveDate::from_ymd_opt(y, d.month(), d.day())
        .or_else(|| NaiveDate::from_ymd_opt(y, d.month(), 28))
        .unwrap_or(d)
}

/// A date from literal parts that are known to be valid.
pub(crate) fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

/// A standard normal draw (Box–Muller).
pub(crate) fn normal<R: Rng>(rng: &mut R) -> f64 {
    let u1: f64 = rng.random::<f64>().max(1e-300);
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A log-normal factor with median 1.
pub(crate) fn lognormal<R: Rng>(rng: &mut R, sigma: f64) -> f64 {
    (normal(rng) * sigma).exp()
}

/// Fisher–Yates shuffle driven by our own stream (independent of rand's
/// `SliceRandom` algorithm choices, so the output never changes with rand).
pub(crate) fn shuffle<T, R: Rng>(rng: &mut R, v: &mut [T]) {
    for i in (1..v.len()).rev() {
        let j = rng.random_range(0..=i);
        v.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apportion_is_exact_for_integer_weights() {
        let w = [3.0, 5.0, 0.0, 2.0];
        assert_eq!(apportion(10, &w), vec![3, 5, 0, 2]);
        let a = apportion(7, &[1.0, 1.0, 1.0]);
        assert_eq!(a.iter().sum::<i64>(), 7);
        assert_eq!(a, vec![3, 2, 2]);
    }

    #[test]
    fn capped_apportion_respects_bounds() {
        let a = apportion_capped(100, &[10.0, 1.0, 1.0], 5, &[20, 100, 100]);
        assert_eq!(a.iter().sum::<i64>(), 100);
        assert_eq!(a[0], 20);
        assert!(a.iter().all(|x| *x >= 5));
    }

    #[test]
    fn years_move_across_leap_days() {
        assert_eq!(add_years(ymd(2020, 2, 29), 3), ymd(2023, 2, 28));
    }
}
