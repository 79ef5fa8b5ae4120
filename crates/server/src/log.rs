//! The services' operator log: one line per event on stderr, prefixed with a UTC timestamp.
//! Never given secrets, shares or record-level data.

use std::time::{SystemTime, UNIX_EPOCH};

/// The time as RFC 3339 UTC with millisecond precision, e.g. `2026-11-28T19:30:00.123Z` (the
/// audit log's format).
pub use crate::audit::rfc3339_utc as rfc3339;

/// Now, as [`rfc3339`].
pub fn now() -> String {
    rfc3339(SystemTime::now())
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Writes one operator log line: `<time> <service>: <message>`.
pub fn line(service: &str, message: impl std::fmt::Display) {
    eprintln!("{} {service}: {message}", now());
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn formats_known_instants() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let t = UNIX_EPOCH + Duration::from_millis(951_782_400_000 + 5 * 3_600_000 + 7);
        assert_eq!(rfc3339(t), "2000-02-29T05:00:00.007Z");
        let t = UNIX_EPOCH + Duration::from_secs(1_795_808_096);
        assert_eq!(rfc3339(t), "2026-11-27T19:34:56.000Z");
    }
}
