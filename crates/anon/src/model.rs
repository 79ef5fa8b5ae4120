//! Equivalence classes of a lattice node and the privacy models evaluated on them:
//! k-anonymity, l-diversity (distinct, entropy, recursive (c,l); Machanavajjhala et al. 2007)
//! and t-closeness with the earth mover's distance (Li, Li & Venkatasubramanian 2007).

use crate::config::{Distance, LDiversity, Privacy};
use crate::hierarchy::Hierarchy;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Tolerance of the floating-point comparisons of entropy and EMD against their bounds.
const EPS: f64 = 1e-12;

/// One sensitive attribute encoded over the rows: codes in value order (for the ordered distance).
#[derive(Debug, Clone)]
pub(crate) struct SensitiveCodes {
    pub name: String,
    pub codes: Vec<u32>,
    /// Number of distinct values (missing counts as one value).
    pub m: usize,
    /// Distribution of the values over the whole input.
    pub global: Vec<f64>,
    pub distance: Distance,
}

impl SensitiveCodes {
    pub fn new(hierarchy: &Hierarchy, distance: Distance) -> SensitiveCodes {
        let codes = hierarchy.row_codes[0].clone();
        let m = hierarchy.cardinality(0);
        let mut global = vec![0.0; m];
        for &c in &codes {
            global[c as usize] += 1.0;
        }
        let n = codes.len().max(1) as f64;
        for g in &mut global {
            *g /= n;
        }
        SensitiveCodes {
            name: hierarchy.name.clone(),
            codes,
            m,
            global,
            distance,
        }
    }
}

/// The equivalence classes of a node: class id per row and class sizes.
pub(crate) struct Classes {
    pub class_of_row: Vec<u32>,
    pub sizes: Vec<u32>,
}

/// A small multiplicative hasher for `u64` keys (the packed QI codes).
#[derive(Default)]
pub(crate) struct PackedHasher(u64);

impl Hasher for PackedHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
    fn write_u64(&mut self, x: u64) {
        self.0 = (x ^ (x >> 29)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

type PackedMap = HashMap<u64, u32, BuildHasherDefault<PackedHasher>>;

/// Groups the rows by their generalised codes at `node` (one level per hierarchy).
pub(crate) fn classes(hierarchies: &[Hierarchy], node: &[usize]) -> Classes {
    let n = hierarchies.first().map_or(0, |h| h.row_codes[0].len());
    // Combine column by column: pack while the product of cardinalities fits in u64, then
    // re-index densely and continue.
    let mut key: Vec<u64> = vec![0; n];
    let mut radix: u64 = 1;
    for (h, &level) in hierarchies.iter().zip(node) {
        let card = h.cardinality(level) as u64;
        if card <= 1 {
            continue;
        }
        if radix.checked_mul(card).is_none() {
            radix = densify(&mut key);
        }
        let codes = &h.row_codes[level];
        for (k, &c) in key.iter_mut().zip(codes) {
            *k = *k * card + u64::from(c);
        }
        radix *= card;
    }
    let mut class_of_row = vec![0u32; n];
    let mut sizes: Vec<u32> = Vec::new();
    if radix <= (4 * n as u64).max(1 << 16) {
        let mut slot = vec![u32::MAX; radix as usize];
        for (row, &k) in key.iter().enumerate() {
            let s = &mut slot[k as usize];
            if *s == u32::MAX {
                *s = sizes.len() as u32;
                sizes.push(0);
            }
            sizes[*s as usize] += 1;
            class_of_row[row] = *s;
        }
    } else {
        let mut map = PackedMap::default();
        for (row, &k) in key.iter().enumerate() {
            let next = sizes.len() as u32;
            let c = *map.entry(k).or_insert(next);
            if c == next {
                sizes.push(0);
            }
            sizes[c as usize] += 1;
            class_of_row[row] = c;
        }
    }
    Classes { class_of_row, sizes }
}

/// Replaces keys by dense ids `0..d`; returns `d`.
fn densify(key: &mut [u64]) -> u64 {
    let mut map = PackedMap::default();
    for k in key.iter_mut() {
        let next = map.len() as u64;
        *k = *map.entry(*k).or_insert(next as u32) as u64;
    }
    map.len() as u64
}

/// What the sensitive attributes look like in one class.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ClassFigures {
    /// Fewest distinct sensitive values over the attributes.
    pub distinct: u32,
    /// Smallest exp(entropy) over the attributes.
    pub entropy_l: f64,
    /// Largest EMD to the global distribution over the attributes.
    pub emd: f64,
    /// Whether recursive (c,l)-diversity (if required) holds for every attribute.
    pub recursive_ok: bool,
}

/// Per class: sensitive figures (when there are sensitive attributes).
pub(crate) fn class_figures(classes: &Classes, sensitive: &[SensitiveCodes], privacy: &Privacy) -> Vec<ClassFigures> {
    let n_classes = classes.sizes.len();
    let mut figures = vec![
        ClassFigures {
            distinct: u32::MAX,
            entropy_l: f64::INFINITY,
            emd: 0.0,
            recursive_ok: true,
        };
        n_classes
    ];
    if sensitive.is_empty() {
        return figures;
    }
    // Rows ordered by class (counting sort).
    let mut start = vec![0usize; n_classes + 1];
    for (c, &s) in classes.sizes.iter().enumerate() {
        start[c + 1] = start[c] + s as usize;
    }
    let mut fill = start.clone();
    let mut order = vec![0u32; classes.class_of_row.len()];
    for (row, &c) in classes.class_of_row.iter().enumerate() {
        order[fill[c as usize]] = row as u32;
        fill[c as usize] += 1;
    }
    for sa in sensitive {
        let mut counts = vec![0u32; sa.m];
        let mut touched: Vec<u32> = Vec::new();
        for (c, fig) in figures.iter_mut().enumerate() {
            for &row in &order[start[c]..start[c + 1]] {
                let v = sa.codes[row as usize];
                if counts[v as usize] == 0 {
                    touched.push(v);
                }
                counts[v as usize] += 1;
            }
            let size = f64::from(classes.sizes[c]);
            let distinct = touched.len() as u32;
            let entropy: f64 = touched
                .iter()
                .map(|&v| {
                    let p = f64::from(counts[v as usize]) / size;
                    -p * p.ln()
                })
                .sum();
            let emd = match sa.distance {
                Distance::Equal => {
                    // ½ Σ |p − q| = ½ (Σ_touched |p − q| + Σ_untouched q).
                    let mut s = 0.0;
                    let mut q_touched = 0.0;
                    for &v in &touched {
                        let q = sa.global[v as usize];
                        s += (f64::from(counts[v as usize]) / size - q).abs();
                        q_touched += q;
                    }
                    0.5 * (s + (1.0 - q_touched).max(0.0))
                }
                Distance::Ordered => {
                    if sa.m < 2 {
                        0.0
                    } else {
                        let mut cum = 0.0;
                        let mut total = 0.0;
                        for (&count, &q) in counts.iter().zip(&sa.global) {
                            cum += f64::from(count) / size - q;
                            total += cum.abs();
                        }
                        total / (sa.m - 1) as f64
                    }
                }
            };
            let recursive_ok = match privacy.l_diversity {
                Some(LDiversity::Recursive { c, l }) => {
                    let mut r: Vec<u32> = touched.iter().map(|&v| counts[v as usize]).collect();
                    r.sort_unstable_by(|a, b| b.cmp(a));
                    let l = l as usize;
                    r.len() >= l && f64::from(r[0]) < c * r[l - 1..].iter().map(|&x| f64::from(x)).sum::<f64>()
                }
                _ => true,
            };
            fig.distinct = fig.distinct.min(distinct);
            fig.entropy_l = fig.entropy_l.min(entropy.exp());
            fig.emd = fig.emd.max(emd);
            fig.recursive_ok &= recursive_ok;
            for &v in &touched {
                counts[v as usize] = 0;
            }
            touched.clear();
        }
    }
    figures
}

/// Whether a class of `size` records with `fig` satisfies every model of `privacy`.
pub(crate) fn class_ok(size: u32, fig: &ClassFigures, privacy: &Privacy) -> bool {
    if size < privacy.k {
        return false;
    }
    let l_ok = match privacy.l_diversity {
        None => true,
        Some(LDiversity::Distinct { l }) => fig.distinct >= l,
        Some(LDiversity::Entropy { l }) => fig.entropy_l.ln() >= l.ln() - EPS,
        Some(LDiversity::Recursive { .. }) => fig.recursive_ok,
    };
    let t_ok = privacy.t_closeness.is_none_or(|t| fig.emd <= t + EPS);
    l_ok && t_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn salary_codes(values: &[u32], m: usize, distance: Distance) -> SensitiveCodes {
        let mut global = vec![0.0; m];
        for &v in values {
            global[v as usize] += 1.0 / values.len() as f64;
        }
        SensitiveCodes {
            name: "salary".into(),
            codes: values.to_vec(),
            m,
            global,
            distance,
        }
    }

    fn privacy(l: Option<LDiversity>) -> Privacy {
        Privacy {
            k: 1,
            l_diversity: l,
            t_closeness: None,
        }
    }

    /// Li, Li & Venkatasubramanian (2007), §4.2: salaries {3k … 11k}, P1 = {3k, 4k, 5k} is at
    /// ordered distance 0.375 from the whole, P2 = {6k, 8k, 11k} at 0.167.
    #[test]
    fn ordered_emd_matches_the_t_closeness_paper() {
        // Rows: salaries 3k..11k coded 0..8; classes P1 = {3,4,5}k, P2 = {6,8,11}k, rest = {7,9,10}k.
        let codes: Vec<u32> = (0..9).collect();
        let class_of_row = vec![0, 0, 0, 1, 2, 1, 2, 2, 1];
        let classes = Classes {
            class_of_row,
            sizes: vec![3, 3, 3],
        };
        let sa = salary_codes(&codes, 9, Distance::Ordered);
        let f = class_figures(&classes, &[sa], &privacy(None));
        assert!((f[0].emd - 0.375).abs() < 1e-12);
        assert!((f[1].emd - 1.0 / 6.0).abs() < 1e-12, "{}", f[1].emd);
        assert!((f[2].emd - 17.0 / 72.0).abs() < 1e-12);
        // Equal distance: a class holding a third of the values has EMD 2/3.
        let sa = salary_codes(&codes, 9, Distance::Equal);
        let f = class_figures(&classes, &[sa], &privacy(None));
        assert!((f[0].emd - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn l_diversity_variants_on_a_hand_computed_class() {
        // One class of 6: values a ×3, b ×2, c ×1.
        let codes = vec![0, 0, 0, 1, 1, 2];
        let classes = Classes {
            class_of_row: vec![0; 6],
            sizes: vec![6],
        };
        let sa = salary_codes(&codes, 3, Distance::Equal);
        // Recursive (c, l=2): r1 = 3 < c·(r2 + r3) = 3c holds for c = 1.5, not for c = 1.
        for (c, ok) in [(1.5, true), (1.0, false)] {
            let p = privacy(Some(LDiversity::Recursive { c, l: 2 }));
            let f = class_figures(&classes, std::slice::from_ref(&sa), &p);
            assert_eq!(f[0].recursive_ok, ok, "c = {c}");
            assert_eq!(class_ok(6, &f[0], &p), ok);
        }
        let p = privacy(Some(LDiversity::Distinct { l: 3 }));
        let f = class_figures(&classes, std::slice::from_ref(&sa), &p);
        assert_eq!(f[0].distinct, 3);
        // Entropy: H = −(½ ln ½ + ⅓ ln ⅓ + ⅙ ln ⅙) = 1.0114; exp(H) = 2.749.
        let h: f64 = -(0.5f64 * 0.5f64.ln() + (1.0 / 3.0) * (1.0f64 / 3.0).ln() + (1.0 / 6.0) * (1.0f64 / 6.0).ln());
        assert!((f[0].entropy_l - h.exp()).abs() < 1e-12);
        assert!(class_ok(6, &f[0], &privacy(Some(LDiversity::Entropy { l: 2.7 }))));
        assert!(!class_ok(6, &f[0], &privacy(Some(LDiversity::Entropy { l: 2.8 }))));
        assert!(!class_ok(6, &f[0], &privacy(Some(LDiversity::Distinct { l: 4 }))));
    }

    #[test]
    fn packed_and_densified_grouping_agree_with_a_reference() {
        use crate::config::HierarchySpec;
        use table::{Kind, Value};
        // Many QIs with many values: the packed key overflows u64 and is densified.
        let n = 500;
        let kind = Kind::Integer {
            unit: None,
            min: None,
            max: None,
            bins: vec![],
        };
        let hs: Vec<Hierarchy> = (0..8)
            .map(|q| {
                let values: Vec<Value> = (0..n)
                    .map(|r| Value::Int(((r * (q + 7) * 7919) % 2003) as i64 / 3))
                    .collect();
                Hierarchy::build(&format!("q{q}"), &kind, &HierarchySpec::Dictionary, &values).unwrap()
            })
            .collect();
        let node = vec![0; 8];
        let c = classes(&hs, &node);
        // Reference: group by the vector of codes.
        let mut reference: HashMap<Vec<u32>, u32> = HashMap::new();
        for r in 0..n {
            let key: Vec<u32> = hs.iter().map(|h| h.row_codes[0][r]).collect();
            *reference.entry(key).or_default() += 1;
        }
        assert_eq!(c.sizes.len(), reference.len());
        for r in 0..n {
            let key: Vec<u32> = hs.iter().map(|h| h.row_codes[0][r]).collect();
            assert_eq!(c.sizes[c.class_of_row[r] as usize], reference[&key]);
        }
    }
}
