//! Typed configuration files of the three services (TOML, unknown fields refused). Documented
//! samples live in `docs/samples/`; every relative path in a file is taken relative to the
//! directory of that file, so a provisioning kit can be moved as a whole.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use federation::Method;

/// `synthema hub --config hub.toml`: the coordinator and leader aggregator.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HubConfig {
    /// Address to listen on (`127.0.0.1:0` picks a free port; see `address_file`).
    pub listen: SocketAddr,
    /// Directory written by `synthema pki issue --role hub` (cert.pem, key.pem, ca.pem).
    pub credentials: PathBuf,
    /// Where jobs, rounds, releases and results are kept: a SQLite file (created if absent;
    /// a relative path is taken from this file's directory) or a `postgresql://` URL (used as
    /// given; see `docs/services.md`).
    pub database: crate::store::Database,
    /// The hub's hash-chained audit log.
    pub audit_log: PathBuf,
    /// Where results (synthetic CSV files) are kept.
    pub results: PathBuf,
    /// When set, the bound address is written to this file once the hub listens.
    #[serde(default)]
    pub address_file: Option<PathBuf>,
    /// The helper aggregator (a computing centre).
    pub aggregator: PeerConfig,
    /// Datasets the federation knows, by their public data dictionaries.
    pub datasets: Vec<DatasetConfig>,
    /// Time limits.
    #[serde(default)]
    pub limits: HubLimits,
}

/// A peer service: its URL and the name its certificate must carry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerConfig {
    /// Base URL, e.g. `https://127.0.0.1:7443` (or a file holding it: `address_file`).
    #[serde(default)]
    pub url: Option<String>,
    /// A file that holds the address (written by the peer at start-up), read when `url` is absent.
    #[serde(default)]
    pub address_file: Option<PathBuf>,
    /// The name in the peer's certificate (`urn:synthema:<role>:<name>`).
    pub name: String,
}

/// One dataset: its public dictionary and the sites that hold it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetConfig {
    /// The dataset's name (jobs refer to it).
    pub name: String,
    /// The public data dictionary (TOML).
    pub dictionary: PathBuf,
    /// The sites (certificate names) that hold it.
    pub sites: Vec<String>,
    /// Public upper bound on any one site's number of records (sizes the validity proofs).
    pub max_records_per_site: u64,
}

/// Time limits of the hub, in seconds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HubLimits {
    /// How long sites have to answer a job announcement.
    #[serde(default = "default_answer")]
    pub announcement_secs: u64,
    /// How long sites have to upload in a round; silent sites are then dropped from the job.
    #[serde(default = "default_round")]
    pub round_secs: u64,
    /// How long one call to the helper aggregator may take.
    #[serde(default = "default_helper")]
    pub helper_secs: u64,
    /// The largest request body accepted, in bytes.
    #[serde(default = "default_body")]
    pub max_body_bytes: usize,
}

fn default_answer() -> u64 {
    60
}
fn default_round() -> u64 {
    120
}
fn default_helper() -> u64 {
    60
}
fn default_body() -> usize {
    64 << 20
}

impl Default for HubLimits {
    fn default() -> Self {
        HubLimits {
            announcement_secs: default_answer(),
            round_secs: default_round(),
            helper_secs: default_helper(),
            max_body_bytes: default_body(),
        }
    }
}

/// `synthema aggregator --config aggregator.toml`: a computing centre's helper aggregator.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AggregatorConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Directory written by `synthema pki issue --role aggregator`.
    pub credentials: PathBuf,
    /// The aggregator's hash-chained audit log.
    pub audit_log: PathBuf,
    /// Directory of the aggregator's durable state: per job, the verification key and the
    /// helper's checkpoint (written 0600 before any aggregate share leaves).
    pub state: PathBuf,
    /// When set, the bound address is written to this file once the aggregator listens.
    #[serde(default)]
    pub address_file: Option<PathBuf>,
    /// The hub: the only party allowed to instruct this aggregator, and where it sends its replies.
    pub hub: PeerConfig,
    /// This aggregator's own floor on the number of sites any release aggregates.
    pub min_sites: u32,
    /// The largest request body accepted, in bytes.
    #[serde(default = "default_body")]
    pub max_body_bytes: usize,
}

/// `synthema node --config site.toml`: a hospital's node. It only connects outbound.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    /// Directory written by `synthema pki issue --role site` (its name is the site's id).
    pub credentials: PathBuf,
    /// The hub.
    pub hub: PeerConfig,
    /// The helper aggregator (shares for it go straight to it, never through the hub).
    pub aggregator: PeerConfig,
    /// The site's privacy ledger (SQLite).
    pub ledger: PathBuf,
    /// The site's hash-chained audit log.
    pub audit_log: PathBuf,
    /// The dataset this node serves.
    pub dataset: NodeDataset,
    /// The site's policy: what it allows, whatever the hub asks.
    pub policy: PolicyConfig,
    /// Seconds between polls when the hub is unreachable (doubled up to 60 s).
    #[serde(default = "default_backoff")]
    pub backoff_secs: u64,
}

fn default_backoff() -> u64 {
    1
}

/// The site's data: files described by a dictionary.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeDataset {
    /// The dataset's name (as the hub knows it).
    pub name: String,
    /// The data dictionary (TOML) — the same public file the hub uses.
    pub dictionary: PathBuf,
    /// Data files (CSV, or Parquet by extension), concatenated.
    pub files: Vec<PathBuf>,
}

/// A site's policy (see `federation::SitePolicy`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyConfig {
    /// Total privacy budget of the dataset, as (ε, δ); converted to ρ-zCDP (rounded against us).
    pub max_epsilon: f64,
    /// δ of the total budget.
    pub delta: f64,
    /// Methods allowed.
    pub allowed_methods: Vec<MethodName>,
    /// Minimum number of sites any release must aggregate.
    pub min_sites: u32,
    /// Users (certificate names) allowed to request jobs on this dataset.
    pub allowed_requesters: Vec<String>,
}

/// A synthesis method, as named in files and on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MethodName {
    /// AIM (adaptive, workload-aware).
    Aim,
    /// MST (maximum spanning tree of 2-way marginals).
    Mst,
}

impl MethodName {
    /// The core's method.
    pub fn method(self) -> Method {
        match self {
            MethodName::Aim => Method::Aim,
            MethodName::Mst => Method::Mst,
        }
    }
}

/// Reads a TOML configuration, with errors naming the file, line and column, and resolves
/// relative paths against the file's directory.
pub fn load<T: for<'de> Deserialize<'de> + Resolve>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read config {}", path.display()))?;
    let mut config: T = toml::from_str(&text).map_err(|e| {
        let at = e
            .span()
            .map(|s| {
                let before = &text[..s.start.min(text.len())];
                let line = before.matches('\n').count() + 1;
                let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
                format!(":{line}:{column}")
            })
            .unwrap_or_default();
        anyhow::anyhow!("{}{at}: {}", path.display(), e.message())
    })?;
    let base = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    config.resolve(base);
    config.check().with_context(|| format!("config {}", path.display()))?;
    Ok(config)
}

/// Configurations resolve relative paths against their file's directory and check themselves.
pub trait Resolve {
    /// Makes relative paths absolute against `base`.
    fn resolve(&mut self, base: &Path);
    /// Checks rules the types cannot express.
    fn check(&self) -> Result<()>;
}

fn rebase(path: &mut PathBuf, base: &Path) {
    if path.is_relative() {
        *path = base.join(&*path);
    }
}

impl PeerConfig {
    fn resolve(&mut self, base: &Path) {
        if let Some(p) = &mut self.address_file {
            rebase(p, base);
        }
    }

    fn check(&self, what: &str) -> Result<()> {
        if self.url.is_none() && self.address_file.is_none() {
            bail!("{what}: give `url` or `address_file`");
        }
        Ok(())
    }

    /// The peer's base URL (read from its address file when no URL is configured).
    pub fn base_url(&self) -> Result<String> {
        if let Some(url) = &self.url {
            return Ok(url.trim_end_matches('/').to_string());
        }
        let file = self
            .address_file
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("peer {} has neither url nor address_file", self.name))?;
        let addr = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read the address of {} from {}", self.name, file.display()))?;
        Ok(format!("https://{}", addr.trim()))
    }
}

impl Resolve for HubConfig {
    fn resolve(&mut self, base: &Path) {
        for p in [&mut self.credentials, &mut self.audit_log, &mut self.results] {
            rebase(p, base);
        }
        // A URL names a server, not a file: only a SQLite path is rebased.
        self.database.rebase(base);
        if let Some(p) = &mut self.address_file {
            rebase(p, base);
        }
        self.aggregator.resolve(base);
        for d in &mut self.datasets {
            rebase(&mut d.dictionary, base);
        }
    }

    fn check(&self) -> Result<()> {
        self.aggregator.check("aggregator")?;
        let mut names = std::collections::BTreeSet::new();
        for d in &self.datasets {
            if !names.insert(&d.name) {
                bail!("dataset {} is listed twice", d.name);
            }
            if d.sites.is_empty() {
                bail!("dataset {} lists no site", d.name);
            }
            if d.max_records_per_site == 0 {
                bail!("dataset {}: max_records_per_site must be at least 1", d.name);
            }
        }
        Ok(())
    }
}

impl Resolve for AggregatorConfig {
    fn resolve(&mut self, base: &Path) {
        rebase(&mut self.credentials, base);
        rebase(&mut self.audit_log, base);
        rebase(&mut self.state, base);
        if let Some(p) = &mut self.address_file {
            rebase(p, base);
        }
        self.hub.resolve(base);
    }

    fn check(&self) -> Result<()> {
        self.hub.check("hub")?;
        if self.min_sites == 0 {
            bail!("min_sites must be at least 1");
        }
        Ok(())
    }
}

impl Resolve for NodeConfig {
    fn resolve(&mut self, base: &Path) {
        for p in [&mut self.credentials, &mut self.ledger, &mut self.audit_log] {
            rebase(p, base);
        }
        self.hub.resolve(base);
        self.aggregator.resolve(base);
        rebase(&mut self.dataset.dictionary, base);
        for f in &mut self.dataset.files {
            rebase(f, base);
        }
    }

    fn check(&self) -> Result<()> {
        self.hub.check("hub")?;
        self.aggregator.check("aggregator")?;
        if self.dataset.files.is_empty() {
            bail!("dataset {} lists no data file", self.dataset.name);
        }
        let p = &self.policy;
        if !(p.max_epsilon.is_finite() && p.max_epsilon > 0.0) {
            bail!("policy.max_epsilon must be a positive number, got {}", p.max_epsilon);
        }
        if !(p.delta > 0.0 && p.delta < 1.0) {
            bail!("policy.delta must be in (0, 1), got {}", p.delta);
        }
        if p.min_sites == 0 {
            bail!("policy.min_sites must be at least 1");
        }
        Ok(())
    }
}

/// Writes `addr` to `file` atomically (a peer may be reading it).
pub fn write_address(file: &Path, addr: SocketAddr) -> Result<()> {
    ensure_parent(file)?;
    write_atomically(file, addr.to_string().as_bytes(), false)
}

/// Replaces `path` with `bytes` so that a reader or a crash sees the old file or the new one,
/// never a part: a temporary file beside it (mode 0600 when `private`), synced, renamed over
/// `path`, and the directory synced so that the rename itself survives a power loss.
pub fn write_atomically(path: &Path, bytes: &[u8], private: bool) -> Result<()> {
    use std::io::Write;
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(".partial");
    let tmp = PathBuf::from(tmp_name);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if private {
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options
        .open(&tmp)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot move {} to {}", tmp.display(), path.display()))?;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("cannot sync {}", dir.display()))
}

/// Creates the directory a file of the configuration goes in (a ledger, a log, a database).
pub fn ensure_parent(file: &Path) -> Result<()> {
    match file.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => std::fs::create_dir_all(dir).with_context(|| format!("cannot create directory {}", dir.display())),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/samples")
    }

    #[test]
    fn documented_samples_load() {
        let hub: HubConfig = load(&samples().join("hub.toml")).unwrap();
        assert_eq!(hub.datasets[0].sites.len(), 3);
        assert_eq!(hub.limits.round_secs, 120);
        assert!(hub.database.is_absolute());
        let agg: AggregatorConfig = load(&samples().join("aggregator.toml")).unwrap();
        assert_eq!(agg.min_sites, 2);
        let node: NodeConfig = load(&samples().join("site.toml")).unwrap();
        assert_eq!(node.policy.allowed_methods, vec![MethodName::Aim, MethodName::Mst]);
        assert!(node.dataset.files[0].ends_with("exports/aml-2026-11.csv"));
    }

    #[test]
    fn unknown_keys_are_refused_with_their_position() {
        let dir = tempfile::tempdir().unwrap();
        let text = std::fs::read_to_string(samples().join("aggregator.toml")).unwrap();
        let path = dir.path().join("agg.toml");
        std::fs::write(&path, text.replace("min_sites = 2", "min_sites = 2\nmin_site = 3")).unwrap();
        let err = load::<AggregatorConfig>(&path).unwrap_err().to_string();
        assert!(err.contains("agg.toml:"), "{err}");
        assert!(err.contains("min_site"), "{err}");
    }

    #[test]
    fn rules_the_types_cannot_express_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let text = std::fs::read_to_string(samples().join("site.toml")).unwrap();
        let path = dir.path().join("site.toml");
        std::fs::write(&path, text.replace("max_epsilon = 4.0", "max_epsilon = -1.0")).unwrap();
        let err = format!("{:#}", load::<NodeConfig>(&path).unwrap_err());
        assert!(err.contains("max_epsilon must be a positive number"), "{err}");
        let text = std::fs::read_to_string(samples().join("hub.toml")).unwrap();
        let path = dir.path().join("hub.toml");
        std::fs::write(
            &path,
            text.replace("max_records_per_site = 100000", "max_records_per_site = 0"),
        )
        .unwrap();
        let err = format!("{:#}", load::<HubConfig>(&path).unwrap_err());
        assert!(err.contains("max_records_per_site"), "{err}");
    }
}
