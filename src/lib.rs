//! citedex: a searchable local index of articles and the sources they cite.
//!
//! Format readers ([`formats`]) turn bytes into a [`Document`]; an [`IndexWriter`] splits documents
//! into passages that keep their heading path and source, and commits them to an index on disk;
//! an [`Index`] ranks passages for a [`Query`] ([`Index::rank`]) and presents the ones to show
//! ([`Index::present`]), or both at once ([`Index::search`]). The [`corpus`] walker and
//! [`indexer`] build an index from folders of files; [`eval`] measures ranking on test
//! collections. See ARCHITECTURE.md for the whole map.
//!
//! ```
//! use citedex::{Index, IndexWriter, Query, SearchOptions};
//! use citedex::formats::{self, Format};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let mut writer = IndexWriter::create(dir.path())?;
//! let text = b"# Sciatica\n\n## Symptoms\n\nPain runs from the lower back down one leg.\n";
//! let document = formats::read(Format::Markdown, text, "sciatica")?;
//! writer.add("notes/sciatica.md", &document)?;
//! writer.commit()?;
//!
//! let index = Index::open(dir.path())?;
//! let results = index.search(&Query::parse("leg pain")?, &SearchOptions::default())?;
//! let best = &results.results[0];
//! assert_eq!(best.passage.source.title, "Sciatica");
//! assert_eq!(best.passage.section, ["Symptoms"]);
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

mod abbreviations;
pub mod catalog;
pub mod chunker;
pub mod corpus;
pub mod document;
pub mod eval;
pub mod formats;
mod index;
pub mod indexer;
pub mod references;
mod search;

pub use document::Document;
pub use index::{
    CheckReport, Committed, Index, IndexError, IndexInfo, IndexWriter, PassageInContext, PreparedDocument,
    SCHEMA_VERSION, Status, StoredPassage, panics_are_caught, passage_id,
};
pub use search::{
    Explanation, Hit, MAX_EXPLAINED, MAX_QUERY_CHARS, MAX_QUERY_NESTING, Note, PresentOptions, Query,
    QueryError, RankedDocuments, RankedPassage, Ranker, Ranking, SearchError, SearchOptions, SearchResults,
};
