//! The job runner: one job, start to end, on the hub's worker thread. It owns the sans-I/O
//! `federation::Hub` and drives it with the events the HTTP handlers pass on (sites' messages,
//! the helper's replies, a cancellation) and the wall clock (deadlines).
//!
//! The synthesizer (`synth::aim` / `synth::mst`) runs unchanged on a `FederatedOracle` whose
//! rounds this [`NetDriver`] carries over the network.
//!
//! **Restart.** Every released round is stored before the synthesizer sees it, together with the
//! hub's checkpoint. A hub that restarts with a job `running` re-runs the synthesizer from the
//! job's stored seed: the stored releases are served again without asking anyone anything, so
//! the synthesizer takes the same path and reaches the round that was open when the hub died.
//! That round is re-opened with the same number and the identical request: sites answer it
//! with their stored uploads and charge nothing new; the helper re-sends the aggregate share it
//! may already have released (never a second, freshly noised one). See docs/services.md.

use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use serde_json::json;

use super::{Event, Shared, kind};
use crate::api::{HelperJob, Inbox, JobRequest, JobState};
use crate::config::DatasetConfig;
use dp::{Delta, Epsilon, Rational};
use federation::msg::{self, HelperInstruction, HelperReply, JobAnnouncement, Message, Purpose};
use federation::{
    FederatedOracle, FederationError, Hub, HubCheckpoint, HubInput, HubOutput, JobId, Noise, Round, RoundDriver,
    RoundRelease, RoundSpec, SiteId,
};
use secagg::VerifyKey;
use synth::aim::{AimOptions, aim};
use synth::model::FittedModel;
use synth::mst::mst;
use synth::sample::Compression;
use table::encode::{Domain, EncodeOptions};

/// How a job ended without a result.
enum End {
    Cancelled,
    Failed(String),
}

impl<E: Into<anyhow::Error>> From<E> for End {
    fn from(e: E) -> Self {
        End::Failed(format!("{:#}", e.into()))
    }
}

/// The job a helper reply belongs to.
pub(crate) fn reply_job(reply: &HelperReply) -> &str {
    match reply {
        HelperReply::Helper { job_id, .. }
        | HelperReply::AggregateShare { job_id, .. }
        | HelperReply::Refused { job_id, .. } => &job_id.0,
    }
}

/// Runs job `id` to a final state (or leaves it `running` if the database fails, to resume).
pub(crate) fn run(shared: &Arc<Shared>, id: &str, events: &Receiver<Event>) {
    let outcome = execute(shared, id, events);
    let (state, reason) = match &outcome {
        Ok(path) => {
            match shared.store.succeed(id, path) {
                Ok(true) => {
                    let _ = shared.audit(
                        "job succeeded",
                        json!({ "job": id, "result": path.display().to_string() }),
                    );
                    crate::log::line("hub", format!("job {id} succeeded"));
                }
                Ok(false) => crate::log::line("hub", format!("job {id} ended elsewhere (cancelled?)")),
                Err(e) => crate::log::line("hub", format!("job {id}: cannot record success: {e:#}")),
            }
            return;
        }
        Err(End::Cancelled) => (JobState::Cancelled, "cancelled".to_string()),
        Err(End::Failed(reason)) => (JobState::Failed, reason.clone()),
    };
    crate::log::line("hub", format!("job {id} {}: {reason}", state.as_str()));
    match shared.store.transition(id, state, Some(&reason)) {
        Ok(true) => {
            let _ = shared.audit(
                &format!("job {}", state.as_str()),
                json!({ "job": id, "reason": reason }),
            );
        }
        Ok(false) => {}
        Err(e) => crate::log::line("hub", format!("job {id}: cannot record its end: {e:#}")),
    }
}

fn dataset<'a>(shared: &'a Shared, name: &str) -> Result<&'a DatasetConfig> {
    shared
        .config
        .datasets
        .iter()
        .find(|d| d.name == name)
        .ok_or_else(|| anyhow!("dataset {name} is no longer configured at the hub"))
}

/// The public domain of a job: the dataset's dictionary, modelled columns, restricted to the
/// requested ones. Nodes compute the same from the same public dictionary.
pub fn job_domain(dictionary: &table::Dictionary, columns: &[String]) -> Result<(Arc<table::Dictionary>, Domain)> {
    let modelled = dictionary.modelled();
    for c in columns {
        if !modelled.columns.iter().any(|m| &m.name == c) {
            anyhow::bail!("column {c:?} is not a modelled column of the dictionary");
        }
    }
    let dict = if columns.is_empty() {
        modelled
    } else {
        modelled.restrict(|c| columns.contains(&c.name))
    };
    if dict.columns.is_empty() {
        anyhow::bail!("the job models no column");
    }
    let domain = Domain::from_dictionary(&dict, &EncodeOptions::default())?;
    Ok((Arc::new(dict), domain))
}

/// The bit width of count cells for a public bound on a site's records.
pub fn cell_bits(max_records: u64) -> u32 {
    (u64::BITS - max_records.leading_zeros()).max(16)
}

fn execute(shared: &Arc<Shared>, id: &str, events: &Receiver<Event>) -> Result<std::path::PathBuf, End> {
    let status = shared.store.status(id)?.ok_or_else(|| anyhow!("job {id} vanished"))?;
    let resumed = status.state == JobState::Running;
    if status.state.is_final() {
        return Err(End::Failed(format!("job {id} is already {}", status.state.as_str())));
    }
    if !resumed && !shared.store.transition(id, JobState::Running, None)? {
        return Err(End::Cancelled);
    }
    shared.audit(
        if resumed { "job resumed" } else { "job running" },
        json!({ "job": id, "requester": status.requester }),
    )?;
    let request: JobRequest = status.request.clone();
    let ds = dataset(shared, &request.dataset)?;
    let text = std::fs::read_to_string(&ds.dictionary)
        .with_context(|| format!("cannot read dictionary {}", ds.dictionary.display()))?;
    let full = table::Dictionary::from_toml(&text, &ds.dictionary.display().to_string())?;
    let (dict, domain) = job_domain(&full, &request.columns)?;
    let rho = dp::rho_from_eps_delta(Epsilon::new(request.epsilon)?, Delta::new(request.delta)?)?;
    let secrets = shared.store.secrets(id)?;
    let mut seeds = ChaCha20Rng::from_seed(secrets.seed);
    let hub_rng = ChaCha20Rng::from_rng(&mut seeds);
    let oracle_rng = ChaCha20Rng::from_rng(&mut seeds);
    let mut sample_rng = ChaCha20Rng::from_rng(&mut seeds);
    let d = domain.len();
    let planned = match request.method.method() {
        federation::Method::Mst => 3 * d as u32,
        _ => (d + 2 * 16 * d) as u32,
    };
    let announcement = JobAnnouncement {
        job_id: JobId(id.to_string()),
        dataset: request.dataset.clone(),
        requester: status.requester.clone(),
        method: request.method.method(),
        columns: domain.attributes().iter().map(|a| a.name().to_string()).collect(),
        rho_per_site: rho.get(),
        requested_measurements: planned,
        sites: ds.sites.iter().map(|s| SiteId(s.clone())).collect(),
        min_sites: request.min_sites,
        bits: cell_bits(ds.max_records_per_site),
    };
    setup_helper(shared, id, &secrets.verify_key)?;
    let key = VerifyKey::from_bytes(secrets.verify_key);
    let checkpoint = shared.store.checkpoint(id)?;
    let driver = match checkpoint {
        Some(body) => {
            let checkpoint: HubCheckpoint =
                serde_json::from_str(&body).context("the stored hub checkpoint does not decode")?;
            let hub = Hub::restore(
                announcement,
                domain.sizes(),
                key,
                Noise::DiscreteGaussian,
                hub_rng,
                checkpoint,
            )?;
            NetDriver::new(shared.clone(), id, hub, events, planned)?
        }
        None => {
            let hub = Hub::new(announcement, domain.sizes(), key, Noise::DiscreteGaussian, hub_rng)?;
            let mut driver = NetDriver::new(shared.clone(), id, hub, events, planned)?;
            driver.announce()?;
            driver
        }
    };
    driver.record_progress()?;
    let mut oracle = FederatedOracle::new(driver, rho, oracle_rng).map_err(|e| End::Failed(e.to_string()))?;
    let fit = match request.method.method() {
        federation::Method::Mst => mst(&mut oracle, 1000).map(|f| (f.model, f.compression)),
        _ => {
            let mut options = AimOptions::all_k_way(d, 2);
            options.max_model_mb = 80.0;
            aim(&mut oracle, &options).map(|f| (f.model, Compression::none(d)))
        }
    };
    let driver = oracle.into_driver();
    let (model, compression) = match fit {
        Ok(fit) => fit,
        Err(e) => {
            return Err(driver
                .end
                .unwrap_or_else(|| End::Failed(format!("synthesis failed: {e}"))));
        }
    };
    let fitted = FittedModel {
        dictionary: dict,
        domain,
        compression,
        model,
    };
    let rows = usize::try_from(request.rows).context("rows")?;
    let (table, report) = fitted.sample(rows, &mut sample_rng)?;
    let path = shared.config.results.join(format!("{id}.csv"));
    write_csv(&path, &table)?;
    shared.audit(
        "synthetic data written",
        json!({
            "job": id, "rows": table.n_rows(), "repaired": report.records_repaired,
            "rejected": report.records_rejected, "rounds": driver.round,
        }),
    )?;
    Ok(path)
}

fn write_csv(path: &std::path::Path, t: &table::Table) -> Result<()> {
    let mut bytes = Vec::new();
    table::csv::write_table(&mut bytes, t, &table::csv::CsvOptions::default())?;
    crate::config::write_atomically(path, &bytes, false)
}

/// Tells the helper aggregator about the job and its verification key (idempotent).
fn setup_helper(shared: &Shared, id: &str, verify_key: &[u8; 32]) -> Result<()> {
    let base = shared.config.aggregator.base_url()?;
    let body = HelperJob {
        job_id: id.to_string(),
        verify_key: msg::to_hex(verify_key),
    };
    let timeout = Duration::from_secs(shared.config.limits.helper_secs);
    shared.runtime.block_on(async {
        let response = shared
            .client
            .put(format!("{base}/v1/jobs/{id}"))
            .timeout(timeout)
            .json(&body)
            .send()
            .await
            .with_context(|| format!("helper aggregator unreachable at {base}"))?;
        crate::api::check(response, "helper aggregator refused the job").await?;
        Ok(())
    })
}

/// Carries the rounds of one job over the network (see the module documentation).
pub(crate) struct NetDriver<'a> {
    shared: Arc<Shared>,
    job: String,
    hub: Hub,
    events: &'a Receiver<Event>,
    /// Rounds released before a restart, served again in order.
    cached: VecDeque<crate::store::StoredRelease>,
    /// The rounds of this job whose release is in the audit log already.
    audited: BTreeSet<u32>,
    /// Rounds released so far (served or live).
    round: u32,
    planned: u32,
    /// Sites that answered the announcement.
    answered: BTreeSet<SiteId>,
    /// Sites that uploaded in the open round.
    uploaded: BTreeSet<SiteId>,
    /// The open round's end, once the hub said it.
    outcome: Option<std::result::Result<RoundRelease, String>>,
    /// Why the job cannot go on (set when a round fails or a user cancels).
    end: Option<End>,
    /// Rejected uploads already audited.
    audited_rejections: usize,
}

impl<'a> NetDriver<'a> {
    fn new(shared: Arc<Shared>, job: &str, hub: Hub, events: &'a Receiver<Event>, planned: u32) -> Result<Self> {
        let cached: VecDeque<_> = shared.store.releases(job)?.into();
        let audited = if cached.is_empty() {
            BTreeSet::new()
        } else {
            audited_releases(&shared.config.audit_log, job)?
        };
        Ok(NetDriver {
            shared,
            job: job.to_string(),
            hub,
            events,
            cached,
            audited,
            round: 0,
            planned,
            answered: BTreeSet::new(),
            uploaded: BTreeSet::new(),
            outcome: None,
            end: None,
            audited_rejections: 0,
        })
    }

    fn audit(&self, event: &str, detail: serde_json::Value) -> Result<()> {
        self.shared.audit(event, detail)
    }

    fn record_progress(&self) -> Result<()> {
        let sites: Vec<String> = self.hub.active_sites().into_iter().map(|s| s.0).collect();
        self.shared.store.progress(&self.job, self.round, self.planned, &sites)
    }

    fn checkpoint(&self) -> Result<()> {
        let body = serde_json::to_string(&self.hub.checkpoint())?;
        self.shared.store.put_checkpoint(&self.job, &body)
    }

    /// The announcement phase: every invited site accepts, refuses, or is dropped at the deadline.
    fn announce(&mut self) -> Result<(), End> {
        let invited: BTreeSet<SiteId> = self.hub.announcement().sites.iter().cloned().collect();
        self.audit(
            "job announced",
            json!({ "job": self.job, "sites": invited.iter().map(|s| &s.0).collect::<Vec<_>>() }),
        )?;
        let outputs = self.hub.announce();
        self.route(outputs)?;
        let deadline = Instant::now() + Duration::from_secs(self.shared.config.limits.announcement_secs);
        let all = self.pump(deadline, |d| invited.is_subset(&d.answered))?;
        if !all {
            let silent: Vec<SiteId> = invited.difference(&self.answered).cloned().collect();
            for site in silent {
                self.audit(
                    "site dropped",
                    json!({ "job": self.job, "site": site.0, "at": "announcement" }),
                )?;
                let outputs = self.hub.handle(HubInput::SiteDropped(site)).map_err(fed)?;
                self.route(outputs)?;
            }
        }
        self.record_progress()?;
        self.checkpoint()?;
        Ok(())
    }

    /// Handles events until `done` holds (true) or `deadline` passes (false).
    fn pump(&mut self, deadline: Instant, done: impl Fn(&Self) -> bool) -> Result<bool, End> {
        while !done(self) {
            let wait = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(wait) {
                Ok(Event::FromSite(site, message)) => self.on_site_message(site, message)?,
                Ok(Event::FromHelper(message)) => match self.hub.handle(HubInput::FromHelper(message)) {
                    Ok(outputs) => self.route(outputs)?,
                    Err(e) => {
                        // A late reply (e.g. about a round re-opened after a restart) is not a
                        // reason to end the job: the round completes or meets its deadline.
                        crate::log::line("hub", format!("job {}: helper message rejected: {e}", self.job));
                        self.audit(
                            "helper message rejected",
                            json!({ "job": self.job, "reason": e.to_string() }),
                        )?;
                    }
                },
                Ok(Event::Cancel) => return Err(End::Cancelled),
                Err(RecvTimeoutError::Timeout) => return Ok(done(self)),
                Err(RecvTimeoutError::Disconnected) => return Err(End::Failed("the hub is stopping".into())),
            }
        }
        Ok(true)
    }

    /// A site's message. A message the hub's state machine rejects is audited and ignored: one
    /// site's bad message never ends the job.
    fn on_site_message(&mut self, site: SiteId, message: Message) -> Result<(), End> {
        let what = kind(&message);
        let invited = self.hub.announcement().sites.contains(&site);
        let rejected_before = self.hub.rejected().len();
        let refusal = match &message {
            Message::Refusal(r) => Some((r.round.map(|r| r.0), format!("{:?}", r.reason), r.detail.clone())),
            _ => None,
        };
        let outputs = match self.hub.handle(HubInput::FromSite {
            site: site.clone(),
            message,
        }) {
            Ok(outputs) => outputs,
            Err(e) => {
                crate::log::line("hub", format!("job {}: {what} from {site} rejected: {e}", self.job));
                self.audit(
                    "message rejected",
                    json!({ "job": self.job, "site": site.0, "kind": what, "reason": e.to_string() }),
                )?;
                return Ok(());
            }
        };
        // Recorded only once the state machine took the message: an uninvited site's acceptance
        // or a rejected upload changes nothing, and is not audited as if it had.
        match (what, refusal) {
            ("acceptance", _) if self.hub.active_sites().contains(&site) => {
                self.answered.insert(site.clone());
                self.audit("site accepted", json!({ "job": self.job, "site": site.0 }))?;
            }
            ("upload", _) if self.hub.rejected().len() == rejected_before => {
                self.uploaded.insert(site.clone());
            }
            (_, Some((round, reason, detail))) if invited => {
                self.answered.insert(site.clone());
                self.audit(
                    "site refused",
                    json!({ "job": self.job, "site": site.0, "round": round, "reason": reason, "detail": detail }),
                )?;
            }
            _ => {}
        }
        self.route(outputs)
    }

    /// Carries out the hub's outputs; helper calls are synchronous and their replies are fed
    /// back until nothing is left.
    fn route(&mut self, outputs: Vec<HubOutput>) -> Result<(), End> {
        let mut queue: VecDeque<HubOutput> = outputs.into();
        while let Some(output) = queue.pop_front() {
            match output {
                HubOutput::ToSite(site, message) => self.shared.send_to_site(&site, &self.job, &message)?,
                HubOutput::ToHelper(message) => {
                    // Asking for the helper's share releases the round: not for a cancelled job.
                    if matches!(message, Message::ToHelper(HelperInstruction::Collect { .. }))
                        && self
                            .shared
                            .store
                            .status(&self.job)?
                            .is_some_and(|s| s.state == JobState::Cancelled)
                    {
                        return Err(End::Cancelled);
                    }
                    for reply in self.call_helper(&message)? {
                        queue.extend(self.hub.handle(HubInput::FromHelper(reply)).map_err(fed)?);
                    }
                }
                HubOutput::Released(release) => self.outcome = Some(Ok(release)),
                HubOutput::Failed(failure) => self.outcome = Some(Err(failure.reason)),
            }
        }
        Ok(())
    }

    /// One instruction to the helper aggregator; its replies.
    fn call_helper(&self, message: &Message) -> Result<Vec<Message>, End> {
        let base = self.shared.config.aggregator.base_url()?;
        let body = msg::encode(message).map_err(fed)?;
        let timeout = Duration::from_secs(self.shared.config.limits.helper_secs);
        let url = format!("{base}/v1/jobs/{}/instructions", self.job);
        let inbox: Inbox = self
            .shared
            .runtime
            .block_on(async {
                let response = self
                    .shared
                    .client
                    .post(&url)
                    .timeout(timeout)
                    .body(body)
                    .send()
                    .await
                    .map_err(|e| anyhow!("helper aggregator unreachable at {base}: {e}"))?;
                let response = crate::api::check(response, "helper aggregator").await?;
                response
                    .json::<Inbox>()
                    .await
                    .map_err(|e| anyhow!("helper aggregator's reply: {e}"))
            })
            .map_err(|e| End::Failed(format!("{e:#}")))?;
        inbox
            .messages
            .into_iter()
            .map(|(_, text)| msg::decode(text.as_bytes()).map_err(fed))
            .collect()
    }

    /// Audits the uploads either aggregator rejected since the last call.
    fn audit_rejections(&mut self) -> Result<()> {
        let rejected = self.hub.rejected();
        for r in rejected.iter().skip(self.audited_rejections) {
            self.shared.audit(
                "upload rejected",
                json!({ "job": self.job, "round": r.round.0, "site": r.site.0, "reason": r.detail }),
            )?;
        }
        self.audited_rejections = rejected.len();
        Ok(())
    }

    fn live_round(&mut self, spec: RoundSpec) -> Result<RoundRelease, End> {
        let what = spec.what.clone();
        let purpose = spec.purpose;
        let key = round_key(&spec)?;
        self.outcome = None;
        self.uploaded.clear();
        let number = self.hub.next_round().0;
        // Checked and audited under the audit log's lock, as a cancellation is: once "job
        // cancelled" is in the log, no round is opened after it.
        if !self.shared.audit_if_running(
            &self.job,
            "round opened",
            json!({ "job": self.job, "round": number, "purpose": format!("{purpose:?}"), "what": what }),
        )? {
            return Err(End::Cancelled);
        }
        let outputs = match self.hub.open_round(spec) {
            Ok(outputs) => outputs,
            Err(e) => {
                self.audit(
                    "round failed",
                    json!({ "job": self.job, "round": number, "reason": e.to_string() }),
                )?;
                return Err(End::Failed(e.to_string()));
            }
        };
        // No checkpoint here: round numbers and requests are deterministic, so a hub restarted
        // from the checkpoint of the last release re-opens this round with the same number and
        // the identical request.
        let result = self.complete_round(number, outputs, &key);
        if result.is_err() {
            // The helper keeps nothing open for a round that ends here (best effort: a helper
            // that is gone has nothing open either).
            let abort = Message::ToHelper(HelperInstruction::Abort {
                job_id: JobId(self.job.clone()),
                round: Round(number),
            });
            if let Err(End::Failed(e)) = self.call_helper(&abort) {
                crate::log::line(
                    "hub",
                    format!("job {}: aborting round {number} at the helper: {e}", self.job),
                );
            }
        }
        result
    }

    /// Drives an opened round to its release or failure, and stores a release.
    fn complete_round(&mut self, number: u32, outputs: Vec<HubOutput>, key: &str) -> Result<RoundRelease, End> {
        self.route(outputs)?;
        let deadline = Instant::now() + Duration::from_secs(self.shared.config.limits.round_secs);
        if !self.pump(deadline, |d| d.outcome.is_some())? {
            self.audit("round deadline", json!({ "job": self.job, "round": number }))?;
            // Sites that did not upload in time leave the job; the round closes with the others.
            let silent: Vec<SiteId> = self
                .hub
                .active_sites()
                .into_iter()
                .filter(|s| !self.uploaded.contains(s))
                .collect();
            for site in silent {
                self.audit(
                    "site dropped",
                    json!({ "job": self.job, "site": site.0, "round": number }),
                )?;
                let outputs = self.hub.handle(HubInput::SiteDropped(site)).map_err(fed)?;
                self.route(outputs)?;
            }
            if self.outcome.is_none() && self.hub.round_open() {
                let outputs = self.hub.handle(HubInput::Deadline).map_err(fed)?;
                self.route(outputs)?;
            }
            // The helper's last replies may still be needed to close the round.
            let grace = Instant::now() + Duration::from_secs(self.shared.config.limits.helper_secs);
            self.pump(grace, |d| d.outcome.is_some())?;
        }
        self.audit_rejections()?;
        match self.outcome.take() {
            Some(Ok(release)) => {
                let stored = crate::store::StoredRelease {
                    round: release.round.0,
                    purpose: key.to_string(),
                    values: release.values.clone(),
                    sigma2: (release.sigma2.num(), release.sigma2.den()),
                    contributors: release.contributors.iter().map(|s| s.0.clone()).collect(),
                };
                let checkpoint = serde_json::to_string(&self.hub.checkpoint()).map_err(anyhow::Error::from)?;
                self.shared.store.put_release(&self.job, &stored, Some(&checkpoint))?;
                self.audit("round released", release_detail(&self.job, &stored))?;
                Ok(release)
            }
            Some(Err(reason)) => {
                self.audit(
                    "round failed",
                    json!({ "job": self.job, "round": number, "reason": reason }),
                )?;
                Err(End::Failed(format!("round {number} failed: {reason}")))
            }
            None => Err(End::Failed(format!(
                "round {number} neither released nor failed by its deadline (the helper aggregator did not answer)"
            ))),
        }
    }
}

fn fed(e: FederationError) -> End {
    End::Failed(e.to_string())
}

/// The audit entry of a release: cells, σ², contributors and a digest of the values (the audit
/// log records the digest, not the vector).
fn release_detail(job: &str, stored: &crate::store::StoredRelease) -> serde_json::Value {
    json!({
        "job": job, "round": stored.round, "cells": stored.values.len(),
        "sigma2_per_aggregator": format!("{}/{}", stored.sigma2.0, stored.sigma2.1),
        "contributors": stored.contributors, "values_sha256": digest(&stored.values),
    })
}

/// SHA-256 of the released values (the audit log records the digest, not the vector).
fn digest(values: &[i64]) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    for v in values {
        h.update(v.to_le_bytes());
    }
    msg::to_hex(&h.finalize())
}

impl RoundDriver for NetDriver<'_> {
    fn announcement(&self) -> &JobAnnouncement {
        self.hub.announcement()
    }

    fn sizes(&self) -> &[usize] {
        self.hub.sizes()
    }

    fn noise(&self) -> Noise {
        self.hub.noise()
    }

    fn run(&mut self, spec: RoundSpec) -> federation::Result<RoundRelease> {
        let result = match self.cached.pop_front() {
            Some(stored) => served(&stored, &spec).and_then(|release| {
                // A hub killed between storing a release and auditing it: the audit log gets
                // the entry now, so that every release is in it.
                if !self.audited.contains(&stored.round) {
                    self.audit("round released", {
                        let mut detail = release_detail(&self.job, &stored);
                        detail["recorded_at_resume"] = json!(true);
                        detail
                    })?;
                }
                Ok(release)
            }),
            None => self.live_round(spec),
        };
        match result {
            Ok(release) => {
                self.round = release.round.0;
                if let Err(e) = self.record_progress() {
                    crate::log::line("hub", format!("job {}: cannot record progress: {e:#}", self.job));
                }
                Ok(release)
            }
            Err(end) => {
                let reason = match &end {
                    End::Cancelled => "cancelled".to_string(),
                    End::Failed(r) => r.clone(),
                };
                self.end = Some(end);
                Err(FederationError::RoundFailed {
                    round: self.round + 1,
                    reason,
                })
            }
        }
    }
}

/// What a stored release answers: the round's purpose and a SHA-256 of its whole request (the
/// synthesizer's spec), so that a resumed job is served a stored release only for the very
/// request it was released for.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RoundKey {
    purpose: Purpose,
    spec_sha256: String,
}

fn spec_digest(spec: &RoundSpec) -> String {
    use sha2::Digest;
    // The spec's Debug text covers every field; a hub of another version that writes it
    // differently cannot resume the job (a safe failure), never serve a wrong release.
    msg::to_hex(&sha2::Sha256::digest(format!("{spec:?}").as_bytes()))
}

fn round_key(spec: &RoundSpec) -> Result<String, End> {
    Ok(serde_json::to_string(&RoundKey {
        purpose: spec.purpose,
        spec_sha256: spec_digest(spec),
    })
    .map_err(anyhow::Error::from)?)
}

/// A stored release served again after a restart; it must answer the very request the
/// synthesizer makes now.
fn served(stored: &crate::store::StoredRelease, spec: &RoundSpec) -> Result<RoundRelease, End> {
    let key: RoundKey = serde_json::from_str(&stored.purpose).map_err(|e| {
        End::Failed(format!(
            "restart: stored round {} has no request digest ({e}); the job cannot resume",
            stored.round
        ))
    })?;
    if key.purpose != spec.purpose || key.spec_sha256 != spec_digest(spec) {
        return Err(End::Failed(format!(
            "restart: stored round {} answered another request than the synthesizer's ({}); the job cannot resume",
            stored.round, spec.what
        )));
    }
    Ok(RoundRelease {
        round: Round(stored.round),
        purpose: key.purpose,
        values: stored.values.clone(),
        sigma2: Rational::new(stored.sigma2.0, stored.sigma2.1).map_err(|e| End::Failed(e.to_string()))?,
        contributors: stored.contributors.iter().map(|s| SiteId(s.clone())).collect(),
    })
}

/// The rounds of `job` whose `round released` entry is in the hub's audit log.
fn audited_releases(log: &std::path::Path, job: &str) -> Result<BTreeSet<u32>> {
    let text = match std::fs::read_to_string(log) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeSet::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", log.display())),
    };
    Ok(text
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|e| e["event"] == "round released" && e["detail"]["job"] == job)
        .filter_map(|e| e["detail"]["round"].as_u64().and_then(|r| u32::try_from(r).ok()))
        .collect())
}
