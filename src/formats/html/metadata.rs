//! A page's metadata: title, publisher, date, url, authors and kind from Open Graph and article
//! meta tags, `<title>` (without a site suffix), the first h1, the first `<time>` and the
//! canonical link.

use std::collections::HashMap;

use scraper::Html;

use super::chrome::Chrome;
use super::walker::text_of;
use crate::document::{Kind, Metadata, collapse_whitespace};
use crate::references::normalize_date;

/// Title, publisher, date, url, authors and kind from the page's meta tags.
pub(super) fn metadata(html: &Html) -> Metadata {
    let mut tags: HashMap<String, String> = HashMap::new();
    let mut title_tag = None;
    let mut first_h1 = None;
    let mut canonical = None;
    let mut first_time = None;
    let mut authors: Vec<String> = Vec::new();
    for node in html.tree.root().descendants() {
        let Some(element) = node.value().as_element() else {
            continue;
        };
        match element.name() {
            "meta" => {
                let key = element
                    .attr("property")
                    .or_else(|| element.attr("name"))
                    .map(str::to_ascii_lowercase);
                if let (Some(key), Some(content)) = (key, element.attr("content")) {
                    let content = collapse_whitespace(content);
                    if matches!(key.as_str(), "author" | "citation_author")
                        && !content.is_empty()
                        && !authors.contains(&content)
                    {
                        authors.push(content.clone());
                    }
                    tags.entry(key).or_insert(content);
                }
            }
            "title" if title_tag.is_none() => title_tag = Some(text_of(node, Chrome::PAGE)),
            "h1" if first_h1.is_none() => {
                first_h1 = Some(text_of(node, Chrome::PAGE)).filter(|h1| !h1.is_empty())
            }
            "link" if canonical.is_none() => {
                let canonical_link = element.attr("rel").is_some_and(|rel| {
                    rel.split_ascii_whitespace()
                        .any(|word| word.eq_ignore_ascii_case("canonical"))
                });
                if canonical_link {
                    canonical = element
                        .attr("href")
                        .map(str::trim)
                        .filter(|href| !href.is_empty());
                }
            }
            "time" if first_time.is_none() => first_time = element.attr("datetime"),
            _ => {}
        }
    }
    let tag = |key: &str| tags.get(key).filter(|value| !value.is_empty()).cloned();
    let publisher = tag("og:site_name")
        .or_else(|| tag("publisher"))
        .or_else(|| tag("application-name"));
    // Without og:title, a <title> that is the h1 plus a site suffix ("os.path — Python docs")
    // means the h1 is the title.
    let title = tag("og:title")
        .or_else(|| {
            let title = title_tag.map(|title| strip_site_suffix(&title, publisher.as_deref()))?;
            Some(match &first_h1 {
                Some(h1) if title.starts_with(h1.as_str()) => h1.clone(),
                _ => title,
            })
        })
        .filter(|title| !title.is_empty())
        .or(first_h1)
        .unwrap_or_default();
    let date = [
        "article:published_time",
        "date",
        "citation_publication_date",
        "dc.date",
    ]
    .iter()
    .find_map(|key| tag(key))
    .or_else(|| first_time.map(str::to_string))
    .and_then(|date| normalize_date(iso_day(&date).unwrap_or(&date)));
    Metadata {
        title,
        kind: tag("citedex:kind").as_deref().and_then(Kind::parse),
        publisher,
        date,
        url: canonical.map(str::to_string).or_else(|| tag("og:url")),
        authors,
        key: None,
        cites: Vec::new(),
    }
}

/// The `YYYY-MM-DD` that starts an ISO date-time (`2023-05-04T10:00:00Z`), which `normalize_date`
/// would misread because of the time.
pub(super) fn iso_day(date: &str) -> Option<&str> {
    let day = date.trim().get(..10)?;
    let shape = day.bytes().enumerate().all(|(i, b)| {
        if i == 4 || i == 7 {
            b == b'-'
        } else {
            b.is_ascii_digit()
        }
    });
    shape.then_some(day)
}

/// `Numbness | Mayo Clinic` → `Numbness` when the suffix names the site.
pub(super) fn strip_site_suffix(title: &str, site: Option<&str>) -> String {
    let title = collapse_whitespace(title);
    for separator in [" | ", " - ", " – ", " — ", " :: "] {
        if let Some((head, tail)) = title.rsplit_once(separator)
            && site.is_some_and(|site| tail.eq_ignore_ascii_case(site.trim()))
        {
            return head.trim().to_string();
        }
    }
    title
}
