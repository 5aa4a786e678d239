//! Outputs of a scan: the dolma attributes line of each document
//! ([`attributes`]) and the prevalence statistics ([`stats`]).

pub mod attributes;
pub mod stats;
