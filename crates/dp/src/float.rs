//! Directed-rounding helpers for accounting in `f64` (privacy loss rounds up, never down).

/// The smallest `f64` strictly greater than `x`, for finite `x`; infinities and NaN pass through.
pub(crate) fn next_up(x: f64) -> f64 {
    if !x.is_finite() {
        return x;
    }
    if x == 0.0 {
        return f64::from_bits(1);
    }
    let bits = x.to_bits();
    if x > 0.0 {
        f64::from_bits(bits + 1)
    } else {
        f64::from_bits(bits - 1)
    }
}

/// The largest `f64` strictly smaller than `x`, for finite `x`.
pub(crate) fn next_down(x: f64) -> f64 {
    -next_up(-x)
}

/// Knuth's TwoSum: `(s, e)` with `s = fl(a + b)` and `a + b = s + e` exactly (for finite `s`).
pub(crate) fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let bp = s - a;
    let ap = s - bp;
    (s, (a - ap) + (b - bp))
}

/// An `f64` at least the exact real sum `a + b`.
pub(crate) fn add_round_up(a: f64, b: f64) -> f64 {
    let (s, e) = two_sum(a, b);
    if e > 0.0 { next_up(s) } else { s }
}

/// An `f64` at most the exact real difference `a - b`.
pub(crate) fn sub_round_down(a: f64, b: f64) -> f64 {
    let (s, e) = two_sum(a, -b);
    if e < 0.0 { next_down(s) } else { s }
}

/// `floor(x · 2^shift)` computed exactly from the bits of `x` (finite, ≥ 0); `None` if the result
/// does not fit in `u128`.
pub(crate) fn floor_scaled(x: f64, shift: i32) -> Option<u128> {
    let (mantissa, exponent) = decompose(x)?;
    let total = exponent + shift;
    if total >= 0 {
        let total = u32::try_from(total).ok()?;
        if total >= 128 || u128::from(mantissa).leading_zeros() < total {
            return None;
        }
        Some(u128::from(mantissa) << total)
    } else {
        let right = u32::try_from(-total).ok()?;
        Some(if right >= 64 { 0 } else { u128::from(mantissa >> right) })
    }
}

/// `x = mantissa · 2^exponent` exactly, for finite `x ≥ 0`.
pub(crate) fn decompose(x: f64) -> Option<(u64, i32)> {
    if !x.is_finite() || x < 0.0 {
        return None;
    }
    let bits = x.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let fraction = bits & ((1u64 << 52) - 1);
    if biased == 0 {
        Some((fraction, -1074))
    } else {
        Some((fraction | (1u64 << 52), biased - 1075))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directed_rounding_brackets_the_exact_result() {
        assert!(next_up(1.0) > 1.0 && next_down(1.0) < 1.0);
        assert_eq!(next_up(0.0), f64::from_bits(1));
        assert_eq!(add_round_up(0.5, 0.5), 1.0);
        // 1 + 2^-60 is not representable: the sum rounds to 1.0, the error is positive.
        assert_eq!(add_round_up(1.0, 2f64.powi(-60)), next_up(1.0));
        assert_eq!(sub_round_down(1.0, 2f64.powi(-60)), next_down(1.0));
    }

    #[test]
    fn floor_scaled_is_exact() {
        assert_eq!(floor_scaled(0.75, 2), Some(3));
        assert_eq!(floor_scaled(0.1, 0), Some(0));
        assert_eq!(floor_scaled(0.1, 10), Some(102));
        assert_eq!(floor_scaled(3.0, 0), Some(3));
        assert_eq!(floor_scaled(1e300, 0), None);
        let (m, e) = decompose(0.1).unwrap();
        assert_eq!(m as f64 * 2f64.powi(e), 0.1);
    }
}
