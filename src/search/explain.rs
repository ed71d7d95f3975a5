//! Score explanations: how BM25 and the proximity bonus made a passage's own score, what its
//! whole document added, and which tiers ranked it, as a typed tree whose terms name their fields
//! ("content:\"lidocain\""), built only for the passages shown.

use serde::{Deserialize, Serialize};
use tantivy::query::Weight;
use tantivy::schema::{Field, Schema};
use tantivy::{DocAddress, DocSet};

use super::SearchError;
use super::documents;
use super::plan::Plan;
use super::scoring::{self, ScoreParts};
use crate::index::Index;

/// One node of a score explanation: a value, what it is, and the parts it is made of.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// The value this node contributes.
    pub value: f32,
    /// What the value is ("sum of", "BM25 term frequency", ...).
    pub description: String,
    /// The terms or settings the value depends on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub context: Vec<String>,
    /// The parts the value is computed from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<Explanation>,
}

/// Explains scores of one ranking, the clauses' weights built once for all passages.
pub(super) struct Explainer<'a> {
    index: &'a Index,
    weights: Vec<Box<dyn Weight>>,
}

impl<'a> Explainer<'a> {
    /// Prepares to explain scores of `plan` on `index`.
    pub(super) fn new(index: &'a Index, plan: &Plan) -> Result<Explainer<'a>, SearchError> {
        let weights = plan.weights(index).map_err(index.tantivy())?;
        Ok(Explainer { index, weights })
    }

    /// The explanation of one passage's score: its own score, its document's, and its tiers.
    pub(super) fn explain(
        &self,
        address: DocAddress,
        parts: &ScoreParts,
    ) -> Result<Explanation, SearchError> {
        let passage = self.explain_passage(address)?;
        let mut context = Vec::new();
        if parts.lacks_words {
            context.push("lacks a word of the query: ranked after passages holding every one".to_string());
        }
        if parts.aside {
            context.push("a reference list or author notes: ranked after body text".to_string());
        }
        Ok(Explanation {
            value: parts.passage + parts.document,
            description: "sum of".to_string(),
            context,
            details: vec![
                Explanation {
                    value: passage.value,
                    description: "the passage, sum of".to_string(),
                    context: Vec::new(),
                    details: if passage.description == "sum of" {
                        passage.details
                    } else {
                        vec![passage]
                    },
                },
                Explanation {
                    value: parts.document,
                    description: format!(
                        "its whole document: BM25 over all its passages, weighted x{}",
                        scoring::DOCUMENT_WEIGHT
                    ),
                    context: vec![format!("k1={}, b={}", documents::K1, documents::B)],
                    details: Vec::new(),
                },
            ],
        })
    }

    /// The explanation of a passage's own score: the parts of the clauses that match it, summed.
    fn explain_passage(&self, address: DocAddress) -> Result<Explanation, SearchError> {
        let segment = self.index.searcher.segment_reader(address.segment_ord);
        let mut parts = Vec::new();
        for weight in &self.weights {
            // Only clauses that match are explained: tantivy's phrase explanation asserts (in debug
            // builds) on documents the phrase does not match.
            let mut scorer = weight.scorer(segment, 1.0).map_err(self.index.tantivy())?;
            // A scorer starts on its first match, which may lie past the passage already.
            if scorer.doc() < address.doc_id {
                scorer.seek(address.doc_id);
            }
            if scorer.doc() == address.doc_id {
                let part = weight
                    .explain(segment, address.doc_id)
                    .map_err(self.index.tantivy())?;
                parts.push(typed(&part, &self.index.index.schema()));
            }
        }
        Ok(match parts.len() {
            1 => parts.pop().expect("one part"),
            _ => Explanation {
                value: parts.iter().map(|part| part.value).sum(),
                description: "sum of".to_string(),
                context: Vec::new(),
                details: parts,
            },
        })
    }
}

/// tantivy's explanation as our typed tree, with field numbers replaced by field names.
fn typed(explanation: &tantivy::query::Explanation, schema: &Schema) -> Explanation {
    let value = serde_json::to_value(explanation).expect("explanations serialize");
    let mut typed: Explanation = serde_json::from_value(value).expect("tantivy's explanation has our shape");
    name_fields(&mut typed, schema);
    typed
}

fn name_fields(node: &mut Explanation, schema: &Schema) {
    for context in &mut node.context {
        if let Some(readable) = readable_term(context, schema) {
            *context = readable;
        }
    }
    for detail in &mut node.details {
        name_fields(detail, schema);
    }
}

/// `Term=Term(field=4, type=Str, "lidocain")` as `content:"lidocain"`.
fn readable_term(context: &str, schema: &Schema) -> Option<String> {
    let inner = context.strip_prefix("Term=Term(field=")?.strip_suffix(')')?;
    let (number, rest) = inner.split_once(", ")?;
    let id: u32 = number.parse().ok()?;
    if id as usize >= schema.num_fields() {
        return None;
    }
    let field = Field::from_field_id(id);
    let value = rest.split_once(", ").map_or(rest, |(_, value)| value);
    let name = schema.get_field_entry(field).name();
    Some(format!("{name}:{value}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_name_their_fields() {
        let (schema, fields) = crate::index::schema::build();
        let context = format!(
            "Term=Term(field={}, type=Str, \"lidocain\")",
            fields.content.field_id()
        );
        assert_eq!(
            readable_term(&context, &schema).as_deref(),
            Some("content:\"lidocain\"")
        );
        assert_eq!(readable_term("k1=1.2", &schema), None);
    }
}
