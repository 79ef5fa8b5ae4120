//! Benchmarks of the hot kernels on an Adult-like domain: one mirror-descent iteration (belief
//! propagation, loss, gradient, line search) and sampling. Fixed seeds; results in docs/pgm.md.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use pgm::{Clique, Domain, EstimationOptions, Measurement, MirrorDescent, SamplingMethod, estimate};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Domain sizes of the UCI Adult data set as Private-PGM's examples encode it (age, workclass,
/// fnlwgt, education, education-num, marital-status, occupation, relationship, race, sex,
/// capital-gain, capital-loss, hours-per-week, native-country, income).
const ADULT_SIZES: [usize; 15] = [85, 9, 100, 16, 16, 7, 15, 6, 5, 2, 100, 100, 99, 42, 2];

/// Fifteen two-way cliques: a spanning tree like the one MST selects on Adult, plus one edge that
/// closes a cycle (so triangulation is exercised).
const CLIQUES: [[usize; 2]; 15] = [
    [0, 5],
    [5, 7],
    [7, 9],
    [3, 4],
    [4, 6],
    [1, 6],
    [6, 9],
    [7, 14],
    [10, 14],
    [11, 14],
    [0, 12],
    [8, 13],
    [0, 2],
    [8, 14],
    [0, 14],
];

fn problem() -> (Domain, Vec<Measurement>) {
    let domain = Domain::new(ADULT_SIZES.to_vec()).expect("domain");
    let mut rng = ChaCha8Rng::seed_from_u64(2019);
    let measurements = CLIQUES
        .iter()
        .map(|c| {
            let clique = Clique::from(*c);
            let cells = domain.table_size(&clique).expect("cells");
            // Noisy counts of ~48 842 records spread unevenly over the cells.
            let weights: Vec<f64> = (0..cells).map(|_| rng.random::<f64>().powi(3)).collect();
            let sum: f64 = weights.iter().sum();
            let values = weights
                .iter()
                .map(|w| w / sum * 48_842.0 + rng.random_range(-20.0..20.0))
                .collect();
            Measurement {
                clique,
                values,
                stddev: 10.0,
            }
        })
        .collect();
    (domain, measurements)
}

fn bench(c: &mut Criterion) {
    let (domain, measurements) = problem();
    let mut solver =
        MirrorDescent::new(&domain, &measurements, &[], None, &EstimationOptions::default()).expect("solver");
    eprintln!(
        "adult-like model: {} tree cliques, {} cells",
        solver.tree().cliques().len(),
        solver.tree().model_size()
    );
    c.bench_function("mirror_descent_iteration_adult", |b| {
        b.iter(|| black_box(solver.step().expect("step")))
    });

    let options = EstimationOptions {
        iters: 20,
        ..EstimationOptions::default()
    };
    let model = estimate(&domain, &measurements, &[], None, &options).expect("model");
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    c.bench_function("sample_independent_adult_100k", |b| {
        b.iter(|| {
            black_box(
                model
                    .sample(100_000, SamplingMethod::Independent, &mut rng)
                    .expect("sample"),
            )
        })
    });
    c.bench_function("sample_rounded_adult_100k", |b| {
        b.iter(|| {
            black_box(
                model
                    .sample(100_000, SamplingMethod::Rounded, &mut rng)
                    .expect("sample"),
            )
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
