//! Integration tests of the file store through its public API.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod roundtrip;
mod store;
