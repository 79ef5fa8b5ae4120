//! Drafting a dictionary from a data file (being written).
