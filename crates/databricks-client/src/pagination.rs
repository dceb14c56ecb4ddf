//! Pagination over every scheme of the REST reference: `next_page_token` (Unity
//! Catalog, warehouses, clusters, pipelines…), token plus `has_more` (Jobs), token plus
//! `has_next_page` (query history) and result chunks (statements, see `services::sql`).
//!
//! Each list call returns one [`Page`]; [`collect_pages`] walks pages up to a bound.
//! Pages may be short or even empty while a token is still present (Unity Catalog),
//! so only the token's absence ends a listing.

use std::future::Future;

use crate::error::Error;

/// One page of a listing and the opaque token of the next one.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_page_token: Option<String>,
}

impl<T> Page<T> {
    /// A page from the plain token scheme (an empty token means the end).
    pub fn from_token(items: Vec<T>, next_page_token: Option<String>) -> Page<T> {
        Page {
            items,
            next_page_token: non_empty(next_page_token),
        }
    }

    /// A page from a scheme that also says whether more exist (`has_more`,
    /// `has_next_page`): a `false` flag ends the listing whatever the token says.
    pub fn from_flagged(
        items: Vec<T>,
        next_page_token: Option<String>,
        more: Option<bool>,
    ) -> Page<T> {
        let token = non_empty(next_page_token);
        Page {
            items,
            next_page_token: if more == Some(false) { None } else { token },
        }
    }
}

fn non_empty(token: Option<String>) -> Option<String> {
    token.filter(|t| !t.is_empty())
}

/// Upper bound on pages walked by [`collect_pages`], so a server that keeps returning
/// tokens cannot loop us forever.
pub const MAX_PAGES: usize = 200;

/// Fetches pages starting at `start` until at least `want` items are gathered or the
/// listing ends. Returns every item fetched (whole pages, so nothing is skipped) and
/// the token to resume from.
pub async fn collect_pages<T, F, Fut>(
    start: Option<String>,
    want: usize,
    mut fetch: F,
) -> Result<Page<T>, Error>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<Page<T>, Error>>,
{
    let mut items = Vec::new();
    let mut token = start;
    for _ in 0..MAX_PAGES {
        let page = fetch(token.clone()).await?;
        let repeated = page.next_page_token.is_some() && page.next_page_token == token;
        items.extend(page.items);
        token = page.next_page_token;
        if token.is_none() || repeated || items.len() >= want {
            if repeated {
                token = None;
            }
            break;
        }
    }
    Ok(Page {
        items,
        next_page_token: token,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_tokens_end_listing() {
        assert_eq!(
            Page::<u8>::from_token(vec![], Some(String::new())).next_page_token,
            None
        );
        assert_eq!(
            Page::<u8>::from_flagged(vec![], Some("t".into()), Some(false)).next_page_token,
            None
        );
        assert_eq!(
            Page::<u8>::from_flagged(vec![], Some("t".into()), None).next_page_token,
            Some("t".into())
        );
    }

    #[tokio::test]
    async fn walks_short_and_empty_pages() {
        // Pages: [1], [], [2,3], end.
        let pages = vec![
            Page::from_token(vec![1], Some("a".into())),
            Page::from_token(vec![], Some("b".into())),
            Page::from_token(vec![2, 3], None),
        ];
        let mut it = pages.into_iter();
        let got = collect_pages(None, 10, |_| {
            let next = it.next();
            async move { next.ok_or(Error::Cancelled) }
        })
        .await;
        let got = got.ok();
        assert_eq!(got.map(|p| p.items), Some(vec![1, 2, 3]));
    }
}
