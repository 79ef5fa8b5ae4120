//! The CSV dialect options shared by every command that reads or writes CSV.

use anyhow::{Result, bail};
use clap::{Args, ValueEnum};
use table::csv::{CsvOptions, DecimalSeparator, TextEncoding};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Encoding {
    Utf8,
    Latin1,
    Windows1252,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Decimal {
    Point,
    Comma,
}

/// CSV dialect: delimiter, quote, decimal separator and text encoding.
#[derive(Debug, Clone, Args)]
pub struct Dialect {
    /// Field delimiter (one ASCII character; `\t` for tab).
    #[arg(long, default_value = ",")]
    pub delimiter: String,
    /// Quote character (one ASCII character).
    #[arg(long, default_value = "\"")]
    pub quote: String,
    /// Decimal separator of real numbers.
    #[arg(long, value_enum, default_value_t = Decimal::Point)]
    pub decimal: Decimal,
    /// Text encoding of the file.
    #[arg(long, value_enum, default_value_t = Encoding::Utf8)]
    pub encoding: Encoding,
    /// The dialect of European REDCap exports: `;`, latin-1, decimal comma (overrides the above).
    #[arg(long)]
    pub redcap_eu: bool,
}

fn ascii_byte(s: &str, what: &str) -> Result<u8> {
    let s = if s == "\\t" { "\t" } else { s };
    match s.as_bytes() {
        [b] if b.is_ascii() => Ok(*b),
        _ => bail!("--{what} must be one ASCII character, got {s:?}"),
    }
}

impl Dialect {
    pub fn options(&self) -> Result<CsvOptions> {
        if self.redcap_eu {
            return Ok(CsvOptions::redcap_eu());
        }
        let opts = CsvOptions {
            delimiter: ascii_byte(&self.delimiter, "delimiter")?,
            quote: ascii_byte(&self.quote, "quote")?,
            decimal: match self.decimal {
                Decimal::Point => DecimalSeparator::Point,
                Decimal::Comma => DecimalSeparator::Comma,
            },
            encoding: match self.encoding {
                Encoding::Utf8 => TextEncoding::Utf8,
                Encoding::Latin1 => TextEncoding::Latin1,
                Encoding::Windows1252 => TextEncoding::Windows1252,
            },
        };
        if opts.decimal == DecimalSeparator::Comma && opts.delimiter == b',' {
            bail!("a decimal comma needs another delimiter than ',' (e.g. --delimiter ';')");
        }
        Ok(opts)
    }
}
