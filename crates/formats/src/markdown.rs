//! Markdown (a chart's README, an artifact's description) rendered to HTML that is safe to put
//! in a page: CommonMark with tables, strikethrough and task lists by `pulldown-cmark`, then
//! sanitized by `ammonia` against a short list of tags.
//!
//! What comes out:
//! - **Raw HTML is dropped, its text kept**: an HTML block in the markdown is reduced to its
//!   text content (tags and comments removed, the bodies of `<script>`, `<style>`,
//!   `<textarea>` and `<title>` removed, the rest escaped), and an inline tag or comment is dropped while the markdown around and between
//!   tags stays, so a README's `<details>` or `<p align=center>` still shows its words but
//!   never its markup.
//! - Links keep their `href` only for `http` and `https` (relative, `mailto:`, `javascript:`,
//!   `data:` … lose it and stay as plain text in an `<a>`), and every `<a>` gets
//!   `rel="noopener noreferrer nofollow"`.
//! - No images (the page has a CSP and remote images would track readers): an image becomes
//!   its alt text, as a link to its URL when that is http(s) and the image is not already inside
//!   a link (badges).
//! - Task list checkboxes become ☐ / ☑ text; no `<input>`, `<form>`, `<iframe>`, `<script>`,
//!   and no `style`, `class`, `id` or event attributes.
//!
//! Input past [`MAX_MARKDOWN_BYTES`] is cut (on a char boundary) and the output ends with a
//! note saying so; tags nested deeper than [`MAX_DEPTH`] are left out, their content kept.

use std::collections::{HashMap, HashSet};

use pulldown_cmark::{Alignment, CowStr, Event, LinkType, Options, Parser, Tag, TagEnd};

/// Largest markdown input rendered, in bytes; the rest is cut.
pub const MAX_MARKDOWN_BYTES: usize = 256 * 1024;
/// The `rel` every link gets.
pub const LINK_REL: &str = "noopener noreferrer nofollow";
/// Deepest nesting of tags written; deeper tags are left out and their content kept.
pub const MAX_DEPTH: usize = 64;
/// What ends the output when the input was cut.
const CUT_NOTE: &str = "<p><em>… (truncated)</em></p>";

/// Tags that may survive the sanitizer: exactly what pulldown-cmark writes for the enabled
/// extensions, less `img` and `input`.
const TAGS: &str = "a blockquote br code del em h1 h2 h3 h4 h5 h6 hr li ol p pre strong table tbody td th thead tr ul";

/// `markdown` as sanitized HTML (see the module documentation for what is kept).
pub fn safe_html(markdown: &str) -> String {
    let (markdown, cut) = cap(markdown);
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let events = Rewriter::default().rewrite(Parser::new_ext(markdown, options));
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, flatten_deep(events));
    let mut safe = sanitizer().clean(&html).to_string();
    if cut {
        safe.push_str(CUT_NOTE);
    }
    safe
}

/// `events` with every tag nested deeper than [`MAX_DEPTH`] left out (its content kept): the
/// HTML parser in the sanitizer slows down quadratically with nesting depth.
fn flatten_deep<'a>(events: Vec<Event<'a>>) -> impl Iterator<Item = Event<'a>> {
    let mut kept = Vec::new();
    let mut depth = 0;
    events.into_iter().filter(move |event| match event {
        Event::Start(_) => {
            let keep = depth < MAX_DEPTH;
            depth += usize::from(keep);
            kept.push(keep);
            keep
        }
        Event::End(_) => {
            let keep = kept.pop().unwrap_or(false);
            depth -= usize::from(keep);
            keep
        }
        _ => true,
    })
}

/// `markdown` cut to [`MAX_MARKDOWN_BYTES`] on a char boundary, and whether it was cut.
fn cap(markdown: &str) -> (&str, bool) {
    if markdown.len() <= MAX_MARKDOWN_BYTES {
        return (markdown, false);
    }
    let mut end = MAX_MARKDOWN_BYTES;
    while !markdown.is_char_boundary(end) {
        end -= 1;
    }
    (&markdown[..end], true)
}

/// The final pass: only [`TAGS`], only `href`/`title` on links and `start` on ordered lists,
/// only http(s) URLs, comments and the bodies of `script`/`style` dropped.
fn sanitizer() -> ammonia::Builder<'static> {
    let mut builder = ammonia::Builder::empty();
    builder
        .tags(TAGS.split_whitespace().collect())
        .clean_content_tags(HashSet::from(["script", "style"]))
        .generic_attributes(HashSet::new())
        .generic_attribute_prefixes(HashSet::new())
        .tag_attributes(HashMap::from([("a", HashSet::from(["href", "title"])), ("ol", HashSet::from(["start"]))]))
        .tag_attribute_values(HashMap::new())
        .allowed_classes(HashMap::new())
        .url_schemes(HashSet::from(["http", "https"]))
        .url_relative(ammonia::UrlRelative::Deny)
        .link_rel(Some(LINK_REL))
        .strip_comments(true)
        .id_prefix(None);
    builder
}

/// Raw HTML reduced to its text content, escaped: tags (attributes and all), comments and the
/// bodies of `script`, `style`, `textarea` and `title` go; entities stay for the sanitizer to
/// read. A linear scan rather than an HTML parse, so that deeply nested raw HTML costs nothing;
/// what it leaves has every `<` and `>` escaped, so it cannot open a tag whatever it missed.
fn html_text(html: &str) -> String {
    const RAW_TEXT: [&str; 4] = ["script", "style", "textarea", "title"];
    let lower = html.to_ascii_lowercase();
    let mut text = String::new();
    let mut at = 0;
    while let Some(open) = html[at..].find('<').map(|offset| at + offset) {
        escape_into(&mut text, &html[at..open]);
        let tail = &lower[open + 1..];
        at = if tail.starts_with("!--") {
            lower[open + 4..].find("-->").map_or(html.len(), |end| open + 4 + end + 3)
        } else if tail.starts_with(|c: char| c.is_ascii_alphabetic() || matches!(c, '/' | '!' | '?')) {
            let end = tag_end(html, open + 1);
            let name_len = tail.find(|c: char| !c.is_ascii_alphanumeric()).unwrap_or(tail.len());
            match RAW_TEXT.iter().find(|name| **name == &tail[..name_len]) {
                Some(name) => {
                    lower[end..].find(&format!("</{name}")).map_or(html.len(), |close| tag_end(html, end + close + 1))
                }
                None => end,
            }
        } else {
            text.push_str("&lt;");
            open + 1
        };
    }
    escape_into(&mut text, &html[at..]);
    text
}

/// Just past the `>` that closes the tag whose name starts at `from` (quoted `>` skipped), or
/// the end of `html`.
fn tag_end(html: &str, from: usize) -> usize {
    let mut quote = None;
    for (offset, byte) in html.as_bytes()[from..].iter().enumerate() {
        match (quote, byte) {
            (None, b'"' | b'\'') => quote = Some(*byte),
            (Some(open), _) if open == *byte => quote = None,
            (None, b'>') => return from + offset + 1,
            _ => {}
        }
    }
    html.len()
}

/// `raw` appended with `<` and `>` escaped (`&` kept: entities are the sanitizer's to read).
fn escape_into(text: &mut String, raw: &str) {
    for char in raw.chars() {
        match char {
            '<' => text.push_str("&lt;"),
            '>' => text.push_str("&gt;"),
            _ => text.push(char),
        }
    }
}

/// What an open image turned into, so that its end can match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ImageAs {
    /// A link to the image's URL.
    Link,
    /// Its alt text alone.
    Text,
}

/// Rewrites the parser's events before they are written as HTML.
#[derive(Debug, Default)]
struct Rewriter<'a> {
    out: Vec<Event<'a>>,
    /// Links open around the current event (an image inside one is not made a link).
    links: usize,
    /// Open images: what each became and where its alt text starts in `out`.
    images: Vec<(ImageAs, usize, CowStr<'a>)>,
    /// The raw HTML of the block being read.
    html_block: Option<String>,
}

impl<'a> Rewriter<'a> {
    fn rewrite(mut self, events: impl Iterator<Item = Event<'a>>) -> Vec<Event<'a>> {
        for event in events {
            self.event(event);
        }
        self.out
    }

    fn event(&mut self, event: Event<'a>) {
        match event {
            Event::Start(Tag::HtmlBlock) => self.html_block = Some(String::new()),
            Event::End(TagEnd::HtmlBlock) => {
                let text = html_text(&self.html_block.take().unwrap_or_default());
                if !text.trim().is_empty() {
                    self.out.push(Event::Html(format!("<p>{}</p>\n", text.trim()).into()));
                }
            }
            Event::Html(html) => match &mut self.html_block {
                Some(block) => block.push_str(&html),
                None => self.out.push(Event::Html(html_text(&html).into())),
            },
            // Inline raw HTML is one tag, comment or declaration: it has no text of its own.
            Event::InlineHtml(_) => {}
            Event::TaskListMarker(done) => self.out.push(Event::Text(if done { "☑ " } else { "☐ " }.into())),
            Event::Start(Tag::Table(alignments)) => {
                self.out.push(Event::Start(Tag::Table(vec![Alignment::None; alignments.len()])));
            }
            Event::Start(Tag::Link { link_type, dest_url, title, id }) => {
                self.links += 1;
                self.out.push(Event::Start(Tag::Link { link_type, dest_url, title, id }));
            }
            Event::End(TagEnd::Link) => {
                self.links = self.links.saturating_sub(1);
                self.out.push(Event::End(TagEnd::Link));
            }
            Event::Start(Tag::Image { dest_url, title, .. }) => {
                let web = is_web_url(&dest_url);
                let shown = if web && self.links == 0 { ImageAs::Link } else { ImageAs::Text };
                if shown == ImageAs::Link {
                    self.links += 1;
                    let link =
                        Tag::Link { link_type: LinkType::Inline, dest_url: dest_url.clone(), title, id: "".into() };
                    self.out.push(Event::Start(link));
                }
                self.images.push((shown, self.out.len(), dest_url));
            }
            Event::End(TagEnd::Image) => {
                let Some((shown, start, dest_url)) = self.images.pop() else { return };
                let has_text = self.out[start..]
                    .iter()
                    .any(|event| matches!(event, Event::Text(text) | Event::Code(text) if !text.trim().is_empty()));
                if !has_text {
                    // An image without alt text still says it is there.
                    let label = if shown == ImageAs::Link { dest_url } else { "image".into() };
                    self.out.push(Event::Text(label));
                }
                if shown == ImageAs::Link {
                    self.links = self.links.saturating_sub(1);
                    self.out.push(Event::End(TagEnd::Link));
                }
            }
            other => self.out.push(other),
        }
    }
}

/// Whether `url` is an absolute http(s) URL (the sanitizer checks again).
fn is_web_url(url: &str) -> bool {
    let url = url.trim_start();
    ["http://", "https://"]
        .iter()
        .any(|scheme| url.get(..scheme.len()).is_some_and(|start| start.eq_ignore_ascii_case(scheme)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_input_is_cut_on_a_char_boundary() {
        let long = "é".repeat(MAX_MARKDOWN_BYTES);
        let (cut, was_cut) = cap(&long);
        assert!(was_cut);
        assert!(cut.len() <= MAX_MARKDOWN_BYTES);
        assert_eq!(cap("short"), ("short", false));
    }

    #[test]
    fn web_urls_are_told_apart() {
        assert!(is_web_url("HTTPS://example.com/x.png"));
        assert!(!is_web_url("javascript:alert(1)"));
        assert!(!is_web_url("data:image/png;base64,xx"));
        assert!(!is_web_url("h"));
    }
}
