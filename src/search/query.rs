//! Reading the query text before tantivy does: field aliases, the query's top-level shape
//! (filters, exclusions and the words that rank), whether words are plain (and so open to
//! proximity, abbreviation and typo help), and the plain-word fallback.

/// Field names users may type that stand for a schema field: the passage text is searched through
/// `content`, which also holds its title and headings.
const FIELD_ALIASES: [(&str, &str); 3] = [("source", "title"), ("body", "content"), ("text", "content")];

/// Fields whose terms filter the results when other words stand beside them: `kind:article
/// tingling` is about tingling, among articles only.
const FILTER_FIELDS: [&str; 6] = ["kind", "publisher", "title", "section", "role", "page"];

/// Words the query grammar reserves.
const OPERATORS: [&str; 5] = ["AND", "OR", "NOT", "IN", "TO"];

/// Rewrites the query text outside quotes: `alias:` prefixes become the schema's field names, and
/// `AND NOT x` becomes `AND -x` (tantivy reads `NOT x` after `AND` as a clause that matches
/// nothing, so `a AND NOT b` would find nothing at all).
pub fn rewrite(query: &str) -> String {
    let mut out = String::with_capacity(query.len());
    let mut in_quotes = false;
    let mut at_token_start = true;
    let mut rest = query;
    while let Some(c) = rest.chars().next() {
        if c == '"' {
            in_quotes = !in_quotes;
        }
        if !in_quotes && at_token_start {
            if let Some((alias, field)) = FIELD_ALIASES.iter().find(|(alias, _)| {
                // `get` and `strip_prefix`, not slicing: the text may be any Unicode.
                rest.get(..alias.len())
                    .is_some_and(|head| head.eq_ignore_ascii_case(alias))
                    && rest[alias.len()..].starts_with(':')
            }) {
                out.push_str(field);
                rest = &rest[alias.len()..];
                at_token_start = false;
                continue;
            }
            let negated = rest
                .strip_prefix("AND")
                .filter(|after| after.starts_with(char::is_whitespace))
                .and_then(|after| after.trim_start().strip_prefix("NOT"))
                .filter(|after| after.starts_with(char::is_whitespace));
            if let Some(negated) = negated {
                out.push_str("AND -");
                rest = negated.trim_start();
                continue;
            }
        }
        at_token_start = c.is_whitespace() || matches!(c, '(' | '-' | '+');
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// A `word*` or `field:word*` prefix term found in the query text.
#[derive(Debug, PartialEq, Eq)]
pub struct Prefix<'a> {
    /// Byte range of the whole token (field, word and star) in the query.
    pub range: std::ops::Range<usize>,
    /// The field it is limited to, if any.
    pub field: Option<&'a str>,
    /// The letters before the star; empty for `field:*`.
    pub prefix: &'a str,
}

/// Finds the prefix terms outside quotes.
pub fn prefixes(query: &str) -> Vec<Prefix<'_>> {
    let mut found = Vec::new();
    let mut in_quotes = false;
    let mut start = None;
    for (i, c) in query.char_indices().chain([(query.len(), ' ')]) {
        if c == '"' {
            in_quotes = !in_quotes;
        }
        let boundary = c.is_whitespace() || matches!(c, '(' | ')');
        match (start, boundary) {
            (None, false) if !in_quotes => start = Some(i),
            (Some(s), true) => {
                let token = query[s..i].trim_start_matches(['-', '+']);
                let offset = s + (query[s..i].len() - token.len());
                if let Some(body) = token.strip_suffix('*') {
                    let (field, prefix) = match body.split_once(':') {
                        Some((field, prefix)) => (Some(field), prefix),
                        None => (None, body),
                    };
                    // `field:*` and a lone `*` ask for every passage.
                    let any_value = prefix.is_empty() && (field.is_some() || token == "*");
                    if (any_value || !prefix.is_empty()) && prefix.chars().all(char::is_alphanumeric) {
                        found.push(Prefix {
                            range: offset..i,
                            field,
                            prefix,
                        });
                    }
                }
                start = None;
            }
            _ => {}
        }
    }
    found
}

/// A query split at its top level: filters and exclusions apart from the words that rank.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Shape {
    /// Clauses on filter fields (`kind:article`, `section:(diagnosis tests)`), as written.
    pub filters: Vec<String>,
    /// Excluded clauses (`-word`, `NOT word`), without their sign.
    pub exclusions: Vec<String>,
    /// The rest of the query, which ranks the results.
    pub body: String,
}

impl Shape {
    /// The query text again: filters, the ranked words, then the exclusions.
    pub fn text(&self) -> String {
        let mut parts: Vec<String> = self.filters.clone();
        if !self.body.is_empty() {
            parts.push(self.body.clone());
        }
        parts.extend(self.exclusions.iter().map(|excluded| format!("-{excluded}")));
        parts.join(" ")
    }
}

/// Splits a rewritten query at its top level. A query with top-level `AND` or `OR` keeps the
/// user's own logic and is all body.
pub fn shape(query: &str) -> Shape {
    let clauses = top_level_clauses(query);
    if clauses.iter().any(|clause| matches!(*clause, "AND" | "OR")) {
        return Shape {
            body: query.to_string(),
            ..Shape::default()
        };
    }
    let mut shape = Shape::default();
    let mut body: Vec<&str> = Vec::new();
    let mut negate_next = false;
    for clause in clauses {
        if clause == "NOT" {
            negate_next = true;
            continue;
        }
        if std::mem::take(&mut negate_next) {
            shape.exclusions.push(clause.to_string());
        } else if let Some(excluded) = clause.strip_prefix('-').filter(|rest| !rest.is_empty()) {
            shape.exclusions.push(excluded.to_string());
        } else if clause
            .split_once(':')
            .is_some_and(|(field, _)| FILTER_FIELDS.contains(&field))
        {
            shape.filters.push(clause.to_string());
        } else {
            body.push(clause);
        }
    }
    shape.body = body.join(" ");
    shape
}

/// The query's clauses at the top level: split at white space outside quotes and parentheses.
fn top_level_clauses(query: &str) -> Vec<&str> {
    let mut clauses = Vec::new();
    let mut depth = 0usize;
    let mut in_quotes = false;
    let mut start = None;
    for (i, c) in query.char_indices() {
        match c {
            '"' => in_quotes = !in_quotes,
            '(' if !in_quotes => depth += 1,
            ')' if !in_quotes => depth = depth.saturating_sub(1),
            _ => {}
        }
        let boundary = c.is_whitespace() && depth == 0 && !in_quotes;
        match (start, boundary) {
            (None, false) => start = Some(i),
            (Some(from), true) => {
                clauses.push(&query[from..i]);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(from) = start {
        clauses.push(&query[from..]);
    }
    clauses
}

/// Whether the query is only words: no quotes, fields, operators, grouping, boosts or wildcards.
pub fn is_plain(query: &str) -> bool {
    !query.contains(['"', ':', '(', ')', '[', ']', '{', '}', '^', '~', '*', '\\'])
        && query
            .split_whitespace()
            .all(|word| !OPERATORS.contains(&word) && !word.starts_with(['-', '+']))
}

/// The words of a plain query, without punctuation.
pub fn words(query: &str) -> Vec<&str> {
    query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty() && !OPERATORS.contains(word))
        .collect()
}

/// The query with its syntax characters removed, for a second try after a syntax error.
pub fn plain_words(query: &str) -> String {
    words(query).join(" ")
}

/// How deep the query nests parentheses and brackets (the parser recurses on each level).
pub fn nesting(query: &str) -> usize {
    let mut depth = 0usize;
    let mut deepest = 0usize;
    for c in query.chars() {
        match c {
            '(' | '[' | '{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_and_and_not_are_rewritten_outside_quotes() {
        assert_eq!(rewrite("source:mayo numbness"), "title:mayo numbness");
        assert_eq!(rewrite("-Source:(a b)"), "-title:(a b)");
        assert_eq!(
            rewrite("\"open source: code\" opensource:x"),
            "\"open source: code\" opensource:x"
        );
        assert_eq!(rewrite("nerves AND NOT feet"), "nerves AND -feet");
        assert_eq!(rewrite("(a OR b) AND  NOT (c)"), "(a OR b) AND -(c)");
        assert_eq!(
            rewrite("\"this AND NOT that\" BRAND NOTE"),
            "\"this AND NOT that\" BRAND NOTE"
        );
    }

    #[test]
    fn any_unicode_text_is_read_without_panicking() {
        for query in [
            "café",
            "textè:",
            "sourcé: naïve",
            "日本語 AND NOT 東京*",
            "\"ü",
            "ß*",
            "AND NOT",
        ] {
            let rewritten = rewrite(query);
            let _ = (
                prefixes(&rewritten),
                is_plain(&rewritten),
                plain_words(&rewritten),
            );
        }
        assert_eq!(rewrite("Text:café"), "content:café");
    }

    #[test]
    fn prefix_terms_are_found_outside_quotes() {
        let query = "thromb* \"not* this\" -title:vein* (a*) b** * kind:*";
        let found = prefixes(query);
        let words: Vec<(Option<&str>, &str)> = found.iter().map(|p| (p.field, p.prefix)).collect();
        assert_eq!(
            words,
            [
                (None, "thromb"),
                (Some("title"), "vein"),
                (None, "a"),
                (None, ""),
                (Some("kind"), "")
            ]
        );
        assert_eq!(&query[found[1].range.clone()], "title:vein*");
    }

    #[test]
    fn filters_and_exclusions_stand_apart_from_the_ranked_words() {
        let shaped = shape("kind:article tingling title:(mayo clinic) -diabetes NOT \"blood sugar\" feet");
        assert_eq!(shaped.filters, ["kind:article", "title:(mayo clinic)"]);
        assert_eq!(shaped.exclusions, ["diabetes", "\"blood sugar\""]);
        assert_eq!(shaped.body, "tingling feet");
        let logic = shape("kind:article OR tingling");
        assert_eq!(
            (logic.filters.len(), logic.body.as_str()),
            (0, "kind:article OR tingling")
        );
        assert_eq!(shape("-diabetes").body, "");
        assert_eq!(shape("content:nerve legs").body, "content:nerve legs");
    }

    #[test]
    fn plain_queries_are_only_words() {
        assert!(is_plain("numbness in the legs, why?"));
        assert!(!is_plain("numbness AND legs"));
        assert!(!is_plain("-legs numbness"));
        assert!(!is_plain("section:causes"));
        assert!(!is_plain("\"pins and needles\""));
        assert_eq!(
            plain_words("\"unclosed phrase AND title:(legs"),
            "unclosed phrase title legs"
        );
        assert_eq!(plain_words("- ( :"), "");
    }
}
