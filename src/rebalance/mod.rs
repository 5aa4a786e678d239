//! Rebalancing a corpus by its scan: drop or downsample misaligned-AI passages,
//! upsample aligned ones, mix in stories of AIs acting with integrity, to a
//! target ratio, reproducibly, with every document's fate counted.

pub mod plan;
pub mod policy;
pub mod report;
pub mod run;
pub mod splice;

pub use report::{RebalanceReport, before_after};
