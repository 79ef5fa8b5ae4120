//! The REDCap dictionary file itself: encoding, delimiter, header names and rows.

use std::collections::HashMap;

/// The columns of a REDCap data dictionary file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Field {
    Name,
    Form,
    SectionHeader,
    Type,
    Label,
    Choices,
    Note,
    Validation,
    Min,
    Max,
    Identifier,
    Branching,
    Required,
    Alignment,
    QuestionNumber,
    MatrixGroup,
    MatrixRanking,
    Annotation,
}

/// Header names (lowercased): the long form of the web export, then the short API form.
pub(super) const HEADERS: [(Field, &str, &str); 18] = [
    (Field::Name, "variable / field name", "field_name"),
    (Field::Form, "form name", "form_name"),
    (Field::SectionHeader, "section header", "section_header"),
    (Field::Type, "field type", "field_type"),
    (Field::Label, "field label", "field_label"),
    (
        Field::Choices,
        "choices, calculations, or slider labels",
        "select_choices_or_calculations",
    ),
    (Field::Note, "field note", "field_note"),
    (
        Field::Validation,
        "text validation type or show slider number",
        "text_validation_type_or_show_slider_number",
    ),
    (Field::Min, "text validation min", "text_validation_min"),
    (Field::Max, "text validation max", "text_validation_max"),
    (Field::Identifier, "identifier?", "identifier"),
    (
        Field::Branching,
        "branching logic (show field only if...)",
        "branching_logic",
    ),
    (Field::Required, "required field?", "required_field"),
    (Field::Alignment, "custom alignment", "custom_alignment"),
    (
        Field::QuestionNumber,
        "question number (surveys only)",
        "question_number",
    ),
    (Field::MatrixGroup, "matrix group name", "matrix_group_name"),
    (Field::MatrixRanking, "matrix ranking?", "matrix_ranking"),
    (Field::Annotation, "field annotation", "field_annotation"),
];

/// Header columns the mapping reads; a file without one of them is refused.
pub(super) const REQUIRED: [Field; 11] = [
    Field::Name,
    Field::Form,
    Field::Type,
    Field::Label,
    Field::Choices,
    Field::Validation,
    Field::Min,
    Field::Max,
    Field::Identifier,
    Field::Branching,
    Field::Required,
];

/// Decodes UTF-8 (dropping a BOM); bytes that are not UTF-8 are read as Windows-1252 (latin-1).
pub(super) fn decode(bytes: &[u8], source_name: &str, notes: &mut Vec<String>) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(e) => {
            let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes);
            notes.push(format!(
                "{source_name} is not UTF-8 (invalid byte at offset {}): decoded as latin-1 (Windows-1252); check accented labels",
                e.valid_up_to()
            ));
            text.into_owned()
        }
    }
}

/// The delimiter used most often outside quotes on the first line: `,`, `;` or tab.
pub(super) fn detect_delimiter(text: &str) -> u8 {
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0)];
    let mut quoted = false;
    for b in text.bytes() {
        match b {
            b'"' => quoted = !quoted,
            b'\n' | b'\r' if !quoted => break,
            _ if !quoted => {
                if let Some(c) = counts.iter_mut().find(|(d, _)| *d == b) {
                    c.1 += 1;
                }
            }
            _ => {}
        }
    }
    counts.iter().max_by_key(|(_, n)| *n).map_or(b',', |(d, _)| *d)
}

pub(super) fn csv_line(e: &::csv::Error) -> u64 {
    e.position().map_or(0, ::csv::Position::line)
}

/// Where each known REDCap column is in the file.
pub(super) struct HeaderMap {
    pub(super) index: HashMap<Field, usize>,
}

impl HeaderMap {
    pub(super) fn new(header: &::csv::StringRecord, notes: &mut Vec<String>) -> Result<HeaderMap, String> {
        let mut index = HashMap::new();
        for (i, name) in header.iter().enumerate() {
            let key = name.trim().to_lowercase();
            match HEADERS.iter().find(|(_, long, short)| key == *long || key == *short) {
                Some((field, _, _)) => {
                    if index.insert(*field, i).is_some() {
                        return Err(format!("header column {name:?} appears twice"));
                    }
                }
                None => notes.push(format!(
                    "header column {name:?} is not a REDCap dictionary column: ignored"
                )),
            }
        }
        let missing: Vec<&str> = REQUIRED
            .iter()
            .filter(|f| !index.contains_key(f))
            .filter_map(|f| HEADERS.iter().find(|(g, _, _)| g == f).map(|(_, long, _)| *long))
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "not a REDCap data dictionary: the header lacks {} (found: {})",
                missing.join(", "),
                header.iter().collect::<Vec<_>>().join(", ")
            ));
        }
        Ok(HeaderMap { index })
    }
}

/// One variable line of the REDCap file.
pub(super) struct Row<'a> {
    pub(super) line: u64,
    pub(super) record: &'a ::csv::StringRecord,
    pub(super) columns: &'a HeaderMap,
}

impl Row<'_> {
    /// The trimmed field, or "" when the file lacks that (optional) column.
    pub(super) fn get(&self, f: Field) -> &str {
        self.columns
            .index
            .get(&f)
            .and_then(|i| self.record.get(*i))
            .map_or("", str::trim)
    }

    pub(super) fn flag(&self, f: Field) -> bool {
        self.get(f).eq_ignore_ascii_case("y")
    }
}
