//! The clocklab command line; everything lives in the library.
#![forbid(unsafe_code)]

fn main() {}
