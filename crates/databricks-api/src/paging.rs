//! The paging schemes of the reference (REFERENCE.md §0): which page a request asks for.
//! Servers apply them; the client sends what they expect.

use crate::error::ApiError;

/// Unity Catalog lists (§3): how many items one answer carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UcPageRule {
    /// Page size when `max_results` is 0 (server-chosen).
    pub default: usize,
    /// Largest page a caller may ask for.
    pub cap: usize,
}

impl UcPageRule {
    /// Catalogs, schemas, tables and functions.
    pub const OBJECTS: UcPageRule = UcPageRule {
        default: 50,
        cap: 1000,
    };
    /// Volumes and table summaries (server cap 10,000).
    pub const LARGE: UcPageRule = UcPageRule {
        default: 1000,
        cap: 10_000,
    };

    /// `max_results` absent ⇒ everything in one answer (`None`, legacy); 0 ⇒ the
    /// server's page size; `> 0` ⇒ min(value, cap); `< 0` ⇒ 400.
    pub fn page_size(self, max_results: Option<i64>) -> Result<Option<usize>, ApiError> {
        match max_results {
            None => Ok(None),
            Some(0) => Ok(Some(self.default)),
            Some(n) if n < 0 => Err(ApiError::invalid_parameter(
                "max_results must be greater than or equal to 0",
            )),
            Some(n) => Ok(Some(usize::try_from(n).unwrap_or(usize::MAX).min(self.cap))),
        }
    }
}

/// Items `offset..offset + size` of `items` (all the rest when `size` is `None`) and the
/// offset of the next page when there is one.
pub fn slice<T>(mut items: Vec<T>, offset: usize, size: Option<usize>) -> (Vec<T>, Option<usize>) {
    let start = offset.min(items.len());
    let end = match size {
        None => items.len(),
        Some(size) => start.saturating_add(size.max(1)).min(items.len()),
    };
    let next = (end < items.len()).then_some(end);
    items.truncate(end);
    items.drain(..start);
    (items, next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unity_catalog_max_results_rules() {
        let rule = UcPageRule::OBJECTS;
        assert_eq!(rule.page_size(None), Ok(None));
        assert_eq!(rule.page_size(Some(0)), Ok(Some(50)));
        assert_eq!(rule.page_size(Some(7)), Ok(Some(7)));
        assert_eq!(rule.page_size(Some(5000)), Ok(Some(1000)));
        assert_eq!(rule.page_size(Some(-1)).map_err(|e| e.status), Err(400));
    }

    #[test]
    fn slices_pages_and_the_next_offset() {
        let items: Vec<u32> = (0..10).collect();
        assert_eq!(slice(items.clone(), 0, None), (items.clone(), None));
        assert_eq!(
            slice(items.clone(), 0, Some(4)),
            (vec![0, 1, 2, 3], Some(4))
        );
        assert_eq!(slice(items.clone(), 8, Some(4)), (vec![8, 9], None));
        assert_eq!(slice(items, 12, Some(4)), (vec![], None));
    }
}
