//! File-path I/O for the commands: the only place paths are opened.

use anyhow::{Context, Result};
use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use table::Dictionary;
use table::csv::CsvOptions;

/// Reads and checks a dictionary file.
pub fn read_dictionary(path: &Path) -> Result<Arc<Dictionary>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read dictionary {}", path.display()))?;
    Ok(Arc::new(Dictionary::from_toml(&text, &path.display().to_string())?))
}

pub fn open(path: &Path) -> Result<BufReader<File>> {
    let f = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    Ok(BufReader::new(f))
}

/// Whether `path` names a Parquet file (by extension).
pub fn is_parquet(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
}

/// Writes a file atomically: the content goes to a temporary file in the same directory, which
/// replaces `path` only once it is complete, so an interrupted run never leaves a truncated file.
pub fn write_atomically(path: &Path, write: impl FnOnce(&mut BufWriter<File>) -> Result<()>) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create directory {}", dir.display()))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp: PathBuf = dir.join(format!(".{name}.partial-{}", std::process::id()));
    let result = (|| {
        let file = File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
        let mut w = BufWriter::new(file);
        write(&mut w)?;
        w.flush()?;
        w.get_ref().sync_all()?;
        std::fs::rename(&tmp, path).with_context(|| format!("cannot move {} to {}", tmp.display(), path.display()))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.with_context(|| format!("cannot write {}", path.display()))
}

/// Reads a data file (CSV, or Parquet by extension) strictly into a table.
pub fn read_table(path: &Path, dict: Arc<Dictionary>, opts: &CsvOptions) -> Result<table::Table> {
    let name = path.display().to_string();
    if is_parquet(path) {
        let f = File::open(path).with_context(|| format!("cannot open {name}"))?;
        return Ok(table::parquet::read_parquet(f, &name, dict)?);
    }
    Ok(table::csv::read_table(open(path)?, &name, dict, opts)?)
}

/// Writes a table as CSV, or Parquet by extension, atomically.
pub fn write_table(path: &Path, t: &table::Table, opts: &CsvOptions) -> Result<()> {
    if is_parquet(path) {
        return write_atomically(path, |w| Ok(table::parquet::write_parquet(w, t)?));
    }
    write_atomically(path, |w| Ok(table::csv::write_table(w, t, opts)?))
}

/// The dictionary written beside a synthetic output `OUT.csv`: `OUT.dictionary.toml`.
pub fn sidecar_dictionary(out: &Path) -> PathBuf {
    let stem = out
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "synthetic".into());
    out.with_file_name(format!("{stem}.dictionary.toml"))
}

/// Writes `table` to `out` and its dictionary beside it (see [`sidecar_dictionary`]); returns
/// the dictionary's path.
pub fn write_synthetic(out: &Path, t: &table::Table, opts: &CsvOptions) -> Result<PathBuf> {
    write_table(out, t, opts)?;
    let path = sidecar_dictionary(out);
    write_atomically(&path, |w| Ok(w.write_all(t.dictionary().to_toml().as_bytes())?))?;
    Ok(path)
}
