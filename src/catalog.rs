//! The knowledge base's table of contents: one entry per indexed document with its metadata,
//! passage count, parsed references and the links between articles and the sources they cite.
//! The index stores each entry as a record beside the document's passages; a writer links them
//! all at commit time.

use serde::{Deserialize, Serialize};

use std::collections::{BTreeMap, HashMap};

use crate::abbreviations::{self, Abbreviation};
use crate::document::{Block, Document, Kind, Role};
use crate::references::{self, CitedReference};

/// Every document of an index, with citation links resolved.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Catalog {
    /// Documents in path order.
    pub documents: Vec<Entry>,
    /// Abbreviations learnt from all documents: short form in upper case → long form.
    #[serde(default)]
    pub abbreviations: BTreeMap<String, String>,
}

/// One document of the knowledge base.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Title, path, kind and publication details.
    #[serde(flatten)]
    pub source: SourceInfo,
    /// Authors, in the order given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authors: Vec<String>,
    /// Citation key that articles may name in their `cites` front matter.
    pub key: String,
    /// Hash of the file's bytes, to tell changed files from unchanged ones.
    pub hash: String,
    /// Keys this document cites explicitly in front matter.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cites: Vec<String>,
    /// How many passages the document was split into.
    pub passages: usize,
    /// The document's reference list, duplicates folded, each with the document it names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<ResolvedReference>,
    /// Articles that cite this document.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cited_by: Vec<DocumentLink>,
    /// Abbreviations the document spells out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub abbreviations: Vec<Abbreviation>,
}

/// Where a passage comes from, as shown with every search result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceInfo {
    /// The document's title.
    pub title: String,
    /// The document's file path.
    pub path: String,
    /// Article or source.
    pub kind: Kind,
    /// Publisher, when known.
    pub publisher: Option<String>,
    /// Publication date, when known.
    pub date: Option<String>,
    /// Canonical address, when known.
    pub url: Option<String>,
}

/// A reference of an article with the path of the document it names, if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolvedReference {
    /// The parsed reference and how often the list repeats it.
    #[serde(flatten)]
    pub cited: CitedReference,
    /// Path of the document this reference names; `None` when no document matches.
    pub resolved: Option<String>,
}

/// A pointer to another document of the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentLink {
    /// That document's title.
    pub title: String,
    /// That document's path.
    pub path: String,
}

impl Entry {
    /// Describes a parsed document stored at `path`, whose bytes hash to `hash`, that was split
    /// into `passages` passages.
    pub fn new(path: &str, hash: &str, document: &Document, passages: usize) -> Entry {
        let meta = &document.meta;
        let reference_items: Vec<&str> = document
            .sections
            .iter()
            .filter(|section| section.role == Role::References)
            .flat_map(|section| &section.blocks)
            .flat_map(Block::texts)
            .collect();
        let references = references::fold(reference_items)
            .into_iter()
            .map(|cited| ResolvedReference {
                cited,
                resolved: None,
            })
            .collect::<Vec<_>>();
        let kind = meta
            .kind
            .unwrap_or_else(|| infer_kind(path, !references.is_empty() || !meta.cites.is_empty()));
        let stem = std::path::Path::new(path)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        Entry {
            source: SourceInfo {
                title: meta.title.clone(),
                path: path.to_string(),
                kind,
                publisher: meta.publisher.clone(),
                date: meta.date.clone(),
                url: meta.url.clone(),
            },
            authors: meta.authors.clone(),
            key: meta.key.clone().unwrap_or(stem),
            hash: hash.to_string(),
            cites: meta.cites.clone(),
            passages,
            references,
            cited_by: Vec::new(),
            abbreviations: document_abbreviations(document),
        }
    }
}

/// Every abbreviation a document's blocks spell out.
fn document_abbreviations(document: &Document) -> Vec<Abbreviation> {
    let mut found: Vec<Abbreviation> = document
        .sections
        .iter()
        .flat_map(|section| &section.blocks)
        .flat_map(Block::texts)
        .flat_map(abbreviations::find)
        .collect();
    found.sort();
    found.dedup();
    found
}

/// A document under an `articles` folder is an article, under `sources` a source; elsewhere a
/// document with a reference list is an article.
fn infer_kind(path: &str, has_references: bool) -> Kind {
    let folders: Vec<String> = std::path::Path::new(path)
        .parent()
        .into_iter()
        .flat_map(|parent| parent.components())
        .map(|part| part.as_os_str().to_string_lossy().to_lowercase())
        .collect();
    match folders
        .iter()
        .rev()
        .find(|f| matches!(f.as_str(), "articles" | "article" | "sources" | "source"))
    {
        Some(folder) if folder.starts_with("article") => Kind::Article,
        Some(_) => Kind::Source,
        None if has_references => Kind::Article,
        None => Kind::Source,
    }
}

impl Catalog {
    /// Builds the catalog from entries, resolving references and filling `cited_by`.
    pub fn new(mut documents: Vec<Entry>) -> Catalog {
        documents.sort_by(|a, b| a.source.path.cmp(&b.source.path));
        // Titles and keys are looked up, not scanned: a large corpus has thousands of documents.
        let mut by_title: HashMap<String, Vec<usize>> = HashMap::new();
        let mut by_key: HashMap<String, usize> = HashMap::new();
        for (index, document) in documents.iter().enumerate() {
            by_title
                .entry(references::normalize_name(&document.source.title))
                .or_default()
                .push(index);
            by_key.entry(document.key.clone()).or_insert(index);
        }
        let targets: Vec<(String, Option<String>)> = documents
            .iter()
            .map(|d| (d.source.path.clone(), d.source.publisher.clone()))
            .collect();
        let mut cited_by: Vec<Vec<DocumentLink>> = vec![Vec::new(); documents.len()];
        for (index, document) in documents.iter_mut().enumerate() {
            let citing = DocumentLink {
                title: document.source.title.clone(),
                path: document.source.path.clone(),
            };
            let mut cited: Vec<usize> = Vec::new();
            for reference in &mut document.references {
                let cited_work = &reference.cited.reference;
                let candidates = by_title.get(&references::normalize_name(&cited_work.title));
                let target = candidates.into_iter().flatten().copied().find(|&candidate| {
                    candidate != index
                        && references::publishers_agree(
                            cited_work.publisher.as_deref(),
                            targets[candidate].1.as_deref(),
                        )
                });
                reference.resolved = target.map(|i| targets[i].0.clone());
                cited.extend(target);
            }
            cited.extend(document.cites.iter().filter_map(|key| by_key.get(key)));
            cited.sort_unstable();
            cited.dedup();
            for target in cited {
                cited_by[target].push(citing.clone());
            }
        }
        for (document, links) in documents.iter_mut().zip(cited_by) {
            document.cited_by = links;
        }
        let abbreviations = abbreviations::merge(documents.iter().flat_map(|d| &d.abbreviations));
        Catalog {
            documents,
            abbreviations,
        }
    }

    /// The entry for a document path.
    pub fn get(&self, path: &str) -> Option<&Entry> {
        self.documents
            .binary_search_by(|entry| entry.source.path.as_str().cmp(path))
            .ok()
            .map(|i| &self.documents[i])
    }

    /// References that name no document of the catalog, with the document that makes them.
    pub fn missing_references(&self) -> impl Iterator<Item = (&Entry, &ResolvedReference)> {
        self.documents.iter().flat_map(|entry| {
            entry
                .references
                .iter()
                .filter(|r| r.resolved.is_none())
                .map(move |r| (entry, r))
        })
    }

    /// Explicit `cites` keys that name no document, with the article that names them.
    pub fn unknown_keys(&self) -> Vec<(&str, &str)> {
        self.documents
            .iter()
            .flat_map(|d| {
                d.cites
                    .iter()
                    .map(move |key| (d.source.path.as_str(), key.as_str()))
            })
            .filter(|(_, key)| !self.documents.iter().any(|d| d.key == *key))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{Metadata, Section};

    fn document(title: &str, publisher: Option<&str>, references: &[&str]) -> Document {
        Document {
            meta: Metadata {
                title: title.into(),
                publisher: publisher.map(String::from),
                ..Metadata::default()
            },
            sections: vec![Section {
                path: vec!["References".into()],
                role: Role::References,
                blocks: vec![Block::list(references.iter().map(|r| r.to_string()).collect())],
                page: None,
            }],
            warnings: Vec::new(),
        }
    }

    #[test]
    fn links_references_to_sources_and_back() {
        let article = document(
            "Legs",
            None,
            &[
                "Numbness. Mayo Clinic.",
                "Numbness. Mayo Clinic.",
                "Gone. Nowhere.",
            ],
        );
        let mayo = document("Numbness", Some("Mayo Clinic"), &[]);
        let cleveland = document("Numbness", Some("Cleveland Clinic"), &[]);
        let catalog = Catalog::new(vec![
            Entry::new("kb/sources/mayo.md", "1", &mayo, 3),
            Entry::new("kb/articles/legs.md", "2", &article, 5),
            Entry::new("kb/sources/cleveland.md", "3", &cleveland, 2),
        ]);
        let legs = catalog.get("kb/articles/legs.md").unwrap();
        assert_eq!(legs.source.kind, Kind::Article);
        assert_eq!(legs.references.len(), 2);
        assert_eq!(legs.references[0].cited.occurrences, 2);
        assert_eq!(legs.references[0].resolved.as_deref(), Some("kb/sources/mayo.md"));
        assert_eq!(legs.references[1].resolved, None);
        let mayo = catalog.get("kb/sources/mayo.md").unwrap();
        assert_eq!(mayo.source.kind, Kind::Source);
        assert_eq!(
            mayo.cited_by,
            [DocumentLink {
                title: "Legs".into(),
                path: "kb/articles/legs.md".into()
            }]
        );
        assert!(
            catalog
                .get("kb/sources/cleveland.md")
                .unwrap()
                .cited_by
                .is_empty()
        );
    }
}
