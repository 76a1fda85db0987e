//! Floating-catchment accessibility: the two-step floating catchment area
//! method (2SFCA, Luo & Wang 2003) and its enhanced form with distance decay
//! (E2SFCA, Luo & Qi 2009), on straight-line distances in projected metres.
//!
//! The definitions are those of PySAL's `access` package (`access.fca` and
//! `access.weights`, version 1.1), so that our figures and theirs agree to
//! rounding; `bench/access_pysal.py` checks it on every row. For a radius
//! `r` (inclusive: a pair at exactly `r` counts), a decay `w(d)`, demand
//! points `i` (population `P_i`) and supply points `j` (capacity `S_j`):
//!
//! 1. per supply point, the weighted demand in reach
//!    `W_j = Σ_{i : d_ij ≤ r} P_i · w(d_ij)` and the ratio `R_j = S_j / W_j`;
//! 2. per demand point, the access `A_i = Σ_{j : d_ij ≤ r} R_j · w(d_ij)`.
//!
//! Both stages use the same `w`, as PySAL's `two_stage_fca` does when it is
//! given a `weight_fn` (that is its `enhanced_two_stage_fca`); without one
//! (plain 2SFCA) every pair in reach weighs 1, which is [`Decay::Uniform`].
//! The distance is `sqrt(dx² + dy²)` and the test is `d ≤ r` on it, the cost
//! PySAL filters with `cost <= max_cost`.
//!
//! Range queries go through [`PointIndex`] (never all pairs): stage 1 asks
//! the demand index once per supply point, stage 2 asks the supply index once
//! per demand point. Each sum runs in the index's fixed visiting order, and
//! the stages are split over threads in contiguous chunks, so the answer is
//! the same bit for bit whatever the number of threads.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;

use crate::index::PointIndex;
use crate::proj::Xy;

/// At most this many steps in a [`Decay::Stepped`] read from text.
pub const MAX_STEPS: usize = 16;
/// Longest decay text [`Decay::parse`] reads (bytes).
pub const MAX_DECAY_TEXT: usize = 1024;

/// Coordinates farther than this from the origin (a million kilometres; no
/// projected coordinate is) are treated like non-finite ones and skipped, so
/// the index's arithmetic stays finite.
const MAX_COORD: f64 = 1e12;
/// Larger than any distance between two kept points (2√2 · `MAX_COORD`):
/// a longer radius, infinity included, reaches everything and is queried as
/// this one.
const MAX_QUERY_RADIUS: f64 = 4e12;
/// Below this many points (demand and supply) both stages run on the
/// calling thread only: starting threads would cost more than it saves.
const PARALLEL_MIN: usize = 2048;
/// Never more threads than this, whatever the machine offers.
const MAX_THREADS: usize = 8;

/// How the weight of a demand–supply pair falls with distance.
#[derive(Debug, Clone, PartialEq)]
pub enum Decay {
    /// Plain 2SFCA: every pair within the radius weighs 1 (PySAL's
    /// `two_stage_fca` with `weight_fn=None`). `w(d) = 1`; the radius alone
    /// cuts the catchment.
    Uniform,
    /// PySAL's `access.weights.gaussian(sigma)`: the unnormalised Gaussian
    /// `w(d) = exp(-d·d / (2σ²))`, so `w(0) = 1` whatever σ, `w(σ) ≈ 0.6065`.
    /// σ in metres; it applies inside the radius only. Text: `gaussian:σ`,
    /// σ finite and positive (PySAL refuses σ = 0).
    Gaussian {
        /// The width σ, metres.
        sigma: f64,
    },
    /// PySAL's `access.weights.step_fn({upper: weight, ...})`: the weight of
    /// the smallest upper bound that is at least the distance, bounds
    /// inclusive (`d ≤ upper`); beyond the largest bound the weight is 0.
    /// With steps `300=1,600=0.68,1000=0.22`, `w(300) = 1`, `w(300.1) =
    /// 0.68`, `w(1000) = 0.22`, `w(1000.1) = 0`. Pairs are `(upper distance
    /// m, weight)`; their order does not matter here (PySAL sorts the keys;
    /// of equal bounds the first listed wins), but text must list them
    /// ascending.
    Stepped(Vec<(f64, f64)>),
}

impl Decay {
    /// The weight at distance `d` metres (see each variant for the formula).
    /// A distance that is not a number weighs 0. [`two_step`] counts a weight
    /// that is not a finite positive number (from a hand-built σ of 0, a
    /// negative step weight) as 0.
    pub fn weight(&self, d: f64) -> f64 {
        if d.is_nan() {
            return 0.0;
        }
        match self {
            Decay::Uniform => 1.0,
            // PySAL: np.exp(-x * x / (2 * sigma**2)).
            Decay::Gaussian { sigma } => (-d * d / (2.0 * (sigma * sigma))).exp(),
            Decay::Stepped(steps) => {
                let mut best: Option<(f64, f64)> = None;
                for &(upper, w) in steps {
                    if d <= upper && best.is_none_or(|(u, _)| upper < u) {
                        best = Some((upper, w));
                    }
                }
                best.map_or(0.0, |(_, w)| w)
            }
        }
    }

    /// Reads a decay from its short text:
    ///
    /// - `uniform` — plain 2SFCA;
    /// - `gaussian:SIGMA` — SIGMA in metres, finite and positive;
    /// - `step:D1=W1,D2=W2,...` — 1 to [`MAX_STEPS`] steps, upper distances
    ///   in metres finite, non-negative and strictly increasing, weights
    ///   finite and non-negative.
    ///
    /// Numbers are decimal (`500`, `0.68`, `1e3`); spaces around the parts
    /// are ignored; at most [`MAX_DECAY_TEXT`] bytes. Errors name the problem.
    pub fn parse(text: &str) -> Result<Decay, String> {
        if text.len() > MAX_DECAY_TEXT {
            return Err(format!(
                "decay text is {} bytes long; at most {MAX_DECAY_TEXT} are accepted",
                text.len()
            ));
        }
        let text = text.trim();
        let (kind, rest) = match text.split_once(':') {
            Some((k, r)) => (k.trim(), Some(r)),
            None => (text, None),
        };
        match (kind, rest) {
            ("uniform", None) => Ok(Decay::Uniform),
            ("uniform", Some(_)) => Err("decay \"uniform\" takes no parameter".into()),
            ("gaussian", Some(sigma)) => {
                let sigma = number(sigma, "gaussian sigma")?;
                if sigma <= 0.0 {
                    return Err("decay gaussian sigma must be positive (metres), not 0".into());
                }
                Ok(Decay::Gaussian { sigma })
            }
            ("gaussian", None) => {
                Err("decay gaussian needs its sigma in metres, e.g. \"gaussian:500\"".into())
            }
            ("step", Some(list)) => {
                let parts: Vec<&str> = list.split(',').collect();
                if parts.len() > MAX_STEPS {
                    return Err(format!(
                        "decay step has {} steps; at most {MAX_STEPS} are accepted",
                        parts.len()
                    ));
                }
                let mut steps: Vec<(f64, f64)> = Vec::with_capacity(parts.len());
                for (k, part) in parts.iter().enumerate() {
                    let n = k + 1;
                    let Some((d, w)) = part.split_once('=') else {
                        return Err(format!(
                            "decay step {n} (\"{}\") is not DISTANCE=WEIGHT",
                            part.trim()
                        ));
                    };
                    let d = number(d, &format!("step {n} distance"))?;
                    let w = number(w, &format!("step {n} weight"))?;
                    if let Some(&(prev, _)) = steps.last()
                        && d <= prev
                    {
                        return Err(format!(
                            "decay step distances must increase: step {n} has {d} after {prev}"
                        ));
                    }
                    steps.push((d, w));
                }
                Ok(Decay::Stepped(steps))
            }
            ("step", None) => {
                Err("decay step needs its steps, e.g. \"step:300=1,600=0.68,1000=0.22\"".into())
            }
            _ => Err(format!(
                "unknown decay \"{}\": expected \"uniform\", \"gaussian:SIGMA\" or \
                 \"step:D1=W1,D2=W2,...\"",
                kind.chars().take(40).collect::<String>()
            )),
        }
    }
}

/// A finite, non-negative decimal number (negative zero read as zero).
fn number(text: &str, what: &str) -> Result<f64, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err(format!("decay {what} is missing"));
    }
    let shown: String = t.chars().take(40).collect();
    let v: f64 = t
        .parse()
        .map_err(|_| format!("decay {what} \"{shown}\" is not a number"))?;
    if !v.is_finite() {
        return Err(format!("decay {what} \"{shown}\" is not a finite number"));
    }
    if v < 0.0 {
        return Err(format!("decay {what} {v} is negative"));
    }
    Ok(v + 0.0)
}

impl FromStr for Decay {
    type Err = String;

    fn from_str(s: &str) -> Result<Decay, String> {
        Decay::parse(s)
    }
}

/// The text [`Decay::parse`] reads back to the same decay (numbers in their
/// shortest round-trip form): `uniform`, `gaussian:500`,
/// `step:300=1,600=0.68,1000=0.22`.
impl fmt::Display for Decay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Decay::Uniform => f.write_str("uniform"),
            Decay::Gaussian { sigma } => write!(f, "gaussian:{sigma}"),
            Decay::Stepped(steps) => {
                f.write_str("step:")?;
                for (k, (d, w)) in steps.iter().enumerate() {
                    if k > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{d}={w}")?;
                }
                Ok(())
            }
        }
    }
}

/// The result of [`two_step`], indexed like its inputs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Access {
    /// Per demand point, the access `A_i` (supply per head, e.g. beds per
    /// person); `None` when no supply point lies within the radius (as
    /// opposed to `Some(0.0)`: supply in reach, but none of it available).
    pub value: Vec<Option<f64>>,
    /// Per supply point, `R_j` = capacity / weighted demand in reach; `None`
    /// when no demand weighs in (no demand point in reach, or all of it of
    /// zero population or zero weight), or when the supply point was skipped.
    pub ratio: Vec<Option<f64>>,
    /// The kept supply points with no demand of weight > 0 in reach (their
    /// ratio is `None`), ascending. Skipped supply points are not listed.
    pub unserved: Vec<usize>,
}

/// Two-step floating catchment accessibility (2SFCA with
/// [`Decay::Uniform`], E2SFCA with the others), PySAL `access`'s
/// `two_stage_fca` on Euclidean costs with `max_cost = radius_m`.
///
/// `demand` is (point, population), `supply` is (point, capacity such as beds
/// or places); points in projected metres; a pair counts when the straight
/// line distance `sqrt(dx² + dy²)` is at most `radius_m`.
///
/// Edge cases:
/// - a supply point of capacity 0 has ratio `Some(0.0)` and adds 0 to the
///   cells in reach (they get `Some`, possibly `Some(0.0)`);
/// - a demand point of population 0 adds nothing to any `W_j` but still gets
///   its own value; a supply point whose weighted demand `W_j` is 0 has ratio
///   `None`, is in `unserved` and adds nothing to anyone's value. (PySAL
///   divides by that zero and reports an infinite or NaN ratio, which then
///   makes the zero-population cells beside it infinite; we keep values
///   finite instead. With positive populations and weights the two agree.)
/// - a point whose coordinates are not finite (or beyond 10¹² m), a
///   population or capacity that is negative or not finite: that point is
///   skipped (value or ratio `None`, never in `unserved`) as if absent;
/// - a radius that is NaN or negative reaches nothing (every value and ratio
///   `None`, every kept supply point unserved); an infinite one reaches
///   everything;
/// - a weight that is not a finite positive number counts as 0.
///
/// Never panics. Cost: two index builds plus one range query per point.
pub fn two_step(
    demand: &[(Xy, f64)],
    supply: &[(Xy, f64)],
    radius_m: f64,
    decay: &Decay,
) -> Access {
    two_step_threads(demand, supply, radius_m, decay, default_threads())
}

fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(MAX_THREADS)
}

fn kept(p: &(Xy, f64)) -> Option<Xy> {
    let (xy, v) = *p;
    let ok = xy.x.is_finite()
        && xy.y.is_finite()
        && xy.x.abs() <= MAX_COORD
        && xy.y.abs() <= MAX_COORD
        && v.is_finite()
        && v >= 0.0;
    ok.then_some(xy)
}

/// A weight that is a finite positive number, or 0.
fn weight_of(decay: &Decay, d: f64) -> f64 {
    let w = decay.weight(d);
    if w.is_finite() && w > 0.0 { w } else { 0.0 }
}

/// The bucket side for an index of `points` queried with `radius`: about two
/// point spacings, kept between a quarter of the radius and the radius (so a
/// query visits at most 13 × 13 buckets), and never so small that the table
/// passes about a million buckets (4 MB). The floor goes by the bounding
/// box's area, not its longest side, so one stray point far away stretches
/// the table instead of coarsening every bucket.
fn bucket_side(points: &[Xy], radius: f64) -> f64 {
    let (mut lo, mut hi) = (Xy::new(f64::MAX, f64::MAX), Xy::new(f64::MIN, f64::MIN));
    let mut n = 0usize;
    for p in points.iter().filter(|p| p.x.is_finite() && p.y.is_finite()) {
        lo = Xy::new(lo.x.min(p.x), lo.y.min(p.y));
        hi = Xy::new(hi.x.max(p.x), hi.y.max(p.y));
        n += 1;
    }
    if n == 0 {
        return 1.0;
    }
    let (w, h) = ((hi.x - lo.x).max(1.0), (hi.y - lo.y).max(1.0));
    let spacing = (w * h / n as f64).sqrt();
    (2.0 * spacing)
        .min(radius)
        .max(radius / 4.0)
        .max((w * h / 1e6).sqrt())
        .max(1.0)
}

/// `f(0), f(1), ..., f(n - 1)` in order, computed on up to `threads`
/// threads in contiguous chunks (so the result does not depend on them).
fn par_map<T: Send>(n: usize, threads: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let threads = threads.min(n);
    if threads <= 1 {
        return (0..n).map(f).collect();
    }
    let chunk = n.div_ceil(threads);
    let f = &f;
    std::thread::scope(|s| {
        let mut jobs = Vec::with_capacity(threads);
        for t in 1..threads {
            let range = (t * chunk).min(n)..((t + 1) * chunk).min(n);
            let spawned = std::thread::Builder::new()
                .spawn_scoped(s, move || range.clone().map(f).collect::<Vec<T>>());
            jobs.push((t, spawned.ok()));
        }
        let mut out: Vec<T> = Vec::with_capacity(n);
        out.extend((0..chunk.min(n)).map(f));
        for (t, job) in jobs {
            let part = match job {
                Some(handle) => match handle.join() {
                    Ok(part) => part,
                    Err(e) => std::panic::resume_unwind(e),
                },
                // The thread could not be started: do its share here.
                None => ((t * chunk).min(n)..((t + 1) * chunk).min(n))
                    .map(f)
                    .collect(),
            };
            out.extend(part);
        }
        out
    })
}

/// [`two_step`] on a given number of threads (1: the calling thread only).
fn two_step_threads(
    demand: &[(Xy, f64)],
    supply: &[(Xy, f64)],
    radius_m: f64,
    decay: &Decay,
    threads: usize,
) -> Access {
    const SKIP: Xy = Xy::new(f64::NAN, f64::NAN);
    let dpts: Vec<Xy> = demand.iter().map(|p| kept(p).unwrap_or(SKIP)).collect();
    let spts: Vec<Xy> = supply.iter().map(|p| kept(p).unwrap_or(SKIP)).collect();
    let skipped = |p: &Xy| p.x.is_nan();

    if radius_m.is_nan() || radius_m < 0.0 {
        return Access {
            value: vec![None; demand.len()],
            ratio: vec![None; supply.len()],
            unserved: (0..supply.len()).filter(|&j| !skipped(&spts[j])).collect(),
        };
    }
    // The index tests `d² ≤ q²`; PySAL tests `sqrt(d²) ≤ r`, which can also
    // hold when d² is an ulp or two above r². So query a hair wider and keep
    // the pairs with `d ≤ r` on the distance itself.
    let query = (radius_m * (1.0 + 1e-9) + 1e-9).min(MAX_QUERY_RADIUS);
    let in_reach = |d: f64| d <= radius_m;

    // Stage 1: the weighted demand in reach of each supply point. It meets
    // every pair in reach, so it also marks the demand points that have a
    // supply point in reach (the marks are an OR: the same whatever the
    // threads' interleaving); stage 2 queries only those.
    let threads = if demand.len() + supply.len() >= PARALLEL_MIN {
        threads
    } else {
        1
    };
    let didx = PointIndex::new(&dpts, bucket_side(&dpts, query));
    let reached: Vec<AtomicBool> = (0..demand.len()).map(|_| AtomicBool::new(false)).collect();
    let weighted: Vec<f64> = par_map(supply.len(), threads, |j| {
        let s = spts[j];
        let mut sum = 0.0;
        didx.within(s, query, |i, d| {
            if in_reach(d) {
                reached[i].store(true, Ordering::Relaxed);
                let w = weight_of(decay, d);
                if w > 0.0 {
                    sum += demand[i].1 * w;
                }
            }
        });
        sum
    });
    let mut unserved = Vec::new();
    let ratio: Vec<Option<f64>> = (0..supply.len())
        .map(|j| {
            if skipped(&spts[j]) {
                None
            } else if weighted[j] > 0.0 {
                Some(supply[j].1 / weighted[j])
            } else {
                unserved.push(j);
                None
            }
        })
        .collect();

    // Stage 2: each demand point sums the ratios in reach, weighted again.
    let sidx = PointIndex::new(&spts, bucket_side(&spts, query));
    let value: Vec<Option<f64>> = par_map(demand.len(), threads, |i| {
        if !reached[i].load(Ordering::Relaxed) {
            return None;
        }
        let mut any = false;
        let mut sum = 0.0;
        sidx.within(dpts[i], query, |j, d| {
            if in_reach(d) {
                any = true;
                if let Some(r) = ratio[j] {
                    let w = weight_of(decay, d);
                    if w > 0.0 {
                        sum += r * w;
                    }
                }
            }
        });
        any.then_some(sum)
    });
    Access {
        value,
        ratio,
        unserved,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Points with their population or capacity.
    type Points = Vec<(Xy, f64)>;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1e-300)
    }

    fn assert_opt(got: Option<f64>, want: Option<f64>, what: &str) {
        match (got, want) {
            (None, None) => {}
            (Some(g), Some(w)) => assert!(close(g, w), "{what}: {g} vs {w}"),
            _ => panic!("{what}: {got:?} vs {want:?}"),
        }
    }

    /// Two facilities (and one far away), five cells, radius 1000 m.
    ///
    /// ```text
    /// A (0, 0)        capacity 30      B (2000, 0)   capacity 10
    /// C (-5000, 0)    capacity 7 (no cell within 1000 m)
    /// c0 (300, 400)   pop 100: d(A) = 500 (3-4-5), d(B) = √3 050 000 ≈ 1746
    /// c1 (1000, 0)    pop 200: d(A) = 1000, d(B) = 1000 (both on the radius)
    /// c2 (5000, 5000) pop 50:  nothing within 1000 m
    /// c3 (2300, 400)  pop 300: d(B) = 500 (3-4-5), d(A) ≈ 2334
    /// c4 (600, 800.001) pop 1000: d(A) just over 1000, d(B) ≈ 1612
    /// ```
    fn example() -> (Points, Points) {
        let supply = vec![
            (Xy::new(0.0, 0.0), 30.0),
            (Xy::new(2000.0, 0.0), 10.0),
            (Xy::new(-5000.0, 0.0), 7.0),
        ];
        let demand = vec![
            (Xy::new(300.0, 400.0), 100.0),
            (Xy::new(1000.0, 0.0), 200.0),
            (Xy::new(5000.0, 5000.0), 50.0),
            (Xy::new(2300.0, 400.0), 300.0),
            (Xy::new(600.0, 800.001), 1000.0),
        ];
        (demand, supply)
    }

    #[test]
    fn plain_2sfca_by_hand() {
        let (demand, supply) = example();
        let a = two_step(&demand, &supply, 1000.0, &Decay::Uniform);
        // W_A = 100 (c0) + 200 (c1, on the radius: counts) = 300; R_A = 30/300 = 0.1.
        // c4 is 1000.0006 m from A and does not count.
        // W_B = 200 (c1) + 300 (c3) = 500; R_B = 10/500 = 0.02.
        // C has no cell in reach: ratio None, unserved.
        assert_opt(a.ratio[0], Some(0.1), "R_A");
        assert_opt(a.ratio[1], Some(0.02), "R_B");
        assert_eq!(a.ratio[2], None);
        assert_eq!(a.unserved, vec![2]);
        // A_c0 = R_A = 0.1; A_c1 = R_A + R_B = 0.12; c2: no facility, None (not 0);
        // A_c3 = R_B = 0.02; c4: None.
        assert_opt(a.value[0], Some(0.1), "c0");
        assert_opt(a.value[1], Some(0.12), "c1");
        assert_eq!(a.value[2], None);
        assert_opt(a.value[3], Some(0.02), "c3");
        assert_eq!(a.value[4], None);
    }

    #[test]
    fn e2sfca_stepped_by_hand() {
        let (demand, supply) = example();
        let decay = Decay::parse("step:500=1,1000=0.5").expect("valid decay");
        let a = two_step(&demand, &supply, 1000.0, &decay);
        // Bounds are inclusive: w(500) = 1, w(1000) = 0.5.
        // W_A = 100·1 + 200·0.5 = 200, R_A = 30/200 = 0.15.
        // W_B = 200·0.5 + 300·1 = 400, R_B = 10/400 = 0.025.
        assert_opt(a.ratio[0], Some(0.15), "R_A");
        assert_opt(a.ratio[1], Some(0.025), "R_B");
        // A_c0 = 0.15·1; A_c1 = 0.15·0.5 + 0.025·0.5 = 0.0875; A_c3 = 0.025·1.
        assert_opt(a.value[0], Some(0.15), "c0");
        assert_opt(a.value[1], Some(0.0875), "c1");
        assert_eq!(a.value[2], None);
        assert_opt(a.value[3], Some(0.025), "c3");
        // Steps stopping short of the radius: pairs beyond the last step weigh
        // 0 but are still in reach (so c1's value is Some(0), not None).
        let short = Decay::parse("step:500=1").expect("valid decay");
        let a = two_step(&demand, &supply, 1000.0, &short);
        // W_A = 100, R_A = 0.3; W_B = 300, R_B = 1/30; c1 sees both at weight 0.
        assert_opt(a.ratio[0], Some(0.3), "R_A");
        assert_opt(a.ratio[1], Some(10.0 / 300.0), "R_B");
        assert_eq!(a.value[1], Some(0.0));
    }

    #[test]
    fn e2sfca_gaussian_by_hand() {
        let (demand, supply) = example();
        let a = two_step(&demand, &supply, 1000.0, &Decay::Gaussian { sigma: 1000.0 });
        // w(d) = exp(-d² / (2·1000²)): w(500) = e^(-1/8), w(1000) = e^(-1/2).
        let (w5, w10) = ((-0.125f64).exp(), (-0.5f64).exp());
        // W_A = 100·e^(-1/8) + 200·e^(-1/2); R_A = 30 / W_A.
        // W_B = 200·e^(-1/2) + 300·e^(-1/8); R_B = 10 / W_B.
        let ra = 30.0 / (100.0 * w5 + 200.0 * w10);
        let rb = 10.0 / (200.0 * w10 + 300.0 * w5);
        assert_opt(a.ratio[0], Some(ra), "R_A");
        assert_opt(a.ratio[1], Some(rb), "R_B");
        // A_c0 = R_A·e^(-1/8); A_c1 = (R_A + R_B)·e^(-1/2); A_c3 = R_B·e^(-1/8).
        assert_opt(a.value[0], Some(ra * w5), "c0");
        assert_opt(a.value[1], Some(ra * w10 + rb * w10), "c1");
        assert_opt(a.value[3], Some(rb * w5), "c3");
        assert_eq!(a.value[2], None);
        assert_eq!(a.unserved, vec![2]);
    }

    #[test]
    fn weights_are_pysal_s() {
        // access.weights.step_fn docstring: {20: 1, 40: 0.68, 60: 0.22} at 0..70 step 10
        // gives {0: 1, 10: 1, 20: 1, 30: 0.68, 40: 0.68, 50: 0.22, 60: 0.22, 70: 0}.
        let step = Decay::Stepped(vec![(20.0, 1.0), (40.0, 0.68), (60.0, 0.22)]);
        let want = [1.0, 1.0, 1.0, 0.68, 0.68, 0.22, 0.22, 0.0];
        for (k, w) in want.iter().enumerate() {
            assert_eq!(step.weight(10.0 * k as f64), *w, "step at {}", 10 * k);
        }
        // Order of the pairs does not matter (PySAL sorts the dict).
        let shuffled = Decay::Stepped(vec![(60.0, 0.22), (20.0, 1.0), (40.0, 0.68)]);
        assert_eq!(shuffled.weight(30.0), 0.68);
        // access.weights.gaussian docstring, sigma = 20, at 0, 20, 40, 60.
        let g = Decay::Gaussian { sigma: 20.0 };
        let want = [
            1.0,
            0.6065306597126334,
            0.1353352832366127,
            0.011108996538242306,
        ];
        for (k, w) in want.iter().enumerate() {
            assert!(
                close(g.weight(20.0 * k as f64), *w),
                "gaussian at {}",
                20 * k
            );
        }
        assert_eq!(Decay::Uniform.weight(1e9), 1.0);
        assert_eq!(step.weight(f64::NAN), 0.0);
    }

    #[test]
    fn zero_capacity_zero_population_and_bad_inputs() {
        let supply = vec![
            (Xy::new(0.0, 0.0), 0.0),           // zero capacity
            (Xy::new(10_000.0, 0.0), 5.0),      // only a zero-population cell near
            (Xy::new(f64::NAN, 0.0), 5.0),      // skipped
            (Xy::new(20_000.0, 0.0), f64::NAN), // skipped
            (Xy::new(30_000.0, 0.0), -1.0),     // skipped
            (Xy::new(1e13, 0.0), 1.0),          // skipped (not a projected coordinate)
        ];
        let demand = vec![
            (Xy::new(300.0, 400.0), 100.0),
            (Xy::new(10_300.0, 400.0), 0.0),
            (Xy::new(f64::INFINITY, 0.0), 10.0),
            (Xy::new(20_000.0, 0.0), 10.0), // on the skipped facility 3
            (Xy::new(-300.0, -400.0), f64::NAN),
        ];
        let a = two_step(&demand, &supply, 1000.0, &Decay::Uniform);
        // Facility 0: W = 100, R = 0/100 = 0; cell 0 is served, at 0.
        assert_eq!(a.ratio[0], Some(0.0));
        assert_eq!(a.value[0], Some(0.0));
        // Facility 1: W = 0 → None, unserved; its zero-population cell still
        // has a facility in reach: Some(0), not None (nor PySAL's infinity).
        assert_eq!(a.ratio[1], None);
        assert_eq!(a.value[1], Some(0.0));
        assert_eq!(a.unserved, vec![1]);
        assert_eq!(&a.ratio[2..], &[None, None, None, None]);
        // Skipped cells, and a cell whose only facility was skipped.
        assert_eq!(&a.value[2..], &[None, None, None]);

        // Radius: NaN or negative reach nothing; infinity reaches everything.
        for r in [f64::NAN, -1.0] {
            let a = two_step(&demand, &supply, r, &Decay::Uniform);
            assert!(a.value.iter().all(Option::is_none));
            assert!(a.ratio.iter().all(Option::is_none));
            assert_eq!(a.unserved, vec![0, 1]);
        }
        let a = two_step(&demand, &supply, f64::INFINITY, &Decay::Uniform);
        // Both kept facilities see cells 0, 1 and 3 (pop 110): R0 = 0, R1 = 5/110.
        assert_eq!(a.ratio[0], Some(0.0));
        assert_opt(a.ratio[1], Some(5.0 / 110.0), "R1 at infinity");
        assert_opt(a.value[3], Some(5.0 / 110.0), "cell 3 at infinity");
        // Huge and tiny radii, empty inputs, hand-built odd decays: no panic.
        let _ = two_step(&demand, &supply, 1e300, &Decay::Gaussian { sigma: 0.0 });
        let _ = two_step(&demand, &supply, 1e-300, &Decay::Stepped(vec![(1.0, -1.0)]));
        let _ = two_step(&demand, &supply, 0.0, &Decay::Stepped(Vec::new()));
        let e = two_step(&[], &[], 1000.0, &Decay::Uniform);
        assert!(e.value.is_empty() && e.ratio.is_empty() && e.unserved.is_empty());
        // Radius 0: only coincident points pair.
        let a = two_step(
            &[(Xy::new(1.0, 1.0), 4.0)],
            &[(Xy::new(1.0, 1.0), 2.0)],
            0.0,
            &Decay::Uniform,
        );
        assert_eq!(a.value, vec![Some(0.5)]);
    }

    /// A deterministic scatter (a linear congruential sequence): points in a
    /// few clusters, with values in 0..1000 (some exactly 0).
    fn scatter(n: usize, seed: u64, spread: f64) -> Vec<(Xy, f64)> {
        let mut s = seed;
        let mut next = || {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (s >> 11) as f64 / (1u64 << 53) as f64
        };
        (0..n)
            .map(|i| {
                let (cx, cy) = [(0.0, 0.0), (9_000.0, 2_000.0), (3_000.0, 12_000.0)][i % 3];
                let p = Xy::new(cx + next() * spread, cy + next() * spread);
                let v = (next() * 1000.0).floor() - 20.0;
                (p, v.max(0.0))
            })
            .collect()
    }

    /// The definition, all pairs, no index.
    fn naive(demand: &[(Xy, f64)], supply: &[(Xy, f64)], r: f64, decay: &Decay) -> Access {
        let ratio: Vec<Option<f64>> = supply
            .iter()
            .map(|&(s, cap)| {
                let w: f64 = demand
                    .iter()
                    .filter(|(p, _)| p.dist2(s).sqrt() <= r)
                    .map(|&(p, pop)| pop * decay.weight(p.dist2(s).sqrt()))
                    .sum();
                (w > 0.0).then(|| cap / w)
            })
            .collect();
        let value = demand
            .iter()
            .map(|&(p, _)| {
                let near: Vec<usize> = (0..supply.len())
                    .filter(|&j| p.dist2(supply[j].0).sqrt() <= r)
                    .collect();
                (!near.is_empty()).then(|| {
                    near.iter()
                        .filter_map(|&j| {
                            ratio[j].map(|rj| rj * decay.weight(p.dist2(supply[j].0).sqrt()))
                        })
                        .sum()
                })
            })
            .collect();
        let unserved = (0..supply.len()).filter(|&j| ratio[j].is_none()).collect();
        Access {
            value,
            ratio,
            unserved,
        }
    }

    #[test]
    fn agrees_with_all_pairs() {
        let demand = scatter(3000, 17, 5_000.0);
        let supply = scatter(90, 4, 7_000.0);
        let decays = [
            Decay::Uniform,
            Decay::Gaussian { sigma: 400.0 },
            Decay::parse("step:300=1,600=0.68,1000=0.22").expect("valid decay"),
            Decay::parse("step:200=1,400=0.5").expect("valid decay"),
        ];
        for r in [0.0, 150.0, 1000.0, 2500.0] {
            for decay in &decays {
                let got = two_step(&demand, &supply, r, decay);
                let want = naive(&demand, &supply, r, decay);
                for (k, (g, w)) in got.value.iter().zip(&want.value).enumerate() {
                    assert_opt(*g, *w, &format!("value {k}, r {r}, {decay}"));
                }
                for (k, (g, w)) in got.ratio.iter().zip(&want.ratio).enumerate() {
                    assert_opt(*g, *w, &format!("ratio {k}, r {r}, {decay}"));
                }
                assert_eq!(got.unserved, want.unserved, "r {r}, {decay}");
            }
        }
    }

    #[test]
    fn grid_boundaries_agree_with_all_pairs() {
        // Cells on a 100 m grid and facilities on cell centres: many pairs at
        // exactly the radius (600-800-1000) and at exactly a step bound.
        let mut demand = Vec::new();
        for gx in 0..40 {
            for gy in 0..40 {
                let p = Xy::new(50.0 + 100.0 * gx as f64, 50.0 + 100.0 * gy as f64);
                demand.push((p, 1.0 + ((gx * 7 + gy * 13) % 17) as f64));
            }
        }
        let supply: Vec<(Xy, f64)> = (0..12)
            .map(|k| {
                let p = Xy::new(
                    50.0 + 300.0 * k as f64,
                    50.0 + 100.0 * ((k * 5) % 40) as f64,
                );
                (p, 10.0 + k as f64)
            })
            .collect();
        let decay = Decay::parse("step:300=1,600=0.68,1000=0.22").expect("valid decay");
        for d in [Decay::Uniform, decay] {
            let got = two_step(&demand, &supply, 1000.0, &d);
            let want = naive(&demand, &supply, 1000.0, &d);
            for (g, w) in got.value.iter().zip(&want.value) {
                assert_opt(*g, *w, "grid value");
            }
            assert_eq!(got.unserved, want.unserved);
        }
    }

    #[test]
    fn threads_do_not_change_a_bit() {
        let demand = scatter(20_000, 5, 8_000.0);
        let supply = scatter(3_000, 6, 9_000.0);
        let decay = Decay::Gaussian { sigma: 700.0 };
        let one = two_step_threads(&demand, &supply, 1200.0, &decay, 1);
        for threads in [2, 3, 7] {
            let many = two_step_threads(&demand, &supply, 1200.0, &decay, threads);
            let bits = |a: &Access| {
                a.value
                    .iter()
                    .chain(&a.ratio)
                    .map(|v| v.map(f64::to_bits))
                    .collect::<Vec<_>>()
            };
            assert_eq!(bits(&one), bits(&many), "{threads} threads");
            assert_eq!(one.unserved, many.unserved);
        }
    }

    #[test]
    fn decay_text_round_trips() {
        for text in [
            "uniform",
            "gaussian:500",
            "gaussian:0.25",
            "step:300=1,600=0.68,1000=0.22",
            "step:0=1",
            "step:1e3=0.5",
        ] {
            let d = Decay::parse(text).expect("valid decay");
            assert_eq!(Decay::parse(&d.to_string()), Ok(d.clone()), "{text}");
        }
        assert_eq!(
            " step: 300 = 1 , 600=0.68 ".parse::<Decay>(),
            Ok(Decay::Stepped(vec![(300.0, 1.0), (600.0, 0.68)]))
        );
        assert_eq!(Decay::Gaussian { sigma: 500.0 }.to_string(), "gaussian:500");
        assert_eq!(
            Decay::Stepped(vec![(300.0, 1.0), (600.0, 0.68)]).to_string(),
            "step:300=1,600=0.68"
        );
        assert_eq!(
            Decay::parse("step:-0=1"),
            Ok(Decay::Stepped(vec![(0.0, 1.0)]))
        );
    }

    #[test]
    fn decay_text_errors_name_the_problem() {
        let err = |t: &str| Decay::parse(t).expect_err(t);
        assert!(err("cosine:3").contains("unknown decay \"cosine\""));
        assert!(err("").contains("unknown decay"));
        assert!(err("uniform:1").contains("takes no parameter"));
        assert!(err("gaussian").contains("needs its sigma"));
        assert!(err("gaussian:0").contains("positive"));
        assert!(err("gaussian:-5").contains("negative"));
        assert!(err("gaussian:abc").contains("\"abc\" is not a number"));
        assert!(err("gaussian:inf").contains("not a finite number"));
        assert!(err("gaussian:NaN").contains("not a finite number"));
        assert!(err("step").contains("needs its steps"));
        assert!(err("step:").contains("step 1 (\"\") is not DISTANCE=WEIGHT"));
        assert!(err("step:300=1,").contains("step 2"));
        assert!(err("step:300").contains("not DISTANCE=WEIGHT"));
        assert!(err("step:300=").contains("step 1 weight is missing"));
        assert!(err("step:300=-1").contains("step 1 weight -1 is negative"));
        assert!(err("step:600=1,300=0.5").contains("must increase: step 2 has 300 after 600"));
        assert!(err("step:300=1,300=0.5").contains("must increase"));
        let many = (1..=17)
            .map(|k| format!("{k}=1"))
            .collect::<Vec<_>>()
            .join(",");
        assert!(err(&format!("step:{many}")).contains("17 steps; at most 16"));
        let sixteen = (1..=16)
            .map(|k| format!("{k}=1"))
            .collect::<Vec<_>>()
            .join(",");
        assert!(Decay::parse(&format!("step:{sixteen}")).is_ok());
        assert!(err(&"x".repeat(2000)).contains("at most 1024"));
    }
}
