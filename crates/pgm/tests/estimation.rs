//! Mirror descent: recovery of exact marginals, monotone loss, total estimation, structural
//! zeros and warm starts.

mod common;

use common::{joint, marginal, random_potentials, total_variation};
use pgm::{
    Clique, Domain, EstimationOptions, GraphicalModel, Measurement, MirrorDescent, PgmError, StructuralZeros, estimate,
    minimum_variance_total,
};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Exact (noise-free) measurements of `cliques` under a distribution that factorises over them.
fn exact_measurements(domain: &Domain, cliques: &[Clique], total: f64, seed: u64) -> (Vec<Measurement>, Vec<f64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let p = joint(domain, &random_potentials(domain, cliques, 0.0, &mut rng));
    let measurements = cliques
        .iter()
        .map(|c| Measurement {
            clique: c.clone(),
            values: marginal(domain, &p, c).iter().map(|x| x * total).collect(),
            stddev: 1.0,
        })
        .collect();
    (measurements, p)
}

fn normalised(counts: &[f64]) -> Vec<f64> {
    let s: f64 = counts.iter().sum();
    counts.iter().map(|c| c / s).collect()
}

fn assert_recovers(domain: &Domain, cliques: &[Clique], seed: u64, iters: usize) {
    let total = 1000.0;
    let (measurements, p) = exact_measurements(domain, cliques, total, seed);
    let options = EstimationOptions {
        iters,
        ..EstimationOptions::default()
    };
    let model = estimate(domain, &measurements, &[], None, &options).unwrap();
    assert!(
        (model.total() - total).abs() < 1e-6,
        "estimated total {}",
        model.total()
    );
    for c in cliques {
        let got = normalised(&model.marginal(c).unwrap().counts);
        let tv = total_variation(&got, &marginal(domain, &p, c));
        assert!(tv < 1e-3, "clique {c:?}: total variation {tv}");
    }
}

#[test]
fn recovers_exact_marginals_of_a_chain() {
    let domain = Domain::new(vec![2, 3, 4, 2, 3]).unwrap();
    let cliques: Vec<Clique> = (0..4).map(|i| Clique::from([i, i + 1])).collect();
    assert_recovers(&domain, &cliques, 11, 500);
}

#[test]
fn recovers_exact_marginals_of_a_cycle() {
    let domain = Domain::new(vec![3, 2, 3, 4]).unwrap();
    let cliques = vec![
        Clique::from([0, 1]),
        Clique::from([1, 2]),
        Clique::from([2, 3]),
        Clique::from([0, 3]),
    ];
    assert_recovers(&domain, &cliques, 12, 1000);
}

#[test]
fn recovers_exact_marginals_of_a_triple_and_singletons() {
    let domain = Domain::new(vec![2, 3, 2, 4, 3]).unwrap();
    let cliques = vec![Clique::from([0, 1, 2]), Clique::from([3]), Clique::from([2, 4])];
    assert_recovers(&domain, &cliques, 13, 500);
}

#[test]
fn loss_never_increases_with_line_search() {
    let domain = Domain::new(vec![3, 3, 3, 3]).unwrap();
    let cliques = vec![
        Clique::from([0, 1]),
        Clique::from([1, 2]),
        Clique::from([2, 3]),
        Clique::from([0, 3]),
    ];
    let (mut measurements, _) = exact_measurements(&domain, &cliques, 500.0, 21);
    // Inconsistent noisy measurements, so the optimum has positive loss.
    let mut rng = ChaCha8Rng::seed_from_u64(22);
    for m in &mut measurements {
        m.stddev = 5.0;
        for v in &mut m.values {
            *v += rand::RngExt::random_range(&mut rng, -10.0..10.0);
        }
    }
    let mut solver = MirrorDescent::new(&domain, &measurements, &[], None, &EstimationOptions::default()).unwrap();
    let start = solver.loss();
    let mut previous = start;
    let mut rejected = 0;
    for _ in 0..300 {
        if !solver.step().unwrap() {
            rejected += 1;
        }
        assert!(
            solver.loss() <= previous,
            "loss went up: {previous} -> {}",
            solver.loss()
        );
        previous = solver.loss();
    }
    assert!(previous < 0.5 * start, "loss {start} -> {previous}");
    assert_eq!(solver.iterations(), 300);
    // The line search both grows and shrinks the step: some steps must have been refused.
    assert!(rejected > 0);
}

#[test]
fn total_is_the_inverse_variance_mean_of_measurement_sums() {
    let domain = Domain::new(vec![2, 2]).unwrap();
    let a = Measurement {
        clique: Clique::from([0]),
        values: vec![40.0, 60.0],
        stddev: 1.0,
    };
    let b = Measurement {
        clique: Clique::from([0, 1]),
        values: vec![30.0, 30.0, 30.0, 30.0],
        stddev: 2.0,
    };
    // Variances: 1·2 = 2 and 4·4 = 16; weights 1/2 and 1/16.
    let expected = (100.0 / 2.0 + 120.0 / 16.0) / (1.0 / 2.0 + 1.0 / 16.0);
    assert!((minimum_variance_total(&domain, &[a, b]).unwrap() - expected).abs() < 1e-9);
    assert_eq!(minimum_variance_total(&domain, &[]).unwrap(), 1.0);
}

#[test]
fn structural_zeros_get_no_mass() {
    let domain = Domain::new(vec![3, 2]).unwrap();
    let m = Measurement {
        clique: Clique::from([0, 1]),
        values: vec![10.0, 20.0, 30.0, 40.0, 50.0, 60.0],
        stddev: 1.0,
    };
    let zeros = StructuralZeros {
        clique: Clique::from([0, 1]),
        forbidden: vec![false, true, false, false, true, false],
    };
    let options = EstimationOptions {
        iters: 300,
        total: Some(210.0),
        stepsize: None,
    };
    let model = estimate(&domain, &[m], &[zeros], None, &options).unwrap();
    let counts = model.marginal(&Clique::from([0, 1])).unwrap().counts;
    assert_eq!(counts[1], 0.0);
    assert_eq!(counts[4], 0.0);
    assert!((counts.iter().sum::<f64>() - 210.0).abs() < 1e-9);
    // The freed mass goes to the allowed cells.
    assert!(counts[0] > 10.0 && counts[5] > 60.0, "{counts:?}");
}

#[test]
fn a_mask_forbidding_everything_is_refused() {
    let domain = Domain::new(vec![2]).unwrap();
    let zeros = StructuralZeros {
        clique: Clique::from([0]),
        forbidden: vec![true, true],
    };
    let err = MirrorDescent::new(&domain, &[], &[zeros], None, &EstimationOptions::default()).unwrap_err();
    assert_eq!(err, PgmError::EmptySupport { clique: vec![0] });
}

#[test]
fn warm_start_continues_from_the_previous_model() {
    let domain = Domain::new(vec![2, 3, 4, 2]).unwrap();
    let cliques = vec![
        Clique::from([0, 1]),
        Clique::from([1, 2]),
        Clique::from([2, 3]),
        Clique::from([0, 3]),
    ];
    let (measurements, _) = exact_measurements(&domain, &cliques, 800.0, 31);
    let options = EstimationOptions {
        iters: 50,
        ..EstimationOptions::default()
    };
    let first = estimate(&domain, &measurements[..2], &[], None, &options).unwrap();
    // Same measurements, warm-started: the starting point is the previous model exactly.
    let again = MirrorDescent::new(&domain, &measurements[..2], &[], Some(first.potentials()), &options).unwrap();
    let restart_model = again.into_model().unwrap();
    for c in &cliques[..2] {
        let a = first.marginal(c).unwrap().counts;
        let b = restart_model.marginal(c).unwrap().counts;
        assert!(a.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-9));
    }
    // A larger model warm-started from the smaller one (whose cliques it contains).
    let cold = MirrorDescent::new(&domain, &measurements, &[], None, &options).unwrap();
    let warm = MirrorDescent::new(&domain, &measurements, &[], Some(first.potentials()), &options).unwrap();
    assert!(
        warm.loss() < cold.loss(),
        "warm {} vs cold {}",
        warm.loss(),
        cold.loss()
    );
}

#[test]
fn bad_measurements_are_refused_with_their_index() {
    let domain = Domain::new(vec![2, 2]).unwrap();
    let good = Measurement {
        clique: Clique::from([0]),
        values: vec![1.0, 2.0],
        stddev: 1.0,
    };
    let bad_sigma = Measurement {
        clique: Clique::from([1]),
        values: vec![1.0, 2.0],
        stddev: 0.0,
    };
    let err = estimate(
        &domain,
        &[good.clone(), bad_sigma],
        &[],
        None,
        &EstimationOptions::default(),
    )
    .unwrap_err();
    assert_eq!(
        err,
        PgmError::InvalidStddev {
            index: 1,
            clique: vec![1],
            stddev: 0.0
        }
    );
    let short = Measurement {
        clique: Clique::from([0, 1]),
        values: vec![1.0],
        stddev: 1.0,
    };
    assert!(matches!(
        estimate(&domain, &[short], &[], None, &EstimationOptions::default()),
        Err(PgmError::ValueCount {
            expected: 4,
            found: 1,
            ..
        })
    ));
    let nan = Measurement {
        clique: Clique::from([0]),
        values: vec![f64::NAN, 1.0],
        stddev: 1.0,
    };
    assert!(matches!(
        estimate(&domain, &[nan], &[], None, &EstimationOptions::default()),
        Err(PgmError::InvalidValue { cell: 0, .. })
    ));
    let unknown = Measurement {
        clique: Clique::from([5]),
        values: vec![1.0],
        stddev: 1.0,
    };
    assert!(matches!(
        estimate(&domain, &[unknown], &[], None, &EstimationOptions::default()),
        Err(PgmError::UnknownAttribute { attr: 5, .. })
    ));
    let options = EstimationOptions {
        total: Some(-1.0),
        ..EstimationOptions::default()
    };
    assert!(matches!(
        estimate(&domain, &[good], &[], None, &options),
        Err(PgmError::InvalidTotal { .. })
    ));
}

#[test]
fn fixed_step_size_also_converges() {
    let domain = Domain::new(vec![2, 3, 2]).unwrap();
    let cliques = vec![Clique::from([0, 1]), Clique::from([1, 2])];
    let (measurements, p) = exact_measurements(&domain, &cliques, 100.0, 41);
    let options = EstimationOptions {
        iters: 400,
        total: Some(100.0),
        stepsize: Some(0.02),
    };
    let model: GraphicalModel = estimate(&domain, &measurements, &[], None, &options).unwrap();
    for c in &cliques {
        let tv = total_variation(
            &normalised(&model.marginal(c).unwrap().counts),
            &marginal(&domain, &p, c),
        );
        assert!(tv < 1e-3, "{c:?}: {tv}");
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 16, ..proptest::prelude::ProptestConfig::default() })]

    /// Random hypergraphs: exact marginals of a distribution that factorises over the measured
    /// cliques are recovered to total variation < 1e-3.
    #[test]
    fn random_hypergraphs_are_recovered(
        sizes in proptest::collection::vec(2usize..=4, 2..=5),
        edges in proptest::collection::vec(proptest::collection::vec(0usize..5, 1..=3), 1..=4),
        seed in 0u64..1000,
    ) {
        let d = sizes.len();
        let domain = Domain::new(sizes).unwrap();
        let mut cliques: Vec<Clique> = edges.into_iter().map(|e| Clique::new(e.into_iter().map(|a| a % d))).collect();
        cliques.sort();
        cliques.dedup();
        let (measurements, p) = exact_measurements(&domain, &cliques, 1000.0, seed);
        let options = EstimationOptions { iters: 1500, ..EstimationOptions::default() };
        let model = estimate(&domain, &measurements, &[], None, &options).unwrap();
        for c in &cliques {
            let tv = total_variation(&normalised(&model.marginal(c).unwrap().counts), &marginal(&domain, &p, c));
            proptest::prop_assert!(tv < 1e-3, "clique {:?}: total variation {}", c, tv);
        }
    }
}

/// Noisy measurements of counts from a real sample: the fitted model's marginals are closer to
/// the true counts than the raw noisy measurements are (projection onto the marginal polytope
/// removes noise that is inconsistent across overlapping measurements).
#[test]
fn estimation_denoises_overlapping_noisy_measurements() {
    use pgm::{GraphicalModel, SamplingMethod};
    use rand::RngExt;
    let domain = Domain::new(vec![4, 3, 5, 3]).unwrap();
    let cliques = vec![Clique::from([0, 1]), Clique::from([1, 2]), Clique::from([2, 3])];
    let mut rng = ChaCha8Rng::seed_from_u64(51);
    let truth_model = GraphicalModel::new(
        domain.clone(),
        &random_potentials(&domain, &cliques, 0.0, &mut rng),
        5000.0,
    )
    .unwrap();
    let columns = truth_model.sample(5000, SamplingMethod::Independent, &mut rng).unwrap();
    // Measure every 1- and 2-way marginal of the chain with Gaussian noise (Box–Muller).
    let sigma = 20.0;
    let mut measured: Vec<Clique> = cliques.clone();
    measured.extend((0..4).map(|a| Clique::from([a])));
    let mut measurements = Vec::new();
    let mut truth = Vec::new();
    for c in &measured {
        let cells: usize = c.attrs().iter().map(|&a| domain.sizes()[a]).product();
        let mut counts = vec![0.0; cells];
        let mut index = vec![0usize; 5000];
        for &a in c.attrs() {
            for (i, &code) in index.iter_mut().zip(&columns[a]) {
                *i = *i * domain.sizes()[a] + code as usize;
            }
        }
        for i in index {
            counts[i] += 1.0;
        }
        let values = counts
            .iter()
            .map(|&x| {
                let (u, v): (f64, f64) = (rng.random::<f64>().max(1e-300), rng.random());
                x + sigma * (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
            })
            .collect();
        measurements.push(Measurement {
            clique: c.clone(),
            values,
            stddev: sigma,
        });
        truth.push(counts);
    }
    let model = estimate(&domain, &measurements, &[], None, &EstimationOptions::default()).unwrap();
    let (mut raw_error, mut fitted_error) = (0.0, 0.0);
    for ((c, m), t) in measured.iter().zip(&measurements).zip(&truth) {
        let fitted = model.marginal(c).unwrap().counts;
        raw_error += m.values.iter().zip(t).map(|(a, b)| (a - b).abs()).sum::<f64>();
        fitted_error += fitted.iter().zip(t).map(|(a, b)| (a - b).abs()).sum::<f64>();
    }
    assert!(
        fitted_error < 0.9 * raw_error,
        "fitted L1 error {fitted_error} vs raw {raw_error}"
    );
    assert!((model.total() - 5000.0).abs() < 100.0, "total {}", model.total());
}
