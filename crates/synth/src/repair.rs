//! Repairing records that break clinical rules by constrained Gibbs sampling under the model.
//!
//! A record drawn from the graphical model that breaks a rule is not thrown away at once: for a
//! few sweeps, each attribute of a broken rule is redrawn from the model's full conditional
//! p(xₐ | x₋ₐ) ∝ exp Σ_{c ∋ a} θ_c(x_c), restricted to the values that make every rule over that
//! attribute hold given the rest of the record (when no value does, from the unrestricted
//! conditional, to move on). Once a record satisfies the rules, further constrained Gibbs steps
//! would keep it inside the rule-satisfying set with the model's conditionals, so repaired
//! records are drawn approximately from the model conditioned on the rules — the target of
//! rejection sampling, reached with far fewer draws when rules are many and the model is noisy
//! (small data, small ε). All of this is post-processing of released quantities.

use crate::Result;
use crate::sample::Compression;
use pgm::CliqueVector;
use rand::{Rng, RngExt};
use table::encode::Domain;
use table::{Dictionary, Value};

/// One potential: its attributes, row-major strides and log-values.
struct Potential {
    attrs: Vec<usize>,
    strides: Vec<usize>,
    log_values: Vec<f64>,
}

/// The model's potentials indexed by attribute, for full conditionals.
pub struct Conditionals {
    potentials: Vec<Potential>,
    /// For each attribute, the potentials that contain it.
    by_attr: Vec<Vec<usize>>,
    sizes: Vec<usize>,
}

impl Conditionals {
    /// From the model's potentials over attributes of `sizes` (codes of the model's domain).
    pub fn new(potentials: &CliqueVector, sizes: &[usize]) -> Conditionals {
        let mut out = Vec::new();
        let mut by_attr = vec![Vec::new(); sizes.len()];
        for f in potentials.factors() {
            let attrs = f.clique().attrs().to_vec();
            let mut strides = vec![1; attrs.len()];
            for k in (0..attrs.len().saturating_sub(1)).rev() {
                strides[k] = strides[k + 1] * sizes[attrs[k + 1]];
            }
            for &a in &attrs {
                by_attr[a].push(out.len());
            }
            out.push(Potential {
                attrs,
                strides,
                log_values: f.log_values().to_vec(),
            });
        }
        Conditionals {
            potentials: out,
            by_attr,
            sizes: sizes.to_vec(),
        }
    }

    /// Unnormalised log-probabilities of every value of `attr` given the other codes.
    fn logits(&self, attr: usize, codes: &[u32], out: &mut Vec<f64>) {
        out.clear();
        out.resize(self.sizes[attr], 0.0);
        for &p in &self.by_attr[attr] {
            let pot = &self.potentials[p];
            let mut base = 0;
            let mut stride = 0;
            for (k, &a) in pot.attrs.iter().enumerate() {
                if a == attr {
                    stride = pot.strides[k];
                } else {
                    base += codes[a] as usize * pot.strides[k];
                }
            }
            for (v, o) in out.iter_mut().enumerate() {
                *o += pot.log_values[base + v * stride];
            }
        }
    }
}

/// Draws an index with probability ∝ exp(logits[i]) among `allowed` (all when empty).
fn draw(logits: &[f64], allowed: &[usize], rng: &mut (impl Rng + ?Sized)) -> Option<usize> {
    let pool: Vec<usize> = if allowed.is_empty() {
        (0..logits.len()).collect()
    } else {
        allowed.to_vec()
    };
    let max = pool.iter().map(|&i| logits[i]).fold(f64::NEG_INFINITY, f64::max);
    if !max.is_finite() {
        return None;
    }
    let weights: Vec<f64> = pool.iter().map(|&i| (logits[i] - max).exp()).collect();
    let total: f64 = weights.iter().sum();
    let mut u = rng.random::<f64>() * total;
    for (i, w) in pool.iter().zip(&weights) {
        if u < *w {
            return Some(*i);
        }
        u -= w;
    }
    pool.last().copied()
}

/// The record being repaired: model codes, their expansion and the decoded row.
pub struct Record<'a> {
    pub codes: &'a mut [u32],
    pub row: &'a mut [Value],
}

/// Tries to make `record` satisfy every rule of `dictionary` within `sweeps` sweeps.
/// Model codes are expanded to domain codes through `compression` (MST's merging).
pub fn repair(
    conditionals: &Conditionals,
    dictionary: &Dictionary,
    domain: &Domain,
    record: Record<'_>,
    sweeps: usize,
    compression: &Compression,
    rng: &mut (impl Rng + ?Sized),
) -> Result<bool> {
    let column_attr: Vec<Option<usize>> = {
        let mut m = vec![None; dictionary.columns.len()];
        for (a, attr) in domain.attributes().iter().enumerate() {
            m[attr.column_index()] = Some(a);
        }
        m
    };
    let mut logits = Vec::new();
    for _ in 0..sweeps {
        let broken: Vec<usize> = (0..dictionary.rules.len())
            .filter(|&r| !dictionary.rules[r].holds(record.row))
            .collect();
        if broken.is_empty() {
            return Ok(true);
        }
        let mut attrs: Vec<usize> = broken
            .iter()
            .flat_map(|&r| dictionary.rules[r].columns().iter().filter_map(|&c| column_attr[c]))
            .collect();
        attrs.sort_unstable();
        attrs.dedup();
        // Visit in random order.
        for i in (1..attrs.len()).rev() {
            attrs.swap(i, rng.random_range(0..=i));
        }
        for &a in &attrs {
            let column = domain.attributes()[a].column_index();
            let rules: Vec<usize> = (0..dictionary.rules.len())
                .filter(|&r| dictionary.rules[r].columns().contains(&column))
                .collect();
            conditionals.logits(a, record.codes, &mut logits);
            let original = record.row[column].clone();
            let mut allowed = Vec::new();
            let mut values = Vec::with_capacity(logits.len());
            for (v, logit) in logits.iter().enumerate() {
                let code = compression.expand(a, v as u32, rng)?;
                let value = domain.decode_code(a, code, rng)?;
                record.row[column] = value.clone();
                if logit.is_finite() && rules.iter().all(|&r| dictionary.rules[r].holds(record.row)) {
                    allowed.push(v);
                }
                values.push(value);
            }
            match draw(&logits, &allowed, rng) {
                Some(v) => {
                    record.codes[a] = v as u32;
                    record.row[column] = values[v].clone();
                }
                None => record.row[column] = original,
            }
        }
    }
    Ok(dictionary.rules.iter().all(|r| r.holds(record.row)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pgm::{Clique, Factor};

    #[test]
    fn conditionals_match_brute_force() {
        // Two overlapping potentials over three attributes of sizes 2, 3, 2.
        let sizes = [2usize, 3, 2];
        let domain = pgm::Domain::new(sizes.to_vec()).unwrap();
        let f01: Vec<f64> = (0..6).map(|i| (i as f64 * 0.37).sin()).collect();
        let f12: Vec<f64> = (0..6).map(|i| (i as f64 * 0.91).cos()).collect();
        let mut cv = CliqueVector::new();
        cv.insert(Factor::new(&domain, Clique::new([0, 1]), f01.clone()).unwrap());
        cv.insert(Factor::new(&domain, Clique::new([1, 2]), f12.clone()).unwrap());
        let c = Conditionals::new(&cv, &sizes);
        let joint = |x: [usize; 3]| f01[x[0] * 3 + x[1]] + f12[x[1] * 2 + x[2]];
        let mut out = Vec::new();
        for x0 in 0..2 {
            for x2 in 0..2 {
                c.logits(1, &[x0 as u32, 0, x2 as u32], &mut out);
                for v in 0..3 {
                    // Differences of logits equal differences of the joint log-potential.
                    let expected = joint([x0, v, x2]) - joint([x0, 0, x2]);
                    assert!((out[v] - out[0] - expected).abs() < 1e-12);
                }
            }
        }
    }

    #[test]
    fn draw_respects_the_allowed_set() {
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let logits = [0.0, 5.0, 0.0];
        for _ in 0..100 {
            let v = draw(&logits, &[0, 2], &mut rng).unwrap();
            assert!(v == 0 || v == 2);
        }
        assert_eq!(draw(&[f64::NEG_INFINITY; 2], &[], &mut rng), None);
    }
}
