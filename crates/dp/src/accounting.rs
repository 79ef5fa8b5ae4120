//! zCDP accounting: conversions between ρ-zCDP and (ε, δ)-DP, and the budget [`Accountant`].
//!
//! Everything rounds against us: reported ε is at least the true value, ρ allowed for a target
//! (ε, δ) at most the true value, and the accountant never lets the exact sum of its charges
//! exceed its total.

use crate::error::{Error, Result};
use crate::float::{add_round_up, next_up, sub_round_down, two_sum};
use crate::params::{Delta, Epsilon, Rho};

/// ε(α) of the CKS20 conversion at α = 1 + β, and a bound on its floating-point error:
///
/// ε(α) = αρ + (ln(1/δ) + (α−1)·ln(1 − 1/α) − ln α)/(α − 1)
///      = (1+β)ρ + ln(1/δ)/β − ln(1 + 1/β) − ln(1+β)/β.
fn eps_at(beta: f64, rho: f64, log_inv_delta: f64) -> (f64, f64) {
    let terms = [
        (1.0 + beta) * rho,
        log_inv_delta / beta,
        -(1.0 / beta).ln_1p(),
        -beta.ln_1p() / beta,
    ];
    let value: f64 = terms.iter().sum();
    // Each term is within a few ulps; four additions add at most four more.
    let error = 16.0 * f64::EPSILON * terms.iter().map(|t| t.abs()).sum::<f64>();
    (value, error)
}

/// An upper bound on inf over α > 1 of ε(α), as an `f64` (may be ≤ 0 for very small ρ).
fn eps_upper(rho: f64, delta: f64) -> f64 {
    let log_inv_delta = -delta.ln();
    let eval = |log_beta: f64| {
        let (value, error) = eps_at(log_beta.exp(), rho, log_inv_delta);
        value + error
    };
    // Coarse scan of ln β over [−30, 60], then golden-section search around the best point.
    // Any α gives a valid ε, so the search only affects tightness, never soundness.
    let (lo_end, hi_end, steps) = (-30.0f64, 60.0f64, 360);
    let step = (hi_end - lo_end) / f64::from(steps);
    let mut best = (lo_end, eval(lo_end));
    for i in 1..=steps {
        let x = lo_end + step * f64::from(i);
        let value = eval(x);
        if value < best.1 {
            best = (x, value);
        }
    }
    let (mut a, mut b) = (best.0 - step, best.0 + step);
    let inv_phi = (5f64.sqrt() - 1.0) / 2.0;
    let mut c = b - inv_phi * (b - a);
    let mut d = a + inv_phi * (b - a);
    let (mut fc, mut fd) = (eval(c), eval(d));
    for _ in 0..200 {
        if fc < fd {
            (b, d, fd) = (d, c, fc);
            c = b - inv_phi * (b - a);
            fc = eval(c);
        } else {
            (a, c, fc) = (c, d, fd);
            d = a + inv_phi * (b - a);
            fd = eval(d);
        }
    }
    next_up(best.1.min(fc).min(fd))
}

/// The ε for which ρ-zCDP implies (ε, δ)-DP, by the conversion of Canonne, Kamath & Steinke
/// 2020 (Proposition 12 / Corollary 13; also Asoodeh et al. 2021):
///
/// δ = inf over α > 1 of exp((α−1)(αρ−ε))/(α−1) · (1 − 1/α)^α,
///
/// solved for ε at each α and minimised numerically over α. Every α yields a valid ε, the value
/// is evaluated with an explicit floating-point error bound added, so the result is never below
/// the true infimum. If that infimum is ≤ 0, ρ-zCDP already implies (0, δ)-DP and the smallest
/// positive `f64` is returned.
pub fn eps_from_rho_delta(rho: Rho, delta: Delta) -> Result<Epsilon> {
    let eps = eps_upper(rho.get(), delta.get());
    if !eps.is_finite() {
        return Err(Error::Conversion {
            what: "rho to epsilon",
            reason: "epsilon is not finite",
        });
    }
    Epsilon::new(eps.max(f64::MIN_POSITIVE))
}

/// The largest ρ (up to bisection precision, from below) such that ρ-zCDP implies (ε, δ)-DP
/// under [`eps_from_rho_delta`]: the returned ρ always satisfies
/// `eps_from_rho_delta(ρ, δ) ≤ ε`, so it is never more than the conversion allows.
pub fn rho_from_eps_delta(epsilon: Epsilon, delta: Delta) -> Result<Rho> {
    let (eps, delta) = (epsilon.get(), delta.get());
    let feasible = |rho: f64| eps_upper(rho, delta) <= eps;
    let fail = |reason| Error::Conversion {
        what: "epsilon and delta to rho",
        reason,
    };
    // Start from Bun & Steinke's ρ + 2√(ρ ln(1/δ)) = ε, which the CKS20 bound improves on.
    let log_inv_delta = -delta.ln();
    let root = log_inv_delta.sqrt() + (log_inv_delta + eps).sqrt();
    let mut lo = (eps / root) * (eps / root);
    while !feasible(lo) {
        lo /= 2.0;
        if lo <= 0.0 {
            return Err(fail("no positive rho meets the target"));
        }
    }
    let mut hi = lo * 2.0;
    while feasible(hi) {
        hi *= 2.0;
        if !hi.is_finite() {
            return Err(fail("rho is unbounded"));
        }
    }
    for _ in 0..200 {
        let mid = lo + (hi - lo) / 2.0;
        if mid <= lo || mid >= hi {
            break;
        }
        if feasible(mid) { lo = mid } else { hi = mid }
    }
    Rho::new(lo)
}

/// One charge in the ledger: what was released and its zCDP cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Charge {
    /// What the budget was spent on, as the caller described it.
    pub what: String,
    /// The zCDP cost.
    pub rho: Rho,
}

/// A zCDP budget: a total ρ and a ledger of charges whose sum never exceeds it.
///
/// Composition is additive (Bun & Steinke 2016, composition of zCDP). The running sum is kept as an `f64`
/// upper bound on the exact real sum of the charges (rounded up with TwoSum when inexact), and a
/// charge is accepted only if the exact real sum of that bound and the charge is ≤ the total.
/// So the invariant "exact sum of charges ≤ total" holds with no floating-point slack; the only
/// slack (the upward rounding of the running sum) can make the accountant refuse, never accept.
#[derive(Debug, Clone, PartialEq)]
pub struct Accountant {
    total: Rho,
    spent: f64,
    ledger: Vec<Charge>,
}

impl Accountant {
    /// An accountant with nothing spent.
    pub fn new(total: Rho) -> Self {
        Self {
            total,
            spent: 0.0,
            ledger: Vec::new(),
        }
    }

    /// Charges `rho` for `what`, or refuses with [`Error::BudgetExceeded`] and changes nothing.
    pub fn spend(&mut self, rho: Rho, what: &str) -> Result<()> {
        let total = self.total.get();
        let (sum, error) = two_sum(self.spent, rho.get());
        let within = sum.is_finite() && (sum < total || (sum == total && error <= 0.0));
        if !within {
            return Err(Error::BudgetExceeded {
                requested: rho.get(),
                remaining: self.remaining(),
            });
        }
        // If error > 0 then sum < exact ≤ total, so next_up(sum) ≤ total.
        self.spent = add_round_up(self.spent, rho.get());
        self.ledger.push(Charge {
            what: what.to_owned(),
            rho,
        });
        Ok(())
    }

    /// The total budget.
    pub fn total(&self) -> Rho {
        self.total
    }

    /// An upper bound on the sum of the charges (exact unless a sum was inexact), ≤ total.
    pub fn spent(&self) -> f64 {
        self.spent
    }

    /// A lower bound on what can still be spent, ≥ 0: a charge of exactly this much is accepted.
    pub fn remaining(&self) -> f64 {
        sub_round_down(self.total.get(), self.spent).max(0.0)
    }

    /// The charges, in order.
    pub fn ledger(&self) -> &[Charge] {
        &self.ledger
    }
}
