//! Reading a collection in BEIR's layout as published: JSON Lines for documents and queries
//! (extra fields ignored, a byte-order mark and CRLF line endings accepted) and a TSV of
//! judgments with a header. Errors name the file and the line.

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use serde::Deserialize;

use super::EvalError;

/// One line of `corpus.jsonl`; other fields (`metadata`) are ignored.
#[derive(Debug, Deserialize)]
pub(super) struct CorpusLine {
    #[serde(rename = "_id")]
    pub(super) id: String,
    #[serde(default)]
    pub(super) title: String,
    #[serde(default)]
    pub(super) text: String,
}

/// One line of `queries.jsonl`.
#[derive(Debug, Deserialize)]
pub(super) struct QueryLine {
    #[serde(rename = "_id")]
    pub(super) id: String,
    pub(super) text: String,
}

/// The non-blank lines of a text file with their 1-based numbers.
fn read_lines(path: &Path) -> Result<Vec<(usize, String)>, EvalError> {
    let bytes = fs::read(path).map_err(|source| EvalError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut lines = Vec::new();
    for (index, line) in bytes.split(|&b| b == b'\n').enumerate() {
        // Decoded line by line so that bad bytes are reported with their line number.
        let line = std::str::from_utf8(line).map_err(|error| EvalError::Malformed {
            path: path.to_path_buf(),
            line: index + 1,
            message: format!("not UTF-8 ({error})"),
        })?;
        let line = line.strip_suffix('\r').unwrap_or(line);
        let line = if index == 0 {
            line.trim_start_matches('\u{feff}')
        } else {
            line
        };
        if !line.trim().is_empty() {
            lines.push((index + 1, line.to_string()));
        }
    }
    Ok(lines)
}

/// Every non-blank line of a JSON Lines file, parsed.
pub(super) fn read_jsonl<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Vec<T>, EvalError> {
    read_lines(path)?
        .into_iter()
        .map(|(line, text)| {
            serde_json::from_str(&text).map_err(|error| EvalError::Malformed {
                path: path.to_path_buf(),
                line,
                message: error.to_string(),
            })
        })
        .collect()
}

/// Judgments by query id: document id → graded relevance (0 = judged not relevant).
pub(super) fn read_qrels(path: &Path) -> Result<HashMap<String, HashMap<String, u32>>, EvalError> {
    let mut qrels: HashMap<String, HashMap<String, u32>> = HashMap::new();
    for (line, text) in read_lines(path)? {
        let fields: Vec<&str> = text.split('\t').map(str::trim).collect();
        if line == 1
            && fields
                .first()
                .is_some_and(|first| first.eq_ignore_ascii_case("query-id"))
        {
            continue;
        }
        let malformed = |message: String| EvalError::Malformed {
            path: path.to_path_buf(),
            line,
            message,
        };
        let [query, document, grade] = fields.as_slice() else {
            return Err(malformed(format!(
                "expected 3 tab-separated fields, found {}",
                fields.len()
            )));
        };
        let grade = grade
            .parse::<i64>()
            .map_err(|_| malformed(format!("relevance {grade:?} is not a whole number")))?;
        qrels
            .entry(query.to_string())
            .or_default()
            .insert(document.to_string(), grade.max(0) as u32);
    }
    Ok(qrels)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judgments(pairs: &[(&str, u32)]) -> HashMap<String, u32> {
        pairs.iter().map(|(d, g)| (d.to_string(), *g)).collect()
    }

    #[test]
    fn qrels_are_read_with_their_header_grades_and_line_endings() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("test.tsv");
        fs::write(
            &path,
            "query-id\tcorpus-id\tscore\r\nq1\td1\t2\r\nq1\td2\t0\n\nq2\td1\t1\n",
        )
        .unwrap();
        let qrels = read_qrels(&path).unwrap();
        assert_eq!(qrels["q1"], judgments(&[("d1", 2), ("d2", 0)]));
        assert_eq!(qrels["q2"], judgments(&[("d1", 1)]));

        fs::write(&path, "query-id\tcorpus-id\tscore\nq1\td1\thigh\n").unwrap();
        let error = read_qrels(&path).unwrap_err().to_string();
        assert!(
            error.ends_with("test.tsv:2: relevance \"high\" is not a whole number"),
            "{error}"
        );
    }

    #[test]
    fn a_line_that_is_not_utf8_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("queries.jsonl");
        fs::write(
            &path,
            b"\xef\xbb\xbf{\"_id\": \"q1\", \"text\": \"a\"}\n{\"_id\": \"q\xff\"}\n",
        )
        .unwrap();
        let error = read_jsonl::<QueryLine>(&path).unwrap_err().to_string();
        assert!(error.contains("queries.jsonl:2: not UTF-8"), "{error}");
    }
}
