//! YAML front matter (`---` ... `---` at the top of a Markdown file) into [`Metadata`]. Aliases
//! (`*name`) are refused: the fields citedex reads never need them, and a few hundred bytes of
//! nested aliases expand to gigabytes when loaded.

use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::{Yaml, YamlLoader};

use super::ReadError;
use crate::document::{Kind, Metadata};
use crate::references::normalize_date;

/// Splits `text` into its front matter (if any) and the rest, and parses the front matter.
pub fn split(text: &str) -> Result<(Metadata, &str), ReadError> {
    let Some(after_open) = text.strip_prefix("---").and_then(|rest| {
        let rest = rest.trim_start_matches([' ', '\t']);
        rest.strip_prefix("\r\n").or_else(|| rest.strip_prefix('\n'))
    }) else {
        return Ok((Metadata::default(), text));
    };
    let mut offset = 0;
    for line in after_open.split_inclusive('\n') {
        let trimmed = line.trim_end();
        if trimmed == "---" || trimmed == "..." {
            let yaml = &after_open[..offset];
            let body = &after_open[offset + line.len()..];
            return Ok((parse(yaml)?, body));
        }
        offset += line.len();
    }
    Err(ReadError::FrontMatter(
        "opening `---` has no closing `---`".into(),
    ))
}

fn parse(yaml: &str) -> Result<Metadata, ReadError> {
    refuse_aliases(yaml)?;
    let docs = YamlLoader::load_from_str(yaml).map_err(|error| ReadError::FrontMatter(error.to_string()))?;
    let Some(root) = docs.into_iter().next() else {
        return Ok(Metadata::default());
    };
    if root.as_hash().is_none() {
        return Err(ReadError::FrontMatter("expected `key: value` pairs".into()));
    }
    let scalar = |key: &str| -> Result<Option<String>, ReadError> {
        match &root[key] {
            Yaml::BadValue | Yaml::Null => Ok(None),
            Yaml::String(value) => Ok(Some(value.trim().to_string()).filter(|v| !v.is_empty())),
            Yaml::Integer(value) => Ok(Some(value.to_string())),
            Yaml::Real(value) => Ok(Some(value.clone())),
            Yaml::Boolean(value) => Ok(Some(value.to_string())),
            _ => Err(ReadError::FrontMatter(format!("`{key}` must be a single value"))),
        }
    };
    let list = |key: &str| -> Result<Vec<String>, ReadError> {
        match &root[key] {
            Yaml::BadValue | Yaml::Null => Ok(Vec::new()),
            Yaml::Array(items) => items
                .iter()
                .map(|item| match item {
                    Yaml::String(value) => Ok(value.trim().to_string()),
                    _ => Err(ReadError::FrontMatter(format!("`{key}` items must be text"))),
                })
                .collect(),
            _ => Ok(scalar(key)?.into_iter().collect()),
        }
    };
    let kind = match scalar("kind")? {
        Some(value) => Some(Kind::parse(&value).ok_or_else(|| {
            ReadError::FrontMatter(format!("`kind` must be article or source, not {value:?}"))
        })?),
        None => None,
    };
    Ok(Metadata {
        title: scalar("title")?.unwrap_or_default(),
        kind,
        publisher: scalar("publisher")?,
        date: scalar("date")?.map(|date| normalize_date(&date).unwrap_or(date)),
        url: scalar("url")?,
        authors: list("authors")?,
        key: scalar("key")?,
        cites: list("cites")?,
    })
}

/// Scans the YAML's events, which expand nothing, for an alias; syntax errors are left for the
/// loader to report.
fn refuse_aliases(yaml: &str) -> Result<(), ReadError> {
    let mut parser = Parser::new_from_str(yaml);
    loop {
        match parser.next_token() {
            Ok((Event::Alias(_), mark)) => {
                // Lines count from the file's first, the opening `---`.
                return Err(ReadError::FrontMatter(format!(
                    "YAML aliases (*name) are not allowed (line {})",
                    mark.line() + 1
                )));
            }
            Ok((Event::StreamEnd, _)) | Err(_) => return Ok(()),
            Ok(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fields_and_returns_the_body() {
        let text =
            "---\ntitle: \"A: B\"\nkind: source\ndate: 2023-05-04\nauthors: [Zhou L, et al.]\n---\n# Body\n";
        let (meta, body) = split(text).unwrap();
        assert_eq!(meta.title, "A: B");
        assert_eq!(meta.kind, Some(Kind::Source));
        assert_eq!(meta.date.as_deref(), Some("2023-05-04"));
        assert_eq!(meta.authors, ["Zhou L", "et al."]);
        assert_eq!(body, "# Body\n");
    }

    #[test]
    fn rejects_bad_yaml_and_unknown_kind() {
        assert!(split("---\ntitle: [unclosed\n---\n").is_err());
        assert!(split("---\nkind: blog\n---\n").is_err());
        assert!(split("---\ntitle: x\n").is_err());
        assert_eq!(split("no front matter").unwrap().1, "no front matter");
    }

    /// Anchors a..j, each a list of nine aliases of the one before: loading it would build
    /// 9^10 nodes.
    fn alias_bomb() -> String {
        let mut yaml = String::from("---\na: &a [x, x, x, x, x, x, x, x, x]\n");
        for (previous, name) in ('a'..='i').zip('b'..='j') {
            let aliases = vec![format!("*{previous}"); 9].join(", ");
            yaml.push_str(&format!("{name}: &{name} [{aliases}]\n"));
        }
        yaml.push_str("title: Bomb\n---\nBody\n");
        yaml
    }

    #[test]
    fn aliases_are_refused_before_anything_expands() {
        let error = split(&alias_bomb()).unwrap_err();
        assert_eq!(
            error,
            ReadError::FrontMatter("YAML aliases (*name) are not allowed (line 3)".into())
        );
        let anchors_alone = "---\nbase: &b x\ntitle: Fine\n---\n";
        assert_eq!(split(anchors_alone).unwrap().0.title, "Fine");
    }
}
