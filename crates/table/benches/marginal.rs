//! Marginal counting throughput on 1,000,000 encoded rows, in row-cells per second (rows ×
//! attributes in the marginal). Target: at least 200 M row-cells/s on one core.
//!
//! Run: `cargo bench -p table --bench marginal -- --measurement-time 3 --warm-up-time 1`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::hint::black_box;
use table::Dictionary;
use table::encode::{Domain, EncodeOptions, Encoded};

const ROWS: usize = 1_000_000;

/// Attribute sizes; the last one (1000 codes) is stored in 16 bits, the others in 8 bits.
const SIZES: [usize; 6] = [2, 5, 10, 20, 100, 1000];

/// A domain of categorical attributes with [`SIZES`] codes, named A0, A1, …
fn domain() -> Domain {
    let mut text = String::from("format_version = 1\nname = \"bench\"\n");
    for (i, size) in SIZES.iter().enumerate() {
        let levels: Vec<String> = (0..*size).map(|l| format!("\"{l}\"")).collect();
        text += &format!(
            "[[column]]\nname = \"A{i}\"\ntype = \"categorical\"\nlevels = [{}]\n",
            levels.join(",")
        );
    }
    let dictionary = Dictionary::from_toml(&text, "bench.toml").expect("the bench dictionary is valid");
    Domain::from_dictionary(&dictionary, &EncodeOptions::default()).expect("the bench domain builds")
}

fn encoded() -> Encoded {
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let columns: Vec<Vec<u16>> = SIZES
        .iter()
        .map(|&size| (0..ROWS).map(|_| rng.random_range(0..size as u16)).collect())
        .collect();
    Encoded::from_codes(&domain(), &columns).expect("codes are below their sizes")
}

fn marginals(c: &mut Criterion) {
    let data = encoded();
    // (name, attributes): sizes in brackets.
    let cases: [(&str, &[usize]); 8] = [
        ("1-way [2]", &[0]),
        ("1-way [100]", &[4]),
        ("2-way [2x5]", &[0, 1]),
        ("2-way [10x20]", &[2, 3]),
        ("2-way [1000x20] (16-bit codes)", &[5, 3]),
        ("3-way [2x10x100]", &[0, 2, 4]),
        ("3-way [20x5x2]", &[3, 1, 0]),
        ("5-way [2x5x10x20x100]", &[0, 1, 2, 3, 4]),
    ];
    let mut group = c.benchmark_group("marginal 1M rows");
    for (name, attrs) in cases {
        group.throughput(Throughput::Elements((ROWS * attrs.len()) as u64));
        group.bench_function(name, |b| {
            b.iter(|| data.marginal(black_box(attrs)).expect("valid attributes"))
        });
    }
    let five = data.marginal(&[0, 1, 2, 3, 4]).expect("valid attributes");
    group.throughput(Throughput::Elements(five.counts.len() as u64));
    group.bench_function("project 5-way to [100x2] (elements = source cells)", |b| {
        b.iter(|| {
            five.project(black_box(&[4, 0]))
                .expect("kept attributes are in the marginal")
        })
    });
    group.finish();
}

criterion_group!(benches, marginals);
criterion_main!(benches);
