//! A site's privacy ledger: per dataset, the ρ committed (spent for good) and reserved (in
//! flight), with atomic reserve → commit | release. The durable store (SQLite) comes with the
//! services; [`InMemoryLedger`] is the reference implementation and the one the simulation uses.
//!
//! Invariant (checked by every implementation): `committed + reserved ≤ limit` for every
//! dataset at all times, with sums rounded up.

use std::collections::BTreeMap;

use dp::Rho;

use crate::msg::JobId;
use crate::{FederationError, Result};

/// An outstanding reservation of ρ on one dataset for one job. Not `Clone`: it is consumed by
/// exactly one of [`PrivacyLedger::commit`] or [`PrivacyLedger::release`].
#[derive(Debug, PartialEq)]
pub struct Reservation {
    id: u64,
    dataset: String,
    job: JobId,
    rho: Rho,
}

impl Reservation {
    /// A reservation handle, for [`PrivacyLedger`] implementations only (a durable ledger in
    /// another crate builds the handle for the row it just stored). Callers of a ledger get
    /// reservations from [`PrivacyLedger::reserve`]; a handle built here for a reservation the
    /// ledger does not hold is refused by `commit`/`release` ([`FederationError::UnknownReservation`]).
    pub fn new(id: u64, dataset: &str, job: &JobId, rho: Rho) -> Reservation {
        Reservation {
            id,
            dataset: dataset.to_owned(),
            job: job.clone(),
            rho,
        }
    }

    /// The reservation's id (unique within its ledger).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The dataset charged.
    pub fn dataset(&self) -> &str {
        &self.dataset
    }

    /// The job it is for.
    pub fn job(&self) -> &JobId {
        &self.job
    }

    /// The ρ reserved.
    pub fn rho(&self) -> Rho {
        self.rho
    }
}

/// A site's privacy ledger (see the module documentation).
pub trait PrivacyLedger {
    /// Reserves `rho` on `dataset` for `job`, unless `committed + reserved + rho` would exceed
    /// `limit` ([`FederationError::BudgetExceeded`]; nothing is reserved then).
    fn reserve(&mut self, dataset: &str, job: &JobId, rho: Rho, limit: Rho) -> Result<Reservation>;

    /// Turns a reservation into a permanent charge.
    fn commit(&mut self, reservation: Reservation) -> Result<()>;

    /// Cancels a reservation (nothing derived from the data left the site).
    fn release(&mut self, reservation: Reservation) -> Result<()>;

    /// ρ committed on `dataset` so far (all jobs).
    fn committed(&self, dataset: &str) -> f64;

    /// ρ reserved and not yet committed or released on `dataset`.
    fn reserved(&self, dataset: &str) -> f64;

    /// ρ committed on `dataset` for `job`.
    fn committed_for_job(&self, dataset: &str, job: &JobId) -> f64;
}

/// A committed or outstanding entry.
#[derive(Debug, Clone, PartialEq)]
struct Entry {
    dataset: String,
    job: JobId,
    rho: f64,
}

/// The in-memory ledger: a map of outstanding reservations and a list of commitments.
#[derive(Debug, Clone, Default)]
pub struct InMemoryLedger {
    next_id: u64,
    outstanding: BTreeMap<u64, Entry>,
    commitments: Vec<Entry>,
}

impl InMemoryLedger {
    /// An empty ledger.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every commitment so far: (dataset, job, ρ), in order.
    pub fn commitments(&self) -> Vec<(String, JobId, f64)> {
        self.commitments
            .iter()
            .map(|e| (e.dataset.clone(), e.job.clone(), e.rho))
            .collect()
    }
}

/// Sum rounded up (each addition nudged up by one ulp: never under-counts).
fn sum_up(values: impl Iterator<Item = f64>) -> f64 {
    values.fold(0.0, |acc, v| (acc + v).next_up())
}

/// The limit check every [`PrivacyLedger`] makes before reserving: `used + rho`, rounded up by
/// one ulp (accounting rounds against us), must not exceed `limit` — so a reservation that
/// would fill the budget exactly is refused.
pub fn check_limit(dataset: &str, used: f64, rho: Rho, limit: Rho) -> Result<()> {
    let after = (used + rho.get()).next_up();
    if after > limit.get() {
        return Err(FederationError::BudgetExceeded {
            dataset: dataset.to_owned(),
            requested: rho.get(),
            remaining: (limit.get() - used).max(0.0),
            limit: limit.get(),
        });
    }
    Ok(())
}

impl PrivacyLedger for InMemoryLedger {
    fn reserve(&mut self, dataset: &str, job: &JobId, rho: Rho, limit: Rho) -> Result<Reservation> {
        let used = sum_up([self.committed(dataset), self.reserved(dataset)].into_iter());
        check_limit(dataset, used, rho, limit)?;
        let id = self.next_id;
        self.next_id += 1;
        self.outstanding.insert(
            id,
            Entry {
                dataset: dataset.to_owned(),
                job: job.clone(),
                rho: rho.get(),
            },
        );
        Ok(Reservation {
            id,
            dataset: dataset.to_owned(),
            job: job.clone(),
            rho,
        })
    }

    fn commit(&mut self, reservation: Reservation) -> Result<()> {
        let entry = self
            .outstanding
            .remove(&reservation.id)
            .ok_or(FederationError::UnknownReservation { id: reservation.id })?;
        self.commitments.push(entry);
        Ok(())
    }

    fn release(&mut self, reservation: Reservation) -> Result<()> {
        self.outstanding
            .remove(&reservation.id)
            .map(|_| ())
            .ok_or(FederationError::UnknownReservation { id: reservation.id })
    }

    fn committed(&self, dataset: &str) -> f64 {
        sum_up(self.commitments.iter().filter(|e| e.dataset == dataset).map(|e| e.rho))
    }

    fn reserved(&self, dataset: &str) -> f64 {
        sum_up(
            self.outstanding
                .values()
                .filter(|e| e.dataset == dataset)
                .map(|e| e.rho),
        )
    }

    fn committed_for_job(&self, dataset: &str, job: &JobId) -> f64 {
        sum_up(
            self.commitments
                .iter()
                .filter(|e| e.dataset == dataset && &e.job == job)
                .map(|e| e.rho),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rho(x: f64) -> Rho {
        Rho::new(x).unwrap()
    }

    #[test]
    fn reserve_commit_release_respect_the_limit() {
        let mut ledger = InMemoryLedger::new();
        let job = JobId("j".into());
        let a = ledger.reserve("aml", &job, rho(0.4), rho(1.0)).unwrap();
        let b = ledger.reserve("aml", &job, rho(0.4), rho(1.0)).unwrap();
        // 0.8 reserved: 0.3 more would exceed 1.0.
        assert!(matches!(
            ledger.reserve("aml", &job, rho(0.3), rho(1.0)),
            Err(FederationError::BudgetExceeded { .. })
        ));
        // Another dataset has its own budget.
        let other = ledger.reserve("scd", &job, rho(0.9), rho(1.0)).unwrap();
        ledger.commit(a).unwrap();
        ledger.release(b).unwrap();
        assert!((ledger.committed("aml") - 0.4).abs() < 1e-12);
        assert_eq!(ledger.reserved("aml"), 0.0);
        assert!(ledger.reserve("aml", &job, rho(0.5), rho(1.0)).is_ok());
        assert!((ledger.reserved("scd") - 0.9).abs() < 1e-12);
        ledger.release(other).unwrap();
        assert_eq!(ledger.commitments().len(), 1);
        assert!((ledger.committed_for_job("aml", &job) - 0.4).abs() < 1e-12);
        assert_eq!(ledger.committed_for_job("aml", &JobId("other".into())), 0.0);
    }

    #[test]
    fn a_reservation_is_settled_once() {
        let mut ledger = InMemoryLedger::new();
        let job = JobId("j".into());
        let r = ledger.reserve("aml", &job, rho(0.1), rho(1.0)).unwrap();
        let forged = Reservation::new(r.id(), "aml", &job, rho(0.1));
        ledger.commit(r).unwrap();
        assert!(matches!(
            ledger.release(forged),
            Err(FederationError::UnknownReservation { .. })
        ));
    }
}
