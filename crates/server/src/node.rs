//! `synthema node`: a hospital's node. It opens connections, never accepts one: it long-polls
//! the hub for messages (with backoff while the hub is unreachable), answers each through the
//! sans-I/O `federation::SiteNode` — which checks the site's policy and charges its SQLite
//! privacy ledger before anything derived from the data leaves — and uploads each secret share
//! straight to the aggregator it is for.
//!
//! The site's data stays in this process. What leaves it: acceptances and refusals (refusal
//! details never depend on the data), the site's declared record count, and secret shares.
//! Every job decision, every charge and every refusal goes to the site's audit log.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use serde_json::json;

use crate::api::Inbox;
use crate::audit::AuditLog;
use crate::config::NodeConfig;
use crate::hub::kind;
use crate::ledger::SqliteLedger;
use crate::pki::{Credentials, Role};
use crate::{log, tls};
use dp::{Delta, Epsilon};
use federation::msg::{self, Message, Refusal, RefusalReason};
use federation::{JobId, PrivacyLedger, SiteId, SiteNode, SiteOutput, SitePolicy};
use table::{Dictionary, Table};

/// A node's loaded state.
struct Node {
    config: NodeConfig,
    site: SiteId,
    dictionary: Dictionary,
    data: Table,
    policy: SitePolicy,
    jobs: BTreeMap<JobId, SiteNode<SqliteLedger>>,
    audit: AuditLog,
    /// Talks to the hub only (a server certificate of another role is refused).
    hub_client: reqwest::Client,
    /// Talks to the aggregator only.
    aggregator_client: reqwest::Client,
    cursor_file: PathBuf,
    /// Set when the audit log could not be written: the node sends nothing more and stops,
    /// since what it would do could no longer be accounted for.
    audit_broken: bool,
    /// Jobs in the order they were announced (for eviction).
    order: std::collections::VecDeque<JobId>,
    /// The hub database instance the cursor counts in.
    hub_instance: String,
    cursor: u64,
}

/// Reads the site's data files strictly against its dictionary (errors name file, line, column).
pub fn load_data(dictionary: &Arc<Dictionary>, files: &[PathBuf]) -> Result<Table> {
    let mut all = Table::new(dictionary.clone());
    for path in files {
        let name = path.display().to_string();
        let file = std::fs::File::open(path).with_context(|| format!("cannot open {name}"))?;
        let t = if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("parquet")) {
            table::parquet::read_parquet(file, &name, dictionary.clone())?
        } else {
            table::csv::read_table(
                std::io::BufReader::new(file),
                &name,
                dictionary.clone(),
                &table::csv::CsvOptions::default(),
            )?
        };
        all.append(&t)?;
    }
    Ok(all)
}

/// The node's position in the hub's outbox: the hub database's instance id and the last
/// sequence number handled there (`<instance> <seq>`, or a bare number from older nodes).
fn read_cursor(path: &Path) -> Result<(String, u64)> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((String::new(), 0)),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let (instance, seq) = text.trim().rsplit_once(' ').unwrap_or(("", text.trim()));
    let seq = seq
        .parse()
        .with_context(|| format!("{}: not a message sequence number: {seq:?}", path.display()))?;
    Ok((instance.to_string(), seq))
}

fn write_cursor(path: &Path, instance: &str, seq: u64) -> Result<()> {
    crate::config::write_atomically(path, format!("{instance} {seq}").as_bytes(), false)
}

/// Runs the node until `shutdown` resolves.
pub async fn run(config: NodeConfig, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<()> {
    let creds = Credentials::load(&config.credentials)?;
    if creds.identity().role != Role::Site {
        anyhow::bail!(
            "{} holds a {} certificate; a node needs a site certificate",
            config.credentials.display(),
            creds.identity()
        );
    }
    let site = SiteId(creds.identity().name.clone());
    let text = std::fs::read_to_string(&config.dataset.dictionary)
        .with_context(|| format!("cannot read dictionary {}", config.dataset.dictionary.display()))?;
    let dictionary = Arc::new(Dictionary::from_toml(
        &text,
        &config.dataset.dictionary.display().to_string(),
    )?);
    let data = load_data(&dictionary, &config.dataset.files)?;
    let p = &config.policy;
    let policy = SitePolicy {
        max_rho_per_dataset: dp::rho_from_eps_delta(Epsilon::new(p.max_epsilon)?, Delta::new(p.delta)?)?,
        allowed_methods: p.allowed_methods.iter().map(|m| m.method()).collect(),
        min_sites: p.min_sites,
        allowed_requesters: p.allowed_requesters.clone(),
    };
    // Opening the ledger once at start-up commits reservations a crash left outstanding.
    crate::config::ensure_parent(&config.ledger)?;
    crate::config::ensure_parent(&config.audit_log)?;
    let ledger = SqliteLedger::open(&config.ledger)?;
    let mut audit = AuditLog::open(&config.audit_log)?;
    audit.append(
        "node started",
        json!({
            "site": site.0, "dataset": config.dataset.name, "records": data.n_rows(),
            "rho_limit": policy.max_rho_per_dataset.get(),
            "rho_committed": ledger.committed(&config.dataset.name),
            "reservations_recovered": ledger.recovered(),
        }),
    )?;
    drop(ledger);
    let cursor_file = config.ledger.with_extension("cursor");
    let (hub_instance, cursor) = read_cursor(&cursor_file)?;
    log::line(
        &format!("node {site}"),
        format!("{} records of {}; polling the hub", data.n_rows(), config.dataset.name),
    );
    let mut node = Node {
        hub_client: tls::client_for(&creds, &[Role::Hub])?,
        aggregator_client: tls::client_for(&creds, &[Role::Aggregator])?,
        dictionary: (*dictionary).clone(),
        site,
        data,
        policy,
        jobs: BTreeMap::new(),
        audit,
        cursor_file,
        audit_broken: false,
        order: std::collections::VecDeque::new(),
        hub_instance,
        cursor,
        config,
    };
    tokio::select! {
        result = node.poll_forever() => result,
        () = shutdown => {
            log::line(&format!("node {}", node.site), "stopped");
            Ok(())
        }
    }
}

/// At most this many jobs are kept in memory; the oldest is forgotten first (its later
/// requests are refused as `unknown job`, which charges nothing).
const MAX_JOBS: usize = 16;

impl Node {
    fn name(&self) -> String {
        format!("node {}", self.site)
    }

    /// Appends to the site's audit log; a failure marks the log broken (the node then stops).
    fn record(&mut self, event: &str, detail: serde_json::Value) -> bool {
        if self.audit_broken {
            return false;
        }
        match self.audit.append(event, detail) {
            Ok(()) => true,
            Err(e) => {
                log::line(
                    &self.name(),
                    format!("cannot write the audit log: {e:#}; sending nothing more"),
                );
                self.audit_broken = true;
                false
            }
        }
    }

    async fn poll_forever(&mut self) -> Result<()> {
        let mut backoff = Duration::from_secs(self.config.backoff_secs.max(1));
        loop {
            if self.audit_broken {
                anyhow::bail!(
                    "the audit log {} cannot be written: the node stopped",
                    self.config.audit_log.display()
                );
            }
            match self.poll_once().await {
                Ok(()) => backoff = Duration::from_secs(self.config.backoff_secs.max(1)),
                Err(e) => {
                    log::line(&self.name(), format!("{e:#}; retrying in {} s", backoff.as_secs()));
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(60));
                }
            }
        }
    }

    async fn poll_once(&mut self) -> Result<()> {
        let base = self.config.hub.base_url()?;
        let response = self
            .hub_client
            .get(format!("{base}/v1/site/messages?after={}&wait=20", self.cursor))
            .timeout(Duration::from_secs(40))
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("hub unreachable at {base}: {e}"))?;
        let inbox: Inbox = crate::api::check(response, "hub").await?.json().await?;
        if inbox.hub != self.hub_instance {
            // Another hub database: its sequence numbers start again.
            if !self.hub_instance.is_empty() {
                log::line(
                    &self.name(),
                    "the hub's database is new: reading its messages from the start",
                );
            }
            self.hub_instance = inbox.hub.clone();
            if self.cursor != 0 {
                self.cursor = 0;
                return Ok(());
            }
        }
        for (seq, text) in inbox.messages {
            match msg::decode(text.as_bytes()) {
                // A message the site cannot handle is logged and skipped, never retried forever.
                Ok(message) => {
                    if let Err(e) = self.handle(message).await {
                        log::line(
                            &self.name(),
                            format!("message {seq} from the hub was not handled: {e:#}"),
                        );
                    }
                }
                Err(e) => log::line(&self.name(), format!("message {seq} from the hub does not decode: {e}")),
            }
            self.cursor = seq;
            write_cursor(&self.cursor_file, &self.hub_instance, seq)?;
        }
        Ok(())
    }

    /// The site node of a job, created at its announcement from the dictionary restricted to
    /// the announced columns (the same public domain the hub computes).
    fn site_node(&mut self, job: &JobId, message: &Message) -> Result<Option<&mut SiteNode<SqliteLedger>>, String> {
        if !self.jobs.contains_key(job) {
            let Message::Announcement(a) = message else {
                return Ok(None);
            };
            if a.dataset != self.config.dataset.name {
                return Err(format!(
                    "this site holds {}, not {}",
                    self.config.dataset.name, a.dataset
                ));
            }
            let (dict, domain) = crate::hub::job_domain(&self.dictionary, &a.columns).map_err(|e| format!("{e:#}"))?;
            let encoded = self
                .data
                .project(dict)
                .map_err(|e| e.to_string())
                .and_then(|t| domain.encode(&t).map_err(|e| e.to_string()))
                .map_err(|e| format!("the site's data does not fit the job's columns: {e}"))?;
            let ledger = SqliteLedger::open(&self.config.ledger).map_err(|e| format!("privacy ledger: {e:#}"))?;
            let node = SiteNode::new(
                self.site.clone(),
                &self.config.dataset.name,
                encoded,
                self.policy.clone(),
                ledger,
                ChaCha20Rng::from_rng(&mut rand::rng()),
            );
            self.jobs.insert(job.clone(), node);
            self.order.push_back(job.clone());
            while self.order.len() > MAX_JOBS {
                if let Some(old) = self.order.pop_front() {
                    self.jobs.remove(&old);
                }
            }
        }
        Ok(self.jobs.get_mut(job))
    }

    async fn handle(&mut self, message: Message) -> Result<()> {
        let (job_id, round, what) = match &message {
            Message::Announcement(a) => (a.job_id.clone(), None, "announcement".to_string()),
            Message::Request(r) => (r.job_id.clone(), Some(r.round), r.what.clone()),
            Message::Result(r) => (r.job_id.clone(), Some(r.round), "result".into()),
            Message::Failure(f) => (f.job_id.clone(), Some(f.round), format!("round failed: {}", f.reason)),
            other => {
                log::line(&self.name(), format!("ignored a {} from the hub", kind(other)));
                return Ok(());
            }
        };
        let dataset = self.config.dataset.name.clone();
        let message_kind = kind(&message);
        let outputs = match self.site_node(&job_id, &message) {
            Ok(Some(node)) => {
                let before = node.ledger().committed(&dataset);
                let outputs = node.handle(message).map_err(|e| anyhow::anyhow!("{e}"))?;
                let after = node.ledger().committed(&dataset);
                if after > before {
                    self.record(
                        "budget charged",
                        json!({
                            "job": job_id.0, "round": round.map(|r| r.0), "what": what,
                            "rho": after - before, "rho_committed": after,
                            "rho_limit": self.policy.max_rho_per_dataset.get(),
                        }),
                    );
                }
                outputs
            }
            Ok(None) if message_kind == "request" => {
                // A request for a job this node does not know (e.g. announced before a restart).
                vec![SiteOutput::ToHub(self.refusal(
                    &job_id,
                    round,
                    RefusalReason::UnknownJob,
                    "unknown job",
                ))]
            }
            // Results and failures of a job this node does not know need no answer.
            Ok(None) => Vec::new(),
            Err(detail) => {
                // The cause may name local files or, worse, a value of the data (an encoding
                // error): it stays in this node's log; the hub gets a fixed refusal.
                log::line(&self.name(), format!("job {job_id} refused: {detail}"));
                self.record("job not served", json!({ "job": job_id.0, "cause": detail }));
                vec![SiteOutput::ToHub(self.refusal(
                    &job_id,
                    round,
                    RefusalReason::InvalidRequest,
                    "this site cannot serve the job's dataset or columns (its operator's log has the cause)",
                ))]
            }
        };
        // A job this site refused at its announcement keeps nothing in memory.
        if message_kind == "announcement"
            && outputs
                .iter()
                .any(|o| matches!(o, SiteOutput::ToHub(Message::Refusal(_))))
        {
            self.jobs.remove(&job_id);
            self.order.retain(|j| j != &job_id);
        }
        for output in outputs {
            self.send(output).await;
        }
        Ok(())
    }

    fn refusal(&self, job: &JobId, round: Option<federation::Round>, reason: RefusalReason, detail: &str) -> Message {
        Message::Refusal(Refusal {
            job_id: job.clone(),
            round,
            site: self.site.clone(),
            reason,
            detail: detail.to_string(),
        })
    }

    /// One attempt at sending `message` to `target`.
    async fn send_once(&self, target: &str, message: &Message) -> Result<()> {
        let body = msg::encode(message)?;
        let (client, url) = match (message, target) {
            (Message::Upload(u), "aggregator") => (
                &self.aggregator_client,
                format!("{}/v1/jobs/{}/uploads", self.config.aggregator.base_url()?, u.job_id.0),
            ),
            _ => (
                &self.hub_client,
                format!("{}/v1/site/messages", self.config.hub.base_url()?),
            ),
        };
        let response = client
            .post(&url)
            .body(body)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("{target} unreachable: {e}"))?;
        crate::api::check(response, target).await.map(|_| ())
    }

    /// Sends one output, retrying transport failures; a final failure is logged (the hub's
    /// deadline handles a lost message).
    async fn send(&mut self, output: SiteOutput) {
        let (target, message) = match output {
            SiteOutput::ToHub(m) => ("hub", m),
            SiteOutput::ToHelper(m) => ("aggregator", m),
        };
        let detail = match &message {
            Message::Acceptance(a) => Some(("job accepted", json!({ "job": a.job_id.0 }))),
            Message::Refusal(r) => Some((
                "refused",
                json!({ "job": r.job_id.0, "round": r.round.map(|r| r.0), "reason": format!("{:?}", r.reason), "detail": r.detail }),
            )),
            Message::Upload(u) => Some((
                "share sent",
                json!({ "job": u.job_id.0, "round": u.round.0, "to": target, "bytes": u.share.len() / 2 }),
            )),
            _ => None,
        };
        if let Some((event, detail)) = detail
            && !self.record(event, detail)
        {
            return;
        }
        if self.audit_broken {
            return;
        }
        // A lost request would drop the site from the job after it was charged: retry with
        // backoff for up to a minute (the bytes are identical; a duplicate is a harmless replay).
        let mut delay = Duration::from_millis(200);
        let until = std::time::Instant::now() + Duration::from_secs(60);
        let result = loop {
            let attempt = self.send_once(target, &message).await;
            match attempt {
                Ok(()) => break Ok(()),
                Err(e) if e.downcast_ref::<crate::api::Refused>().is_some_and(|r| r.is_final()) => break Err(e),
                Err(e) if std::time::Instant::now() + delay > until => break Err(e),
                Err(e) => {
                    log::line(
                        &self.name(),
                        format!("{} to the {target}: {e:#}; retrying", kind(&message)),
                    );
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(10));
                }
            }
        };
        if let Err(e) = result {
            log::line(&self.name(), format!("{} to the {target}: {e:#}", kind(&message)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cursor_names_the_hub_instance_it_counts_in() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.cursor");
        assert_eq!(read_cursor(&path).unwrap(), (String::new(), 0));
        write_cursor(&path, "9f2c", 41).unwrap();
        assert_eq!(read_cursor(&path).unwrap(), ("9f2c".to_string(), 41));
        std::fs::write(&path, "17\n").unwrap();
        assert_eq!(read_cursor(&path).unwrap(), (String::new(), 17));
        std::fs::write(&path, "9f2c seventeen").unwrap();
        let err = read_cursor(&path).unwrap_err().to_string();
        assert!(err.contains("ledger.cursor") && err.contains("seventeen"), "{err}");
    }
}
