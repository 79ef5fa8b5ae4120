//! `pgm`: graphical-model estimation (being written).
