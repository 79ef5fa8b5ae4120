//! The federation's services as real processes over loopback mutual TLS: a job end to end, a
//! hub killed mid-job, a node killed mid-round, the aggregator gone, a cancellation, and bad
//! requests. Every test checks the audit logs and the sites' ledgers afterwards.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cohort::{Config, Disease};
use server::api::{JobRequest, JobState, JobStatus};
use server::client::JobClient;
use server::config::MethodName;
use server::fleet::{Fleet, Layout, Service, Settings};
use table::csv::CsvOptions;

const COLUMNS: &[&str] = &["SEX", "NPM1", "FLT3_ITD", "TP53", "ELN 2022"];

fn exe() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_synthema"))
}

/// Three simulated AML sites (60 patients each) provisioned under `dir`.
fn provision(dir: &Path, round_secs: u64) -> Layout {
    let cohort = cohort::simulate(
        Disease::Aml,
        &Config {
            patients: 180,
            sites: 3,
            heterogeneity: 0.5,
            seed: 11,
        },
    )
    .unwrap();
    let dictionary = dir.join("dictionary.toml");
    std::fs::write(&dictionary, cohort.dictionary.to_toml()).unwrap();
    let mut sites = Vec::new();
    for (k, t) in cohort.sites.iter().enumerate() {
        let path = dir.join(format!("site-{}.csv", k + 1));
        let mut f = std::fs::File::create(&path).unwrap();
        table::csv::write_table(&mut f, t, &CsvOptions::default()).unwrap();
        sites.push((format!("site-{}", k + 1), path));
    }
    let layout = Layout {
        root: dir.to_path_buf(),
        dataset: "aml".into(),
        dictionary,
        sites,
    };
    let settings = Settings {
        policy_epsilon: 2.0,
        delta: 1e-9,
        min_sites: 2,
        deadlines: (20, round_secs, 10),
        max_body_bytes: 4 << 20,
    };
    server::fleet::provision(&layout, &settings).unwrap();
    layout
}

fn request(method: MethodName) -> JobRequest {
    JobRequest {
        dataset: "aml".into(),
        columns: COLUMNS.iter().map(|c| c.to_string()).collect(),
        method,
        epsilon: 1.0,
        delta: 1e-9,
        rows: 50,
        min_sites: 2,
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn hub_url(layout: &Layout) -> String {
    format!(
        "https://{}",
        std::fs::read_to_string(layout.hub_address_file()).unwrap().trim()
    )
}

fn client(layout: &Layout) -> JobClient {
    JobClient::new(&layout.user_credentials(), &hub_url(layout)).unwrap()
}

/// Polls until `done` holds for the job's status (panics after 180 s with the last status).
fn poll(rt: &tokio::runtime::Runtime, layout: &Layout, id: &str, done: impl Fn(&JobStatus) -> bool) -> JobStatus {
    let until = Instant::now() + Duration::from_secs(180);
    let mut last = None;
    while Instant::now() < until {
        // The hub may be restarting: build a client each time (its address may change).
        if let Ok(addr) = std::fs::read_to_string(layout.hub_address_file()) {
            let c = JobClient::new(&layout.user_credentials(), &format!("https://{}", addr.trim())).unwrap();
            if let Ok(s) = rt.block_on(c.status(id)) {
                if done(&s) {
                    return s;
                }
                last = Some(s);
            }
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("job {id} did not reach the expected state; last status {last:?}");
}

fn audit_entries(layout: &Layout, name: &str) -> Vec<serde_json::Value> {
    let path = layout.audit_dir().join(format!("{name}.log"));
    server::audit::verify(&path).unwrap_or_else(|e| panic!("{}: {e:#}", path.display()));
    std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn events<'a>(entries: &'a [serde_json::Value], event: &str) -> Vec<&'a serde_json::Value> {
    entries.iter().filter(|e| e["event"] == event).collect()
}

/// Every site charged each round at most once, and in total at most its policy's limit.
fn check_ledgers(layout: &Layout) -> Vec<f64> {
    let mut totals = Vec::new();
    for (name, _) in &layout.sites {
        let entries = audit_entries(layout, name);
        let charges = events(&entries, "budget charged");
        let mut rounds = BTreeSet::new();
        for c in &charges {
            let key = (c["detail"]["job"].to_string(), c["detail"]["round"].to_string());
            assert!(rounds.insert(key.clone()), "{name} was charged twice for {key:?}");
        }
        let ledger =
            server::ledger::SqliteLedger::open(&layout.root.join("state").join(format!("{name}-ledger.sqlite")))
                .unwrap();
        use federation::PrivacyLedger;
        let committed = ledger.committed("aml");
        let limit = dp::rho_from_eps_delta(dp::Epsilon::new(2.0).unwrap(), dp::Delta::new(1e-9).unwrap())
            .unwrap()
            .get();
        assert!(committed <= limit, "{name}: {committed} > {limit}");
        // The audit log explains the ledger: its last charge, or the start of a node that
        // committed reservations a kill left outstanding (recovery only ever adds).
        let last = entries
            .iter()
            .filter(|e| e["event"] == "budget charged" || e["event"] == "node started")
            .filter_map(|e| e["detail"]["rho_committed"].as_f64())
            .next_back()
            .unwrap_or(0.0);
        if ledger.recovered() == 0 {
            assert!(
                (last - committed).abs() < 1e-12,
                "{name}: audit says {last}, ledger {committed}"
            );
        } else {
            // Opened here after a kill without a restart: the outstanding reservation is
            // committed now, conservatively.
            assert!(committed >= last, "{name}: audit says {last}, ledger {committed}");
        }
        totals.push(committed);
    }
    totals
}

/// A started federation of three sites with its runtime; stopped on drop.
struct Running {
    // Dropped in this order: the services stop before their directory goes.
    fleet: Fleet,
    layout: Layout,
    rt: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

impl Running {
    fn start(round_secs: u64) -> Running {
        let dir = tempfile::tempdir().unwrap();
        let layout = provision(dir.path(), round_secs);
        let fleet = Fleet::start(&exe(), &layout).unwrap();
        Running {
            fleet,
            layout,
            rt: runtime(),
            _dir: dir,
        }
    }

    fn submit(&self, method: MethodName) -> String {
        self.rt
            .block_on(client(&self.layout).submit(&request(method)))
            .unwrap()
            .id
    }

    fn poll(&self, id: &str, done: impl Fn(&JobStatus) -> bool) -> JobStatus {
        poll(&self.rt, &self.layout, id, done)
    }

    /// Submits a job and kills `service` once two rounds were released.
    fn submit_and_kill(&mut self, method: MethodName, service: &str) -> String {
        let id = self.submit(method);
        let at = self.poll(&id, |s| s.round >= 2 || s.state.is_final());
        assert_eq!(at.state, JobState::Running, "the job ended before the kill: {at:?}");
        self.fleet.get(service).unwrap().kill();
        id
    }
}

#[test]
fn a_federated_job_runs_end_to_end_over_mutual_tls() {
    let dir = tempfile::tempdir().unwrap();
    let layout = provision(dir.path(), 30);
    let mut fleet = Fleet::start(&exe(), &layout).unwrap();
    let rt = runtime();
    let c = client(&layout);
    let submitted = rt.block_on(c.submit(&request(MethodName::Mst))).unwrap();
    assert!(matches!(submitted.state, JobState::Queued | JobState::Running));
    let done = poll(&rt, &layout, &submitted.id, |s| s.state.is_final());
    assert_eq!(done.state, JobState::Succeeded, "{done:?}");
    assert_eq!(done.sites, vec!["site-1", "site-2", "site-3"]);
    // MST: at least one selection round per tree edge, plus the measurements.
    assert!(done.round > COLUMNS.len() as u32 - 1, "{done:?}");
    let csv = String::from_utf8(rt.block_on(c.fetch(&submitted.id)).unwrap()).unwrap();
    let mut lines = csv.lines();
    let header = lines.next().unwrap();
    for column in COLUMNS {
        assert!(header.contains(column), "{header}");
    }
    assert_eq!(lines.count(), 50);
    // A final job cannot be cancelled.
    let err = rt.block_on(c.cancel(&submitted.id)).unwrap_err().to_string();
    assert!(err.contains("409") && err.contains("already succeeded"), "{err}");
    fleet.stop();

    let hub = audit_entries(&layout, "hub");
    assert_eq!(events(&hub, "round released").len() as u32, done.round);
    assert_eq!(events(&hub, "site accepted").len(), 3);
    assert_eq!(events(&hub, "job succeeded").len(), 1);
    assert_eq!(events(&hub, "result fetched").len(), 1);
    let aggregator = audit_entries(&layout, "aggregator");
    assert_eq!(events(&aggregator, "aggregate share released").len() as u32, done.round);
    // `synthema audit verify` on every log, then on an edited one: exit 1, naming the line.
    let logs: Vec<String> = ["hub", "aggregator", "site-1", "site-2", "site-3"]
        .iter()
        .map(|n| layout.audit_dir().join(format!("{n}.log")).display().to_string())
        .collect();
    let args: Vec<&str> = std::iter::once("audit")
        .chain(std::iter::once("verify"))
        .chain(logs.iter().map(|s| s.as_str()))
        .collect();
    let out = common::synthema(&args, dir.path());
    assert!(out.status.success(), "{}", common::text(&out.stdout));
    assert_eq!(common::text(&out.stdout).matches(": intact,").count(), 5);
    let hub_log = layout.audit_dir().join("hub.log");
    let text = std::fs::read_to_string(&hub_log).unwrap();
    std::fs::write(&hub_log, text.replacen("\"site-2\"", "\"site-9\"", 1)).unwrap();
    let out = common::synthema(&["audit", "verify", &logs[0]], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let said = common::text(&out.stdout);
    assert!(said.contains("BROKEN") && said.contains("line "), "{said}");
    let totals = check_ledgers(&layout);
    // Every site took part in every round and spent the job's whole budget (MST spends it all).
    let job_rho = dp::rho_from_eps_delta(dp::Epsilon::new(1.0).unwrap(), dp::Delta::new(1e-9).unwrap())
        .unwrap()
        .get();
    for t in totals {
        assert!(t <= job_rho * (1.0 + 1e-9) && t > 0.99 * job_rho, "{t} vs {job_rho}");
    }
}

#[test]
fn a_hub_killed_mid_job_resumes_it_without_charging_anyone_twice() {
    let mut f = Running::start(30);
    let id = f.submit_and_kill(MethodName::Mst, "hub");
    let _ = std::fs::remove_file(f.layout.hub_address_file());
    *f.fleet.get("hub").unwrap() = Service::start(&exe(), "hub", "hub", &f.layout).unwrap();
    f.fleet.wait_for(&f.layout.hub_address_file(), &f.layout).unwrap();
    let done = f.poll(&id, |s| s.state.is_final());
    assert_eq!(done.state, JobState::Succeeded, "{done:?}");
    f.fleet.stop();
    let layout = &f.layout;
    let hub = audit_entries(layout, "hub");
    assert_eq!(events(&hub, "job resumed").len(), 1);
    let released: Vec<u64> = events(&hub, "round released")
        .iter()
        .map(|e| e["detail"]["round"].as_u64().unwrap())
        .collect();
    let distinct: BTreeSet<u64> = released.iter().copied().collect();
    assert_eq!(
        distinct.len(),
        released.len(),
        "a round was released twice: {released:?}"
    );
    assert_eq!(distinct.len() as u32, done.round);
    let job_rho = dp::rho_from_eps_delta(dp::Epsilon::new(1.0).unwrap(), dp::Delta::new(1e-9).unwrap())
        .unwrap()
        .get();
    for t in check_ledgers(layout) {
        assert!(t <= job_rho * (1.0 + 1e-9), "{t} > {job_rho}");
    }
}

#[test]
fn a_node_killed_mid_round_is_dropped_and_the_job_goes_on() {
    let mut f = Running::start(3);
    let id = f.submit_and_kill(MethodName::Mst, "site-3");
    let done = f.poll(&id, |s| s.state.is_final());
    assert_eq!(done.state, JobState::Succeeded, "{done:?}");
    assert_eq!(done.sites, vec!["site-1", "site-2"]);
    f.fleet.stop();
    let hub = audit_entries(&f.layout, "hub");
    assert!(!events(&hub, "round deadline").is_empty());
    check_ledgers(&f.layout);
}

#[test]
fn a_node_restarted_mid_job_refuses_the_rounds_it_forgot_and_keeps_its_ledger() {
    let mut f = Running::start(30);
    let id = f.submit_and_kill(MethodName::Mst, "site-2");
    *f.fleet.get("site-2").unwrap() = Service::start(&exe(), "node", "site-2", &f.layout).unwrap();
    let done = f.poll(&id, |s| s.state.is_final());
    assert_eq!(done.state, JobState::Succeeded, "{done:?}");
    assert_eq!(done.sites, vec!["site-1", "site-3"]);
    f.fleet.stop();
    let hub = audit_entries(&f.layout, "hub");
    let refused = events(&hub, "site refused");
    assert!(
        refused
            .iter()
            .any(|e| e["detail"]["site"] == "site-2" && e["detail"]["reason"] == "UnknownJob"),
        "{refused:?}"
    );
    // The restarted node's audit log continues its chain (verified by check_ledgers).
    let site2 = audit_entries(&f.layout, "site-2");
    assert_eq!(events(&site2, "node started").len(), 2);
    check_ledgers(&f.layout);
}

#[test]
fn the_aggregator_gone_fails_the_job_with_the_reason() {
    let mut f = Running::start(30);
    let id = f.submit_and_kill(MethodName::Mst, "aggregator");
    let done = f.poll(&id, |s| s.state.is_final());
    assert_eq!(done.state, JobState::Failed, "{done:?}");
    let reason = done.reason.clone().unwrap_or_default();
    assert!(reason.contains("aggregator"), "{reason}");
    // The hub itself is still serving.
    assert!(f.fleet.get("hub").unwrap().exited().is_none());
    // The aggregator restarts from its state (it kept the failed job's released shares) and the
    // next job runs.
    *f.fleet.get("aggregator").unwrap() = Service::start(&exe(), "aggregator", "aggregator", &f.layout).unwrap();
    let next = f.submit(MethodName::Mst);
    let done = f.poll(&next, |s| s.state.is_final());
    assert_eq!(done.state, JobState::Succeeded, "{done:?}");
    let log = std::fs::read_to_string(f.layout.log_file("aggregator")).unwrap();
    assert!(log.contains("restored 1 jobs"), "{log}");
    f.fleet.stop();
    let hub = audit_entries(&f.layout, "hub");
    assert_eq!(events(&hub, "job failed").len(), 1);
    check_ledgers(&f.layout);
}

#[test]
fn a_cancelled_job_opens_no_further_round() {
    let dir = tempfile::tempdir().unwrap();
    let layout = provision(dir.path(), 30);
    let mut fleet = Fleet::start(&exe(), &layout).unwrap();
    let rt = runtime();
    let c = client(&layout);
    let id = rt.block_on(c.submit(&request(MethodName::Aim))).unwrap().id;
    poll(&rt, &layout, &id, |s| s.round >= 2 || s.state.is_final());
    let cancelled = rt.block_on(c.cancel(&id)).unwrap();
    assert_eq!(cancelled.state, JobState::Cancelled);
    std::thread::sleep(Duration::from_millis(1500));
    let later = rt.block_on(c.status(&id)).unwrap();
    assert_eq!(later.state, JobState::Cancelled);
    // Nothing can be fetched.
    assert!(rt.block_on(c.fetch(&id)).is_err());
    fleet.stop();
    let hub = audit_entries(&layout, "hub");
    let at = hub.iter().position(|e| e["event"] == "job cancelled").unwrap();
    assert!(
        hub[at..].iter().all(|e| e["event"] != "round opened"),
        "a round was opened after the cancellation"
    );
    check_ledgers(&layout);
}

#[test]
fn bad_requests_get_problem_responses_and_the_hub_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let layout = provision(dir.path(), 30);
    let mut fleet = Fleet::start(&exe(), &layout).unwrap();
    let rt = runtime();
    let base = hub_url(&layout);
    let creds = |name: &str| server::pki::Credentials::load(&layout.root.join("pki").join(name)).unwrap();
    let site = server::tls::client(&creds("site-1")).unwrap();
    let user = server::tls::client(&creds("researcher")).unwrap();
    let status_and_problem = |response: Result<_, _>| {
        let response: reqwest::Response = response.unwrap();
        let status = response.status().as_u16();
        let kind = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let body: serde_json::Value = rt.block_on(response.json()).unwrap();
        assert_eq!(kind, "application/problem+json");
        assert_eq!(body["status"].as_u64(), Some(u64::from(status)));
        (status, body["detail"].as_str().unwrap().to_string())
    };
    // A site cannot submit jobs; a user cannot speak for a site.
    let (s, d) =
        status_and_problem(rt.block_on(async { site.post(format!("{base}/v1/jobs")).body("{}").send().await }));
    assert_eq!(s, 403, "{d}");
    let (s, d) = status_and_problem(rt.block_on(async { user.get(format!("{base}/v1/site/messages")).send().await }));
    assert_eq!(s, 403, "{d}");
    // Malformed JSON, named with its position; an unknown field; a bad value.
    let (s, d) = status_and_problem(
        rt.block_on(async { user.post(format!("{base}/v1/jobs")).body("{\"dataset\": ").send().await }),
    );
    assert_eq!(s, 400);
    assert!(d.contains("line 1 column"), "{d}");
    let mut bad = serde_json::to_value(request(MethodName::Aim)).unwrap();
    bad["epsilon"] = serde_json::json!(-1.0);
    let (s, d) =
        status_and_problem(rt.block_on(async { user.post(format!("{base}/v1/jobs")).json(&bad).send().await }));
    assert_eq!(s, 400);
    assert!(d.contains("epsilon must be positive"), "{d}");
    bad["epsilon"] = serde_json::json!(1.0);
    bad["columns"] = serde_json::json!(["SEX", "BLOOD GROUP"]);
    let (s, d) =
        status_and_problem(rt.block_on(async { user.post(format!("{base}/v1/jobs")).json(&bad).send().await }));
    assert_eq!(s, 400);
    assert!(d.contains("BLOOD GROUP") && d.contains("not a modelled column"), "{d}");
    bad["columns"] = serde_json::json!([]);
    bad["colour"] = serde_json::json!("red");
    let (s, d) =
        status_and_problem(rt.block_on(async { user.post(format!("{base}/v1/jobs")).json(&bad).send().await }));
    assert_eq!(s, 400);
    assert!(d.contains("colour"), "{d}");
    // A site's garbage and a message for no running job.
    let (s, _) = status_and_problem(rt.block_on(async {
        site.post(format!("{base}/v1/site/messages"))
            .body("not json")
            .send()
            .await
    }));
    assert_eq!(s, 400);
    // An oversized body (the test hub's limit is 4 MiB).
    let big = vec![b' '; 5 << 20];
    let response = rt
        .block_on(async { site.post(format!("{base}/v1/site/messages")).body(big).send().await })
        .unwrap();
    assert_eq!(response.status().as_u16(), 413);
    // Unknown jobs and routes.
    let (s, _) = status_and_problem(rt.block_on(async { user.get(format!("{base}/v1/jobs/job-nope")).send().await }));
    assert_eq!(s, 404);
    let (s, _) = status_and_problem(rt.block_on(async { user.get(format!("{base}/v1/secrets")).send().await }));
    assert_eq!(s, 404);
    let (s, _) = status_and_problem(rt.block_on(async { user.get(format!("{base}/v1/jobs")).send().await }));
    assert_eq!(s, 405);
    // Still serving: a job still runs to the end.
    let id = rt
        .block_on(client(&layout).submit(&request(MethodName::Mst)))
        .unwrap()
        .id;
    let done = poll(&rt, &layout, &id, |s| s.state.is_final());
    assert_eq!(done.state, JobState::Succeeded, "{done:?}");
    // At the aggregator: site-1 uploading a share in site-2's name is recorded as rejected (the
    // sender is the certificate's site, not the message's), and a user may not upload at all.
    let aggregator = format!(
        "https://{}",
        std::fs::read_to_string(layout.root.join("run/aggregator.addr"))
            .unwrap()
            .trim()
    );
    let site_to_aggregator = server::tls::client_for(&creds("site-1"), &[server::pki::Role::Aggregator]).unwrap();
    let forged = federation::msg::Message::Upload(federation::msg::Upload {
        job_id: federation::JobId(id.clone()),
        round: federation::Round(1),
        site: federation::SiteId("site-2".into()),
        share: "00".into(),
    });
    let body = federation::msg::encode(&forged).unwrap();
    let url = format!("{aggregator}/v1/jobs/{id}/uploads");
    let response = rt
        .block_on(async { site_to_aggregator.post(&url).body(body.clone()).send().await })
        .unwrap();
    assert_eq!(response.status().as_u16(), 202);
    let user_to_aggregator = server::tls::client_for(&creds("researcher"), &[server::pki::Role::Aggregator]).unwrap();
    let (s, _) = status_and_problem(rt.block_on(async { user_to_aggregator.post(&url).body(body).send().await }));
    assert_eq!(s, 403);
    fleet.stop();
    let entries = audit_entries(&layout, "aggregator");
    let rejected = events(&entries, "upload rejected");
    assert!(
        rejected.iter().any(
            |e| e["detail"]["site"] == "site-1" && e["detail"]["reason"].as_str().unwrap().contains("another site")
        ),
        "{rejected:?}"
    );
}
