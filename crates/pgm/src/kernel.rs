//! Dense-table kernels: index maps between a clique and a sub-clique, and the projection and
//! broadcast loops that use them. Tables are row-major over the clique's sorted attributes.
//!
//! An index map holds, for every cell of the larger table, the index of the cell of the smaller
//! table it projects to. One map serves both directions: summing (projection) and gathering
//! (broadcast). Maps are built once per clique pair and reused, so the hot loops neither
//! allocate nor recompute strides.

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

/// `ln Σ exp(x)` over a slice; `-∞` for an empty slice or one of all `-∞`.
pub(crate) fn logsumexp(values: &[f64]) -> f64 {
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if max == f64::NEG_INFINITY {
        return f64::NEG_INFINITY;
    }
    let sum: f64 = values.iter().map(|&v| (v - max).exp()).sum();
    max + sum.ln()
}

/// Log-space projection: `out[s] = ln Σ_{i: map[i] = s} exp(src[i])`, computed with a per-cell
/// maximum so that no cell underflows because another cell is large. `max` is scratch space of
/// `out.len()`.
pub(crate) fn logsumexp_project(src: &[f64], map: &[u32], out: &mut [f64], max: &mut [f64]) {
    debug_assert_eq!(src.len(), map.len());
    debug_assert_eq!(out.len(), max.len());
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
    out.fill(0.0);
    for (&v, &s) in src.iter().zip(map) {
        let s = s as usize;
        out[s] += (v - max[s]).exp();
    }
    for (o, &m) in out.iter_mut().zip(max.iter()) {
        *o = m + o.ln();
    }
}

/// Probability-space projection: `out[s] = Σ_{i: map[i] = s} src[i]`.
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
        logsumexp_project(
            &[-1000.0, -1000.0, 5.0, f64::NEG_INFINITY],
            &[0, 0, 1, 1],
            &mut out,
            &mut max,
        );
        assert!((out[0] - (-1000.0 + 2f64.ln())).abs() < 1e-9);
        assert!((out[1] - 5.0).abs() < 1e-12);
        logsumexp_project(&[f64::NEG_INFINITY; 2], &[0, 1], &mut out, &mut max);
        assert_eq!(out, [f64::NEG_INFINITY; 2]);
    }
}
