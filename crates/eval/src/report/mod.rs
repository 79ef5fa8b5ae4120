//! The validation report: one JSON document with stable keys and one self-contained HTML page.

pub mod svg;
