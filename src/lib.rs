//! citedex: a searchable local index of articles and the sources they cite.
//!
//! Format readers ([`formats`]) turn bytes into a [`document::Document`]; the [`chunker`] splits it
//! into passages that keep their heading path; the [`index`] module writes them to tantivy and
//! [`search`] ranks them; [`render`] prints results. See ARCHITECTURE.md for the whole map.

pub mod abbreviations;
pub mod app;
pub mod catalog;
pub mod chunker;
pub mod cli;
pub mod corpus;
pub mod document;
pub mod eval;
pub mod formats;
pub mod index;
pub mod indexer;
pub mod references;
pub mod render;
pub mod search;
