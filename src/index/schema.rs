//! The one tantivy schema of a citedex index, its version, and the analyzer its text fields use.

use rustc_hash::FxHashMap;
use tantivy::Index;
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};

use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer, Token, TokenFilter,
    TokenStream, Tokenizer,
};

/// Bumped whenever fields, analyzers, chunking or the stored records change; an index records it,
/// and opening an index with another version asks for a rebuild.
pub const SCHEMA_VERSION: u32 = 9;

/// Name of the English analyzer: split on non-alphanumerics, lowercase, fold accents, stem.
const ENGLISH: &str = "citedex_en";
/// Words of this many bytes or more are not indexed.
const LONGEST_WORD_BYTES: usize = 40;

/// What an index entry is: the `entry` field's value on each kind of tantivy document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A passage: searched and shown.
    Passage,
    /// One document's record: metadata, hash, references and citation links.
    Document,
    /// One abbreviation learnt from the corpus.
    Abbreviation,
}

impl EntryKind {
    /// The value stored in the `entry` field.
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Passage => "passage",
            EntryKind::Document => "document",
            EntryKind::Abbreviation => "abbreviation",
        }
    }
}

/// Handles to every field of the schema.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    /// What the entry is ([`EntryKind`]); every tantivy document has one.
    pub entry: Field,
    /// A passage's document path, to find or delete all of its passages; also a fast field, to
    /// group passages by document without reading them.
    pub path: Field,
    /// The document's title, searchable and boosted.
    pub title: Field,
    /// One value per heading of the passage's section path, outermost first.
    pub section: Field,
    /// The passage text, stored for display; it is searched through `content`.
    pub body: Field,
    /// Title, heading path and passage text together: the main ranked field, not stored.
    pub content: Field,
    /// `article` or `source`.
    pub kind: Field,
    /// `body`, `references` or `authors`.
    pub role: Field,
    /// The document's publisher, searchable.
    pub publisher: Field,
    /// Publication date as `YYYY-MM-DD`.
    pub date: Field,
    /// The document's canonical address.
    pub url: Field,
    /// Position of the passage within its document; with `path`, the passage's identity. A fast
    /// field, which records and abbreviations fill too (0) so that it is full.
    pub ordinal: Field,
    /// How many passages of its document come after this one. A document's passages are added
    /// as one batch, so they sit side by side in one segment, in order: a passage's doc id plus
    /// this is its document's last passage, which names the document when scoring. A fast
    /// field, full like `ordinal`.
    pub passages_after: Field,
    /// A hash of the passage's document path, as a fast field: groups a document's passages
    /// across segments without reading strings, for ranking whole documents.
    pub document: Field,
    /// How many words the whole document has in `content` (over all its passages), as a fast
    /// field: the document length of BM25 over whole documents.
    pub document_words: Field,
    /// The page the passage stands on, for paged formats.
    pub page: Field,
    /// The first line of the source file the passage comes from, for text formats.
    pub line_start: Field,
    /// The last line of the source file the passage comes from.
    pub line_end: Field,
    /// A document record, serialized.
    pub record: Field,
    /// An abbreviation's short form in upper case, stored; found through `entry`, as records are.
    pub short_form: Field,
    /// An abbreviation's long form, lower-case words separated by single spaces, stored; found
    /// through `entry`.
    pub long_form: Field,
}

/// Builds the schema and its field handles.
pub fn build() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let english = TextOptions::default().set_stored().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(ENGLISH)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let english_unstored = TextOptions::default().set_indexing_options(
        english
            .get_indexing_options()
            .expect("indexing options were just set")
            .clone(),
    );
    let fields = Fields {
        entry: builder.add_text_field("entry", STRING),
        path: builder.add_text_field("path", STRING | STORED | FAST),
        title: builder.add_text_field("title", english.clone()),
        section: builder.add_text_field("section", english.clone()),
        body: builder.add_text_field("body", STORED),
        content: builder.add_text_field("content", english_unstored),
        kind: builder.add_text_field("kind", STRING | STORED),
        role: builder.add_text_field("role", STRING | STORED),
        publisher: builder.add_text_field("publisher", english),
        date: builder.add_text_field("date", STRING | STORED),
        url: builder.add_text_field("url", STORED),
        ordinal: builder.add_u64_field("ordinal", STORED | FAST),
        document: builder.add_u64_field("document", FAST),
        document_words: builder.add_u64_field("document_words", FAST),
        passages_after: builder.add_u64_field("passages_after", FAST),
        page: builder.add_u64_field("page", INDEXED | STORED),
        line_start: builder.add_u64_field("line_start", STORED),
        line_end: builder.add_u64_field("line_end", STORED),
        record: builder.add_bytes_field("record", STORED),
        short_form: builder.add_text_field("short_form", STORED),
        long_form: builder.add_text_field("long_form", STORED),
    };
    (builder.build(), fields)
}

/// Registers the analyzers the schema names; needed on every index created or opened.
pub fn register_analyzers(index: &Index) {
    index.tokenizers().register(
        ENGLISH,
        TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(RemoveLongFilter::limit(LONGEST_WORD_BYTES))
            .filter(LowerCaser)
            .filter(AsciiFoldingFilter)
            .filter(CachedStemmer::default())
            .build(),
    );
}

/// How many words the English analyzer indexes in `text`, without running it: the runs of
/// letters and digits its tokenizer splits the text into, less the over-long ones it drops.
pub fn count_words(text: &str) -> u64 {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty() && word.len() < LONGEST_WORD_BYTES)
        .count() as u64
}

/// The hash of a document path stored in the `document` field.
pub fn document_key(path: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(path.as_bytes())
}

/// Distinct words whose stems one analyzer remembers before it starts afresh.
const STEM_CACHE_WORDS: usize = 200_000;

/// English stemming with a cache of the words already stemmed: text repeats its words, and
/// stemming is a good part of indexing time. Each analyzer clone has its own cache. Porter's
/// algorithm, as Lucene's English analyzer uses, rather than its Snowball successor: it finds
/// more of the relevant documents on both public test collections (README, "Evaluating ranking").
#[derive(Clone, Default)]
struct CachedStemmer {
    cache: FxHashMap<String, String>,
}

impl TokenFilter for CachedStemmer {
    type Tokenizer<T: Tokenizer> = CachedStemmerFilter<T>;

    fn transform<T: Tokenizer>(self, inner: T) -> CachedStemmerFilter<T> {
        CachedStemmerFilter {
            cache: self.cache,
            inner,
        }
    }
}

/// The tokenizer stage that applies [`CachedStemmer`].
#[derive(Clone)]
struct CachedStemmerFilter<T> {
    cache: FxHashMap<String, String>,
    inner: T,
}

impl<T: Tokenizer> Tokenizer for CachedStemmerFilter<T> {
    type TokenStream<'a> = CachedStemmerStream<'a, T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        if self.cache.len() > STEM_CACHE_WORDS {
            self.cache.clear();
        }
        CachedStemmerStream {
            tail: self.inner.token_stream(text),
            cache: &mut self.cache,
            stemmer: frostem::Stemmer::new(frostem::Algorithm::Porter),
        }
    }
}

/// Tokens of the inner stream, stemmed.
struct CachedStemmerStream<'a, T> {
    tail: T,
    cache: &'a mut FxHashMap<String, String>,
    stemmer: frostem::Stemmer,
}

impl<T: TokenStream> TokenStream for CachedStemmerStream<'_, T> {
    fn advance(&mut self) -> bool {
        if !self.tail.advance() {
            return false;
        }
        let token = self.tail.token_mut();
        match self.cache.get(&token.text) {
            Some(stem) => {
                // Reuses the token's buffer: no allocation for a word seen before.
                token.text.clear();
                token.text.push_str(stem);
            }
            None => {
                let stem = self.stemmer.stem(&token.text).into_owned();
                let word = std::mem::replace(&mut token.text, stem.clone());
                self.cache.insert(word, stem);
            }
        }
        true
    }

    fn token(&self) -> &Token {
        self.tail.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.tail.token_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_counted_as_the_analyzer_indexes_them() {
        let (schema, fields) = build();
        let index = Index::create_in_ram(schema);
        register_analyzers(&index);
        let mut analyzer = index.tokenizer_for_field(fields.content).unwrap();
        let long = "x".repeat(LONGEST_WORD_BYTES);
        for text in [
            "Numbness, tingling — and pins-and-needles!",
            "café naïve 日本語 2,000 mg/dL",
            &format!("a {long} b {}", &long[1..]),
            "",
            "  \n\t ",
        ] {
            let mut indexed = 0;
            analyzer.token_stream(text).process(&mut |_| indexed += 1);
            assert_eq!(count_words(text), indexed, "{text:?}");
        }
    }
}
