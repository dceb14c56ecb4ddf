//! Spark SQL functions that DataFusion lacks (or names/behaves differently), as scalar
//! UDFs with Databricks semantics. Aggregates and conditionals that map onto DataFusion
//! expressions (`if`, `count_if`, `collect_list`, `approx_count_distinct`, `explode`, ...)
//! are rewritten in the SQL text instead (see `dialect.rs`).

use std::sync::Arc;

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, Timelike};
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BinaryArray, Date32Array, Float64Array, Int32Array, Int64Array,
    ListBuilder, StringArray, StringBuilder, TimestampMicrosecondArray,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, TimeUnit};
use datafusion::common::{DataFusionError, Result, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use sha2::Digest;

/// What a [`SparkFn`] computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Year,
    Month,
    Day,
    Quarter,
    Hour,
    Minute,
    Second,
    DayOfWeek,
    DayOfYear,
    WeekOfYear,
    DateAdd,
    DateSub,
    DateDiff,
    AddMonths,
    LastDay,
    MonthsBetween,
    DateFormat,
    ToDate,
    ToTimestamp,
    UnixTimestamp,
    Sha2,
    Sha1,
    RegexpExtract,
    Split,
    PromoteInt,
    NonZero,
    FromUnixtime,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct SparkFn {
    name: &'static str,
    aliases: Vec<String>,
    kind: Kind,
    signature: Signature,
}

const TS: DataType = DataType::Timestamp(TimeUnit::Microsecond, None);

fn ts_utc() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

fn is_integer(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64
    )
}

fn is_stringish(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

impl SparkFn {
    fn new(name: &'static str, kind: Kind, aliases: &[&str]) -> SparkFn {
        SparkFn {
            name,
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
            kind,
            signature: Signature::user_defined(if kind == Kind::UnixTimestamp {
                Volatility::Stable
            } else {
                Volatility::Immutable
            }),
        }
    }

    fn arity(&self) -> (usize, usize) {
        use Kind::*;
        match self.kind {
            Year | Month | Day | Quarter | Hour | Minute | Second | DayOfWeek | DayOfYear
            | WeekOfYear | LastDay | PromoteInt | NonZero | Sha1 => (1, 1),
            FromUnixtime => (1, 2),
            DateAdd | DateSub | DateDiff | AddMonths | DateFormat | Sha2 => (2, 2),
            MonthsBetween => (2, 3),
            ToDate | ToTimestamp => (1, 2),
            UnixTimestamp => (0, 2),
            RegexpExtract => (2, 3),
            Split => (2, 3),
        }
    }
}

impl ScalarUDFImpl for SparkFn {
    fn name(&self) -> &str {
        self.name
    }
    fn aliases(&self) -> &[String] {
        &self.aliases
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        use Kind::*;
        let (min, max) = self.arity();
        if args.len() < min || args.len() > max {
            let expected = if min == max {
                format!("{min}")
            } else {
                format!("{min} to {max}")
            };
            return plan_err!(
                "[WRONG_NUM_ARGS] The `{}` requires {expected} parameters but the actual number is {}.",
                self.name,
                args.len()
            );
        }
        let temporal = |t: &DataType| match t {
            DataType::Null => Ok(TS),
            DataType::Date32
            | DataType::Date64
            | DataType::Timestamp(_, _)
            | DataType::Utf8
            | DataType::LargeUtf8
            | DataType::Utf8View => Ok(TS),
            other => plan_err!(
                "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] `{}` expects a DATE, TIMESTAMP or STRING, not {}.",
                self.name,
                crate::types::db_type(other).type_text
            ),
        };
        let date = |t: &DataType| match t {
            DataType::Null
            | DataType::Date32
            | DataType::Date64
            | DataType::Timestamp(_, _)
            | DataType::Utf8
            | DataType::LargeUtf8
            | DataType::Utf8View => Ok(DataType::Date32),
            other => plan_err!(
                "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] `{}` expects a DATE, TIMESTAMP or STRING, not {}.",
                self.name,
                crate::types::db_type(other).type_text
            ),
        };
        let int = |t: &DataType| {
            if is_integer(t) || matches!(t, DataType::Null) || is_stringish(t) {
                Ok(DataType::Int32)
            } else {
                plan_err!(
                    "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] `{}` expects an integer, not {}.",
                    self.name,
                    crate::types::db_type(t).type_text
                )
            }
        };
        // The arity was checked above; an argument missing all the same is an error.
        let arg = |i: usize| -> Result<&DataType> {
            args.get(i).ok_or_else(|| {
                DataFusionError::Plan(format!("`{}`: missing argument {i}", self.name))
            })
        };
        Ok(match self.kind {
            Year | Month | Day | Quarter | Hour | Minute | Second | DayOfWeek | DayOfYear
            | WeekOfYear => vec![temporal(arg(0)?)?],
            LastDay => vec![date(arg(0)?)?],
            DateAdd | DateSub | AddMonths => vec![date(arg(0)?)?, int(arg(1)?)?],
            DateDiff => vec![date(arg(0)?)?, date(arg(1)?)?],
            MonthsBetween => {
                let mut v = vec![temporal(arg(0)?)?, temporal(arg(1)?)?];
                if args.len() == 3 {
                    v.push(DataType::Boolean);
                }
                v
            }
            DateFormat => vec![temporal(arg(0)?)?, DataType::Utf8],
            ToDate | ToTimestamp | UnixTimestamp => args
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    if i == 0 && !is_stringish(t) && !matches!(t, DataType::Null) {
                        temporal(t)
                    } else {
                        Ok(DataType::Utf8)
                    }
                })
                .collect::<Result<_>>()?,
            Sha2 => vec![binary_or_string(arg(0)?), int(arg(1)?)?],
            Sha1 => vec![binary_or_string(arg(0)?)],
            RegexpExtract => {
                let mut v = vec![DataType::Utf8, DataType::Utf8];
                if args.len() == 3 {
                    v.push(int(arg(2)?)?);
                }
                v
            }
            Split => {
                let mut v = vec![DataType::Utf8, DataType::Utf8];
                if args.len() == 3 {
                    v.push(int(arg(2)?)?);
                }
                v
            }
            PromoteInt | NonZero => vec![arg(0)?.clone()],
            FromUnixtime => {
                let mut v = vec![DataType::Int64];
                if args.len() == 2 {
                    v.push(DataType::Utf8);
                }
                v
            }
        })
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        use Kind::*;
        Ok(match self.kind {
            Year | Month | Day | Quarter | Hour | Minute | Second | DayOfWeek | DayOfYear
            | WeekOfYear | DateDiff => DataType::Int32,
            DateAdd | DateSub | AddMonths | LastDay | ToDate => DataType::Date32,
            MonthsBetween => DataType::Float64,
            DateFormat | Sha2 | Sha1 | RegexpExtract | FromUnixtime => DataType::Utf8,
            NonZero => args.first().cloned().unwrap_or(DataType::Null),
            ToTimestamp => ts_utc(),
            UnixTimestamp => DataType::Int64,
            Split => DataType::List(Arc::new(Field::new("element", DataType::Utf8, true))),
            PromoteInt => match args.first() {
                Some(t) if is_integer(t) => DataType::Float64,
                Some(t) => t.clone(),
                None => DataType::Null,
            },
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        let arrays = args
            .args
            .into_iter()
            .map(|a| a.into_array(n))
            .collect::<Result<Vec<_>>>()?;
        let out = eval(self.kind, self.name, &arrays, n)?;
        Ok(ColumnarValue::Array(out))
    }
}

fn binary_or_string(t: &DataType) -> DataType {
    match t {
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => DataType::Binary,
        _ => DataType::Utf8,
    }
}

/// Microseconds since the epoch → naive date-time.
fn micros_to_dt(us: i64) -> Option<NaiveDateTime> {
    chrono::DateTime::from_timestamp_micros(us).map(|d| d.naive_utc())
}

fn days_to_date(days: i32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(1970, 1, 1)?.checked_add_signed(Duration::days(i64::from(days)))
}

fn date_to_days(d: NaiveDate) -> Option<i32> {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1)?;
    i32::try_from((d - epoch).num_days()).ok()
}

fn as_ts(a: &ArrayRef) -> Result<TimestampMicrosecondArray> {
    let c = cast(a, &TS)?;
    Ok(
        c.as_primitive::<datafusion::arrow::datatypes::TimestampMicrosecondType>()
            .clone(),
    )
}

fn as_date(a: &ArrayRef) -> Result<Date32Array> {
    let c = cast(a, &DataType::Date32)?;
    Ok(c.as_primitive::<datafusion::arrow::datatypes::Date32Type>()
        .clone())
}

fn as_i32(a: &ArrayRef) -> Result<Int32Array> {
    let c = cast(a, &DataType::Int32)?;
    Ok(c.as_primitive::<datafusion::arrow::datatypes::Int32Type>()
        .clone())
}

fn as_str(a: &ArrayRef) -> Result<StringArray> {
    let c = cast(a, &DataType::Utf8)?;
    Ok(c.as_string::<i32>().clone())
}

/// The `i`th argument of `name`; an error naming the function when the call has fewer.
fn arg<'a>(name: &str, a: &'a [ArrayRef], i: usize) -> Result<&'a ArrayRef> {
    a.get(i)
        .ok_or_else(|| DataFusionError::Execution(format!("{name}: missing argument {i}")))
}

/// Evaluates one call of a Spark function over `n` rows: hashes, regular expressions and
/// numeric checks here, dates and times in [`eval_datetime`].
fn eval(kind: Kind, name: &str, a: &[ArrayRef], n: usize) -> Result<ArrayRef> {
    use Kind::*;
    match kind {
        Sha2 | Sha1 => eval_sha(kind, name, a),
        RegexpExtract => eval_regexp_extract(name, a),
        Split => eval_split(name, a),
        NonZero => {
            let x = arg(name, a, 0)?;
            check_no_zero(x)?;
            Ok(Arc::clone(x))
        }
        FromUnixtime => eval_from_unixtime(name, a),
        PromoteInt => {
            let x = arg(name, a, 0)?;
            if is_integer(x.data_type()) {
                Ok(cast(x, &DataType::Float64)?)
            } else {
                Ok(Arc::clone(x))
            }
        }
        // The rest are dates and times.
        _ => eval_datetime(kind, name, a, n),
    }
}

/// `sha2(input, bits)` and `sha1(input)` as hex strings; NULL for an unsupported bit length.
fn eval_sha(kind: Kind, name: &str, a: &[ArrayRef]) -> Result<ArrayRef> {
    let input = arg(name, a, 0)?;
    let bytes: Vec<Option<Vec<u8>>> = match input.data_type() {
        DataType::Binary => input
            .as_any()
            .downcast_ref::<BinaryArray>()
            .map(|b| b.iter().map(|v| v.map(<[u8]>::to_vec)).collect())
            .unwrap_or_default(),
        _ => as_str(input)?
            .iter()
            .map(|v| v.map(|s| s.as_bytes().to_vec()))
            .collect(),
    };
    // `hash_hex` takes 1 to mean SHA-1.
    let bits: Vec<Option<i32>> = if kind == Kind::Sha1 {
        vec![Some(1); bytes.len()]
    } else {
        as_i32(arg(name, a, 1)?)?.iter().collect()
    };
    let mut b = StringBuilder::new();
    for (v, bits) in bytes.iter().zip(bits) {
        match (v, bits) {
            (Some(v), Some(bits)) => match hash_hex(v, bits) {
                Some(h) => b.append_value(h),
                None => b.append_null(),
            },
            _ => b.append_null(),
        }
    }
    Ok(Arc::new(b.finish()))
}

/// `regexp_extract(str, regexp[, idx])`: the `idx`th group (1 by default) of the first
/// match, an empty string when nothing matches.
fn eval_regexp_extract(name: &str, a: &[ArrayRef]) -> Result<ArrayRef> {
    let s = as_str(arg(name, a, 0)?)?;
    let p = as_str(arg(name, a, 1)?)?;
    let idx: Vec<Option<i32>> = match a.get(2) {
        Some(i) => as_i32(i)?.iter().collect(),
        None => vec![Some(1); s.len()],
    };
    let mut cache: Option<(String, regex::Regex)> = None;
    let mut b = StringBuilder::new();
    for ((v, p), i) in s.iter().zip(p.iter()).zip(idx) {
        let (Some(v), Some(p), Some(i)) = (v, p, i) else {
            b.append_null();
            continue;
        };
        let re = cached_regex(&mut cache, p)?;
        let group = usize::try_from(i).map_err(|_| {
            DataFusionError::Execution(format!(
                "[INVALID_PARAMETER_VALUE.REGEX_GROUP_INDEX] regexp_extract: group index {i} is negative."
            ))
        })?;
        if group >= re.captures_len() {
            return exec_err!(
                "[INVALID_PARAMETER_VALUE.REGEX_GROUP_INDEX] regexp_extract: the regex has {} groups, index {group} is out of range.",
                re.captures_len() - 1
            );
        }
        let found = re
            .captures(v)
            .and_then(|c| c.get(group).map(|m| m.as_str().to_string()))
            .unwrap_or_default();
        b.append_value(found);
    }
    Ok(Arc::new(b.finish()))
}

/// `split(str, regex[, limit])`: an array of strings; a positive `limit` caps the number
/// of parts, any other keeps them all.
fn eval_split(name: &str, a: &[ArrayRef]) -> Result<ArrayRef> {
    let s = as_str(arg(name, a, 0)?)?;
    let p = as_str(arg(name, a, 1)?)?;
    let limit: Vec<Option<i32>> = match a.get(2) {
        Some(i) => as_i32(i)?.iter().collect(),
        None => vec![Some(-1); s.len()],
    };
    let mut cache: Option<(String, regex::Regex)> = None;
    let mut b = ListBuilder::new(StringBuilder::new()).with_field(Arc::new(Field::new(
        "element",
        DataType::Utf8,
        true,
    )));
    for ((v, p), l) in s.iter().zip(p.iter()).zip(limit) {
        let (Some(v), Some(p)) = (v, p) else {
            b.append_null();
            continue;
        };
        let re = cached_regex(&mut cache, p)?;
        let l = l.unwrap_or(-1);
        let parts: Vec<&str> = if l > 0 {
            re.splitn(v, usize::try_from(l).unwrap_or(usize::MAX))
                .collect()
        } else {
            re.split(v).collect()
        };
        for part in parts {
            b.values().append_value(part);
        }
        b.append(true);
    }
    Ok(Arc::new(b.finish()))
}

/// The divisor check of Spark's `/`: a numeric zero is Databricks' DIVIDE_BY_ZERO error.
fn check_no_zero(x: &ArrayRef) -> Result<()> {
    let numeric = x.data_type().is_numeric();
    if numeric && let Ok(f) = cast(x, &DataType::Float64) {
        let f = f.as_primitive::<datafusion::arrow::datatypes::Float64Type>();
        if f.iter().any(|v| v == Some(0.0)) {
            return exec_err!(
                "[DIVIDE_BY_ZERO] Division by zero. Use `try_divide` to tolerate divisor being 0 and return NULL instead."
            );
        }
    }
    Ok(())
}

/// `from_unixtime(seconds[, format])`: a UTC time formatted with a Spark pattern.
fn eval_from_unixtime(name: &str, a: &[ArrayRef]) -> Result<ArrayRef> {
    let secs = cast(arg(name, a, 0)?, &DataType::Int64)?;
    let secs = secs.as_primitive::<datafusion::arrow::datatypes::Int64Type>();
    let fmts: Vec<Option<String>> = match a.get(1) {
        Some(f) => as_str(f)?.iter().map(|v| v.map(str::to_string)).collect(),
        None => vec![Some("yyyy-MM-dd HH:mm:ss".to_string()); secs.len()],
    };
    let mut b = StringBuilder::new();
    for (v, f) in secs.iter().zip(fmts) {
        match (v.and_then(|s| chrono::DateTime::from_timestamp(s, 0)), f) {
            (Some(d), Some(f)) => {
                let pattern = spark_to_chrono(&f)
                    .map_err(|e| DataFusionError::Execution(format!("from_unixtime: {e}")))?;
                b.append_value(d.naive_utc().format(&pattern).to_string());
            }
            _ => b.append_null(),
        }
    }
    Ok(Arc::new(b.finish()))
}

/// The date and time functions of [`eval`].
fn eval_datetime(kind: Kind, name: &str, a: &[ArrayRef], n: usize) -> Result<ArrayRef> {
    use Kind::*;
    let arg = |i: usize| arg(name, a, i);
    Ok(match kind {
        Year | Month | Day | Quarter | Hour | Minute | Second | DayOfWeek | DayOfYear
        | WeekOfYear => {
            let ts = as_ts(arg(0)?)?;
            let out: Int32Array = ts
                .iter()
                .map(|v| date_part(kind, micros_to_dt(v?)?))
                .collect();
            Arc::new(out)
        }
        DateAdd | DateSub => {
            let d = as_date(arg(0)?)?;
            let k = as_i32(arg(1)?)?;
            let out: Date32Array = d
                .iter()
                .zip(k.iter())
                .map(|(d, k)| {
                    let (d, k) = (d?, k?);
                    if kind == DateAdd {
                        d.checked_add(k)
                    } else {
                        d.checked_sub(k)
                    }
                })
                .collect();
            Arc::new(out)
        }
        DateDiff => {
            let e = as_date(arg(0)?)?;
            let s = as_date(arg(1)?)?;
            let out: Int32Array = e
                .iter()
                .zip(s.iter())
                .map(|(e, s)| e?.checked_sub(s?))
                .collect();
            Arc::new(out)
        }
        AddMonths => {
            let d = as_date(arg(0)?)?;
            let k = as_i32(arg(1)?)?;
            let out: Date32Array = d
                .iter()
                .zip(k.iter())
                .map(|(d, k)| date_to_days(add_months(days_to_date(d?)?, k?)?))
                .collect();
            Arc::new(out)
        }
        LastDay => {
            let d = as_date(arg(0)?)?;
            let out: Date32Array = d
                .iter()
                .map(|d| date_to_days(last_day_of_month(days_to_date(d?)?)?))
                .collect();
            Arc::new(out)
        }
        MonthsBetween => eval_months_between(name, a, n)?,
        DateFormat | ToDate | ToTimestamp | UnixTimestamp => eval_conversion(kind, name, a, n)?,
        other => {
            return Err(DataFusionError::Internal(format!(
                "{name}: {other:?} is not a date or time function"
            )));
        }
    })
}

/// The field of `d` that a date-part function (`year`, `month`, ... `weekofyear`) returns.
fn date_part(kind: Kind, d: NaiveDateTime) -> Option<i32> {
    use Kind::*;
    Some(match kind {
        Year => d.year(),
        Month => i32::try_from(d.month()).ok()?,
        Day => i32::try_from(d.day()).ok()?,
        Quarter => i32::try_from((d.month() - 1) / 3 + 1).ok()?,
        Hour => i32::try_from(d.hour()).ok()?,
        Minute => i32::try_from(d.minute()).ok()?,
        Second => i32::try_from(d.second()).ok()?,
        // Spark: 1 = Sunday ... 7 = Saturday.
        DayOfWeek => i32::try_from(d.weekday().num_days_from_sunday() + 1).ok()?,
        DayOfYear => i32::try_from(d.ordinal()).ok()?,
        _ => i32::try_from(d.iso_week().week()).ok()?,
    })
}

/// `add_months`: `k` months later (earlier when negative), clamped to the end of a
/// shorter month.
fn add_months(date: NaiveDate, k: i32) -> Option<NaiveDate> {
    if k >= 0 {
        date.checked_add_months(chrono::Months::new(u32::try_from(k).ok()?))
    } else {
        date.checked_sub_months(chrono::Months::new(k.unsigned_abs()))
    }
}

/// `last_day`: the last day of the month of `date`.
fn last_day_of_month(date: NaiveDate) -> Option<NaiveDate> {
    let first = NaiveDate::from_ymd_opt(date.year(), date.month(), 1)?;
    let next = first.checked_add_months(chrono::Months::new(1))?;
    next.pred_opt()
}

/// `months_between(end, start[, roundOff])`, rounded to 8 digits unless `roundOff` is false.
fn eval_months_between(name: &str, a: &[ArrayRef], n: usize) -> Result<ArrayRef> {
    let a1 = as_ts(arg(name, a, 0)?)?;
    let a2 = as_ts(arg(name, a, 1)?)?;
    let round_off: Vec<Option<bool>> = match a.get(2) {
        Some(r) => cast(r, &DataType::Boolean)?.as_boolean().iter().collect(),
        None => vec![Some(true); n],
    };
    let out: Float64Array = a1
        .iter()
        .zip(a2.iter())
        .zip(round_off)
        .map(|((x, y), r)| {
            let (x, y) = (micros_to_dt(x?)?, micros_to_dt(y?)?);
            let v = months_between(x, y);
            Some(if r.unwrap_or(true) {
                (v * 1e8).round() / 1e8
            } else {
                v
            })
        })
        .collect();
    Ok(Arc::new(out))
}

/// Dates and timestamps parsed from and formatted to strings, and Unix times.
fn eval_conversion(kind: Kind, name: &str, a: &[ArrayRef], n: usize) -> Result<ArrayRef> {
    use Kind::*;
    let arg = |i: usize| arg(name, a, i);
    Ok(match kind {
        DateFormat => {
            let ts = as_ts(arg(0)?)?;
            let fmt = as_str(arg(1)?)?;
            let mut b = StringBuilder::new();
            for (v, f) in ts.iter().zip(fmt.iter()) {
                match (v.and_then(micros_to_dt), f) {
                    (Some(d), Some(f)) => {
                        let pattern = spark_to_chrono(f)
                            .map_err(|e| DataFusionError::Execution(format!("date_format: {e}")))?;
                        b.append_value(d.format(&pattern).to_string());
                    }
                    _ => b.append_null(),
                }
            }
            Arc::new(b.finish())
        }
        ToDate => {
            let first = arg(0)?;
            if a.len() == 1 || !is_stringish(first.data_type()) {
                return Ok(Arc::new(as_date(first)?));
            }
            let s = as_str(first)?;
            let fmt = as_str(arg(1)?)?;
            let mut out = Vec::with_capacity(s.len());
            for (v, f) in s.iter().zip(fmt.iter()) {
                out.push(match (v, f) {
                    (Some(v), Some(f)) => parse_with(v, f)?.and_then(|d| date_to_days(d.date())),
                    _ => None,
                });
            }
            Arc::new(Date32Array::from(out))
        }
        ToTimestamp | UnixTimestamp => {
            let micros: Vec<Option<i64>> = if a.is_empty() {
                vec![Some(chrono::Utc::now().timestamp_micros()); n]
            } else {
                let first = arg(0)?;
                if a.len() == 1 || !is_stringish(first.data_type()) {
                    as_ts(first)?.iter().collect()
                } else {
                    let s = as_str(first)?;
                    let fmt = as_str(arg(1)?)?;
                    let mut out = Vec::with_capacity(s.len());
                    for (v, f) in s.iter().zip(fmt.iter()) {
                        out.push(match (v, f) {
                            (Some(v), Some(f)) => {
                                parse_with(v, f)?.map(|d| d.and_utc().timestamp_micros())
                            }
                            _ => None,
                        });
                    }
                    out
                }
            };
            if kind == UnixTimestamp {
                let out: Int64Array = micros
                    .into_iter()
                    .map(|m| m.map(|m| m.div_euclid(1_000_000)))
                    .collect();
                Arc::new(out)
            } else {
                Arc::new(TimestampMicrosecondArray::from(micros).with_timezone("UTC"))
            }
        }
        other => {
            return Err(DataFusionError::Internal(format!(
                "{name}: {other:?} is not a conversion function"
            )));
        }
    })
}

fn cached_regex<'c>(
    cache: &'c mut Option<(String, regex::Regex)>,
    pattern: &str,
) -> Result<&'c regex::Regex> {
    let stale = cache.as_ref().is_none_or(|(p, _)| p != pattern);
    if stale {
        let re = regex::Regex::new(pattern).map_err(|e| {
            DataFusionError::Execution(format!(
                "[INVALID_PARAMETER_VALUE.PATTERN] The regular expression '{pattern}' is invalid: {e}"
            ))
        })?;
        *cache = Some((pattern.to_string(), re));
    }
    match cache {
        Some((_, re)) => Ok(re),
        None => exec_err!("regex cache is empty"),
    }
}

fn hash_hex(bytes: &[u8], bits: i32) -> Option<String> {
    fn hex(d: &[u8]) -> String {
        d.iter().map(|b| format!("{b:02x}")).collect()
    }
    match bits {
        0 | 256 => Some(hex(&sha2::Sha256::digest(bytes))),
        224 => Some(hex(&sha2::Sha224::digest(bytes))),
        384 => Some(hex(&sha2::Sha384::digest(bytes))),
        512 => Some(hex(&sha2::Sha512::digest(bytes))),
        1 => Some(sha1_hex(bytes)),
        _ => None,
    }
}

/// SHA-1 (for Spark's `sha`/`sha1`); small enough to carry here.
fn sha1_hex(data: &[u8]) -> String {
    let mut h: [u32; 5] = [
        0x6745_2301,
        0xEFCD_AB89,
        0x98BA_DCFE,
        0x1032_5476,
        0xC3D2_E1F0,
    ];
    let mut msg = data.to_vec();
    let bit_len = (data.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bit_len.to_be_bytes());
    // The padded message is a whole number of 64-byte blocks.
    let (blocks, _) = msg.as_chunks::<64>();
    for block in blocks {
        let (words, _) = block.as_chunks::<4>();
        let mut w: Vec<u32> = Vec::with_capacity(80);
        w.extend(words.iter().map(|word| u32::from_be_bytes(*word)));
        // w[t] = (w[t-3] ^ w[t-8] ^ w[t-14] ^ w[t-16]) <<< 1, from the last 16 words.
        while w.len() < 80 {
            let Some(last) = w.last_chunk::<16>() else {
                break;
            };
            w.push((last[13] ^ last[8] ^ last[2] ^ last[0]).rotate_left(1));
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A82_7999),
                20..=39 => (b ^ c ^ d, 0x6ED9_EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
                _ => (b ^ c ^ d, 0xCA62_C1D6),
            };
            let t = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        h[0] = h[0].wrapping_add(a);
        h[1] = h[1].wrapping_add(b);
        h[2] = h[2].wrapping_add(c);
        h[3] = h[3].wrapping_add(d);
        h[4] = h[4].wrapping_add(e);
    }
    h.iter().map(|v| format!("{v:08x}")).collect()
}

/// Spark `months_between(end, start)`: whole months when both are the same day of month or
/// both the last day of their months, else a fraction based on 31-day months.
fn months_between(x: NaiveDateTime, y: NaiveDateTime) -> f64 {
    let months = f64::from((x.year() - y.year()) * 12 + (x.month() as i32 - y.month() as i32));
    let last = |d: NaiveDateTime| d.date().succ_opt().is_none_or(|n| n.month() != d.month());
    if x.day() == y.day() || (last(x) && last(y)) {
        return months;
    }
    let secs =
        |d: NaiveDateTime| f64::from(d.day()) * 86_400.0 + f64::from(d.num_seconds_from_midnight());
    months + (secs(x) - secs(y)) / (31.0 * 86_400.0)
}

/// Parses `value` with a Spark datetime pattern; `Ok(None)` when it does not match.
fn parse_with(value: &str, spark_pattern: &str) -> Result<Option<NaiveDateTime>> {
    let pattern = spark_to_chrono(spark_pattern)
        .map_err(|e| DataFusionError::Execution(format!("to_date/to_timestamp: {e}")))?;
    if let Ok(dt) = NaiveDateTime::parse_from_str(value, &pattern) {
        return Ok(Some(dt));
    }
    if let Ok(d) = NaiveDate::parse_from_str(value, &pattern) {
        return Ok(d.and_hms_opt(0, 0, 0));
    }
    Ok(None)
}

/// Converts a Spark (Java `DateTimeFormatter`) pattern to a chrono `strftime` pattern.
pub(crate) fn spark_to_chrono(p: &str) -> std::result::Result<String, String> {
    let mut chars = p.chars().peekable();
    let mut out = String::new();
    while let Some(c) = chars.next() {
        if c == '\'' {
            // Quoted literal; '' is a single quote.
            if chars.next_if_eq(&'\'').is_some() {
                out.push('\'');
                continue;
            }
            while let Some(d) = chars.next() {
                if d == '\'' {
                    if chars.next_if_eq(&'\'').is_some() {
                        out.push('\'');
                        continue;
                    }
                    break;
                }
                if d == '%' {
                    out.push_str("%%");
                } else {
                    out.push(d);
                }
            }
            continue;
        }
        if !c.is_ascii_alphabetic() {
            if c == '%' {
                out.push_str("%%");
            } else {
                out.push(c);
            }
            continue;
        }
        let mut n = 1;
        while chars.next_if_eq(&c).is_some() {
            n += 1;
        }
        let piece = match (c, n) {
            ('y', 2) => "%y",
            ('y', _) | ('u', _) => "%Y",
            ('M', 1) | ('L', 1) => "%-m",
            ('M', 2) | ('L', 2) => "%m",
            ('M', 3) | ('L', 3) => "%b",
            ('M', _) | ('L', _) => "%B",
            ('d', 1) => "%-d",
            ('d', _) => "%d",
            ('D', _) => "%j",
            ('H', 1) => "%-H",
            ('H', _) => "%H",
            ('h', 1) => "%-I",
            ('h', _) => "%I",
            ('k', _) => "%H",
            ('K', _) => "%I",
            ('m', 1) => "%-M",
            ('m', _) => "%M",
            ('s', 1) => "%-S",
            ('s', _) => "%S",
            ('S', 1) => "%1f",
            ('S', 2) => "%2f",
            ('S', 3) => "%3f",
            ('S', 6) => "%6f",
            ('S', 9) => "%9f",
            ('S', _) => "%3f",
            ('a', _) => "%p",
            ('E', 1..=3) => "%a",
            ('E', _) => "%A",
            ('Q', _) | ('q', _) => return Err(format!("quarter pattern '{c}' is not supported")),
            ('w', _) => "%V",
            ('e', _) => "%u",
            ('Z', _) => "%z",
            ('X', 1..=2) | ('x', 1..=2) => "%z",
            ('X', _) | ('x', _) => "%:z",
            ('V', _) | ('z', _) => "%Z",
            ('G', _) => return Err("era pattern 'G' is not supported".into()),
            _ => return Err(format!("unknown pattern letter '{c}' in '{p}'")),
        };
        out.push_str(piece);
    }
    Ok(out)
}

/// The functions, to register on every session (after DataFusion's own, which they
/// replace where names collide: `date_format`, `to_date`, `to_timestamp`, `from_unixtime`).
pub(crate) fn udfs() -> Vec<Arc<ScalarUDF>> {
    use Kind::*;
    let fns = [
        SparkFn::new("year", Year, &[]),
        SparkFn::new("month", Month, &[]),
        SparkFn::new("day", Day, &["dayofmonth"]),
        SparkFn::new("quarter", Quarter, &[]),
        SparkFn::new("hour", Hour, &[]),
        SparkFn::new("minute", Minute, &[]),
        SparkFn::new("second", Second, &[]),
        SparkFn::new("dayofweek", DayOfWeek, &[]),
        SparkFn::new("dayofyear", DayOfYear, &[]),
        SparkFn::new("weekofyear", WeekOfYear, &[]),
        SparkFn::new("date_add", DateAdd, &[]),
        SparkFn::new("date_sub", DateSub, &[]),
        SparkFn::new("datediff", DateDiff, &[]),
        SparkFn::new("add_months", AddMonths, &[]),
        SparkFn::new("last_day", LastDay, &[]),
        SparkFn::new("months_between", MonthsBetween, &[]),
        SparkFn::new("date_format", DateFormat, &[]),
        SparkFn::new("to_date", ToDate, &[]),
        SparkFn::new("to_timestamp", ToTimestamp, &[]),
        SparkFn::new("unix_timestamp", UnixTimestamp, &[]),
        SparkFn::new("sha2", Sha2, &[]),
        SparkFn::new("sha1", Sha1, &["sha"]),
        SparkFn::new("regexp_extract", RegexpExtract, &[]),
        SparkFn::new("split", Split, &[]),
        SparkFn::new(PROMOTE_INT, PromoteInt, &[]),
        SparkFn::new(NONZERO, NonZero, &[]),
        SparkFn::new("from_unixtime", FromUnixtime, &[]),
    ];
    fns.into_iter()
        .map(|f| Arc::new(ScalarUDF::new_from_impl(f)))
        .collect()
}

/// Internal function wrapped around the left operand of `/` so that integer division
/// returns a DOUBLE as in Spark (`7 / 2` = 3.5).
pub(crate) const PROMOTE_INT: &str = "__spark_promote_int";

/// Internal function wrapped around the right operand of `/`: raises DIVIDE_BY_ZERO as
/// Databricks SQL (ANSI mode) does.
pub(crate) const NONZERO: &str = "__spark_nonzero_divisor";

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert_eq!(spark_to_chrono("yyyy-MM-dd").as_deref(), Ok("%Y-%m-%d"));
        assert_eq!(
            spark_to_chrono("yyyy-MM-dd HH:mm:ss").as_deref(),
            Ok("%Y-%m-%d %H:%M:%S")
        );
        assert_eq!(spark_to_chrono("MMM d, yyyy").as_deref(), Ok("%b %-d, %Y"));
        assert_eq!(spark_to_chrono("yyyy'T'HH").as_deref(), Ok("%YT%H"));
        assert!(spark_to_chrono("GGG").is_err());
        assert_eq!(
            spark_to_chrono("h 'o''clock' ''%").as_deref(),
            Ok("%-I o'clock '%%")
        );
        assert_eq!(spark_to_chrono("'open").as_deref(), Ok("open"));
    }

    #[test]
    fn sha1_known_answer() {
        assert_eq!(sha1_hex(b"abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(sha1_hex(b""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        // Two blocks once padded.
        assert_eq!(
            sha1_hex(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
        );
    }

    #[test]
    fn months_between_spark_examples() {
        let p = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap();
        let v = months_between(p("1997-02-28 10:30:00"), p("1996-10-30 00:00:00"));
        assert!((v - 3.94959677).abs() < 1e-6, "{v}");
    }
}
