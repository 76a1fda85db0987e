//! Square population grids in projected metres (100 m for planning, 250 m and
//! 1 km for overviews): weighted points summed into cells, neighbourhood sums
//! for densities, nearest-point answers per cell and per point, and the
//! connected clusters of a set of cells.
//!
//! A cell is named by its column and row, `(floor(x / size), floor(y / size))`,
//! so grids of one size line up everywhere and a cell's key is stable across
//! runs. Only cells holding some weight are stored (sparse), sorted by row then
//! column.

use std::collections::HashMap;

use crate::index::PointIndex;
use crate::proj::Xy;

/// The largest grid (columns × rows of the populated bounding box) the dense
/// neighbourhood sums allocate; beyond it they fall back to hash lookups.
const MAX_DENSE: usize = 16_000_000;
/// Cells in one grid at most: a bound on what an input can make us hold.
pub const MAX_CELLS: usize = 5_000_000;

/// A cell's column and row.
pub type CellKey = (i32, i32);

/// The cell holding `p` in a grid of `size` metres.
pub fn cell_of(p: Xy, size: f64) -> CellKey {
    (
        (p.x / size).floor().clamp(i32::MIN as f64, i32::MAX as f64) as i32,
        (p.y / size).floor().clamp(i32::MIN as f64, i32::MAX as f64) as i32,
    )
}

/// The centre of a cell.
pub fn centre_of(key: CellKey, size: f64) -> Xy {
    Xy::new(
        (f64::from(key.0) + 0.5) * size,
        (f64::from(key.1) + 0.5) * size,
    )
}

/// How a cell key finds its index: a dense table over the populated
/// bounding box (a city at 100 m is about a million entries, 4 MB), or a hash
/// map when the box is too large for one.
#[derive(Debug, Clone)]
enum Lookup {
    Dense {
        x0: i64,
        y0: i64,
        w: i64,
        h: i64,
        idx: Vec<u32>,
    },
    Sparse(HashMap<CellKey, u32>),
}

const EMPTY: u32 = u32::MAX;

/// A sparse grid with `layers` values per cell (for example elderly people,
/// infants, residents).
#[derive(Debug, Clone)]
pub struct Grid {
    pub size: f64,
    pub layers: usize,
    /// Cell keys, sorted (row, then column).
    pub keys: Vec<CellKey>,
    /// `values[cell * layers + layer]`.
    pub values: Vec<f64>,
    lookup: Lookup,
}

impl Grid {
    /// Sums weighted points into cells of `size` metres. `points` is called
    /// more than once and must give the same points each time. Points or
    /// weights that are not finite, or of a layer beyond `layers`, are
    /// skipped; so are points beyond [`MAX_CELLS`] distinct cells. Returns
    /// the grid and how many points were skipped.
    pub fn build<I>(size: f64, layers: usize, points: impl Fn() -> I) -> (Grid, usize)
    where
        I: Iterator<Item = (Xy, usize, f64)>,
    {
        let size = if size.is_finite() && size >= 1.0 {
            size
        } else {
            100.0
        };
        let layers = layers.max(1);
        let ok = |p: &Xy, layer: usize, w: f64| {
            p.x.is_finite() && p.y.is_finite() && w.is_finite() && layer < layers
        };
        let (mut x0, mut y0, mut x1, mut y1) = (i64::MAX, i64::MAX, i64::MIN, i64::MIN);
        for (p, layer, w) in points() {
            if ok(&p, layer, w) {
                let k = cell_of(p, size);
                x0 = x0.min(i64::from(k.0));
                y0 = y0.min(i64::from(k.1));
                x1 = x1.max(i64::from(k.0));
                y1 = y1.max(i64::from(k.1));
            }
        }
        let dense = x0 <= x1 && {
            let (w, h) = (x1 - x0 + 1, y1 - y0 + 1);
            w.checked_mul(h)
                .is_some_and(|n| n as u128 <= MAX_DENSE as u128)
        };
        if !dense {
            return Grid::build_sparse(size, layers, points());
        }
        let (w, h) = (x1 - x0 + 1, y1 - y0 + 1);
        let mut idx = vec![EMPTY; (w * h) as usize];
        let at = |k: CellKey| ((i64::from(k.1) - y0) * w + (i64::from(k.0) - x0)) as usize;
        for (p, layer, wt) in points() {
            if ok(&p, layer, wt) {
                idx[at(cell_of(p, size))] = 0;
            }
        }
        // Number the cells in row-major order: sorted by (row, column).
        let mut keys = Vec::new();
        for (i, slot) in idx.iter_mut().enumerate() {
            if *slot != EMPTY {
                if keys.len() >= MAX_CELLS {
                    return Grid::build_sparse(size, layers, points());
                }
                *slot = keys.len() as u32;
                let i = i as i64;
                keys.push(((x0 + i % w) as i32, (y0 + i / w) as i32));
            }
        }
        let mut values = vec![0.0; keys.len() * layers];
        let mut skipped = 0;
        for (p, layer, wt) in points() {
            if ok(&p, layer, wt) {
                values[idx[at(cell_of(p, size))] as usize * layers + layer] += wt;
            } else {
                skipped += 1;
            }
        }
        (
            Grid {
                size,
                layers,
                keys,
                values,
                lookup: Lookup::Dense { x0, y0, w, h, idx },
            },
            skipped,
        )
    }

    /// A grid of the cells holding the given keys (duplicates allowed), every
    /// value 0; add to it with [`Grid::add`].
    pub fn with_cells(size: f64, layers: usize, keys: &[CellKey]) -> Grid {
        Grid::build(size, layers, || {
            keys.iter().map(move |k| (centre_of(*k, size), 0, 0.0))
        })
        .0
    }

    /// Adds to a cell's value in a layer.
    pub fn add(&mut self, cell: usize, layer: usize, v: f64) {
        self.values[cell * self.layers + layer] += v;
    }

    fn build_sparse(
        size: f64,
        layers: usize,
        points: impl IntoIterator<Item = (Xy, usize, f64)>,
    ) -> (Grid, usize) {
        let mut lookup: HashMap<CellKey, u32> = HashMap::new();
        let mut keys: Vec<CellKey> = Vec::new();
        let mut values: Vec<f64> = Vec::new();
        let mut skipped = 0;
        for (p, layer, w) in points {
            if !(p.x.is_finite() && p.y.is_finite() && w.is_finite()) || layer >= layers {
                skipped += 1;
                continue;
            }
            let key = cell_of(p, size);
            let i = match lookup.get(&key) {
                Some(i) => *i as usize,
                None => {
                    if keys.len() >= MAX_CELLS {
                        skipped += 1;
                        continue;
                    }
                    lookup.insert(key, keys.len() as u32);
                    keys.push(key);
                    values.extend(std::iter::repeat_n(0.0, layers));
                    keys.len() - 1
                }
            };
            values[i * layers + layer] += w;
        }
        // Sort cells by (row, column) for stable output.
        let mut order: Vec<usize> = (0..keys.len()).collect();
        order.sort_by_key(|&i| (keys[i].1, keys[i].0));
        let keys2: Vec<CellKey> = order.iter().map(|&i| keys[i]).collect();
        let mut values2 = Vec::with_capacity(values.len());
        for &i in &order {
            values2.extend_from_slice(&values[i * layers..(i + 1) * layers]);
        }
        let lookup = keys2
            .iter()
            .enumerate()
            .map(|(i, k)| (*k, i as u32))
            .collect();
        (
            Grid {
                size,
                layers,
                keys: keys2,
                values: values2,
                lookup: Lookup::Sparse(lookup),
            },
            skipped,
        )
    }

    /// Number of (populated) cells.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when no cell holds anything.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The index of a cell, if populated.
    pub fn find(&self, key: CellKey) -> Option<usize> {
        match &self.lookup {
            Lookup::Dense { x0, y0, w, h, idx } => {
                let (x, y) = (i64::from(key.0) - x0, i64::from(key.1) - y0);
                if x < 0 || y < 0 || x >= *w || y >= *h {
                    return None;
                }
                let i = idx[(y * w + x) as usize];
                (i != EMPTY).then_some(i as usize)
            }
            Lookup::Sparse(m) => m.get(&key).map(|i| *i as usize),
        }
    }

    /// The cell's value in a layer.
    pub fn value(&self, cell: usize, layer: usize) -> f64 {
        self.values[cell * self.layers + layer]
    }

    /// Sets a cell's value in a layer.
    pub fn set(&mut self, cell: usize, layer: usize, v: f64) {
        self.values[cell * self.layers + layer] = v;
    }

    /// The centre of a cell.
    pub fn centre(&self, cell: usize) -> Xy {
        centre_of(self.keys[cell], self.size)
    }

    /// The cell's area in km².
    pub fn cell_km2(&self) -> f64 {
        self.size * self.size / 1e6
    }

    /// For every cell, the sum of `layer` over the square of
    /// `(2 · reach + 1)²` cells centred on it (its neighbourhood), with a
    /// summed-area table over the populated bounding box.
    pub fn window_sums(&self, layer: usize, reach: usize) -> Vec<f64> {
        if self.is_empty() {
            return Vec::new();
        }
        let r = reach.min(1_000) as i64;
        let (mut x0, mut y0, mut x1, mut y1) = (i64::MAX, i64::MAX, i64::MIN, i64::MIN);
        for k in &self.keys {
            x0 = x0.min(i64::from(k.0));
            y0 = y0.min(i64::from(k.1));
            x1 = x1.max(i64::from(k.0));
            y1 = y1.max(i64::from(k.1));
        }
        let (w, h) = ((x1 - x0 + 1) as usize, (y1 - y0 + 1) as usize);
        if w.saturating_add(1).saturating_mul(h.saturating_add(1)) > MAX_DENSE {
            return self.window_sums_sparse(layer, r);
        }
        // sat[(y + 1) * (w + 1) + (x + 1)] = sum over cells (≤ x, ≤ y).
        let stride = w + 1;
        let mut sat = vec![0.0f64; stride * (h + 1)];
        for (i, k) in self.keys.iter().enumerate() {
            let (x, y) = (
                (i64::from(k.0) - x0) as usize,
                (i64::from(k.1) - y0) as usize,
            );
            sat[(y + 1) * stride + x + 1] = self.value(i, layer);
        }
        for y in 1..=h {
            let mut row = 0.0;
            for x in 1..=w {
                row += sat[y * stride + x];
                sat[y * stride + x] = sat[(y - 1) * stride + x] + row;
            }
        }
        let at = |x: i64, y: i64| -> f64 {
            // Sum over cells with column < x and row < y (clamped to the box).
            let x = x.clamp(0, w as i64) as usize;
            let y = y.clamp(0, h as i64) as usize;
            sat[y * stride + x]
        };
        self.keys
            .iter()
            .map(|k| {
                let (x, y) = (i64::from(k.0) - x0, i64::from(k.1) - y0);
                let (a, b) = (x - r, y - r);
                let (c, d) = (x + r + 1, y + r + 1);
                // Clamp tiny negative rounding residues from the subtraction.
                (at(c, d) - at(a, d) - at(c, b) + at(a, b)).max(0.0)
            })
            .collect()
    }

    fn window_sums_sparse(&self, layer: usize, r: i64) -> Vec<f64> {
        self.keys
            .iter()
            .map(|k| {
                let mut s = 0.0;
                for dy in -r..=r {
                    for dx in -r..=r {
                        let key = (
                            (i64::from(k.0) + dx).clamp(i32::MIN as i64, i32::MAX as i64) as i32,
                            (i64::from(k.1) + dy).clamp(i32::MIN as i64, i32::MAX as i64) as i32,
                        );
                        if let Some(j) = self.find(key) {
                            s += self.value(j, layer);
                        }
                    }
                }
                s
            })
            .collect()
    }

    /// The connected groups of the cells for which `member` is true, queen
    /// contiguity (the eight cells around one are its neighbours). Each group
    /// lists its cells ascending; groups come in order of their first cell.
    pub fn clusters(&self, member: &[bool]) -> Vec<Vec<usize>> {
        let mut seen = vec![false; self.len()];
        let mut out = Vec::new();
        let mut stack = Vec::new();
        for start in 0..self.len() {
            if seen[start] || !member.get(start).copied().unwrap_or(false) {
                continue;
            }
            seen[start] = true;
            stack.push(start);
            let mut group = Vec::new();
            while let Some(c) = stack.pop() {
                group.push(c);
                let (cx, cy) = self.keys[c];
                for dy in -1i64..=1 {
                    for dx in -1i64..=1 {
                        if dx == 0 && dy == 0 {
                            continue;
                        }
                        let key = (
                            (i64::from(cx) + dx).clamp(i32::MIN as i64, i32::MAX as i64) as i32,
                            (i64::from(cy) + dy).clamp(i32::MIN as i64, i32::MAX as i64) as i32,
                        );
                        if let Some(n) = self.find(key)
                            && !seen[n]
                            && member.get(n).copied().unwrap_or(false)
                        {
                            seen[n] = true;
                            stack.push(n);
                        }
                    }
                }
            }
            group.sort_unstable();
            out.push(group);
        }
        out
    }
}

/// Side of the blocks [`CellNearest`] keeps its lists for (metres).
pub const BLOCK_M: f64 = 1_000.0;

/// The blocks of a grid: squares of [`BLOCK_M`] (or the cell, when larger)
/// holding its cells, with each cell's block and a dense table from block
/// key to block. Built once per grid and shared by every [`CellNearest`].
#[derive(Debug, Clone)]
pub struct Blocks {
    pub size: f64,
    /// The blocks' keys, row-major.
    pub keys: Vec<CellKey>,
    /// Per cell of the grid: its block.
    pub cell_block: Vec<u32>,
    x0: i64,
    y0: i64,
    w: i64,
    h: i64,
    table: Vec<u32>,
}

impl Blocks {
    pub fn new(grid: &Grid) -> Blocks {
        let mut size = grid.size.max(BLOCK_M);
        loop {
            let keys: Vec<CellKey> = grid
                .keys
                .iter()
                .map(|k| cell_of(centre_of(*k, grid.size), size))
                .collect();
            let (mut x0, mut y0, mut x1, mut y1) = (i64::MAX, i64::MAX, i64::MIN, i64::MIN);
            for k in &keys {
                x0 = x0.min(i64::from(k.0));
                y0 = y0.min(i64::from(k.1));
                x1 = x1.max(i64::from(k.0));
                y1 = y1.max(i64::from(k.1));
            }
            if keys.is_empty() {
                return Blocks {
                    size,
                    keys: Vec::new(),
                    cell_block: Vec::new(),
                    x0: 0,
                    y0: 0,
                    w: 0,
                    h: 0,
                    table: Vec::new(),
                };
            }
            let (w, h) = (x1 - x0 + 1, y1 - y0 + 1);
            if w.saturating_mul(h) > 4_000_000 {
                // A spread no city has: coarser blocks keep the table small.
                size *= 4.0;
                continue;
            }
            let mut table = vec![EMPTY; (w * h) as usize];
            for k in &keys {
                table[((i64::from(k.1) - y0) * w + i64::from(k.0) - x0) as usize] = 0;
            }
            let mut block_keys = Vec::new();
            for (i, slot) in table.iter_mut().enumerate() {
                if *slot != EMPTY {
                    *slot = block_keys.len() as u32;
                    let i = i as i64;
                    block_keys.push(((x0 + i % w) as i32, (y0 + i / w) as i32));
                }
            }
            let cell_block = keys
                .iter()
                .map(|k| table[((i64::from(k.1) - y0) * w + i64::from(k.0) - x0) as usize])
                .collect();
            return Blocks {
                size,
                keys: block_keys,
                cell_block,
                x0,
                y0,
                w,
                h,
                table,
            };
        }
    }

    /// The block holding `p`, if it holds a cell of the grid.
    pub fn of(&self, p: Xy) -> Option<usize> {
        let k = cell_of(p, self.size);
        let (x, y) = (i64::from(k.0) - self.x0, i64::from(k.1) - self.y0);
        if x < 0 || y < 0 || x >= self.w || y >= self.h {
            return None;
        }
        let b = self.table[(y * self.w + x) as usize];
        (b != EMPTY).then_some(b as usize)
    }
}

/// Nearest-point answers for every point inside a grid's cells, from short
/// lists kept per block: for a block whose centre's nearest target is `d₀`
/// away, only the targets within `d₀ + b√2` of that centre can be nearest to
/// a point of the block (a point of the block is within `b√2 / 2` of its
/// centre). One index query per block (a few thousand for a city) instead of
/// one per cell or person; each answer then costs a few distances.
#[derive(Debug, Clone)]
pub struct CellNearest {
    /// Per block: `lists[start..start + len]`.
    ranges: Vec<(u32, u32)>,
    lists: Vec<u32>,
}

impl CellNearest {
    /// The lists for every block of `blocks`, against the points of `index`
    /// accepted by `keep`.
    pub fn new(
        blocks: &Blocks,
        index: &PointIndex,
        keep: impl Fn(usize) -> bool + Sync,
    ) -> CellNearest {
        let slack = blocks.size * std::f64::consts::SQRT_2;
        let list = |k: &CellKey| -> Vec<u32> {
            let c = centre_of(*k, blocks.size);
            let mut out = Vec::new();
            if let Some((_, d0)) = index.nearest_where(c, &keep) {
                index.within(c, d0 + slack, |i, _| {
                    if keep(i) {
                        out.push(i as u32);
                    }
                });
                out.sort_unstable();
            }
            out
        };
        let threads = std::thread::available_parallelism()
            .map(|t| t.get())
            .unwrap_or(1)
            .clamp(1, 8);
        let keys = &blocks.keys;
        let n = keys.len();
        let per_block: Vec<Vec<u32>> = if threads == 1 || n < 2_000 {
            keys.iter().map(list).collect()
        } else {
            let size = n.div_ceil(threads);
            let list = &list;
            std::thread::scope(|s| {
                let handles: Vec<_> = (0..threads)
                    .map(|t| {
                        s.spawn(move || {
                            keys[(t * size).min(n)..((t + 1) * size).min(n)]
                                .iter()
                                .map(list)
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                let mut out = Vec::with_capacity(n);
                for h in handles {
                    out.extend(h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
                }
                out
            })
        };
        let mut ranges = Vec::with_capacity(n);
        let mut lists = Vec::new();
        for l in per_block {
            ranges.push((lists.len() as u32, l.len() as u32));
            lists.extend(l);
        }
        CellNearest { ranges, lists }
    }

    fn block_list(&self, b: usize) -> &[u32] {
        let (start, len) = self.ranges.get(b).copied().unwrap_or((0, 0));
        &self.lists[start as usize..(start + len) as usize]
    }

    /// The targets that can be nearest to a point of `cell`, ascending.
    pub fn candidates(&self, blocks: &Blocks, cell: usize) -> &[u32] {
        match blocks.cell_block.get(cell) {
            Some(b) => self.block_list(*b as usize),
            None => &[],
        }
    }

    /// The nearest target to the centre of `cell` of `grid` and its distance.
    pub fn of_centre(
        &self,
        index: &PointIndex,
        blocks: &Blocks,
        grid: &Grid,
        cell: usize,
    ) -> Option<(usize, f64)> {
        CellNearest::among(index, self.candidates(blocks, cell), grid.centre(cell))
    }

    /// The nearest of `candidates` to `p` (ties to the lowest index, as
    /// [`PointIndex::nearest_where`]).
    pub fn among(index: &PointIndex, candidates: &[u32], p: Xy) -> Option<(usize, f64)> {
        let mut best: Option<(usize, f64)> = None;
        for &t in candidates {
            let d2 = p.dist2(index.point(t as usize));
            if best.is_none_or(|(_, b)| d2 < b) {
                best = Some((t as usize, d2));
            }
        }
        best.map(|(i, d2)| (i, d2.sqrt()))
    }

    /// The nearest target to any point `p` inside a block with a list (a
    /// point of one of the grid's cells); none elsewhere.
    pub fn of_point(&self, index: &PointIndex, blocks: &Blocks, p: Xy) -> Option<(usize, f64)> {
        CellNearest::among(index, self.block_list(blocks.of(p)?), p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_line_up_and_sum() {
        assert_eq!(cell_of(Xy::new(150.0, 99.9), 100.0), (1, 0));
        assert_eq!(cell_of(Xy::new(-0.1, 0.0), 100.0), (-1, 0));
        assert_eq!(centre_of((1, 0), 100.0), Xy::new(150.0, 50.0));
        let pts = [
            (Xy::new(10.0, 10.0), 0, 1.0),
            (Xy::new(90.0, 90.0), 0, 1.0),
            (Xy::new(90.0, 90.0), 1, 2.0),
            (Xy::new(110.0, 10.0), 0, 1.0),
            (Xy::new(f64::NAN, 10.0), 0, 1.0),
            (Xy::new(10.0, 10.0), 5, 1.0),
        ];
        let (g, skipped) = Grid::build(100.0, 2, || pts.iter().copied());
        let (s2, sk2) = Grid::build_sparse(100.0, 2, pts.iter().copied());
        assert_eq!(
            (s2.keys.clone(), s2.values.clone(), sk2),
            (g.keys.clone(), g.values.clone(), skipped)
        );
        assert_eq!(skipped, 2);
        assert_eq!(g.keys, vec![(0, 0), (1, 0)]);
        assert_eq!(g.value(0, 0), 2.0);
        assert_eq!(g.value(0, 1), 2.0);
        assert_eq!(g.value(1, 0), 1.0);
        assert!((g.cell_km2() - 0.01).abs() < 1e-12);
    }

    #[test]
    fn window_sums_by_hand() {
        // Cells (0,0)=1, (1,0)=2, (3,0)=4, (1,1)=8. With reach 1 the window of
        // (0,0) covers columns -1..1, rows -1..1: 1 + 2 + 8 = 11; of (1,0):
        // columns 0..2: 1 + 2 + 8 = 11; of (3,0): columns 2..4: 4; of (1,1): 11.
        let pts = [((0, 0), 1.0), ((1, 0), 2.0), ((3, 0), 4.0), ((1, 1), 8.0)]
            .map(|(k, w)| (centre_of(k, 100.0), 0, w));
        let (g, _) = Grid::build(100.0, 1, || pts.iter().copied());
        let got = g.window_sums(0, 1);
        let want: Vec<f64> = g
            .keys
            .iter()
            .map(|k| match k {
                (3, 0) => 4.0,
                _ => 11.0,
            })
            .collect();
        assert_eq!(got, want);
        assert_eq!(g.window_sums_sparse(0, 1), want);
        // Reach 0 is the cell itself.
        let own: Vec<f64> = (0..g.len()).map(|c| g.value(c, 0)).collect();
        assert_eq!(g.window_sums(0, 0), own);
    }

    #[test]
    fn clusters_are_queen_connected() {
        // Two diagonal cells touch at a corner (one cluster); a cell two
        // columns away is its own; (5,5) is not a member.
        let keys = [(0, 0), (1, 1), (3, 1), (5, 5)];
        let (g, _) = Grid::build(100.0, 1, || {
            keys.iter().map(|k| (centre_of(*k, 100.0), 0, 1.0))
        });
        let member: Vec<bool> = g.keys.iter().map(|k| *k != (5, 5)).collect();
        let mut groups: Vec<Vec<CellKey>> = g
            .clusters(&member)
            .iter()
            .map(|grp| grp.iter().map(|&c| g.keys[c]).collect())
            .collect();
        groups.sort();
        assert_eq!(groups, vec![vec![(0, 0), (1, 1)], vec![(3, 1)]]);
    }

    #[test]
    fn cell_nearest_matches_the_index_for_points() {
        let targets: Vec<Xy> = (0..40)
            .map(|i| Xy::new((i * 733 % 5000) as f64, (i * 1319 % 4000) as f64))
            .collect();
        let index = PointIndex::new(&targets, 500.0);
        let people: Vec<Xy> = (0..2000)
            .map(|i| Xy::new((i * 37 % 5100) as f64 + 0.5, (i * 91 % 4100) as f64 + 0.25))
            .collect();
        let (g, _) = Grid::build(100.0, 1, || people.iter().map(|p| (*p, 0, 1.0)));
        let even = |i: usize| i.is_multiple_of(2);
        let blocks = Blocks::new(&g);
        let cn = CellNearest::new(&blocks, &index, even);
        for p in &people {
            let c = g.find(cell_of(*p, 100.0)).expect("populated");
            let got = cn.of_point(&index, &blocks, *p).expect("some target");
            let want = index.nearest_where(*p, even).expect("some target");
            assert_eq!(got.0, want.0);
            assert!((got.1 - want.1).abs() < 1e-9);
            let from_list =
                CellNearest::among(&index, cn.candidates(&blocks, c), *p).expect("listed");
            assert_eq!(from_list.0, want.0);
            let centre = cn.of_centre(&index, &blocks, &g, c).expect("centre");
            let want = index.nearest_where(g.centre(c), even).expect("centre's");
            assert_eq!(centre.0, want.0);
        }
        // No target kept: no answer.
        let none = CellNearest::new(&blocks, &index, |_| false);
        assert!(none.of_centre(&index, &blocks, &g, 0).is_none());
        assert!(none.of_point(&index, &blocks, people[0]).is_none());
        // A point far from every cell has no block: no answer.
        assert!(cn.of_point(&index, &blocks, Xy::new(1e7, 1e7)).is_none());
    }
}
