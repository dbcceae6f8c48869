//! The real `kontor` binary: one test binary for the crate (see docs/ARCHITECTURE.md).

#[path = "../../../kontor-mail/tests/mail/sink.rs"]
mod sink;

mod newsletter;
mod schedule;
