//! An append-only, hash-chained audit log: one JSON object per line,
//!
//! ```text
//! {"seq":1,"time":"2026-11-28T19:12:32.123Z","event":"job.created","detail":{..},"prev":"000…0","hash":"…"}
//! ```
//!
//! `seq` counts from 1, `prev` is the `hash` of the previous entry (64 zeros for the first),
//! and `hash` is the hex SHA-256 of a canonical encoding of `seq`, `time`, `event`, `detail`
//! and `prev` (see [`entry_hash`]). Editing, deleting, reordering or inserting entries anywhere
//! before the last one breaks the chain and [`verify`] names the line.
//!
//! What a chain alone cannot detect: removing entries *at the tail* (the shorter log is a valid
//! chain), or rewriting the whole file with a fresh chain. Against both, a party publishes or
//! anchors the head ([`AuditLog::head`]: entry count and last hash) somewhere the log's writer
//! cannot rewrite — the hub prints it in job status, and a verifier compares.
//!
//! One [`AuditLog`] per file: it holds an exclusive advisory lock on the file while open, so a
//! second writer (in this or another process) is refused instead of forking the chain. The type
//! is not internally synchronised; share it behind a `Mutex`.

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{Context, anyhow, bail};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The `prev` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One line of the log, as parsed (the hash is checked against the raw bytes of `detail`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    seq: u64,
    time: String,
    event: String,
    /// Only checked to be JSON here: the hash covers its raw text.
    #[serde(rename = "detail")]
    _detail: serde::de::IgnoredAny,
    prev: String,
    hash: String,
}

/// The result of a successful [`verify`]: the number of entries and the last hash
/// ([`GENESIS`] for an empty log).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditSummary {
    /// Number of entries.
    pub entries: u64,
    /// Hash of the last entry.
    pub head: String,
}

/// An open audit log, ready to append (see the module documentation).
#[derive(Debug)]
pub struct AuditLog {
    path: PathBuf,
    file: File,
    entries: u64,
    head: String,
    /// Set when a write failed half-way: the file may end in a partial line.
    broken: bool,
}

impl AuditLog {
    /// Opens the log at `path`, creating it if missing. An existing log is verified first
    /// (see [`verify`]); a broken chain is refused, with the line and the rule broken. Fails
    /// too if another `AuditLog` holds the file open.
    pub fn open(path: &Path) -> anyhow::Result<AuditLog> {
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .with_context(|| format!("opening audit log {}", path.display()))?;
        file.try_lock().map_err(|e| {
            anyhow!(
                "audit log {} is already open for writing elsewhere: {e}",
                path.display()
            )
        })?;
        let set_aside = set_aside_partial_tail(path, &file)?;
        let summary = verify_reader(path, BufReader::new(&file))
            .with_context(|| format!("refusing to append to audit log {}", path.display()))?;
        if summary.entries == 0 {
            // A new file: make its directory entry durable too.
            if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
                File::open(dir)
                    .and_then(|dir| dir.sync_all())
                    .with_context(|| format!("syncing directory {}", dir.display()))?;
            }
        }
        let mut log = AuditLog {
            path: path.to_owned(),
            file,
            entries: summary.entries,
            head: summary.head,
            broken: false,
        };
        if let Some((aside, bytes, digest)) = set_aside {
            log.append(
                "truncated tail set aside",
                serde_json::json!({ "file": aside.display().to_string(), "bytes": bytes, "sha256": digest }),
            )?;
        }
        Ok(log)
    }

    /// Appends one entry, stamped with the current UTC time, and syncs it to disk before
    /// returning. `event` is a short non-empty name such as `job.created`.
    pub fn append(&mut self, event: &str, detail: Value) -> anyhow::Result<()> {
        if self.broken {
            bail!(
                "audit log {}: an earlier append failed, the log must be verified before appending again",
                self.path.display()
            );
        }
        if event.is_empty() || event.chars().any(char::is_control) {
            bail!("audit event name {event:?} must be non-empty and free of control characters");
        }
        let seq = self.entries + 1;
        let time = rfc3339_utc(SystemTime::now());
        let detail = canonical_json(&detail);
        let hash = hash_fields(seq, &time, event, &detail, &self.head);
        let (prefix, suffix) = frame(seq, &time, event, &self.head, &hash);
        let line = format!("{prefix}{detail}{suffix}\n");
        self.broken = true;
        self.file
            .write_all(line.as_bytes())
            .and_then(|()| self.file.sync_data())
            .with_context(|| format!("appending entry {seq} to audit log {}", self.path.display()))?;
        self.broken = false;
        self.entries = seq;
        self.head = hash;
        Ok(())
    }

    /// The number of entries so far and the hash of the last one ([`GENESIS`] if none): the
    /// value to publish so that truncation of the tail can be detected.
    pub fn head(&self) -> (u64, String) {
        (self.entries, self.head.clone())
    }

    /// The file this log writes to.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Verifies the whole log at `path`: every line well-formed JSON ending in a newline, `seq`
/// consecutive from 1, every `prev` equal to the previous `hash`, every `hash` recomputed. The
/// error names the file, the 1-based line and the rule broken. A missing file is an error; an
/// empty file is a valid log of 0 entries.
pub fn verify(path: &Path) -> anyhow::Result<AuditSummary> {
    let file = File::open(path).with_context(|| format!("opening audit log {}", path.display()))?;
    verify_reader(path, BufReader::new(file))
}

fn verify_reader(path: &Path, mut reader: impl BufRead) -> anyhow::Result<AuditSummary> {
    let mut entries = 0u64;
    let mut head = GENESIS.to_owned();
    let mut line = String::new();
    let mut number = 0u64;
    loop {
        line.clear();
        let read = reader
            .read_line(&mut line)
            .with_context(|| format!("{}: line {}: cannot read (not UTF-8?)", path.display(), number + 1))?;
        if read == 0 {
            break;
        }
        number += 1;
        let broken = |rule: String| anyhow!("{}: line {number}: {rule}", path.display());
        let Some(text) = line.strip_suffix('\n') else {
            return Err(broken(
                "truncated last line (no final newline): an append was interrupted or the file was cut".into(),
            ));
        };
        let entry: Entry = serde_json::from_str(text)
            .map_err(|e| broken(format!("malformed entry, not an audit JSON object: {e}")))?;
        let (prefix, suffix) = frame(entry.seq, &entry.time, &entry.event, &entry.prev, &entry.hash);
        let detail = text
            .strip_prefix(&prefix)
            .and_then(|rest| rest.strip_suffix(&suffix))
            .ok_or_else(|| {
                broken("malformed entry: fields are not in the order and format this log writes them".into())
            })?;
        let expected_seq = entries + 1;
        if entry.hash != hash_fields(entry.seq, &entry.time, &entry.event, detail, &entry.prev) {
            return Err(broken(format!(
                "hash does not match the content of entry seq {}: the entry was edited",
                entry.seq
            )));
        }
        if entry.seq > expected_seq {
            return Err(broken(format!(
                "expected seq {expected_seq}, found {}: entries are missing here (deleted) or were reordered",
                entry.seq
            )));
        }
        if entry.seq < expected_seq {
            return Err(broken(format!(
                "expected seq {expected_seq}, found {}: seq goes back (entries reordered or duplicated)",
                entry.seq
            )));
        }
        if entry.prev != head {
            return Err(broken(format!(
                "prev does not match the hash of the entry before: the chain was broken (entries \
                 replaced, deleted or reordered) at seq {}",
                entry.seq
            )));
        }
        entries = entry.seq;
        head = entry.hash;
    }
    Ok(AuditSummary { entries, head })
}

/// The hash of an entry: hex SHA-256 over `seq` (decimal), `time`, `event`, `detail` as
/// canonical JSON (object keys sorted at every level, no whitespace) and `prev`, each field
/// preceded by its length in bytes as 8 bytes big-endian. The log stores `detail` in exactly
/// that canonical form and [`verify`] hashes the stored bytes, so no float is ever re-printed.
pub fn entry_hash(seq: u64, time: &str, event: &str, detail: &Value, prev: &str) -> String {
    hash_fields(seq, time, event, &canonical_json(detail), prev)
}

fn hash_fields(seq: u64, time: &str, event: &str, detail: &str, prev: &str) -> String {
    let mut hasher = Sha256::new();
    for field in [seq.to_string().as_str(), time, event, detail, prev] {
        hasher.update((field.len() as u64).to_be_bytes());
        hasher.update(field.as_bytes());
    }
    federation::msg::to_hex(&hasher.finalize())
}

/// The text of a line around its `detail`: `{"seq":…,"time":…,"event":…,"detail":` and
/// `,"prev":…,"hash":…}`.
fn frame(seq: u64, time: &str, event: &str, prev: &str, hash: &str) -> (String, String) {
    let quoted = |s: &str| Value::String(s.to_owned()).to_string();
    (
        format!(
            "{{\"seq\":{seq},\"time\":{},\"event\":{},\"detail\":",
            quoted(time),
            quoted(event)
        ),
        format!(",\"prev\":{},\"hash\":{}}}", quoted(prev), quoted(hash)),
    )
}

/// `value` as canonical JSON (see [`entry_hash`]).
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

/// JSON with object keys sorted at every level, independent of serde_json's map ordering.
fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                if let Some(item) = map.get(key) {
                    write_canonical(item, out);
                }
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// `at` as RFC 3339 in UTC with milliseconds, e.g. `2026-11-28T19:12:32.123Z`.
pub fn rfc3339_utc(at: SystemTime) -> String {
    let t = time::OffsetDateTime::from(at);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// A crash in the middle of an append leaves a last line without its newline. Such a tail is
/// not an entry (its write never completed), so it is moved — byte for byte — to
/// `<log>.partial-<unix seconds>` and the log is cut back to its last complete line; the caller
/// records that in the log itself. Anything else wrong with the log is left for [`verify`] to
/// refuse. Returns the side file, the tail's length and its SHA-256 (hex).
fn set_aside_partial_tail(path: &Path, file: &File) -> anyhow::Result<Option<(PathBuf, usize, String)>> {
    let bytes = fs::read(path).with_context(|| format!("reading audit log {}", path.display()))?;
    if bytes.is_empty() || bytes.ends_with(b"\n") {
        return Ok(None);
    }
    let keep = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let tail = &bytes[keep..];
    let stamp = SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut aside = path.as_os_str().to_owned();
    aside.push(format!(".partial-{stamp}"));
    let aside = PathBuf::from(aside);
    fs::write(&aside, tail).with_context(|| format!("setting aside the partial tail of {}", path.display()))?;
    File::open(&aside)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("syncing {}", aside.display()))?;
    file.set_len(keep as u64)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cutting audit log {} back to its last complete line", path.display()))?;
    let digest = federation::msg::to_hex(&Sha256::digest(tail));
    Ok(Some((aside, tail.len(), digest)))
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(rfc3339_utc(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        // 2000-02-29T12:34:56.789Z, a leap day.
        let at = UNIX_EPOCH + Duration::from_millis(951_827_696_789);
        assert_eq!(rfc3339_utc(at), "2000-02-29T12:34:56.789Z");
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_level() {
        let value = serde_json::json!({"b": 1, "a": {"z": [true, null], "y": "x\"y"}});
        assert_eq!(canonical_json(&value), r#"{"a":{"y":"x\"y","z":[true,null]},"b":1}"#);
    }

    #[test]
    fn hash_matches_an_independent_sha256() {
        // sha256 of the length-prefixed fields, computed independently with coreutils:
        // printf '\0\0\0\0\0\0\0\x011\0\0\0\0\0\0\0\x01t\0\0\0\0\0\0\0\x01e\0\0\0\0\0\0\0\x02{}\0\0\0\0\0\0\0\x01p' | sha256sum
        let hash = entry_hash(1, "t", "e", &serde_json::json!({}), "p");
        assert_eq!(hash, "4434abb0d7e6f3311741a382c0aeefc95130ed8b0552e7ae0a6f4daa8794bb9a");
    }
}
