//! A bucket index over projected points: nearest-point and within-radius
//! queries in a few microseconds for the few thousand facilities or
//! candidate sites of a city.
//!
//! Points go into square buckets of a fixed side; a query visits the buckets
//! in rings around its own until no closer point can exist. With facilities
//! one or two buckets apart this touches a handful of points per query, and
//! the structure is two flat arrays (no pointers), which keeps it fast and
//! its memory obvious: 4 bytes per point plus 4 per bucket.

use crate::proj::Xy;

/// Buckets per side are capped so that a hostile spread of points cannot
/// ask for an enormous table; sparser buckets only cost speed.
const MAX_BUCKETS: usize = 4_000_000;

/// Points in buckets; queries answer indices into the slice it was built from.
#[derive(Debug, Clone)]
pub struct PointIndex {
    points: Vec<Xy>,
    min: Xy,
    side: f64,
    nx: usize,
    ny: usize,
    /// `start[b]..start[b + 1]` indexes `order` for bucket `b`.
    start: Vec<u32>,
    order: Vec<u32>,
}

impl PointIndex {
    /// Builds the index with buckets of `side` metres (about the typical
    /// spacing of the points is best). Points that are not finite are left
    /// out of every answer.
    pub fn new(points: &[Xy], side: f64) -> PointIndex {
        let finite = points.iter().filter(|p| p.x.is_finite() && p.y.is_finite());
        let (mut lo, mut hi) = (Xy::new(f64::MAX, f64::MAX), Xy::new(f64::MIN, f64::MIN));
        for p in finite {
            lo = Xy::new(lo.x.min(p.x), lo.y.min(p.y));
            hi = Xy::new(hi.x.max(p.x), hi.y.max(p.y));
        }
        if lo.x > hi.x {
            lo = Xy::default();
            hi = Xy::default();
        }
        let mut side = if side.is_finite() && side > 0.0 {
            side
        } else {
            1000.0
        };
        let dims = |s: f64| {
            (
                ((hi.x - lo.x) / s).floor() as usize + 1,
                ((hi.y - lo.y) / s).floor() as usize + 1,
            )
        };
        let (mut nx, mut ny) = dims(side);
        while nx.saturating_mul(ny) > MAX_BUCKETS {
            side *= 2.0;
            (nx, ny) = dims(side);
        }
        let mut idx = PointIndex {
            points: points.to_vec(),
            min: lo,
            side,
            nx,
            ny,
            start: vec![0; nx * ny + 1],
            order: Vec::with_capacity(points.len()),
        };
        let buckets: Vec<Option<usize>> = points.iter().map(|p| idx.bucket_of(*p)).collect();
        for b in buckets.iter().flatten() {
            idx.start[b + 1] += 1;
        }
        for b in 0..nx * ny {
            idx.start[b + 1] += idx.start[b];
        }
        let mut fill = idx.start.clone();
        idx.order = vec![0; idx.start[nx * ny] as usize];
        for (i, b) in buckets.iter().enumerate() {
            if let Some(b) = b {
                idx.order[fill[*b] as usize] = i as u32;
                fill[*b] += 1;
            }
        }
        idx
    }

    /// How many points it was built from (finite or not).
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// True when it was built from no point.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// The point at `i`.
    pub fn point(&self, i: usize) -> Xy {
        self.points[i]
    }

    fn bucket_of(&self, p: Xy) -> Option<usize> {
        if !(p.x.is_finite() && p.y.is_finite()) {
            return None;
        }
        let (bx, by) = self.cell(p);
        Some(by as usize * self.nx + bx as usize)
    }

    /// The bucket coordinates of `p`, clamped to the table.
    fn cell(&self, p: Xy) -> (i64, i64) {
        let bx = ((p.x - self.min.x) / self.side).floor();
        let by = ((p.y - self.min.y) / self.side).floor();
        (
            (bx.max(0.0) as i64).min(self.nx as i64 - 1),
            (by.max(0.0) as i64).min(self.ny as i64 - 1),
        )
    }

    fn bucket(&self, bx: i64, by: i64) -> &[u32] {
        if bx < 0 || by < 0 || bx >= self.nx as i64 || by >= self.ny as i64 {
            return &[];
        }
        let b = by as usize * self.nx + bx as usize;
        &self.order[self.start[b] as usize..self.start[b + 1] as usize]
    }

    /// Lower bound on the distance from `p` to any point not yet seen after
    /// visiting rings `0..r` around `p`'s bucket (r ≥ 1): the distance to the
    /// nearest side of the visited square that still has buckets beyond it.
    fn ring_floor(&self, p: Xy, r: i64) -> f64 {
        let (cx, cy) = self.cell(p);
        let mut floor = f64::INFINITY;
        if cx - r + 1 > 0 {
            floor = floor.min(p.x - (self.min.x + (cx - r + 1) as f64 * self.side));
        }
        if cx + r < self.nx as i64 {
            floor = floor.min(self.min.x + (cx + r) as f64 * self.side - p.x);
        }
        if cy - r + 1 > 0 {
            floor = floor.min(p.y - (self.min.y + (cy - r + 1) as f64 * self.side));
        }
        if cy + r < self.ny as i64 {
            floor = floor.min(self.min.y + (cy + r) as f64 * self.side - p.y);
        }
        floor.max(0.0)
    }

    /// Calls `f(index, point)` for every point of the buckets on ring `r`.
    fn each_on_ring(&self, p: Xy, r: i64, mut f: impl FnMut(usize, Xy)) {
        let (cx, cy) = self.cell(p);
        let mut visit = |bx: i64, by: i64| {
            for &i in self.bucket(bx, by) {
                f(i as usize, self.points[i as usize]);
            }
        };
        if r == 0 {
            visit(cx, cy);
            return;
        }
        for bx in cx - r..=cx + r {
            visit(bx, cy - r);
            visit(bx, cy + r);
        }
        for by in cy - r + 1..cy + r {
            visit(cx - r, by);
            visit(cx + r, by);
        }
    }

    fn max_ring(&self) -> i64 {
        self.nx.max(self.ny) as i64
    }

    /// The nearest point accepted by `keep` and its distance; ties go to the
    /// lowest index, so answers do not depend on bucket order.
    pub fn nearest_where(&self, p: Xy, keep: impl Fn(usize) -> bool) -> Option<(usize, f64)> {
        if !(p.x.is_finite() && p.y.is_finite()) {
            return None;
        }
        let mut best: Option<(usize, f64)> = None;
        for r in 0..=self.max_ring() {
            if r > 0
                && let Some((_, d2)) = best
                && self.ring_floor(p, r).powi(2) > d2
            {
                break;
            }
            self.each_on_ring(p, r, |i, q| {
                if !keep(i) {
                    return;
                }
                let d2 = p.dist2(q);
                match best {
                    Some((bi, bd)) if d2 > bd || (d2 == bd && i > bi) => {}
                    _ => best = Some((i, d2)),
                }
            });
        }
        best.map(|(i, d2)| (i, d2.sqrt()))
    }

    /// The nearest point and its distance.
    pub fn nearest(&self, p: Xy) -> Option<(usize, f64)> {
        self.nearest_where(p, |_| true)
    }

    /// Calls `f(index, distance)` for every point within `radius` of `p`
    /// (inclusive), in no particular order.
    pub fn within(&self, p: Xy, radius: f64, mut f: impl FnMut(usize, f64)) {
        if !(p.x.is_finite() && p.y.is_finite() && radius >= 0.0) {
            return;
        }
        let r2 = radius * radius;
        let reach = ((radius / self.side).ceil() as i64 + 1).min(self.max_ring());
        let (cx, cy) = self.cell(p);
        for by in cy - reach..=cy + reach {
            for bx in cx - reach..=cx + reach {
                for &i in self.bucket(bx, by) {
                    let q = self.points[i as usize];
                    let d2 = p.dist2(q);
                    if d2 <= r2 {
                        f(i as usize, d2.sqrt());
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brute_nearest(pts: &[Xy], p: Xy) -> Option<(usize, f64)> {
        let mut best: Option<(usize, f64)> = None;
        for (i, q) in pts.iter().enumerate() {
            let d = p.dist(*q);
            if best.is_none_or(|(_, bd)| d < bd) {
                best = Some((i, d));
            }
        }
        best
    }

    /// A deterministic scatter (a linear congruential sequence), clustered
    /// in a few places like facilities in towns.
    fn scatter(n: usize, seed: u64) -> Vec<Xy> {
        let mut s = seed;
        let mut next = || {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (s >> 11) as f64 / (1u64 << 53) as f64
        };
        (0..n)
            .map(|i| {
                let (cx, cy) = [(0.0, 0.0), (20_000.0, 5_000.0), (8_000.0, 30_000.0)][i % 3];
                Xy::new(cx + next() * 6_000.0, cy + next() * 6_000.0)
            })
            .collect()
    }

    #[test]
    fn nearest_agrees_with_brute_force() {
        let pts = scatter(500, 7);
        for side in [100.0, 1_000.0, 50_000.0] {
            let idx = PointIndex::new(&pts, side);
            for q in scatter(300, 99) {
                let q = Xy::new(q.x - 3_000.0, q.y + 1_000.0);
                let (i, d) = idx.nearest(q).expect("some point");
                let (bi, bd) = brute_nearest(&pts, q).expect("some point");
                assert!((d - bd).abs() < 1e-9, "side {side}: {d} vs {bd}");
                assert!((pts[i].dist(q) - d).abs() < 1e-9);
                let _ = bi;
            }
        }
    }

    #[test]
    fn within_is_inclusive_and_complete() {
        let pts = vec![
            Xy::new(0.0, 0.0),
            Xy::new(500.0, 0.0),
            Xy::new(0.0, 500.000_001),
            Xy::new(300.0, 400.0),
        ];
        let idx = PointIndex::new(&pts, 200.0);
        let mut got = Vec::new();
        idx.within(Xy::new(0.0, 0.0), 500.0, |i, d| got.push((i, d)));
        got.sort_by_key(|g| g.0);
        // (500, 0) and (300, 400) lie exactly 500 m away and count; 500.000001 does not.
        assert_eq!(got, vec![(0, 0.0), (1, 500.0), (3, 500.0)]);
        let scattered = scatter(400, 3);
        let idx = PointIndex::new(&scattered, 700.0);
        for q in scatter(50, 11) {
            let mut n = 0;
            idx.within(q, 1_500.0, |_, _| n += 1);
            let brute = scattered.iter().filter(|p| p.dist(q) <= 1_500.0).count();
            assert_eq!(n, brute);
        }
    }

    #[test]
    fn empty_and_odd_inputs() {
        let idx = PointIndex::new(&[], 100.0);
        assert!(idx.nearest(Xy::new(1.0, 2.0)).is_none());
        let idx = PointIndex::new(&[Xy::new(f64::NAN, 0.0), Xy::new(5.0, 5.0)], -3.0);
        assert_eq!(idx.nearest(Xy::new(0.0, 0.0)).map(|r| r.0), Some(1));
        assert!(idx.nearest(Xy::new(f64::INFINITY, 0.0)).is_none());
        // Ties go to the lowest index.
        let idx = PointIndex::new(&[Xy::new(1.0, 0.0), Xy::new(-1.0, 0.0)], 0.5);
        assert_eq!(idx.nearest(Xy::new(0.0, 0.0)).map(|r| r.0), Some(0));
        // Far-flung points do not ask for a huge table.
        let idx = PointIndex::new(&[Xy::new(0.0, 0.0), Xy::new(1e9, 1e9)], 1.0);
        assert_eq!(idx.nearest(Xy::new(1e9, 1e9 - 1.0)).map(|r| r.0), Some(1));
    }
}
