//! From a text file's bytes to text. A byte-order mark settles the encoding (UTF-8, UTF-16).
//! Without one, text that is valid UTF-8 is UTF-8. Other text is in a legacy encoding: the one an
//! HTML page declares (`<meta charset>`, `http-equiv`, an XML declaration), else the one chardetng
//! (Firefox's detector) finds likeliest, such as Windows-1252 for Latin-1 pages, with a warning.
//! Text that is UTF-8 but for a few bad bytes (more valid multi-byte characters than invalid
//! sequences) stays UTF-8, the bad bytes replaced, with a warning: read as a legacy encoding, all
//! its good characters would turn into mojibake to save a few bad ones.

use chardetng::{EncodingDetector, Iso2022JpDetection, Utf8Detection};
use encoding_rs::{Encoding, UTF_8, WINDOWS_1252, X_USER_DEFINED};

use super::ReadError;

/// How far into a page a declaration of its encoding counts, as in browsers.
const DECLARATION_WINDOW: usize = 1024;

/// Text decoded from bytes, with a warning when it is not exactly what the file holds.
pub(super) type Decoded = (String, Option<String>);

/// Decodes a text file's bytes; `markup` says whether it is HTML (or XHTML), whose declaration of
/// its encoding is honoured.
pub(super) fn decode(bytes: &[u8], markup: bool) -> Result<Decoded, ReadError> {
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return Ok(decode_utf8(rest));
    }
    let utf16 = |rest: &[u8], from: fn([u8; 2]) -> u16| {
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|pair| from([pair[0], pair[1]]))
            .collect();
        let text = String::from_utf16_lossy(&units);
        let warning = (text.contains('\u{FFFD}') || rest.len() % 2 == 1)
            .then(|| "invalid UTF-16 replaced with U+FFFD".to_string());
        (text, warning)
    };
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        return Ok(utf16(rest, u16::from_le_bytes));
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        return Ok(utf16(rest, u16::from_be_bytes));
    }
    if bytes.contains(&0) {
        return Err(ReadError::Binary);
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok((text.to_string(), None));
    }
    if let Some(declared) = markup.then(|| declared_encoding(bytes)).flatten()
        && declared != UTF_8
    {
        return Ok((declared.decode_without_bom_handling(bytes).0.into_owned(), None));
    }
    if mostly_utf8(bytes) {
        return Ok(decode_utf8(bytes));
    }
    let mut detector = EncodingDetector::new(Iso2022JpDetection::Deny);
    detector.feed(bytes, true);
    let detected = detector.guess(None, Utf8Detection::Deny);
    let text = detected.decode_without_bom_handling(bytes).0.into_owned();
    let warning = format!("not UTF-8; read as {}, the likeliest encoding", detected.name());
    Ok((text, Some(warning)))
}

/// UTF-8, invalid bytes replaced with U+FFFD and a warning saying where the first one was.
fn decode_utf8(bytes: &[u8]) -> Decoded {
    match std::str::from_utf8(bytes) {
        Ok(text) => (text.to_string(), None),
        Err(error) => (
            String::from_utf8_lossy(bytes).into_owned(),
            Some(format!(
                "invalid UTF-8 at byte {}, decoded lossily",
                error.valid_up_to()
            )),
        ),
    }
}

/// Whether invalid UTF-8 is still mostly UTF-8: it has valid multi-byte characters, at least as
/// many as invalid sequences. Legacy text seldom forms a valid multi-byte character by chance.
fn mostly_utf8(bytes: &[u8]) -> bool {
    let (mut valid, mut invalid) = (0usize, 0usize);
    for chunk in bytes.utf8_chunks() {
        valid += chunk.valid().chars().filter(|c| !c.is_ascii()).count();
        invalid += usize::from(!chunk.invalid().is_empty());
    }
    valid > 0 && valid >= invalid
}

/// The encoding that the start of a page declares: a `charset` in a `<meta>` tag (on its own or
/// in an `http-equiv` content value) or the `encoding` of an XML declaration. As in browsers, a
/// declared UTF-16 means UTF-8 (the bytes have no byte-order mark) and x-user-defined means
/// Windows-1252.
fn declared_encoding(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = bytes[..bytes.len().min(DECLARATION_WINDOW)].to_ascii_lowercase();
    let label = if head.starts_with(b"<?xml") {
        let declaration = &head[..find(&head, b"?>", 0).unwrap_or(head.len())];
        attribute_value(declaration, b"encoding")
    } else {
        let mut from = 0;
        let mut label = None;
        while label.is_none()
            && let Some(start) = find(&head, b"<meta", from)
        {
            let end = find(&head, b">", start).unwrap_or(head.len());
            label = attribute_value(&head[start..end], b"charset");
            from = end;
        }
        label
    }?;
    let encoding = Encoding::for_label(label)?;
    Some(if encoding == X_USER_DEFINED {
        WINDOWS_1252
    } else {
        encoding.output_encoding()
    })
}

/// The value after the first `name=` in a lowercase tag, unquoted.
fn attribute_value<'a>(tag: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    let mut from = 0;
    while let Some(at) = find(tag, name, from) {
        from = at + name.len();
        let rest = tag[from..].trim_ascii_start();
        let Some(value) = rest.strip_prefix(b"=") else {
            continue;
        };
        let value = value.trim_ascii_start();
        let value = value
            .strip_prefix(b"\"")
            .or_else(|| value.strip_prefix(b"'"))
            .unwrap_or(value);
        let end = value
            .iter()
            .position(|&b| matches!(b, b'"' | b'\'' | b';' | b'>' | b'/') || b.is_ascii_whitespace())
            .unwrap_or(value.len());
        return Some(&value[..end]).filter(|value| !value.is_empty());
    }
    None
}

/// Where `needle` first stands in `haystack` at or after `from`.
fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|window| window == needle)
        .map(|at| from + at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use encoding_rs::{SHIFT_JIS, WINDOWS_1251};

    /// `text` in `encoding`, as a legacy file would hold it.
    fn encode(text: &str, encoding: &'static Encoding) -> Vec<u8> {
        let (bytes, _, unmappable) = encoding.encode(text);
        assert!(!unmappable, "{text:?} fits {}", encoding.name());
        bytes.into_owned()
    }

    #[test]
    fn byte_order_marks_and_nul_bytes_decide_first() {
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend("Título".encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(decode(&bytes, false).unwrap(), ("Título".to_string(), None));
        let mut bytes = vec![0xEF, 0xBB, 0xBF];
        bytes.extend("Título".bytes());
        assert_eq!(decode(&bytes, true).unwrap(), ("Título".to_string(), None));
        assert_eq!(decode(b"a\0b", false), Err(ReadError::Binary));
    }

    #[test]
    fn latin1_text_without_a_declaration_is_detected() {
        let text = "Le café au lait est prêt. Où est la crème brûlée ? Déjà mangée, hélas.\n";
        let (decoded, warning) = decode(&encode(text, WINDOWS_1252), false).unwrap();
        assert_eq!(decoded, text);
        assert_eq!(
            warning.as_deref(),
            Some("not UTF-8; read as windows-1252, the likeliest encoding")
        );
        let text = "Съешь же ещё этих мягких французских булок, да выпей чаю. ".repeat(3);
        assert_eq!(decode(&encode(&text, WINDOWS_1251), false).unwrap().0, text);
        let text = "日本語の文章は、かなと漢字で書かれている。これは試験の文です。".repeat(2);
        assert_eq!(decode(&encode(&text, SHIFT_JIS), false).unwrap().0, text);
    }

    #[test]
    fn a_page_declaring_its_encoding_is_read_in_it() {
        let body = "<p>Ёлка: €5, «ёж»</p>";
        for head in [
            "<meta charset=windows-1251>",
            "<META CHARSET = 'cp1251' />",
            "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1251\">",
        ] {
            let page = format!("<html><head>{head}</head><body>{body}</body></html>");
            assert_eq!(
                decode(&encode(&page, WINDOWS_1251), true).unwrap(),
                (page.clone(), None),
                "{head}"
            );
        }
        let page = "<?xml version='1.0' encoding='ISO-8859-1'?><html><p>Señor</p></html>";
        assert_eq!(decode(&encode(page, WINDOWS_1252), true).unwrap().0, page);
        // Only HTML declares: the same bytes in a text file are detected.
        let page = "<meta charset=windows-1251><p>€5</p>";
        assert_ne!(decode(&encode(page, WINDOWS_1251), false).unwrap().0, page);
    }

    #[test]
    fn valid_utf8_wins_over_a_wrong_declaration() {
        let page = "<meta charset=iso-8859-1><p>naïve café</p>";
        assert_eq!(decode(page.as_bytes(), true).unwrap(), (page.to_string(), None));
    }

    #[test]
    fn utf8_with_a_few_bad_bytes_stays_utf8_with_a_warning() {
        let mut bytes = "Café – crème\n".as_bytes().to_vec();
        bytes.extend(b"one stray \xE9 byte\n");
        let (text, warning) = decode(&bytes, false).unwrap();
        assert_eq!(text, "Café – crème\none stray \u{FFFD} byte\n");
        assert_eq!(
            warning.as_deref(),
            Some("invalid UTF-8 at byte 27, decoded lossily")
        );
        // A page that declares UTF-8 and is mostly Latin-1 is read as Latin-1.
        let page = b"<meta charset=utf-8><p>caf\xE9 cr\xE8me br\xFBl\xE9e</p>";
        assert_eq!(
            decode(page, true).unwrap().0,
            "<meta charset=utf-8><p>café crème brûlée</p>"
        );
    }
}
