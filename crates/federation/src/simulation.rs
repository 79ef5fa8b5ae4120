//! A deterministic in-process federation: one hub, one helper and N sites, every message
//! encoded and decoded through [`crate::msg`] on every hop, delivered first in first out, with
//! scripted faults. The "clock" is the queue: when no message is left, sites that went silent
//! are reported to the hub as dropped, and then the open round's deadline passes.
//!
//! Sharing randomness inside `secagg::share` comes from prio's own CSPRNG (not injectable);
//! everything else — report ids, noise, the order of delivery — is seeded, so sums, refusals,
//! rejections and ledgers are reproducible.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use secagg::{ReportId, VerifyKey, share};

use crate::aggregator::{HelperNode, HelperNodeInput};
use crate::hub::{Hub, HubInput, HubOutput, RejectedUpload, RoundRelease, RoundSpec};
use crate::ledger::InMemoryLedger;
use crate::msg::{self, JobAnnouncement, MeasurementRequest, Message, Purpose, Refusal, RoundFailure, SiteId};
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
            hub_rng,
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
        };
        let outputs = sim.hub.announce();
        sim.route_hub(outputs)?;
        sim.settle()?;
        Ok(sim)
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
        let outputs = match self.hub.open_round(spec) {
            Ok(outputs) => outputs,
            Err(e) => {
                if let FederationError::RoundFailed { round, reason } = &e {
                    self.events.push(SimEvent::Failed(RoundFailure {
                        job_id: self.hub.announcement().job_id.clone(),
                        round: msg::Round(*round),
                        reason: reason.clone(),
                    }));
                }
                return Err(e);
            }
        };
        self.outcome = None;
        self.route_hub(outputs)?;
        self.settle()?;
        match self.outcome.take() {
            Some(Ok(release)) => Ok(release),
            Some(Err(failure)) => Err(FederationError::RoundFailed {
                round: failure.round.0,
                reason: failure.reason,
            }),
            None => Err(protocol("the round neither released nor failed")),
        }
    }

    /// Delivers messages until none is left, then reports silent sites, then the deadline.
    fn settle(&mut self) -> Result<()> {
        loop {
            while let Some(hop) = self.queue.pop_front() {
                self.deliver(hop)?;
            }
            let newly: Vec<usize> = self.silent.difference(&self.reported).copied().collect();
            if !newly.is_empty() {
                for i in newly {
                    self.reported.insert(i);
                    let outputs = self.hub.handle(HubInput::SiteDropped(self.sites[i].id().clone()))?;
                    self.route_hub(outputs)?;
                }
                continue;
            }
            if self.hub.round_open() && self.outcome.is_none() {
                let outputs = self.hub.handle(HubInput::Deadline)?;
                if outputs.is_empty() {
                    return Err(protocol("the hub did not close the round at its deadline"));
                }
                self.route_hub(outputs)?;
                continue;
            }
            return Ok(());
        }
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
                for m in outputs {
                    self.queue.push_back(Hop::HelperToHub(msg::encode(&m)?));
                }
                Ok(())
            }
            Hop::HubToHelper(bytes) => {
                let outputs = self.helper.handle(HelperNodeInput::FromHub(msg::decode(&bytes)?))?;
                for m in outputs {
                    self.queue.push_back(Hop::HelperToHub(msg::encode(&m)?));
                }
                Ok(())
            }
            Hop::HelperToHub(bytes) => {
                let outputs = self.hub.handle(HubInput::FromHelper(msg::decode(&bytes)?))?;
                self.route_hub(outputs)
            }
        }
    }

    fn route_hub(&mut self, outputs: Vec<HubOutput>) -> Result<()> {
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
