//! The site (hospital node): holds its encoded table, its policy and its privacy ledger, and
//! answers the hub's requests with secret shares only.
//!
//! **Privacy claim at the site.** For every round the site (1) recomputes the request's cost
//! ρ = k/(2σ²) from the request's own σ² ([`crate::noise::rho_of_request`]) — it never uses a
//! number the hub computed; (2) refuses unless the job's total at this site stays within the
//! job's announced ρ and the dataset's total stays within the policy's `max_rho_per_dataset`
//! (reserve in the ledger first); (3) releases only the two secret shares of its count vector
//! (each uniformly random on its own) and its declared record count, and commits the reservation
//! as soon as the shares leave. A repeated request for an answered round is answered with the
//! *same* shares and charged nothing more. Refunds are never made once shares have left: that
//! would require trusting that neither aggregator released.

use std::collections::BTreeMap;

use rand::RngExt;
use rand_chacha::ChaCha20Rng;
use secagg::{ReportId, share};
use table::encode::Encoded;

use crate::ledger::PrivacyLedger;
use crate::msg::{
    JobAcceptance, JobAnnouncement, JobId, MeasurementRequest, Message, Method, Purpose, Refusal, RefusalReason, Round,
    SiteId, Upload, to_hex,
};
use crate::noise::{rho_of_request, vote_mechanism};
use crate::query::{Query, check, count, local_errors, params, sampling_floor};
use crate::{FederationError, Result, protocol};
use dp::Rho;

/// What a data steward allows for one dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct SitePolicy {
    /// Total zCDP budget of the dataset over all jobs.
    pub max_rho_per_dataset: Rho,
    /// Methods the site takes part in.
    pub allowed_methods: Vec<Method>,
    /// The site refuses jobs that may release aggregates over fewer sites than this.
    pub min_sites: u32,
    /// Requesters (researchers) the site works for.
    pub allowed_requesters: Vec<String>,
}

/// A message the site sends.
#[derive(Debug, Clone, PartialEq)]
pub enum SiteOutput {
    /// To the hub (acceptance, refusal, the leader's share).
    ToHub(Message),
    /// To the helper aggregator, directly over mTLS (the helper's share).
    ToHelper(Message),
}

/// A round the site answered: the request and both uploads, kept so that a repeated request is
/// answered identically.
#[derive(Debug, Clone)]
struct Answered {
    request: MeasurementRequest,
    leader: Upload,
    helper: Upload,
}

#[derive(Debug, Clone)]
struct SiteJob {
    announcement: JobAnnouncement,
    answered: BTreeMap<Round, Answered>,
}

/// A site's state machine (see the module documentation).
pub struct SiteNode<L> {
    id: SiteId,
    dataset: String,
    data: Encoded,
    policy: SitePolicy,
    ledger: L,
    jobs: BTreeMap<JobId, SiteJob>,
    rng: ChaCha20Rng,
}

impl<L: PrivacyLedger> SiteNode<L> {
    /// A site `id` holding `data` of `dataset`, governed by `policy` and `ledger`. `rng` draws
    /// report ids (seed it from the OS in deployment).
    pub fn new(id: SiteId, dataset: &str, data: Encoded, policy: SitePolicy, ledger: L, rng: ChaCha20Rng) -> Self {
        SiteNode {
            id,
            dataset: dataset.to_owned(),
            data,
            policy,
            ledger,
            jobs: BTreeMap::new(),
            rng,
        }
    }

    /// The site's id.
    pub fn id(&self) -> &SiteId {
        &self.id
    }

    /// The site's policy.
    pub fn policy(&self) -> &SitePolicy {
        &self.policy
    }

    /// The site's ledger.
    pub fn ledger(&self) -> &L {
        &self.ledger
    }

    /// The dataset's name.
    pub fn dataset(&self) -> &str {
        &self.dataset
    }

    /// The site's encoded records (never sent anywhere).
    pub fn data(&self) -> &Encoded {
        &self.data
    }

    /// Handles one message from the hub. Refusals are outputs; an `Err` means the message has
    /// no meaning for a site (e.g. a helper instruction).
    pub fn handle(&mut self, message: Message) -> Result<Vec<SiteOutput>> {
        match message {
            Message::Announcement(a) => Ok(vec![SiteOutput::ToHub(self.consider(a))]),
            Message::Request(r) => Ok(self.answer(r)),
            Message::Result(_) | Message::Failure(_) => Ok(Vec::new()),
            other => Err(protocol(format!("a site cannot handle {other:?}"))),
        }
    }

    fn refusal(&self, job_id: &JobId, round: Option<Round>, reason: RefusalReason, detail: String) -> Message {
        Message::Refusal(Refusal {
            job_id: job_id.clone(),
            round,
            site: self.id.clone(),
            reason,
            detail,
        })
    }

    /// Accepts or refuses a job against the policy.
    fn consider(&mut self, a: JobAnnouncement) -> Message {
        if let Some(job) = self.jobs.get(&a.job_id) {
            return if job.announcement == a {
                self.accept(&a.job_id)
            } else {
                self.refusal(
                    &a.job_id,
                    None,
                    RefusalReason::InvalidRequest,
                    "the job was announced before with different terms".into(),
                )
            };
        }
        match self.policy_verdict(&a) {
            Ok(()) => {
                let id = a.job_id.clone();
                self.jobs.insert(
                    id.clone(),
                    SiteJob {
                        announcement: a,
                        answered: BTreeMap::new(),
                    },
                );
                self.accept(&id)
            }
            Err((reason, detail)) => self.refusal(&a.job_id, None, reason, detail),
        }
    }

    fn accept(&self, job_id: &JobId) -> Message {
        Message::Acceptance(JobAcceptance {
            job_id: job_id.clone(),
            site: self.id.clone(),
        })
    }

    fn policy_verdict(&self, a: &JobAnnouncement) -> std::result::Result<(), (RefusalReason, String)> {
        use RefusalReason::*;
        if a.dataset != self.dataset {
            return Err((
                UnknownDataset,
                format!("this site holds {}, not {}", self.dataset, a.dataset),
            ));
        }
        if !self.policy.allowed_requesters.contains(&a.requester) {
            return Err((RequesterNotAllowed, format!("requester {} is not allowed", a.requester)));
        }
        if !self.policy.allowed_methods.contains(&a.method) {
            return Err((MethodNotAllowed, format!("method {:?} is not allowed", a.method)));
        }
        if a.min_sites < self.policy.min_sites || (a.sites.len() as u64) < u64::from(self.policy.min_sites) {
            return Err((
                TooFewSites,
                format!(
                    "the job releases over at least {} of {} sites; the policy requires {}",
                    a.min_sites,
                    a.sites.len(),
                    self.policy.min_sites
                ),
            ));
        }
        if !a.sites.contains(&self.id) {
            return Err((InvalidRequest, format!("site {} is not among the job's sites", self.id)));
        }
        let names: Vec<&str> = self.data.domain().attributes().iter().map(|x| x.name()).collect();
        if a.columns.iter().map(String::as_str).ne(names.iter().copied()) {
            return Err((
                InvalidRequest,
                format!(
                    "the job's columns {:?} are not this site's attributes {names:?}",
                    a.columns
                ),
            ));
        }
        let rows = self.data.n_rows() as u64;
        if a.bits == 0 || a.bits > secagg::MAX_BITS as u32 || rows > (1u64 << a.bits) - 1 {
            return Err((
                InvalidRequest,
                format!("{rows} records do not fit cells of {} bits", a.bits),
            ));
        }
        if !(a.rho_per_site.is_finite() && a.rho_per_site > 0.0) {
            return Err((
                BudgetExceeded,
                format!("job budget rho {} is not positive", a.rho_per_site),
            ));
        }
        let remaining = self.policy.max_rho_per_dataset.get()
            - self.ledger.committed(&self.dataset)
            - self.ledger.reserved(&self.dataset);
        if a.rho_per_site > remaining {
            return Err((
                BudgetExceeded,
                format!(
                    "the job asks for rho {} and the dataset has {remaining} left",
                    a.rho_per_site
                ),
            ));
        }
        Ok(())
    }

    /// Answers a round's request with two shares, or refuses it.
    fn answer(&mut self, request: MeasurementRequest) -> Vec<SiteOutput> {
        let (job_id, round) = (request.job_id.clone(), request.round);
        let Some(job) = self.jobs.get(&job_id) else {
            let detail = format!("job {job_id} is unknown or was refused");
            return vec![SiteOutput::ToHub(self.refusal(
                &job_id,
                Some(round),
                RefusalReason::UnknownJob,
                detail,
            ))];
        };
        if let Some(done) = job.answered.get(&round) {
            if done.request == request {
                return vec![
                    SiteOutput::ToHub(Message::Upload(done.leader.clone())),
                    SiteOutput::ToHelper(Message::Upload(done.helper.clone())),
                ];
            }
            let detail = format!("round {round} was answered for a different request");
            return vec![SiteOutput::ToHub(self.refusal(
                &job_id,
                Some(round),
                RefusalReason::InvalidRequest,
                detail,
            ))];
        }
        match self.share_round(&request) {
            Ok((leader, helper)) => {
                if let Some(job) = self.jobs.get_mut(&job_id) {
                    job.answered.insert(
                        round,
                        Answered {
                            request,
                            leader: leader.clone(),
                            helper: helper.clone(),
                        },
                    );
                }
                vec![
                    SiteOutput::ToHub(Message::Upload(leader)),
                    SiteOutput::ToHelper(Message::Upload(helper)),
                ]
            }
            Err((reason, detail)) => vec![SiteOutput::ToHub(self.refusal(&job_id, Some(round), reason, detail))],
        }
    }

    /// Checks, reserves, counts, shares and commits.
    fn share_round(
        &mut self,
        request: &MeasurementRequest,
    ) -> std::result::Result<(Upload, Upload), (RefusalReason, String)> {
        use RefusalReason::*;
        let invalid = |e: FederationError| (InvalidRequest, e.to_string());
        let job = self
            .jobs
            .get(&request.job_id)
            .ok_or_else(|| (UnknownJob, format!("job {} is unknown", request.job_id)))?;
        let announcement = job.announcement.clone();
        let query = check(request, &self.data.domain().sizes()).map_err(invalid)?;
        // The cost, recomputed here from the request's own σ² and number of marginals.
        let rho = rho_of_request(request).map_err(invalid)?;
        let job_spent = self.ledger.committed_for_job(&self.dataset, &request.job_id);
        if (job_spent + rho.get()).next_up() > announcement.rho_per_site {
            return Err((
                BudgetExceeded,
                format!(
                    "rho {} on top of {job_spent} exceeds the job's {} at this site",
                    rho.get(),
                    announcement.rho_per_site
                ),
            ));
        }
        let reservation = self
            .ledger
            .reserve(&self.dataset, &request.job_id, rho, self.policy.max_rho_per_dataset)
            .map_err(ledger_refusal)?;
        let shared = (|| -> Result<_> {
            let params = params(request, announcement.bits, query.length)?;
            let vector = match request.purpose {
                Purpose::Votes => vote(&self.data, request, &query, &mut self.rng)?,
                Purpose::Measurement | Purpose::Selection | Purpose::Scores => count(&self.data, request, &query)?,
            };
            let mut vector = vector;
            if request.purpose == Purpose::Scores {
                // Clamping is 1-Lipschitz, so the scores' sensitivity is unchanged; without it an
                // over-range score would make `share` fail, and whether (and where) it fails
                // depends on the data (review finding F1).
                let max = params.max_cell();
                vector.iter_mut().for_each(|v| *v = (*v).min(max));
            }
            let id = ReportId::from_bytes(self.rng.random());
            // Each record adds one to each of the k marginals: the total is k·n exactly, and the
            // proof bounds it by the declared k·n (n is disclosed to both aggregators anyway).
            let declared = match request.purpose {
                Purpose::Scores => None,
                Purpose::Votes => Some(1),
                Purpose::Measurement | Purpose::Selection => {
                    Some((self.data.n_rows() as u64).saturating_mul(query.marginals.len() as u64))
                }
            };
            let [leader, helper] = share(&params, &vector, declared, id)?;
            Ok((leader.encode()?, helper.encode()?))
        })();
        match shared {
            Ok((leader, helper)) => {
                // Committed before the shares leave; if the ledger cannot record it, they do not.
                self.ledger.commit(reservation).map_err(ledger_refusal)?;
                let upload = |bytes: &[u8]| Upload {
                    job_id: request.job_id.clone(),
                    round: request.round,
                    site: self.id.clone(),
                    share: to_hex(bytes),
                };
                Ok((upload(&leader), upload(&helper)))
            }
            Err(_) => {
                // The failure may depend on the data: charge the reservation (conservative) and
                // say nothing derived from the data in the refusal.
                self.ledger.commit(reservation).map_err(ledger_refusal)?;
                Err((
                    InvalidRequest,
                    "the site could not share its contribution to this request".to_string(),
                ))
            }
        }
    }
}

/// The refusal for a ledger error: over budget, or the ledger's storage failed (and a
/// reservation it may hold stays outstanding, counted against the budget: never under-counted).
fn ledger_refusal(e: FederationError) -> (RefusalReason, String) {
    match e {
        FederationError::BudgetExceeded { .. } => (RefusalReason::BudgetExceeded, e.to_string()),
        // The storage error names local files and database details: the hub is told only that
        // the ledger is unavailable; the cause stays at the site.
        FederationError::Ledger { .. } => (
            RefusalReason::LedgerUnavailable,
            "the site's privacy ledger is unavailable".to_string(),
        ),
        _ => (RefusalReason::InvalidRequest, e.to_string()),
    }
}

/// The site's vote for a [`Purpose::Votes`] request: a one-hot vector over the candidates, the
/// index drawn by the exponential mechanism on the site's quantised local scores (privacy claim
/// at [`vote_mechanism`]).
fn vote(data: &Encoded, request: &MeasurementRequest, query: &Query, rng: &mut ChaCha20Rng) -> Result<Vec<u64>> {
    let votes = request
        .votes
        .as_ref()
        .ok_or_else(|| crate::input("a vote request carries no vote query"))?;
    let mechanism = vote_mechanism(request)?;
    let errors = local_errors(data, request, query, &votes.models)?;
    let max_weight = votes.weights.iter().copied().max().unwrap_or(0) as f64;
    if max_weight <= 0.0 {
        return Err(crate::input("every candidate weight is zero"));
    }
    let resolution = f64::from(votes.resolution);
    let scale = crate::msg::MODEL_SCALE as f64;
    let sites = f64::from(votes.sites);
    let scores: Vec<i64> = errors
        .iter()
        .zip(&votes.weights)
        .zip(&votes.penalties)
        .zip(&votes.models)
        .map(|(((&l1, &w), &p), model)| {
            let floor = sampling_floor(model, votes.sites);
            let score = resolution * w as f64 * (l1 - floor - p as f64 / scale / sites) / max_weight;
            score.floor().clamp(-9.0e15, 9.0e15) as i64
        })
        .collect();
    let pick = mechanism.select(&scores, rng)?;
    let mut one_hot = vec![0u64; scores.len()];
    let slot = one_hot
        .get_mut(pick)
        .ok_or_else(|| crate::input(format!("the mechanism chose {pick} of {} candidates", scores.len())))?;
    *slot = 1;
    Ok(one_hot)
}
