//! A federation on one machine, as real processes on loopback: provisioning (certificates and
//! configuration files), starting the hub, one helper aggregator and the site nodes, and
//! stopping everything that was started — also when the caller fails half-way (`Drop`).
//! Used by `synthema demo` and by the end-to-end tests; `exe` is the `synthema` binary.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::pki::{IssueOptions, Role};
use anyhow::{Context, Result, bail};

/// The layout of a provisioned federation under one directory.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The root.
    pub root: PathBuf,
    /// The dataset's name.
    pub dataset: String,
    /// The public dictionary every party reads.
    pub dictionary: PathBuf,
    /// Site names and their data files.
    pub sites: Vec<(String, PathBuf)>,
}

impl Layout {
    /// The audit logs' directory.
    pub fn audit_dir(&self) -> PathBuf {
        self.root.join("audit")
    }

    /// The researcher's credentials.
    pub fn user_credentials(&self) -> PathBuf {
        self.root.join("pki").join("researcher")
    }

    fn run_dir(&self) -> PathBuf {
        self.root.join("run")
    }

    /// The file the hub writes its address to.
    pub fn hub_address_file(&self) -> PathBuf {
        self.run_dir().join("hub.addr")
    }

    fn aggregator_address_file(&self) -> PathBuf {
        self.run_dir().join("aggregator.addr")
    }

    /// A service's configuration file.
    pub fn config_file(&self, name: &str) -> PathBuf {
        self.root.join("config").join(format!("{name}.toml"))
    }

    /// A service's operator log (its stderr).
    pub fn log_file(&self, name: &str) -> PathBuf {
        self.root.join("logs").join(format!("{name}.log"))
    }
}

fn toml_path(p: &Path) -> String {
    // TOML basic strings: escape backslashes and quotes.
    p.display().to_string().replace('\\', "\\\\").replace('"', "\\\"")
}

/// What [`provision`] writes into the configuration files.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Each site's total ε for the dataset.
    pub policy_epsilon: f64,
    /// δ of the sites' budgets.
    pub delta: f64,
    /// The sites' and the aggregator's floor on the number of sites in a release.
    pub min_sites: u32,
    /// The hub's deadlines: announcement, round, helper call (seconds).
    pub deadlines: (u64, u64, u64),
    /// The largest request body the hub accepts, in bytes.
    pub max_body_bytes: usize,
}

/// Creates the CA, every party's certificate and every configuration file.
pub fn provision(layout: &Layout, settings: &Settings) -> Result<()> {
    let Settings {
        policy_epsilon,
        delta,
        min_sites,
        deadlines: (announcement_secs, round_secs, helper_secs),
        max_body_bytes,
    } = settings.clone();
    let pki = layout.root.join("pki");
    let ca = pki.join("ca");
    crate::pki::init(&ca, "synthema-demo")?;
    let issue = |role: Role, name: &str, out: &str| {
        crate::pki::issue(
            &ca,
            &IssueOptions {
                role,
                name: name.to_string(),
                hosts: Vec::new(),
                validity_days: 30,
                not_after_override: None,
            },
            &pki.join(out),
        )
    };
    issue(Role::Hub, "hub", "hub")?;
    issue(Role::Aggregator, "computing-centre", "aggregator")?;
    issue(Role::User, "researcher", "researcher")?;
    for (name, _) in &layout.sites {
        issue(Role::Site, name, name)?;
    }
    let config_dir = layout.root.join("config");
    std::fs::create_dir_all(&config_dir).with_context(|| format!("cannot create {}", config_dir.display()))?;
    std::fs::create_dir_all(layout.run_dir())?;
    std::fs::create_dir_all(layout.root.join("logs"))?;
    std::fs::create_dir_all(layout.audit_dir())?;
    let sites: Vec<String> = layout.sites.iter().map(|(n, _)| format!("\"{n}\"")).collect();
    let hub = format!(
        r#"# The hub of the demo federation (see docs/samples/hub.toml for every setting).
listen = "127.0.0.1:0"
credentials = "{pki}/hub"
database = "{state}/hub.sqlite"
audit_log = "{audit}/hub.log"
results = "{state}/results"
address_file = "{hub_addr}"

[aggregator]
name = "computing-centre"
address_file = "{agg_addr}"

[[datasets]]
name = "{dataset}"
dictionary = "{dictionary}"
sites = [{sites}]
max_records_per_site = 100000

[limits]
announcement_secs = {announcement_secs}
round_secs = {round_secs}
helper_secs = {helper_secs}
max_body_bytes = {max_body_bytes}
"#,
        pki = toml_path(&pki),
        state = toml_path(&layout.root.join("state")),
        audit = toml_path(&layout.audit_dir()),
        hub_addr = toml_path(&layout.hub_address_file()),
        agg_addr = toml_path(&layout.aggregator_address_file()),
        dataset = layout.dataset,
        dictionary = toml_path(&layout.dictionary),
        sites = sites.join(", "),
    );
    write(&layout.config_file("hub"), &hub)?;
    let aggregator = format!(
        r#"# The computing centre's helper aggregator (see docs/samples/aggregator.toml).
listen = "127.0.0.1:0"
credentials = "{pki}/aggregator"
audit_log = "{audit}/aggregator.log"
state = "{state}/aggregator"
address_file = "{agg_addr}"
min_sites = {min_sites}

[hub]
name = "hub"
address_file = "{hub_addr}"
"#,
        pki = toml_path(&pki),
        audit = toml_path(&layout.audit_dir()),
        state = toml_path(&layout.root.join("state")),
        agg_addr = toml_path(&layout.aggregator_address_file()),
        hub_addr = toml_path(&layout.hub_address_file()),
    );
    write(&layout.config_file("aggregator"), &aggregator)?;
    for (name, file) in &layout.sites {
        let node = format!(
            r#"# Hospital node {name} (see docs/samples/site.toml).
credentials = "{pki}/{name}"
ledger = "{state}/{name}-ledger.sqlite"
audit_log = "{audit}/{name}.log"

[hub]
name = "hub"
address_file = "{hub_addr}"

[aggregator]
name = "computing-centre"
address_file = "{agg_addr}"

[dataset]
name = "{dataset}"
dictionary = "{dictionary}"
files = ["{file}"]

[policy]
max_epsilon = {policy_epsilon}
delta = {delta}
allowed_methods = ["aim", "mst"]
min_sites = {min_sites}
allowed_requesters = ["researcher"]
"#,
            pki = toml_path(&pki),
            state = toml_path(&layout.root.join("state")),
            audit = toml_path(&layout.audit_dir()),
            hub_addr = toml_path(&layout.hub_address_file()),
            agg_addr = toml_path(&layout.aggregator_address_file()),
            dataset = layout.dataset,
            dictionary = toml_path(&layout.dictionary),
            file = toml_path(file),
        );
        write(&layout.config_file(name), &node)?;
    }
    Ok(())
}

fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// A started service process.
pub struct Service {
    /// Its name (hub, aggregator, a site's name).
    pub name: String,
    child: Child,
}

impl Service {
    /// Starts `synthema <command> --config <file>` with its stderr and stdout in its log file.
    pub fn start(exe: &Path, command: &str, name: &str, layout: &Layout) -> Result<Service> {
        let log_path = layout.log_file(name);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .with_context(|| format!("cannot open {}", log_path.display()))?;
        let child = Command::new(exe)
            .arg(command)
            .arg("--config")
            .arg(layout.config_file(name))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("cannot start the {name} process"))?;
        Ok(Service {
            name: name.to_string(),
            child,
        })
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process has exited (and how).
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Stops the process: SIGTERM, then SIGKILL after `grace`.
    pub fn stop(&mut self, grace: Duration) {
        if self.exited().is_some() {
            return;
        }
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .stderr(Stdio::null())
            .status();
        let until = Instant::now() + grace;
        while Instant::now() < until {
            if self.exited().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Kills the process at once (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every started service; stopped on drop.
#[derive(Default)]
pub struct Fleet {
    /// The services, in start order.
    pub services: Vec<Service>,
}

impl Fleet {
    /// Starts the hub, the aggregator and every node, and waits until hub and aggregator listen.
    pub fn start(exe: &Path, layout: &Layout) -> Result<Fleet> {
        let _ = std::fs::remove_file(layout.hub_address_file());
        let _ = std::fs::remove_file(layout.aggregator_address_file());
        let mut fleet = Fleet::default();
        fleet.services.push(Service::start(exe, "hub", "hub", layout)?);
        fleet
            .services
            .push(Service::start(exe, "aggregator", "aggregator", layout)?);
        for (name, _) in &layout.sites {
            fleet.services.push(Service::start(exe, "node", name, layout)?);
        }
        fleet.wait_for(&layout.hub_address_file(), layout)?;
        fleet.wait_for(&layout.aggregator_address_file(), layout)?;
        Ok(fleet)
    }

    /// Waits for a service's address file, failing early (with its log's tail) if a service died.
    pub fn wait_for(&mut self, file: &Path, layout: &Layout) -> Result<String> {
        let until = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(addr) = std::fs::read_to_string(file) {
                return Ok(addr.trim().to_string());
            }
            for s in &mut self.services {
                if let Some(status) = s.exited() {
                    let log = std::fs::read_to_string(layout.log_file(&s.name)).unwrap_or_default();
                    let tail: Vec<&str> = log.lines().rev().take(5).collect();
                    bail!(
                        "the {} process exited ({status}) while starting; its log ends with:\n{}",
                        s.name,
                        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                    );
                }
            }
            if Instant::now() > until {
                bail!("no service wrote {} within 60 s", file.display());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The service named `name`.
    pub fn get(&mut self, name: &str) -> Option<&mut Service> {
        self.services.iter_mut().find(|s| s.name == name)
    }

    /// Stops every service (SIGTERM, then SIGKILL after 5 s).
    pub fn stop(&mut self) {
        for s in self.services.iter_mut().rev() {
            s.stop(Duration::from_secs(5));
        }
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        self.stop();
    }
}
