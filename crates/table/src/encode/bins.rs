//! Bins of numeric and date columns: which code a value gets and which values a code stands
//! for.

use super::MAX_ATTRIBUTE_SIZE;
use rand::{Rng, RngExt};
use std::ops::RangeInclusive;

/// Consecutive bins covering the integers of `[min, max]`, each holding at least one integer.
///
/// Bin `i` holds the integers `starts[i] ..= starts[i + 1] − 1`; the last bin holds
/// `starts[last] ..= max`. From dictionary edges `e₁ < … < e_{k−1}` strictly inside
/// `(min, max)` the bins are `[min, e₁), [e₁, e₂), …, [e_{k−1}, max]` (the last one closed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntegerBins {
    starts: Vec<i64>,
    max: i64,
}

impl IntegerBins {
    /// Bins `[min, e₁), …, [e_{k−1}, max]` from the edges strictly inside `(min, max)`; edges at
    /// or outside the bounds are ignored. `edges` must increase strictly.
    pub(crate) fn from_edges(min: i64, max: i64, edges: &[i64]) -> Result<IntegerBins, String> {
        check_order(min, max)?;
        let mut starts = vec![min];
        for &e in edges {
            if e <= *starts.last().unwrap_or(&min) {
                if e > min {
                    return Err(format!(
                        "bin edges must increase strictly, found {e} after a larger edge"
                    ));
                }
                continue;
            }
            if e < max {
                starts.push(e);
            }
        }
        IntegerBins::checked(starts, max)
    }

    /// One bin per integer of `[min, max]`.
    pub(crate) fn exact(min: i64, max: i64) -> Result<IntegerBins, String> {
        check_order(min, max)?;
        let values = i128::from(max) - i128::from(min) + 1;
        if values > MAX_ATTRIBUTE_SIZE as i128 {
            return Err(format!(
                "one code per value would give {values} codes, more than the limit of {MAX_ATTRIBUTE_SIZE}"
            ));
        }
        IntegerBins::checked((min..=max).collect(), max)
    }

    /// `bins` bins of (nearly) equal width with integer edges: bin `i` starts at
    /// `min + ⌊i·n / bins⌋` where `n = max − min + 1`. Fewer bins when the range holds fewer
    /// than `bins` integers, so that every bin holds at least one integer.
    pub(crate) fn equal_width(min: i64, max: i64, bins: usize) -> Result<IntegerBins, String> {
        check_order(min, max)?;
        if bins == 0 || bins > MAX_ATTRIBUTE_SIZE {
            return Err(format!(
                "{bins} default bins: the number of bins must be in 1..={MAX_ATTRIBUTE_SIZE}"
            ));
        }
        let n = i128::from(max) - i128::from(min) + 1;
        let bins = (bins as i128).min(n);
        let starts = (0..bins)
            .map(|i| i64::try_from(i128::from(min) + i * n / bins))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| format!("bin edges of [{min}, {max}] do not fit in 64 bits"))?;
        IntegerBins::checked(starts, max)
    }

    fn checked(starts: Vec<i64>, max: i64) -> Result<IntegerBins, String> {
        if starts.len() > MAX_ATTRIBUTE_SIZE {
            return Err(format!(
                "{} bins exceed the limit of {MAX_ATTRIBUTE_SIZE} codes",
                starts.len()
            ));
        }
        Ok(IntegerBins { starts, max })
    }

    /// Number of bins.
    pub fn len(&self) -> usize {
        self.starts.len()
    }

    /// Whether there is no bin (never true: a bin list holds at least `[min, max]`).
    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }

    /// The smallest value covered.
    pub fn min(&self) -> i64 {
        self.starts[0]
    }

    /// The largest value covered.
    pub fn max(&self) -> i64 {
        self.max
    }

    /// The first value of each bin.
    pub fn starts(&self) -> &[i64] {
        &self.starts
    }

    /// The integers of bin `code`, or `None` if there is no such bin.
    pub fn bin(&self, code: usize) -> Option<RangeInclusive<i64>> {
        let start = *self.starts.get(code)?;
        let end = match self.starts.get(code + 1) {
            Some(next) => next - 1,
            None => self.max,
        };
        Some(start..=end)
    }

    /// The bin holding `value`, or `None` if `value` lies outside `[min, max]`.
    #[inline]
    pub fn code_of(&self, value: i64) -> Option<usize> {
        if value < self.min() || value > self.max {
            return None;
        }
        Some(self.starts.partition_point(|s| *s <= value) - 1)
    }

    /// A value drawn uniformly among the integers of bin `code`.
    pub(crate) fn sample(&self, code: usize, rng: &mut (impl Rng + ?Sized)) -> Option<i64> {
        let bin = self.bin(code)?;
        Some(rng.random_range(bin))
    }
}

/// Consecutive bins covering the reals of `[min, max]`: edges `e₀ = min < e₁ < … < e_k = max`
/// give the bins `[e₀, e₁), [e₁, e₂), …, [e_{k−1}, e_k]` (the last one closed).
///
/// When `min = max` there is one bin, `[min, min]`.
#[derive(Debug, Clone, PartialEq)]
pub struct RealBins {
    edges: Vec<f64>,
}

impl RealBins {
    /// Bins from the dictionary edges strictly inside `(min, max)`; edges at or outside the
    /// bounds are ignored. `edges` must increase strictly.
    pub(crate) fn from_edges(min: f64, max: f64, edges: &[f64]) -> Result<RealBins, String> {
        check_real_bounds(min, max)?;
        let mut all = vec![min];
        for &e in edges {
            if !e.is_finite() {
                return Err(format!("bin edge {e} is not finite"));
            }
            if e <= all[all.len() - 1] {
                if e > min {
                    return Err(format!(
                        "bin edges must increase strictly, found {e} after a larger edge"
                    ));
                }
                continue;
            }
            if e < max {
                all.push(e);
            }
        }
        all.push(max);
        RealBins::checked(all)
    }

    /// `bins` bins of equal width (fewer if floating point cannot separate their edges).
    pub(crate) fn equal_width(min: f64, max: f64, bins: usize) -> Result<RealBins, String> {
        check_real_bounds(min, max)?;
        if bins == 0 || bins > MAX_ATTRIBUTE_SIZE {
            return Err(format!(
                "{bins} default bins: the number of bins must be in 1..={MAX_ATTRIBUTE_SIZE}"
            ));
        }
        let mut edges = vec![min];
        for i in 1..bins {
            let e = lerp(min, max, i as f64 / bins as f64);
            if e > edges[edges.len() - 1] && e < max {
                edges.push(e);
            }
        }
        edges.push(max);
        RealBins::checked(edges)
    }

    fn checked(edges: Vec<f64>) -> Result<RealBins, String> {
        if edges.len() - 1 > MAX_ATTRIBUTE_SIZE {
            return Err(format!(
                "{} bins exceed the limit of {MAX_ATTRIBUTE_SIZE} codes",
                edges.len() - 1
            ));
        }
        Ok(RealBins { edges })
    }

    /// Number of bins.
    pub fn len(&self) -> usize {
        self.edges.len() - 1
    }

    /// Whether there is no bin (never true).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// All edges, `min` first and `max` last.
    pub fn edges(&self) -> &[f64] {
        &self.edges
    }

    /// The smallest value covered.
    pub fn min(&self) -> f64 {
        self.edges[0]
    }

    /// The largest value covered.
    pub fn max(&self) -> f64 {
        self.edges[self.edges.len() - 1]
    }

    /// The bounds `(low, high)` of bin `code`: `[low, high)`, or `[low, high]` for the last bin;
    /// `None` if there is no such bin.
    pub fn bin(&self, code: usize) -> Option<(f64, f64)> {
        Some((*self.edges.get(code)?, *self.edges.get(code + 1)?))
    }

    /// The bin holding `value`, or `None` if `value` lies outside `[min, max]` or is NaN.
    #[inline]
    pub fn code_of(&self, value: f64) -> Option<usize> {
        if !(value >= self.min() && value <= self.max()) {
            return None;
        }
        let inner = &self.edges[1..self.edges.len() - 1];
        Some(inner.partition_point(|e| *e <= value))
    }

    /// A value drawn uniformly in bin `code` (never outside it, whatever the rounding).
    pub(crate) fn sample(&self, code: usize, rng: &mut (impl Rng + ?Sized)) -> Option<f64> {
        let (low, high) = self.bin(code)?;
        let last = code + 1 == self.len();
        let u: f64 = rng.random();
        let x = lerp(low, high, u);
        let inside = x >= low && (x < high || (last && x <= high));
        Some(if inside { x } else { low })
    }
}

/// `a + t·(b − a)`, also when `b − a` overflows.
fn lerp(a: f64, b: f64, t: f64) -> f64 {
    let width = b - a;
    if width.is_finite() {
        a + t * width
    } else {
        a * (1.0 - t) + b * t
    }
}

fn check_order(min: i64, max: i64) -> Result<(), String> {
    if min > max {
        return Err(format!("min {min} is greater than max {max}"));
    }
    Ok(())
}

fn check_real_bounds(min: f64, max: f64) -> Result<(), String> {
    if !min.is_finite() || !max.is_finite() {
        return Err(format!("bounds [{min}, {max}] must be finite"));
    }
    if min > max {
        return Err(format!("min {min} is greater than max {max}"));
    }
    Ok(())
}
