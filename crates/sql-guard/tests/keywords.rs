//! Keywords as Spark's lexer reads them: upper-cased with Java's simple case mapping, under
//! which `ı` (U+0131) is `I` and `ſ` (U+017F) is `S`. A differential test against an
//! oracle built from Spark's keyword list, and properties: a keyword spelled with other
//! letter cases classifies exactly like its ASCII spelling; spelled with look-alike letters,
//! it is never more permissive.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use proptest::prelude::*;
use sql_guard::{Verdict, classify, spark_keyword};

/// Spark's grammar keyword list (plus Databricks' statement keywords).
fn keyword_list() -> BTreeSet<String> {
    include_str!("spark_keywords.txt")
        .lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// The oracle: Java's `Character.toUpperCase` on the characters that matter here, written
/// out rather than computed. ASCII letters upper-case, the two non-ASCII letters whose
/// simple upper case is ASCII map to it, everything else stays (Java's simple mapping never
/// turns another character into ASCII, and a keyword is ASCII).
fn oracle(word: &str, keywords: &BTreeSet<String>) -> Option<String> {
    let upper: String = word
        .chars()
        .map(|c| match c {
            'ı' => 'I',
            'ſ' => 'S',
            c if c.is_ascii() => c.to_ascii_uppercase(),
            c => c,
        })
        .collect();
    keywords.contains(&upper).then_some(upper)
}

/// A spelling of `keyword`: each letter lower or upper case, and each `I`/`S` possibly its
/// look-alike, as `mask` says (two bits a letter).
fn spelling(keyword: &str, mask: &[u8], look_alikes: bool) -> String {
    keyword
        .chars()
        .zip(mask.iter().copied().cycle())
        .map(|(c, bits)| match (c, bits % 4) {
            ('I', 3) if look_alikes => 'ı',
            ('S', 3) if look_alikes => 'ſ',
            (c, 1 | 3) => c.to_ascii_lowercase(),
            (c, _) => c,
        })
        .collect()
}

#[test]
fn every_keyword_and_its_look_alike_spellings_are_recognized() {
    let keywords = keyword_list();
    assert!(keywords.len() > 350, "{}", keywords.len());
    for keyword in &keywords {
        assert_eq!(spark_keyword(keyword), Some(keyword.as_str()));
        assert_eq!(
            spark_keyword(&keyword.to_lowercase()),
            Some(keyword.as_str())
        );
        let look_alike = keyword.replace('I', "ı").replace('S', "ſ");
        assert_eq!(
            spark_keyword(&look_alike),
            Some(keyword.as_str()),
            "{look_alike}"
        );
    }
    // Letters that upper-case to non-ASCII, or to several letters, are not keywords.
    for word in ["İNSERT", "\u{212A}EYS", "ﬁlter", "SELECTß", "selecт"] {
        assert_eq!(spark_keyword(word), None, "{word}");
    }
}

/// Pieces words are made of: keyword parts, the look-alikes, and letters with unusual case
/// mappings (Turkish dotted İ, Kelvin sign, sharp s, a ligature, Greek final sigma).
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(keyword_list().into_iter().collect::<Vec<_>>()),
        prop::sample::select(
            [
                "ı", "ſ", "İ", "\u{212A}", "ß", "ﬁ", "ς", "i", "s", "I", "S", "_", "1"
            ]
            .map(str::to_string)
            .to_vec()
        ),
        "[a-zA-Z]{1,3}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn keyword_recognition_agrees_with_the_oracle(
        pieces in prop::collection::vec(piece(), 1..3),
        mask in prop::collection::vec(any::<u8>(), 1..16),
    ) {
        let keywords = keyword_list();
        let word = spelling(&pieces.concat(), &mask, true);
        prop_assert_eq!(spark_keyword(&word).map(str::to_string), oracle(&word, &keywords), "{}", word);
    }

    /// Statement shapes where the keyword decides; each ASCII spelling's verdict is the
    /// reference.
    #[test]
    fn spellings_classify_like_the_ascii_keyword(
        keyword in prop::sample::select(keyword_list().into_iter().collect::<Vec<_>>()),
        template in prop::sample::select(vec![
            "{} INTO t SELECT 1",
            "WITH x AS (SELECT 1 AS a) {} INTO t SELECT * FROM x",
            "FROM s {} INTO t SELECT *",
            "SELECT 1; {} t",
            "SELECT TRANSFORM(c) {} 'cat' AS (x) FROM t",
            "SELECT a FROM t {} b",
            "{} TABLE t",
        ]),
        mask in prop::collection::vec(any::<u8>(), 1..16),
    ) {
        let verdict = |word: &str| {
            if classify(&template.replace("{}", word)).is_read_only() {
                Verdict::Read
            } else {
                Verdict::Write
            }
        };
        let reference = verdict(&keyword);
        let cased = spelling(&keyword, &mask, false);
        prop_assert_eq!(verdict(&cased), reference, "{}", cased);
        let look_alike = spelling(&keyword, &mask, true);
        if reference == Verdict::Write {
            prop_assert_eq!(verdict(&look_alike), Verdict::Write, "{}", look_alike);
        }
    }
}
