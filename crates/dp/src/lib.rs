//! `dp`: the privacy kernel (being written).
