//! The HTTP API's data types (DTOs) and its errors. Core types convert into these explicitly;
//! protocol messages between parties travel as `federation::msg` envelopes, unchanged.
//!
//! Errors facing the network are *problem responses* (RFC 9457, `application/problem+json`):
//! a status, a short title and a detail written for the caller. They never carry internals
//! (paths, SQL, stack traces); those go to the service's own log.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::config::MethodName;

/// The current API's path prefix.
pub const PREFIX: &str = "/v1";

/// A researcher's job request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobRequest {
    /// The dataset (as configured at the hub).
    pub dataset: String,
    /// Columns to model (dictionary names, in dictionary order); empty means every modelled column.
    #[serde(default)]
    pub columns: Vec<String>,
    /// The method.
    pub method: MethodName,
    /// ε of the whole job at every site.
    pub epsilon: f64,
    /// δ of the whole job.
    pub delta: f64,
    /// Synthetic rows to produce.
    pub rows: u64,
    /// Minimum number of sites any release aggregates (at least 2).
    #[serde(default = "default_min_sites")]
    pub min_sites: u32,
}

fn default_min_sites() -> u32 {
    2
}

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    /// Waiting for the hub's worker.
    Queued,
    /// Rounds are running.
    Running,
    /// The synthetic data can be fetched.
    Succeeded,
    /// The job ended without a result; `reason` says why.
    Failed,
    /// A user cancelled it; no further round was opened.
    Cancelled,
}

impl JobState {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Succeeded => "succeeded",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<JobState> {
        Some(match s {
            "queued" => JobState::Queued,
            "running" => JobState::Running,
            "succeeded" => JobState::Succeeded,
            "failed" => JobState::Failed,
            "cancelled" => JobState::Cancelled,
            _ => return None,
        })
    }

    /// Whether the job can still change.
    pub fn is_final(self) -> bool {
        matches!(self, JobState::Succeeded | JobState::Failed | JobState::Cancelled)
    }
}

/// A job's status as the hub reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobStatus {
    /// The job's id.
    pub id: String,
    /// Who submitted it.
    pub requester: String,
    /// What was asked.
    pub request: JobRequest,
    /// Where it stands.
    pub state: JobState,
    /// Rounds released so far.
    pub round: u32,
    /// The most rounds the method may run (an upper bound: AIM may stop earlier).
    pub rounds_planned: u32,
    /// Why it failed or was cancelled.
    pub reason: Option<String>,
    /// Sites that took part (accepted and were not dropped).
    pub sites: Vec<String>,
    /// Creation and last change (seconds since the Unix epoch).
    pub created: u64,
    /// Last change.
    pub updated: u64,
    /// The hub audit log's head when the status was read (entries, SHA-256 hex).
    pub audit_head: Option<(u64, String)>,
}

impl JobStatus {
    /// One line for people: `running (round 12 of at most 40)`.
    pub fn describe(&self) -> String {
        match self.state {
            JobState::Running => format!("running (round {} of at most {})", self.round, self.rounds_planned),
            JobState::Failed | JobState::Cancelled => format!(
                "{} after {} rounds: {}",
                self.state.as_str(),
                self.round,
                self.reason.as_deref().unwrap_or("no reason recorded")
            ),
            other => format!("{} ({} rounds)", other.as_str(), self.round),
        }
    }
}

/// Messages waiting for a site, answered to its poll.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Inbox {
    /// The hub database's instance id: sequence numbers count within one instance. Empty in
    /// batches that are not polls.
    #[serde(default)]
    pub hub: String,
    /// `(sequence number, wire envelope as JSON text)`, in order.
    pub messages: Vec<(u64, String)>,
}

/// The hub's setup of a job at the helper aggregator.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HelperJob {
    /// The job.
    pub job_id: String,
    /// The Prio3 verification key shared by the two aggregators (hex), secret from the sites.
    pub verify_key: String,
}

/// A problem response (RFC 9457).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    /// HTTP status.
    pub status: u16,
    /// Short, fixed description of the kind of problem.
    pub title: String,
    /// What went wrong for this request, written for the caller.
    pub detail: String,
}

impl Problem {
    /// A problem with `status`.
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Problem {
        Problem {
            status: status.as_u16(),
            title: status.canonical_reason().unwrap_or("error").to_string(),
            detail: detail.into(),
        }
    }

    /// 400: the body or a parameter breaks a rule.
    pub fn bad_request(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::BAD_REQUEST, detail)
    }

    /// 403: the authenticated party may not do this.
    pub fn forbidden(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::FORBIDDEN, detail)
    }

    /// 404.
    pub fn not_found(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::NOT_FOUND, detail)
    }

    /// 409: the request conflicts with the current state.
    pub fn conflict(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::CONFLICT, detail)
    }

    /// 500, with a fixed detail: the cause goes to the service's log, never to the caller.
    pub fn internal(context: &str, cause: &dyn std::fmt::Display) -> Problem {
        eprintln!("{} error: {context}: {cause}", crate::log::now());
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the service could not complete the request; its operator's log has the cause",
        )
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, Json(self)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        response
    }
}

/// Parses a JSON request body; a malformed one is a 400 naming the line and column.
pub fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8], what: &str) -> Result<T, Problem> {
    serde_json::from_slice(body)
        .map_err(|e| Problem::bad_request(format!("{what}, line {} column {}: {e}", e.line(), e.column())))
}

/// A peer's refusal: the HTTP status and the detail of its problem response.
#[derive(Debug, thiserror::Error)]
#[error("{what}: {status}: {detail}")]
pub struct Refused {
    /// What was asked.
    pub what: String,
    /// The HTTP status, e.g. `409 Conflict`.
    pub status: reqwest::StatusCode,
    /// The problem's detail (or the start of the body).
    pub detail: String,
}

impl Refused {
    /// Whether the peer judged the request itself wrong (4xx): sending it again cannot help.
    pub fn is_final(&self) -> bool {
        self.status.is_client_error()
    }
}

/// Turns a rejected response into a [`Refused`] error naming the peer's problem detail.
pub async fn check(response: reqwest::Response, what: &str) -> anyhow::Result<reqwest::Response> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let body = response.text().await.unwrap_or_default();
    let detail = serde_json::from_str::<Problem>(&body)
        .map(|p| p.detail)
        .unwrap_or_else(|_| body.chars().take(200).collect());
    Err(Refused {
        what: what.to_string(),
        status,
        detail,
    }
    .into())
}
