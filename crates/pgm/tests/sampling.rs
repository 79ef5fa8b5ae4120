//! Sampling: empirical marginals of many records against the model, structural zeros never
//! produced, rounded sampling's counts.

mod common;

use common::{all_subsets, random_potentials, total_variation};
use pgm::{Clique, CliqueVector, Domain, Factor, GraphicalModel, SamplingMethod};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn empirical(domain: &Domain, columns: &[Vec<u32>], clique: &Clique) -> Vec<f64> {
    let rows = columns[0].len();
    let cells: usize = clique.attrs().iter().map(|&a| domain.sizes()[a]).product();
    let mut counts = vec![0.0; cells];
    let mut index = vec![0usize; rows];
    for &a in clique.attrs() {
        for (i, &code) in index.iter_mut().zip(&columns[a]) {
            *i = *i * domain.sizes()[a] + code as usize;
        }
    }
    for i in index {
        counts[i] += 1.0;
    }
    counts.iter().map(|c| c / rows as f64).collect()
}

/// A cycle with a fill edge, structural zeros, and a disconnected attribute.
fn model() -> GraphicalModel {
    let domain = Domain::new(vec![3, 2, 4, 3, 2, 3]).unwrap();
    let cliques: Vec<Clique> = vec![
        Clique::from([0, 1]),
        Clique::from([1, 2]),
        Clique::from([2, 3]),
        Clique::from([0, 3]),
        Clique::from([3, 4]),
    ];
    let mut rng = ChaCha8Rng::seed_from_u64(99);
    let mut pots = random_potentials(&domain, &cliques, 0.0, &mut rng);
    // Structural zeros: (x0 = 0, x3 = 1) and (x2 = 3, x3 = 2) are impossible.
    let mut mask03 = vec![0.0; 9];
    mask03[1] = f64::NEG_INFINITY;
    let mut mask23 = vec![0.0; 12];
    mask23[3 * 3 + 2] = f64::NEG_INFINITY;
    pots = pots
        .add(&CliqueVector::from_factors(cliques.iter().map(|c| match c.attrs() {
            [0, 3] => Factor::new(&domain, c.clone(), mask03.clone()).unwrap(),
            [2, 3] => Factor::new(&domain, c.clone(), mask23.clone()).unwrap(),
            _ => Factor::zeros(&domain, c.clone()).unwrap(),
        })))
        .unwrap();
    GraphicalModel::new(domain, &pots, 1000.0).unwrap()
}

fn check_sample(method: SamplingMethod, seed: u64) {
    let model = model();
    let domain = model.domain().clone();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let rows = 100_000;
    let columns = model.sample(rows, method, &mut rng).unwrap();
    assert_eq!(columns.len(), domain.len());
    assert!(columns.iter().all(|c| c.len() == rows));
    for r in 0..rows {
        let record: Vec<u32> = columns.iter().map(|c| c[r]).collect();
        let lp = model.log_probability(&record).unwrap();
        assert!(lp > f64::NEG_INFINITY, "record {record:?} has probability zero");
    }
    for clique in all_subsets(domain.len())
        .into_iter()
        .filter(|c| !c.is_empty() && c.len() <= 3)
    {
        let expected: Vec<f64> = model
            .marginal(&clique)
            .unwrap()
            .counts
            .iter()
            .map(|c| c / model.total())
            .collect();
        let tv = total_variation(&empirical(&domain, &columns, &clique), &expected);
        assert!(tv < 0.02, "{method:?}, clique {clique:?}: total variation {tv}");
    }
}

#[test]
fn independent_samples_match_model_marginals() {
    check_sample(SamplingMethod::Independent, 1);
}

#[test]
fn rounded_samples_match_model_marginals() {
    check_sample(SamplingMethod::Rounded, 2);
}

#[test]
fn rounded_sampling_hits_the_first_attribute_counts_within_one() {
    let model = model();
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let rows = 777;
    let columns = model.sample(rows, SamplingMethod::Rounded, &mut rng).unwrap();
    let first = *model.tree().elimination_order().last().unwrap();
    let expected = model.marginal(&Clique::from([first])).unwrap().counts;
    let got = empirical(model.domain(), &columns, &Clique::from([first]));
    for (g, e) in got.iter().zip(&expected) {
        let want = e / model.total() * rows as f64;
        assert!((g * rows as f64 - want).abs() < 1.0, "{got:?} vs {expected:?}");
    }
}

#[test]
fn sampling_is_reproducible_with_a_seed_and_handles_zero_rows() {
    let model = model();
    let a = model
        .sample(50, SamplingMethod::Independent, &mut ChaCha8Rng::seed_from_u64(5))
        .unwrap();
    let b = model
        .sample(50, SamplingMethod::Independent, &mut ChaCha8Rng::seed_from_u64(5))
        .unwrap();
    assert_eq!(a, b);
    let none = model
        .sample(0, SamplingMethod::Rounded, &mut ChaCha8Rng::seed_from_u64(5))
        .unwrap();
    assert!(none.iter().all(Vec::is_empty));
}
