//! Marginal counting over encoded tables: the number of rows in every cell of the product
//! domain of a few attributes. This is the kernel every synthesizer (MST, AIM, Private-PGM)
//! runs most.
//!
//! Technique: rows are processed in chunks of [`CHUNK`] rows. For each chunk the flat cell
//! index is built one attribute at a time into a small reusable buffer
//! (`index = index · size + code`, a loop the compiler vectorises), then one pass adds the chunk
//! to the counts. Single attributes are counted straight from their codes. Counts are kept in
//! 32 bits while counting (64 bits past 2³² rows); small product domains (≤ 2048 cells) are
//! counted in four interleaved copies so that runs of rows in the same cell do not serialise on
//! one counter.

use crate::encode::{CodeColumn, Encoded};
use crate::error::{Error, Result};

/// Rows per chunk: the index buffer (4 bytes per row) stays in the L1 cache.
pub const CHUNK: usize = 4096;

/// Counts over the product domain of `attrs`.
///
/// `counts` is in row-major order of `attrs` as given: the cell of codes `(c₀, …, c_{k−1})`
/// is at `((c₀ · shape[1] + c₁) · shape[2] + c₂) …`, the last attribute varying fastest.
/// With no attribute, `counts` has one cell, the number of rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marginal {
    /// The attributes (positions in the encoded table's domain), in the order of the axes.
    pub attrs: Vec<usize>,
    /// The number of codes of each attribute in `attrs`.
    pub shape: Vec<usize>,
    /// One count per cell, row-major.
    pub counts: Vec<u64>,
}

impl Marginal {
    /// The total count (the number of rows counted).
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The flat position of the cell with `codes` (one per axis), or `None` if the number of
    /// codes differs from the number of axes or a code is out of range.
    pub fn position(&self, codes: &[usize]) -> Option<usize> {
        if codes.len() != self.shape.len() {
            return None;
        }
        let mut index = 0;
        for (code, size) in codes.iter().zip(&self.shape) {
            if code >= size {
                return None;
            }
            index = index * size + code;
        }
        Some(index)
    }

    /// The count of the cell with `codes` (one per axis), or `None` if there is no such cell.
    pub fn count(&self, codes: &[usize]) -> Option<u64> {
        self.position(codes).map(|i| self.counts[i])
    }

    /// Sums out every attribute not in `keep` and orders the axes as `keep` gives them (a
    /// permutation of all attributes transposes). `keep` holds attributes as in
    /// [`Marginal::attrs`].
    ///
    /// Errors when `keep` names an attribute this marginal does not have, or one twice.
    pub fn project(&self, keep: &[usize]) -> Result<Marginal> {
        let mut axes = Vec::with_capacity(keep.len());
        for (k, attr) in keep.iter().enumerate() {
            let axis = self.attrs.iter().position(|a| a == attr).ok_or_else(|| Error::Domain {
                column: format!("attribute {attr}"),
                message: format!("not an attribute of the marginal over {:?}", self.attrs),
            })?;
            if keep[..k].contains(attr) {
                return Err(Error::Domain {
                    column: format!("attribute {attr}"),
                    message: "kept twice in a projection".into(),
                });
            }
            axes.push(axis);
        }
        let shape: Vec<usize> = axes.iter().map(|&a| self.shape[a]).collect();
        // Stride, in the output, of each axis of `self` (0 for axes summed out).
        let mut out_stride = vec![0; self.shape.len()];
        let mut stride = 1;
        for (&axis, &size) in axes.iter().zip(&shape).rev() {
            out_stride[axis] = stride;
            stride *= size;
        }
        let mut counts = vec![0u64; stride];
        if self.counts.is_empty() {
            return Ok(Marginal {
                attrs: keep.to_vec(),
                shape,
                counts,
            });
        }
        let (inner_size, inner_stride) = match self.shape.last() {
            Some(&size) => (size, out_stride[self.shape.len() - 1]),
            None => (1, 0),
        };
        // Walk the cells of `self` in row-major order, an odometer over all axes but the last.
        let outer_axes = self.shape.len().saturating_sub(1);
        let mut digits = vec![0usize; outer_axes];
        let mut base = 0usize;
        for block in self.counts.chunks_exact(inner_size.max(1)) {
            for (i, count) in block.iter().enumerate() {
                counts[base + i * inner_stride] += count;
            }
            for axis in (0..outer_axes).rev() {
                digits[axis] += 1;
                base += out_stride[axis];
                if digits[axis] < self.shape[axis] {
                    break;
                }
                base -= out_stride[axis] * digits[axis];
                digits[axis] = 0;
            }
        }
        Ok(Marginal {
            attrs: keep.to_vec(),
            shape,
            counts,
        })
    }
}

impl Encoded {
    /// Counts the rows in every cell of the product domain of `attrs` (positions in
    /// [`Encoded::domain`]), in row-major order of `attrs` as given.
    ///
    /// Errors when an attribute is out of range or named twice, or when the product domain has
    /// more than 2³² cells.
    pub fn marginal(&self, attrs: &[usize]) -> Result<Marginal> {
        let sizes = self.domain.sizes();
        let mut shape = Vec::with_capacity(attrs.len());
        let mut cells: u64 = 1;
        for (k, &attr) in attrs.iter().enumerate() {
            let size = *sizes.get(attr).ok_or_else(|| Error::Domain {
                column: format!("attribute {attr}"),
                message: format!("the domain has {} attributes", sizes.len()),
            })?;
            let name = || self.domain.attributes()[attr].name().to_string();
            if attrs[..k].contains(&attr) {
                return Err(Error::Domain {
                    column: name(),
                    message: "named twice in a marginal".into(),
                });
            }
            cells = cells.saturating_mul(size as u64);
            if cells > 1 << 32 {
                return Err(Error::Domain {
                    column: name(),
                    message: format!("the marginal over attributes {attrs:?} has more than 2^32 cells"),
                });
            }
            shape.push(size);
        }
        let columns: Vec<&CodeColumn> = attrs.iter().map(|&a| &self.columns[a]).collect();
        let counts = match columns.as_slice() {
            [] => vec![self.rows as u64],
            [only] => {
                let mut tally = Tally::new(cells as usize, self.rows);
                count_one(only, &mut tally);
                tally.finish()
            }
            _ => {
                let mut tally = Tally::new(cells as usize, self.rows);
                count_many(&columns, &shape, self.rows, &mut tally);
                tally.finish()
            }
        };
        Ok(Marginal {
            attrs: attrs.to_vec(),
            shape,
            counts,
        })
    }
}

/// A stored code type (or a flat cell index).
trait Code: Copy {
    fn index(self) -> usize;
}

impl Code for u8 {
    #[inline(always)]
    fn index(self) -> usize {
        usize::from(self)
    }
}

impl Code for u16 {
    #[inline(always)]
    fn index(self) -> usize {
        usize::from(self)
    }
}

impl Code for u32 {
    #[inline(always)]
    fn index(self) -> usize {
        self as usize
    }
}

/// Product domains of at most this many cells are counted in [`STRIPES`] interleaved copies.
const STRIPED_MAX_CELLS: usize = 2048;

/// Number of interleaved copies of a small count table: consecutive rows go to different
/// copies, so rows falling in the same cell do not wait on each other's increment.
const STRIPES: usize = 4;

/// The running counts of one marginal. Counts are 32-bit while the table has fewer than 2³²
/// rows (half the cache footprint of 64-bit counts), and widened at the end.
enum Tally {
    /// [`STRIPES`] copies of `cells` counts, copy `s` at `s · cells`.
    Striped {
        counts: Vec<u32>,
        cells: usize,
    },
    Narrow(Vec<u32>),
    Wide(Vec<u64>),
}

impl Tally {
    fn new(cells: usize, rows: usize) -> Tally {
        if rows > u32::MAX as usize {
            Tally::Wide(vec![0; cells])
        } else if cells <= STRIPED_MAX_CELLS {
            Tally::Striped {
                counts: vec![0; cells * STRIPES],
                cells,
            }
        } else {
            Tally::Narrow(vec![0; cells])
        }
    }

    /// Adds one to the cell of every index in `indices` (each below the number of cells, by
    /// construction of the encoded table).
    #[inline(always)]
    fn add<C: Code>(&mut self, indices: &[C]) {
        match self {
            Tally::Striped { counts, cells } => {
                let (c0, rest) = counts.split_at_mut(*cells);
                let (c1, rest) = rest.split_at_mut(*cells);
                let (c2, c3) = rest.split_at_mut(*cells);
                let mut quads = indices.chunks_exact(STRIPES);
                for q in &mut quads {
                    c0[q[0].index()] += 1;
                    c1[q[1].index()] += 1;
                    c2[q[2].index()] += 1;
                    c3[q[3].index()] += 1;
                }
                for i in quads.remainder() {
                    c0[i.index()] += 1;
                }
            }
            Tally::Narrow(counts) => {
                for i in indices {
                    counts[i.index()] += 1;
                }
            }
            Tally::Wide(counts) => {
                for i in indices {
                    counts[i.index()] += 1;
                }
            }
        }
    }

    fn finish(self) -> Vec<u64> {
        match self {
            Tally::Striped { counts, cells } => (0..cells)
                .map(|i| (0..STRIPES).map(|s| u64::from(counts[s * cells + i])).sum())
                .collect(),
            Tally::Narrow(counts) => counts.into_iter().map(u64::from).collect(),
            Tally::Wide(counts) => counts,
        }
    }
}

fn count_one(column: &CodeColumn, tally: &mut Tally) {
    match column {
        CodeColumn::U8(codes) => tally.add(codes),
        CodeColumn::U16(codes) => tally.add(codes),
    }
}

fn count_many(columns: &[&CodeColumn], shape: &[usize], rows: usize, tally: &mut Tally) {
    let mut index = vec![0u32; CHUNK.min(rows)];
    let mut start = 0;
    while start < rows {
        let end = (start + CHUNK).min(rows);
        let index = &mut index[..end - start];
        match columns[0] {
            CodeColumn::U8(codes) => first(index, &codes[start..end]),
            CodeColumn::U16(codes) => first(index, &codes[start..end]),
        }
        for (column, &size) in columns.iter().zip(shape).skip(1) {
            let size = size as u32;
            match column {
                CodeColumn::U8(codes) => fold(index, &codes[start..end], size),
                CodeColumn::U16(codes) => fold(index, &codes[start..end], size),
            }
        }
        tally.add(index);
        start = end;
    }
}

#[inline(always)]
fn first<C: Code>(index: &mut [u32], codes: &[C]) {
    for (i, c) in index.iter_mut().zip(codes) {
        *i = c.index() as u32;
    }
}

/// `index = index · size + code` for every row of the chunk.
///
/// Cannot overflow: codes are below their sizes, so the result is below the product of the
/// sizes so far, at most 2³² (checked by [`Encoded::marginal`]). Wrapping arithmetic states
/// that and keeps the loop vectorised in builds with overflow checks (the `ci` profile).
#[inline(always)]
fn fold<C: Code>(index: &mut [u32], codes: &[C], size: u32) {
    for (i, c) in index.iter_mut().zip(codes) {
        *i = i.wrapping_mul(size).wrapping_add(c.index() as u32);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::{Domain, EncodeOptions};
    use crate::schema::Dictionary;
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};
    use std::collections::HashMap;

    /// A domain of categorical attributes with the given sizes, named A0, A1, …
    fn domain(sizes: &[usize]) -> Domain {
        let mut text = String::from("format_version = 1\nname = \"t\"\n");
        for (i, size) in sizes.iter().enumerate() {
            let levels: Vec<String> = (0..*size).map(|l| format!("\"{l}\"")).collect();
            text += &format!(
                "[[column]]\nname = \"A{i}\"\ntype = \"categorical\"\nlevels = [{}]\n",
                levels.join(",")
            );
        }
        let dictionary = Dictionary::from_toml(&text, "t.toml").expect("valid dictionary");
        Domain::from_dictionary(&dictionary, &EncodeOptions::default()).expect("valid domain")
    }

    fn random_encoded(sizes: &[usize], rows: usize, rng: &mut StdRng) -> Encoded {
        let columns: Vec<Vec<u16>> = sizes
            .iter()
            .map(|&s| (0..rows).map(|_| rng.random_range(0..s) as u16).collect())
            .collect();
        Encoded::from_codes(&domain(sizes), &columns).expect("codes below sizes")
    }

    /// The reference: a hash map from code tuples to counts.
    fn naive(encoded: &Encoded, attrs: &[usize]) -> HashMap<Vec<usize>, u64> {
        let mut counts = HashMap::new();
        for row in 0..encoded.n_rows() {
            let key: Vec<usize> = attrs.iter().map(|&a| encoded.code(row, a).expect("in range")).collect();
            *counts.entry(key).or_insert(0) += 1;
        }
        counts
    }

    /// Every cell of `shape`, in row-major order.
    fn cells(shape: &[usize]) -> Vec<Vec<usize>> {
        let mut all = vec![vec![]];
        for &size in shape {
            all = all
                .into_iter()
                .flat_map(|prefix| {
                    (0..size).map(move |c| {
                        let mut cell = prefix.clone();
                        cell.push(c);
                        cell
                    })
                })
                .collect();
        }
        all
    }

    fn assert_matches_naive(encoded: &Encoded, attrs: &[usize]) {
        let m = encoded.marginal(attrs).expect("valid attributes");
        let reference = naive(encoded, attrs);
        let sizes = encoded.domain().sizes();
        assert_eq!(m.attrs, attrs);
        assert_eq!(m.shape, attrs.iter().map(|&a| sizes[a]).collect::<Vec<_>>());
        assert_eq!(m.counts.len(), m.shape.iter().product::<usize>());
        for (position, cell) in cells(&m.shape).iter().enumerate() {
            assert_eq!(m.position(cell), Some(position));
            let expected = reference.get(cell).copied().unwrap_or(0);
            assert_eq!(m.counts[position], expected, "cell {cell:?} of {attrs:?}");
        }
        assert_eq!(m.total(), encoded.n_rows() as u64);
    }

    #[test]
    fn counts_match_a_naive_reference() {
        let mut rng = StdRng::seed_from_u64(3);
        for trial in 0..20 {
            let k = rng.random_range(1..6);
            let sizes: Vec<usize> = (0..k)
                .map(|_| {
                    if rng.random_bool(0.2) {
                        rng.random_range(257..400)
                    } else {
                        rng.random_range(1..12)
                    }
                })
                .collect();
            // Row counts around the chunk size exercise the partial last chunk.
            let rows = [0, 1, 7, CHUNK - 1, CHUNK, CHUNK + 5, 2 * CHUNK + 3][trial % 7];
            let encoded = random_encoded(&sizes, rows, &mut rng);
            for arity in 0..=k.min(4) {
                let mut attrs: Vec<usize> = (0..k).collect();
                for i in 0..k {
                    attrs.swap(i, rng.random_range(i..k));
                }
                attrs.truncate(arity);
                assert_matches_naive(&encoded, &attrs);
            }
        }
    }

    #[test]
    fn empty_table_and_no_attribute() {
        let mut rng = StdRng::seed_from_u64(4);
        let empty = random_encoded(&[3, 4], 0, &mut rng);
        let m = empty.marginal(&[1, 0]).expect("valid");
        assert_eq!(m.shape, [4, 3]);
        assert_eq!(m.counts, vec![0; 12]);
        let full = random_encoded(&[3, 4], 100, &mut rng);
        let none = full.marginal(&[]).expect("valid");
        assert_eq!((none.shape.len(), none.counts.as_slice()), (0, &[100][..]));
    }

    #[test]
    fn permuted_attributes_transpose_the_table() {
        let mut rng = StdRng::seed_from_u64(5);
        let e = random_encoded(&[3, 5, 2], 5000, &mut rng);
        let abc = e.marginal(&[0, 1, 2]).expect("valid");
        let cab = e.marginal(&[2, 0, 1]).expect("valid");
        for a in 0..3 {
            for b in 0..5 {
                for c in 0..2 {
                    assert_eq!(abc.count(&[a, b, c]), cab.count(&[c, a, b]));
                }
            }
        }
        assert_eq!(abc.project(&[2, 0, 1]).expect("permutation"), cab);
    }

    #[test]
    fn projection_equals_direct_counting() {
        let mut rng = StdRng::seed_from_u64(6);
        let e = random_encoded(&[4, 3, 300, 2], 3 * CHUNK + 17, &mut rng);
        let m = e.marginal(&[0, 2, 3]).expect("valid");
        for keep in [&[0, 2][..], &[2, 0], &[3], &[2], &[3, 0], &[], &[3, 2, 0]] {
            assert_eq!(
                m.project(keep).expect("kept attributes are in m"),
                e.marginal(keep).expect("valid")
            );
        }
        assert!(m.project(&[1]).is_err(), "attribute 1 was not counted");
        assert!(m.project(&[0, 0]).is_err(), "kept twice");
    }

    #[test]
    fn every_tally_counts_the_same() {
        let mut rng = StdRng::seed_from_u64(9);
        for cells in [1, 3, 2048, 5000] {
            let indices: Vec<u32> = (0..10_001).map(|_| rng.random_range(0..cells as u32)).collect();
            let mut expected = vec![0u64; cells];
            for &i in &indices {
                expected[i as usize] += 1;
            }
            let tallies = [
                Tally::Striped {
                    counts: vec![0; cells * STRIPES],
                    cells,
                },
                Tally::Narrow(vec![0; cells]),
                Tally::Wide(vec![0; cells]),
            ];
            for mut tally in tallies {
                tally.add(&indices[..5000]);
                tally.add(&indices[5000..]);
                assert_eq!(tally.finish(), expected, "{cells} cells");
            }
        }
    }

    #[test]
    fn invalid_attributes_are_errors() {
        let mut rng = StdRng::seed_from_u64(8);
        let e = random_encoded(&[3, 4], 10, &mut rng);
        assert!(matches!(e.marginal(&[2]), Err(Error::Domain { .. })));
        assert!(matches!(e.marginal(&[1, 1]), Err(Error::Domain { column, .. }) if column == "A1"));
    }

    #[test]
    fn too_many_cells_is_an_error() {
        let e = Encoded::from_codes(&domain(&[65536, 65536, 2]), &[vec![], vec![], vec![]]).expect("valid");
        assert!(matches!(e.marginal(&[0, 1, 2]), Err(Error::Domain { .. })));
    }
}
