//! The JSON documents the workspace keeps on disk (runs, pipeline updates) may have been
//! edited by hand into any shape: they are written to without `value[key] = …`, which
//! panics on a value that is not an object.

use serde_json::{Map, Value};

/// What `v[key] = value` does — null becomes an object holding `key` — except that a value
/// which is neither null nor an object is left as it is instead of panicking.
pub(crate) fn set(v: &mut Value, key: &str, value: Value) {
    if v.is_null() {
        *v = Value::Object(Map::new());
    }
    if let Some(fields) = v.as_object_mut() {
        fields.insert(key.to_string(), value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sets_like_indexing_without_panicking() {
        let mut v = json!({"a": 1});
        set(&mut v, "b", json!(2));
        assert_eq!(v, json!({"a": 1, "b": 2}));
        let mut v = Value::Null;
        set(&mut v, "a", json!(1));
        assert_eq!(v, json!({"a": 1}));
        let mut v = json!([1]);
        set(&mut v, "a", json!(1));
        assert_eq!(v, json!([1]));
    }
}
