//! Aggregate shares, aggregator-side noise, and the collector's [`unshard`].

use std::collections::BTreeSet;
use std::fmt;

use prio::codec::Encode;
use prio::field::{Field128, FieldElement};
use subtle::ConstantTimeEq;

use crate::codec::{Reader, Writer};
use crate::error::{Result, SecaggError};
use crate::messages::decode_field;
use crate::params::{AGGREGATORS, AggregationParams, centred_lift, field_from_i64};
use crate::report::{ReportId, Role};

/// Source of the noise an aggregator adds to each cell of its aggregate share before releasing
/// it: `sample(length)` returns `length` integers (e.g. discrete Gaussian draws). Implemented for
/// every `FnMut(usize) -> Vec<i64>`; the `federation` crate plugs in `dp`'s mechanism here.
pub trait NoiseSource {
    /// Returns `length` noise values, one per cell.
    fn sample(&mut self, length: usize) -> Vec<i64>;
}

impl<F: FnMut(usize) -> Vec<i64>> NoiseSource for F {
    fn sample(&mut self, length: usize) -> Vec<i64> {
        self(length)
    }
}

/// One aggregator's share of the sum over the accepted reports (plus its noise, if any), in
/// prio's field Field128. Alone it is uniformly random; the two shares add up to the sum.
#[derive(Clone)]
pub struct AggregateShare {
    role: Role,
    num_reports: u64,
    noised: bool,
    cells: Vec<Field128>,
}

const AGGREGATE_SHARE_TAG: u8 = 40;

impl AggregateShare {
    /// The aggregator that produced it.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Number of reports aggregated.
    pub fn num_reports(&self) -> u64 {
        self.num_reports
    }

    /// Whether the aggregator added noise.
    pub fn noised(&self) -> bool {
        self.noised
    }

    /// Number of cells.
    pub fn length(&self) -> usize {
        self.cells.len()
    }

    /// Encodes to bytes.
    pub fn encode(&self) -> Result<Vec<u8>> {
        let mut w = Writer::new(AGGREGATE_SHARE_TAG);
        w.u8(self.role.agg_id() as u8);
        w.u64(self.num_reports);
        w.u8(u8::from(self.noised));
        w.u64(self.cells.len() as u64);
        for cell in &self.cells {
            w.raw(&cell.get_encoded().map_err(|e| SecaggError::Prio(e.to_string()))?);
        }
        Ok(w.finish())
    }

    /// Decodes bytes produced by [`AggregateShare::encode`], checking the length against `params`.
    pub fn decode(params: &AggregationParams, bytes: &[u8]) -> Result<Self> {
        let (mut r, tag) = Reader::new("aggregate share", bytes)?;
        if tag != AGGREGATE_SHARE_TAG {
            return Err(r.error(format!("message tag {tag}, expected {AGGREGATE_SHARE_TAG}")));
        }
        let role = match r.u8()? {
            0 => Role::Leader,
            1 => Role::Helper,
            other => return Err(r.error(format!("aggregator role {other}, expected 0 or 1"))),
        };
        let num_reports = r.u64()?;
        let noised = match r.u8()? {
            0 => false,
            1 => true,
            other => return Err(r.error(format!("noise flag {other}, expected 0 or 1"))),
        };
        let length = r.u64()?;
        if length != params.length() as u64 {
            return Err(r.error(format!("{length} cells, the aggregation has {}", params.length())));
        }
        let mut cells = Vec::with_capacity(params.length());
        for _ in 0..length {
            cells.push(decode_field(&mut r)?);
        }
        r.finish()?;
        Ok(AggregateShare {
            role,
            num_reports,
            noised,
            cells,
        })
    }
}

impl fmt::Debug for AggregateShare {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AggregateShare")
            .field("role", &self.role)
            .field("num_reports", &self.num_reports)
            .field("noised", &self.noised)
            .field("length", &self.cells.len())
            .field("cells", &"<redacted>")
            .finish()
    }
}

impl PartialEq for AggregateShare {
    fn eq(&self, other: &Self) -> bool {
        self.role == other.role
            && self.num_reports == other.num_reports
            && self.noised == other.noised
            && self.cells.len() == other.cells.len()
            && bool::from(self.cells.as_slice().ct_eq(other.cells.as_slice()))
    }
}

impl Eq for AggregateShare {}

/// Running sum of accepted output shares at one aggregator (state shared by leader and helper).
pub(crate) struct Accumulator {
    cells: Vec<Field128>,
    accepted: BTreeSet<ReportId>,
}

impl Accumulator {
    pub(crate) fn new(length: usize) -> Self {
        Accumulator {
            cells: vec![Field128::zero(); length],
            accepted: BTreeSet::new(),
        }
    }

    /// Adds the first `length` cells of an output share (the slack cell, if any, is dropped:
    /// its sum would reveal the exact total record count).
    pub(crate) fn add(&mut self, report_id: ReportId, output_share: &[Field128]) -> Result<()> {
        if output_share.len() < self.cells.len() {
            return Err(SecaggError::Protocol {
                reason: format!(
                    "output share of {} cells, expected at least {}",
                    output_share.len(),
                    self.cells.len()
                ),
            });
        }
        for (cell, share) in self.cells.iter_mut().zip(output_share) {
            *cell += *share;
        }
        self.accepted.insert(report_id);
        Ok(())
    }

    pub(crate) fn accepted(&self) -> &BTreeSet<ReportId> {
        &self.accepted
    }

    /// Releases the aggregate share, adding `noise` (one value per cell) in the field.
    pub(crate) fn release(self, role: Role, noise: Option<&mut dyn NoiseSource>) -> Result<AggregateShare> {
        let mut cells = self.cells;
        let noised = noise.is_some();
        if let Some(source) = noise {
            let values = source.sample(cells.len());
            if values.len() != cells.len() {
                return Err(SecaggError::NoiseLength {
                    expected: cells.len(),
                    found: values.len(),
                });
            }
            for (cell, value) in cells.iter_mut().zip(values) {
                *cell += field_from_i64(value);
            }
        }
        Ok(AggregateShare {
            role,
            num_reports: self.accepted.len() as u64,
            noised,
            cells,
        })
    }
}

/// The collector's step: adds the leader's and the helper's aggregate shares and lifts each cell
/// to the signed integer of least absolute value (noise may make a cell negative). Checks that
/// the shares come from one leader and one helper, have the expected length, and both cover
/// `num_reports` reports.
pub fn unshard(
    params: &AggregationParams,
    shares: [AggregateShare; AGGREGATORS],
    num_reports: u64,
) -> Result<Vec<i64>> {
    let [first, second] = &shares;
    if first.role == second.role {
        return Err(SecaggError::ShareMismatch {
            reason: format!("both shares come from the {:?}", first.role),
        });
    }
    for share in &shares {
        if share.cells.len() != params.length() {
            return Err(SecaggError::ShareMismatch {
                reason: format!(
                    "{:?} share has {} cells, expected {}",
                    share.role,
                    share.cells.len(),
                    params.length()
                ),
            });
        }
        if share.num_reports != num_reports {
            return Err(SecaggError::ShareMismatch {
                reason: format!(
                    "{:?} share covers {} reports, expected {num_reports}",
                    share.role, share.num_reports
                ),
            });
        }
    }
    first
        .cells
        .iter()
        .zip(&second.cells)
        .enumerate()
        .map(|(index, (a, b))| {
            let value = centred_lift(*a + *b);
            i64::try_from(value).map_err(|_| SecaggError::Overflow { index, value })
        })
        .collect()
}
