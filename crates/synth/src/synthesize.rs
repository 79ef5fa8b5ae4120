//! The entry point: a typed table and a request in, a synthetic table, the fitted model and a
//! summary out. Everything before the first charge is checked first, so bad input consumes no
//! budget and writes nothing.

use crate::aim::{AimOptions, aim};
use crate::copula::Copula;
use crate::independent::independent;
use crate::model::FittedModel;
use crate::mst::mst;
use crate::oracle::{CentralOracle, MeasurementOracle};
use crate::sample::{Compression, SampleReport};
use crate::{Error, Result};
use dp::{Charge, Delta, Epsilon, Rho};
use rand::{CryptoRng, SeedableRng};
use std::sync::Arc;
use table::Table;
use table::encode::{Domain, EncodeOptions};

/// A synthesis method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// AIM (adaptive, workload-aware; differentially private).
    Aim,
    /// MST (maximum spanning tree of pairs; differentially private).
    Mst,
    /// Independent one-way marginals (differentially private baseline).
    Independent,
    /// Gaussian copula (**not** differentially private; a non-private baseline).
    Copula,
}

impl Method {
    pub fn is_private(self) -> bool {
        self != Method::Copula
    }
}

/// What to synthesise. Privacy parameters have no default: the caller states the budget.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: Method,
    /// The (ε, δ) guarantee of the whole synthesis; `None` only for the copula.
    pub budget: Option<(Epsilon, Delta)>,
    pub rows: usize,
    /// Marginal size of AIM's default workload (all k-way marginals).
    pub workload_degree: usize,
    /// AIM's model-size cap in MB.
    pub max_model_mb: f64,
    /// AIM's rounds (`None`: 16·d).
    pub rounds: Option<usize>,
    /// Mirror-descent iterations of the final estimate.
    pub iters: usize,
    pub encode: EncodeOptions,
}

/// A finished synthesis.
#[derive(Debug)]
pub struct Synthesis {
    pub output: Table,
    /// The fitted DP model (for `sample`); `None` for the copula.
    pub model: Option<FittedModel>,
    pub report: SampleReport,
    /// The budget spent, charge by charge.
    pub ledger: Vec<Charge>,
    /// The total zCDP budget ρ the (ε, δ) request converts to.
    pub rho: Option<Rho>,
    /// Attribute sets measured beyond the one-way marginals, by column name.
    pub selected: Vec<Vec<String>>,
    pub model_cells: u128,
}

/// A progress message (for a progress display).
pub type Progress<'a> = &'a mut dyn FnMut(&str);

/// Runs `request` on `data`. `rng` drives every random choice (noise, selection, sampling).
pub fn synthesize(
    data: &Table,
    request: &Request,
    rng: &mut impl CryptoRng,
    progress: Progress<'_>,
) -> Result<Synthesis> {
    if request.rows == 0 {
        return Err(Error::Input("--rows must be at least 1".into()));
    }
    let dictionary = Arc::new(data.dictionary().modelled());
    if dictionary.columns.is_empty() {
        return Err(Error::Input(
            "the dictionary has no column to model (only identifiers and free text)".into(),
        ));
    }
    let data = data
        .project(dictionary.clone())
        .map_err(|e| Error::Input(format!("the data does not match its dictionary: {e}")))?;
    if request.method == Method::Copula {
        progress("fitting the Gaussian copula (not differentially private)");
        let copula = Copula::fit(&data)?;
        progress("sampling");
        let output = copula.sample(request.rows, rng);
        return Ok(Synthesis {
            output,
            model: None,
            report: SampleReport {
                rows: request.rows,
                records_drawn: request.rows,
                ..SampleReport::default()
            },
            ledger: Vec::new(),
            rho: None,
            selected: Vec::new(),
            model_cells: 0,
        });
    }
    let (epsilon, delta) = request.budget.ok_or_else(|| {
        Error::Input(format!(
            "{:?} is differentially private: state --epsilon and --delta",
            request.method
        ))
    })?;
    // Public domain from the dictionary: a numeric column without bounds is refused here,
    // before any budget is spent.
    let domain = Domain::from_dictionary(&dictionary, &request.encode)?;
    let encoded = domain.encode(&data)?;
    let rho = dp::rho_from_eps_delta(epsilon, delta)?;
    let names = |attrs: &[usize]| {
        attrs
            .iter()
            .map(|&a| domain.attributes()[a].name().to_string())
            .collect::<Vec<_>>()
    };
    let seed_rng = rand_chacha::ChaCha20Rng::from_rng(rng);
    let mut oracle = CentralOracle::new(encoded, rho, seed_rng);
    let d = domain.len();
    let (model, compression, selected) = match request.method {
        Method::Mst => {
            progress("MST: measuring one-way marginals, selecting a spanning tree, measuring pairs");
            let fit = mst(&mut oracle, request.iters)?;
            let selected = fit.edges.iter().map(|e| names(e)).collect();
            (fit.model, fit.compression, selected)
        }
        Method::Aim => {
            let mut options = AimOptions::all_k_way(d, request.workload_degree);
            options.max_model_mb = request.max_model_mb;
            options.rounds = request.rounds;
            options.final_iters = request.iters;
            progress(&format!(
                "AIM: {} workload marginals, up to {} rounds",
                options.workload.len(),
                options.rounds.unwrap_or(16 * d)
            ));
            let fit = aim(&mut oracle, &options)?;
            let selected = fit.selected.iter().map(|c| names(c)).collect();
            (fit.model, Compression::none(d), selected)
        }
        Method::Independent => {
            progress("measuring one-way marginals");
            (
                independent(&mut oracle, request.iters)?,
                Compression::none(d),
                Vec::new(),
            )
        }
        Method::Copula => unreachable!("handled above"),
    };
    let ledger = oracle.accountant().ledger().to_vec();
    let fitted = FittedModel {
        dictionary,
        domain,
        compression,
        model,
    };
    progress("sampling synthetic rows under the clinical rules");
    let (output, report) = fitted.sample(request.rows, rng)?;
    let model_cells = fitted.cells();
    Ok(Synthesis {
        output,
        model: Some(fitted),
        report,
        ledger,
        rho: Some(rho),
        selected,
        model_cells,
    })
}
