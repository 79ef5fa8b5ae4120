//! `server`: the I/O edge of synthema (ARCHITECTURE.md §2) and its only async crate. It drives
//! the sans-I/O state machines of `federation` over HTTPS with mutual TLS.

pub mod audit;
pub mod ledger;
pub mod pki;
pub mod tls;
