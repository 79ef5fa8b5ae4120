//! Fixtures shared by the federation tests: a simulated AML cohort split over sites, encoded
//! with the public domain of its dictionary, and builders for policies, jobs and simulations.

#![allow(dead_code)]

use std::sync::Arc;

use dp::Rho;
use federation::msg::JobAnnouncement;
use federation::{
    InMemoryLedger, JobId, Method, Noise, PrivacyLedger, Simulation, SimulationConfig, SiteId, SiteNode, SitePolicy,
};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use table::Dictionary;
use table::encode::{Domain, EncodeOptions, Encoded};

pub const COLUMNS: &[&str] = &[
    "AGE",
    "SEX",
    "NPM1",
    "FLT3_ITD",
    "TP53",
    "ELN 2022",
    "complex",
    "NORMAL_KARYOTYPE",
    "Allogeneic HSCT",
    "TIME TO HSCT",
];
pub const DATASET: &str = "aml-registry";
pub const REQUESTER: &str = "researcher@synthema";

pub struct Fixture {
    pub dictionary: Arc<Dictionary>,
    pub domain: Domain,
    pub parts: Vec<Encoded>,
}

/// `patients` simulated AML patients over `sites` heterogeneous sites.
pub fn fixture(sites: usize, patients: usize, seed: u64) -> Fixture {
    let cohort = cohort::simulate(
        cohort::Disease::Aml,
        &cohort::Config {
            patients,
            sites,
            heterogeneity: 0.5,
            seed,
        },
    )
    .expect("valid cohort");
    let dictionary = Arc::new(
        cohort
            .dictionary
            .restrict(|c| COLUMNS.contains(&c.name.as_str()))
            .modelled(),
    );
    let domain = Domain::from_dictionary(&dictionary, &EncodeOptions::default()).expect("public domain");
    let parts = cohort
        .sites
        .iter()
        .map(|t| {
            domain
                .encode(&t.project(dictionary.clone()).expect("projection"))
                .expect("encode")
        })
        .collect();
    Fixture {
        dictionary,
        domain,
        parts,
    }
}

pub fn policy(max_rho: f64) -> SitePolicy {
    SitePolicy {
        max_rho_per_dataset: Rho::new(max_rho).expect("rho"),
        allowed_methods: vec![Method::Mst, Method::Aim],
        min_sites: 2,
        allowed_requesters: vec![REQUESTER.into()],
    }
}

pub fn site_id(i: usize) -> SiteId {
    SiteId(format!("hospital-{}", i + 1))
}

pub fn announcement(fx: &Fixture, min_sites: u32, rho: f64) -> JobAnnouncement {
    JobAnnouncement {
        job_id: JobId("job-7".into()),
        dataset: DATASET.into(),
        requester: REQUESTER.into(),
        method: Method::Mst,
        columns: fx.domain.attributes().iter().map(|a| a.name().to_string()).collect(),
        rho_per_site: rho,
        requested_measurements: 20,
        sites: (0..fx.parts.len()).map(site_id).collect(),
        min_sites,
        bits: 14,
    }
}

pub fn sites(fx: &Fixture, policies: &[SitePolicy]) -> Vec<SiteNode<InMemoryLedger>> {
    fx.parts
        .iter()
        .zip(policies)
        .enumerate()
        .map(|(i, (part, policy))| {
            SiteNode::new(
                site_id(i),
                DATASET,
                part.clone(),
                policy.clone(),
                InMemoryLedger::new(),
                ChaCha20Rng::seed_from_u64(100 + i as u64),
            )
        })
        .collect()
}

pub fn config(noise: Noise, faults: Vec<federation::Fault>) -> SimulationConfig {
    SimulationConfig {
        seed: 17,
        noise,
        helper_min_sites: 2,
        faults,
    }
}

/// A simulation of the fixture with one policy for every site.
pub fn simulation(fx: &Fixture, min_sites: u32, job_rho: f64, site_rho: f64, config: SimulationConfig) -> Simulation {
    let policies = vec![policy(site_rho); fx.parts.len()];
    Simulation::new(
        announcement(fx, min_sites, job_rho),
        fx.domain.sizes(),
        sites(fx, &policies),
        config,
    )
    .expect("simulation")
}

/// The invariant after every scenario: no site's ledger exceeds its policy or the job's budget,
/// and nothing stays reserved.
pub fn check_ledgers(sim: &Simulation) {
    let job = &sim.hub().announcement().job_id;
    let rho = sim.hub().announcement().rho_per_site;
    for site in sim.sites() {
        let ledger = site.ledger();
        let committed = ledger.committed(site.dataset());
        assert!(
            committed <= site.policy().max_rho_per_dataset.get(),
            "{}: {committed} above its policy",
            site.id()
        );
        assert!(
            ledger.committed_for_job(site.dataset(), job) <= rho,
            "{}: above the job budget",
            site.id()
        );
        assert_eq!(
            ledger.reserved(site.dataset()),
            0.0,
            "{}: reservation left open",
            site.id()
        );
    }
}

/// The plain sum over `parts` of the marginal over `attrs`.
pub fn plain_sum(parts: &[&Encoded], attrs: &[usize]) -> Vec<i64> {
    let mut sum: Vec<i64> = Vec::new();
    for part in parts {
        let counts = part.marginal(attrs).expect("marginal").counts;
        if sum.is_empty() {
            sum = vec![0; counts.len()];
        }
        for (s, c) in sum.iter_mut().zip(counts) {
            *s += c as i64;
        }
    }
    sum
}
