//! The pseudonymisation key and the two keyed functions built on it: pseudonyms and per-patient
//! date offsets (HMAC-SHA-256, RFC 2104 / FIPS 198-1).

use crate::error::{Error, Result};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::fmt;

/// Minimum key length in bytes (the output length of SHA-256).
pub const MIN_KEY_BYTES: usize = 32;

/// Domain-separation prefix of the date-shift HMAC input, so an offset is never derivable from a
/// published pseudonym.
const DATE_SHIFT_DOMAIN: &[u8] = b"synthema-date-shift\0";

/// A secret key for keyed pseudonyms and date shifting. `Debug` prints no key material and the
/// bytes are overwritten when the key is dropped.
pub struct Key {
    bytes: Vec<u8>,
}

impl Key {
    /// A key from raw bytes; at least [`MIN_KEY_BYTES`] bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Key> {
        if bytes.len() < MIN_KEY_BYTES {
            return Err(Error::KeyTooShort {
                length: bytes.len(),
                minimum: MIN_KEY_BYTES,
            });
        }
        Ok(Key { bytes: bytes.to_vec() })
    }

    fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        // HMAC accepts keys of any length; `from_bytes` guarantees a non-empty key.
        let mut mac =
            <Hmac<Sha256> as KeyInit>::new_from_slice(&self.bytes).expect("HMAC-SHA-256 accepts keys of every length");
        for p in parts {
            mac.update(p);
        }
        mac.finalize().into_bytes().into()
    }

    /// The pseudonym of `value`: HMAC-SHA-256(key, UTF-8 bytes of `value`) in lowercase hex,
    /// truncated to `hex_chars` characters (at most 64).
    pub fn pseudonym(&self, value: &str, hex_chars: usize) -> String {
        let tag = self.mac(&[value.as_bytes()]);
        let mut out = String::with_capacity(64);
        for b in tag {
            out.push_str(&format!("{b:02x}"));
        }
        out.truncate(hex_chars.min(64));
        out
    }

    /// The date offset of `patient`, uniform in `-max_days..=max_days`: the first 8 bytes of
    /// HMAC-SHA-256(key, "synthema-date-shift\0" ‖ patient) read big-endian, modulo
    /// `2·max_days + 1`, minus `max_days` (bias below 2⁻⁴⁰ for any realistic `max_days`).
    pub fn date_offset(&self, patient: &str, max_days: u32) -> i32 {
        let tag = self.mac(&[DATE_SHIFT_DOMAIN, patient.as_bytes()]);
        let mut first = [0u8; 8];
        first.copy_from_slice(&tag[..8]);
        let span = 2 * u64::from(max_days) + 1;
        let r = u64::from_be_bytes(first) % span;
        // r < 2·max_days + 1 ≤ 2·u32::MAX + 1, so r − max_days fits in i64; offsets are
        // bounded by the config check (max_days ≤ 36,500).
        (r as i64 - i64::from(max_days)) as i32
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({} bytes, redacted)", self.bytes.len())
    }
}

impl Drop for Key {
    fn drop(&mut self) {
        // Best-effort zeroisation without `unsafe`: overwrite, then make the writes observable
        // to the optimiser through `black_box` so they are not elided.
        for b in self.bytes.iter_mut() {
            *b = 0;
        }
        std::hint::black_box(&mut self.bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4231_test_case_6_long_key() {
        // RFC 4231 §4.7: key = 131 bytes of 0xaa.
        let key = Key::from_bytes(&[0xaa; 131]).unwrap();
        let p = key.pseudonym("Test Using Larger Than Block-Size Key - Hash Key First", 64);
        assert_eq!(p, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
        assert_eq!(
            key.pseudonym("Test Using Larger Than Block-Size Key - Hash Key First", 32),
            "60e431591ee0b67f0d8a26aacbf5b77f"
        );
    }

    #[test]
    fn short_key_is_refused_and_debug_redacts() {
        assert_eq!(
            Key::from_bytes(&[1; 31]).unwrap_err(),
            Error::KeyTooShort {
                length: 31,
                minimum: 32
            }
        );
        let key = Key::from_bytes(&[7; 32]).unwrap();
        let shown = format!("{key:?}");
        assert_eq!(shown, "Key(32 bytes, redacted)");
    }

    #[test]
    fn date_offsets_are_bounded_deterministic_and_spread() {
        let key = Key::from_bytes(&[3; 32]).unwrap();
        let mut seen = std::collections::HashSet::new();
        for i in 0..2000 {
            let id = format!("P{i}");
            let o = key.date_offset(&id, 10);
            assert!((-10..=10).contains(&o));
            assert_eq!(o, key.date_offset(&id, 10));
            seen.insert(o);
        }
        assert_eq!(seen.len(), 21, "every offset in ±10 days occurs among 2000 patients");
        let other = Key::from_bytes(&[4; 32]).unwrap();
        let differ = (0..100).filter(|i| {
            let id = format!("P{i}");
            key.date_offset(&id, 10) != other.date_offset(&id, 10)
        });
        assert!(differ.count() > 80);
    }
}
