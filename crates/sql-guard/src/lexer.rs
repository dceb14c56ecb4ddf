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
    /// Spaces, tabs, newlines.
    Whitespace,
    /// `-- …` or `/* … */` (not a hint).
    Comment,
    /// A run of ASCII letters, digits, `_` and non-ASCII alphabetic characters: keywords,
    /// identifiers and numbers.
    Word,
    /// `` `…` ``.
    QuotedIdent,
    /// `'…'`, `"…"`, `r'…'`, `r"…"`.
    String {
        /// The quote character, `'` or `"`.
        quote: char,
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

/// A token: its kind and its byte range in the source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Token {
    pub(crate) kind: TokenKind,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

impl Token {
    /// The token's text.
    pub(crate) fn text<'a>(&self, src: &'a str) -> &'a str {
        src.get(self.start..self.end).unwrap_or("")
    }

    /// Whether the token carries meaning (is neither whitespace nor a comment).
    pub(crate) fn is_significant(&self) -> bool {
        !matches!(self.kind, TokenKind::Whitespace | TokenKind::Comment)
    }

    /// Whether this is the punctuation character `c`.
    pub(crate) fn is_punct(&self, src: &str, c: char) -> bool {
        self.kind == TokenKind::Punct && self.text(src).starts_with(c)
    }

    /// Whether this is a word equal (ignoring ASCII case) to `keyword`.
    pub(crate) fn is_word(&self, src: &str, keyword: &str) -> bool {
        self.kind == TokenKind::Word && self.text(src).eq_ignore_ascii_case(keyword)
    }
}

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
}

impl std::fmt::Display for LexError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LexError::Unterminated { what, at } => {
                write!(f, "unterminated {what} starting at byte {at}")
            }
            LexError::Ambiguous { what, at } => write!(f, "{what} at byte {at}"),
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

/// Splits `src` into tokens. Never panics.
pub(crate) fn lex(src: &str, options: LexOptions) -> Result<Lexed, LexError> {
    Lexer {
        src,
        chars: src.char_indices().collect(),
        options,
        used_continuation: false,
    }
    .run()
}

struct Lexer<'a> {
    src: &'a str,
    chars: Vec<(usize, char)>,
    options: LexOptions,
    used_continuation: bool,
}

impl Lexer<'_> {
    fn at(&self, i: usize) -> Option<char> {
        self.chars.get(i).map(|&(_, c)| c)
    }

    /// Byte offset of char index `i` (the text's length past the end).
    fn offset(&self, i: usize) -> usize {
        self.chars.get(i).map_or(self.src.len(), |&(o, _)| o)
    }

    fn run(mut self) -> Result<Lexed, LexError> {
        let mut tokens = Vec::new();
        let mut i = 0;
        while let Some(c) = self.at(i) {
            let (kind, next) = self.token_at(i, c)?;
            tokens.push(Token {
                kind,
                start: self.offset(i),
                end: self.offset(next),
            });
            i = next;
        }
        Ok(Lexed {
            tokens,
            used_continuation: self.used_continuation,
        })
    }

    /// The token starting at char index `i` (whose char is `c`) and the index after it.
    fn token_at(&mut self, i: usize, c: char) -> Result<(TokenKind, usize), LexError> {
        let next = self.at(i + 1);
        Ok(match c {
            c if c.is_whitespace() => {
                let mut j = i + 1;
                while self.at(j).is_some_and(char::is_whitespace) {
                    j += 1;
                }
                (TokenKind::Whitespace, j)
            }
            '-' if next == Some('-') => (TokenKind::Comment, self.line_comment_end(i + 2)),
            '/' if next == Some('*') => {
                if self.at(i + 2) == Some('+') {
                    (TokenKind::HintStart, i + 3)
                } else {
                    (TokenKind::Comment, self.block_comment_end(i)?)
                }
            }
            '*' if next == Some('/') => (TokenKind::HintEnd, i + 2),
            '\'' | '"' => (
                TokenKind::String {
                    quote: c,
                    raw: false,
                },
                self.escaped_string_end(i)
                    .ok_or_else(|| self.unterminated("string literal", i))?,
            ),
            '`' => (TokenKind::QuotedIdent, self.quoted_ident_end(i)?),
            ';' => (TokenKind::Semicolon, i + 1),
            '$' => {
                return Err(LexError::Ambiguous {
                    what: "`$` outside a string literal (dollar-quoted text is not supported)",
                    at: self.offset(i),
                });
            }
            ':' if next == Some('/') && self.at(i + 2) == Some('/') => {
                return Err(LexError::Ambiguous {
                    what: "an unquoted `://` path (quote paths with backticks)",
                    at: self.offset(i),
                });
            }
            c if is_word_char(c) => self.word_or_raw_string(i)?,
            _ => (TokenKind::Punct, i + 1),
        })
    }

    fn unterminated(&self, what: &'static str, i: usize) -> LexError {
        LexError::Unterminated {
            what,
            at: self.offset(i),
        }
    }

    /// End of a `--` comment whose body starts at char index `j`.
    fn line_comment_end(&mut self, mut j: usize) -> usize {
        while let Some(c) = self.at(j) {
            match c {
                '\n' => {
                    if self.options.comment_continuation && self.at(j - 1) == Some('\\') {
                        self.used_continuation = true;
                        j += 1;
                        continue;
                    }
                    return j + 1;
                }
                '\r' => {
                    return if self.at(j + 1) == Some('\n') {
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

    /// End of a (nesting) bracketed comment starting at char index `i`.
    fn block_comment_end(&self, i: usize) -> Result<usize, LexError> {
        let mut depth = 1usize;
        let mut j = i + 2;
        loop {
            match (self.at(j), self.at(j + 1)) {
                (None, _) => return Err(self.unterminated("bracketed comment", i)),
                (Some('/'), Some('*')) if self.at(j + 2) != Some('+') => {
                    depth += 1;
                    j += 2;
                }
                (Some('*'), Some('/')) => {
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

    /// End of a string with backslash escapes whose opening quote is at char index `i`.
    fn escaped_string_end(&self, i: usize) -> Option<usize> {
        let quote = self.at(i)?;
        let mut j = i + 1;
        loop {
            match self.at(j)? {
                '\\' => {
                    self.at(j + 1)?;
                    j += 2;
                }
                c if c == quote => return Some(j + 1),
                _ => j += 1,
            }
        }
    }

    /// End of a raw string whose opening quote is at char index `i`.
    fn raw_string_end(&self, i: usize) -> Option<usize> {
        let quote = self.at(i)?;
        let mut j = i + 1;
        loop {
            if self.at(j)? == quote {
                return Some(j + 1);
            }
            j += 1;
        }
    }

    fn quoted_ident_end(&self, i: usize) -> Result<usize, LexError> {
        let mut j = i + 1;
        loop {
            match self.at(j) {
                None => return Err(self.unterminated("quoted identifier", i)),
                Some('`') if self.at(j + 1) == Some('`') => j += 2,
                Some('`') => return Ok(j + 1),
                Some(_) => j += 1,
            }
        }
    }

    fn word_or_raw_string(&self, i: usize) -> Result<(TokenKind, usize), LexError> {
        let mut j = i + 1;
        while self.at(j).is_some_and(is_word_char) {
            j += 1;
        }
        let Some(quote @ ('\'' | '"')) = self.at(j) else {
            return Ok((TokenKind::Word, j));
        };
        let last = self.at(j - 1);
        if j == i + 1 && matches!(last, Some('r' | 'R')) {
            // `r'…'`: the `r` starts a token, so this is a raw string.
            let end = self
                .raw_string_end(j)
                .ok_or_else(|| self.unterminated("raw string literal", i))?;
            return Ok((TokenKind::String { quote, raw: true }, end));
        }
        // A word that starts with an ASCII letter or `_` and is all ASCII is one identifier
        // or keyword token for Spark too (`OR'…'`, `bar'…'`). One that starts with a digit
        // may be split by Spark's number rules (`1E+5R'…'` is `1E+5` then a raw string).
        let plain = self
            .at(i)
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && (i..j).all(|k| self.at(k).is_some_and(|c| c.is_ascii()));
        if !plain
            && matches!(last, Some('r' | 'R'))
            && self.raw_string_end(j) != self.escaped_string_end(j)
        {
            return Err(LexError::Ambiguous {
                what: "a word ending in `r` directly before a quote (raw string or not?); \
                       put a space before the string",
                at: self.offset(j - 1),
            });
        }
        Ok((TokenKind::Word, j))
    }
}

/// Splits tokens into statements at top-level semicolons. Statements that contain only
/// whitespace and comments are dropped.
pub(crate) fn split_statements(tokens: &[Token]) -> Vec<&[Token]> {
    tokens
        .split(|t| t.kind == TokenKind::Semicolon)
        .filter(|s| s.iter().any(Token::is_significant))
        .collect()
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
            .into_iter()
            .map(|s| {
                let first = s.iter().find(|t| t.is_significant()).unwrap();
                let last = s.iter().rev().find(|t| t.is_significant()).unwrap();
                src[first.start..last.end].to_string()
            })
            .collect()
    }

    fn kinds(src: &str) -> Vec<(TokenKind, String)> {
        lex(src, SPARK)
            .unwrap()
            .tokens
            .into_iter()
            .filter(Token::is_significant)
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
                    quote: '"',
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
        assert_eq!(split_statements(&on.tokens).len(), 1);
        let off = lex(
            src,
            LexOptions {
                comment_continuation: false,
            },
        )
        .unwrap();
        assert!(!off.used_continuation);
        assert_eq!(split_statements(&off.tokens).len(), 2);
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
