//! Times one anonymisation: `cargo run --profile ci -p anon --example anonymize_bench --
//! DICTIONARY.toml DATA.csv CONFIG.toml [REPORT.html]`. Prints the search figures (for
//! docs/benchmarks.md) and optionally writes the HTML report.

use std::sync::Arc;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (dict_path, data_path, config_path, html) = match args.as_slice() {
        [_, d, i, c] => (d, i, c, None),
        [_, d, i, c, h] => (d, i, c, Some(h)),
        _ => return Err("usage: anonymize_bench DICTIONARY.toml DATA.csv CONFIG.toml [REPORT.html]".into()),
    };
    let dict = table::Dictionary::from_toml(&std::fs::read_to_string(dict_path)?, dict_path)?;
    let data = std::fs::File::open(data_path)?;
    let table = table::csv::read_table(
        std::io::BufReader::new(data),
        data_path,
        Arc::new(dict),
        &table::csv::CsvOptions::default(),
    )?;
    let config = anon::Config::from_toml(&std::fs::read_to_string(config_path)?, config_path)?;
    let start = Instant::now();
    let outcome = anon::anonymize(&table, &config, None);
    let secs = start.elapsed().as_secs_f64();
    match outcome {
        Ok(o) => {
            let r = &o.report;
            println!(
                "rows {} | {} | lattice {} nodes | checked {} | node {:?} | suppressed {} | loss {:.4} | k reached {:?} | {:.2} s",
                r.rows_in,
                r.search.method,
                r.search.lattice_size,
                r.search.nodes_checked,
                r.quasi_identifiers.iter().map(|q| q.level).collect::<Vec<_>>(),
                r.suppressed,
                r.loss,
                r.reached.k,
                secs
            );
            if let Some(path) = html {
                std::fs::write(path, r.to_html())?;
            }
        }
        Err(e) => println!("{e} ({secs:.2} s)"),
    }
    Ok(())
}
