//! Facility siting: the maximal covering location problem (MCLP) and two
//! planning helpers built on it.
//!
//! The plan asks that every elderly person in high-density areas live within
//! 500 m of a care institution (1,000 m in medium-density areas). The demand
//! is the population cells not yet covered, each with its own threshold; the
//! planners choose `k` new sites among candidate points so as to cover as
//! much of that population as possible ([`max_cover`]), ask how many sites
//! close the gap ([`cover_until`]), or size childcare sites to the need in
//! their reach ([`size_to_need`]).
//!
//! # Method of [`max_cover`]
//!
//! 1. **Coverage sets**, once: an index over the demand points is queried
//!    around each candidate with the largest radius, and each demand is kept
//!    when it lies within its own radius (inclusive: at exactly the radius
//!    counts). Candidates covering nothing are dropped, and so are candidates
//!    whose set is contained in another's (for equal sets the lowest index
//!    stays): some optimum never needs them. Demands covered by exactly the
//!    same candidates are merged into one of summed weight, which shrinks the
//!    problem several times on a 100 m grid.
//! 2. **Incumbent**: greedy by marginal gain, then swap local search
//!    (Teitz–Bart interchange, best improvement) until no swap helps.
//! 3. **Upper bounds**: the submodular bound (the incumbent's coverage plus
//!    the `k` largest marginal gains with respect to it) and the Lagrangian
//!    relaxation of the coverage constraints,
//!    `L(λ) = Σ_i max(0, w_i − λ_i) + (sum of the k largest C_j(λ))` with
//!    `C_j(λ) = Σ_{i ∈ N_j} λ_i`, valid for every `λ ≥ 0`, minimised by
//!    subgradient steps (Polyak's step towards the incumbent). Each
//!    relaxation's chosen sites are tried as an incumbent as well. With the
//!    best multipliers, candidates that cannot take part in a better solution
//!    (forcing them in bounds the result by the incumbent) are fixed out, and
//!    candidates without which nothing better exists are fixed in; the
//!    multipliers are then optimised again over what is left (a bound there
//!    bounds every solution better than the incumbent), for a few rounds
//!    while that fixes more.
//! 4. **Branch and bound**, depth first. A node's children are its free
//!    candidates in decreasing marginal gain (ties: lowest index); child `t`
//!    adds candidate `t` and excludes the candidates before it, so that every
//!    set is visited once. A node's bound is the smaller of the submodular one
//!    (covered so far plus the largest remaining marginal gains, valid since
//!    coverage is submodular) and the Lagrangian one with the root's
//!    multipliers restricted to the demand not yet covered; both are updated
//!    incrementally as sites are added and removed. A node is pruned when its
//!    bound does not exceed the incumbent (by more than a relative 1e-10 of
//!    the total weight, so that rounding never prunes the optimum), or when
//!    the incumbent is within `max_gap` of it.
//!
//! The search stops when the optimum is proven, when the gap is within
//! `max_gap`, or at the node or time limit; [`Solution::upper_bound`] is then
//! the largest bound among what was left unexplored (never above the root's
//! bounds). Results are deterministic (ties go to the lowest candidate index)
//! except where the time limit cuts the search short.
//!
//! Inputs are taken as they come: points or weights that are not finite are
//! skipped, negative weights count as zero, and nothing panics. Memory grows
//! with the number of (demand, candidate) pairs within the radius, plus the
//! search's lists (capped).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::index::PointIndex;
use crate::proj::Xy;

/// A demand point: a population cell not yet covered.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Demand {
    /// Where (projected metres).
    pub at: Xy,
    /// Its population (or any non-negative weight).
    pub weight: f64,
    /// Its coverage threshold in metres: covered by a site at a distance
    /// `≤ radius` (500 or 1,000 m by density class).
    pub radius: f64,
}

/// Limits and tolerance of [`max_cover`].
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// How many sites to choose.
    pub k: usize,
    /// The relative gap `(bound − covered) / bound` accepted; `0.0` asks for
    /// a proven optimum.
    pub max_gap: f64,
    /// Branch-and-bound nodes at most.
    pub node_limit: u64,
    /// Wall time at most, for the whole call (the coverage sets and the
    /// greedy solution are always completed).
    pub time_limit: Duration,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            k: 10,
            max_gap: 0.0,
            node_limit: 2_000_000,
            time_limit: Duration::from_secs(2),
        }
    }
}

/// A chosen site.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Site {
    /// Its index in the candidates given.
    pub candidate: usize,
    /// The weight it covers beyond the sites listed before it.
    pub gain: f64,
}

/// The sites chosen and what is known of their quality.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Solution {
    /// The chosen sites, ordered as a greedy sequence through the chosen set
    /// (each the one adding most given those before it), each with that
    /// marginal gain; the gains sum to `covered`. Fewer than `k` when fewer
    /// sites already cover all that can be covered: no site of zero gain is
    /// ever listed.
    pub sites: Vec<Site>,
    /// The total weight covered.
    pub covered: f64,
    /// A proven upper bound on the weight any `k` sites can cover.
    pub upper_bound: f64,
    /// `(upper_bound − covered) / upper_bound`; 0 when optimal.
    pub gap: f64,
    /// Whether no `k` sites cover more (within a relative 1e-10 of the
    /// total weight).
    pub optimal: bool,
    /// Branch-and-bound nodes visited.
    pub nodes: u64,
    /// Wall time of the call, in milliseconds.
    pub elapsed_ms: f64,
}

/// A site opened by [`size_to_need`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SizedSite {
    /// Its index in the candidates given.
    pub candidate: usize,
    /// Its size (e.g. childcare slots), a whole number.
    pub size: f64,
    /// The need not yet served within its reach when it was opened.
    pub need_in_reach: f64,
}

/// Relative tolerance on weights: a bound within this fraction of the total
/// weight of the incumbent proves nothing better exists.
const REL_TOL: f64 = 1e-10;
/// Subgradient iterations at most: at the root, and in each later round
/// (which starts from the root's multipliers).
const LAGRANGE_ITERS: usize = 300;
const ROUND_ITERS: usize = 100;
/// Entries of the search's child lists at most (4 bytes and 8 bytes each).
const MAX_ARENA: usize = 1 << 24;
const NONE: u32 = u32::MAX;

/// Compressed rows: `idx[start[r]..start[r + 1]]` is row `r`.
#[derive(Debug, Clone, Default)]
struct Csr {
    start: Vec<usize>,
    idx: Vec<u32>,
}

impl Csr {
    fn rows(&self) -> usize {
        self.start.len().saturating_sub(1)
    }

    fn row(&self, r: usize) -> &[u32] {
        &self.idx[self.start[r]..self.start[r + 1]]
    }

    /// The transpose, with `cols` columns; rows of the result are sorted.
    fn transpose(&self, cols: usize) -> Csr {
        let mut start = vec![0usize; cols + 1];
        for &c in &self.idx {
            start[c as usize + 1] += 1;
        }
        for c in 0..cols {
            start[c + 1] += start[c];
        }
        let mut fill = start.clone();
        let mut idx = vec![0u32; self.idx.len()];
        for r in 0..self.rows() {
            for &c in self.row(r) {
                idx[fill[c as usize]] = r as u32;
                fill[c as usize] += 1;
            }
        }
        Csr { start, idx }
    }
}

/// The problem after reduction: candidates (with their original indices),
/// demand groups (with summed weights) and who covers whom.
#[derive(Debug, Clone, Default)]
struct Problem {
    cand: Vec<usize>,
    w: Vec<f64>,
    /// Candidate → groups it covers (sorted).
    n: Csr,
    /// Group → candidates covering it (sorted).
    m: Csr,
    total: f64,
    tol: f64,
}

impl Problem {
    fn ncand(&self) -> usize {
        self.cand.len()
    }

    fn covers(&self, j: usize) -> &[u32] {
        self.n.row(j)
    }

    fn coverers(&self, i: usize) -> &[u32] {
        self.m.row(i)
    }

    /// The weight covered by `set`.
    fn value(&self, set: &[u32], mark: &mut [bool]) -> f64 {
        let mut v = 0.0;
        for &j in set {
            for &i in self.covers(j as usize) {
                if !mark[i as usize] {
                    mark[i as usize] = true;
                    v += self.w[i as usize];
                }
            }
        }
        for &j in set {
            for &i in self.covers(j as usize) {
                mark[i as usize] = false;
            }
        }
        v
    }
}

fn clean_weight(w: f64) -> f64 {
    if w.is_finite() && w > 0.0 { w } else { 0.0 }
}

fn finite(p: Xy) -> bool {
    p.x.is_finite() && p.y.is_finite()
}

/// Merges the items (columns of `rows`) covered by exactly the same rows
/// into groups of summed weight; items covered by no row are dropped.
/// Returns the rows over groups and the groups' weights.
fn merge_items(rows: &Csr, weights: &[f64]) -> (Csr, Vec<f64>) {
    let cols = rows.transpose(weights.len());
    let mut group = vec![NONE; weights.len()];
    let mut gw: Vec<f64> = Vec::new();
    let mut seen: HashMap<&[u32], u32> = HashMap::new();
    for (i, g) in group.iter_mut().enumerate() {
        let key = cols.row(i);
        if key.is_empty() {
            continue;
        }
        let next = gw.len() as u32;
        let id = *seen.entry(key).or_insert(next);
        if id == next {
            gw.push(0.0);
        }
        gw[id as usize] += weights[i];
        *g = id;
    }
    let mut out = Csr {
        start: vec![0],
        idx: Vec::new(),
    };
    for r in 0..rows.rows() {
        let from = out.idx.len();
        out.idx.extend(
            rows.row(r)
                .iter()
                .map(|&i| group[i as usize])
                .filter(|&g| g != NONE),
        );
        out.idx[from..].sort_unstable();
        let mut keep = from;
        for t in from..out.idx.len() {
            if t == from || out.idx[t] != out.idx[keep - 1] {
                out.idx[keep] = out.idx[t];
                keep += 1;
            }
        }
        out.idx.truncate(keep);
        out.start.push(out.idx.len());
    }
    (out, gw)
}

/// Which rows to keep: a row whose items are all in another row's (strictly
/// fewer, or the same set in a row of lower index) is dominated.
fn undominated(rows: &Csr, cols: &Csr) -> Vec<bool> {
    let mut keep = vec![true; rows.rows()];
    for (j, kj) in keep.iter_mut().enumerate() {
        let items = rows.row(j);
        let Some(&rare) = items.iter().min_by_key(|&&i| cols.row(i as usize).len()) else {
            *kj = false;
            continue;
        };
        for &o in cols.row(rare as usize) {
            let o = o as usize;
            let lo = rows.row(o).len();
            if o == j || lo < items.len() || (lo == items.len() && o > j) {
                continue;
            }
            if items
                .iter()
                .all(|&i| cols.row(i as usize).binary_search(&(o as u32)).is_ok())
            {
                *kj = false;
                break;
            }
        }
    }
    keep
}

/// Builds the reduced problem.
fn build(demand: &[Demand], candidates: &[Xy]) -> Problem {
    let mut pts = Vec::new();
    let mut r2 = Vec::new();
    let mut wts = Vec::new();
    // Demands by radius class (radii within a factor of two), each class
    // with its own index queried with its largest radius: a few large radii
    // do not make every query wide.
    let mut classes: BTreeMap<i32, (Vec<usize>, f64)> = BTreeMap::new();
    for d in demand {
        let w = clean_weight(d.weight);
        if w > 0.0 && finite(d.at) && d.radius.is_finite() && d.radius >= 0.0 {
            let class = if d.radius < 1.0 {
                0
            } else {
                d.radius.log2().floor() as i32 + 1
            };
            let c = classes.entry(class).or_insert((Vec::new(), 0.0));
            c.0.push(pts.len());
            c.1 = c.1.max(d.radius);
            pts.push(d.at);
            r2.push(d.radius * d.radius);
            wts.push(w);
        }
    }
    if pts.is_empty() {
        return Problem::default();
    }
    let indexes: Vec<(PointIndex, &[usize], f64)> = classes
        .values()
        .map(|(members, max_r)| {
            let at: Vec<Xy> = members.iter().map(|&i| pts[i]).collect();
            (
                PointIndex::new(&at, (max_r / 4.0).max(1.0)),
                members.as_slice(),
                *max_r,
            )
        })
        .collect();
    let mut cand = Vec::new();
    let mut raw = Csr {
        start: vec![0],
        idx: Vec::new(),
    };
    for (j, &c) in candidates.iter().enumerate() {
        if !finite(c) {
            continue;
        }
        let from = raw.idx.len();
        for (index, members, max_r) in &indexes {
            index.within(c, *max_r, |t, _| {
                let i = members[t];
                if c.dist2(pts[i]) <= r2[i] {
                    raw.idx.push(i as u32);
                }
            });
        }
        if raw.idx.len() > from {
            raw.idx[from..].sort_unstable();
            raw.start.push(raw.idx.len());
            cand.push(j);
        }
    }
    // Merge, drop dominated candidates, merge again.
    let (rows, gw) = merge_items(&raw, &wts);
    drop(raw);
    let cols = rows.transpose(gw.len());
    let keep = undominated(&rows, &cols);
    let mut kept = Csr {
        start: vec![0],
        idx: Vec::new(),
    };
    let mut kept_cand = Vec::new();
    for (j, &k) in keep.iter().enumerate() {
        if k {
            kept.idx.extend_from_slice(rows.row(j));
            kept.start.push(kept.idx.len());
            kept_cand.push(cand[j]);
        }
    }
    let (n, w) = merge_items(&kept, &gw);
    let m = n.transpose(w.len());
    let total: f64 = w.iter().sum();
    Problem {
        cand: kept_cand,
        w,
        n,
        m,
        total,
        tol: REL_TOL * total,
    }
}

/// A feasible set of (reduced) candidates and its coverage.
#[derive(Debug, Clone)]
struct Incumbent {
    set: Vec<u32>,
    value: f64,
}

/// Greedy by marginal gain, at most `k` sites, none of gain ≤ tolerance.
fn greedy(p: &Problem, k: usize) -> Incumbent {
    greedy_until(p, k, |_| false)
}

/// Greedy by marginal gain (lazy: a site's stale gain bounds its current
/// one), at most `k` sites, none of gain ≤ tolerance, stopping as soon as
/// `enough(covered)`. Ties go to the lowest index.
fn greedy_until(p: &Problem, k: usize, enough: impl Fn(f64) -> bool) -> Incumbent {
    let gain_of = |j: usize, cov: &[bool]| -> f64 {
        p.covers(j)
            .iter()
            .filter(|&&i| !cov[i as usize])
            .map(|&i| p.w[i as usize])
            .sum()
    };
    let mut cov = vec![false; p.w.len()];
    // Gains are non-negative, so their bits order them.
    let mut heap: BinaryHeap<(u64, Reverse<u32>)> = (0..p.ncand())
        .map(|j| (gain_of(j, &cov).to_bits(), Reverse(j as u32)))
        .collect();
    let mut inc = Incumbent {
        set: Vec::new(),
        value: 0.0,
    };
    while inc.set.len() < k && !enough(inc.value) {
        let Some((_, Reverse(j))) = heap.pop() else {
            break;
        };
        let g = gain_of(j as usize, &cov);
        if g <= p.tol {
            continue;
        }
        let key = (g.to_bits(), Reverse(j));
        if heap.peek().is_some_and(|top| *top > key) {
            heap.push(key);
            continue;
        }
        inc.set.push(j);
        inc.value += g;
        for &i in p.covers(j as usize) {
            cov[i as usize] = true;
        }
    }
    inc
}

/// Best-improvement swap search (Teitz–Bart) from `inc`, also filling it up
/// to `k` sites while a site adds something.
fn local_search(p: &Problem, k: usize, inc: &mut Incumbent, deadline: Instant) {
    let nc = p.ncand();
    let mut cnt = vec![0u32; p.w.len()];
    let mut inset = vec![false; nc];
    let mut gain = vec![0.0; nc];
    let mut extra = vec![0.0; nc];
    let mut touched: Vec<u32> = Vec::new();
    let mut mark = vec![false; p.w.len()];
    loop {
        if Instant::now() >= deadline {
            break;
        }
        cnt.iter_mut().for_each(|c| *c = 0);
        inset.iter_mut().for_each(|s| *s = false);
        for &s in &inc.set {
            inset[s as usize] = true;
            for &i in p.covers(s as usize) {
                cnt[i as usize] += 1;
            }
        }
        for (c, g) in gain.iter_mut().enumerate() {
            *g = p
                .covers(c)
                .iter()
                .filter(|&&i| cnt[i as usize] == 0)
                .map(|&i| p.w[i as usize])
                .sum();
        }
        // Adding, when there is room.
        if inc.set.len() < k {
            let mut best: Option<usize> = None;
            for c in 0..nc {
                if !inset[c] && gain[c] > p.tol && best.is_none_or(|b| gain[c] > gain[b]) {
                    best = Some(c);
                }
            }
            if let Some(b) = best {
                inc.set.push(b as u32);
                inc.value = p.value(&inc.set, &mut mark);
                continue;
            }
        }
        let mut best: Option<(usize, usize, f64)> = None;
        for (pos, &s) in inc.set.iter().enumerate() {
            let mut loss = 0.0;
            for &i in p.covers(s as usize) {
                if cnt[i as usize] == 1 {
                    let w = p.w[i as usize];
                    loss += w;
                    for &c in p.coverers(i as usize) {
                        if extra[c as usize] == 0.0 {
                            touched.push(c);
                        }
                        extra[c as usize] += w;
                    }
                }
            }
            for c in 0..nc {
                if inset[c] {
                    continue;
                }
                let delta = gain[c] + extra[c] - loss;
                if delta > p.tol && best.is_none_or(|b| delta > b.2) {
                    best = Some((pos, c, delta));
                }
            }
            for &c in &touched {
                extra[c as usize] = 0.0;
            }
            touched.clear();
        }
        let Some((pos, c, _)) = best else { break };
        inc.set[pos] = c as u32;
        inc.value = p.value(&inc.set, &mut mark);
    }
}

/// `L(λ)` over the candidates still open (`status`: those fixed in always
/// count, those fixed out never) and the relaxation's chosen sites (`top`:
/// the ones fixed in and the largest `C_j` of the free ones).
fn lagrange_value(
    p: &Problem,
    k: usize,
    lam: &[f64],
    status: &[u8],
    c: &mut [f64],
    top: &mut Vec<u32>,
) -> f64 {
    let mut base = 0.0;
    for (i, &l) in lam.iter().enumerate() {
        base += (p.w[i] - l).max(0.0);
    }
    for (j, cj) in c.iter_mut().enumerate() {
        *cj = if status[j] == OUT {
            0.0
        } else {
            p.covers(j).iter().map(|&i| lam[i as usize]).sum()
        };
    }
    top.clear();
    top.extend((0..p.ncand() as u32).filter(|&j| status[j as usize] == CHOSEN));
    let nf = top.len();
    let r = k.saturating_sub(nf);
    top.extend((0..p.ncand() as u32).filter(|&j| status[j as usize] == FREE));
    let free = &mut top[nf..];
    if r < free.len() {
        free.select_nth_unstable_by(r, |&a, &b| {
            c[b as usize].total_cmp(&c[a as usize]).then(a.cmp(&b))
        });
        top.truncate(nf + r);
    }
    base + top.iter().map(|&j| c[j as usize]).sum::<f64>()
}

/// Subgradient optimisation of the Lagrangian bound from `lam` over the
/// candidates still open; improves `inc` with the relaxation's solutions.
/// Returns the best bound and its multipliers.
fn subgradient(
    p: &Problem,
    k: usize,
    inc: &mut Incumbent,
    deadline: Instant,
    status: &[u8],
    mut lam: Vec<f64>,
    iters: usize,
) -> (f64, Vec<f64>) {
    let ng = p.w.len();
    let mut c = vec![0.0; p.ncand()];
    let mut top = Vec::new();
    let mut cnt = vec![0i32; ng];
    let mut mark = vec![false; ng];
    let mut best = (f64::INFINITY, lam.clone());
    let mut theta = 2.0;
    let mut stall = 0;
    for _ in 0..iters {
        let l = lagrange_value(p, k, &lam, status, &mut c, &mut top);
        if l < best.0 {
            best = (l, lam.clone());
            stall = 0;
        } else {
            stall += 1;
            if stall >= 15 {
                theta /= 2.0;
                stall = 0;
            }
        }
        let v = p.value(&top, &mut mark);
        if v > inc.value + p.tol {
            *inc = Incumbent {
                set: top.clone(),
                value: v,
            };
        }
        if best.0 <= inc.value + p.tol || theta < 1e-3 || Instant::now() >= deadline {
            break;
        }
        cnt.iter_mut().for_each(|x| *x = 0);
        for &j in &top {
            for &i in p.covers(j as usize) {
                cnt[i as usize] += 1;
            }
        }
        let mut norm2 = 0.0;
        for i in 0..ng {
            let y = i32::from(p.w[i] > lam[i]);
            let g = f64::from(cnt[i] - y);
            cnt[i] -= y;
            norm2 += g * g;
        }
        if norm2 == 0.0 {
            break;
        }
        let step = theta * (l - inc.value).max(p.tol) / norm2;
        for i in 0..ng {
            lam[i] = (lam[i] - step * f64::from(cnt[i])).clamp(0.0, p.w[i]);
        }
    }
    best
}

/// Fixing with the multipliers: when forcing a free candidate in (or out)
/// bounds the result by the incumbent, no better solution has it (or lacks
/// it), so it is fixed out (or in). Returns how many were fixed.
fn fix(p: &Problem, k: usize, lam: &[f64], status: &mut [u8], incumbent: f64) -> usize {
    let mut c = vec![0.0; p.ncand()];
    let mut top = Vec::new();
    let l = lagrange_value(p, k, lam, status, &mut c, &mut top);
    let nf = status.iter().filter(|&&s| s == CHOSEN).count();
    let r = k.saturating_sub(nf);
    let mut free: Vec<u32> = (0..p.ncand() as u32)
        .filter(|&j| status[j as usize] == FREE)
        .collect();
    free.sort_unstable_by(|&a, &b| c[b as usize].total_cmp(&c[a as usize]).then(a.cmp(&b)));
    let kth = if r > 0 && r <= free.len() {
        c[free[r - 1] as usize]
    } else {
        0.0
    };
    let next = free.get(r).map_or(0.0, |&j| c[j as usize]);
    let mut changed = 0;
    for (t, &j) in free.iter().enumerate() {
        let cj = c[j as usize];
        let (bound, to) = if t >= r {
            (l - kth + cj, OUT)
        } else {
            (l - cj + next, CHOSEN)
        };
        if r > 0 && bound <= incumbent + p.tol {
            status[j as usize] = to;
            changed += 1;
        }
    }
    changed
}

const FREE: u8 = 0;
const CHOSEN: u8 = 1;
const OUT: u8 = 2;

/// The branch-and-bound state: the chosen sites and, kept up to date as
/// sites come and go, the marginal gains, the Lagrangian costs and the
/// covered weight.
struct Search<'a> {
    p: &'a Problem,
    lam: &'a [f64],
    cnt: Vec<u32>,
    gain: Vec<f64>,
    lcost: Vec<f64>,
    /// `Σ max(0, w_i − λ_i)` over the groups not yet covered.
    base: f64,
    covered: f64,
    status: Vec<u8>,
    chosen: Vec<u32>,
}

impl<'a> Search<'a> {
    fn new(p: &'a Problem, lam: &'a [f64]) -> Search<'a> {
        let gain = (0..p.ncand())
            .map(|j| p.covers(j).iter().map(|&i| p.w[i as usize]).sum())
            .collect();
        let lcost = (0..p.ncand())
            .map(|j| p.covers(j).iter().map(|&i| lam[i as usize]).sum())
            .collect();
        let base = p.w.iter().zip(lam).map(|(w, l)| (w - l).max(0.0)).sum();
        Search {
            p,
            lam,
            cnt: vec![0; p.w.len()],
            gain,
            lcost,
            base,
            covered: 0.0,
            status: vec![FREE; p.ncand()],
            chosen: Vec::new(),
        }
    }

    fn add(&mut self, j: usize) {
        let p = self.p;
        self.status[j] = CHOSEN;
        self.chosen.push(j as u32);
        for &i in p.covers(j) {
            let i = i as usize;
            self.cnt[i] += 1;
            if self.cnt[i] == 1 {
                let (w, l) = (p.w[i], self.lam[i]);
                self.covered += w;
                self.base -= (w - l).max(0.0);
                for &o in p.coverers(i) {
                    self.gain[o as usize] -= w;
                    self.lcost[o as usize] -= l;
                }
            }
        }
    }

    fn remove(&mut self, j: usize) {
        let p = self.p;
        self.status[j] = FREE;
        self.chosen.pop();
        for &i in p.covers(j) {
            let i = i as usize;
            self.cnt[i] -= 1;
            if self.cnt[i] == 0 {
                let (w, l) = (p.w[i], self.lam[i]);
                self.covered -= w;
                self.base += (w - l).max(0.0);
                for &o in p.coverers(i) {
                    self.gain[o as usize] += w;
                    self.lcost[o as usize] += l;
                }
            }
        }
    }
}

/// A node of the depth-first search: its children are
/// `arena[start..start + len]`, best first; `next` is the next to try.
#[derive(Debug, Clone, Copy)]
struct Frame {
    start: usize,
    len: usize,
    next: usize,
    r: usize,
    bound: f64,
    /// The weight covered at the node.
    covered: f64,
}

struct Bnb<'a> {
    s: Search<'a>,
    k: usize,
    max_gap: f64,
    inc: Incumbent,
    arena: Vec<u32>,
    suffix: Vec<f64>,
    scratch: Vec<f64>,
    /// The largest bound of a node pruned only for being within `max_gap`.
    gap_bound: f64,
    nodes: u64,
}

impl Bnb<'_> {
    /// Whether a subtree bounded by `bound` need not be searched; records
    /// the bound when it is left only because of the accepted gap.
    fn prune(&mut self, bound: f64) -> bool {
        if bound <= self.inc.value + self.s.p.tol {
            return true;
        }
        if bound * (1.0 - self.max_gap) <= self.inc.value {
            self.gap_bound = self.gap_bound.max(bound);
            return true;
        }
        false
    }

    /// Visits the current node: updates the incumbent and returns the frame
    /// of its children, or `None` when it has none worth searching.
    fn enter(&mut self, parent_bound: f64) -> Option<Frame> {
        self.nodes += 1;
        let s = &self.s;
        if s.covered > self.inc.value + s.p.tol {
            self.inc = Incumbent {
                set: s.chosen.clone(),
                value: s.covered,
            };
        }
        let r = self.k.saturating_sub(s.chosen.len());
        if r == 0 {
            return None;
        }
        let start = self.arena.len();
        let tol = s.p.tol;
        for (j, &st) in s.status.iter().enumerate() {
            if st == FREE && s.gain[j] > tol {
                self.arena.push(j as u32);
            }
        }
        let list = &mut self.arena[start..];
        if list.is_empty() {
            self.arena.truncate(start);
            return None;
        }
        let gain = &s.gain;
        list.sort_unstable_by(|&a, &b| {
            gain[b as usize]
                .total_cmp(&gain[a as usize])
                .then(a.cmp(&b))
        });
        let sub = s.covered + list.iter().take(r).map(|&j| gain[j as usize]).sum::<f64>();
        self.scratch.clear();
        self.scratch
            .extend(list.iter().map(|&j| s.lcost[j as usize]));
        if r < self.scratch.len() {
            self.scratch
                .select_nth_unstable_by(r, |a, b| b.total_cmp(a));
        }
        let lag = s.covered + s.base + self.scratch.iter().take(r).sum::<f64>();
        let bound = sub.min(lag).min(parent_bound);
        let len = list.len();
        if self.prune(bound) {
            self.arena.truncate(start);
            return None;
        }
        // suffix[start + t] = the sum of the gains of children t..len, one
        // entry per child (so that the next frame's entries follow).
        self.suffix.truncate(start);
        self.suffix.resize(start + len, 0.0);
        let mut acc = 0.0;
        for t in (0..len).rev() {
            acc += self.s.gain[self.arena[start + t] as usize];
            self.suffix[start + t] = acc;
        }
        Some(Frame {
            start,
            len,
            next: 0,
            r,
            bound,
            covered: self.s.covered,
        })
    }

    /// The bound on child `t` of `f` and all later ones: its gain plus the
    /// largest gains after it.
    fn child_bound(&self, f: &Frame, t: usize) -> f64 {
        let hi = t + f.r;
        let after = if hi < f.len {
            self.suffix[f.start + hi]
        } else {
            0.0
        };
        let more = self.suffix[f.start + t] - after;
        (f.covered + more).min(f.bound)
    }

    /// Runs the search; returns the bound on what was left unexplored when a
    /// limit stopped it (`None` when it completed).
    fn run(&mut self, root_bound: f64, node_limit: u64, deadline: Instant) -> Option<f64> {
        let mut stack: Vec<Frame> = Vec::new();
        if let Some(f) = self.enter(root_bound) {
            stack.push(f);
        }
        while let Some(f) = stack.last_mut() {
            let f_start = f.start;
            if f.next < f.len {
                let t = f.next;
                let frame = *f;
                let cb = self.child_bound(&frame, t);
                if self.prune(cb) {
                    if let Some(f) = stack.last_mut() {
                        f.len = f.next;
                    }
                    continue;
                }
                let limited = self.nodes >= node_limit
                    || self.arena.len() + frame.len > MAX_ARENA
                    || (self.nodes.is_multiple_of(64) && Instant::now() >= deadline);
                if limited {
                    let mut open: f64 = 0.0;
                    for fr in &stack {
                        if fr.next < fr.len {
                            open = open.max(self.child_bound(fr, fr.next));
                        }
                    }
                    return Some(open);
                }
                let j = self.arena[f_start + t] as usize;
                if let Some(f) = stack.last_mut() {
                    f.next = t + 1;
                }
                self.s.add(j);
                match self.enter(frame.bound) {
                    Some(child) => stack.push(child),
                    None => {
                        self.s.remove(j);
                        self.s.status[j] = OUT;
                    }
                }
                continue;
            }
            // All children done: free the excluded ones, leave the node.
            let (start, tried) = (f.start, f.next);
            for t in 0..tried {
                let j = self.arena[start + t] as usize;
                self.s.status[j] = FREE;
            }
            self.arena.truncate(start);
            stack.pop();
            if !stack.is_empty() {
                let j = *self.s.chosen.last().unwrap_or(&0) as usize;
                self.s.remove(j);
                self.s.status[j] = OUT;
            }
        }
        None
    }
}

/// Flags to switch the heuristics off (tests of the exact search).
#[derive(Debug, Clone, Copy)]
struct Heuristics {
    swap: bool,
    lagrange: bool,
}

const ALL: Heuristics = Heuristics {
    swap: true,
    lagrange: true,
};

fn empty_solution(start: Instant) -> Solution {
    Solution {
        sites: Vec::new(),
        covered: 0.0,
        upper_bound: 0.0,
        gap: 0.0,
        optimal: true,
        nodes: 0,
        elapsed_ms: start.elapsed().as_secs_f64() * 1e3,
    }
}

/// Orders `set` as a greedy sequence, with exact marginal gains.
fn ordered_sites(p: &Problem, set: &[u32]) -> (Vec<Site>, f64) {
    let mut gain: Vec<f64> = set
        .iter()
        .map(|&j| p.covers(j as usize).iter().map(|&i| p.w[i as usize]).sum())
        .collect();
    let pos: HashMap<u32, usize> = set.iter().enumerate().map(|(t, &j)| (j, t)).collect();
    let mut left: Vec<bool> = vec![true; set.len()];
    let mut cov = vec![false; p.w.len()];
    let mut sites = Vec::new();
    let mut covered = 0.0;
    loop {
        let mut best: Option<usize> = None;
        for t in 0..set.len() {
            if left[t]
                && gain[t] > p.tol
                && best.is_none_or(|b| gain[t] > gain[b] || (gain[t] == gain[b] && set[t] < set[b]))
            {
                best = Some(t);
            }
        }
        let Some(b) = best else { break };
        left[b] = false;
        let j = set[b] as usize;
        let mut g = 0.0;
        for &i in p.covers(j) {
            if !cov[i as usize] {
                cov[i as usize] = true;
                g += p.w[i as usize];
                for o in p.coverers(i as usize) {
                    if let Some(&t) = pos.get(o) {
                        gain[t] -= p.w[i as usize];
                    }
                }
            }
        }
        covered += g;
        sites.push(Site {
            candidate: p.cand[j],
            gain: g,
        });
    }
    (sites, covered)
}

fn solve(p: &Problem, opts: &Options, start: Instant, h: Heuristics) -> Solution {
    let deadline = start
        .checked_add(opts.time_limit)
        .unwrap_or_else(|| start + Duration::from_secs(86_400 * 365));
    let k = opts.k.min(p.ncand());
    if k == 0 || p.total <= 0.0 {
        return empty_solution(start);
    }
    let max_gap = if opts.max_gap.is_finite() {
        opts.max_gap.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let mut inc = greedy(p, k);
    if h.swap {
        local_search(p, k, &mut inc, deadline);
    }
    // Submodular bound around the incumbent.
    let mut mark = vec![false; p.w.len()];
    for &j in &inc.set {
        for &i in p.covers(j as usize) {
            mark[i as usize] = true;
        }
    }
    let mut gains: Vec<f64> = (0..p.ncand())
        .map(|j| {
            p.covers(j)
                .iter()
                .filter(|&&i| !mark[i as usize])
                .map(|&i| p.w[i as usize])
                .sum()
        })
        .collect();
    gains.sort_unstable_by(|a, b| b.total_cmp(a));
    let mut ub = (inc.value + gains.iter().take(k).sum::<f64>()).min(p.total);
    let gap_ok = |ub: f64, v: f64| ub <= v + p.tol || ub * (1.0 - max_gap) <= v;
    let mut lam: Vec<f64> = p.w.clone();
    let mut status = vec![FREE; p.ncand()];
    if h.lagrange && !gap_ok(ub, inc.value) {
        let before = inc.value;
        let half = p.w.iter().map(|w| 0.5 * w).collect();
        let (lb, l) = subgradient(p, k, &mut inc, deadline, &status, half, LAGRANGE_ITERS);
        if lb < ub {
            ub = lb;
            lam = l;
        }
        // Fix what the multipliers allow, optimise them again over what is
        // left (a bound there bounds every solution better than the
        // incumbent), a few rounds while that fixes a good many more.
        for _ in 0..4 {
            if gap_ok(ub, inc.value) {
                break;
            }
            let fixed = fix(p, k, &lam, &mut status, inc.value);
            if fixed == 0 {
                break;
            }
            let (lb, l) = subgradient(p, k, &mut inc, deadline, &status, lam.clone(), ROUND_ITERS);
            ub = ub.min(lb.max(inc.value));
            lam = l;
            if fixed < 10 {
                break;
            }
        }
        if h.swap && inc.value > before {
            local_search(p, k, &mut inc, deadline);
        }
    }
    let mut nodes = 0;
    let mut optimal = ub <= inc.value + p.tol;
    if !gap_ok(ub, inc.value) {
        let mut s = Search::new(p, &lam);
        for (j, &st) in status.iter().enumerate() {
            match st {
                CHOSEN => s.add(j),
                OUT => s.status[j] = OUT,
                _ => {}
            }
        }
        let mut b = Bnb {
            s,
            k,
            max_gap,
            inc: inc.clone(),
            arena: Vec::new(),
            suffix: Vec::new(),
            scratch: Vec::new(),
            gap_bound: 0.0,
            nodes: 0,
        };
        let open = if opts.node_limit == 0 {
            Some(ub)
        } else {
            b.run(ub, opts.node_limit, deadline)
        };
        nodes = b.nodes;
        inc = b.inc;
        let proven = inc.value.max(b.gap_bound).max(open.unwrap_or(0.0));
        ub = ub.min(proven);
        optimal = open.is_none() && b.gap_bound <= inc.value + p.tol;
        optimal |= ub <= inc.value + p.tol;
    }
    let (sites, covered) = ordered_sites(p, &inc.set);
    let upper_bound = if optimal { covered } else { ub.max(covered) };
    let gap = if optimal || upper_bound <= 0.0 {
        0.0
    } else {
        ((upper_bound - covered) / upper_bound).max(0.0)
    };
    Solution {
        sites,
        covered,
        upper_bound,
        gap,
        optimal,
        nodes,
        elapsed_ms: start.elapsed().as_secs_f64() * 1e3,
    }
}

/// Chooses at most `opts.k` of the `candidates` so as to cover the most
/// demand weight (see the module's documentation for the method).
///
/// When fewer sites already cover all the demand any candidate reaches,
/// fewer are returned: a site adding nothing is never listed.
pub fn max_cover(demand: &[Demand], candidates: &[Xy], opts: &Options) -> Solution {
    let start = Instant::now();
    let p = build(demand, candidates);
    solve(&p, opts, start, ALL)
}

/// Adds sites until the covered weight reaches `target_weight` (or no site
/// adds anything, or `max_sites` are open): greedily by gain to find how
/// many, then asks [`max_cover`] whether one site fewer still reaches the
/// target (repeatedly, within about two seconds in all).
///
/// The result is [`max_cover`]'s for the final count, so its `upper_bound`,
/// `gap` and `optimal` speak of the coverage possible with that many sites.
/// When the target exceeds what the candidates can reach, the count is the
/// fewest found that cover all that can be covered (or `max_sites`). A
/// target that is not a number or not positive asks for nothing.
pub fn cover_until(
    demand: &[Demand],
    candidates: &[Xy],
    target_weight: f64,
    max_sites: usize,
) -> Solution {
    let start = Instant::now();
    if target_weight.is_nan() || target_weight <= 0.0 || max_sites == 0 {
        return empty_solution(start);
    }
    let p = build(demand, candidates);
    // The target, capped at all that can be covered.
    let goal = target_weight.min(p.total);
    let reached = |v: f64| v >= goal - p.tol;
    let g = greedy_until(&p, max_sites, reached);
    let budget = start + Duration::from_secs(2);
    let opts = |k: usize| Options {
        k,
        time_limit: Duration::from_secs(1),
        ..Options::default()
    };
    let mut best = solve(&p, &opts(g.set.len()), Instant::now(), ALL);
    if reached(best.covered) {
        let mut k = best.sites.len();
        while k > 1 && Instant::now() < budget {
            let fewer = solve(&p, &opts(k - 1), Instant::now(), ALL);
            if !reached(fewer.covered) {
                break;
            }
            k = fewer.sites.len();
            best = fewer;
        }
    }
    best.elapsed_ms = start.elapsed().as_secs_f64() * 1e3;
    best
}

/// Opens sites sized to the need around them: repeatedly the candidate with
/// the most unserved need within `radius` (ties: lowest index), sized to that
/// need clamped to `[min_size, max_size]`, rounded up to a whole number and
/// never above the remaining `total_need` rounded up; the site serves the
/// need of its cells nearest first, up to its size. Stops when the sizes
/// opened reach `total_need`, when no candidate has need in reach, or after
/// every candidate has been opened once.
///
/// `need` is per cell (e.g. childcare slots needed there); cells or weights
/// that are not finite are skipped and negative needs count as zero. A
/// `min_size` that is not a finite positive number is 0; a `max_size` that is
/// not a number or is below `min_size` puts no cap. A `total_need` of
/// infinity serves all the need in reach; one that is not a positive number
/// opens nothing. A `total_need` of
/// infinity serves all the need in reach; one that is not a positive number
/// opens nothing.
pub fn size_to_need(
    need: &[(Xy, f64)],
    candidates: &[Xy],
    radius: f64,
    total_need: f64,
    min_size: f64,
    max_size: f64,
) -> Vec<SizedSite> {
    let mut out = Vec::new();
    if !(radius.is_finite() && radius >= 0.0 && total_need > 0.0) {
        return out;
    }
    let min_size = if min_size.is_finite() && min_size > 0.0 {
        min_size
    } else {
        0.0
    };
    let max_size = if max_size >= min_size {
        max_size
    } else {
        f64::INFINITY
    };
    let mut pts = Vec::new();
    let mut left = Vec::new();
    for &(at, n) in need {
        let n = clean_weight(n);
        if n > 0.0 && finite(at) {
            pts.push(at);
            left.push(n);
        }
    }
    if pts.is_empty() {
        return out;
    }
    let scale: f64 = left.iter().sum();
    let tol = REL_TOL * scale;
    let index = PointIndex::new(&pts, (radius / 2.0).max(1.0));
    // Each candidate's cells, nearest first (ties: lowest index).
    let mut reach = Csr {
        start: vec![0],
        idx: Vec::new(),
    };
    let mut buf: Vec<(f64, u32)> = Vec::new();
    for &c in candidates {
        buf.clear();
        index.within(c, radius, |i, _| buf.push((c.dist2(pts[i]), i as u32)));
        buf.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        reach.idx.extend(buf.iter().map(|b| b.1));
        reach.start.push(reach.idx.len());
    }
    let cells = reach.transpose(pts.len());
    let mut in_reach: Vec<f64> = (0..candidates.len())
        .map(|j| reach.row(j).iter().map(|&i| left[i as usize]).sum())
        .collect();
    let mut open = vec![false; candidates.len()];
    let mut remaining = total_need;
    for _ in 0..candidates.len() {
        if remaining <= tol {
            break;
        }
        let mut best: Option<usize> = None;
        for (j, &r) in in_reach.iter().enumerate() {
            if !open[j] && r > tol && best.is_none_or(|b| r > in_reach[b]) {
                best = Some(j);
            }
        }
        let Some(b) = best else { break };
        open[b] = true;
        // The exact need in reach (the running sums drift by rounding).
        let here: f64 = reach.row(b).iter().map(|&i| left[i as usize]).sum();
        let size = here
            .clamp(min_size, max_size)
            .ceil()
            .min(remaining.ceil())
            .max(0.0);
        let mut cap = size;
        for &i in reach.row(b) {
            if cap <= 0.0 {
                break;
            }
            let i = i as usize;
            let take = left[i].min(cap);
            if take > 0.0 {
                left[i] -= take;
                cap -= take;
                for &o in cells.row(i) {
                    in_reach[o as usize] -= take;
                }
            }
        }
        remaining -= size;
        out.push(SizedSite {
            candidate: b,
            size,
            need_in_reach: here,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(x: f64, y: f64, weight: f64, radius: f64) -> Demand {
        Demand {
            at: Xy::new(x, y),
            weight,
            radius,
        }
    }

    /// The coverage of `sites` worked out directly.
    fn brute_value(demand: &[Demand], candidates: &[Xy], sites: &[usize]) -> f64 {
        demand
            .iter()
            .filter(|q| {
                let w = clean_weight(q.weight);
                w > 0.0
                    && q.radius.is_finite()
                    && q.radius >= 0.0
                    && sites
                        .iter()
                        .any(|&s| candidates[s].dist2(q.at) <= q.radius * q.radius)
            })
            .map(|q| clean_weight(q.weight))
            .sum()
    }

    fn check_solution(demand: &[Demand], candidates: &[Xy], sol: &Solution, k: usize) {
        assert!(sol.sites.len() <= k);
        let ids: Vec<usize> = sol.sites.iter().map(|s| s.candidate).collect();
        let mut uniq = ids.clone();
        uniq.sort_unstable();
        uniq.dedup();
        assert_eq!(uniq.len(), ids.len(), "sites repeat: {ids:?}");
        let sum: f64 = sol.sites.iter().map(|s| s.gain).sum();
        assert!((sum - sol.covered).abs() <= 1e-9 * sol.covered.max(1.0));
        assert!(sol.sites.iter().all(|s| s.gain > 0.0));
        let v = brute_value(demand, candidates, &ids);
        assert!(
            (v - sol.covered).abs() <= 1e-9 * v.max(1.0),
            "{v} vs {}",
            sol.covered
        );
        assert!(sol.upper_bound >= sol.covered - 1e-9 * sol.covered.max(1.0));
        // Each gain is the marginal gain given the sites before it.
        for t in 0..ids.len() {
            let g = brute_value(demand, candidates, &ids[..=t])
                - brute_value(demand, candidates, &ids[..t]);
            assert!((g - sol.sites[t].gain).abs() <= 1e-9 * v.max(1.0));
        }
    }

    /// Greedy picks the middle site (8) and then one of the others (+3);
    /// the two outer sites cover 14.
    fn greedy_trap() -> (Vec<Demand>, Vec<Xy>) {
        let demand = vec![
            d(0.0, 0.0, 4.0, 500.0),    // a
            d(1000.0, 0.0, 4.0, 500.0), // b
            d(-600.0, 0.0, 3.0, 500.0), // c
            d(1600.0, 0.0, 3.0, 500.0), // d
        ];
        // Site 0 is exactly 500 m from a and from b: both covered.
        let candidates = vec![
            Xy::new(500.0, 0.0),
            Xy::new(-300.0, 0.0),
            Xy::new(1300.0, 0.0),
        ];
        (demand, candidates)
    }

    #[test]
    fn at_exactly_the_radius_is_covered() {
        let demand = vec![
            d(300.0, 400.0, 7.0, 500.0),
            d(0.0, 500.000_001, 5.0, 500.0),
            d(0.0, -999.0, 2.0, 1000.0),
            d(0.0, -999.0, 3.0, 500.0),
        ];
        let sol = max_cover(
            &demand,
            &[Xy::new(0.0, 0.0)],
            &Options {
                k: 1,
                ..Options::default()
            },
        );
        assert_eq!(sol.covered, 9.0);
        assert!(sol.optimal);
        assert_eq!(
            sol.sites,
            vec![Site {
                candidate: 0,
                gain: 9.0
            }]
        );
    }

    #[test]
    fn greedy_is_beaten_and_the_optimum_found() {
        let (demand, candidates) = greedy_trap();
        let p = build(&demand, &candidates);
        let g = greedy(&p, 2);
        assert_eq!(g.value, 11.0);
        let opts = Options {
            k: 2,
            ..Options::default()
        };
        let sol = max_cover(&demand, &candidates, &opts);
        assert_eq!(sol.covered, 14.0);
        assert!(sol.optimal);
        assert_eq!(sol.gap, 0.0);
        assert_eq!(sol.upper_bound, 14.0);
        let mut ids: Vec<usize> = sol.sites.iter().map(|s| s.candidate).collect();
        assert_eq!(ids, vec![1, 2], "greedy order: equal gains, lowest first");
        ids.sort_unstable();
        check_solution(&demand, &candidates, &sol, 2);
        // The exact search alone (no swaps, no Lagrangian) finds it too.
        let sol = solve(
            &p,
            &opts,
            Instant::now(),
            Heuristics {
                swap: false,
                lagrange: false,
            },
        );
        assert_eq!(sol.covered, 14.0);
        assert!(sol.optimal);
        assert!(sol.nodes > 0);
    }

    #[test]
    fn limits_report_a_bound_and_a_gap() {
        let (demand, candidates) = greedy_trap();
        let p = build(&demand, &candidates);
        let opts = Options {
            k: 2,
            node_limit: 0,
            ..Options::default()
        };
        let h = Heuristics {
            swap: false,
            lagrange: false,
        };
        let sol = solve(&p, &opts, Instant::now(), h);
        assert_eq!(sol.covered, 11.0);
        assert!(!sol.optimal);
        assert!(sol.upper_bound >= 14.0);
        assert!(sol.gap > 0.0);
        assert!((sol.gap - (sol.upper_bound - 11.0) / sol.upper_bound).abs() < 1e-12);
        // An accepted gap of 30 % stops at the greedy answer's 11 of ≤ 15.
        let sol = solve(
            &p,
            &Options {
                k: 2,
                max_gap: 0.3,
                ..Options::default()
            },
            Instant::now(),
            h,
        );
        assert!(sol.covered >= 11.0);
        assert!(sol.gap <= 0.3);
        assert!(sol.upper_bound >= 14.0);
    }

    #[test]
    fn k_beyond_the_useful_sites_returns_fewer() {
        let (demand, mut candidates) = greedy_trap();
        // A duplicate and a far-away candidate add nothing.
        candidates.push(Xy::new(-300.0, 0.0));
        candidates.push(Xy::new(9e6, 9e6));
        candidates.push(Xy::new(f64::NAN, 0.0));
        let sol = max_cover(
            &demand,
            &candidates,
            &Options {
                k: 10,
                ..Options::default()
            },
        );
        // All 14 is covered by the three useful sites (greedy's 8 + 3 + 3):
        // fewer than k, none of zero gain.
        assert_eq!(sol.covered, 14.0);
        assert_eq!(sol.sites.len(), 3);
        assert!(sol.optimal);
        check_solution(&demand, &candidates, &sol, 10);
        let none = max_cover(
            &demand,
            &candidates,
            &Options {
                k: 0,
                ..Options::default()
            },
        );
        assert!(none.sites.is_empty() && none.covered == 0.0 && none.optimal);
        let empty = max_cover(&[], &candidates, &Options::default());
        assert!(empty.sites.is_empty() && empty.optimal);
        let empty = max_cover(&demand, &[], &Options::default());
        assert!(empty.sites.is_empty() && empty.upper_bound == 0.0);
    }

    #[test]
    fn odd_inputs_are_skipped() {
        let demand = vec![
            d(0.0, 0.0, f64::NAN, 500.0),
            d(0.0, 0.0, -5.0, 500.0),
            d(f64::INFINITY, 0.0, 5.0, 500.0),
            d(10.0, 0.0, 5.0, f64::NAN),
            d(10.0, 0.0, 5.0, -1.0),
            d(10.0, 0.0, 2.5, 0.0),
            d(20.0, 0.0, 1.0, f64::INFINITY),
        ];
        let sol = max_cover(
            &demand,
            &[Xy::new(10.0, 0.0), Xy::new(f64::NAN, f64::NAN)],
            &Options {
                k: 3,
                max_gap: f64::NAN,
                ..Options::default()
            },
        );
        assert_eq!(sol.covered, 2.5);
        assert_eq!(
            sol.sites,
            vec![Site {
                candidate: 0,
                gain: 2.5
            }]
        );
        assert!(sol.optimal);
    }

    /// A linear congruential generator: deterministic small instances.
    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self) -> f64 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (self.0 >> 11) as f64 / (1u64 << 53) as f64
        }

        fn below(&mut self, n: usize) -> usize {
            ((self.next() * n as f64) as usize).min(n - 1)
        }
    }

    fn random_instance(rng: &mut Lcg) -> (Vec<Demand>, Vec<Xy>, usize) {
        let nd = 5 + rng.below(40);
        let nc = 1 + rng.below(14);
        let k = 1 + rng.below(4);
        // On a 100 m grid, so that some distances are exactly a radius.
        let grid = |rng: &mut Lcg| (rng.below(30) as f64) * 100.0;
        let demand = (0..nd)
            .map(|_| {
                let w = match rng.below(10) {
                    0 => 0.0,
                    1 => 0.5 + rng.next() * 3.0,
                    _ => (1 + rng.below(60)) as f64,
                };
                let r = if rng.below(2) == 0 { 500.0 } else { 1000.0 };
                d(grid(rng), grid(rng), w, r)
            })
            .collect();
        let candidates = (0..nc)
            .map(|_| {
                if rng.below(3) == 0 {
                    Xy::new(grid(rng), grid(rng))
                } else {
                    Xy::new(rng.next() * 3000.0, rng.next() * 3000.0)
                }
            })
            .collect();
        (demand, candidates, k)
    }

    /// The best coverage of any `k`-subset (or all, when fewer).
    fn brute_optimum(demand: &[Demand], candidates: &[Xy], k: usize) -> f64 {
        let n = candidates.len();
        let k = k.min(n);
        let mut best: f64 = 0.0;
        let mut pick: Vec<usize> = (0..k).collect();
        loop {
            best = best.max(brute_value(demand, candidates, &pick));
            // Next combination in lexicographic order.
            let mut t = k;
            loop {
                if t == 0 {
                    return best;
                }
                t -= 1;
                if pick[t] < n - k + t {
                    break;
                }
                if t == 0 {
                    return best;
                }
            }
            pick[t] += 1;
            for u in t + 1..k {
                pick[u] = pick[u - 1] + 1;
            }
        }
    }

    #[test]
    fn agrees_with_enumeration_on_random_instances() {
        let mut rng = Lcg(2024);
        let variants = [
            ALL,
            Heuristics {
                swap: false,
                lagrange: false,
            },
            Heuristics {
                swap: false,
                lagrange: true,
            },
        ];
        for case in 0..300 {
            let (demand, candidates, k) = random_instance(&mut rng);
            let opt = brute_optimum(&demand, &candidates, k);
            let p = build(&demand, &candidates);
            for (v, h) in variants.iter().enumerate() {
                let opts = Options {
                    k,
                    max_gap: 0.0,
                    node_limit: u64::MAX,
                    time_limit: Duration::from_secs(60),
                };
                let sol = if v == 0 {
                    max_cover(&demand, &candidates, &opts)
                } else {
                    solve(&p, &opts, Instant::now(), *h)
                };
                assert!(
                    (sol.covered - opt).abs() <= 1e-9 * opt.max(1.0),
                    "case {case} variant {v}: {} vs optimum {opt}",
                    sol.covered
                );
                assert!(sol.optimal, "case {case} variant {v}");
                assert!(sol.upper_bound >= opt - 1e-9 * opt.max(1.0));
                check_solution(&demand, &candidates, &sol, k);
            }
            // Bounds stay valid when the search is cut short.
            let cut = solve(
                &p,
                &Options {
                    k,
                    node_limit: 1,
                    ..Options::default()
                },
                Instant::now(),
                variants[1],
            );
            assert!(cut.upper_bound >= opt - 1e-9 * opt.max(1.0), "case {case}");
            assert!(cut.covered <= opt + 1e-9 * opt.max(1.0));
        }
    }

    #[test]
    fn bare_search_agrees_with_enumeration_on_twenty_candidates() {
        // The exact search alone (greedy start, submodular bounds) on
        // instances where it has to branch deep.
        let mut rng = Lcg(31);
        for case in 0..40 {
            let (demand, _, _) = random_instance(&mut rng);
            let candidates: Vec<Xy> = (0..20)
                .map(|_| Xy::new(rng.next() * 3000.0, rng.next() * 3000.0))
                .collect();
            let k = 2 + rng.below(4);
            let opt = brute_optimum(&demand, &candidates, k);
            let p = build(&demand, &candidates);
            let sol = solve(
                &p,
                &Options {
                    k,
                    node_limit: u64::MAX,
                    time_limit: Duration::from_secs(60),
                    ..Options::default()
                },
                Instant::now(),
                Heuristics {
                    swap: false,
                    lagrange: false,
                },
            );
            assert!(
                (sol.covered - opt).abs() <= 1e-9 * opt.max(1.0),
                "case {case}: {} vs optimum {opt}",
                sol.covered
            );
            assert!(sol.optimal);
        }
    }

    #[test]
    fn larger_instances_agree_across_methods() {
        // Beyond enumeration: the exact search with and without the
        // heuristics must prove the same optimum.
        let mut rng = Lcg(99);
        for case in 0..6 {
            let demand: Vec<Demand> = (0..400)
                .map(|_| {
                    let (cx, cy) =
                        [(0.0, 0.0), (4_000.0, 1_000.0), (1_500.0, 3_500.0)][rng.below(3)];
                    let r = if rng.below(3) == 0 { 500.0 } else { 1000.0 };
                    d(
                        cx + (rng.next() * 2_500.0 / 100.0).round() * 100.0,
                        cy + (rng.next() * 2_500.0 / 100.0).round() * 100.0,
                        (1 + rng.below(50)) as f64,
                        r,
                    )
                })
                .collect();
            let candidates: Vec<Xy> = (0..60)
                .map(|_| Xy::new(rng.next() * 6_500.0, rng.next() * 6_000.0))
                .collect();
            let k = 2 + case;
            let opts = Options {
                k,
                node_limit: u64::MAX,
                time_limit: Duration::from_secs(60),
                ..Options::default()
            };
            let full = max_cover(&demand, &candidates, &opts);
            let p = build(&demand, &candidates);
            let bare = solve(
                &p,
                &opts,
                Instant::now(),
                Heuristics {
                    swap: false,
                    lagrange: false,
                },
            );
            assert!(full.optimal && bare.optimal, "case {case}");
            assert!(
                (full.covered - bare.covered).abs() <= 1e-9 * full.covered,
                "case {case}: {} vs {}",
                full.covered,
                bare.covered
            );
            check_solution(&demand, &candidates, &full, k);
            check_solution(&demand, &candidates, &bare, k);
            // No time at all: still a valid answer with a valid bound.
            let rushed = max_cover(
                &demand,
                &candidates,
                &Options {
                    k,
                    time_limit: Duration::ZERO,
                    ..Options::default()
                },
            );
            check_solution(&demand, &candidates, &rushed, k);
            assert!(rushed.upper_bound >= full.covered - 1e-9 * full.covered);
        }
    }

    #[test]
    fn results_are_deterministic() {
        let mut rng = Lcg(7);
        for _ in 0..20 {
            let (demand, candidates, k) = random_instance(&mut rng);
            let opts = Options {
                k,
                ..Options::default()
            };
            let a = max_cover(&demand, &candidates, &opts);
            let b = max_cover(&demand, &candidates, &opts);
            assert_eq!(a.sites, b.sites);
            assert_eq!(a.covered, b.covered);
        }
    }

    #[test]
    fn cover_until_reaches_the_target_with_few_sites() {
        let (demand, candidates) = greedy_trap();
        // Greedy needs three sites for all 14 (8, then 3, then 3); two do.
        let sol = cover_until(&demand, &candidates, 14.0, 5);
        assert_eq!(sol.covered, 14.0);
        assert_eq!(sol.sites.len(), 2);
        assert!(sol.optimal);
        check_solution(&demand, &candidates, &sol, 2);
        // 8 is reached by one site.
        let sol = cover_until(&demand, &candidates, 8.0, 5);
        assert_eq!(
            sol.sites,
            vec![Site {
                candidate: 0,
                gain: 8.0
            }]
        );
        // More than can be covered: all that can be, with the fewest found.
        let sol = cover_until(&demand, &candidates, 100.0, 5);
        assert_eq!((sol.covered, sol.sites.len()), (14.0, 2));
        // At most one site: the best single one.
        let sol = cover_until(&demand, &candidates, 14.0, 1);
        assert_eq!((sol.covered, sol.sites.len()), (8.0, 1));
        // Nothing asked.
        assert!(cover_until(&demand, &candidates, 0.0, 5).sites.is_empty());
        assert!(
            cover_until(&demand, &candidates, f64::NAN, 5)
                .sites
                .is_empty()
        );
    }

    #[test]
    fn size_to_need_worked_example() {
        // Two clusters of need: 30 + 10 near x = 0, 25 near x = 5,000.
        let need = vec![
            (Xy::new(0.0, 0.0), 30.0),
            (Xy::new(300.0, 0.0), 10.0),
            (Xy::new(5_000.0, 0.0), 25.0),
            (Xy::new(5_000.0, 900.0), f64::NAN),
            (Xy::new(9_000.0, 0.0), -4.0),
        ];
        let candidates = vec![
            Xy::new(100.0, 0.0),     // reaches 30 + 10
            Xy::new(5_000.0, 100.0), // reaches 25
            Xy::new(200.0, 0.0),     // reaches 30 + 10 too
        ];
        // Sizes between 20 and 35: site 0 takes 35 (30 at 100 m, then 5 of
        // the 10 at 200 m); site 1 then 25; site 2 has 5 left in reach and
        // is sized up to 20 but capped by the remaining total 72.4 − 60 →
        // ceil 12.4 = 13.
        let s = size_to_need(&need, &candidates, 500.0, 72.4, 20.0, 35.0);
        assert_eq!(
            s,
            vec![
                SizedSite {
                    candidate: 0,
                    size: 35.0,
                    need_in_reach: 40.0
                },
                SizedSite {
                    candidate: 1,
                    size: 25.0,
                    need_in_reach: 25.0
                },
                SizedSite {
                    candidate: 2,
                    size: 13.0,
                    need_in_reach: 5.0
                },
            ]
        );
        // A total met by the first site stops there.
        let s = size_to_need(&need, &candidates, 500.0, 30.0, 0.0, 100.0);
        assert_eq!(
            s,
            vec![SizedSite {
                candidate: 0,
                size: 30.0,
                need_in_reach: 40.0
            }]
        );
        // Without a cap the need in reach is met: 40 then 25, and then no
        // candidate has need left in reach.
        let s = size_to_need(&need, &candidates, 500.0, 1_000.0, 0.0, f64::NAN);
        let sizes: Vec<(usize, f64)> = s.iter().map(|x| (x.candidate, x.size)).collect();
        assert_eq!(sizes, vec![(0, 40.0), (1, 25.0)]);
        // Fractional need is rounded up.
        let s = size_to_need(
            &[(Xy::new(0.0, 0.0), 2.2)],
            &[Xy::new(0.0, 0.0)],
            0.0,
            10.0,
            0.0,
            9.0,
        );
        assert_eq!(s[0].size, 3.0);
        assert!(size_to_need(&need, &candidates, f64::NAN, 10.0, 0.0, 5.0).is_empty());
        assert!(size_to_need(&need, &candidates, 500.0, 0.0, 0.0, 5.0).is_empty());
        assert!(size_to_need(&[], &candidates, 500.0, 10.0, 0.0, 5.0).is_empty());
    }
}
