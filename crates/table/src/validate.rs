//! Validation of data files against their dictionary (being written).
