//! `anon`: anonymisation of real extracts (being written).
