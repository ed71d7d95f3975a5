//! Decoding a PDF's compressed streams under size caps, before the text extractor sees them: a
//! few hundred kilobytes of deflate or LZW can expand to gigabytes. Streams are decoded once,
//! here, and stored plain; image and attachment data, which text extraction never needs, is
//! dropped unread.

use std::io::{self, Read, Write};

use flate2::read::{DeflateDecoder, ZlibDecoder};
use pdf_extract::{Dictionary, Document as Pdf, Object, ObjectId, Stream};

/// Dictionary key that marks an object stream found too large while the file was loaded, so the
/// check after loading can refuse the file.
const OVERSIZED_MARK: &[u8] = b"CitedexOversized";

/// A stream's decoded size went past a cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooLarge;

/// What decoding one stream under a cap gave.
#[derive(Debug, PartialEq, Eq)]
pub enum Decoded {
    /// The stream has no filter citedex can decode; it is left as it is.
    Untouched,
    /// The decoded bytes, to store in place of the compressed ones.
    Plain(Vec<u8>),
    /// The stream decodes within the cap to this many bytes, but through a predictor the PDF
    /// library applies itself, so it is left compressed.
    Verified(usize),
}

/// Load filter for the PDF library: object streams are expanded while the file is loaded, before
/// any later check could see them, so each is decoded here under `stream_cap` first. One that is
/// too large is emptied and marked for [`check_marks`].
///
/// The library calls this with a file's top-level objects, whose returned copy it discards, and
/// with the objects inside each object stream, whose returned copy it keeps. Streams are never
/// inside object streams, so only non-streams need a faithful copy.
pub fn guard_object_streams(id: ObjectId, object: &mut Object) -> Option<(ObjectId, Object)> {
    let Object::Stream(stream) = object else {
        return Some((id, object.clone()));
    };
    if stream.dict.has_type(b"ObjStm") {
        match decode(stream, super::MAX_STREAM_BYTES) {
            Ok(Decoded::Plain(bytes)) => stream.set_plain_content(bytes),
            Ok(Decoded::Untouched | Decoded::Verified(_)) => {}
            Err(TooLarge) => {
                stream.dict = Dictionary::from_iter([(OVERSIZED_MARK.to_vec(), Object::Boolean(true))]);
                stream.set_plain_content(Vec::new());
            }
        }
    }
    Some((id, Object::Null))
}

/// Whether loading met an object stream over the cap ([`guard_object_streams`]).
pub fn check_marks(pdf: &Pdf) -> Result<(), TooLarge> {
    let marked = pdf
        .objects
        .values()
        .any(|object| matches!(object, Object::Stream(stream) if stream.dict.has(OVERSIZED_MARK)));
    if marked { Err(TooLarge) } else { Ok(()) }
}

/// Decodes every stream the text extractor may read, each within `stream_cap` bytes and all
/// together within `total_cap`, and empties the streams it never reads.
pub fn decode_all(pdf: &mut Pdf, stream_cap: usize, total_cap: usize) -> Result<(), TooLarge> {
    let mut total = 0usize;
    for object in pdf.objects.values_mut() {
        let Object::Stream(stream) = object else {
            continue;
        };
        if never_read_for_text(&stream.dict) {
            stream.set_plain_content(Vec::new());
            continue;
        }
        let size = match decode(stream, stream_cap)? {
            Decoded::Untouched => stream.content.len(),
            Decoded::Verified(size) => size,
            Decoded::Plain(bytes) => {
                let size = bytes.len();
                stream.set_plain_content(bytes);
                size
            }
        };
        total = total.saturating_add(size);
        if total > total_cap {
            return Err(TooLarge);
        }
    }
    Ok(())
}

/// Images, embedded files and XMP metadata hold no text the extractor reads (it would run an
/// image's pixels through its content parser when a page draws the image), and object and
/// cross-reference streams were used up by loading.
fn never_read_for_text(dict: &Dictionary) -> bool {
    let name = |key: &[u8]| dict.get(key).and_then(Object::as_name).ok();
    matches!(name(b"Subtype"), Some(b"Image"))
        || matches!(
            name(b"Type"),
            Some(b"EmbeddedFile" | b"Metadata" | b"ObjStm" | b"XRef")
        )
}

/// Decodes `stream` through its filters, failing as soon as any stage passes `cap` bytes.
/// The filters are those the PDF library decodes (FlateDecode, LZWDecode, ASCII85Decode); a
/// chain holding any other filter is one the library cannot decode either, and stays untouched.
pub fn decode(stream: &Stream, cap: usize) -> Result<Decoded, TooLarge> {
    let Ok(filters) = stream.filters() else {
        return Ok(Decoded::Untouched);
    };
    if filters.is_empty()
        || !filters
            .iter()
            .all(|f| matches!(*f, b"FlateDecode" | b"LZWDecode" | b"ASCII85Decode"))
    {
        return Ok(Decoded::Untouched);
    }
    let params = stream.dict.get(b"DecodeParms").and_then(Object::as_dict).ok();
    let mut data = stream.content.clone();
    for filter in &filters {
        data = match *filter {
            b"FlateDecode" => inflate(&data, cap)?,
            b"LZWDecode" => unlzw(&data, early_change(params), cap)?,
            _ => ascii85(&data, cap)?,
        };
    }
    let predictor = params
        .and_then(|p| p.get(b"Predictor").and_then(Object::as_i64).ok())
        .is_some_and(|predictor| predictor > 1);
    Ok(if predictor {
        Decoded::Verified(data.len())
    } else {
        Decoded::Plain(data)
    })
}

/// Collects output until it would pass `cap` bytes, then refuses more.
struct CappedSink {
    bytes: Vec<u8>,
    cap: usize,
    overflowed: bool,
}

impl CappedSink {
    fn new(cap: usize) -> CappedSink {
        CappedSink {
            bytes: Vec::new(),
            cap,
            overflowed: false,
        }
    }

    fn finish(self) -> Result<Vec<u8>, TooLarge> {
        if self.overflowed {
            Err(TooLarge)
        } else {
            Ok(self.bytes)
        }
    }
}

impl Write for CappedSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.bytes.len() + buf.len() > self.cap {
            self.overflowed = true;
            return Err(io::Error::other("decoded size cap reached"));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Zlib data, or raw deflate after its two header bytes when the zlib wrapper is broken (as the
/// PDF library does); a stream cut short keeps what was decoded.
fn inflate(input: &[u8], cap: usize) -> Result<Vec<u8>, TooLarge> {
    let copy = |reader: &mut dyn Read| {
        let mut sink = CappedSink::new(cap);
        let complete = io::copy(reader, &mut sink).is_ok();
        (complete, sink)
    };
    let (complete, sink) = copy(&mut ZlibDecoder::new(input));
    if !complete && !sink.overflowed && sink.bytes.is_empty() && input.len() > 2 {
        return copy(&mut DeflateDecoder::new(&input[2..])).1.finish();
    }
    sink.finish()
}

fn early_change(params: Option<&Dictionary>) -> bool {
    params
        .and_then(|p| p.get(b"EarlyChange").and_then(Object::as_i64).ok())
        .is_none_or(|value| value != 0)
}

fn unlzw(input: &[u8], early_change: bool, cap: usize) -> Result<Vec<u8>, TooLarge> {
    use weezl::{BitOrder, decode::Decoder};
    // PDF's LZW starts with 9-bit codes: weezl counts the 8-bit literal size.
    let mut decoder = if early_change {
        Decoder::with_tiff_size_switch(BitOrder::Msb, 8)
    } else {
        Decoder::new(BitOrder::Msb, 8)
    };
    let mut sink = CappedSink::new(cap);
    // A corrupt stream keeps what was decoded before the error, as in the PDF library.
    let _ = decoder.into_stream(&mut sink).decode_all(input);
    sink.finish()
}

/// ASCII85 output is at most four times its input, so the PDF library decodes it and the cap
/// is checked after.
fn ascii85(input: &[u8], cap: usize) -> Result<Vec<u8>, TooLarge> {
    let mut dict = Dictionary::new();
    dict.set("Filter", Object::Name(b"ASCII85Decode".to_vec()));
    let decoded = Stream::new(dict, input.to_vec())
        .decompressed_content()
        .unwrap_or_default();
    if decoded.len() > cap {
        Err(TooLarge)
    } else {
        Ok(decoded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{Compression, write::ZlibEncoder};

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut encoder = ZlibEncoder::new(Vec::new(), Compression::fast());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    fn stream(filter: &str, content: Vec<u8>) -> Stream {
        let mut dict = Dictionary::new();
        dict.set("Filter", Object::Name(filter.as_bytes().to_vec()));
        Stream::new(dict, content)
    }

    #[test]
    fn deflate_is_decoded_within_the_cap_and_refused_past_it() {
        let zeros = zlib(&vec![0; 100_000]);
        assert_eq!(
            decode(&stream("FlateDecode", zeros.clone()), 100_000),
            Ok(Decoded::Plain(vec![0; 100_000]))
        );
        assert_eq!(decode(&stream("FlateDecode", zeros), 99_999), Err(TooLarge));
    }

    #[test]
    fn lzw_past_the_cap_is_refused() {
        let lzw = weezl::encode::Encoder::with_tiff_size_switch(weezl::BitOrder::Msb, 8)
            .encode(&vec![b'x'; 50_000])
            .unwrap();
        assert!(
            matches!(decode(&stream("LZWDecode", lzw.clone()), 50_000), Ok(Decoded::Plain(b)) if b.len() == 50_000)
        );
        assert_eq!(decode(&stream("LZWDecode", lzw), 10_000), Err(TooLarge));
    }

    #[test]
    fn chains_are_capped_at_every_stage_and_unknown_filters_left_alone() {
        let mut chained = stream("FlateDecode", Vec::new());
        chained.dict.set(
            "Filter",
            Object::Array(vec![
                Object::Name(b"FlateDecode".to_vec()),
                Object::Name(b"FlateDecode".to_vec()),
            ]),
        );
        chained.set_content(zlib(&zlib(&vec![7; 20_000])));
        assert_eq!(decode(&chained, 10_000), Err(TooLarge));
        assert_eq!(
            decode(&stream("DCTDecode", vec![1, 2, 3]), 1),
            Ok(Decoded::Untouched)
        );
    }

    #[test]
    fn images_are_emptied_and_the_total_is_capped() {
        let mut pdf = Pdf::with_version("1.5");
        let mut image = stream("FlateDecode", zlib(&vec![0; 10_000]));
        image.dict.set("Subtype", Object::Name(b"Image".to_vec()));
        let image = pdf.add_object(image);
        pdf.add_object(stream("FlateDecode", zlib(&vec![b'a'; 3_000])));
        pdf.add_object(stream("FlateDecode", zlib(&vec![b'b'; 3_000])));
        assert_eq!(decode_all(&mut pdf.clone(), 4_000, 5_000), Err(TooLarge));
        assert_eq!(decode_all(&mut pdf, 4_000, 6_000), Ok(()));
        assert!(
            pdf.get_object(image)
                .unwrap()
                .as_stream()
                .unwrap()
                .content
                .is_empty()
        );
    }
}
