//! The study app: the command line, the report and the study (the default `app` feature).
//!
//! One test crate of a few (see README.md, "Tests"): each file here is a module.

#![cfg(feature = "app")]

mod cli;
mod real_chapter;
mod report;
mod study;
