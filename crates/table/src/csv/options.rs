//! The CSV dialect: delimiter, quote character, decimal separator and text encoding.

use std::fmt;

/// How the decimal part of a real number is separated in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DecimalSeparator {
    /// `12.5` (the default, and what most software writes).
    #[default]
    Point,
    /// `12,5` (European spreadsheets and REDCap exports); needs a delimiter other than `,`.
    Comma,
}

impl DecimalSeparator {
    /// The separator character.
    pub fn char(self) -> char {
        match self {
            DecimalSeparator::Point => '.',
            DecimalSeparator::Comma => ',',
        }
    }

    /// The separator's name, as in messages ("point", "comma").
    pub fn name(self) -> &'static str {
        match self {
            DecimalSeparator::Point => "point",
            DecimalSeparator::Comma => "comma",
        }
    }
}

/// The text encoding of a data file. Everything is decoded to UTF-8 while reading and encoded
/// back while writing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TextEncoding {
    /// UTF-8; invalid bytes are an error, never replaced. A leading byte-order mark is skipped.
    #[default]
    Utf8,
    /// ISO-8859-1: every byte is the character of the same number (U+0000–U+00FF).
    Latin1,
    /// Windows code page 1252: latin-1 with printable characters (€, curly quotes, …) in
    /// 0x80–0x9F, as decoded by the WHATWG encoding standard.
    Windows1252,
}

impl TextEncoding {
    /// The encoding's name, as in messages and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            TextEncoding::Utf8 => "utf-8",
            TextEncoding::Latin1 => "latin-1",
            TextEncoding::Windows1252 => "windows-1252",
        }
    }

    /// Whether `c` can be written in this encoding.
    pub fn can_encode(self, c: char) -> bool {
        match self {
            TextEncoding::Utf8 => true,
            TextEncoding::Latin1 => u32::from(c) <= 0xFF,
            TextEncoding::Windows1252 => {
                let mut buf = [0u8; 4];
                let mut out = [0u8; 8];
                let mut encoder = encoding_rs::WINDOWS_1252.new_encoder();
                let (result, _, _) =
                    encoder.encode_from_utf8_without_replacement(c.encode_utf8(&mut buf), &mut out, true);
                result == encoding_rs::EncoderResult::InputEmpty
            }
        }
    }
}

/// The dialect of a CSV file. Build it with [`CsvOptions::new`] (which refuses ambiguous
/// combinations), [`CsvOptions::default`] or [`CsvOptions::redcap_eu`]; the reader and the
/// writer check the options again, so a struct literal with a bad combination is refused there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CsvOptions {
    /// The field delimiter, an ASCII byte.
    pub delimiter: u8,
    /// The quote character, an ASCII byte; doubled inside a quoted field to stand for itself.
    pub quote: u8,
    /// The decimal separator of real columns.
    pub decimal: DecimalSeparator,
    /// The file's text encoding.
    pub encoding: TextEncoding,
}

/// CSV options that cannot describe an unambiguous file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid CSV options: {0}")]
pub struct InvalidCsvOptions(pub String);

impl Default for CsvOptions {
    /// `,` delimiter, `"` quote, decimal point, UTF-8.
    fn default() -> CsvOptions {
        CsvOptions {
            delimiter: b',',
            quote: b'"',
            decimal: DecimalSeparator::Point,
            encoding: TextEncoding::Utf8,
        }
    }
}

impl CsvOptions {
    /// Checked options: both bytes ASCII, neither a line break, different from each other, and
    /// a delimiter different from the decimal separator.
    pub fn new(
        delimiter: u8,
        quote: u8,
        decimal: DecimalSeparator,
        encoding: TextEncoding,
    ) -> Result<CsvOptions, InvalidCsvOptions> {
        let opts = CsvOptions {
            delimiter,
            quote,
            decimal,
            encoding,
        };
        opts.check()?;
        Ok(opts)
    }

    /// The dialect of European REDCap exports: `;` delimiter, `"` quote, decimal comma, latin-1.
    pub fn redcap_eu() -> CsvOptions {
        CsvOptions {
            delimiter: b';',
            quote: b'"',
            decimal: DecimalSeparator::Comma,
            encoding: TextEncoding::Latin1,
        }
    }

    /// Checks the rules [`CsvOptions::new`] enforces.
    pub fn check(&self) -> Result<(), InvalidCsvOptions> {
        let shown = |b: u8| char::from(b).escape_default().to_string();
        for (what, b) in [("delimiter", self.delimiter), ("quote", self.quote)] {
            if !b.is_ascii() {
                return Err(InvalidCsvOptions(format!(
                    "the {what} must be an ASCII character, got byte 0x{b:02X}"
                )));
            }
            if b == b'\n' || b == b'\r' {
                return Err(InvalidCsvOptions(format!(
                    "the {what} cannot be a line break ('{}')",
                    shown(b)
                )));
            }
        }
        if self.delimiter == self.quote {
            return Err(InvalidCsvOptions(format!(
                "the delimiter and the quote are both '{}'",
                shown(self.delimiter)
            )));
        }
        if char::from(self.delimiter) == self.decimal.char() {
            return Err(InvalidCsvOptions(format!(
                "a decimal {} with the delimiter '{}' is ambiguous; choose another delimiter (e.g. ';')",
                self.decimal.name(),
                shown(self.delimiter)
            )));
        }
        Ok(())
    }
}

impl fmt::Display for CsvOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "delimiter '{}', quote '{}', decimal {}, {}",
            char::from(self.delimiter).escape_default(),
            char::from(self.quote).escape_default(),
            self.decimal.name(),
            self.encoding.name()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_are_valid() {
        assert_eq!(CsvOptions::default().check(), Ok(()));
        assert_eq!(CsvOptions::redcap_eu().check(), Ok(()));
        assert_eq!(CsvOptions::redcap_eu().delimiter, b';');
        assert_eq!(CsvOptions::redcap_eu().encoding, TextEncoding::Latin1);
        assert_eq!(CsvOptions::redcap_eu().decimal, DecimalSeparator::Comma);
    }

    #[test]
    fn ambiguous_options_are_refused() {
        let err = CsvOptions::new(b',', b'"', DecimalSeparator::Comma, TextEncoding::Utf8).unwrap_err();
        assert!(
            err.to_string().contains("decimal comma with the delimiter ','"),
            "{err}"
        );
        assert!(CsvOptions::new(b'.', b'"', DecimalSeparator::Point, TextEncoding::Utf8).is_err());
        assert!(CsvOptions::new(b';', b';', DecimalSeparator::Point, TextEncoding::Utf8).is_err());
        assert!(CsvOptions::new(b'\n', b'"', DecimalSeparator::Point, TextEncoding::Utf8).is_err());
        assert!(CsvOptions::new(0xA7, b'"', DecimalSeparator::Point, TextEncoding::Latin1).is_err());
        assert!(CsvOptions::new(b'\t', b'\'', DecimalSeparator::Comma, TextEncoding::Windows1252).is_ok());
    }

    #[test]
    fn encodable_characters() {
        assert!(TextEncoding::Latin1.can_encode('é'));
        assert!(!TextEncoding::Latin1.can_encode('€'));
        assert!(TextEncoding::Windows1252.can_encode('€'));
        assert!(!TextEncoding::Windows1252.can_encode('Ω'));
        assert!(TextEncoding::Utf8.can_encode('Ω'));
    }
}
