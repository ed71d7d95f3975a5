//! Tests of the HTML reader's rules one at a time: chrome and content, metadata fallbacks,
//! source lines, and hostile nesting generated on the spot. Whole saved pages are snapshot
//! fixtures (`tests/fixtures/html`).

use rustc_hash::FxHashSet;
use scraper::{Html, Node};

use super::chrome::{NameWords, hides};
use super::content::{descend_to_content, text_tallies};
use super::metadata::{iso_day, strip_site_suffix};
use super::parse::TextLines;
use super::walker::text_of;
use super::*;
use crate::document::{Block, Content, Section, contents};

fn paths(doc: &Document) -> Vec<String> {
    doc.sections.iter().map(|s| s.path.join(" > ")).collect()
}

fn all_text(sections: &[Section]) -> String {
    let mut text = String::new();
    for piece in sections.iter().flat_map(|s| &s.blocks).flat_map(Block::texts) {
        text.push_str(piece);
        text.push('\n');
    }
    text
}

fn paragraph(text: &str) -> Content {
    Content::Paragraph(text.to_string())
}

/// Runs `read` on a thread with a small stack, to show nothing in it recurses on nesting depth.
fn read_on_small_stack(page: String) -> Document {
    std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(move || read(&page))
        .unwrap()
        .join()
        .unwrap()
}

#[test]
fn fifty_thousand_nested_elements_cost_no_stack() {
    let depth = 50_000;
    let page = format!(
        "<html><head><title>Deep</title></head><body>{}<p>The bottom paragraph.</p>{}<p>After.</p></body></html>",
        "<div>".repeat(depth),
        "</div>".repeat(depth)
    );
    let doc = read_on_small_stack(page);
    assert_eq!(all_text(&doc.sections), "The bottom paragraph.\nAfter.\n");
    assert_eq!(
        doc.warnings,
        ["markup nested deeper than 1000 levels read as plain text"]
    );
}

#[test]
fn a_fifty_thousand_deep_tree_is_walked_and_dropped_without_recursion() {
    // Built directly, since parsing it unflattened would take minutes (the tree builder is quadratic).
    let handle = std::thread::Builder::new().stack_size(256 * 1024).spawn(|| {
        let sample = Html::parse_document("<div>bottom text</div>");
        let div = sample
            .tree
            .root()
            .descendants()
            .find(|node| node.value().as_element().is_some_and(|e| e.name() == "div"));
        let div = div.unwrap();
        let (element, text) = (div.value().clone(), div.first_child().unwrap().value().clone());
        let mut tree = ego_tree::Tree::new(Node::Document);
        let mut id = tree.root().id();
        for _ in 0..50_000 {
            id = tree.get_mut(id).unwrap().append(element.clone()).id();
        }
        tree.get_mut(id).unwrap().append(text);
        let root = tree.root();
        let tallies = text_tallies(root, &FxHashSet::default());
        assert_eq!(tallies[&id].text, "bottom text".len());
        let outermost = root.first_child().unwrap();
        assert_eq!(descend_to_content(outermost, &tallies).id(), id);
        assert_eq!(text_of(root, Chrome::PAGE), "bottom text");
        let walked = Walker::new("", Chrome::PAGE, &TextLines::default()).walk(root);
        assert!(walked.truncated);
        assert_eq!(all_text(&walked.sections), "bottom text\n");
        drop(tree);
    });
    handle.unwrap().join().unwrap();
}

/// The flattened markup, `None` when nothing was too deep.
fn flatten_deep_markup(text: &str, limit: usize) -> Option<String> {
    let prepared = prepare_markup(text, limit);
    prepared
        .flattened
        .then(|| prepared.text.expect("flattening rewrites the markup"))
}

#[test]
fn deep_nesting_hidden_behind_stray_end_tags_is_still_flattened() {
    // An end tag for an ordinary element never closes past a <div>, so these divs all nest.
    let page = format!(
        "<body>{}<p>bottom</p></body>",
        "<span><div></span>".repeat(20_000)
    );
    let doc = read_on_small_stack(page);
    assert_eq!(all_text(&doc.sections).trim(), "bottom");
    assert_eq!(doc.warnings.len(), 1);
}

#[test]
fn sloppy_but_shallow_markup_is_not_flattened() {
    // Unclosed paragraphs and list items, `<` in scripts and tags in comments are not depth.
    let mut page = String::from(
        "<html><head><script>for (i = 0; i<n; i++) { s += '<div>'; }</script></head><body><main>",
    );
    for number in 0..1_500 {
        page.push_str(&format!(
            "<p>Paragraph {number}\n<!-- <div> --><ul><li>item {number}</ul><br/>"
        ));
    }
    page.push_str("<h2>Later</h2><p>after the heading</main>");
    assert_eq!(flatten_deep_markup(&page, MAX_PARSE_DEPTH), None);
    let doc = read(&page);
    assert!(doc.warnings.is_empty());
    assert_eq!(paths(&doc), ["", "Later"]);
    assert_eq!(doc.sections[0].blocks.len(), 3_000);
    assert_eq!(
        contents(&doc.sections[1].blocks),
        [paragraph("after the heading")]
    );
}

#[test]
fn flattening_keeps_text_and_shallow_markup() {
    let page = "<div><div><b>deep</b> text</div></div><br><img src=x><p>after</p>";
    assert_eq!(flatten_deep_markup(page, 5), None);
    assert_eq!(
        flatten_deep_markup(page, 1).unwrap(),
        "<div>  deep  text </div><br><img src=x><p>after</p>"
    );
    // Quoted `>` in attributes and raw text do not end or open tags.
    let page = r#"<div title="a > b"><textarea><div><div></textarea></div>"#;
    assert_eq!(flatten_deep_markup(page, 1), None);
    // Inside SVG `<path/>` closes itself; in HTML `<div/>` opens a div.
    assert_eq!(flatten_deep_markup("<svg><path/><path/></svg>", 1), None);
    assert!(flatten_deep_markup("<div/><div/>", 1).is_some());
}

#[test]
fn navigation_is_cut_before_parsing_only_when_its_own_end_tag_closes_it() {
    let cut = |page: &str| prepare_markup(page, MAX_PARSE_DEPTH).text;
    assert_eq!(
        cut("<body><NAV class=x><nav><ul><li>a</ul></nav><p>b</Nav><p>text</p>").as_deref(),
        Some("<body><p>text</p>")
    );
    // A <nav> holding the page's main content stays, as does one another end tag closes.
    assert_eq!(cut("<body><nav><main><p>text</main></nav>"), None);
    assert_eq!(
        cut("<body><nav><div ROLE='content main'><p>text</div></nav>"),
        None
    );
    assert_eq!(cut("<div><nav><p>links</div><p>text"), None);
    assert_eq!(cut("<body><nav><p>links, never closed"), None);
    // Tags in comments and raw text neither open nor close one.
    assert_eq!(
        cut("<!-- <nav> --><p>a</p><nav><script>'</nav>'</script></nav><p>b</p>").as_deref(),
        Some("<!-- <nav> --><p>a</p><p>b</p>")
    );
    let page =
        "<html><body><nav><h1>Site name</h1><p>Links</p></nav><main><p>Body text.</p></main></body></html>";
    let doc = read(page);
    assert_eq!(doc.meta.title, "");
    assert_eq!(all_text(&doc.sections).trim(), "Body text.");
}

#[test]
fn class_words_match_whole_parts_only() {
    let page = r#"<html><body><article>
        <h2>Shapes</h2><div class="shadow badge-header">Shadows stay.</div>
        <div class="download-area">Downloads stay.</div>
        <div class="has-sidebar no-comments">State classes stay.</div>
        <div class="headline">Headlines stay.</div>
        <div class="ad">Gone one.</div><div class="promo_box">Gone two.</div>
        <div id="mainNav">Gone three.</div><div class="related-content">Gone four.</div>
        <div class="article-comments">Gone five.</div><div role="navigation">Gone six.</div>
        <div aria-hidden="true">Gone seven.</div><p hidden>Gone eight.</p>
        </article></body></html>"#;
    let text = all_text(&read(page).sections);
    assert_eq!(
        text,
        "Shadows stay.\nDownloads stay.\nState classes stay.\nHeadlines stay.\n"
    );
}

#[test]
fn name_words_split_at_punctuation_and_camel_case() {
    let words = |value: &str| {
        let mut words = NameWords::default();
        words.add(value);
        (words.chrome, words.header, words.content)
    };
    assert_eq!(words("cookieBanner"), (true, false, false));
    assert_eq!(words("site-header article_body"), (false, true, true));
    assert_eq!(
        words("has-sidebar no-comments is-sticky-header"),
        (false, false, false)
    );
    assert_eq!(words("shadow headline download"), (false, false, false));
    assert_eq!(words("navigationadvertisementcookie ad"), (true, false, false));
    assert_eq!(words("navigationadvertisementcookie"), (false, false, false));
    assert!(hides("color: red; DISPLAY : None"));
    assert!(!hides("display: block; none"));
}

#[test]
fn generated_ids_do_not_make_content_chrome() {
    let page = r#"<html><body><main>
        <section id="overlay-support"><h2>Overlay support</h2><p>Overlays stay.</p></section>
        <dl><dt id="http.cookiejar.DefaultCookiePolicy">class DefaultCookiePolicy</dt><dd>Policies stay.</dd></dl>
        <div id="comments"><h2>Comments</h2><p>A titled block stays.</p></div>
        <div id="comments">Untitled comments go.</div>
        <div id="share-this-page">Sharing goes.</div>
        </main></body></html>"#;
    let text = all_text(&read(page).sections);
    assert_eq!(
        text,
        "Overlays stay.\nclass DefaultCookiePolicy\nPolicies stay.\nA titled block stays.\n"
    );
}

#[test]
fn a_chrome_named_wrapper_around_main_is_not_chrome() {
    // Read the Docs: the whole page sits in `wy-nav-content-wrap`, "nav" being a chrome word.
    let prose = "Sentences of the documentation page that make up its content. ".repeat(12);
    let page = format!(
        r##"<html><head><title>Host bridges</title></head><body>
        <nav class="wy-nav-side">Side menu</nav>
        <section class="wy-nav-content-wrap"><nav class="wy-nav-top">Top menu</nav>
        <div role="main" class="document"><h1>Host bridges<a class="headerlink" href="#h">¶</a></h1>
        <p>{prose}</p><h2>Windows<a class="headerlink" href="#w">¶</a></h2><p>{prose}</p></div>
        <footer>Footer words</footer></section></body></html>"##
    );
    let doc = read(&page);
    assert_eq!(paths(&doc), ["", "Windows"]);
    let text = all_text(&doc.sections);
    assert_eq!(text.matches("Sentences of the documentation").count(), 24);
    for chrome in ["¶", "menu", "Footer"] {
        assert!(!text.contains(chrome), "{chrome:?} leaked");
    }
    // ASP.NET: a <form> around the whole page, which no retry without class words brings back.
    let page = page
        .replace("<body>", "<body><form id=\"aspnetForm\" method=\"post\">")
        .replace("</body>", "</form></body>");
    assert_eq!(all_text(&read(&page).sections), text);
}

#[test]
fn header_words_are_chrome_at_page_level_and_content_inside_an_article() {
    // Prose straight in <body>: the walk starts at page level, where a header-like block is chrome.
    let page = r#"<html><body><div class="site-header">Masthead words</div>
        <p>First paragraph of prose that is long enough to be the content of this page.</p>
        <h2>Second</h2><p>More prose below the second heading.</p></body></html>"#;
    let doc = read(page);
    assert_eq!(paths(&doc), ["", "Second"]);
    assert!(!all_text(&doc.sections).contains("Masthead"));
    // Inside an article the same words name parts of the content.
    let page = page
        .replace("<body>", "<body><article>")
        .replace("</body>", "</article></body>");
    assert!(all_text(&read(&page).sections).starts_with("Masthead words\n"));
}

#[test]
fn content_swallowed_by_a_chrome_name_is_read_again_without_names() {
    let prose = "A wrapper named after its sidebar still holds the article. ".repeat(20);
    let page = format!(
        "<html><body><main><div class=\"content-with-sidebar\"><h2>Only</h2><p>{prose}</p></div></main></body></html>"
    );
    let doc = read(&page);
    assert_eq!(paths(&doc), ["Only"]);
    assert_eq!(contents(&doc.sections[0].blocks), [paragraph(prose.trim())]);
    // Only containers are read again: a permalink or a share link is still chrome.
    let page = page.replace(
        "<h2>Only</h2>",
        "<h2>Only<a class=\"headerlink\" href=\"#only\">¶</a></h2><a class=\"share\">Share this</a>",
    );
    let doc = read(&page);
    assert_eq!(paths(&doc), ["Only"]);
    assert_eq!(contents(&doc.sections[0].blocks), [paragraph(prose.trim())]);
}

#[test]
fn code_keeps_its_lines_and_its_place_in_a_list() {
    let page = "<html><body><main><p>Set it up:</p><ol><li>Import it:<div class=\"highlight\">\
                <button class=\"copy\">Copy</button><pre>\n<span class=\"kn\">import</span> asyncio\n\n\n\
                def main():\n    loop = asyncio.get_running_loop()   \n</pre></div></li>\
                <li>Run it.</li></ol><pre>a<br>b</pre></main></body></html>";
    let doc = read(page);
    assert_eq!(
        contents(&doc.sections[0].blocks),
        [
            paragraph("Set it up:"),
            Content::List(vec!["Import it:".into()]),
            Content::Preformatted(
                "import asyncio\n\ndef main():\n    loop = asyncio.get_running_loop()".into()
            ),
            Content::List(vec!["Run it.".into()]),
            Content::Preformatted("a\nb".into()),
        ]
    );
}

#[test]
fn footnotes_and_citations_are_content_one_item_each() {
    let page = "<html><body><aside class=\"sidebar\"><p>Site links and more links.</p></aside><main>\
                <p>Loopback is on by default.<a role=\"doc-noteref\" href=\"#f1\"><span class=\"fn-bracket\">[</span>1\
                <span class=\"fn-bracket\">]</span></a></p>\
                <aside class=\"footnote-list brackets\"><aside class=\"footnote brackets\" id=\"f1\" role=\"note\">\
                <span class=\"label\">[<a role=\"doc-backlink\" href=\"#r1\">1</a>]</span><p>Handy for candump.</p></aside>\
                <aside class=\"footnote brackets\" id=\"f2\" role=\"note\"><span class=\"label\">[2]</span>\
                <p>Second note.</p></aside></aside><h2>References</h2><div role=\"list\" class=\"citation-list\">\
                <div class=\"citation\" id=\"sev\" role=\"doc-biblioentry\"><span class=\"label\">[sev]</span>\
                <p>Secure Encrypted Virtualization (SEV)</p></div></div><aside class=\"pull-quote\"><p>Quoted.</p></aside>\
                </main></body></html>";
    let doc = read(page);
    assert_eq!(
        contents(&doc.sections[0].blocks),
        [
            paragraph("Loopback is on by default.[1]"),
            Content::List(vec!["[1] Handy for candump.".into(), "[2] Second note.".into()]),
        ]
    );
    assert_eq!(
        contents(&doc.sections[1].blocks),
        [Content::List(vec![
            "[sev] Secure Encrypted Virtualization (SEV)".into()
        ])]
    );
    assert!(!all_text(&doc.sections).contains("Site links"));
    assert!(!all_text(&doc.sections).contains("Quoted"));
}

#[test]
fn a_table_row_is_one_paragraph_whatever_its_cells_hold() {
    let page = "<html><body><main><table><tr><td><p>get_loop()</p></td><td><p>Returns the loop.</p>\
                <ul><li>when running</li></ul></td></tr><tr><td>b</td><td>c</td></tr></table></main></body></html>";
    let doc = read(page);
    assert_eq!(
        contents(&doc.sections[0].blocks),
        [
            paragraph("get_loop() | Returns the loop. when running"),
            paragraph("b | c")
        ]
    );
}

#[test]
fn metadata_falls_back_to_title_tag_first_h1_and_time() {
    let page = r#"<html><head><title>Sciatica - Nerve Notes</title>
        <meta name="application-name" content="Nerve Notes"><meta property="og:url" content="https://n.example/s">
        <meta name="dc.date" content="May 4, 2023"></head>
        <body><article><h1>Sciatica</h1><p>Pain along the nerve.</p><time datetime="2020-01-01">x</time></article></body></html>"#;
    let doc = read(page);
    assert_eq!(doc.meta.title, "Sciatica");
    assert_eq!(doc.meta.publisher.as_deref(), Some("Nerve Notes"));
    assert_eq!(doc.meta.url.as_deref(), Some("https://n.example/s"));
    assert_eq!(doc.meta.date.as_deref(), Some("2023-05-04"));
    assert_eq!(paths(&doc), [""]);

    let doc = read(
        "<body><h1>Untitled page</h1><p>Text.</p><time datetime='2021-06-30T23:59:59-07:00'>then</time></body>",
    );
    assert_eq!(doc.meta.title, "Untitled page");
    assert_eq!(doc.meta.date.as_deref(), Some("2021-06-30"));
    assert_eq!(doc.meta.kind, None);
}

#[test]
fn site_suffixes_come_off_titles_only_when_they_name_the_site() {
    assert_eq!(
        strip_site_suffix("Numbness | Mayo Clinic", Some("Mayo Clinic")),
        "Numbness"
    );
    assert_eq!(
        strip_site_suffix("Pros - Cons", Some("Mayo Clinic")),
        "Pros - Cons"
    );
    assert_eq!(iso_day("2023-05-04T10:00:00Z"), Some("2023-05-04"));
    assert_eq!(iso_day("May 4, 2023"), None);
}

/// Each block's first and last line, with its text pieces.
fn lines_and_texts(doc: &Document) -> Vec<(u32, u32, String)> {
    doc.sections
        .iter()
        .flat_map(|s| &s.blocks)
        .map(|block| {
            let lines = block.lines.expect("HTML blocks know their lines");
            (
                lines.first,
                lines.last,
                block.texts().collect::<Vec<_>>().join("/"),
            )
        })
        .collect()
}

#[test]
fn blocks_know_the_lines_their_text_stands_on() {
    let page = "<!doctype html>\n<html><head><title>T</title></head>\n<body><main>\n<p>one\ntwo\n</p>\n\
                <p>three <b>four</b>\nfive</p><ul>\n<li>a</li>\n<li>b\n</li></ul>\n<table>\n\
                <tr><td>x</td>\n<td>y</td></tr>\r\n<tr><td>z</td></tr></table>\n\
                <pre>\ncode 1\n  code 2\n</pre>\n<p>last &amp;\nend</p>\n</main></body></html>\n";
    let expected = [
        (4, 5, "one two"),
        (7, 8, "three four five"),
        (9, 10, "a/b"),
        (13, 14, "x | y"),
        (15, 15, "z"),
        (17, 18, "code 1\n  code 2"),
        (20, 21, "last & end"),
    ];
    let expected: Vec<_> = expected
        .map(|(first, last, text)| (first, last, text.to_string()))
        .into();
    assert_eq!(lines_and_texts(&read(page)), expected);
}

#[test]
fn markup_cut_or_flattened_before_parsing_keeps_the_lines_after_it() {
    let nav = "<nav>\n<ul>\n<li>Home</li>\n</ul>\n</nav>";
    let page = format!("<body>{nav}\n<main><p>after the menu</p>\n<p>and more</p></main>");
    assert_eq!(
        lines_and_texts(&read(&page)),
        [
            (6, 6, "after the menu".to_string()),
            (7, 7, "and more".to_string())
        ]
    );
    // A tag spread over lines, removed for depth.
    let deep = "<div>".repeat(MAX_PARSE_DEPTH) + "<span\nclass='x'\n>deep</span>\n<p>below";
    let doc = read(&deep);
    assert_eq!(doc.warnings.len(), 1);
    assert_eq!(
        lines_and_texts(&doc),
        [(3, 3, "deep".to_string()), (4, 4, "below".to_string())]
    );
}

#[test]
fn an_h1_that_only_the_lenient_reading_sees_names_an_untitled_page() {
    // Read strictly, the h1 and the prose are sidebars; read again without class words, the
    // h1 names the page rather than being lost as a heading that repeats no title.
    let prose = "Prose that a wrapper named after its sidebar holds. ".repeat(20);
    let page = format!(
        "<html><body><h1><div class=\"sidebar\">Page Name</div></h1>\
         <div class=\"content-with-sidebar\"><p>{prose}</p></div></body></html>"
    );
    let doc = read(&page);
    assert_eq!(doc.meta.title, "Page Name");
    assert_eq!(paths(&doc), [""]);
}
