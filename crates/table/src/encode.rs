//! Domain encoding of typed tables to integer codes and back (being written).
