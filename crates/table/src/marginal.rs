//! Marginal counting over encoded tables (being written).
