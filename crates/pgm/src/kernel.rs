//! Dense-table kernels: index maps between a clique and a sub-clique, and the projection and
//! broadcast loops that use them. Tables are row-major over the clique's sorted attributes.
//!
//! An index map holds, for every cell of the larger table, the index of the cell of the smaller
//! table it projects to. One map serves both directions: summing (projection) and gathering
//! (broadcast). Maps are built once per clique pair and reused, so the hot loops neither
//! allocate nor recompute strides.

/// `e^x`, inlined and branch-free so that table loops pay no library call per cell and can be
/// vectorised.
///
/// Range reduction `x = k·ln 2 + r` with `|r| ≤ ln 2 / 2` (Cody–Waite split of ln 2, so `k·ln2_hi`
/// is exact), a degree-13 Taylor polynomial for `e^r` (truncation error below 1e-17 relative), and
/// scaling by `2^k` built from the exponent bits. Relative error is a few ulp for
/// `-708.3 ≤ x ≤ 709`. Results that would be subnormal (`x < -708.3`, i.e. below ~2e-308,
/// including `-∞`) are flushed to 0, and `x > 709` gives `+∞`: callers pass log-probabilities
/// shifted to be `≤ 0`, where both cut-offs are below what a probability can resolve. NaN gives
/// NaN.
#[inline(always)]
pub(crate) fn exp(x: f64) -> f64 {
    // fdlibm's split: ln2_hi has 32 significant bits, so k·ln2_hi is exact for |k| < 2^21.
    const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
    const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
    const ROUND: f64 = 6_755_399_441_055_744.0; // 1.5 · 2^52: adding it rounds to an integer
    const LOW: f64 = -708.3;
    const HIGH: f64 = 709.0;
    let xc = x.clamp(LOW, HIGH);
    let shifted = xc * std::f64::consts::LOG2_E + ROUND;
    // The integer k sits in the low mantissa bits of `shifted`.
    let k_bits = shifted.to_bits().wrapping_sub(ROUND.to_bits());
    let k = shifted - ROUND;
    let r = (xc - k * LN2_HI) - k * LN2_LO;
    let mut p = 1.0 / 6_227_020_800.0; // 1/13!
    for c in [
        1.0 / 479_001_600.0,
        1.0 / 39_916_800.0,
        1.0 / 3_628_800.0,
        1.0 / 362_880.0,
        1.0 / 40_320.0,
        1.0 / 5_040.0,
        1.0 / 720.0,
        1.0 / 120.0,
        1.0 / 24.0,
        1.0 / 6.0,
        0.5,
        1.0,
        1.0,
    ] {
        p = p * r + c;
    }
    let scale = f64::from_bits(k_bits.wrapping_add(1023) << 52);
    let y = p * scale;
    let y = if x < LOW { 0.0 } else { y };
    if x > HIGH { f64::INFINITY } else { y }
}

/// `dst[i] = e^(src[i] − shift)` for every cell. On x86-64 CPUs with AVX2 (detected at run
/// time) the loop runs in a copy compiled for AVX2, four lanes wide instead of SSE2's two; the
/// arithmetic is the same, so results are identical.
pub(crate) fn exp_shifted(src: &[f64], shift: f64, dst: &mut [f64]) {
    debug_assert_eq!(src.len(), dst.len());
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the running CPU supports AVX2, checked just above.
            unsafe { exp_shifted_avx2(src, shift, dst) };
            return;
        }
    }
    exp_shifted_portable(src, shift, dst);
}

/// `values[i] = e^values[i]` (see [`exp_shifted`]).
#[inline(always)]
pub(crate) fn exp_in_place(values: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the running CPU supports AVX2, checked just above.
            unsafe { exp_in_place_avx2(values) };
            return;
        }
    }
    exp_in_place_portable(values);
}

#[inline(always)]
fn exp_shifted_portable(src: &[f64], shift: f64, dst: &mut [f64]) {
    for (d, &v) in dst.iter_mut().zip(src) {
        *d = exp(v - shift);
    }
}

#[inline(always)]
fn exp_in_place_portable(values: &mut [f64]) {
    for v in values.iter_mut() {
        *v = exp(*v);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn exp_shifted_avx2(src: &[f64], shift: f64, dst: &mut [f64]) {
    exp_shifted_portable(src, shift, dst);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn exp_in_place_avx2(values: &mut [f64]) {
    exp_in_place_portable(values);
}

/// Row-major strides of a shape.
pub(crate) fn strides(shape: &[usize]) -> Vec<usize> {
    let mut strides = vec![1; shape.len()];
    for k in (0..shape.len().saturating_sub(1)).rev() {
        strides[k] = strides[k + 1] * shape[k + 1];
    }
    strides
}

/// The index map from a table of shape `big_shape` to a table whose stride along each axis of the
/// big table is `small_strides[k]` (0 along axes the small table lacks).
pub(crate) fn index_map(big_shape: &[usize], small_strides: &[usize]) -> Vec<u32> {
    let cells: usize = big_shape.iter().product();
    let mut map = Vec::with_capacity(cells);
    if cells == 0 {
        return map;
    }
    let dims = big_shape.len();
    if dims == 0 {
        map.push(0);
        return map;
    }
    let mut counter = vec![0usize; dims];
    let last = dims - 1;
    let (inner_size, inner_stride) = (big_shape[last], small_strides[last]);
    let mut base = 0usize;
    loop {
        for j in 0..inner_size {
            map.push((base + j * inner_stride) as u32);
        }
        // Advance the odometer over the outer axes.
        let mut k = last;
        loop {
            if k == 0 {
                return map;
            }
            k -= 1;
            counter[k] += 1;
            base += small_strides[k];
            if counter[k] < big_shape[k] {
                break;
            }
            base -= small_strides[k] * big_shape[k];
            counter[k] = 0;
        }
    }
}

/// An index map from a table onto a sub-table, compressed into blocks: the big table's trailing
/// axes that the small table lacks form contiguous runs of cells that all project to the same
/// small cell. Loops then work on whole runs (vectorised, several accumulators) instead of
/// scattering cell by cell through a chain of dependent loads and stores.
#[derive(Debug, Clone)]
pub(crate) struct Projection {
    /// Cells per run (1 when the big table's last axis is in the small table).
    run: usize,
    /// Small-table cell of each run.
    blocks: Vec<u32>,
}

/// Sum with four accumulators (no single dependency chain).
#[inline(always)]
pub(crate) fn block_sum(x: &[f64]) -> f64 {
    let mut acc = [0.0; 4];
    let chunks = x.chunks_exact(4);
    let rest = chunks.remainder();
    for c in chunks {
        acc[0] += c[0];
        acc[1] += c[1];
        acc[2] += c[2];
        acc[3] += c[3];
    }
    rest.iter().fold((acc[0] + acc[1]) + (acc[2] + acc[3]), |a, &v| a + v)
}

#[inline(always)]
fn block_max(x: &[f64]) -> f64 {
    let mut acc = [f64::NEG_INFINITY; 4];
    let chunks = x.chunks_exact(4);
    let rest = chunks.remainder();
    for c in chunks {
        acc[0] = acc[0].max(c[0]);
        acc[1] = acc[1].max(c[1]);
        acc[2] = acc[2].max(c[2]);
        acc[3] = acc[3].max(c[3]);
    }
    rest.iter()
        .fold(acc[0].max(acc[1]).max(acc[2].max(acc[3])), |a, &v| a.max(v))
}

impl Projection {
    /// The projection from a table of shape `big_shape` onto the table whose stride along each
    /// axis of the big table is `small_strides[k]` (0 along axes the small table lacks).
    pub(crate) fn new(big_shape: &[usize], small_strides: &[usize]) -> Projection {
        let mut cut = big_shape.len();
        while cut > 0 && small_strides[cut - 1] == 0 {
            cut -= 1;
        }
        let run = big_shape[cut..].iter().product();
        Projection {
            run,
            blocks: index_map(&big_shape[..cut], &small_strides[..cut]),
        }
    }

    /// Cells of the big table.
    pub(crate) fn len(&self) -> usize {
        self.run * self.blocks.len()
    }

    /// `out[s] = Σ_{i ↦ s} src[i]`.
    #[inline(always)]
    pub(crate) fn sum(&self, src: &[f64], out: &mut [f64]) {
        debug_assert_eq!(src.len(), self.len());
        out.fill(0.0);
        if self.run == 1 {
            for (&v, &s) in src.iter().zip(&self.blocks) {
                out[s as usize] += v;
            }
        } else {
            for (block, &s) in src.chunks_exact(self.run).zip(&self.blocks) {
                out[s as usize] += block_sum(block);
            }
        }
    }

    /// `out[s] = max_{i ↦ s} src[i]`.
    #[inline(always)]
    fn max(&self, src: &[f64], out: &mut [f64]) {
        out.fill(f64::NEG_INFINITY);
        if self.run == 1 {
            for (&v, &s) in src.iter().zip(&self.blocks) {
                let m = &mut out[s as usize];
                *m = m.max(v);
            }
        } else {
            for (block, &s) in src.chunks_exact(self.run).zip(&self.blocks) {
                let m = &mut out[s as usize];
                *m = m.max(block_max(block));
            }
        }
    }

    /// `dst[i] += scale · small[s(i)]`.
    #[inline(always)]
    pub(crate) fn broadcast_add(&self, dst: &mut [f64], small: &[f64], scale: f64) {
        debug_assert_eq!(dst.len(), self.len());
        if self.run == 1 {
            for (d, &s) in dst.iter_mut().zip(&self.blocks) {
                *d += scale * small[s as usize];
            }
        } else {
            for (block, &s) in dst.chunks_exact_mut(self.run).zip(&self.blocks) {
                let add = scale * small[s as usize];
                block.iter_mut().for_each(|d| *d += add);
            }
        }
    }

    /// Log-space projection `out[s] = ln Σ_{i ↦ s} exp(src[i])` with a per-cell maximum (see
    /// [`logsumexp_project`]); `max` has `out.len()` cells, `shifted` has `src.len()`.
    #[inline(always)]
    pub(crate) fn logsumexp(&self, src: &[f64], out: &mut [f64], max: &mut [f64], shifted: &mut [f64]) {
        debug_assert_eq!(src.len(), self.len());
        self.max(src, max);
        for m in max.iter_mut() {
            if *m == f64::NEG_INFINITY {
                *m = 0.0;
            }
        }
        if self.run == 1 {
            for ((t, &v), &s) in shifted.iter_mut().zip(src).zip(&self.blocks) {
                *t = v - max[s as usize];
            }
        } else {
            for ((t, v), &s) in shifted
                .chunks_exact_mut(self.run)
                .zip(src.chunks_exact(self.run))
                .zip(&self.blocks)
            {
                let m = max[s as usize];
                t.iter_mut().zip(v).for_each(|(t, &v)| *t = v - m);
            }
        }
        exp_in_place(shifted);
        self.sum(shifted, out);
        for (o, &m) in out.iter_mut().zip(max.iter()) {
            *o = m + o.ln();
        }
    }
}

/// `ln Σ exp(x)` over a slice; `-∞` for an empty slice or one of all `-∞`.
pub(crate) fn logsumexp(values: &[f64]) -> f64 {
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if max == f64::NEG_INFINITY {
        return f64::NEG_INFINITY;
    }
    let sum: f64 = values.iter().map(|&v| exp(v - max)).sum();
    max + sum.ln()
}

/// Log-space projection: `out[s] = ln Σ_{i: map[i] = s} exp(src[i])`, computed with a per-cell
/// maximum so that no cell underflows because another cell is large. `max` is scratch space of
/// `out.len()`, `shifted` of `src.len()` (the shifted values are exponentiated in one
/// vectorisable pass).
pub(crate) fn logsumexp_project(src: &[f64], map: &[u32], out: &mut [f64], max: &mut [f64], shifted: &mut [f64]) {
    debug_assert_eq!(src.len(), map.len());
    debug_assert_eq!(out.len(), max.len());
    debug_assert_eq!(src.len(), shifted.len());
    max.fill(f64::NEG_INFINITY);
    for (&v, &s) in src.iter().zip(map) {
        let m = &mut max[s as usize];
        if v > *m {
            *m = v;
        }
    }
    // A cell whose entries are all -inf keeps sum 0 (ln 0 = -inf); shift by 0 to avoid -inf - -inf.
    for m in max.iter_mut() {
        if *m == f64::NEG_INFINITY {
            *m = 0.0;
        }
    }
    for ((t, &v), &s) in shifted.iter_mut().zip(src).zip(map) {
        *t = v - max[s as usize];
    }
    exp_in_place(shifted);
    out.fill(0.0);
    for (&t, &s) in shifted.iter().zip(map) {
        out[s as usize] += t;
    }
    for (o, &m) in out.iter_mut().zip(max.iter()) {
        *o = m + o.ln();
    }
}

/// [`logsumexp_project`] into a new table of `cells` cells (for code off the hot path).
pub(crate) fn logsumexp_projection(src: &[f64], map: &[u32], cells: usize) -> Vec<f64> {
    let mut out = vec![0.0; cells];
    let mut max = vec![0.0; cells];
    let mut shifted = vec![0.0; src.len()];
    logsumexp_project(src, map, &mut out, &mut max, &mut shifted);
    out
}

/// Probability-space projection: `out[s] = Σ_{i: map[i] = s} src[i]` (the reference the blocked
/// [`Projection::sum`] is tested against).
#[cfg(test)]
pub(crate) fn sum_project(src: &[f64], map: &[u32], out: &mut [f64]) {
    debug_assert_eq!(src.len(), map.len());
    out.fill(0.0);
    for (&v, &s) in src.iter().zip(map) {
        out[s as usize] += v;
    }
}

/// Broadcast-add: `dst[i] += scale · small[map[i]]`.
pub(crate) fn broadcast_add(dst: &mut [f64], map: &[u32], small: &[f64], scale: f64) {
    debug_assert_eq!(dst.len(), map.len());
    for (d, &s) in dst.iter_mut().zip(map) {
        *d += scale * small[s as usize];
    }
}

/// Log-space difference that treats `-∞ − -∞` as `-∞` (a cell impossible on both sides stays
/// impossible) instead of NaN.
#[inline]
pub(crate) fn log_sub(a: f64, b: f64) -> f64 {
    if b == f64::NEG_INFINITY {
        f64::NEG_INFINITY
    } else {
        a - b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_matches_the_library_exp() {
        let mut x = -745.0;
        while x < 709.0 {
            let (fast, reference) = (exp(x), x.exp());
            if x >= -708.3 {
                assert!(
                    (fast - reference).abs() <= 4.0 * f64::EPSILON * reference,
                    "exp({x}) = {fast} vs {reference}"
                );
            } else {
                assert_eq!(fast, 0.0, "exp({x}) flushes to zero");
            }
            x += 0.0137;
        }
        for x in [
            0.0,
            1e-300,
            -1e-300,
            0.5 * std::f64::consts::LN_2,
            -0.5 * std::f64::consts::LN_2,
            1.0,
            -1.0,
        ] {
            assert!((exp(x) - x.exp()).abs() <= 2.0 * f64::EPSILON * x.exp(), "{x}");
        }
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(f64::NEG_INFINITY), 0.0);
        assert_eq!(exp(-746.0), 0.0);
        assert_eq!(exp(-1e9), 0.0);
        assert_eq!(exp(709.5), f64::INFINITY);
        assert_eq!(exp(f64::INFINITY), f64::INFINITY);
        assert!(exp(f64::NAN).is_nan());
    }

    #[test]
    fn projection_agrees_with_the_plain_index_map() {
        // Shapes (2, 3, 4) onto every subset of axes.
        let shape = [2usize, 3, 4];
        let src: Vec<f64> = (0..24).map(|i| (i as f64 * 0.37).sin()).collect();
        for mask in 0..8usize {
            let small_shape: Vec<usize> = (0..3).filter(|k| mask >> k & 1 == 1).map(|k| shape[k]).collect();
            let small_strides = strides(&small_shape);
            let mut next_stride = small_strides.iter();
            let per_axis: Vec<usize> = (0..3)
                .map(|k| {
                    if mask >> k & 1 == 1 {
                        next_stride.next().copied().unwrap_or(0)
                    } else {
                        0
                    }
                })
                .collect();
            let map = index_map(&shape, &per_axis);
            let projection = Projection::new(&shape, &per_axis);
            assert_eq!(projection.len(), 24);
            let cells: usize = small_shape.iter().product();
            let (mut a, mut b) = (vec![0.0; cells], vec![0.0; cells]);
            sum_project(&src, &map, &mut a);
            projection.sum(&src, &mut b);
            assert!(a.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-12), "mask {mask}");
            let expected = logsumexp_projection(&src, &map, cells);
            let (mut max, mut shifted) = (vec![0.0; cells], vec![0.0; 24]);
            projection.logsumexp(&src, &mut b, &mut max, &mut shifted);
            assert!(
                expected.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-12),
                "mask {mask}"
            );
            let small: Vec<f64> = (0..cells).map(|i| i as f64).collect();
            let (mut d1, mut d2) = (src.clone(), src.clone());
            broadcast_add(&mut d1, &map, &small, -0.5);
            projection.broadcast_add(&mut d2, &small, -0.5);
            assert_eq!(d1, d2);
        }
    }

    #[test]
    fn vector_exp_matches_scalar_exp() {
        let src: Vec<f64> = (0..1001)
            .map(|i| -750.0 + 1.5 * i as f64)
            .chain([f64::NEG_INFINITY, 0.0])
            .collect();
        let mut dst = vec![0.0; src.len()];
        exp_shifted(&src, 2.5, &mut dst);
        let mut in_place: Vec<f64> = src.iter().map(|v| v - 2.5).collect();
        exp_in_place(&mut in_place);
        for ((&v, &d), &i) in src.iter().zip(&dst).zip(&in_place) {
            assert_eq!(d.to_bits(), exp(v - 2.5).to_bits(), "{v}");
            assert_eq!(i.to_bits(), d.to_bits(), "{v}");
        }
    }

    #[test]
    fn strides_are_row_major() {
        assert_eq!(strides(&[2, 3, 4]), vec![12, 4, 1]);
        assert_eq!(strides(&[]), Vec::<usize>::new());
    }

    #[test]
    fn index_map_projects_onto_middle_axis() {
        // big shape (2, 3), small = second axis only.
        assert_eq!(index_map(&[2, 3], &[0, 1]), vec![0, 1, 2, 0, 1, 2]);
        // small = first axis only.
        assert_eq!(index_map(&[2, 3], &[1, 0]), vec![0, 0, 0, 1, 1, 1]);
        // identity.
        assert_eq!(index_map(&[2, 2, 2], &[4, 2, 1]), (0..8).collect::<Vec<u32>>());
        assert_eq!(index_map(&[], &[]), vec![0]);
    }

    #[test]
    fn logsumexp_handles_infinities_and_large_values() {
        assert_eq!(logsumexp(&[f64::NEG_INFINITY, f64::NEG_INFINITY]), f64::NEG_INFINITY);
        assert!((logsumexp(&[1000.0, 1000.0]) - (1000.0 + 2f64.ln())).abs() < 1e-12);
        let mut out = [0.0; 2];
        let mut max = [0.0; 2];
        let mut shifted = [0.0; 4];
        logsumexp_project(
            &[-1000.0, -1000.0, 5.0, f64::NEG_INFINITY],
            &[0, 0, 1, 1],
            &mut out,
            &mut max,
            &mut shifted,
        );
        assert!((out[0] - (-1000.0 + 2f64.ln())).abs() < 1e-9);
        assert!((out[1] - 5.0).abs() < 1e-12);
        logsumexp_project(&[f64::NEG_INFINITY; 2], &[0, 1], &mut out, &mut max, &mut shifted[..2]);
        assert_eq!(out, [f64::NEG_INFINITY; 2]);
    }
}
