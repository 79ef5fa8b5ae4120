//! Parquet reading and writing (being written).
