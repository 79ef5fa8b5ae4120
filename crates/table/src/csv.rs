//! CSV reading and writing with configurable dialect and encoding (being written).
