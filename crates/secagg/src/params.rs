//! Public parameters of one aggregation job, agreed by the sites and both aggregators.

use prio::field::{Field128, FieldElementWithInteger};
use prio::vdaf::prio3::{Prio3SumVec, optimal_chunk_length};

use crate::error::{Result, SecaggError};

/// Number of aggregators. Prio3's two-party verification (the ping-pong topology) supports
/// exactly two: the **leader** (the hub) and the **helper** (an independent computing centre).
pub const AGGREGATORS: usize = 2;

/// Largest supported bit width of a cell: cells, totals and declared counts are `u64`.
pub const MAX_BITS: usize = 63;

/// Prefix of the Prio3 application context string; the job context follows it.
const CONTEXT_PREFIX: &[u8] = b"synthema/secagg/v1/";

/// What the validity proof of a report covers beyond "every cell is in `[0, 2^bits - 1]`".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TotalBound {
    /// Only the cell range is proved; no declared record count is sent.
    CellsOnly,
    /// Additionally, the vector's total is at most the site's declared record count: a hidden
    /// slack cell `declared - total` is appended and range-proved, and the aggregators check
    /// (on shares) that `total + slack = declared`. The declared count is sent in clear to both
    /// aggregators. See `docs/threat-model.md`.
    DeclaredCount,
}

/// Parameters of one aggregation job: the vector length, the bit width of a cell, the total
/// bound, and a public job context that binds every report to this job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AggregationParams {
    length: usize,
    bits: usize,
    total_bound: TotalBound,
    job_context: Vec<u8>,
}

impl AggregationParams {
    /// Builds parameters: `length` cells of at most `2^bits - 1` each (`1 <= bits <= 63`,
    /// `1 <= length <= u32::MAX - 1`), and a public `job_context` (for example the job id) that is
    /// mixed into every proof so that a report cannot be replayed into another job.
    pub fn new(length: usize, bits: usize, total_bound: TotalBound, job_context: &[u8]) -> Result<Self> {
        if length == 0 {
            return Err(invalid("length must be at least 1".into()));
        }
        if length >= u32::MAX as usize {
            return Err(invalid(format!("length {length} must be below {}", u32::MAX)));
        }
        if bits == 0 || bits > MAX_BITS {
            return Err(invalid(format!("bits {bits} must be in 1..={MAX_BITS}")));
        }
        if job_context.len() > 1024 {
            return Err(invalid(format!(
                "job context of {} bytes exceeds 1024",
                job_context.len()
            )));
        }
        let params = AggregationParams {
            length,
            bits,
            total_bound,
            job_context: job_context.to_vec(),
        };
        // Fail now rather than at the first report if prio refuses these parameters.
        params.vdaf()?;
        Ok(params)
    }

    /// Number of cells in a site's vector (and in the released aggregate).
    pub fn length(&self) -> usize {
        self.length
    }

    /// Bit width of a cell: every cell is in `[0, 2^bits - 1]`.
    pub fn bits(&self) -> usize {
        self.bits
    }

    /// Largest valid cell value, `2^bits - 1`.
    pub fn max_cell(&self) -> u64 {
        (1u64 << self.bits) - 1
    }

    /// What is proved about the total.
    pub fn total_bound(&self) -> TotalBound {
        self.total_bound
    }

    /// The public job context.
    pub fn job_context(&self) -> &[u8] {
        &self.job_context
    }

    /// Number of aggregators: always [`AGGREGATORS`] (2).
    pub fn aggregators(&self) -> usize {
        AGGREGATORS
    }

    /// Length of the proved vector: `length`, plus one slack cell under
    /// [`TotalBound::DeclaredCount`].
    pub(crate) fn proved_length(&self) -> usize {
        match self.total_bound {
            TotalBound::CellsOnly => self.length,
            TotalBound::DeclaredCount => self.length + 1,
        }
    }

    /// The Prio3SumVec instance for these parameters. No cell sum can wrap in Field128
    /// (p ≈ 2^128): `(length + 1) * (2^63 - 1) < 2^96`.
    pub(crate) fn vdaf(&self) -> Result<Prio3SumVec> {
        let proved = self.proved_length();
        let chunk = optimal_chunk_length(self.bits * proved);
        Prio3SumVec::new_sum_vec(AGGREGATORS as u8, u128::from(self.max_cell()), proved, chunk)
            .map_err(|e| SecaggError::Prio(e.to_string()))
    }

    /// The Prio3 application context: a fixed prefix and the job context.
    pub(crate) fn prio_context(&self) -> Vec<u8> {
        let mut ctx = CONTEXT_PREFIX.to_vec();
        ctx.extend_from_slice(&self.job_context);
        ctx
    }
}

fn invalid(reason: String) -> SecaggError {
    SecaggError::InvalidParams { reason }
}

/// Lifts a field element to the integer of least absolute value in its residue class.
pub(crate) fn centred_lift(value: Field128) -> i128 {
    let v = u128::from(value);
    let p = modulus();
    if v > p / 2 { -((p - v) as i128) } else { v as i128 }
}

/// Maps a signed integer into the field.
pub(crate) fn field_from_i64(value: i64) -> Field128 {
    let magnitude = Field128::from(u128::from(value.unsigned_abs()));
    if value < 0 { -magnitude } else { magnitude }
}

/// Field modulus as a `u128`.
fn modulus() -> u128 {
    <Field128 as FieldElementWithInteger>::modulus()
}
