//! Import of REDCap data dictionary exports (being written).
