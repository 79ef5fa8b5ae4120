//! Privacy parameters and exact noise parameters.
//!
//! Each type can only hold a valid value (parse, don't validate) and none has a `Default`: the
//! caller always states the budget.

use crate::error::{Error, Result};
use crate::float::add_round_up;

/// The privacy-loss parameter ε of pure or approximate differential privacy: finite and > 0.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Epsilon(f64);

impl Epsilon {
    /// Parses ε; rejects NaN, infinities, zero and negative values.
    pub fn new(value: f64) -> Result<Self> {
        if value.is_finite() && value > 0.0 {
            Ok(Self(value))
        } else {
            Err(Error::InvalidEpsilon { value })
        }
    }

    /// The value of ε.
    pub fn get(self) -> f64 {
        self.0
    }

    /// The zCDP cost of an ε-DP mechanism, ρ = ε²/2 (Bun & Steinke 2016, Prop. 1.4), rounded up.
    pub fn pure_dp_to_rho(self) -> Result<Rho> {
        Rho::new(crate::float::next_up(self.0 * self.0 / 2.0))
    }
}

impl TryFrom<f64> for Epsilon {
    type Error = Error;
    fn try_from(value: f64) -> Result<Self> {
        Self::new(value)
    }
}

/// The failure probability δ of approximate differential privacy: in the open interval (0, 1).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Delta(f64);

impl Delta {
    /// Parses δ; rejects NaN and values outside (0, 1).
    pub fn new(value: f64) -> Result<Self> {
        if value > 0.0 && value < 1.0 {
            Ok(Self(value))
        } else {
            Err(Error::InvalidDelta { value })
        }
    }

    /// The value of δ.
    pub fn get(self) -> f64 {
        self.0
    }
}

impl TryFrom<f64> for Delta {
    type Error = Error;
    fn try_from(value: f64) -> Result<Self> {
        Self::new(value)
    }
}

/// The privacy-loss parameter ρ of zero-concentrated differential privacy (Bun & Steinke 2016):
/// finite and > 0. Ledger balances, which can be zero, are plain `f64` in the [`crate::Accountant`].
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Rho(f64);

impl Rho {
    /// Parses ρ; rejects NaN, infinities, zero and negative values.
    pub fn new(value: f64) -> Result<Self> {
        if value.is_finite() && value > 0.0 {
            Ok(Self(value))
        } else {
            Err(Error::InvalidRho { value })
        }
    }

    /// The value of ρ.
    pub fn get(self) -> f64 {
        self.0
    }

    /// Sequential composition: a ρ₁-zCDP and a ρ₂-zCDP mechanism together are (ρ₁+ρ₂)-zCDP
    /// (Bun & Steinke 2016, composition of zCDP). The sum is rounded up, never down.
    pub fn compose(self, other: Rho) -> Result<Rho> {
        Rho::new(add_round_up(self.0, other.0))
    }
}

impl TryFrom<f64> for Rho {
    type Error = Error;
    fn try_from(value: f64) -> Result<Self> {
        Self::new(value)
    }
}

/// A positive exact rational `num/den`, stored in lowest terms, with `num` and `den` in
/// `[1, Rational::MAX_TERM]`. Noise scales are given to the samplers in this form so that no
/// floating-point number touches the noise. The bound keeps every intermediate product of the
/// samplers inside `u128` (see `sample.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rational {
    num: u64,
    den: u64,
}

impl Rational {
    /// The largest numerator or denominator accepted: 2⁴⁸.
    pub const MAX_TERM: u64 = 1 << 48;

    /// Builds `num/den` in lowest terms; both must be in `[1, MAX_TERM]`.
    pub fn new(num: u64, den: u64) -> Result<Self> {
        let max = Self::MAX_TERM;
        if num == 0 || den == 0 || num > max || den > max {
            return Err(Error::InvalidRational { num, den, max });
        }
        let g = gcd(num, den);
        Ok(Self {
            num: num / g,
            den: den / g,
        })
    }

    /// The whole number `n` as a rational.
    pub fn integer(n: u64) -> Result<Self> {
        Self::new(n, 1)
    }

    /// The numerator (lowest terms).
    pub fn num(self) -> u64 {
        self.num
    }

    /// The denominator (lowest terms).
    pub fn den(self) -> u64 {
        self.den
    }

    /// The nearest `f64`, for reporting only.
    pub fn to_f64(self) -> f64 {
        self.num as f64 / self.den as f64
    }
}

impl std::fmt::Display for Rational {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.num, self.den)
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_reject_invalid_values() {
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert!(Epsilon::new(bad).is_err(), "{bad}");
            assert!(Rho::new(bad).is_err(), "{bad}");
        }
        for bad in [0.0, 1.0, -0.5, 1.5, f64::NAN] {
            assert!(Delta::new(bad).is_err(), "{bad}");
        }
        assert_eq!(Epsilon::try_from(0.5).map(Epsilon::get), Ok(0.5));
        assert_eq!(Delta::try_from(1e-6).map(Delta::get), Ok(1e-6));
    }

    #[test]
    fn rational_is_reduced_and_bounded() {
        let r = Rational::new(6, 4).unwrap();
        assert_eq!((r.num(), r.den()), (3, 2));
        assert!(Rational::new(0, 1).is_err());
        assert!(Rational::new(1, 0).is_err());
        assert!(Rational::new(Rational::MAX_TERM + 1, 1).is_err());
        assert!(Rational::new(Rational::MAX_TERM, Rational::MAX_TERM).is_ok());
    }

    #[test]
    fn composition_never_rounds_down() {
        let a = Rho::new(0.1).unwrap();
        let b = Rho::new(0.2).unwrap();
        let c = a.compose(b).unwrap().get();
        // 0.1 + 0.2 rounds to 0.30000000000000004 in f64; the exact sum of the two doubles is
        // below that, so round-to-nearest is already an upper bound here.
        assert!(c >= 0.1 + 0.2);
        assert_eq!(
            Rho::new(0.5).unwrap().compose(Rho::new(0.5).unwrap()).unwrap().get(),
            1.0
        );
    }
}
