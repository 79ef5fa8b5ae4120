//! A researcher's client of the hub (`synthema job …`), over mutual TLS with a user certificate.

use std::path::Path;

use anyhow::{Context, Result};

use crate::api::{JobRequest, JobStatus, check};
use crate::pki::{Credentials, Role};
use crate::tls;

/// A connection to the hub as a user.
pub struct JobClient {
    client: reqwest::Client,
    base: String,
}

impl JobClient {
    /// A client with the user credentials in `credentials` for the hub at `base` (`https://host:port`).
    pub fn new(credentials: &Path, base: &str) -> Result<JobClient> {
        let creds = Credentials::load(credentials)?;
        if creds.identity().role != Role::User {
            anyhow::bail!(
                "{} holds a {} certificate; jobs are submitted with a user certificate",
                credentials.display(),
                creds.identity()
            );
        }
        Ok(JobClient {
            client: tls::client_for(&creds, &[Role::Hub])?,
            base: base.trim_end_matches('/').to_string(),
        })
    }

    /// Submits a job; its first status.
    pub async fn submit(&self, request: &JobRequest) -> Result<JobStatus> {
        let response = self
            .client
            .post(format!("{}/v1/jobs", self.base))
            .json(request)
            .send()
            .await
            .with_context(|| format!("hub unreachable at {}", self.base))?;
        Ok(check(response, "the hub refused the job").await?.json().await?)
    }

    /// A job's status.
    pub async fn status(&self, id: &str) -> Result<JobStatus> {
        let response = self
            .client
            .get(format!("{}/v1/jobs/{id}", self.base))
            .send()
            .await
            .with_context(|| format!("hub unreachable at {}", self.base))?;
        Ok(check(response, "job status").await?.json().await?)
    }

    /// Cancels a job; its status after the cancellation.
    pub async fn cancel(&self, id: &str) -> Result<JobStatus> {
        let response = self
            .client
            .post(format!("{}/v1/jobs/{id}/cancel", self.base))
            .send()
            .await
            .with_context(|| format!("hub unreachable at {}", self.base))?;
        Ok(check(response, "cancel").await?.json().await?)
    }

    /// The synthetic CSV of a succeeded job.
    pub async fn fetch(&self, id: &str) -> Result<Vec<u8>> {
        let response = self
            .client
            .get(format!("{}/v1/jobs/{id}/result", self.base))
            .send()
            .await
            .with_context(|| format!("hub unreachable at {}", self.base))?;
        Ok(check(response, "fetch").await?.bytes().await?.to_vec())
    }
}
