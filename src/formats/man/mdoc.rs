//! The mdoc macros of BSD-style manual pages, as words: `.Fl`, `.Ar`, `.Op` and the others join
//! their arguments into text, with the punctuation and enclosures the macros imply.

use std::mem;

use super::Page;

impl Page {
    /// The text of an mdoc line: the words of its arguments with the macro names taken out,
    /// flags given their dash, cross references written `name(section)`, quoting macros turned
    /// into the marks they stand for, and `.Nm` without a name standing for the page's.
    pub(super) fn mdoc_words(&mut self, name: &str, arguments: &[String]) -> String {
        let mut words = Words::default();
        if name == "Nd" {
            words.push("—");
        }
        let mut closers = Vec::new();
        let (mut flag, mut pending_name) = (false, false);
        let mut tokens = std::iter::once((name, true))
            .chain(arguments.iter().map(|word| (word.as_str(), is_mdoc_macro(word))))
            .peekable();
        while let Some((token, is_macro)) = tokens.next() {
            let punctuation = is_punctuation(token);
            if !is_macro {
                if mem::take(&mut pending_name) {
                    match punctuation {
                        true => words.push(self.name.as_deref().unwrap_or_default()),
                        false => self.name = self.name.take().or_else(|| Some(token.to_string())),
                    }
                }
                match flag && !punctuation {
                    true => words.push(&format!("-{token}")),
                    false => words.push(token),
                }
                continue;
            }
            if mem::take(&mut pending_name) {
                words.push(self.name.as_deref().unwrap_or_default());
            }
            pending_name = token == "Nm";
            flag = token == "Fl";
            words.attach |= token == "Ns";
            let (opener, closer) = enclosure(token);
            if !opener.is_empty() {
                words.push(opener);
                words.attach = true;
                closers.push(closer);
            }
            if token == "Xr"
                && let (Some((page, _)), Some((section, _))) = (tokens.next(), tokens.next())
            {
                words.push(&format!("{page}({section})"));
            }
            if flag && tokens.peek().is_none_or(|(_, is_macro)| *is_macro) {
                words.push("-");
                // `.Fl Fl long` is `--long`.
                words.attach = tokens.peek().is_some_and(|(next, _)| *next == "Fl");
            }
        }
        if pending_name {
            words.push(self.name.as_deref().unwrap_or_default());
        }
        while let Some(closer) = closers.pop() {
            words.text.push_str(closer);
        }
        words.text
    }
}

/// Words joined by spaces, except where punctuation or a macro sets them against each other.
#[derive(Debug, Default)]
struct Words {
    text: String,
    /// Whether the next word follows without a space.
    attach: bool,
}

impl Words {
    fn push(&mut self, word: &str) {
        let closing = is_punctuation(word) && !"([".contains(word);
        if !self.text.is_empty() && !closing && !self.attach {
            self.text.push(' ');
        }
        self.text.push_str(word);
        self.attach = word == "(" || word == "[";
    }
}

/// Whether an mdoc argument is punctuation, which sets itself against the word before (or, for
/// an opening bracket, after) it.
fn is_punctuation(word: &str) -> bool {
    word.len() == 1 && ".,;:()[]?!|".contains(word)
}

/// The mdoc macros that may stand in a line's arguments, and those that hold text.
pub(super) fn is_mdoc_macro(word: &str) -> bool {
    const MACROS: [&str; 80] = [
        "Ac", "Ad", "An", "Ao", "Ap", "Aq", "Ar", "At", "Bc", "Bo", "Bq", "Brc", "Bro", "Brq", "Bsx", "Bx",
        "Cd", "Cm", "D1", "Dc", "Dl", "Do", "Dq", "Dv", "Dx", "Ec", "Em", "En", "Eo", "Er", "Es", "Ev", "Fa",
        "Fc", "Fd", "Fl", "Fn", "Fo", "Fr", "Ft", "Fx", "Ic", "In", "Lb", "Li", "Lk", "Ms", "Mt", "Nm", "No",
        "Ns", "Nx", "Oc", "Oo", "Op", "Ox", "Pa", "Pc", "Pf", "Po", "Pq", "Qc", "Ql", "Qo", "Qq", "Sc", "So",
        "Sq", "St", "Sx", "Sy", "Ta", "Tn", "Ux", "Va", "Vt", "Xc", "Xo", "Xr", "%T",
    ];
    MACROS.contains(&word)
}

/// The marks an mdoc quoting macro puts around the rest of its line.
fn enclosure(name: &str) -> (&'static str, &'static str) {
    match name {
        "Dq" | "Do" => ("“", "”"),
        "Sq" | "So" | "Ql" => ("‘", "’"),
        "Qq" | "Qo" => ("\"", "\""),
        "Pq" | "Po" => ("(", ")"),
        "Bq" | "Bo" | "Op" | "Oo" => ("[", "]"),
        "Brq" | "Bro" => ("{", "}"),
        "Aq" | "Ao" => ("⟨", "⟩"),
        _ => ("", ""),
    }
}
