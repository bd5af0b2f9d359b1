//! Ready-made scripts for the hostile patterns that need more than one canned reply: listings
//! of any number of pages generated on demand, Link cycles, and redirect chains.

use super::Seen;
use super::reply::{Reply, Script};

/// The page number of a generated listing request: `?page=k`, 0 when absent.
fn page_of(seen: &Seen) -> u64 {
    seen.query_param("page").and_then(|page| page.parse().ok()).unwrap_or(0)
}

impl Script {
    /// A `_catalog` or `tags/list` at `path` whose page `k` (`?page=k`; the first request, with
    /// any other query, is page 0) lists one name `p<k>` under `field` and links to page
    /// `next(k)`, or to nothing when it is `None`. Pages are made on demand, so `next` may go on
    /// for a million pages or cycle (`|k| Some((k + 1) % 2)` is an A→B→A loop).
    pub fn linked_pages(
        path: &str,
        field: &'static str,
        next: impl Fn(u64) -> Option<u64> + Send + Sync + 'static,
    ) -> Script {
        let path = path.to_owned();
        Script::dynamic(move |seen| {
            let page = page_of(seen);
            let reply = Reply::json(serde_json::json!({ "name": "paged", field: [format!("p{page}")] }));
            match next(page) {
                Some(next) => reply.next_link(&format!("{path}?page={next}")),
                None => reply,
            }
        })
    }

    /// `pages` pages at `path` linked one after the other (see [`Script::linked_pages`]).
    pub fn pages(path: &str, field: &'static str, pages: u64) -> Script {
        Script::linked_pages(path, field, move |page| (page + 1 < pages).then_some(page + 1))
    }

    /// A page at `path` whose `next` link is the very URL that was requested.
    pub fn self_linked_page(field: &'static str) -> Script {
        Script::dynamic(move |seen| Reply::json(serde_json::json!({ field: ["self"] })).next_link(&seen.uri()))
    }

    /// A chain of redirects under `prefix`: `<prefix><k>` answers 307 to `<prefix><k+1>` until
    /// `hops`, which answers `last`. Point the first request at `<prefix>1`.
    pub fn redirect_chain(prefix: &str, hops: u32, last: Reply) -> Script {
        let prefix = prefix.to_owned();
        Script::dynamic(move |seen| {
            let hop: u32 = seen.path.strip_prefix(prefix.as_str()).and_then(|rest| rest.parse().ok()).unwrap_or(0);
            if hop >= hops { last.clone() } else { Reply::redirect(307, &format!("{prefix}{}", hop + 1)) }
        })
    }
}
