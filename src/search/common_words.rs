//! Very common English words, for the typo fallback: a common word typed is a word, not a typo,
//! and a correction never turns a word into one of these ("willis" is not a misspelt "will").
//! Our own list of function words and everyday verbs, nouns, adjectives and adverbs.

/// The words, lower case, separated by white space.
const WORDS: &str = "
a about above across after again against all almost along already also although always am among
an and another any anyone anything are around as ask at away back be became because become been
before began begin being below best better between big both bring but by call came can cannot
case change child children come could day did different do does doing done down during each
early end enough even ever every eye fact family far feel few find first for found four from full
gave get give go going gone good got great group had hand has have having he head help her here
high him his home house how however i if important in into is it its just keep kind knew know
large last later least leave left less let life like line little long look lot made make man many
may me mean might more most much must my name near need never new next night no not nothing now
number of off often old on once one only or other our out over own part people place point put
quite rather really right room said same saw say see seem seen set she should show side since
small so some something sometimes soon still such take tell than that the their them then there
these they thing think this those though thought three through time to today together too took
toward turn two under until up upon us use used very want was water way we week well went were
what when where whether which while who whole whom whose why will with within without woman word
work world would year yes yet you young your
";

/// Whether `word` (lower case) is one of the very common English words.
pub(super) fn is_common(word: &str) -> bool {
    WORDS.split_whitespace().any(|common| common == word)
}
