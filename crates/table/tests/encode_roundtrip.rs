//! Property tests of domain encoding: encode → decode → encode is the identity on codes, decoded
//! values lie in their bin and in the dictionary's bounds, and categorical, boolean and missing
//! values round-trip exactly.

use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::sync::Arc;
use table::encode::{Domain, EncodeOptions, Mapping};
use table::{Date, Dictionary, Table, Value};

/// One column of a generated dictionary.
#[derive(Debug, Clone)]
enum Spec {
    Categorical(usize),
    Boolean,
    Integer { min: i64, max: i64, bins: Vec<i64> },
    Real { min: f64, max: f64, bins: Vec<f64> },
    Date { min: i32, max: i32 },
    Identifier,
    Text,
}

fn spec() -> impl Strategy<Value = (Spec, bool)> {
    let integer =
        (-1000i64..1000, 0i64..400, prop::collection::btree_set(0i64..400, 0..6)).prop_map(|(min, width, inner)| {
            Spec::Integer {
                min,
                max: min + width,
                bins: inner.into_iter().filter(|e| *e <= width).map(|e| min + e).collect(),
            }
        });
    let real = (
        -1000.0f64..1000.0,
        0.0f64..500.0,
        prop::collection::vec(0.0f64..1.0, 0..6),
    )
        .prop_map(|(min, width, mut fractions)| {
            let max = min + width;
            fractions.sort_by(f64::total_cmp);
            let mut bins: Vec<f64> = fractions.iter().map(|f| min + f * width).collect();
            bins.dedup();
            Spec::Real { min, max, bins }
        });
    let date = (-25_000i32..40_000, 0i32..20_000).prop_map(|(min, width)| Spec::Date { min, max: min + width });
    let kind = prop_oneof![
        (1usize..9).prop_map(Spec::Categorical),
        Just(Spec::Boolean),
        integer,
        real,
        date,
        Just(Spec::Identifier),
        Just(Spec::Text),
    ];
    (kind, any::<bool>())
}

fn day(days: i32) -> String {
    Date::from_days(days).to_string()
}

fn dictionary(specs: &[(Spec, bool)]) -> Dictionary {
    let mut text = String::from("format_version = 1\nname = \"generated\"\nmissing_tokens = [\"NA\"]\n");
    for (i, (spec, missing)) in specs.iter().enumerate() {
        text += &format!("[[column]]\nname = \"C{i}\"\n");
        if *missing {
            text += "missing = \"allowed\"\n";
        }
        text += &match spec {
            Spec::Categorical(n) => {
                let levels: Vec<String> = (0..*n).map(|l| format!("\"level {l}\"")).collect();
                format!("type = \"categorical\"\nlevels = [{}]\n", levels.join(", "))
            }
            Spec::Boolean => "type = \"boolean\"\n".into(),
            Spec::Integer { min, max, bins } => {
                format!("type = \"integer\"\nmin = {min}\nmax = {max}\nbins = {bins:?}\n")
            }
            Spec::Real { min, max, bins } => {
                format!("type = \"real\"\nmin = {min:?}\nmax = {max:?}\nbins = {bins:?}\n")
            }
            Spec::Date { min, max } => format!("type = \"date\"\nmin = \"{}\"\nmax = \"{}\"\n", day(*min), day(*max)),
            Spec::Identifier => "type = \"identifier\"\n".into(),
            Spec::Text => "type = \"text\"\n".into(),
        };
    }
    Dictionary::from_toml(&text, "generated.toml").expect("the generated dictionary is valid")
}

/// A value of the column, missing sometimes when allowed; bounds themselves are drawn often.
fn value(spec: &Spec, missing: bool) -> BoxedStrategy<Value> {
    let present = match spec.clone() {
        Spec::Categorical(n) => (0..n).prop_map(|l| Value::Text(format!("level {l}"))).boxed(),
        Spec::Boolean => any::<bool>().prop_map(Value::Bool).boxed(),
        Spec::Integer { min, max, .. } => prop_oneof![Just(min), Just(max), min..=max]
            .prop_map(Value::Int)
            .boxed(),
        Spec::Real { min, max, bins } => {
            let edges = if bins.is_empty() { vec![min] } else { bins };
            prop_oneof![Just(min), Just(max), prop::sample::select(edges), min..=max]
                .prop_map(Value::Real)
                .boxed()
        }
        Spec::Date { min, max } => prop_oneof![Just(min), Just(max), min..=max]
            .prop_map(|d| Value::Date(Date::from_days(d)))
            .boxed(),
        Spec::Identifier | Spec::Text => "[a-z]{0,4}".prop_map(Value::Text).boxed(),
    };
    if missing {
        prop_oneof![1 => Just(Value::Missing), 3 => present].boxed()
    } else {
        present
    }
}

type Case = (Vec<(Spec, bool)>, Vec<Vec<Value>>, EncodeOptions, u64);

fn case() -> impl Strategy<Value = Case> {
    (
        prop::collection::vec(spec(), 1..7),
        1usize..12,
        1usize..80,
        any::<u64>(),
    )
        .prop_flat_map(|(specs, default_bins, max_exact, seed)| {
            let row: Vec<BoxedStrategy<Value>> = specs.iter().map(|(s, m)| value(s, *m)).collect();
            let options = EncodeOptions {
                default_bins,
                max_exact_integer_levels: max_exact,
            };
            (
                Just(specs),
                prop::collection::vec(row, 0..40),
                Just(options),
                Just(seed),
            )
        })
}

/// Checks that `decoded` lies in the bin `code` stands for.
fn check_in_bin(mapping: &Mapping, code: usize, decoded: &Value, original: &Value) -> Result<(), TestCaseError> {
    match (mapping, decoded) {
        (Mapping::Categorical { .. } | Mapping::Boolean, _) => {
            prop_assert_eq!(decoded, original);
        }
        (Mapping::Integer(bins), Value::Int(x)) => {
            let bin = bins.bin(code).ok_or_else(|| TestCaseError::fail("no such bin"))?;
            prop_assert!(bin.contains(x), "{} outside bin {:?}", x, bin);
            prop_assert!(bins.min() <= *x && *x <= bins.max());
        }
        (Mapping::Real(bins), Value::Real(x)) => {
            let (low, high) = bins.bin(code).ok_or_else(|| TestCaseError::fail("no such bin"))?;
            let last = code + 1 == bins.len();
            prop_assert!(
                low <= *x && (*x < high || (last && *x <= high)),
                "{} outside bin [{}, {})",
                x,
                low,
                high
            );
            prop_assert!(bins.min() <= *x && *x <= bins.max());
        }
        (Mapping::Date(bins), Value::Date(d)) => {
            let bin = bins.bin(code).ok_or_else(|| TestCaseError::fail("no such bin"))?;
            prop_assert!(bin.contains(&i64::from(d.days())), "{} outside bin {:?}", d, bin);
        }
        (mapping, value) => {
            return Err(TestCaseError::fail(format!("{value} decoded for {mapping:?}")));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn encode_decode_encode_is_the_identity_on_codes((specs, rows, options, seed) in case()) {
        let dictionary = Arc::new(dictionary(&specs));
        let mut table = Table::new(dictionary.clone());
        for row in &rows {
            table.push_row(row.clone()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        }
        let domain = Domain::from_dictionary(&dictionary, &options).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let encoded = domain.encode(&table).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let decoded = domain.decode(&encoded, &mut rng).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(decoded.n_rows(), rows.len());
        let again = domain.encode(&decoded).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&again, &encoded);

        for (r, row) in rows.iter().enumerate() {
            for (c, (spec, _)) in specs.iter().enumerate() {
                let back = decoded.value(r, c);
                if matches!(spec, Spec::Identifier | Spec::Text) {
                    prop_assert_eq!(back, Value::Missing, "identifier and text decode to missing");
                    continue;
                }
                let a = domain.index_of(&format!("C{c}")).ok_or_else(|| TestCaseError::fail("attribute"))?;
                let attribute = &domain.attributes()[a];
                prop_assert_eq!(back.is_missing(), row[c].is_missing(), "missingness of C{}", c);
                let code = encoded.code(r, a).ok_or_else(|| TestCaseError::fail("code"))?;
                if row[c].is_missing() {
                    prop_assert_eq!(Some(code), attribute.missing_code());
                } else {
                    check_in_bin(attribute.mapping(), code, &back, &row[c])?;
                }
            }
        }
    }
}
