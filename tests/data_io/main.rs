//! Data sets, CSV and tabular preparation, formulas, model and checkpoint files.
//!
//! One test crate of a few (see README.md, "Tests"): each file here is a module.

mod io_support;
mod io;
mod io_fuzz_regressions;
mod csv;
mod tabular;
mod sklearn_datasets;
mod real_data;
mod formula;
mod cli_table;
