//! Runs N mirror-descent iterations on the Adult-like problem of `benches/mirror_descent.rs`, for
//! timing under `perf stat -e task-clock` (CPU time is steadier than wall time on a shared
//! machine): `cargo run --release -p pgm --example adult_timing -- 2000`.

use pgm::{Clique, Domain, EstimationOptions, Measurement, MirrorDescent, PgmError};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

const ADULT_SIZES: [usize; 15] = [85, 9, 100, 16, 16, 7, 15, 6, 5, 2, 100, 100, 99, 42, 2];
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

fn main() -> Result<(), PgmError> {
    let iters: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(1000);
    let domain = Domain::new(ADULT_SIZES.to_vec())?;
    let mut rng = ChaCha8Rng::seed_from_u64(2019);
    let mut measurements = Vec::new();
    for c in CLIQUES {
        let clique = Clique::from(c);
        let cells = domain.table_size(&clique)?;
        let weights: Vec<f64> = (0..cells).map(|_| rng.random::<f64>().powi(3)).collect();
        let sum: f64 = weights.iter().sum();
        let values = weights
            .iter()
            .map(|w| w / sum * 48_842.0 + rng.random_range(-20.0..20.0))
            .collect();
        measurements.push(Measurement {
            clique,
            values,
            stddev: 10.0,
        });
    }
    let mut solver = MirrorDescent::new(&domain, &measurements, &[], None, &EstimationOptions::default())?;
    let start = std::time::Instant::now();
    for _ in 0..iters {
        solver.step()?;
    }
    println!(
        "{iters} iterations in {:?}, final loss {:.3}",
        start.elapsed(),
        solver.loss()
    );
    Ok(())
}
