//! A streaming `Read` adapter that decodes a data file to UTF-8 and watches its quoting.
//!
//! Decoding: latin-1 and windows-1252 are transcoded with `encoding_rs`; UTF-8 is checked, and
//! an invalid byte stops reading with its line and byte position (never replaced). A leading
//! UTF-8 byte-order mark is skipped.
//!
//! Quoting: the adapter follows the quote state of the CSV grammar the `csv` crate reads
//! (a quote opens a quoted field only at the start of a field; a doubled quote inside stands for
//! itself; `\r`, `\n` and `\r\n` end a record outside quotes; blank lines are skipped). It
//! records the physical line on which every record starts, and stops with a located fault on
//! text after a closing quote or on a quoted field still open at the end of the file — two
//! mistakes the `csv` crate would otherwise absorb silently.

use super::options::TextEncoding;
use std::collections::VecDeque;
use std::io::{self, Read};

/// How many raw bytes are read from the source at a time.
const CHUNK: usize = 64 * 1024;

/// A fault in the text of the file that makes further reading meaningless.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InputFault {
    /// 1-based physical line.
    pub line: u64,
    /// 1-based field index in the record, when known.
    pub field: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for InputFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for InputFault {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum QuoteState {
    /// Between records (skipping line breaks of blank lines).
    RecordStart,
    FieldStart,
    /// Inside an unquoted field.
    Unquoted,
    /// Inside a quoted field.
    Quoted,
    /// Just after a quote inside a quoted field: either the closing quote or the first half of
    /// a doubled quote.
    QuoteInQuoted,
}

/// The quote state machine over decoded UTF-8 bytes, with line tracking.
#[derive(Debug)]
struct QuoteScan {
    delimiter: u8,
    quote: u8,
    state: QuoteState,
    /// Current 1-based physical line.
    line: u64,
    /// Decoded bytes scanned so far.
    offset: u64,
    /// Decoded offset of the first byte of the current line.
    line_start: u64,
    /// 1-based field index in the current record.
    field: usize,
    /// Where the currently open quoted field started.
    open_quote: (u64, usize),
    /// Start lines of the records seen by the scan and not yet claimed by the reader.
    record_lines: VecDeque<u64>,
    /// Whether the previous byte was a carriage return (a CR LF pair is one line break).
    after_cr: bool,
}

impl QuoteScan {
    fn new(delimiter: u8, quote: u8) -> QuoteScan {
        QuoteScan {
            delimiter,
            quote,
            state: QuoteState::RecordStart,
            line: 1,
            offset: 0,
            line_start: 0,
            field: 1,
            open_quote: (1, 1),
            record_lines: VecDeque::new(),
            after_cr: false,
        }
    }

    /// Scans `bytes`; on a quoting fault returns the index of the offending byte (the bytes
    /// before it are scanned).
    fn scan(&mut self, bytes: &[u8]) -> Result<(), (usize, InputFault)> {
        use QuoteState::*;
        for (i, &b) in bytes.iter().enumerate() {
            let line_break = b == b'\n' || b == b'\r';
            if self.state == RecordStart && !line_break {
                self.record_lines.push_back(self.line);
                self.field = 1;
                self.state = FieldStart;
            }
            match self.state {
                RecordStart => {}
                FieldStart | Unquoted if b == self.delimiter => {
                    self.field += 1;
                    self.state = FieldStart;
                }
                FieldStart | Unquoted if line_break => self.state = RecordStart,
                FieldStart if b == self.quote => {
                    self.open_quote = (self.line, self.field);
                    self.state = Quoted;
                }
                FieldStart => self.state = Unquoted,
                Unquoted => {}
                Quoted if b == self.quote => self.state = QuoteInQuoted,
                Quoted => {}
                QuoteInQuoted if b == self.quote => self.state = Quoted,
                QuoteInQuoted if b == self.delimiter => {
                    self.field += 1;
                    self.state = FieldStart;
                }
                QuoteInQuoted if line_break => self.state = RecordStart,
                QuoteInQuoted => {
                    self.offset += i as u64;
                    let q = char::from(self.quote);
                    return Err((
                        i,
                        InputFault {
                            line: self.line,
                            field: Some(self.field),
                            message: format!(
                                "bad quoting: text after the closing quote of a quoted field \
                                 (a {q} inside a quoted field must be doubled: {q}{q})"
                            ),
                        },
                    ));
                }
            }
            // Lines end at LF, CR LF or a lone CR (old Mac exports), each counted once.
            if b == b'\r' || (b == b'\n' && !self.after_cr) {
                self.line += 1;
            }
            if line_break {
                self.line_start = self.offset + i as u64 + 1;
            }
            self.after_cr = b == b'\r';
        }
        self.offset += bytes.len() as u64;
        Ok(())
    }

    /// The fault to report at the end of the input, if a quoted field is still open.
    fn at_end(&self) -> Option<InputFault> {
        (self.state == QuoteState::Quoted).then(|| {
            let (line, field) = self.open_quote;
            InputFault {
                line,
                field: Some(field),
                message: format!(
                    "bad quoting: the quoted field opened on line {line} is never closed (unterminated {})",
                    char::from(self.quote)
                ),
            }
        })
    }
}

/// Decodes a byte stream to UTF-8 (see the module documentation).
pub(crate) struct DecodingReader<R> {
    inner: R,
    encoding: TextEncoding,
    decoder: Option<encoding_rs::Decoder>,
    /// Raw bytes read but not yet decoded (an incomplete UTF-8 sequence, or the first bytes
    /// while looking for a byte-order mark).
    pending: Vec<u8>,
    chunk: Vec<u8>,
    /// Decoded bytes ready to be handed out, from `out_pos`.
    out: Vec<u8>,
    out_pos: usize,
    /// A fault to report once `out` is drained; it stays, so every later read fails too.
    fault: Option<InputFault>,
    eof: bool,
    /// Raw bytes skipped at the start (a byte-order mark).
    skipped: u64,
    started: bool,
    scan: QuoteScan,
}

impl<R: Read> DecodingReader<R> {
    pub(crate) fn new(inner: R, encoding: TextEncoding, delimiter: u8, quote: u8) -> DecodingReader<R> {
        DecodingReader {
            inner,
            encoding,
            decoder: (encoding == TextEncoding::Windows1252)
                .then(|| encoding_rs::WINDOWS_1252.new_decoder_without_bom_handling()),
            pending: Vec::new(),
            chunk: vec![0; CHUNK],
            out: Vec::new(),
            out_pos: 0,
            fault: None,
            eof: false,
            skipped: 0,
            started: false,
            scan: QuoteScan::new(delimiter, quote),
        }
    }

    /// The physical line on which the next record (in reading order) starts, if the scan has
    /// seen it.
    pub(crate) fn next_record_line(&mut self) -> Option<u64> {
        self.scan.record_lines.pop_front()
    }

    /// Reads one raw chunk and decodes it into `out`.
    fn fill(&mut self) -> io::Result<()> {
        let n = loop {
            match self.inner.read(&mut self.chunk) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        if n == 0 {
            self.eof = true;
        }
        self.pending.extend_from_slice(&self.chunk[..n]);
        self.out.clear();
        self.out_pos = 0;
        let mut utf8_fault = None;
        match self.encoding {
            TextEncoding::Utf8 => {
                if !self.started {
                    if self.pending.len() < 3 && !self.eof && b"\xEF\xBB\xBF".starts_with(&self.pending) {
                        return Ok(());
                    }
                    self.started = true;
                    if self.pending.starts_with(b"\xEF\xBB\xBF") {
                        self.pending.drain(..3);
                        self.skipped = 3;
                    }
                }
                match std::str::from_utf8(&self.pending) {
                    Ok(_) => self.out.append(&mut self.pending),
                    Err(e) => {
                        let valid = e.valid_up_to();
                        self.out.extend_from_slice(&self.pending[..valid]);
                        if e.error_len().is_some() || self.eof {
                            let len = e.error_len().unwrap_or(self.pending.len() - valid);
                            utf8_fault = Some(self.pending[valid..valid + len].to_vec());
                            self.pending.clear();
                        } else {
                            self.pending.drain(..valid);
                        }
                    }
                }
            }
            TextEncoding::Latin1 => {
                self.out.resize(self.pending.len() * 2, 0);
                let written = encoding_rs::mem::convert_latin1_to_utf8(&self.pending, &mut self.out);
                self.out.truncate(written);
                self.pending.clear();
            }
            TextEncoding::Windows1252 => {
                if let Some(decoder) = self.decoder.as_mut() {
                    let mut read = 0;
                    while read < self.pending.len() || self.eof {
                        let start = self.out.len();
                        let room = decoder
                            .max_utf8_buffer_length_without_replacement(self.pending.len() - read)
                            .unwrap_or(CHUNK * 3)
                            .max(16);
                        self.out.resize(start + room, 0);
                        let (result, r, w) = decoder.decode_to_utf8_without_replacement(
                            &self.pending[read..],
                            &mut self.out[start..],
                            self.eof,
                        );
                        read += r;
                        self.out.truncate(start + w);
                        match result {
                            encoding_rs::DecoderResult::InputEmpty => break,
                            encoding_rs::DecoderResult::OutputFull => {}
                            encoding_rs::DecoderResult::Malformed(len, _) => {
                                utf8_fault = Some(vec![0; usize::from(len)]);
                                break;
                            }
                        }
                    }
                    self.pending.clear();
                }
            }
        }
        if let Err((index, fault)) = self.scan.scan(&self.out) {
            self.out.truncate(index);
            self.fault = Some(fault);
            return Ok(());
        }
        if let Some(bytes) = utf8_fault {
            self.fault = Some(self.encoding_fault(&bytes));
        } else if self.eof {
            self.fault = self.scan.at_end();
        }
        Ok(())
    }

    /// The fault for undecodable `bytes` found right after everything scanned so far.
    fn encoding_fault(&self, bytes: &[u8]) -> InputFault {
        let in_line = self.scan.offset - self.scan.line_start + 1;
        let shown: Vec<String> = bytes.iter().map(|b| format!("0x{b:02X}")).collect();
        let message = match self.encoding {
            TextEncoding::Utf8 => format!(
                "invalid UTF-8 at byte {in_line} of the line (byte {} of the file): {} is not a valid UTF-8 \
                 sequence; if the file is latin-1 or windows-1252, declare that encoding",
                self.scan.offset + self.skipped + 1,
                shown.join(" ")
            ),
            other => format!(
                "text that is not valid {} after byte {} of the line",
                other.name(),
                in_line - 1
            ),
        };
        InputFault {
            line: self.scan.line,
            field: (self.scan.state != QuoteState::RecordStart).then_some(self.scan.field),
            message,
        }
    }
}

impl<R: Read> Read for DecodingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.out_pos < self.out.len() {
                let n = buf.len().min(self.out.len() - self.out_pos);
                buf[..n].copy_from_slice(&self.out[self.out_pos..self.out_pos + n]);
                self.out_pos += n;
                return Ok(n);
            }
            if let Some(fault) = &self.fault {
                return Err(io::Error::new(io::ErrorKind::InvalidData, fault.clone()));
            }
            if self.eof {
                return Ok(0);
            }
            self.fill()?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out one byte per call, to exercise every chunk boundary.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            match (self.0.split_first(), buf.first_mut()) {
                (Some((b, rest)), Some(slot)) => {
                    *slot = *b;
                    self.0 = rest;
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }

    fn decode(input: &[u8], encoding: TextEncoding) -> Result<String, InputFault> {
        let mut reader = DecodingReader::new(Trickle(input), encoding, b',', b'"');
        let mut out = Vec::new();
        match reader.read_to_end(&mut out) {
            Ok(_) => Ok(String::from_utf8(out).expect("the adapter emits UTF-8")),
            Err(e) => Err(e
                .get_ref()
                .and_then(|e| e.downcast_ref::<InputFault>())
                .cloned()
                .expect("a fault")),
        }
    }

    #[test]
    fn decodes_each_encoding() {
        assert_eq!(decode(b"caf\xE9\n", TextEncoding::Latin1), Ok("café\n".into()));
        assert_eq!(decode(b"\x80\x85\n", TextEncoding::Latin1), Ok("\u{80}\u{85}\n".into()));
        assert_eq!(
            decode(b"\x80 caf\xE9\n", TextEncoding::Windows1252),
            Ok("€ café\n".into())
        );
        assert_eq!(decode("Ωé\n".as_bytes(), TextEncoding::Utf8), Ok("Ωé\n".into()));
        assert_eq!(decode(b"\xEF\xBB\xBFa,b\n", TextEncoding::Utf8), Ok("a,b\n".into()));
        assert_eq!(decode(b"\xEF\xBB", TextEncoding::Utf8).map_err(|f| f.line), Err(1));
    }

    #[test]
    fn invalid_utf8_is_located() {
        let fault = decode(b"a,b\n1,caf\xE9\n", TextEncoding::Utf8).unwrap_err();
        assert_eq!(fault.line, 2);
        assert_eq!(fault.field, Some(2));
        assert!(
            fault
                .message
                .starts_with("invalid UTF-8 at byte 6 of the line (byte 10 of the file): 0xE9")
        );
        let truncated = decode("a\né".as_bytes().split_last().unwrap().1, TextEncoding::Utf8).unwrap_err();
        assert_eq!(truncated.line, 2);
    }

    #[test]
    fn quoting_faults_are_located() {
        let fault = decode(b"a,b\n1,\"x\"y\n", TextEncoding::Utf8).unwrap_err();
        assert_eq!((fault.line, fault.field), (2, Some(2)));
        assert!(fault.message.contains("text after the closing quote"));
        let fault = decode(b"a,b\n\"x\n\ny,2\n", TextEncoding::Utf8).unwrap_err();
        assert_eq!((fault.line, fault.field), (2, Some(1)));
        assert!(fault.message.contains("never closed"));
        assert!(decode(b"a,b\n\"x\"\"y\",\"\"\n", TextEncoding::Utf8).is_ok());
    }

    proptest::proptest! {
        /// The scan splits records exactly as the `csv` crate does: one start line per record,
        /// equal to the line `csv` reports wherever `csv`'s count is right (`\n` line ends
        /// and no blank line before the record).
        #[test]
        fn scan_agrees_with_the_csv_crate(text in "[a,\"\n\r ]{0,40}") {
            let mut reader = DecodingReader::new(text.as_bytes(), TextEncoding::Utf8, b',', b'"');
            let mut decoded = Vec::new();
            if reader.read_to_end(&mut decoded).is_err() {
                return Ok(());
            }
            let mut csv = ::csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(decoded.as_slice());
            let mut record = ::csv::StringRecord::new();
            let mut previous_end: Option<u64> = Some(0);
            while csv.read_record(&mut record).expect("in-memory input") {
                let line = reader.next_record_line();
                proptest::prop_assert!(line.is_some(), "the scan missed a record of {:?}", text);
                let start = record.position().expect("a position").byte();
                let csv_line = record.position().expect("a position").line();
                let clean_start = previous_end == Some(start) && !text[..start as usize].contains('\r')
                    && !text[start as usize..].starts_with(['\n', '\r']);
                if clean_start {
                    proptest::prop_assert_eq!(line, Some(csv_line), "{:?}", text);
                }
                previous_end = Some(csv.position().byte());
            }
            proptest::prop_assert_eq!(reader.next_record_line(), None, "the scan saw an extra record in {:?}", text);
        }
    }

    #[test]
    fn record_start_lines() {
        let mut reader = DecodingReader::new(
            Trickle(b"\r\na,b\r\n\r\n\"x\ny\",1\r\n2,3\n\n4,5"),
            TextEncoding::Utf8,
            b',',
            b'"',
        );
        let mut sink = Vec::new();
        reader.read_to_end(&mut sink).expect("valid input");
        let lines: Vec<u64> = std::iter::from_fn(|| reader.next_record_line()).collect();
        assert_eq!(lines, vec![2, 4, 6, 8]);
    }
}
