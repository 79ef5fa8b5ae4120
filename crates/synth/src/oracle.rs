//! The measurement oracle: the only way a synthesizer asks questions of private data.
//!
//! A synthesizer of the select–measure–generate family asks two kinds of question:
//! *measure* (the counts of a marginal, with Gaussian noise) and *select* (which of several
//! candidate marginals the current model approximates worst, chosen privately). Both are charged
//! to a zCDP budget. [`CentralOracle`] answers from a local table; the federated oracle answers
//! by secure aggregation across sites, and the synthesizers do not change.

use crate::{Error, Result};
use dp::{Accountant, Epsilon, ExponentialMechanism, GaussianMechanism, Rho};
use rand::CryptoRng;
use std::collections::HashMap;
use table::encode::Encoded;

/// A noisy marginal released by [`MeasurementOracle::measure`].
#[derive(Debug, Clone, PartialEq)]
pub struct NoisyMarginal {
    /// The attributes, in the order of the table's axes (row-major, the last varies fastest).
    pub attrs: Vec<usize>,
    /// Noisy counts (exact integer counts plus discrete Gaussian noise).
    pub values: Vec<i64>,
    /// Standard deviation of the noise on each count.
    pub sigma: f64,
    /// The zCDP cost charged.
    pub rho: Rho,
}

/// One candidate marginal for [`MeasurementOracle::select`]. Its quality score is
/// `weight · (‖x − model‖₁ − penalty)` where `x` is the true marginal: the model's expected
/// counts, the weight and the penalty are public.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    pub attrs: &'a [usize],
    /// The current model's expected counts over `attrs` (same layout as the true marginal).
    pub model: &'a [f64],
    /// Non-negative weight; the score's sensitivity is the largest weight.
    pub weight: f64,
    /// Subtracted before weighting (AIM's expected-noise bias correction).
    pub penalty: f64,
}

/// The seam between synthesizers and data (see the module documentation).
pub trait MeasurementOracle {
    /// Current number of codes of every attribute (after [`MeasurementOracle::compress`]).
    fn sizes(&self) -> Vec<usize>;

    /// Merges codes of attributes by a public map: `maps[a] = Some(m)` sends code `c` of
    /// attribute `a` to `m[c]`; later marginals are over the merged codes. Free (public
    /// post-processing of released values).
    fn compress(&mut self, maps: &[Option<Vec<u32>>]) -> Result<()>;

    /// The counts of the marginal over `attrs` with discrete Gaussian noise calibrated to zCDP
    /// cost at most `rho` (one record changes one count by one: L2 sensitivity 1), charged.
    fn measure(&mut self, attrs: &[usize], rho: Rho, what: &str) -> Result<NoisyMarginal>;

    /// The marginals over `cliques`, each as [`MeasurementOracle::measure`] would release it at
    /// cost `rho_each` (so k cliques cost k·`rho_each` in all), in order.
    ///
    /// The default measures the cliques one by one, each charge labelled `what` followed by
    /// the clique (its attribute alone if it has one, else the list: `"… marginal 3"`,
    /// `"… marginal [0, 2]"`), so an oracle that does not override it behaves exactly as k
    /// calls of `measure`. An oracle may override it to answer all of them at once (e.g. in
    /// one secure-aggregation round) if each released marginal has the noise of a separate
    /// measurement at `rho_each` and the whole release costs at most k·`rho_each` (zCDP
    /// composition: a Gaussian mechanism of L2 sensitivity √k on the concatenation).
    fn measure_many(&mut self, cliques: &[Vec<usize>], rho_each: Rho, what: &str) -> Result<Vec<NoisyMarginal>> {
        cliques
            .iter()
            .map(|c| self.measure(c, rho_each, &clique_label(what, c)))
            .collect()
    }

    /// The index of a candidate chosen by the exponential mechanism with parameter `epsilon`
    /// on the candidates' scores (ε-DP, ε²/8-zCDP), charged.
    fn select(&mut self, candidates: &[Candidate<'_>], epsilon: Epsilon, what: &str) -> Result<usize>;

    /// The budget: total, spent and the ledger of charges.
    fn accountant(&self) -> &Accountant;
}

/// The ledger label of one clique of a [`MeasurementOracle::measure_many`] call: `what`, then
/// the attribute (one) or the list of attributes (several).
pub fn clique_label(what: &str, clique: &[usize]) -> String {
    match clique {
        [a] => format!("{what} {a}"),
        _ => format!("{what} {clique:?}"),
    }
}

/// Score resolution of [`MeasurementOracle::select`]: scores are quantised to 1/`RESOLUTION` of
/// their sensitivity before the exact exponential mechanism.
pub const RESOLUTION: f64 = 1024.0;

/// Answers from a local encoded table.
pub struct CentralOracle<R> {
    data: Encoded,
    maps: Vec<Option<Vec<u32>>>,
    sizes: Vec<usize>,
    accountant: Accountant,
    rng: R,
    /// Exact marginals already counted (private; never leaves the oracle).
    cache: HashMap<Vec<usize>, Vec<u64>>,
}

impl<R: CryptoRng> CentralOracle<R> {
    /// An oracle over `data` with a total budget of `budget`.
    pub fn new(data: Encoded, budget: Rho, rng: R) -> CentralOracle<R> {
        let sizes = data.domain().sizes();
        CentralOracle {
            maps: vec![None; sizes.len()],
            data,
            sizes,
            accountant: Accountant::new(budget),
            rng,
            cache: HashMap::new(),
        }
    }

    /// The exact marginal over `attrs` in current (compressed) codes, counted once and cached.
    fn exact(&mut self, attrs: &[usize]) -> Result<&[u64]> {
        if !self.cache.contains_key(attrs) {
            let counts = self.count(attrs)?;
            self.cache.insert(attrs.to_vec(), counts);
        }
        Ok(&self.cache[attrs])
    }

    fn count(&self, attrs: &[usize]) -> Result<Vec<u64>> {
        let raw = self.data.marginal(attrs)?;
        let counts = if attrs.iter().all(|&a| self.maps[a].is_none()) {
            raw.counts
        } else {
            let shape: Vec<usize> = attrs.iter().map(|&a| self.sizes[a]).collect();
            let mut out = vec![0u64; shape.iter().product()];
            let mut idx = vec![0usize; attrs.len()];
            for &count in &raw.counts {
                let mut cell = 0;
                for (k, &a) in attrs.iter().enumerate() {
                    let c = self.maps[a].as_ref().map_or(idx[k], |m| m[idx[k]] as usize);
                    cell = cell * shape[k] + c;
                }
                out[cell] += count;
                for k in (0..attrs.len()).rev() {
                    idx[k] += 1;
                    if idx[k] < raw.shape[k] {
                        break;
                    }
                    idx[k] = 0;
                }
            }
            out
        };
        Ok(counts)
    }
}

fn check_attrs(attrs: &[usize], sizes: &[usize]) -> Result<()> {
    for (k, &a) in attrs.iter().enumerate() {
        if a >= sizes.len() || attrs[..k].contains(&a) {
            return Err(Error::Input(format!(
                "attributes {attrs:?} are not distinct attributes of the domain"
            )));
        }
    }
    Ok(())
}

impl<R: CryptoRng> MeasurementOracle for CentralOracle<R> {
    fn sizes(&self) -> Vec<usize> {
        self.sizes.clone()
    }

    fn compress(&mut self, maps: &[Option<Vec<u32>>]) -> Result<()> {
        if maps.len() != self.sizes.len() {
            return Err(Error::Input(format!(
                "{} compression maps for {} attributes",
                maps.len(),
                self.sizes.len()
            )));
        }
        let original = self.data.domain().sizes();
        for (a, map) in maps.iter().enumerate() {
            if let Some(m) = map {
                let size = m.iter().max().map_or(0, |x| *x as usize + 1);
                if m.len() != original[a] || size == 0 {
                    return Err(Error::Input(format!(
                        "compression map of attribute {a} does not cover its codes"
                    )));
                }
                self.sizes[a] = size;
            } else {
                self.sizes[a] = original[a];
            }
        }
        self.maps = maps.to_vec();
        self.cache.clear();
        Ok(())
    }

    fn measure(&mut self, attrs: &[usize], rho: Rho, what: &str) -> Result<NoisyMarginal> {
        check_attrs(attrs, &self.sizes)?;
        let mechanism = GaussianMechanism::new(rho, 1)?;
        // Charge first: a refused charge releases nothing.
        self.accountant.spend(mechanism.rho(), what)?;
        let exact = self.exact(attrs)?;
        let counts: Vec<i64> = exact.iter().map(|&c| i64::try_from(c).unwrap_or(i64::MAX)).collect();
        let values = mechanism.apply(&counts, &mut self.rng)?;
        Ok(NoisyMarginal {
            attrs: attrs.to_vec(),
            values,
            sigma: mechanism.sigma(),
            rho: mechanism.rho(),
        })
    }

    fn select(&mut self, candidates: &[Candidate<'_>], epsilon: Epsilon, what: &str) -> Result<usize> {
        if candidates.is_empty() {
            return Err(Error::Input("no candidate to select from".into()));
        }
        // The sensitivity claim below needs every weight in [0, max_weight] (review finding S1).
        if candidates
            .iter()
            .any(|c| !(c.weight.is_finite() && c.weight >= 0.0 && c.penalty.is_finite()))
        {
            return Err(Error::Input(
                "candidate weights must be finite and non-negative, penalties finite".into(),
            ));
        }
        let max_weight = candidates.iter().map(|c| c.weight).fold(0.0, f64::max);
        if max_weight <= 0.0 {
            return Err(Error::Input("candidate weights must not all be zero".into()));
        }
        // Quantised score q = ⌊score · RESOLUTION / max_weight⌋: one record moves a score by at
        // most max_weight, so q by at most RESOLUTION + 1 (the floor adds at most one); one more
        // unit covers floating-point rounding in the L1 sums, so the claimed sensitivity is
        // RESOLUTION + 2.
        let scale = RESOLUTION / max_weight;
        let mechanism = ExponentialMechanism::new(epsilon, RESOLUTION as u64 + 2)?;
        let rho = mechanism.rho()?;
        let mut scores = Vec::with_capacity(candidates.len());
        for c in candidates {
            check_attrs(c.attrs, &self.sizes)?;
            let exact = self.exact(c.attrs)?;
            if exact.len() != c.model.len() {
                return Err(Error::Input(format!(
                    "model marginal over {:?} has the wrong size",
                    c.attrs
                )));
            }
            let l1: f64 = exact.iter().zip(c.model).map(|(&x, &m)| (x as f64 - m).abs()).sum();
            let q = (c.weight * (l1 - c.penalty) * scale).floor();
            scores.push(q.clamp(-9.0e15, 9.0e15) as i64);
        }
        self.accountant.spend(rho, what)?;
        Ok(mechanism.select(&scores, &mut self.rng)?)
    }

    fn accountant(&self) -> &Accountant {
        &self.accountant
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use std::sync::Arc;
    use table::encode::{Domain, EncodeOptions};
    use table::{Dictionary, Table, Value};

    fn oracle() -> CentralOracle<rand_chacha::ChaCha20Rng> {
        let dict = Arc::new(
            Dictionary::from_toml(
                "format_version = 1\nname = \"t\"\n[[column]]\nname = \"a\"\ntype = \"boolean\"\n\
                 [[column]]\nname = \"b\"\ntype = \"categorical\"\nlevels = [\"x\", \"y\", \"z\"]\n",
                "t",
            )
            .unwrap(),
        );
        let mut t = Table::new(dict.clone());
        for i in 0..30 {
            t.push_row(vec![
                Value::Bool(i % 2 == 0),
                Value::Text(["x", "y", "z"][i % 3].into()),
            ])
            .unwrap();
        }
        let domain = Domain::from_dictionary(&dict, &EncodeOptions::default()).unwrap();
        let rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
        CentralOracle::new(domain.encode(&t).unwrap(), Rho::new(1.0).unwrap(), rng)
    }

    #[test]
    fn measurements_are_charged_and_exact_plus_noise() {
        let mut o = oracle();
        let m = o.measure(&[0, 1], Rho::new(0.25).unwrap(), "pair").unwrap();
        assert_eq!(m.values.len(), 6);
        assert!((o.accountant().spent() - m.rho.get()).abs() < 1e-15);
        assert!(m.rho.get() <= 0.25);
        // Overspending is refused and releases nothing.
        assert!(o.measure(&[0], Rho::new(0.9).unwrap(), "too much").is_err());
        assert!((o.accountant().spent() - m.rho.get()).abs() < 1e-15);
    }

    #[test]
    fn measure_many_by_default_is_the_sequence_of_measurements() {
        // Same seed, same data: the default `measure_many` releases exactly what k calls of
        // `measure` release (same noise draws, in order) and leaves the same ledger.
        let rho = Rho::new(0.1).unwrap();
        let cliques = vec![vec![0], vec![1], vec![0, 1]];
        let mut batched = oracle();
        let many = batched.measure_many(&cliques, rho, "m").unwrap();
        let mut single = oracle();
        let one: Vec<NoisyMarginal> = cliques
            .iter()
            .zip(["m 0", "m 1", "m [0, 1]"])
            .map(|(c, what)| single.measure(c, rho, what).unwrap())
            .collect();
        assert_eq!(many, one);
        assert_eq!(batched.accountant(), single.accountant());
        let labels: Vec<&str> = batched.accountant().ledger().iter().map(|c| c.what.as_str()).collect();
        assert_eq!(labels, ["m 0", "m 1", "m [0, 1]"]);
        // Nothing to measure costs nothing.
        assert!(batched.measure_many(&[], rho, "none").unwrap().is_empty());
        assert_eq!(batched.accountant(), single.accountant());
    }

    #[test]
    fn mst_and_aim_keep_their_central_ledgers() {
        // One entry per marginal, labelled as before `measure_many` existed.
        let mut o = oracle();
        crate::mst::mst(&mut o, 20).unwrap();
        let labels: Vec<&str> = o.accountant().ledger().iter().map(|c| c.what.as_str()).collect();
        assert_eq!(
            labels,
            [
                "MST one-way marginal 0",
                "MST one-way marginal 1",
                "MST edge 1",
                "MST two-way marginal [0, 1]"
            ]
        );
        assert!(o.accountant().spent() <= 1.0 && o.accountant().spent() > 0.999);
        let mut o = oracle();
        let mut options = crate::aim::AimOptions::all_k_way(2, 2);
        options.rounds = Some(4);
        options.round_iters = 20;
        options.final_iters = 20;
        crate::aim::aim(&mut o, &options).unwrap();
        let ledger = o.accountant().ledger();
        assert_eq!(ledger[0].what, "AIM one-way marginal 0");
        assert_eq!(ledger[1].what, "AIM one-way marginal 1");
        assert_eq!(ledger[0].rho, ledger[1].rho);
        assert!(ledger[2..].iter().all(|c| c.what.starts_with("AIM round")));
        assert!(o.accountant().spent() <= 1.0 && o.accountant().spent() > 0.999);
    }

    #[test]
    fn negative_or_non_finite_weights_are_refused_before_any_charge() {
        // Regression (review finding S1): the sensitivity claim assumes weights in [0, max].
        let mut o = oracle();
        let model = vec![5.0; 2];
        for weight in [-5.0, f64::NAN, f64::INFINITY] {
            let c = [
                Candidate {
                    attrs: &[0],
                    model: &model,
                    weight: 1.0,
                    penalty: 0.0,
                },
                Candidate {
                    attrs: &[0],
                    model: &model,
                    weight,
                    penalty: 0.0,
                },
            ];
            assert!(o.select(&c, Epsilon::new(1.0).unwrap(), "bad").is_err(), "{weight}");
        }
        assert_eq!(o.accountant().spent(), 0.0);
        let c = [Candidate {
            attrs: &[0],
            model: &model,
            weight: 1.0,
            penalty: 0.0,
        }];
        assert_eq!(o.select(&c, Epsilon::new(1.0).unwrap(), "ok").unwrap(), 0);
        assert!(o.accountant().spent() > 0.0);
    }
}
