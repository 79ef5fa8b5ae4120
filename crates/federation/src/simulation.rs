//! A deterministic in-process federation: one hub, one helper and N sites, every message
//! encoded and decoded through [`crate::msg`] on every hop, delivered first in first out, with
//! scripted faults of the sites ([`Fault`]) and of the aggregators ([`AggregatorFault`]).
//!
//! **Mock clock.** Delivering a message takes one tick. A round's sites must answer within
//! [`Deadlines::site`] ticks of its opening: then silent sites are reported to the hub as
//! dropped and the round is closed with what arrived. Once the hub asked the helper for its
//! aggregate share, the helper must answer within [`Deadlines::helper`] ticks, else the round
//! fails ("helper aggregator timed out") and the job ends. When no message is left the clock
//! jumps to the next deadline.
//!
//! **Persistence.** The simulation persists the hub's [`HubCheckpoint`] as JSON bytes the way a
//! driver must: after the announcement, at every round boundary and before the hub asks the
//! helper for its share. A [`AggregatorFault::HubRestart`] drops the hub with everything in
//! flight to or from it, restores it from those bytes and re-opens the round with the same spec.
//!
//! Sharing randomness inside `secagg::share` comes from prio's own CSPRNG (not injectable);
//! everything else — report ids, noise, the order of delivery — is seeded, so sums, refusals,
//! rejections and ledgers are reproducible.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use secagg::{ReportId, VerifyKey, share};
use sha2::{Digest, Sha256};

use crate::aggregator::{HelperNode, HelperNodeInput};
use crate::hub::{Hub, HubCheckpoint, HubInput, HubOutput, RejectedUpload, RoundRelease, RoundSpec};
use crate::ledger::InMemoryLedger;
use crate::msg::{
    self, HelperInstruction, HelperReply, JobAnnouncement, MeasurementRequest, Message, Purpose, Refusal, RoundFailure,
    SiteId,
};
use crate::noise::Noise;
use crate::site::{SiteNode, SiteOutput};
use crate::{FederationError, Result, protocol};
use dp::Rational;

/// The protocol step at which a scripted site drop happens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// The site never answers the job announcement.
    Announcement,
    /// The site never answers a round's request.
    Request,
    /// The site uploads its leader share, then vanishes before its helper share arrives.
    HelperUpload,
}

/// A scripted fault. `site` indexes the simulation's sites; `round` counts from 1 (ignored for
/// [`Step::Announcement`]).
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// The site goes silent at `step` of `round` and stays silent.
    Drop {
        /// The site.
        site: usize,
        /// The round.
        round: u32,
        /// The step.
        step: Step,
    },
    /// The site's two uploads of `round` are each delivered twice.
    ReplayUpload {
        /// The site.
        site: usize,
        /// The round.
        round: u32,
    },
    /// The site sends, instead of its honest report, one whose cells exceed `2^bits − 1`
    /// (shared for wider cells; it cannot be shared for the round's parameters at all).
    OutOfRange {
        /// The site.
        site: usize,
        /// The round.
        round: u32,
    },
    /// The site's uploads of `round` claim to come from site `claims` (the transport still
    /// authenticates the real sender).
    Impersonate {
        /// The site.
        site: usize,
        /// The round.
        round: u32,
        /// The site it claims to be.
        claims: usize,
    },
    /// One byte of the site's leader share is altered in transit.
    TamperShare {
        /// The site.
        site: usize,
        /// The round.
        round: u32,
    },
}

/// The step of a round at which a scripted hub restart happens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RestartStep {
    /// The sites' uploads arrived and were verified; the hub crashes before it persists its
    /// state and asks the helper for its share. It resumes from the previous round boundary:
    /// the helper's partial state of the round is reset by the identical re-opening.
    Uploads,
    /// The helper released its aggregate share; the hub crashes before receiving it. It resumes
    /// from the checkpoint taken before it asked for the share: the helper re-sends the cached
    /// bytes.
    HelperShare,
}

/// A scripted fault of an aggregator (set with [`Simulation::with_aggregator_faults`]). `round`
/// counts from 1. Each hub restart happens once.
#[derive(Clone, Debug, PartialEq)]
pub enum AggregatorFault {
    /// The hub crashes at `step` of `round` and restarts from its persisted checkpoint.
    HubRestart {
        /// The round.
        round: u32,
        /// The step.
        step: RestartStep,
    },
    /// The helper verifies the reports of `round` but its answers to the hub's request for its
    /// aggregate share never arrive: the hub's helper deadline passes.
    HelperTimeout {
        /// The round.
        round: u32,
    },
}

/// The mock clock's deadlines, in ticks (one tick per delivered message).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deadlines {
    /// Ticks from a round's opening until the hub stops waiting for the sites' answers.
    pub site: u64,
    /// Ticks the hub waits for the helper's aggregate share once it asked for it.
    pub helper: u64,
}

impl Default for Deadlines {
    /// 10 000 ticks for the sites, 1 000 for the helper: far above what a round's messages take.
    fn default() -> Self {
        Deadlines {
            site: 10_000,
            helper: 1_000,
        }
    }
}

/// Settings of a [`Simulation`].
#[derive(Clone, Debug, PartialEq)]
pub struct SimulationConfig {
    /// Seeds the aggregators' noise and the verification key.
    pub seed: u64,
    /// Noise at the aggregators ([`Noise::DisabledForTests`] only in tests).
    pub noise: Noise,
    /// The helper's own floor on contributing sites.
    pub helper_min_sites: u32,
    /// Faults to inject.
    pub faults: Vec<Fault>,
}

/// Something that happened in the simulation.
#[derive(Clone, Debug, PartialEq)]
pub enum SimEvent {
    /// A scripted fault took effect.
    FaultInjected(Fault),
    /// A site refused a job or a round.
    Refused(Refusal),
    /// A round released.
    Released {
        /// The round.
        round: u32,
        /// Who was counted.
        contributors: Vec<SiteId>,
    },
    /// A round failed.
    Failed(RoundFailure),
    /// A scripted aggregator fault took effect (once per restart; once per round for a helper
    /// timeout).
    AggregatorFaultInjected(AggregatorFault),
    /// The helper sent its aggregate share of a round (SHA-256 of the encoded share, hex): a
    /// re-sent share after a restart has the same digest.
    AggregateShareSent {
        /// The round.
        round: u32,
        /// SHA-256 of the hex-encoded share.
        sha256: String,
    },
}

enum Hop {
    SiteToHub(usize, Vec<u8>),
    SiteToHelper(usize, Vec<u8>),
    HubToSite(usize, Vec<u8>),
    HubToHelper(Vec<u8>),
    HelperToHub(Vec<u8>),
}

/// The in-process federation (see the module documentation).
pub struct Simulation {
    hub: Hub,
    helper: HelperNode,
    sites: Vec<SiteNode<InMemoryLedger>>,
    index: BTreeMap<SiteId, usize>,
    faults: Vec<Fault>,
    silent: BTreeSet<usize>,
    reported: BTreeSet<usize>,
    events: Vec<SimEvent>,
    upload_bytes: Vec<usize>,
    queue: VecDeque<Hop>,
    outcome: Option<std::result::Result<RoundRelease, RoundFailure>>,
    bits: u32,
    key_bytes: [u8; 32],
    noise: Noise,
    /// The hub's RNG as built (its persisted secret seed): a restored hub gets a clone.
    hub_rng: ChaCha20Rng,
    /// The last persisted hub checkpoint (JSON).
    persisted: Vec<u8>,
    /// The spec of the round being run (re-opened identically after a hub restart).
    spec: Option<RoundSpec>,
    aggregator_faults: Vec<AggregatorFault>,
    fired: BTreeSet<usize>,
    deadlines: Deadlines,
    now: u64,
    site_deadline: Option<u64>,
    helper_since: Option<u64>,
}

impl Simulation {
    /// Builds the parties for `announcement` (sites in the announcement's order must be
    /// `sites`' ids), and runs the announcement phase.
    pub fn new(
        announcement: JobAnnouncement,
        sizes: Vec<usize>,
        sites: Vec<SiteNode<InMemoryLedger>>,
        config: SimulationConfig,
    ) -> Result<Simulation> {
        let mut rng = ChaCha20Rng::seed_from_u64(config.seed);
        let key_bytes: [u8; 32] = rand::RngExt::random(&mut rng);
        let hub_rng = ChaCha20Rng::from_rng(&mut rng);
        let helper_rng = ChaCha20Rng::from_rng(&mut rng);
        let bits = announcement.bits;
        let index: BTreeMap<SiteId, usize> = sites.iter().enumerate().map(|(i, s)| (s.id().clone(), i)).collect();
        if index.len() != sites.len() {
            return Err(protocol("two sites share an id"));
        }
        let hub = Hub::new(
            announcement,
            sizes,
            VerifyKey::from_bytes(key_bytes),
            config.noise,
            hub_rng.clone(),
        )?;
        let helper = HelperNode::new(
            VerifyKey::from_bytes(key_bytes),
            config.noise,
            helper_rng,
            config.helper_min_sites,
        );
        let n = sites.len();
        let mut sim = Simulation {
            hub,
            helper,
            sites,
            index,
            faults: config.faults,
            silent: BTreeSet::new(),
            reported: BTreeSet::new(),
            events: Vec::new(),
            upload_bytes: vec![0; n],
            queue: VecDeque::new(),
            outcome: None,
            bits,
            key_bytes,
            noise: config.noise,
            hub_rng,
            persisted: Vec::new(),
            spec: None,
            aggregator_faults: Vec::new(),
            fired: BTreeSet::new(),
            deadlines: Deadlines::default(),
            now: 0,
            site_deadline: None,
            helper_since: None,
        };
        let outputs = sim.hub.announce();
        sim.route_hub(outputs)?;
        sim.settle()?;
        sim.persist()?;
        Ok(sim)
    }

    /// Scripts faults of the aggregators for the rounds to come.
    pub fn with_aggregator_faults(mut self, faults: Vec<AggregatorFault>) -> Self {
        self.aggregator_faults = faults;
        self.fired.clear();
        self
    }

    /// Sets the mock clock's deadlines for the rounds to come.
    pub fn with_deadlines(mut self, deadlines: Deadlines) -> Self {
        self.deadlines = deadlines;
        self
    }

    /// The mock clock, in ticks.
    pub fn now(&self) -> u64 {
        self.now
    }

    /// The last persisted hub checkpoint, as the JSON bytes a driver would store.
    pub fn persisted_checkpoint(&self) -> &[u8] {
        &self.persisted
    }

    /// The hub.
    pub fn hub(&self) -> &Hub {
        &self.hub
    }

    /// The helper.
    pub fn helper(&self) -> &HelperNode {
        &self.helper
    }

    /// The sites.
    pub fn sites(&self) -> &[SiteNode<InMemoryLedger>] {
        &self.sites
    }

    /// What happened so far.
    pub fn events(&self) -> &[SimEvent] {
        &self.events
    }

    /// Bytes each site uploaded so far (both shares, as encoded on the wire).
    pub fn upload_bytes(&self) -> &[usize] {
        &self.upload_bytes
    }

    /// Every upload refused by either aggregator.
    pub fn rejected(&self) -> Vec<RejectedUpload> {
        let mut all = self.hub.rejected().to_vec();
        all.extend_from_slice(self.helper.rejected());
        all
    }

    /// Runs one round of counts (a measurement or a noisy-marginal selection) to its end: a
    /// release, or [`FederationError::RoundFailed`].
    pub fn run_round(
        &mut self,
        purpose: Purpose,
        marginals: &[Vec<usize>],
        maps: &[Option<Vec<u32>>],
        sigma2: Rational,
        what: &str,
    ) -> Result<RoundRelease> {
        self.run(RoundSpec {
            purpose,
            marginals: marginals.to_vec(),
            maps: maps.to_vec(),
            scores: None,
            votes: None,
            sigma2,
            what: what.to_owned(),
        })
    }

    /// Runs one round of any kind to its end.
    pub fn run(&mut self, spec: RoundSpec) -> Result<RoundRelease> {
        self.outcome = None;
        self.spec = Some(spec.clone());
        self.open(spec)?;
        self.settle()?;
        self.spec = None;
        // A round boundary: the driver persists the hub's state.
        self.persist()?;
        match self.outcome.take() {
            Some(Ok(release)) => Ok(release),
            Some(Err(failure)) => Err(FederationError::RoundFailed {
                round: failure.round.0,
                reason: failure.reason,
            }),
            None => Err(protocol("the round neither released nor failed")),
        }
    }

    /// Opens a round (or re-opens it after a restart); a round that cannot open is an outcome.
    fn open(&mut self, spec: RoundSpec) -> Result<()> {
        match self.hub.open_round(spec) {
            Ok(outputs) => {
                self.site_deadline = Some(self.now.saturating_add(self.deadlines.site));
                self.route_hub(outputs)
            }
            Err(FederationError::RoundFailed { round, reason }) => {
                let failure = RoundFailure {
                    job_id: self.hub.announcement().job_id.clone(),
                    round: msg::Round(round),
                    reason,
                };
                self.events.push(SimEvent::Failed(failure.clone()));
                self.outcome = Some(Err(failure));
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Stores the hub's checkpoint as JSON bytes, as a driver persists it.
    fn persist(&mut self) -> Result<()> {
        self.persisted =
            serde_json::to_vec(&self.hub.checkpoint()).map_err(|e| protocol(format!("hub checkpoint: {e}")))?;
        Ok(())
    }

    /// The scripted hub crash: everything in flight to or from the hub is lost; the hub is
    /// rebuilt from the persisted bytes and the round re-opened with the same spec.
    fn restart_hub(&mut self, fault: AggregatorFault) -> Result<()> {
        self.events.push(SimEvent::AggregatorFaultInjected(fault));
        let checkpoint: HubCheckpoint = serde_json::from_slice(&self.persisted).map_err(|e| FederationError::Wire {
            reason: format!("hub checkpoint: {e}"),
        })?;
        self.hub = Hub::restore(
            self.hub.announcement().clone(),
            self.hub.sizes().to_vec(),
            VerifyKey::from_bytes(self.key_bytes),
            self.noise,
            self.hub_rng.clone(),
            checkpoint,
        )?;
        self.queue.retain(|hop| matches!(hop, Hop::SiteToHelper(..)));
        // Drops reported to the crashed hub after its checkpoint are reported again.
        self.reported.clear();
        self.helper_since = None;
        let spec = self
            .spec
            .clone()
            .ok_or_else(|| protocol("a hub restart outside a round"))?;
        self.open(spec)
    }

    fn take_fault(&mut self, pred: impl Fn(&AggregatorFault) -> bool) -> Option<AggregatorFault> {
        let (i, fault) = self
            .aggregator_faults
            .iter()
            .enumerate()
            .find(|(i, f)| !self.fired.contains(i) && pred(f))?;
        let fault = fault.clone();
        self.fired.insert(i);
        Some(fault)
    }

    fn helper_due(&self) -> Option<u64> {
        self.helper_since.map(|t| t.saturating_add(self.deadlines.helper))
    }

    /// Delivers messages in order, one tick each, firing deadlines as they fall due; when none
    /// is left, reports silent sites (outside a round) or jumps to the next deadline.
    fn settle(&mut self) -> Result<()> {
        loop {
            if self.fire_due()? {
                continue;
            }
            if let Some(hop) = self.queue.pop_front() {
                self.now += 1;
                self.deliver(hop)?;
                match (self.hub.awaiting_helper(), self.helper_since) {
                    (true, None) => self.helper_since = Some(self.now),
                    (false, Some(_)) => self.helper_since = None,
                    _ => {}
                }
                continue;
            }
            if !self.hub.round_open() {
                if self.report_silent()? {
                    continue;
                }
                return Ok(());
            }
            let next = [self.site_deadline, self.helper_due()].into_iter().flatten().min();
            match next {
                Some(t) => self.now = self.now.max(t),
                None => return Err(protocol("a round is open and no deadline is pending")),
            }
        }
    }

    /// Reports sites that went silent and were not reported yet; whether there were any.
    fn report_silent(&mut self) -> Result<bool> {
        let newly: Vec<usize> = self.silent.difference(&self.reported).copied().collect();
        for &i in &newly {
            self.reported.insert(i);
            let outputs = self.hub.handle(HubInput::SiteDropped(self.sites[i].id().clone()))?;
            self.route_hub(outputs)?;
        }
        Ok(!newly.is_empty())
    }

    /// Fires the helper's or the sites' deadline if due; whether one fired.
    fn fire_due(&mut self) -> Result<bool> {
        if self.helper_due().is_some_and(|due| self.now >= due) {
            self.helper_since = None;
            let outputs = self.hub.handle(HubInput::HelperTimeout)?;
            self.route_hub(outputs)?;
            return Ok(true);
        }
        if self.site_deadline.is_some_and(|due| self.now >= due) {
            self.site_deadline = None;
            self.report_silent()?;
            // A hub restart while reporting re-opened the round with a deadline of its own.
            if self.site_deadline.is_none() && self.hub.round_open() && !self.hub.awaiting_helper() {
                let outputs = self.hub.handle(HubInput::Deadline)?;
                if outputs.is_empty() {
                    return Err(protocol("the hub did not close the round at its deadline"));
                }
                self.route_hub(outputs)?;
            }
            return Ok(true);
        }
        Ok(false)
    }

    /// Queues the helper's messages to the hub, unless a scripted helper timeout loses them.
    fn route_helper(&mut self, outputs: Vec<Message>) -> Result<()> {
        for m in outputs {
            let share_reply = match &m {
                Message::FromHelper(HelperReply::AggregateShare { round, share, .. }) => Some((round.0, Some(share))),
                Message::FromHelper(HelperReply::Refused { round, .. }) => Some((round.0, None)),
                _ => None,
            };
            if let Some((round, share)) = share_reply {
                let timeout = AggregatorFault::HelperTimeout { round };
                if self.aggregator_faults.contains(&timeout) {
                    self.events.push(SimEvent::AggregatorFaultInjected(timeout));
                    continue;
                }
                if let Some(share) = share {
                    self.events.push(SimEvent::AggregateShareSent {
                        round,
                        sha256: msg::to_hex(&Sha256::digest(share.as_bytes())),
                    });
                }
            }
            self.queue.push_back(Hop::HelperToHub(msg::encode(&m)?));
        }
        Ok(())
    }

    fn fault(&self, pred: impl Fn(&Fault) -> bool) -> Option<Fault> {
        self.faults.iter().find(|f| pred(f)).cloned()
    }

    fn deliver(&mut self, hop: Hop) -> Result<()> {
        match hop {
            Hop::HubToSite(i, bytes) => {
                if self.silent.contains(&i) {
                    return Ok(());
                }
                let message = msg::decode(&bytes)?;
                let (step, round) = match &message {
                    Message::Announcement(_) => (Some(Step::Announcement), 0),
                    Message::Request(r) => (Some(Step::Request), r.round.0),
                    _ => (None, 0),
                };
                let drop = self.fault(|f| {
                    matches!(f, Fault::Drop { site, round: r, step: s }
                        if *site == i && Some(*s) == step && (*s == Step::Announcement || *r == round))
                });
                if let Some(f) = drop {
                    self.events.push(SimEvent::FaultInjected(f));
                    self.silent.insert(i);
                    return Ok(());
                }
                let request = match &message {
                    Message::Request(r) => Some(r.clone()),
                    _ => None,
                };
                let outputs = self.sites[i].handle(message)?;
                self.route_site(i, outputs, request)
            }
            Hop::SiteToHub(i, bytes) => {
                let message = msg::decode(&bytes)?;
                if let Message::Refusal(r) = &message {
                    self.events.push(SimEvent::Refused(r.clone()));
                }
                let site = self.sites[i].id().clone();
                let outputs = self.hub.handle(HubInput::FromSite { site, message })?;
                self.route_hub(outputs)
            }
            Hop::SiteToHelper(i, bytes) => {
                let site = self.sites[i].id().clone();
                let message = msg::decode(&bytes)?;
                let outputs = self.helper.handle(HelperNodeInput::FromSite { site, message })?;
                self.route_helper(outputs)
            }
            Hop::HubToHelper(bytes) => {
                let outputs = self.helper.handle(HelperNodeInput::FromHub(msg::decode(&bytes)?))?;
                self.route_helper(outputs)
            }
            Hop::HelperToHub(bytes) => {
                let message = msg::decode(&bytes)?;
                if let Message::FromHelper(HelperReply::AggregateShare { round, .. }) = &message {
                    let r = round.0;
                    let crash = self.take_fault(|f| {
                        *f == AggregatorFault::HubRestart {
                            round: r,
                            step: RestartStep::HelperShare,
                        }
                    });
                    if let Some(fault) = crash {
                        return self.restart_hub(fault);
                    }
                }
                let outputs = self.hub.handle(HubInput::FromHelper(message))?;
                self.route_hub(outputs)
            }
        }
    }

    fn route_hub(&mut self, outputs: Vec<HubOutput>) -> Result<()> {
        let collect = outputs.iter().find_map(|o| match o {
            HubOutput::ToHelper(Message::ToHelper(HelperInstruction::Collect { round, .. })) => Some(round.0),
            _ => None,
        });
        if let Some(r) = collect {
            let crash = self.take_fault(|f| {
                *f == AggregatorFault::HubRestart {
                    round: r,
                    step: RestartStep::Uploads,
                }
            });
            if let Some(fault) = crash {
                // The outputs die with the hub.
                return self.restart_hub(fault);
            }
            // Before asking the helper for its share, the driver persists the hub's state.
            self.persist()?;
        }
        for output in outputs {
            match output {
                HubOutput::ToSite(site, m) => {
                    let i = *self
                        .index
                        .get(&site)
                        .ok_or_else(|| protocol(format!("the hub addressed unknown site {site}")))?;
                    self.queue.push_back(Hop::HubToSite(i, msg::encode(&m)?));
                }
                HubOutput::ToHelper(m) => self.queue.push_back(Hop::HubToHelper(msg::encode(&m)?)),
                HubOutput::Released(release) => {
                    self.events.push(SimEvent::Released {
                        round: release.round.0,
                        contributors: release.contributors.clone(),
                    });
                    self.outcome = Some(Ok(release));
                }
                HubOutput::Failed(failure) => {
                    self.events.push(SimEvent::Failed(failure.clone()));
                    self.outcome = Some(Err(failure));
                }
            }
        }
        Ok(())
    }

    fn route_site(&mut self, i: usize, outputs: Vec<SiteOutput>, request: Option<MeasurementRequest>) -> Result<()> {
        let round = request.as_ref().map_or(0, |r| r.round.0);
        let hit = |f: &Fault, kind: u8| match (f, kind) {
            (Fault::ReplayUpload { site, round: r }, 0)
            | (Fault::OutOfRange { site, round: r }, 1)
            | (Fault::TamperShare { site, round: r }, 2) => *site == i && *r == round,
            (
                Fault::Drop {
                    site,
                    round: r,
                    step: Step::HelperUpload,
                },
                3,
            ) => *site == i && *r == round,
            _ => false,
        };
        let replay = self.fault(|f| hit(f, 0));
        let forged = match (self.fault(|f| hit(f, 1)), &request) {
            (Some(f), Some(req)) => {
                self.events.push(SimEvent::FaultInjected(f));
                Some(self.out_of_range(i, req)?)
            }
            _ => None,
        };
        let tamper = self.fault(|f| hit(f, 2));
        let impostor =
            self.fault(|f| matches!(f, Fault::Impersonate { site, round: r, .. } if *site == i && *r == round));
        let claimed = match &impostor {
            Some(Fault::Impersonate { claims, .. }) => self.sites.get(*claims).map(|s| s.id().clone()),
            _ => None,
        };
        let vanish = self.fault(|f| hit(f, 3));
        for f in [&replay, &tamper, &vanish, &impostor].into_iter().flatten() {
            self.events.push(SimEvent::FaultInjected(f.clone()));
        }
        for output in outputs {
            let (to_hub, mut message) = match output {
                SiteOutput::ToHub(m) => (true, m),
                SiteOutput::ToHelper(m) => (false, m),
            };
            if let (Message::Upload(upload), Some((leader, helper))) = (&mut message, &forged) {
                upload.share = if to_hub { leader.clone() } else { helper.clone() };
            }
            if let (Message::Upload(upload), Some(claimed)) = (&mut message, &claimed) {
                upload.site = claimed.clone();
            }
            if let (Message::Upload(upload), true, true) = (&mut message, to_hub, tamper.is_some()) {
                upload.share = tamper_hex(&upload.share);
            }
            if !to_hub && vanish.is_some() && matches!(message, Message::Upload(_)) {
                self.silent.insert(i);
                continue;
            }
            let bytes = msg::encode(&message)?;
            let copies = if replay.is_some() && matches!(message, Message::Upload(_)) {
                2
            } else {
                1
            };
            for _ in 0..copies {
                if matches!(message, Message::Upload(_)) {
                    self.upload_bytes[i] += bytes.len();
                }
                let hop = if to_hub {
                    Hop::SiteToHub(i, bytes.clone())
                } else {
                    Hop::SiteToHelper(i, bytes.clone())
                };
                self.queue.push_back(hop);
            }
        }
        Ok(())
    }

    /// A malicious report: every cell `2^bits`, shared for cells one bit wider than the round's.
    fn out_of_range(&self, i: usize, request: &MeasurementRequest) -> Result<(String, String)> {
        let sizes = self.sites[i].data().domain().sizes();
        let query = crate::query::check(request, &sizes)?;
        let params = crate::query::params(request, self.bits + 1, query.length)?;
        let vector = vec![1u64 << self.bits; query.length];
        let total: u64 = vector.iter().sum();
        let mut id = [0u8; 16];
        id[..8].copy_from_slice(&(i as u64).to_be_bytes());
        id[8..12].copy_from_slice(&request.round.0.to_be_bytes());
        id[15] = 0xee;
        let [leader, helper] = share(&params, &vector, Some(total), ReportId::from_bytes(id))?;
        Ok((msg::to_hex(&leader.encode()?), msg::to_hex(&helper.encode()?)))
    }
}

/// Alters the last hex digit (a byte of the input share's last field element).
fn tamper_hex(share: &str) -> String {
    let mut s = share.to_owned();
    if let Some(last) = s.pop() {
        s.push(if last == '0' { '1' } else { '0' });
    }
    s
}
