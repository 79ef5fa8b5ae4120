//! The site's side: report ids, input shares, and [`share`].

use std::fmt;

use prio::codec::{Encode, ParameterizedDecode};
use prio::field::Field128;
use prio::vdaf::Client;
use prio::vdaf::prio3::{Prio3InputShare, Prio3PublicShare};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

use crate::codec::{Reader, Writer};
use crate::error::{Result, SecaggError};
use crate::params::{AGGREGATORS, AggregationParams, TotalBound};

/// Identifies one report (one site's contribution to one job); also the Prio3 nonce. The site
/// draws it from a cryptographically secure RNG; an aggregator counts a report id at most once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReportId([u8; 16]);

impl ReportId {
    /// Wraps 16 bytes.
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        ReportId(bytes)
    }

    /// The 16 bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

impl fmt::Display for ReportId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

/// Which aggregator a share is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The leader aggregator (the hub); Prio3 aggregator id 0.
    Leader,
    /// The helper aggregator (a computing centre); Prio3 aggregator id 1.
    Helper,
}

impl Role {
    pub(crate) fn agg_id(self) -> usize {
        match self {
            Role::Leader => 0,
            Role::Helper => 1,
        }
    }

    fn from_byte(byte: u8, reader: &Reader<'_>) -> Result<Self> {
        match byte {
            0 => Ok(Role::Leader),
            1 => Ok(Role::Helper),
            other => Err(reader.error(format!("aggregator role {other}, expected 0 or 1"))),
        }
    }
}

/// The verification key shared by the two aggregators (and by no one else): 32 secret bytes.
/// Zeroized on drop; `Debug` redacts it; equality is constant-time.
#[derive(Clone)]
pub struct VerifyKey([u8; 32]);

impl VerifyKey {
    /// Wraps 32 secret bytes, drawn by one aggregator from a CSPRNG and given to the other over
    /// the authenticated channel between them.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        VerifyKey(bytes)
    }

    pub(crate) fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl Drop for VerifyKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for VerifyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VerifyKey(<redacted>)")
    }
}

impl PartialEq for VerifyKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for VerifyKey {}

/// What one aggregator receives from a site for one report: the report id, the declared record
/// count (if the job checks totals), the public share (joint-randomness parts, same for both
/// aggregators) and this aggregator's secret input share.
///
/// The input share is kept only as its encoding, zeroized on drop; `Debug` redacts it and
/// equality compares it in constant time.
#[derive(Clone)]
pub struct ReportShare {
    report_id: ReportId,
    role: Role,
    declared_count: Option<u64>,
    public_share: Vec<u8>,
    input_share: Zeroizing<Vec<u8>>,
}

const REPORT_SHARE_TAG: u8 = 1;

impl ReportShare {
    /// The report id.
    pub fn report_id(&self) -> ReportId {
        self.report_id
    }

    /// The aggregator this share is for.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The declared record count, sent in clear (present iff the job uses
    /// [`TotalBound::DeclaredCount`]).
    pub fn declared_count(&self) -> Option<u64> {
        self.declared_count
    }

    /// Encodes to bytes (for upload to the aggregator).
    pub fn encode(&self) -> Result<Vec<u8>> {
        let mut w = Writer::new(REPORT_SHARE_TAG);
        w.raw(self.report_id.as_bytes());
        w.u8(self.role.agg_id() as u8);
        w.option_u64(self.declared_count);
        w.bytes(&self.public_share)?;
        w.bytes(&self.input_share)?;
        Ok(w.finish())
    }

    /// Decodes bytes produced by [`ReportShare::encode`], checking that the shares are valid
    /// encodings for `params` and that the declared count is present iff `params` checks totals.
    pub fn decode(params: &AggregationParams, bytes: &[u8]) -> Result<Self> {
        let (mut r, tag) = Reader::new("report share", bytes)?;
        if tag != REPORT_SHARE_TAG {
            return Err(r.error(format!("message tag {tag}, expected {REPORT_SHARE_TAG}")));
        }
        let report_id = ReportId(r.array()?);
        let role_byte = r.u8()?;
        let role = Role::from_byte(role_byte, &r)?;
        let declared_count = r.option_u64()?;
        let public_share = r.bytes()?.to_vec();
        let input_share = Zeroizing::new(r.bytes()?.to_vec());
        r.finish()?;
        let share = ReportShare {
            report_id,
            role,
            declared_count,
            public_share,
            input_share,
        };
        check_declared_presence(params, declared_count)?;
        // Validate both prio encodings now; they are decoded again when used.
        share.prio_shares(params)?;
        Ok(share)
    }

    /// Decodes the prio public share and input share.
    pub(crate) fn prio_shares(
        &self,
        params: &AggregationParams,
    ) -> Result<(Prio3PublicShare<32>, Prio3InputShare<Field128, 32>)> {
        let vdaf = params.vdaf()?;
        let public = Prio3PublicShare::get_decoded_with_param(&vdaf, &self.public_share).map_err(|e| {
            SecaggError::Malformed {
                what: "public share",
                reason: e.to_string(),
            }
        })?;
        let input =
            Prio3InputShare::get_decoded_with_param(&(&vdaf, self.role.agg_id()), &self.input_share).map_err(|e| {
                SecaggError::Malformed {
                    what: "input share",
                    reason: e.to_string(),
                }
            })?;
        Ok((public, input))
    }

    /// For tests of tampering: the encoded input share, mutable.
    #[cfg(test)]
    pub(crate) fn input_share_bytes_mut(&mut self) -> &mut Vec<u8> {
        &mut self.input_share
    }

    /// For tests of a lying site: overwrite the declared count.
    #[cfg(test)]
    pub(crate) fn set_declared_count(&mut self, declared: Option<u64>) {
        self.declared_count = declared;
    }
}

impl fmt::Debug for ReportShare {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReportShare")
            .field("report_id", &self.report_id)
            .field("role", &self.role)
            .field("declared_count", &self.declared_count)
            .field("public_share_len", &self.public_share.len())
            .field("input_share", &"<redacted>")
            .finish()
    }
}

impl PartialEq for ReportShare {
    fn eq(&self, other: &Self) -> bool {
        let public = self.report_id == other.report_id
            && self.role == other.role
            && self.declared_count == other.declared_count
            && self.public_share == other.public_share;
        public && bool::from(self.input_share.as_slice().ct_eq(other.input_share.as_slice()))
    }
}

impl Eq for ReportShare {}

fn check_declared_presence(params: &AggregationParams, declared: Option<u64>) -> Result<()> {
    match (params.total_bound(), declared) {
        (TotalBound::CellsOnly, None) | (TotalBound::DeclaredCount, Some(_)) => Ok(()),
        (TotalBound::CellsOnly, Some(d)) => Err(SecaggError::DeclaredCount {
            reason: format!("{d} given, but the job proves cell ranges only"),
        }),
        (TotalBound::DeclaredCount, None) => Err(SecaggError::DeclaredCount {
            reason: "missing, but the job proves the total against it".into(),
        }),
    }
}

/// Splits a site's count vector into one [`ReportShare`] per aggregator (`[leader, helper]`),
/// with a Prio3SumVec proof that every cell is in `[0, 2^bits - 1]` and, under
/// [`TotalBound::DeclaredCount`], that the total is at most `declared_count`.
///
/// Refuses (before any sharing) a vector of the wrong length, a cell above `2^bits - 1`, a total
/// above the declared count, or a declared count more than `2^bits - 1` above the total (the
/// slack cell could not hold it).
///
/// The sharing randomness comes from prio's own CSPRNG (`rand::rng()`, seeded by the OS): prio
/// 0.18 exposes no way to inject it outside its `test-util` feature, and nothing but a CSPRNG may
/// be used there anyway. The caller supplies the report id (the nonce), drawn from a CSPRNG.
pub fn share(
    params: &AggregationParams,
    vector: &[u64],
    declared_count: Option<u64>,
    report_id: ReportId,
) -> Result<[ReportShare; AGGREGATORS]> {
    check_declared_presence(params, declared_count)?;
    if vector.len() != params.length() {
        return Err(SecaggError::LengthMismatch {
            expected: params.length(),
            found: vector.len(),
        });
    }
    let max = params.max_cell();
    let mut measurement: Vec<u128> = Vec::with_capacity(params.proved_length());
    for (index, &value) in vector.iter().enumerate() {
        if value > max {
            return Err(SecaggError::CellOutOfRange {
                index,
                value,
                max,
                bits: params.bits(),
            });
        }
        measurement.push(u128::from(value));
    }
    if let Some(declared) = declared_count {
        let total: u128 = measurement.iter().sum();
        let declared_wide = u128::from(declared);
        if total > declared_wide {
            return Err(SecaggError::TotalExceedsDeclared { total, declared });
        }
        let slack = declared_wide - total;
        if slack > u128::from(max) {
            return Err(SecaggError::SlackOutOfRange {
                total,
                declared,
                slack,
                max,
            });
        }
        measurement.push(slack);
    }
    let vdaf = params.vdaf()?;
    let ctx = params.prio_context();
    let (public, inputs) = vdaf
        .shard(&ctx, &measurement, report_id.as_bytes())
        .map_err(|e| SecaggError::Prio(e.to_string()))?;
    measurement.zeroize();
    let public_share = public.get_encoded().map_err(|e| SecaggError::Prio(e.to_string()))?;
    let [leader, helper]: [Prio3InputShare<Field128, 32>; AGGREGATORS] = inputs
        .try_into()
        .map_err(|v: Vec<_>| SecaggError::Prio(format!("prio returned {} input shares, expected 2", v.len())))?;
    let make = |role: Role, input: &Prio3InputShare<Field128, 32>| -> Result<ReportShare> {
        Ok(ReportShare {
            report_id,
            role,
            declared_count,
            public_share: public_share.clone(),
            input_share: Zeroizing::new(input.get_encoded().map_err(|e| SecaggError::Prio(e.to_string()))?),
        })
    };
    Ok([make(Role::Leader, &leader)?, make(Role::Helper, &helper)?])
}
