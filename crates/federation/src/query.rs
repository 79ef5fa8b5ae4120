//! What every party derives from a round's request: its validation against the public domain,
//! the secure-aggregation parameters (with the request bound into the Prio3 context), and — at
//! a site only — the local counts.

use secagg::{AggregationParams, TotalBound};
use table::encode::Encoded;

use crate::msg::{MeasurementRequest, Purpose};
use crate::{Result, input};

/// Largest vector a round may share (cells of all its marginals together).
pub const MAX_CELLS: usize = 1 << 24;

/// A request checked against the public domain sizes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Query {
    /// The marginals, as attribute indices.
    pub marginals: Vec<Vec<usize>>,
    /// Sizes of the attributes after the request's maps.
    pub sizes: Vec<usize>,
    /// Total cells of the concatenated marginals.
    pub length: usize,
}

/// Checks `request` against attributes of `sizes` codes each: maps cover the codes, marginals
/// are non-empty increasing attribute lists, and the vector is at most [`MAX_CELLS`] long.
pub(crate) fn check(request: &MeasurementRequest, sizes: &[usize]) -> Result<Query> {
    if request.maps.len() != sizes.len() {
        return Err(input(format!(
            "{} compression maps for {} attributes",
            request.maps.len(),
            sizes.len()
        )));
    }
    let mut compressed = sizes.to_vec();
    for (a, map) in request.maps.iter().enumerate() {
        if let Some(m) = map {
            if m.len() != sizes[a] {
                return Err(input(format!(
                    "compression map of attribute {a} has {} entries for {} codes",
                    m.len(),
                    sizes[a]
                )));
            }
            let size = m.iter().max().map_or(0, |&x| x as usize + 1);
            if size == 0 || size > sizes[a] {
                return Err(input(format!(
                    "compression map of attribute {a} is not a merging of its codes"
                )));
            }
            compressed[a] = size;
        }
    }
    if request.marginals.is_empty() {
        return Err(input("the request names no marginal"));
    }
    let mut marginals = Vec::with_capacity(request.marginals.len());
    let mut length = 0usize;
    for m in &request.marginals {
        let attrs: Vec<usize> = m.iter().map(|&a| a as usize).collect();
        let increasing = attrs.windows(2).all(|w| w[0] < w[1]);
        if attrs.is_empty() || !increasing || attrs.iter().any(|&a| a >= sizes.len()) {
            return Err(input(format!(
                "marginal {m:?} is not an increasing list of attributes below {}",
                sizes.len()
            )));
        }
        let cells = attrs
            .iter()
            .try_fold(1usize, |acc, &a| acc.checked_mul(compressed[a]))
            .filter(|&c| c <= MAX_CELLS);
        length = cells
            .and_then(|c| length.checked_add(c))
            .filter(|&l| l <= MAX_CELLS)
            .ok_or_else(|| input(format!("the request's vector exceeds {MAX_CELLS} cells")))?;
        marginals.push(attrs);
    }
    if request.purpose == Purpose::Scores {
        let scores = request
            .scores
            .as_ref()
            .ok_or_else(|| input("a score request carries no score query"))?;
        if scores.models.len() != marginals.len() || !(1..=64).contains(&scores.resolution) {
            return Err(input(format!(
                "{} models for {} candidates, resolution {} (1..=64)",
                scores.models.len(),
                marginals.len(),
                scores.resolution
            )));
        }
        check_models(&marginals, &scores.models, &compressed)?;
        length = marginals.len();
    } else if request.scores.is_some() {
        return Err(input("only a score request carries a score query"));
    }
    if request.purpose == Purpose::Votes {
        let votes = request
            .votes
            .as_ref()
            .ok_or_else(|| input("a vote request carries no vote query"))?;
        let k = marginals.len();
        if votes.models.len() != k || votes.weights.len() != k || votes.penalties.len() != k || votes.sites == 0 {
            return Err(input(format!(
                "{} models, {} weights, {} penalties for {k} candidates over {} sites",
                votes.models.len(),
                votes.weights.len(),
                votes.penalties.len(),
                votes.sites
            )));
        }
        if votes.weights.iter().all(|&w| w == 0) {
            return Err(input("every candidate weight is zero"));
        }
        check_models(&marginals, &votes.models, &compressed)?;
        length = k;
    } else if request.votes.is_some() {
        return Err(input("only a vote request carries a vote query"));
    }
    Ok(Query {
        marginals,
        sizes: compressed,
        length,
    })
}

/// Non-negative expected counts (u64) with a positive total per candidate: the local score's
/// sensitivity bound (the scaled model moves by L1 norm 1 per record) needs exactly that.
fn check_models(marginals: &[Vec<usize>], models: &[Vec<u64>], sizes: &[usize]) -> Result<()> {
    for (attrs, model) in marginals.iter().zip(models) {
        let cells: usize = attrs.iter().map(|&a| sizes[a]).product();
        let total = model.iter().try_fold(0u64, |acc, &v| acc.checked_add(v));
        if model.len() != cells || !matches!(total, Some(t) if t > 0) {
            return Err(input(format!(
                "model of candidate {attrs:?}: {} cells for {cells}, or a total that is zero or overflows",
                model.len()
            )));
        }
    }
    Ok(())
}

/// The site's local L1 errors `‖x_{s,c} − (n_s/N_c)·m_c‖₁` against fixed-point `models`.
pub(crate) fn local_errors(
    data: &Encoded,
    request: &MeasurementRequest,
    query: &Query,
    models: &[Vec<u64>],
) -> Result<Vec<f64>> {
    let counts = marginal_counts(data, request, query)?;
    let n = data.n_rows() as f64;
    let mut out = Vec::with_capacity(models.len());
    let mut offset = 0;
    for model in models {
        let total = model.iter().map(|&m| m as f64).sum::<f64>();
        let local = counts
            .get(offset..offset + model.len())
            .ok_or_else(|| input("the models do not match the marginals"))?;
        offset += model.len();
        out.push(
            local
                .iter()
                .zip(model)
                .map(|(&x, &m)| (x as f64 - m as f64 * n / total).abs())
                .sum(),
        );
    }
    Ok(out)
}

/// The expected L1 error of one site's marginal against the model from sampling alone, if the
/// site held `N/S` records drawn from the model: `Σ_c √(2·(N/S)·p_c(1 − p_c)/π)` with `p = m/N`.
/// Computed from public values only (the model and the number of sites), so subtracting it from
/// a local score changes no sensitivity; it removes the floor that a site's own sampling noise
/// puts under its local error, which the union's error does not have to the same degree.
pub fn sampling_floor(model: &[u64], sites: u32) -> f64 {
    let total: f64 = model.iter().map(|&m| m as f64).sum();
    if total <= 0.0 || sites == 0 {
        return 0.0;
    }
    let share = total / crate::msg::MODEL_SCALE as f64 / f64::from(sites);
    model
        .iter()
        .map(|&m| {
            let p = m as f64 / total;
            (2.0 * share * p * (1.0 - p) / std::f64::consts::PI).sqrt()
        })
        .sum()
}

/// The site's quantised local scores `⌊q·‖x_{s,c} − (n_s/N_c)·m_c‖₁⌋`, one per candidate.
fn local_scores(data: &Encoded, request: &MeasurementRequest, query: &Query) -> Result<Vec<u64>> {
    let scores = request
        .scores
        .as_ref()
        .ok_or_else(|| input("a score request carries no score query"))?;
    let q = f64::from(scores.resolution);
    let errors = local_errors(data, request, query, &scores.models)?;
    Ok(errors.into_iter().map(|l1| (l1 * q).floor() as u64).collect())
}

/// SHA-256 of the request's public content, in hex, for the Prio3 context (collision resistant,
/// so a hub cannot show sites and helper two different requests with one fingerprint; review
/// finding F4 replaced a 64-bit FNV-1a here).
fn fingerprint(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// The job context bound into every report of the round: job, round, purpose, the number of
/// marginals k and σ² in clear (the two numbers the privacy claim rests on), and a fingerprint of
/// the marginals and maps. A site's report verifies only at aggregators holding the same request:
/// the helper, which takes σ² from the request it was given, cannot be made to add less noise
/// than the sites agreed to without every report failing verification.
pub(crate) fn job_context(request: &MeasurementRequest) -> Vec<u8> {
    let detail = format!(
        "{:?}|{:?}|{:?}|{:?}",
        request.marginals, request.maps, request.scores, request.votes
    );
    let q = request.scores.as_ref().map_or(0, |s| s.resolution);
    format!(
        "{}|{}|{:?}|k={}|q={q}|s2={}/{}|{}",
        request.job_id,
        request.round,
        request.purpose,
        request.marginals.len(),
        request.sigma2.num,
        request.sigma2.den,
        fingerprint(detail.as_bytes())
    )
    .into_bytes()
}

/// The secure-aggregation parameters of a round: `length` cells of `bits` bits; counts are bounded
/// by the declared record count, scores only cell by cell.
pub(crate) fn params(request: &MeasurementRequest, bits: u32, length: usize) -> Result<AggregationParams> {
    let bound = match request.purpose {
        Purpose::Measurement | Purpose::Selection | Purpose::Votes => TotalBound::DeclaredCount,
        Purpose::Scores => TotalBound::CellsOnly,
    };
    Ok(AggregationParams::new(
        length,
        bits as usize,
        bound,
        &job_context(request),
    )?)
}

/// What a site shares for `request`: the counts of the concatenated marginals, or the quantised
/// local scores for a score request. (A vote needs the site's randomness: see `SiteNode`.)
pub(crate) fn count(data: &Encoded, request: &MeasurementRequest, query: &Query) -> Result<Vec<u64>> {
    match request.purpose {
        Purpose::Scores => local_scores(data, request, query),
        Purpose::Measurement | Purpose::Selection => marginal_counts(data, request, query),
        Purpose::Votes => Err(input("a vote is drawn by the site, not counted")),
    }
}

/// The site's local counts of the concatenated marginals (each record adds 1 to one cell of each
/// marginal), in current (merged) codes, row-major with the last attribute fastest.
fn marginal_counts(data: &Encoded, request: &MeasurementRequest, query: &Query) -> Result<Vec<u64>> {
    let cells: usize = query
        .marginals
        .iter()
        .map(|attrs| attrs.iter().map(|&a| query.sizes[a]).product::<usize>())
        .sum();
    let mut out = vec![0u64; cells];
    let mut offset = 0;
    let maps: Vec<Option<&Vec<u32>>> = request.maps.iter().map(Option::as_ref).collect();
    for attrs in &query.marginals {
        for row in 0..data.n_rows() {
            let mut cell = 0usize;
            for &a in attrs {
                let code = data
                    .code(row, a)
                    .ok_or_else(|| input(format!("row {row} has no code for attribute {a}")))?;
                let merged = match maps[a] {
                    Some(m) => *m
                        .get(code)
                        .ok_or_else(|| input(format!("code {code} of attribute {a} unmapped")))?
                        as usize,
                    None => code,
                };
                cell = cell * query.sizes[a] + merged;
            }
            out[offset + cell] += 1;
        }
        offset += attrs.iter().map(|&a| query.sizes[a]).product::<usize>();
    }
    Ok(out)
}
