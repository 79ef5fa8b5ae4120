//! Every marginal computed by belief propagation (and by variable elimination for sets outside
//! the tree's cliques) against the joint distribution enumerated by brute force.

mod common;

use common::{all_subsets, cell, joint, log_joint, marginal, random_potentials, records};
use pgm::{Clique, CliqueVector, Domain, GraphicalModel};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

const TOLERANCE: f64 = 1e-9;

/// Compares every marginal (every subset of attributes) and every record's log-probability.
fn check_against_brute_force(domain: &Domain, potentials: &CliqueVector) {
    let total = 1234.5;
    let model = GraphicalModel::new(domain.clone(), potentials, total).expect("model");
    let p = joint(domain, potentials);
    for subset in all_subsets(domain.len()) {
        let expected = marginal(domain, &p, &subset);
        let got = model.marginal(&subset).expect("marginal");
        assert_eq!(got.counts.len(), expected.len());
        for (g, e) in got.counts.iter().zip(&expected) {
            assert!(
                (g / total - e).abs() < TOLERANCE,
                "subset {subset:?}: {:?} vs {expected:?}",
                got.counts
            );
        }
    }
    for (record, &expected) in records(domain).iter().zip(&log_joint(domain, potentials)) {
        let lp = model.log_probability(record).expect("log probability");
        if expected == f64::NEG_INFINITY {
            assert_eq!(lp, f64::NEG_INFINITY, "record {record:?}");
        } else {
            assert!(
                (lp - expected).abs() < 1e-9 * expected.abs().max(1.0),
                "record {record:?}: {lp} vs {expected}"
            );
        }
    }
}

fn cliques(list: &[&[usize]]) -> Vec<Clique> {
    list.iter().map(|c| Clique::from(*c)).collect()
}

#[test]
fn chain() {
    let domain = Domain::new(vec![2, 3, 4, 2, 3, 2]).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let pots = random_potentials(
        &domain,
        &cliques(&[&[0, 1], &[1, 2], &[2, 3], &[3, 4], &[4, 5]]),
        0.0,
        &mut rng,
    );
    check_against_brute_force(&domain, &pots);
}

#[test]
fn tree_with_branches() {
    let domain = Domain::new(vec![3, 2, 4, 2, 3, 2]).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let pots = random_potentials(
        &domain,
        &cliques(&[&[0, 1], &[0, 2], &[0, 3], &[2, 4], &[2, 5]]),
        0.0,
        &mut rng,
    );
    check_against_brute_force(&domain, &pots);
}

#[test]
fn cycle_needs_triangulation() {
    let domain = Domain::new(vec![2, 3, 2, 4, 3]).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let pots = random_potentials(
        &domain,
        &cliques(&[&[0, 1], &[1, 2], &[2, 3], &[3, 4], &[0, 4]]),
        0.0,
        &mut rng,
    );
    let model = GraphicalModel::new(domain.clone(), &pots, 1.0).unwrap();
    assert!(
        model.tree().cliques().iter().all(|c| c.len() == 3),
        "{:?}",
        model.tree().cliques()
    );
    check_against_brute_force(&domain, &pots);
}

#[test]
fn dense_four_clique() {
    let domain = Domain::new(vec![3, 2, 4, 3]).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let pairs = cliques(&[&[0, 1], &[0, 2], &[0, 3], &[1, 2], &[1, 3], &[2, 3]]);
    let pots = random_potentials(&domain, &pairs, 0.0, &mut rng);
    let model = GraphicalModel::new(domain.clone(), &pots, 1.0).unwrap();
    assert_eq!(model.tree().cliques(), &[Clique::from([0, 1, 2, 3])]);
    check_against_brute_force(&domain, &pots);
}

#[test]
fn disconnected_attributes() {
    let domain = Domain::new(vec![2, 3, 4, 2, 3]).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let pots = random_potentials(&domain, &cliques(&[&[0, 1], &[2, 3]]), 0.0, &mut rng);
    let model = GraphicalModel::new(domain.clone(), &pots, 1.0).unwrap();
    assert_eq!(model.tree().roots().count(), 3);
    check_against_brute_force(&domain, &pots);
}

#[test]
fn singletons_only() {
    let domain = Domain::new(vec![2, 3, 4, 2]).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    let pots = random_potentials(&domain, &cliques(&[&[0], &[1], &[2], &[3]]), 0.0, &mut rng);
    check_against_brute_force(&domain, &pots);
}

#[test]
fn structural_zeros_in_a_cycle() {
    let domain = Domain::new(vec![3, 3, 2, 4]).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let pots = random_potentials(&domain, &cliques(&[&[0, 1], &[1, 2], &[2, 3], &[0, 3]]), 0.25, &mut rng);
    check_against_brute_force(&domain, &pots);
}

#[test]
fn extreme_potentials_do_not_underflow() {
    // Potentials of magnitude ~1e3: a global-max log-sum-exp would lose the small cells.
    let domain = Domain::new(vec![3, 3, 3]).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let pots = random_potentials(&domain, &cliques(&[&[0, 1], &[1, 2]]), 0.0, &mut rng).scale(400.0);
    check_against_brute_force(&domain, &pots);
}

#[test]
fn record_checks_are_located() {
    let domain = Domain::new(vec![2, 3]).unwrap();
    let model = GraphicalModel::new(domain.clone(), &CliqueVector::new(), 10.0).unwrap();
    assert_eq!(
        model.log_probability(&[0]),
        Err(pgm::PgmError::RecordLength { expected: 2, found: 1 })
    );
    assert_eq!(
        model.log_probability(&[0, 3]),
        Err(pgm::PgmError::CodeOutOfRange {
            attr: 1,
            code: 3,
            size: 3
        })
    );
    // No potentials: uniform.
    let m = model.marginal(&Clique::from([1])).unwrap();
    assert!(m.counts.iter().all(|c| (c - 10.0 / 3.0).abs() < 1e-12));
    assert_eq!(cell(&domain, &Clique::from([0, 1]), &[1, 2]), 5);
    assert!(matches!(
        GraphicalModel::new(domain, &CliqueVector::new(), f64::NAN),
        Err(pgm::PgmError::InvalidTotal { .. })
    ));
}

fn hypergraph() -> impl Strategy<Value = (Vec<usize>, Vec<Vec<usize>>, u64, bool)> {
    (2usize..=6).prop_flat_map(|d| {
        (
            proptest::collection::vec(2usize..=4, d),
            proptest::collection::vec(proptest::collection::vec(0..d, 1..=3), 0..=6),
            any::<u64>(),
            any::<bool>(),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn random_hypergraphs_match_brute_force((sizes, edges, seed, zeros) in hypergraph()) {
        let domain = Domain::new(sizes).unwrap();
        let cliques: Vec<Clique> = edges.into_iter().map(Clique::new).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let pots = random_potentials(&domain, &cliques, if zeros { 0.15 } else { 0.0 }, &mut rng);
        // A random mask may forbid everything; then the model must refuse, not produce NaN.
        let p = joint(&domain, &pots);
        if p.iter().any(|x| x.is_nan()) {
            let refused = matches!(GraphicalModel::new(domain.clone(), &pots, 1.0), Err(pgm::PgmError::EmptySupport { .. }));
            prop_assert!(refused, "a model with no support must be refused");
        } else {
            check_against_brute_force(&domain, &pots);
        }
    }
}
