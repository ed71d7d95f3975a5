//! Hostile files, made by small generators: PDFs whose outline loops, whose drawings recurse,
//! whose streams are decompression bombs; a YAML alias bomb; compressed files; a reference list
//! of 100,000 entries; and all of them beside the bundled corpus in one build.

use std::fs;
use std::io::{Read, Write};
use std::path::Path;

use citedex::formats::pdf::{self, Limits};
use citedex::formats::{self, Format};
use flate2::Compression;
use flate2::read::ZlibDecoder;
use flate2::write::GzEncoder;

use crate::util::{Sandbox, assert_stderr_has, bundled_corpus, copy_tree, stderr};

/// Writes bits least significant first, as deflate packs them.
#[derive(Default)]
struct Bits {
    bytes: Vec<u8>,
    used: u32,
}

impl Bits {
    fn push(&mut self, value: u32, count: u32) {
        for bit in 0..count {
            if self.used == 0 {
                self.bytes.push(0);
            }
            *self.bytes.last_mut().unwrap() |= (((value >> bit) & 1) as u8) << self.used;
            self.used = (self.used + 1) % 8;
        }
    }

    /// A Huffman code goes most significant bit first.
    fn code(&mut self, code: u32, length: u8) {
        for bit in (0..u32::from(length)).rev() {
            self.push(code >> bit, 1);
        }
    }
}

/// Lengths of a complete prefix code over `count` (at least 2) symbols.
fn complete_lengths(count: usize) -> Vec<u8> {
    let depth = count.next_power_of_two().trailing_zeros() as u8;
    let short = (1 << depth) - count;
    (0..count)
        .map(|i| if i < short { depth - 1 } else { depth })
        .collect()
}

/// Canonical codes for code lengths indexed by symbol (RFC 1951, 3.2.2).
fn canonical_codes(lengths: &[u8]) -> Vec<u32> {
    let mut next = [0u32; 17];
    let mut code = 0;
    for length in 1..16 {
        code = (code + lengths.iter().filter(|&&l| l == length - 1 && l > 0).count() as u32) << 1;
        next[usize::from(length)] = code;
    }
    lengths
        .iter()
        .map(|&length| {
            let code = next[usize::from(length)];
            next[usize::from(length)] += 1;
            code
        })
        .collect()
}

/// The deflate distance symbol, extra-bit count and extra value for `distance`.
fn distance_code(distance: usize) -> (usize, u32, u32) {
    let d = distance - 1;
    if d < 4 {
        return (d, 0, 0);
    }
    let top = usize::BITS - 1 - d.leading_zeros();
    let symbol = 2 * top as usize + ((d >> (top - 1)) & 1);
    (symbol, top - 1, (d & ((1 << (top - 1)) - 1)) as u32)
}

/// Raw deflate for `prefix`, `pattern` repeated to `repeated` bytes, and `suffix`: one dynamic
/// Huffman block where a copy of 258 bytes costs two or three bits, so a gigabyte takes about a
/// megabyte.
fn deflate_bomb(prefix: &[u8], pattern: &[u8], repeated: usize, suffix: &[u8]) -> Vec<u8> {
    const COPY: usize = 258;
    let mut literals: Vec<usize> = prefix
        .iter()
        .chain(pattern)
        .chain(suffix)
        .map(|&b| usize::from(b))
        .collect();
    literals.push(256);
    literals.sort_unstable();
    literals.dedup();
    let mut litlen = vec![0u8; 286];
    if literals.len() == 1 {
        litlen[literals[0]] = 1;
    } else {
        for (&symbol, length) in literals.iter().zip(complete_lengths(literals.len())) {
            litlen[symbol] = length + 1;
        }
    }
    litlen[285] = 1; // length 258
    let (distance, extra_bits, extra) = distance_code(pattern.len());
    let mut lengths = litlen.clone();
    lengths.extend(vec![0; distance]);
    lengths.push(1); // the one distance code
    // Code lengths as code-length symbols: nonzero ones as they are, runs of zeros with 18.
    let mut symbols: Vec<(usize, u32)> = Vec::new();
    let mut i = 0;
    while i < lengths.len() {
        let zeros = lengths[i..].iter().take_while(|&&l| l == 0).count().min(138);
        if zeros >= 11 {
            symbols.push((18, (zeros - 11) as u32));
            i += zeros;
        } else {
            symbols.push((usize::from(lengths[i]), 0));
            i += 1;
        }
    }
    let mut used: Vec<usize> = symbols.iter().map(|&(s, _)| s).collect();
    used.sort_unstable();
    used.dedup();
    let mut code_lengths = [0u8; 19];
    for (&symbol, length) in used.iter().zip(complete_lengths(used.len())) {
        code_lengths[symbol] = length;
    }
    const ORDER: [usize; 19] = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];
    let hclen = ORDER.iter().rposition(|&s| code_lengths[s] > 0).unwrap() + 1;
    let mut bits = Bits::default();
    bits.push(1, 1); // final block
    bits.push(2, 2); // dynamic Huffman codes
    bits.push(286 - 257, 5);
    bits.push(distance as u32, 5);
    bits.push((hclen.max(4) - 4) as u32, 4);
    for &symbol in &ORDER[..hclen.max(4)] {
        bits.push(u32::from(code_lengths[symbol]), 3);
    }
    let length_codes = canonical_codes(&code_lengths);
    for &(symbol, extra) in &symbols {
        bits.code(length_codes[symbol], code_lengths[symbol]);
        if symbol == 18 {
            bits.push(extra, 7);
        }
    }
    let codes = canonical_codes(&litlen);
    let literal = |bits: &mut Bits, byte: u8| bits.code(codes[usize::from(byte)], litlen[usize::from(byte)]);
    let first = pattern.len().min(repeated);
    for &byte in prefix.iter().chain(&pattern[..first]) {
        literal(&mut bits, byte);
    }
    let copies = (repeated - first) / COPY;
    for _ in 0..copies {
        bits.code(0, 1); // length 258 is the code '0'
        bits.code(0, 1); // the one distance
        bits.push(extra, extra_bits);
    }
    for i in first + copies * COPY..repeated {
        literal(&mut bits, pattern[i % pattern.len()]);
    }
    for &byte in suffix {
        literal(&mut bits, byte);
    }
    bits.code(codes[256], litlen[256]);
    bits.bytes
}

/// [`deflate_bomb`] in a zlib wrapper, with its Adler-32 (the repeated part in closed form).
fn zlib_bomb(prefix: &[u8], pattern: &[u8], repeated: usize, suffix: &[u8]) -> Vec<u8> {
    const MOD: u128 = 65521;
    let (mut a, mut b) = (1u128, 0u128);
    let feed = |bytes: &[u8], a: &mut u128, b: &mut u128| {
        for &byte in bytes {
            *a = (*a + u128::from(byte)) % MOD;
            *b = (*b + *a) % MOD;
        }
    };
    feed(prefix, &mut a, &mut b);
    // Over k periods of length L, sum S and weighted sum W (each byte times the steps it counts
    // in b), a grows by k*S and b by k*(L*a + W) + L*S*k*(k-1)/2.
    let (length, periods) = (pattern.len() as u128, (repeated / pattern.len()) as u128);
    let sum: u128 = pattern.iter().map(|&byte| u128::from(byte)).sum();
    let weighted: u128 = (0..pattern.len())
        .map(|i| (length - i as u128) * u128::from(pattern[i]))
        .sum();
    b = (b + periods * (length * a + weighted) + length * sum * periods * periods.saturating_sub(1) / 2)
        % MOD;
    a = (a + periods * sum) % MOD;
    feed(&pattern[..repeated % pattern.len()], &mut a, &mut b);
    feed(suffix, &mut a, &mut b);
    let mut zlib = vec![0x78, 0x01];
    zlib.extend(deflate_bomb(prefix, pattern, repeated, suffix));
    zlib.extend((((b << 16) | a) as u32).to_be_bytes());
    zlib
}

/// [`deflate_bomb`] as a gzip file. Its CRC is left zero: a reader that stops at its cap never
/// gets that far.
fn gzip_bomb(pattern: &[u8], repeated: usize) -> Vec<u8> {
    let mut gzip = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    gzip.extend(deflate_bomb(b"", pattern, repeated, b""));
    gzip.extend(0u32.to_le_bytes());
    gzip.extend((repeated as u32).to_le_bytes());
    gzip
}

/// A PDF of the given objects, numbered from 1 (object 1 is the catalog), with a classic
/// cross-reference table.
fn pdf(objects: &[Vec<u8>]) -> Vec<u8> {
    let mut file = b"%PDF-1.5\n".to_vec();
    let mut offsets = Vec::new();
    for (index, body) in objects.iter().enumerate() {
        offsets.push(file.len());
        file.extend(format!("{} 0 obj\n", index + 1).as_bytes());
        file.extend(body);
        file.extend(b"\nendobj\n");
    }
    let table = file.len();
    file.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for offset in offsets {
        file.extend(format!("{offset:010} 00000 n \n").as_bytes());
    }
    file.extend(
        format!(
            "trailer\n<</Size {} /Root 1 0 R>>\nstartxref\n{table}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    file
}

fn stream(dictionary: &str, data: &[u8]) -> Vec<u8> {
    let mut object = format!("<<{dictionary} /Length {}>>\nstream\n", data.len()).into_bytes();
    object.extend(data);
    object.extend(b"\nendstream");
    object
}

/// A one-page PDF in Helvetica: catalog (1), pages (2), page (3), font (4), content (5), then
/// `extra` objects from 6 on; the strings add to the catalog and the page's resources.
fn page_pdf(catalog: &str, resources: &str, content: Vec<u8>, extra: Vec<Vec<u8>>) -> Vec<u8> {
    let mut objects = vec![
        format!("<</Type/Catalog/Pages 2 0 R{catalog}>>").into_bytes(),
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>".to_vec(),
        format!(
            "<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]/Resources<</Font<</F1 4 0 R>>{resources}>>/Contents 5 0 R>>"
        )
        .into_bytes(),
        b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>".to_vec(),
        content,
    ];
    objects.extend(extra);
    pdf(&objects)
}

fn text_page(lines: &[&str]) -> Vec<u8> {
    let mut content = String::from("BT /F1 12 Tf 72 720 Td");
    for line in lines {
        content.push_str(&format!(" ({line}) Tj 0 -20 Td"));
    }
    content.push_str(" ET");
    stream("", content.as_bytes())
}

/// Issue 13 #2: the outline item's `/First` and `/Next` point at itself.
fn looping_outline_pdf() -> Vec<u8> {
    page_pdf(
        "/Outlines 6 0 R",
        "",
        text_page(&["Loop", "The looping outline passage about herons."]),
        vec![
            b"<</Type/Outlines/First 7 0 R/Last 7 0 R/Count 1>>".to_vec(),
            b"<</Title(Loop)/Parent 6 0 R/First 7 0 R/Next 7 0 R/Dest[3 0 R/Fit]>>".to_vec(),
        ],
    )
}

/// A form XObject that draws itself: the text extractor recurses until its stack is gone.
fn recursive_form_pdf() -> Vec<u8> {
    page_pdf(
        "",
        "/XObject<</X0 6 0 R>>",
        stream("", b"/X0 Do"),
        vec![stream(
            "/Type/XObject/Subtype/Form/BBox[0 0 612 792]/Resources<</XObject<</X0 6 0 R>>>>",
            b"/X0 Do",
        )],
    )
}

/// Issue 13 #4: a page whose content stream inflates to 1 GiB of zeros.
fn deflate_bomb_pdf() -> Vec<u8> {
    let bomb = zlib_bomb(b"", b"\0", 1 << 30, b"");
    page_pdf("", "", stream("/Filter/FlateDecode", &bomb), vec![])
}

/// Issue 13 #4: a page whose content stream inflates to 256 MiB of text operators.
fn operator_bomb_pdf() -> Vec<u8> {
    let bomb = zlib_bomb(b"BT /F1 12 Tf 72 700 Td ", b"(A) Tj ", 256 << 20, b" ET");
    page_pdf("", "", stream("/Filter/FlateDecode", &bomb), vec![])
}

/// An object stream (expanded while the file loads) that inflates to 1 GiB.
fn object_stream_bomb_pdf() -> Vec<u8> {
    let bomb = zlib_bomb(b"9 0 <</Hidden true>>", b" ", 1 << 30, b"");
    page_pdf(
        "",
        "",
        text_page(&["Fine"]),
        vec![stream("/Type/ObjStm/N 1/First 4/Filter/FlateDecode", &bomb)],
    )
}

/// A page that draws a form of `form_bytes` letters `draws` times.
fn repeated_drawing_pdf(form_bytes: usize, draws: usize) -> Vec<u8> {
    let form = format!("BT /F1 1 Tf ({}) Tj ET", "A".repeat(form_bytes));
    page_pdf(
        "",
        "/XObject<</X0 6 0 R>>",
        stream("", "/X0 Do\n".repeat(draws).as_bytes()),
        vec![stream(
            "/Type/XObject/Subtype/Form/BBox[0 0 612 792]/Resources<</Font<</F1 4 0 R>>>>",
            form.as_bytes(),
        )],
    )
}

/// Issue 13 #3: anchors a..j, each a list of nine aliases of the one before.
fn alias_bomb_markdown() -> String {
    let mut yaml = String::from("---\na: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for (previous, name) in ('a'..='i').zip('b'..='j') {
        let aliases = vec![format!("*{previous}"); 9].join(", ");
        yaml.push_str(&format!("{name}: &{name} [{aliases}]\n"));
    }
    yaml + "title: Bomb\n---\n# Bomb\n\nThe alias bomb passage.\n"
}

/// Issue 13 #5: an article whose reference list has `entries` entries, each work named twice.
fn long_reference_list(entries: usize) -> String {
    let mut text = String::from("# Long List\n\nThe long list passage about storks.\n\n## References\n\n");
    for i in 0..entries {
        text.push_str(&format!(
            "- Study {} of wading birds. Bird Journal. 2020.\n",
            i / 2
        ));
    }
    text
}

/// Runs `index kb`, which must exit with 2 and say every one of `expected` on standard error.
fn index_with_errors(kb: &Sandbox, expected: &[&str]) {
    let output = kb.citedex(&["index", "kb"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    for needle in expected {
        assert_stderr_has(&output, needle);
    }
}

/// Asserts that each word's best passage comes from its file.
fn assert_found(kb: &Sandbox, words_and_paths: &[(&str, &str)]) {
    for &(word, path) in words_and_paths {
        assert_eq!(
            kb.search_json(word).results[0].passage.source.path,
            path,
            "{word}"
        );
    }
}

fn read_pdf(bytes: &[u8]) -> Result<citedex::document::Document, String> {
    formats::read(Format::Pdf, bytes, "fallback").map_err(|error| error.to_string())
}

#[test]
fn the_deflate_generator_makes_what_it_claims() {
    for (prefix, pattern, repeated, suffix) in [
        (&b""[..], &b"\0"[..], 5_000, &b""[..]),
        (b"BT ", b"(A) Tj ", 100_003, b" ET"),
        (b"x", b"0123456789", 9, b"y"),
    ] {
        let mut inflated = Vec::new();
        ZlibDecoder::new(zlib_bomb(prefix, pattern, repeated, suffix).as_slice())
            .read_to_end(&mut inflated)
            .unwrap();
        let mut expected = prefix.to_vec();
        expected.extend(pattern.iter().cycle().take(repeated));
        expected.extend(suffix);
        assert!(inflated == expected, "{pattern:?} x {repeated}");
    }
    assert!(zlib_bomb(b"", b"\0", 1 << 30, b"").len() < 1_100_000);
}

#[test]
fn a_looping_outline_is_read_once() {
    let document = read_pdf(&looping_outline_pdf()).unwrap();
    let paths: Vec<String> = document.sections.iter().map(|s| s.path.join(" > ")).collect();
    assert_eq!(paths, ["Loop"]);
    assert!(
        document.warnings.iter().any(|w| w.contains("loops back")),
        "{:?}",
        document.warnings
    );
}

#[test]
fn pdf_decompression_bombs_are_refused() {
    for (name, bytes) in [
        ("deflate bomb", deflate_bomb_pdf()),
        ("operator bomb", operator_bomb_pdf()),
        ("object stream bomb", object_stream_bomb_pdf()),
    ] {
        let error = read_pdf(&bytes).unwrap_err();
        assert!(
            error.contains("compressed data expands to more than 64 MiB in one stream"),
            "{name}: {error}"
        );
    }
}

#[test]
fn text_past_the_cap_is_refused() {
    let bytes = repeated_drawing_pdf(4096, 32);
    let limits = |text_bytes| Limits {
        text_bytes,
        ..Limits::default()
    };
    let error = pdf::read_with_limits(&bytes, limits(64 * 1024)).unwrap_err();
    assert!(error.to_string().contains("more than 0 MiB of text"), "{error}");
    let document = pdf::read_with_limits(&bytes, limits(256 * 1024)).unwrap();
    // One line of text, so the title takes it all.
    let letters: usize = std::iter::once(document.meta.title.as_str())
        .chain(
            document
                .sections
                .iter()
                .flat_map(|s| &s.blocks)
                .flat_map(|b| b.texts()),
        )
        .map(|t| t.matches('A').count())
        .sum();
    assert_eq!(letters, 4096 * 32);
}

#[test]
fn a_reader_that_overflows_its_stack_costs_one_file() {
    let kb = Sandbox::new();
    kb.write("kb/good.md", "# Good\n\nThe healthy passage about swans.\n");
    kb.write_bytes("kb/recursive.pdf", &recursive_form_pdf())
        .write_bytes("kb/loop.pdf", &looping_outline_pdf());
    index_with_errors(
        &kb,
        &[
            "skipping kb/recursive.pdf: the Pdf reader failed on this file (stack overflow)",
            "indexed 2 documents",
        ],
    );
    assert_found(&kb, &[("swans", "kb/good.md"), ("herons", "kb/loop.pdf")]);
}

fn gzip(text: &str) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(text.as_bytes()).unwrap();
    encoder.finish().unwrap()
}

#[test]
fn compressed_files_are_read_as_what_they_hold() {
    let kb = Sandbox::new();
    let files = [
        (
            "kb/notes.md.gz",
            gzip("# Notes\n\nThe compressed passage about ibises.\n"),
        ),
        (
            "kb/page.html.gz",
            gzip(
                "<html><body><main><h1>Page</h1><p>The compressed passage about egrets.</p></main></body></html>",
            ),
        ),
        (
            "kb/plain.TXT.gz",
            gzip("Plain\n\nThe compressed passage about cranes.\n"),
        ),
        ("kb/archive.tar.gz", gzip("not a document")),
        ("kb/bomb.md.gz", gzip_bomb(b"bomb ", 1 << 30)),
        ("kb/broken.md.gz", b"\x1f\x8b\x08\x00garbage".to_vec()),
    ];
    for (path, bytes) in files {
        kb.write_bytes(path, &bytes);
    }
    index_with_errors(
        &kb,
        &[
            "skipping kb/bomb.md.gz: decompresses to more than 64 MiB",
            "skipping kb/broken.md.gz: gzip:",
            "indexed 3 documents",
            "1 file of unsupported types ignored",
        ],
    );
    for (word, path, title) in [
        ("ibises", "kb/notes.md.gz", "Notes"),
        ("egrets", "kb/page.html.gz", "Page"),
        ("cranes", "kb/plain.TXT.gz", "Plain"),
    ] {
        let hit = &kb.search_json(word).results[0].passage;
        assert_eq!(
            (hit.source.path.as_str(), hit.source.title.as_str()),
            (path, title)
        );
    }
}

/// Issue 13's acceptance corpus: the bundled corpus in `bundled/`, every hostile file in
/// `hostile/`.
fn write_hostile_corpus(root: &Path) {
    copy_tree(&bundled_corpus(), &root.join("bundled"));
    let hostile: Vec<(&str, Vec<u8>)> = vec![
        ("looping-outline.pdf", looping_outline_pdf()),
        ("recursive-form.pdf", recursive_form_pdf()),
        ("deflate-bomb.pdf", deflate_bomb_pdf()),
        ("operator-bomb.pdf", operator_bomb_pdf()),
        ("truncated.pdf", looping_outline_pdf()[..400].to_vec()),
        ("alias-bomb.md", alias_bomb_markdown().into_bytes()),
        ("long-list.md", long_reference_list(100_000).into_bytes()),
        (
            "deep.html",
            format!(
                "<html><body>{}<p>The deep passage about otters.</p>{}</body></html>",
                "<div>".repeat(50_000),
                "</div>".repeat(50_000)
            )
            .into_bytes(),
        ),
    ];
    fs::create_dir_all(root.join("hostile")).unwrap();
    for (name, bytes) in hostile {
        fs::write(root.join("hostile").join(name), bytes).unwrap();
    }
}

/// Writes the acceptance corpus to the folder `CITEDEX_HOSTILE_CORPUS` names, for the measured
/// run of `bench/hostile.sh`; without the variable it does nothing.
#[test]
fn write_the_hostile_corpus_for_the_benchmark() {
    if let Some(folder) = std::env::var_os("CITEDEX_HOSTILE_CORPUS") {
        write_hostile_corpus(Path::new(&folder));
    }
}

/// Issue 13's acceptance check, in a debug build and without the memory limit (the measured run
/// under `ulimit -v`, with a release build, is `bench/hostile.sh`).
#[test]
fn a_hostile_corpus_beside_the_bundled_one_is_indexed() {
    let kb = Sandbox::new();
    write_hostile_corpus(&kb.path("kb"));
    index_with_errors(
        &kb,
        &[
            "kb/hostile/looping-outline.pdf: the outline (bookmarks) loops back on itself",
            "skipping kb/hostile/recursive-form.pdf: the Pdf reader failed on this file (stack overflow)",
            "skipping kb/hostile/deflate-bomb.pdf: unreadable PDF: compressed data expands",
            "skipping kb/hostile/operator-bomb.pdf: unreadable PDF: compressed data expands",
            "skipping kb/hostile/truncated.pdf: unreadable PDF",
            "skipping kb/hostile/alias-bomb.md: front matter: YAML aliases (*name) are not allowed",
            "kb/hostile/deep.html: markup nested deeper than 1000 levels read as plain text",
            "; 5 files skipped (see above)",
        ],
    );
    assert_found(
        &kb,
        &[
            ("herons", "kb/hostile/looping-outline.pdf"),
            ("storks", "kb/hostile/long-list.md"),
            ("otters", "kb/hostile/deep.html"),
            (
                "numbness below the knees diabetes",
                "kb/bundled/articles/what-causes-numbness-in-the-legs.md",
            ),
        ],
    );
}
