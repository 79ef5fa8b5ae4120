//! `server`: the I/O edge of synthema (ARCHITECTURE.md §2) and its only async crate. It drives
//! the sans-I/O state machines of `federation` over HTTPS with mutual TLS:
//!
//! - [`hub`]: coordinator and leader aggregator; jobs, rounds and releases in SQLite or PostgreSQL ([`store`]);
//! - [`aggregator`]: a computing centre's helper aggregator;
//! - [`node`]: a hospital's node, outbound connections only, its ledger in SQLite ([`ledger`]);
//! - [`client`]: a researcher's `job submit | status | fetch | cancel`;
//! - [`pki`] and [`tls`]: the project CA, certificates, mutual TLS; [`audit`]: hash-chained logs;
//! - [`config`]: typed configuration files (samples in `docs/samples/`).

pub mod aggregator;
pub mod api;
pub mod audit;
pub mod client;
pub mod config;
pub mod fleet;
pub mod hub;
pub mod ledger;
pub mod log;
pub mod node;
pub mod pki;
pub mod store;
pub mod tls;
