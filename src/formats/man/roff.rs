//! The roff language under the macros: splitting a request's arguments, expanding escapes (fonts,
//! sizes and motions removed; special characters, strings and number registers replaced) and
//! evaluating the conditions of `.if` and `.ie` as nroff does on a terminal.

use std::collections::HashMap;
use std::iter::Peekable;
use std::str::Chars;

/// Strings (`.ds`) nested deeper than this expand to nothing, so a string that names itself ends.
const MAX_STRING_DEPTH: usize = 8;

/// The strings and number registers a page defined, which escapes and conditions read.
#[derive(Debug, Default)]
pub(super) struct Definitions {
    /// Strings by name (`.ds`), as written, expanded where used.
    pub(super) strings: HashMap<String, String>,
    /// Number registers by name (`.nr`).
    pub(super) registers: HashMap<String, i64>,
}

impl Definitions {
    /// `text` with its escapes expanded.
    pub(super) fn expand(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        self.expand_into(text, &mut out, 0);
        out
    }

    fn expand_into(&self, text: &str, out: &mut String, depth: usize) {
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            let Some(escape) = chars.next() else {
                break;
            };
            match escape {
                '\\' | 'e' | 'E' => out.push('\\'),
                ' ' | '~' | '0' => out.push(' '),
                't' => out.push('\t'),
                '(' => {
                    let name: String = chars.by_ref().take(2).collect();
                    out.push_str(glyph(&name).unwrap_or_default());
                }
                '[' => {
                    let name = bracketed(&mut chars);
                    push_glyph_or_code(&name, out);
                }
                'C' => {
                    let name = delimited(&mut chars);
                    push_glyph_or_code(&name, out);
                }
                'N' => {
                    let code = delimited(&mut chars);
                    out.extend(code.parse().ok().and_then(char::from_u32));
                }
                '*' => {
                    let name = name_argument(&mut chars);
                    if depth < MAX_STRING_DEPTH {
                        match self.strings.get(&name) {
                            Some(value) => self.expand_into(value, out, depth + 1),
                            None => out.push_str(predefined_string(&name)),
                        }
                    }
                }
                'n' => {
                    // An auto-increment sign changes nothing that is printed.
                    let _ = chars.next_if(|&c| c == '+' || c == '-');
                    let name = name_argument(&mut chars);
                    if let Some(value) = self.registers.get(&name) {
                        out.push_str(&value.to_string());
                    }
                }
                's' => skip_size(&mut chars),
                'f' | 'F' | 'm' | 'M' | 'g' | 'k' | 'Y' | 'V' | '$' => {
                    name_argument(&mut chars);
                }
                'h' | 'v' | 'w' | 'o' | 'l' | 'L' | 'D' | 'X' | 'Z' | 'b' | 'x' | 'S' | 'H' | 'R' | 'A'
                | 'B' | 'T' | 'U' => {
                    delimited(&mut chars);
                }
                // Zero-width characters, motions, line interrupts, comments and block braces.
                '&' | '|' | '^' | ')' | '%' | ':' | ',' | '/' | 'c' | 'd' | 'u' | 'p' | 'r' | 'a' | 'z'
                | '{' | '}' | '"' | '#' => {}
                other => out.push(other),
            }
        }
    }

    /// Evaluates the condition at the start of `text` (the arguments of `.if` or `.ie`) and
    /// returns it with the rest of the line.
    pub(super) fn condition<'t>(&self, text: &'t str) -> (bool, &'t str) {
        let (negated, text) = match text.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let split = |text: &'t str| -> (&'t str, &'t str) {
            let end = text.find(char::is_whitespace).unwrap_or(text.len());
            (&text[..end], text[end..].trim_start())
        };
        let mut chars = text.chars();
        let first = chars.next().unwrap_or(' ');
        let (value, rest) = match first {
            // nroff on a terminal; not troff, not an even or odd page, not vroff.
            'n' | 't' | 'e' | 'o' | 'v' if !chars.next().is_some_and(char::is_alphanumeric) => {
                (first == 'n', text[1..].trim_start())
            }
            // Tests of definitions: a string or macro, a register, a glyph, a colour, a font, a style.
            'd' | 'r' | 'c' | 'm' | 'F' | 'S' => {
                let (name, rest) = split(text[1..].trim_start());
                let defined = match first {
                    'd' => self.strings.contains_key(name),
                    'r' => self.registers.contains_key(name),
                    _ => false,
                };
                (defined, rest)
            }
            // A string comparison: 'one'two'.
            delimiter if !delimiter.is_alphanumeric() && !"\\(+-|".contains(delimiter) => {
                let mut parts = text[delimiter.len_utf8()..].splitn(3, delimiter);
                let (one, two) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
                let rest = parts.next().unwrap_or_default().trim_start();
                (self.expand(one) == self.expand(two), rest)
            }
            _ => {
                let (expression, rest) = split(text);
                (self.evaluate(expression) > 0, rest)
            }
        };
        (value != negated, rest)
    }

    /// A numeric expression, read as roff does: from left to right, units ignored.
    pub(super) fn evaluate(&self, expression: &str) -> i64 {
        let expanded = self.expand_registers(expression);
        let mut chars = expanded.chars().peekable();
        evaluate_from(&mut chars)
    }

    /// `expression` with `\n` register references replaced by their values (0 when unset).
    fn expand_registers(&self, expression: &str) -> String {
        let mut out = String::new();
        let mut chars = expression.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '\\' && chars.next_if_eq(&'n').is_some() {
                let name = name_argument(&mut chars);
                let value = match name.as_str() {
                    // Formatting with groff, whose extensions the pages may test for.
                    ".g" => 1,
                    _ => self.registers.get(&name).copied().unwrap_or(0),
                };
                out.push_str(&format!("({value})"));
            } else {
                out.push(c);
            }
        }
        out
    }
}

/// Evaluates terms and operators left to right until the end or a closing parenthesis.
fn evaluate_from(chars: &mut Peekable<Chars<'_>>) -> i64 {
    let mut value = term(chars);
    loop {
        let operator: String = match chars.peek() {
            Some('+' | '-' | '*' | '/' | '%' | '&' | ':') => chars.next().into_iter().collect(),
            Some('<' | '>' | '=' | '!') => {
                let mut operator: String = chars.next().into_iter().collect();
                operator.extend(chars.next_if_eq(&'='));
                operator.extend(chars.next_if(|&c| c == '?'));
                operator
            }
            _ => return value,
        };
        let right = term(chars);
        value = match operator.as_str() {
            "+" => value.saturating_add(right),
            "-" => value.saturating_sub(right),
            "*" => value.saturating_mul(right),
            "/" => value.checked_div(right).unwrap_or(0),
            "%" => value.checked_rem(right).unwrap_or(0),
            "&" => i64::from(value > 0 && right > 0),
            ":" => i64::from(value > 0 || right > 0),
            "<" => i64::from(value < right),
            ">" => i64::from(value > right),
            "<=" => i64::from(value <= right),
            ">=" => i64::from(value >= right),
            "=" | "==" => i64::from(value == right),
            "!=" => i64::from(value != right),
            "<?" => value.min(right),
            ">?" => value.max(right),
            _ => value,
        };
    }
}

/// A number (with any scale unit after it), a negated term or a parenthesised expression.
fn term(chars: &mut Peekable<Chars<'_>>) -> i64 {
    match chars.peek() {
        Some('(') => {
            chars.next();
            let value = evaluate_from(chars);
            chars.next_if_eq(&')');
            value
        }
        Some('-') => {
            chars.next();
            term(chars).saturating_neg()
        }
        Some('+') => {
            chars.next();
            term(chars)
        }
        _ => {
            let mut digits = String::new();
            while let Some(c) = chars.next_if(|c| c.is_ascii_digit() || *c == '.') {
                digits.push(c);
            }
            while chars.next_if(|c| "ciPpmnvuMsfz".contains(*c)).is_some() {}
            digits.split('.').next().unwrap_or_default().parse().unwrap_or(0)
        }
    }
}

/// Splits a request's arguments at spaces; a double-quoted argument may hold spaces, and `""`
/// inside one is a quote.
pub(super) fn arguments(text: &str) -> Vec<String> {
    let mut arguments = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let Some(first) = chars.next() else {
            return arguments;
        };
        let mut argument = String::new();
        if first == '"' {
            while let Some(c) = chars.next() {
                match c {
                    '"' if chars.next_if_eq(&'"').is_some() => argument.push('"'),
                    '"' => break,
                    c => argument.push(c),
                }
            }
        } else {
            argument.push(first);
            let mut escaped = first == '\\';
            while let Some(c) = chars.next_if(|&c| escaped || !c.is_whitespace()) {
                escaped = c == '\\' && !escaped;
                argument.push(c);
            }
        }
        arguments.push(argument);
    }
}

/// `line` without its comment (`\"` or `\#` to the end), escaped backslashes respected.
pub(super) fn strip_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    let mut index = 0;
    while index + 1 < bytes.len() {
        if bytes[index] == b'\\' {
            if matches!(bytes[index + 1], b'"' | b'#') {
                return &line[..index];
            }
            index += 1;
        }
        index += 1;
    }
    line
}

/// The name after an escape such as `\f` or `\*`: `(xx`, `[name]` or one character.
fn name_argument(chars: &mut Peekable<Chars<'_>>) -> String {
    match chars.next() {
        Some('(') => chars.by_ref().take(2).collect(),
        Some('[') => bracketed(chars),
        Some(c) => c.to_string(),
        None => String::new(),
    }
}

/// The text up to the next `]`, which is dropped.
fn bracketed(chars: &mut Peekable<Chars<'_>>) -> String {
    chars.by_ref().take_while(|&c| c != ']').collect()
}

/// The argument of an escape such as `\h'1n'`, between a delimiter and its next occurrence.
fn delimited(chars: &mut Peekable<Chars<'_>>) -> String {
    match chars.next() {
        Some(delimiter) => chars.by_ref().take_while(|&c| c != delimiter).collect(),
        None => String::new(),
    }
}

/// Skips the argument of `\s`: `\s-1`, `\s0`, `\s12`, `\s(12`, `\s[12]`, `\s'12'`.
fn skip_size(chars: &mut Peekable<Chars<'_>>) {
    chars.next_if(|&c| c == '+' || c == '-');
    match chars.next() {
        Some('(') => {
            chars.next();
            chars.next();
        }
        Some('[') => {
            bracketed(chars);
        }
        Some('\'') => {
            chars.by_ref().take_while(|&c| c != '\'').for_each(drop);
        }
        Some('1'..='3') => {
            chars.next_if(char::is_ascii_digit);
        }
        _ => {}
    }
}

/// A named glyph, or a Unicode one written `uXXXX` (several joined by `_`) or `charNNN`.
fn push_glyph_or_code(name: &str, out: &mut String) {
    if let Some(glyph) = glyph(name) {
        out.push_str(glyph);
    } else if let Some(codes) = name.strip_prefix('u') {
        let chars = codes
            .split('_')
            .map(|code| u32::from_str_radix(code, 16).ok().and_then(char::from_u32));
        out.extend(chars.flatten());
    } else if let Some(code) = name.strip_prefix("char") {
        out.extend(code.parse().ok().and_then(char::from_u32));
    }
}

/// The strings every man page may use without defining them.
fn predefined_string(name: &str) -> &'static str {
    match name {
        "R" => "®",
        "Tm" => "™",
        "lq" => "“",
        "rq" => "”",
        _ => "",
    }
}

/// The text of a special character by its groff name (`\(em`, `\[bu]`), for those man pages use.
#[rustfmt::skip]
fn glyph(name: &str) -> Option<&'static str> {
    const GLYPHS: [(&str, &str); 97] = [
        ("em", "—"), ("en", "–"), ("hy", "-"), ("mi", "−"), ("bu", "•"), ("aq", "'"), ("dq", "\""),
        ("lq", "“"), ("rq", "”"), ("oq", "‘"), ("cq", "’"), ("Bq", "„"), ("bq", "‚"), ("Fo", "«"),
        ("Fc", "»"), ("fo", "‹"), ("fc", "›"), ("co", "©"), ("rg", "®"), ("tm", "™"), ("mu", "×"),
        ("di", "÷"), ("de", "°"), ("+-", "±"), (">=", "≥"), ("<=", "≤"), ("!=", "≠"), ("==", "≡"),
        ("~=", "≅"), ("ap", "∼"), ("->", "→"), ("<-", "←"), ("<>", "↔"), ("=>", "⇒"), ("ua", "↑"),
        ("da", "↓"), ("sq", "□"), ("ci", "○"), ("ba", "|"), ("br", "│"), ("ul", "_"), ("rn", "‾"),
        ("ti", "~"), ("ha", "^"), ("sl", "/"), ("rs", "\\"), ("at", "@"), ("sh", "#"), ("Do", "$"),
        ("Eu", "€"), ("eu", "€"), ("Po", "£"), ("Ye", "¥"), ("ct", "¢"), ("ps", "¶"), ("sc", "§"),
        ("dg", "†"), ("dd", "‡"), ("lh", "☜"), ("rh", "☞"), ("OK", "✓"), ("pl", "+"), ("eq", "="),
        ("**", "∗"), ("pc", "·"), ("es", "∅"), ("if", "∞"), ("aa", "´"), ("ga", "`"), ("ss", "ß"),
        ("ae", "æ"), ("AE", "Æ"), ("oe", "œ"), ("OE", "Œ"), ("o/", "ø"), ("O/", "Ø"), ("'e", "é"),
        ("'E", "É"), ("'a", "á"), ("'i", "í"), ("'o", "ó"), ("'u", "ú"), ("`e", "è"), ("`a", "à"),
        (":a", "ä"), (":o", "ö"), (":u", "ü"), (":A", "Ä"), (":O", "Ö"), (":U", "Ü"), ("^a", "â"),
        ("^e", "ê"), ("^o", "ô"), ("~n", "ñ"), ("~N", "Ñ"), (",c", "ç"), (",C", "Ç"),
    ];
    GLYPHS
        .iter()
        .find(|(glyph, _)| *glyph == name)
        .map(|(_, text)| *text)
}
