//! Tests of the roff rules one at a time; whole pages are snapshot fixtures
//! (`tests/fixtures/man`).

use super::roff::Definitions;
use super::*;
use crate::document::{Content, contents};

/// The blocks of the page's only section, without lines.
fn blocks(page: &str) -> Vec<Content> {
    let doc = read(page);
    assert_eq!(doc.sections.len(), 1, "{:?}", doc.sections);
    contents(&doc.sections[0].blocks)
}

fn paragraph(text: &str) -> Content {
    Content::Paragraph(text.to_string())
}

#[test]
fn escapes_drop_fonts_and_sizes_and_spell_out_characters() {
    let definitions = Definitions::default();
    let expand = |text: &str| definitions.expand(text);
    assert_eq!(
        expand(r"\fBbold\fR, \f(CWcode\fP and \f[I]italic\f[]"),
        "bold, code and italic"
    );
    assert_eq!(expand(r"\s-1GNU\s0 \s+2big\s0 \s(12x\s[10]y"), "GNU big xy");
    assert_eq!(
        expand(r"a\(em b \[en] \(lqq\(rq \- \e \(co \[u00E9]\[char233] \N'233'"),
        "a— b – “q” - \\ © éé é"
    );
    assert_eq!(expand(r"x\h'2n'y\w'abc'z\&.\|\^ \*(Tm\*R"), "xyz. ™®");
}

#[test]
fn strings_registers_and_conditions_follow_nroff_on_a_terminal() {
    let page = ".ie n .ds Q \\(dq\n.el .ds Q ``\n.nr F 2\n.if \\nF>1 .ds big yes\n.if t \\{\\\n.ds Q never\n.if n \\{ never \\}\n\\}\n.if !'a'b' \\{\\\n.ds cmp differ\n.\\}\n.de XX\ntext of a macro\n..\n.SH S\n\\*Qquoted\\*Q \\*[big] \\*[cmp] \\*(no\n";
    assert_eq!(blocks(page), [paragraph("\"quoted\" yes differ")]);
    let definitions = Definitions::default();
    assert_eq!(definitions.evaluate("(1+2)*3>8"), 1);
    assert_eq!(definitions.evaluate("\\n(.g=1&(1m=24u)"), 0);
    assert_eq!(definitions.condition("\\n[.g] rest"), (true, "rest"));
    assert_eq!(definitions.condition("!dQ rest"), (true, "rest"));
}

#[test]
fn tags_are_paragraphs_and_bullets_make_lists() {
    let page = ".TH T 1\n.SH OPTIONS\n.TP\n.BR \\-v , \" \\-\\-verbose\"\nSay more.\n.IP \\(bu 2\nfirst\n.IP \\(bu\nsecond\nitem\n.IP 3.\nthird\n.PP\nAfter.\n.IP \"\\fB\\-q\\fR\" 4\nSay less.\n";
    assert_eq!(
        blocks(page),
        [
            paragraph("-v, --verbose"),
            paragraph("Say more."),
            Content::List(vec!["first".into(), "second item".into(), "third".into()]),
            paragraph("After."),
            paragraph("-q"),
            paragraph("Say less."),
        ]
    );
}

#[test]
fn displays_keep_lines_and_tables_give_a_paragraph_a_row() {
    let page = ".SH EXAMPLE\nRun:\n.nf\n  walk \\-\\-far\n\n  rest\n.fi\n.TS\ntab(:);\nl l.\nName:Use\n_\nwalk:T{\nmoves\n.B you\nT}:extra\n.TE\n";
    assert_eq!(
        blocks(page),
        [
            paragraph("Run:"),
            Content::Preformatted("  walk --far\n\n  rest".into()),
            paragraph("Name | Use"),
            paragraph("walk | moves you | extra"),
        ]
    );
}

#[test]
fn continued_and_glued_lines_join() {
    let page = ".SH S\none \\\ntwo \\fBbo\\c\n.B ld\nthree\n";
    assert_eq!(blocks(page), [paragraph("one two bold three")]);
}

#[test]
fn mdoc_words_lose_their_macro_names() {
    let page = ".Dd March 3, 2024\n.Dt STRIDE 1\n.Os\n.Sh NAME\n.Nm stride\n.Nd count steps\n.Sh SYNOPSIS\n.Nm\n.Op Fl v\n.Op Fl Fl pace Ar n\n.Ar file ...\n.Sh SEE ALSO\n.Xr walk 1 ,\n.Dq quoted Ns !\n";
    let doc = read(page);
    assert_eq!(doc.meta.title, "STRIDE(1)");
    assert_eq!(doc.meta.date.as_deref(), Some("2024-03-03"));
    let texts: Vec<Vec<Content>> = doc.sections.iter().map(|s| contents(&s.blocks)).collect();
    assert_eq!(
        texts,
        [
            vec![paragraph("stride — count steps")],
            vec![paragraph("stride [-v] [--pace n] file ...")],
            vec![paragraph("walk(1), “quoted!”")],
        ]
    );
}

#[test]
fn a_page_that_only_includes_another_says_so() {
    let doc = read(".so man1/walk.1\n");
    assert!(doc.sections.is_empty());
    assert_eq!(
        doc.warnings,
        ["the page is in man1/walk.1, which is not read (.so)"]
    );
}
