//! A lexer that draws token boundaries where Databricks (Spark's `SqlBaseLexer`) draws them.
//!
//! Only boundaries matter here: where strings, quoted identifiers, comments, hints and
//! semicolons start and end. Getting one of them wrong could hide a statement from the
//! classifier (for example a `;` that Databricks sees outside a string while we think it is
//! inside one), so the rules follow Spark's lexer grammar exactly, and where the exact
//! behaviour is uncertain the lexer reports [`LexError::Ambiguous`] and the caller refuses
//! the whole text.
//!
//! Rules (Spark 3.x/4.x `SqlBaseLexer.g4`, Databricks SQL language manual):
//! - `'…'` and `"…"` are string literals; a backslash escapes the next character
//!   (`'it\'s'`). Two quotes in a row (`'it''s'`) are read as two adjacent literals, which
//!   gives the same boundaries as the doubled-quote escape.
//! - `r'…'` / `R"…"` are raw strings: no escapes, they end at the next quote of the same kind.
//!   The `r` must start a token; a word ending in `r` right before a quote (`bar'x'`) is a
//!   word followed by an ordinary string. Where Spark's number rules could split such a
//!   word differently (it starts with a digit, `1E+5R'…'`, or has non-ASCII letters), and
//!   the raw and escaped readings end at different places, the text is ambiguous.
//! - `` `…` `` is a quoted identifier; a doubled backtick stands for one backtick.
//! - `--` starts a comment that ends at `\r` or `\n`; Spark's grammar continues the comment
//!   past a newline preceded by a backslash. That continuation is an option here (the caller
//!   checks both readings).
//! - `/* … */` comments nest; `/*+` starts a hint, whose content is lexed as ordinary tokens
//!   and which ends at `*/`. Inside a comment, `/*+` does not open a nested comment.
//! - `$` outside strings (dollar-quoted bodies) and `://` outside strings (Spark lexes
//!   `scheme://path` as a single identifier, `--` and all) are refused as ambiguous.

/// What a token is, as far as statement boundaries and classification care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenKind {
    /// A run of ASCII letters, digits, `_` and non-ASCII alphabetic characters: keywords,
    /// identifiers and numbers.
    Word,
    /// `` `…` ``.
    QuotedIdent,
    /// `'…'`, `"…"`, `r'…'`, `r"…"`.
    String {
        /// The quote character, `'` or `"`.
        quote: u8,
        /// Whether this is a raw string (`r'…'`): no escapes, and the token starts with `r`.
        raw: bool,
    },
    /// `/*+`, the start of a hint.
    HintStart,
    /// `*/` outside a comment: the end of a hint.
    HintEnd,
    /// `;`.
    Semicolon,
    /// Any other single character.
    Punct,
}

/// A token: its kind and its byte range in the source text. Whitespace and comments are
/// not tokens (they only separate), so a 16 MiB text costs at most 12 bytes per
/// significant character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Token {
    pub(crate) kind: TokenKind,
    start: u32,
    end: u32,
}

impl Token {
    /// Byte offset of the token's first character.
    pub(crate) fn start(&self) -> usize {
        self.start as usize
    }

    /// Byte offset just past the token.
    pub(crate) fn end(&self) -> usize {
        self.end as usize
    }

    /// The token's text.
    pub(crate) fn text<'a>(&self, src: &'a str) -> &'a str {
        src.get(self.start()..self.end()).unwrap_or("")
    }

    /// Whether this is the punctuation character `c`.
    pub(crate) fn is_punct(&self, src: &str, c: char) -> bool {
        self.kind == TokenKind::Punct && self.text(src).starts_with(c)
    }

    /// Whether this is a word that Spark reads as `keyword` (case folded as Spark does,
    /// look-alike letters included).
    pub(crate) fn is_word(&self, src: &str, keyword: &str) -> bool {
        self.kind == TokenKind::Word && crate::keywords::folds_to(self.text(src), keyword)
    }
}

/// Longest text the lexer accepts: Databricks' limit for a statement's text.
pub(crate) const MAX_TEXT_BYTES: usize = 16 * 1024 * 1024;

/// The tokens of a text, plus which uncertain lexer rules they depended on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Lexed {
    pub(crate) tokens: Vec<Token>,
    /// A `--` comment was continued past a backslash-newline.
    pub(crate) used_continuation: bool,
}

/// Why a text could not be split into tokens safely.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LexError {
    /// A string, quoted identifier or comment does not end.
    Unterminated { what: &'static str, at: usize },
    /// Databricks could draw the token boundaries differently from this lexer.
    Ambiguous { what: &'static str, at: usize },
    /// The text is longer than Databricks accepts.
    TooLong { bytes: usize },
}

impl std::fmt::Display for LexError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LexError::Unterminated { what, at } => {
                write!(f, "unterminated {what} starting at byte {at}")
            }
            LexError::Ambiguous { what, at } => write!(f, "{what} at byte {at}"),
            LexError::TooLong { bytes } => write!(
                f,
                "the text is {bytes} bytes, over Databricks' limit of {MAX_TEXT_BYTES} bytes \
                 (16 MiB) for a statement"
            ),
        }
    }
}

/// Lexer options for the rules whose Databricks behaviour is not certain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LexOptions {
    /// Continue a `--` comment past a newline preceded by a backslash (Spark's grammar does).
    pub(crate) comment_continuation: bool,
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || (!c.is_ascii() && c.is_alphabetic())
}

/// Splits `src` into tokens. Never panics; texts over [`MAX_TEXT_BYTES`] are refused.
pub(crate) fn lex(src: &str, options: LexOptions) -> Result<Lexed, LexError> {
    if src.len() > MAX_TEXT_BYTES {
        return Err(LexError::TooLong { bytes: src.len() });
    }
    Lexer {
        src,
        bytes: src.as_bytes(),
        options,
        used_continuation: false,
    }
    .run()
}

/// Positions are byte offsets. Every delimiter the rules look for is ASCII, and no byte of
/// a multi-byte UTF-8 character is ASCII, so delimiters are found byte by byte; characters
/// are decoded only where their class matters (whitespace, words).
struct Lexer<'a> {
    src: &'a str,
    bytes: &'a [u8],
    options: LexOptions,
    used_continuation: bool,
}

impl Lexer<'_> {
    /// The byte at `i`, if any.
    fn byte(&self, i: usize) -> Option<u8> {
        self.bytes.get(i).copied()
    }

    /// The character starting at byte `i`.
    fn char_at(&self, i: usize) -> Option<char> {
        self.src.get(i..)?.chars().next()
    }

    fn run(mut self) -> Result<Lexed, LexError> {
        let mut tokens = Vec::new();
        let mut i = 0;
        while let Some(c) = self.char_at(i) {
            let (kind, next) = self.token_at(i, c)?;
            if let Some(kind) = kind {
                tokens.push(Token {
                    kind,
                    // The text is at most 16 MiB: offsets fit.
                    start: u32::try_from(i).unwrap_or(u32::MAX),
                    end: u32::try_from(next).unwrap_or(u32::MAX),
                });
            }
            i = next;
        }
        Ok(Lexed {
            tokens,
            used_continuation: self.used_continuation,
        })
    }

    /// The token starting at byte `i` (whose char is `c`) and the offset after it; no kind
    /// for whitespace and comments.
    fn token_at(&mut self, i: usize, c: char) -> Result<(Option<TokenKind>, usize), LexError> {
        let next = self.byte(i + 1);
        Ok(match c {
            c if c.is_whitespace() => {
                let mut j = i + c.len_utf8();
                while let Some(w) = self.char_at(j).filter(|w| w.is_whitespace()) {
                    j += w.len_utf8();
                }
                (None, j)
            }
            '-' if next == Some(b'-') => (None, self.line_comment_end(i + 2)),
            '/' if next == Some(b'*') => {
                if self.byte(i + 2) == Some(b'+') {
                    (Some(TokenKind::HintStart), i + 3)
                } else {
                    (None, self.block_comment_end(i)?)
                }
            }
            '*' if next == Some(b'/') => (Some(TokenKind::HintEnd), i + 2),
            '\'' | '"' => (
                Some(TokenKind::String {
                    quote: c as u8,
                    raw: false,
                }),
                self.escaped_string_end(i).ok_or(LexError::Unterminated {
                    what: "string literal",
                    at: i,
                })?,
            ),
            '`' => (Some(TokenKind::QuotedIdent), self.quoted_ident_end(i)?),
            ';' => (Some(TokenKind::Semicolon), i + 1),
            '$' => {
                return Err(LexError::Ambiguous {
                    what: "`$` outside a string literal (dollar-quoted text is not supported)",
                    at: i,
                });
            }
            ':' if next == Some(b'/') && self.byte(i + 2) == Some(b'/') => {
                return Err(LexError::Ambiguous {
                    what: "an unquoted `://` path (quote paths with backticks)",
                    at: i,
                });
            }
            c if is_word_char(c) => {
                let (kind, end) = self.word_or_raw_string(i)?;
                (Some(kind), end)
            }
            c => (Some(TokenKind::Punct), i + c.len_utf8()),
        })
    }

    /// End of a `--` comment whose body starts at byte `j`.
    fn line_comment_end(&mut self, mut j: usize) -> usize {
        while let Some(b) = self.byte(j) {
            match b {
                b'\n' => {
                    if self.options.comment_continuation && self.byte(j - 1) == Some(b'\\') {
                        self.used_continuation = true;
                        j += 1;
                        continue;
                    }
                    return j + 1;
                }
                b'\r' => {
                    return if self.byte(j + 1) == Some(b'\n') {
                        j + 2
                    } else {
                        j + 1
                    };
                }
                _ => j += 1,
            }
        }
        j
    }

    /// End of a (nesting) bracketed comment starting at byte `i`.
    fn block_comment_end(&self, i: usize) -> Result<usize, LexError> {
        let mut depth = 1usize;
        let mut j = i + 2;
        loop {
            match (self.byte(j), self.byte(j + 1)) {
                (None, _) => {
                    return Err(LexError::Unterminated {
                        what: "bracketed comment",
                        at: i,
                    });
                }
                (Some(b'/'), Some(b'*')) if self.byte(j + 2) != Some(b'+') => {
                    depth += 1;
                    j += 2;
                }
                (Some(b'*'), Some(b'/')) => {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        return Ok(j);
                    }
                }
                _ => j += 1,
            }
        }
    }

    /// End of a string with backslash escapes whose opening quote is at byte `i`. An
    /// escaped multi-byte character leaves `j` inside it, which is harmless: its
    /// continuation bytes are never a quote or a backslash.
    fn escaped_string_end(&self, i: usize) -> Option<usize> {
        let quote = self.byte(i)?;
        let mut j = i + 1;
        loop {
            match self.byte(j)? {
                b'\\' => {
                    self.byte(j + 1)?;
                    j += 2;
                }
                b if b == quote => return Some(j + 1),
                _ => j += 1,
            }
        }
    }

    /// End of a raw string whose opening quote is at byte `i`.
    fn raw_string_end(&self, i: usize) -> Option<usize> {
        let quote = self.byte(i)?;
        let offset = self.bytes.get(i + 1..)?.iter().position(|&b| b == quote)?;
        Some(i + 1 + offset + 1)
    }

    fn quoted_ident_end(&self, i: usize) -> Result<usize, LexError> {
        let mut j = i + 1;
        loop {
            match self.byte(j) {
                None => {
                    return Err(LexError::Unterminated {
                        what: "quoted identifier",
                        at: i,
                    });
                }
                Some(b'`') if self.byte(j + 1) == Some(b'`') => j += 2,
                Some(b'`') => return Ok(j + 1),
                Some(_) => j += 1,
            }
        }
    }

    fn word_or_raw_string(&self, i: usize) -> Result<(TokenKind, usize), LexError> {
        let mut j = i;
        let mut last = None;
        while let Some(c) = self.char_at(j).filter(|&c| is_word_char(c)) {
            last = Some(c);
            j += c.len_utf8();
        }
        let Some(quote @ (b'\'' | b'"')) = self.byte(j) else {
            return Ok((TokenKind::Word, j));
        };
        if j == i + 1 && matches!(last, Some('r' | 'R')) {
            // `r'…'`: the `r` starts a token, so this is a raw string.
            let end = self.raw_string_end(j).ok_or(LexError::Unterminated {
                what: "raw string literal",
                at: i,
            })?;
            return Ok((TokenKind::String { quote, raw: true }, end));
        }
        // A word that starts with an ASCII letter or `_` and is all ASCII is one identifier
        // or keyword token for Spark too (`OR'…'`, `bar'…'`). One that starts with a digit
        // may be split by Spark's number rules (`1E+5R'…'` is `1E+5` then a raw string).
        let word = self.src.get(i..j).unwrap_or("");
        let plain =
            word.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') && word.is_ascii();
        if !plain
            && matches!(last, Some('r' | 'R'))
            && self.raw_string_end(j) != self.escaped_string_end(j)
        {
            return Err(LexError::Ambiguous {
                what: "a word ending in `r` directly before a quote (raw string or not?); \
                       put a space before the string",
                at: j - 1,
            });
        }
        Ok((TokenKind::Word, j))
    }
}

/// Splits tokens into statements at top-level semicolons. Empty statements (only
/// whitespace and comments) are dropped.
pub(crate) fn split_statements(tokens: &[Token]) -> impl Iterator<Item = &[Token]> {
    tokens
        .split(|t| t.kind == TokenKind::Semicolon)
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const SPARK: LexOptions = LexOptions {
        comment_continuation: true,
    };

    fn statements(src: &str) -> Vec<String> {
        let lexed = lex(src, SPARK).unwrap();
        split_statements(&lexed.tokens)
            .map(|s| {
                let (first, last) = (s.first().unwrap(), s.last().unwrap());
                src[first.start()..last.end()].to_string()
            })
            .collect()
    }

    fn kinds(src: &str) -> Vec<(TokenKind, String)> {
        lex(src, SPARK)
            .unwrap()
            .tokens
            .into_iter()
            .map(|t| (t.kind, t.text(src).to_string()))
            .collect()
    }

    #[test]
    fn splits_on_top_level_semicolons() {
        assert_eq!(
            statements("SELECT 1; DROP TABLE t"),
            ["SELECT 1", "DROP TABLE t"]
        );
        assert_eq!(statements(";;SELECT 1;;\n;"), ["SELECT 1"]);
        assert_eq!(statements(""), Vec::<String>::new());
        assert_eq!(
            statements("  -- only a comment\n /* x */ "),
            Vec::<String>::new()
        );
    }

    #[test]
    fn semicolons_in_strings_do_not_split() {
        assert_eq!(
            statements("SELECT ';' ; SELECT 2"),
            ["SELECT ';'", "SELECT 2"]
        );
        assert_eq!(statements(r#"SELECT "a;b""#), [r#"SELECT "a;b""#]);
        assert_eq!(statements(r"SELECT 'it\'s; ok'"), [r"SELECT 'it\'s; ok'"]);
        assert_eq!(statements("SELECT 'it''s; ok'"), ["SELECT 'it''s; ok'"]);
        // A backslash escapes the quote: the string goes on to the last quote.
        assert_eq!(
            statements(r"SELECT 'x\''; DROP TABLE t; --'"),
            [r"SELECT 'x\''", "DROP TABLE t"]
        );
    }

    #[test]
    fn raw_strings_have_no_escapes() {
        assert_eq!(
            statements(r"SELECT r'a\'; DROP TABLE t; --'"),
            [r"SELECT r'a\'", "DROP TABLE t"]
        );
        assert_eq!(
            kinds(r#"SELECT R"\d+""#)[1],
            (
                TokenKind::String {
                    quote: b'"',
                    raw: true
                },
                r#"R"\d+""#.to_string()
            )
        );
        // `bar'x'` is a word followed by an ordinary string.
        assert_eq!(kinds("bar'x'")[0], (TokenKind::Word, "bar".to_string()));
    }

    #[test]
    fn ambiguous_raw_prefix_is_refused() {
        assert!(matches!(
            lex(r"SELECT 1E+5R'\'; DROP TABLE t; --'", SPARK),
            Err(LexError::Ambiguous { .. })
        ));
        // Without a backslash both readings agree.
        assert!(lex("SELECT 1E+5R'x'", SPARK).is_ok());
        // A word starting with a letter is one token for Spark too: an ordinary string.
        assert_eq!(
            statements(r"SELECT 1 WHERE a OR'\''; DROP TABLE t"),
            [r"SELECT 1 WHERE a OR'\''", "DROP TABLE t"]
        );
        assert_eq!(
            kinds(r"SELECT bar'\'x'")[1],
            (TokenKind::Word, "bar".to_string())
        );
    }

    #[test]
    fn semicolons_in_backticks_and_comments_do_not_split() {
        assert_eq!(statements("SELECT `a;b` FROM t"), ["SELECT `a;b` FROM t"]);
        assert_eq!(
            statements("SELECT `a``;b` FROM t"),
            ["SELECT `a``;b` FROM t"]
        );
        assert_eq!(statements("SELECT 1 -- ; DROP TABLE t"), ["SELECT 1"]);
        assert_eq!(statements("/* ; DELETE */ SELECT 1"), ["SELECT 1"]);
        assert_eq!(
            statements("SELECT /* a /* nested ; */ still comment ; */ 1; SELECT 2"),
            [
                "SELECT /* a /* nested ; */ still comment ; */ 1",
                "SELECT 2"
            ]
        );
        // Quotes inside comments are not special.
        assert_eq!(
            statements("SELECT 1 /* ' */; SELECT '*/'"),
            ["SELECT 1", "SELECT '*/'"]
        );
    }

    #[test]
    fn line_comments_end_at_cr_or_lf() {
        assert_eq!(
            statements("SELECT 1 -- x\r; DROP TABLE t"),
            ["SELECT 1", "DROP TABLE t"]
        );
        assert_eq!(
            statements("SELECT 1 -- x\n; DROP TABLE t"),
            ["SELECT 1", "DROP TABLE t"]
        );
    }

    #[test]
    fn line_comment_continuation_is_an_option() {
        let src = "SELECT 1 -- x \\\n; DROP TABLE t";
        let on = lex(src, SPARK).unwrap();
        assert!(on.used_continuation);
        assert_eq!(split_statements(&on.tokens).count(), 1);
        let off = lex(
            src,
            LexOptions {
                comment_continuation: false,
            },
        )
        .unwrap();
        assert!(!off.used_continuation);
        assert_eq!(split_statements(&off.tokens).count(), 2);
    }

    #[test]
    fn hints_are_lexed_as_tokens() {
        let k = kinds("SELECT /*+ BROADCAST(t) */ * FROM t");
        assert_eq!(k[1].0, TokenKind::HintStart);
        assert_eq!(k[2], (TokenKind::Word, "BROADCAST".to_string()));
        assert_eq!(k[6].0, TokenKind::HintEnd);
        // Inside a comment `/*+` does not nest.
        assert_eq!(statements("/* /*+ */ SELECT 1"), ["SELECT 1"]);
    }

    #[test]
    fn unterminated_and_ambiguous_texts_are_errors() {
        for src in [
            "SELECT 'abc",
            "SELECT \"abc",
            "SELECT 'abc\\'",
            "SELECT `abc",
            "SELECT /* abc",
            "SELECT /* /* */ abc",
            "SELECT r'abc",
        ] {
            assert!(
                matches!(lex(src, SPARK), Err(LexError::Unterminated { .. })),
                "{src}"
            );
        }
        for src in ["SELECT $$x$$", "SELECT * FROM delta.file:///a--b"] {
            assert!(
                matches!(lex(src, SPARK), Err(LexError::Ambiguous { .. })),
                "{src}"
            );
        }
    }

    #[test]
    fn words_are_case_insensitive_and_unicode_safe() {
        let src = "sElEcT naïve, 'ünï;code' FROM t";
        assert!(lex(src, SPARK).unwrap().tokens[0].is_word(src, "SELECT"));
        assert_eq!(statements(src).len(), 1);
        assert_eq!(kinds(src)[1], (TokenKind::Word, "naïve".to_string()));
    }
}
