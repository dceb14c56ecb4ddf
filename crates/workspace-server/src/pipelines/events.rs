//! A pipeline's event log (§6.5): `filter` and `order_by` on the first call only — a page
//! token may come with `max_results` alone, so the token carries the listing it continues.

use databricks_api::backend::Pipelines;
use databricks_api::error::ApiError;
use databricks_api::paging::slice;
use databricks_api::pipelines::{PipelineEvent, PipelineEventsPage, pipeline_not_found};

use super::{Answer, EVENTS_PAGE, page_size, quoted};
use crate::paging::{decode_cursor, encode_cursor};
use crate::request::ApiRequest;
use crate::response::json_response;

/// The parameters a page token may not come with.
const LISTING_PARAMETERS: [&str; 2] = ["filter", "order_by"];

/// Newest first unless `order_by` is `timestamp asc`; filtered; token pages with a way back.
pub(super) async fn list(backend: &dyn Pipelines, req: &ApiRequest, id: &str) -> Answer {
    let size = page_size(req, EVENTS_PAGE)?;
    let scope = format!("pipeline-events/{id}");
    let listing = match decode_cursor(&scope, req.param("page_token")?.as_deref())? {
        Some(cursor) => {
            for name in LISTING_PARAMETERS {
                if req.param_values(name)?.iter().any(|v| !v.trim().is_empty()) {
                    return Err(ApiError::invalid_parameter(
                        "When page_token is specified, no parameter other than max_results may be specified.",
                    ));
                }
            }
            Listing::from_cursor(&cursor)?
        }
        None => Listing {
            offset: 0,
            ascending: ascending(&req.param_values("order_by")?)?,
            filter: req.param("filter")?.unwrap_or_default(),
        },
    };
    let conditions = parse_filter(&listing.filter)?;
    let mut events: Vec<PipelineEvent> = backend
        .events(id)
        .await?
        .ok_or_else(|| pipeline_not_found(id))?
        .into_iter()
        .filter(|e| conditions.iter().all(|c| c.matches(e)))
        .collect();
    // Newest first by time; the sort is stable, so events of one millisecond keep the
    // backend's order (newest first).
    events.sort_by_key(|e| {
        std::cmp::Reverse(
            e.timestamp
                .as_deref()
                .and_then(epoch_ms)
                .unwrap_or(i64::MIN),
        )
    });
    if listing.ascending {
        events.reverse();
    }
    let offset = listing.offset;
    let (events, next) = slice(events, offset, Some(size));
    let token = |offset: usize| encode_cursor(&scope, &listing.at(offset).cursor());
    Ok(json_response(
        200,
        &PipelineEventsPage {
            events,
            next_page_token: next.map(token),
            prev_page_token: (offset > 0).then(|| token(offset.saturating_sub(size))),
        },
    ))
}

/// What a page token continues: the offset, the order and the filter of the first call.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Listing {
    offset: usize,
    ascending: bool,
    filter: String,
}

impl Listing {
    fn at(&self, offset: usize) -> Listing {
        Listing {
            offset,
            ..self.clone()
        }
    }

    fn cursor(&self) -> String {
        let order = if self.ascending { "asc" } else { "desc" };
        format!("{}:{order}:{}", self.offset, self.filter)
    }

    fn from_cursor(cursor: &str) -> Result<Listing, ApiError> {
        let invalid = || {
            ApiError::invalid_parameter("Invalid page token: pass back a token this server sent.")
        };
        let (offset, rest) = cursor.split_once(':').ok_or_else(invalid)?;
        let (order, filter) = rest.split_once(':').ok_or_else(invalid)?;
        Ok(Listing {
            offset: offset.parse().map_err(|_| invalid())?,
            ascending: match order {
                "asc" => true,
                "desc" => false,
                _ => return Err(invalid()),
            },
            filter: filter.to_string(),
        })
    }
}

/// `order_by`: `timestamp asc` or `timestamp desc` (the default).
fn ascending(values: &[String]) -> Result<bool, ApiError> {
    let mut ascending = false;
    for value in values.iter().filter(|v| !v.trim().is_empty()) {
        let words: Vec<String> = value
            .split_whitespace()
            .map(str::to_ascii_lowercase)
            .collect();
        ascending = match words
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice()
        {
            ["timestamp"] | ["timestamp", "desc"] => false,
            ["timestamp", "asc"] => true,
            _ => {
                return Err(super::invalid_order(value, "timestamp"));
            }
        };
    }
    Ok(ascending)
}

/// One condition of an event filter.
#[derive(Debug, Clone, PartialEq)]
enum Condition {
    /// `level = 'X'` or `level in ('X', 'Y')`.
    Level(Vec<String>),
    /// `id = '…'` or `id in (…)`.
    Id(Vec<String>),
    /// `timestamp <op> '<RFC 3339>'`, as epoch milliseconds.
    Timestamp(Comparison, i64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Comparison {
    Less,
    LessOrEqual,
    Equal,
    GreaterOrEqual,
    Greater,
}

impl Condition {
    fn matches(&self, event: &PipelineEvent) -> bool {
        match self {
            Condition::Level(levels) => event
                .level
                .as_ref()
                .is_some_and(|l| levels.iter().any(|x| x.eq_ignore_ascii_case(l))),
            Condition::Id(ids) => event.id.as_ref().is_some_and(|id| ids.contains(id)),
            Condition::Timestamp(op, bound) => {
                let Some(at) = event.timestamp.as_deref().and_then(epoch_ms) else {
                    return false;
                };
                match op {
                    Comparison::Less => at < *bound,
                    Comparison::LessOrEqual => at <= *bound,
                    Comparison::Equal => at == *bound,
                    Comparison::GreaterOrEqual => at >= *bound,
                    Comparison::Greater => at > *bound,
                }
            }
        }
    }
}

/// The conditions of `filter` joined by `AND` (§6.5: `level='ERROR'`, `level in
/// ('ERROR','WARN')`, `id='…'`, `timestamp > '2021-07-22T06:37:33.083Z'`).
fn parse_filter(filter: &str) -> Result<Vec<Condition>, ApiError> {
    if filter.trim().is_empty() {
        return Ok(Vec::new());
    }
    split_and(filter)
        .iter()
        .map(|part| {
            parse_condition(part).ok_or_else(|| {
                ApiError::invalid_parameter(format!(
                    "Invalid filter condition '{}': use level='…', level in ('…', …), id='…' or timestamp <op> '<RFC 3339 time>', joined by AND.",
                    part.trim()
                ))
            })
        })
        .collect()
}

/// `filter` split at each `AND` outside string literals.
fn split_and(filter: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut in_literal = false;
    for word in filter.split_inclusive(char::is_whitespace) {
        if !in_literal && word.trim().eq_ignore_ascii_case("and") {
            parts.push(String::new());
            continue;
        }
        in_literal ^= word.matches('\'').count() % 2 == 1;
        if let Some(last) = parts.last_mut() {
            last.push_str(word);
        }
    }
    parts
}

fn parse_condition(text: &str) -> Option<Condition> {
    let text = text.trim();
    let field_end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    let (field, rest) = text.split_at(field_end);
    let rest = rest.trim_start();
    match field.to_ascii_lowercase().as_str() {
        "level" => values(rest).map(Condition::Level),
        "id" => values(rest).map(Condition::Id),
        "timestamp" => {
            let (op, literal) = [
                ("<=", Comparison::LessOrEqual),
                (">=", Comparison::GreaterOrEqual),
                ("<", Comparison::Less),
                (">", Comparison::Greater),
                ("=", Comparison::Equal),
            ]
            .into_iter()
            .find_map(|(symbol, op)| rest.strip_prefix(symbol).map(|literal| (op, literal)))?;
            Some(Condition::Timestamp(op, epoch_ms(&quoted(literal)?)?))
        }
        _ => None,
    }
}

/// `= 'x'` or `in ('x', 'y')`.
fn values(rest: &str) -> Option<Vec<String>> {
    if let Some(literal) = rest.strip_prefix('=') {
        return quoted(literal).map(|v| vec![v]);
    }
    let (keyword, list) = rest.split_at_checked(2)?;
    if !keyword.eq_ignore_ascii_case("in") {
        return None;
    }
    let inner = list.trim().strip_prefix('(')?.strip_suffix(')')?;
    let items: Option<Vec<String>> = inner.split(',').map(quoted).collect();
    items.filter(|v| !v.is_empty())
}

/// Epoch milliseconds of an RFC 3339 time (`2021-07-22T06:37:33.083Z`, `…+02:00`).
fn epoch_ms(text: &str) -> Option<i64> {
    let text = text.trim();
    let number = |from: usize, to: usize| -> Option<i64> {
        let digits = text.get(from..to)?;
        digits
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| digits.parse().ok())?
    };
    let separators = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
    if separators
        .iter()
        .any(|(at, byte)| text.as_bytes().get(*at) != Some(byte))
        || !matches!(text.as_bytes().get(10), Some(b'T' | b't' | b' '))
    {
        return None;
    }
    let (year, month, day) = (number(0, 4)?, number(5, 7)?, number(8, 10)?);
    let (hour, minute, second) = (number(11, 13)?, number(14, 16)?, number(17, 19)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = text.get(19..)?;
    let mut millis = 0;
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        let padded = format!("{:0<3}", fraction.get(..digits.min(3))?);
        millis = padded.parse::<i64>().ok().filter(|_| digits > 0)?;
        rest = fraction.get(digits..)?;
    }
    let offset_minutes = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let (h, m) = rest.get(1..)?.split_once(':')?;
            if h.len() != 2 || m.len() != 2 {
                return None;
            }
            sign * (h.parse::<i64>().ok()? * 60 + m.parse::<i64>().ok()?)
        }
    };
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    Some(seconds * 1000 + millis)
}

/// Days from 1970-01-01 of a date of the proleptic Gregorian calendar.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_times_are_read_to_the_millisecond() {
        assert_eq!(epoch_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            epoch_ms("2024-03-01T02:00:05.123Z"),
            Some(1_709_258_405_123)
        );
        assert_eq!(
            epoch_ms("2024-03-01T04:00:05.1+02:00"),
            Some(1_709_258_405_100)
        );
        for bad in [
            "2024-03-01",
            "2024-13-01T00:00:00Z",
            "2024-03-01T00:00:00",
            "x",
        ] {
            assert_eq!(epoch_ms(bad), None, "{bad}");
        }
    }

    #[test]
    fn filters_are_conditions_joined_by_and() {
        assert_eq!(
            parse_filter("level in ('ERROR','WARN') AND timestamp > '1970-01-01T00:00:01Z'"),
            Ok(vec![
                Condition::Level(vec!["ERROR".into(), "WARN".into()]),
                Condition::Timestamp(Comparison::Greater, 1000),
            ])
        );
        assert_eq!(
            parse_filter("id = 'a and b'"),
            Ok(vec![Condition::Id(vec!["a and b".into()])])
        );
        for bad in [
            "level",
            "level > 'ERROR'",
            "owner='x'",
            "timestamp > 'soon'",
            "level in ()",
        ] {
            assert!(parse_filter(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn listings_round_trip_through_cursors() {
        let listing = Listing {
            offset: 7,
            ascending: true,
            filter: "timestamp > '2024-01-01T00:00:00Z'".into(),
        };
        assert_eq!(Listing::from_cursor(&listing.cursor()), Ok(listing));
        assert!(Listing::from_cursor("x:asc:").is_err());
    }
}
