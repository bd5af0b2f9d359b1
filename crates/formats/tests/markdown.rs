//! Markdown to safe HTML: a normal README renders right; scripts, `javascript:`/`data:` links,
//! images, event attributes, comments and raw HTML never survive; and (proptest) no output built
//! from hostile fragments ever has a forbidden tag, an event or style attribute, or a non-http(s)
//! `href`.

use ocicat_formats::markdown::{LINK_REL, MAX_MARKDOWN_BYTES, safe_html};
use proptest::prelude::*;

/// One tag of the output: its name (lowercase, `/` first for an end tag) and its attributes.
#[derive(Debug)]
struct OutTag {
    name: String,
    attributes: Vec<(String, String)>,
}

/// The tags of `html` as html5ever serializes it (text has `<` escaped; attribute values are
/// double-quoted with `"` escaped), read strictly: anything unexpected fails the test.
fn tags(html: &str) -> Vec<OutTag> {
    let bytes = html.as_bytes();
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(start) = html[at..].find('<').map(|offset| at + offset) {
        let mut index = start + 1;
        let name_end = html[index..].find(|c: char| c.is_whitespace() || c == '>').map(|o| index + o).unwrap();
        let mut tag = OutTag { name: html[index..name_end].to_ascii_lowercase(), attributes: Vec::new() };
        index = name_end;
        loop {
            while bytes[index].is_ascii_whitespace() {
                index += 1;
            }
            if bytes[index] == b'>' {
                index += 1;
                break;
            }
            let end = html[index..].find(['=', '>', ' ']).map(|o| index + o).unwrap();
            let name = html[index..end].to_ascii_lowercase();
            index = end;
            let mut value = String::new();
            if bytes[index] == b'=' {
                assert_eq!(bytes[index + 1], b'"', "unquoted attribute in {html}");
                let close = html[index + 2..].find('"').map(|o| index + 2 + o).unwrap();
                value = html[index + 2..close].to_owned();
                index = close + 1;
            }
            tag.attributes.push((name, value));
        }
        found.push(tag);
        at = index;
    }
    found
}

const ALLOWED_TAGS: &[&str] = &[
    "a",
    "blockquote",
    "br",
    "code",
    "del",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "li",
    "ol",
    "p",
    "pre",
    "strong",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
];

/// Panics unless every tag of `html` is allowed and every attribute is safe.
fn assert_safe(html: &str) {
    let lower = html.to_ascii_lowercase();
    for forbidden in ["<script", "<img", "<iframe", "<form", "<input", "<style", "<svg", "<object", "<!--"] {
        assert!(!lower.contains(forbidden), "{forbidden} in {html}");
    }
    for tag in tags(html) {
        let name = tag.name.trim_start_matches('/');
        assert!(ALLOWED_TAGS.contains(&name), "tag {name} in {html}");
        for (attribute, value) in &tag.attributes {
            assert!(!attribute.starts_with("on"), "event attribute {attribute} in {html}");
            match (name, attribute.as_str()) {
                ("a", "href") => {
                    let value = value.to_ascii_lowercase();
                    assert!(value.starts_with("http://") || value.starts_with("https://"), "href {value} in {html}");
                    assert!(!value.contains("javascript:"), "{html}");
                }
                ("a", "rel") => assert_eq!(value, LINK_REL),
                ("a", "title") | ("ol", "start") => {}
                _ => panic!("attribute {attribute} on {name} in {html}"),
            }
        }
    }
}

#[test]
fn the_checker_catches_unsafe_html() {
    for unsafe_html in [
        "<a href=\"javascript:x\">a</a>",
        "<a href=\"/relative\">a</a>",
        "<p onclick=\"x\">a</p>",
        "<p style=\"x\">a</p>",
        "<code class=\"language-rust\">a</code>",
        "<img src=\"https://t\">",
        "<span>a</span>",
        "<a href=\"https://ok\" rel=\"opener\">a</a>",
    ] {
        assert!(std::panic::catch_unwind(|| assert_safe(unsafe_html)).is_err(), "{unsafe_html} passed");
    }
    assert_safe("<p><a href=\"https://ok\" rel=\"noopener noreferrer nofollow\">a &lt;script&gt;</a></p>");
}

fn render(markdown: &str) -> String {
    let html = safe_html(markdown);
    assert_safe(&html);
    html
}

#[test]
fn a_normal_readme_renders_right() {
    let readme = "# My chart\n\nSome *emphasis*, **strong**, ~~gone~~ and `code`.\n\n\
        ## Install\n\n```console\n$ helm install my oci://registry/charts/my\n```\n\n\
        | Key | Default |\n|:----|--------:|\n| `replicaCount` | `1` |\n\n\
        - one\n- two\n\n3. three\n4. four\n\n> quoted\n\n---\n\n\
        See [the docs](https://example.com/docs \"Docs\").\n";
    let html = render(readme);
    assert!(html.contains("<h1>My chart</h1>"), "{html}");
    assert!(html.contains("<h2>Install</h2>"), "{html}");
    assert!(html.contains("<em>emphasis</em>") && html.contains("<strong>strong</strong>"), "{html}");
    assert!(html.contains("<del>gone</del>") && html.contains("<code>code</code>"), "{html}");
    assert!(html.contains("<pre><code>$ helm install my oci://registry/charts/my\n</code></pre>"), "{html}");
    assert!(html.contains("<table><thead><tr><th>Key</th><th>Default</th></tr></thead>"), "{html}");
    assert!(html.contains("<td><code>replicaCount</code></td>"), "{html}");
    assert!(html.contains("<ul>\n<li>one</li>"), "{html}");
    assert!(html.contains("<ol start=\"3\">"), "{html}");
    assert!(html.contains("<blockquote>\n<p>quoted</p>\n</blockquote>"), "{html}");
    assert!(html.contains("<hr>"), "{html}");
    assert!(
        html.contains(
            "<a href=\"https://example.com/docs\" title=\"Docs\" rel=\"noopener noreferrer nofollow\">the docs</a>"
        ),
        "{html}"
    );
}

#[test]
fn scripts_never_survive() {
    let html = render("hello <script>alert(1)</script> world\n\n<script>\nalert(2)\n</script>\n");
    assert!(!html.contains("alert(2)"), "{html}");
    assert!(html.contains("hello"), "{html}");
}

#[test]
fn javascript_and_data_links_lose_their_href() {
    for markdown in [
        "[click](javascript:alert(1))",
        "[click](JaVaScRiPt:alert(1))",
        "[click](jav&#x61;script:alert(1))",
        "[click](<java\tscript:alert(1)>)",
        "[click](data:text/html;base64,PHNjcmlwdD4=)",
        "[click](vbscript:msgbox)",
        "[click](/relative/path)",
        "[click](mailto:someone@example.com)",
    ] {
        let html = render(markdown);
        assert!(!html.contains("href"), "{markdown} gave {html}");
        assert!(html.contains("click"), "{markdown} gave {html}");
    }
}

#[test]
fn images_become_alt_text_or_links() {
    let html = render("![logo](https://example.com/logo.png)");
    assert_eq!(html, "<p><a href=\"https://example.com/logo.png\" rel=\"noopener noreferrer nofollow\">logo</a></p>\n");
    let html = render("![tracker](data:image/png;base64,AAAA)");
    assert_eq!(html, "<p>tracker</p>\n");
    let html = render("[![build](https://ci.example/badge.svg)](https://ci.example)");
    assert_eq!(html, "<p><a href=\"https://ci.example\" rel=\"noopener noreferrer nofollow\">build</a></p>\n");
    let html = render("![](https://example.com/x.png)");
    assert!(html.contains(">https://example.com/x.png</a>"), "{html}");
    let html = render("<img src=x onerror=alert(1)> and <img\nsrc=\"https://t.example/pixel\">");
    assert!(!html.contains("<img") && !html.contains("onerror=alert"), "{html}");
}

#[test]
fn raw_html_and_comments_are_dropped_but_their_text_kept() {
    let html = render("<!-- secret note -->\n\nText <!-- inline comment --> here\n");
    assert!(!html.contains("secret") && !html.contains("inline comment"), "{html}");
    assert!(html.contains("Text  here"), "{html}");

    let html =
        render("<p align=\"center\" style=\"color:red\" class=\"x\" onclick=\"evil()\">\n  Centered words\n</p>\n");
    assert_eq!(html, "<p>Centered words</p>\n");

    let html = render("<details><summary>More</summary>\n\nHidden *text*\n\n</details>\n");
    assert!(html.contains("More") && html.contains("<em>text</em>"), "{html}");

    let html =
        render("<div title=\"a>b\" data-x='c>d'>Words &amp; <STYLE>p{}</STYLE>more<textarea>hidden</textarea></div>\n");
    assert_eq!(html, "<p>Words &amp; more</p>\n");

    let html = render("<div>\n1 < 2 > 0 <!-- unclosed comment\n");
    assert_eq!(html, "<p>1 &lt; 2 &gt; 0</p>\n");

    let html = render("<iframe src=\"https://evil.example\"></iframe>\n<form action=x><input type=text></form>");
    assert!(!html.contains("evil.example"), "{html}");
}

#[test]
fn raw_html_nested_in_lists_is_dropped() {
    let html = render(
        "- item <b onmouseover=\"x()\">bold</b>\n  - nested <script>alert(1)</script>\n    <div onclick=x>block</div>\n",
    );
    assert!(html.contains("<li>item bold"), "{html}");
    assert!(!html.contains("<b") && !html.contains("<div"), "{html}");
}

#[test]
fn autolinks_keep_only_web_urls() {
    let html = render(
        "<https://example.com/a?b=c&d=e> and <javascript:alert(1)> and <mailto:x@example.com> and https://bare.example",
    );
    assert!(
        html.contains("<a href=\"https://example.com/a?b=c&amp;d=e\" rel=\"noopener noreferrer nofollow\">"),
        "{html}"
    );
    assert_eq!(html.matches("href").count(), 1, "{html}");
}

#[test]
fn reference_links_with_bad_schemes_lose_their_href() {
    let html = render(
        "[good][1] and [bad][2] and [worse]\n\n[1]: https://example.com\n[2]: javascript:alert(1)\n[worse]: data:text/html,<script>alert(1)</script>\n",
    );
    assert_eq!(html.matches("href").count(), 1, "{html}");
    assert!(html.contains("href=\"https://example.com\""), "{html}");
}

#[test]
fn task_lists_become_text_checkboxes() {
    let html = render("- [ ] todo\n- [x] done\n");
    assert!(html.contains("☐ todo") && html.contains("☑ done"), "{html}");
    assert!(!html.contains("<input"), "{html}");
}

#[test]
fn huge_and_deep_input_is_bounded() {
    let html = render(&"a ".repeat(MAX_MARKDOWN_BYTES));
    assert!(html.ends_with("<p><em>… (truncated)</em></p>"), "{}", &html[html.len() - 60..]);
    assert!(html.len() < MAX_MARKDOWN_BYTES + 100);
    render(&"> ".repeat(20_000));
    render(&"- ".repeat(20_000));
    render(&"[".repeat(50_000));
    render(&"<div>".repeat(20_000));
    render(&"*a ".repeat(40_000));
    // Nesting past the depth cap is flattened, its content kept.
    let html = render(&format!("{}deep", "> ".repeat(1_000)));
    assert_eq!(html.matches("<blockquote>").count(), ocicat_formats::markdown::MAX_DEPTH);
    assert!(html.contains("deep"), "{html}");
}

fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("<script>alert(1)</script>".to_owned()),
        Just("<img src=x onerror=alert(1)>".to_owned()),
        Just("javascript:alert(1)".to_owned()),
        Just("[x](javascript:alert(1))".to_owned()),
        Just("[x](data:text/html,hi)".to_owned()),
        Just("![a](https://t.example/p.png)".to_owned()),
        Just("![a](javascript:x)".to_owned()),
        Just("<a href=\"javascript:x\" onclick=\"y\">".to_owned()),
        Just("</a>".to_owned()),
        Just("<!--".to_owned()),
        Just("-->".to_owned()),
        Just("<div style=\"x\" class=\"c\">".to_owned()),
        Just("<https://ok.example>".to_owned()),
        Just("<javascript:alert(1)>".to_owned()),
        Just("[r]: javascript:alert(1)".to_owned()),
        Just("[r]".to_owned()),
        Just("- [ ] ".to_owned()),
        Just("| a | b |\n|---|---|\n".to_owned()),
        Just("```".to_owned()),
        Just("<svg onload=alert(1)>".to_owned()),
        Just("\" onmouseover=\"x".to_owned()),
        Just("&#x6a;avascript&colon;".to_owned()),
        Just("<iframe src=//evil>".to_owned()),
        "[a-z <>\"'=/:\\[\\]()!*_`#&;-]{0,12}",
    ]
}

fn separator() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just(""),
        Just(" "),
        Just("\n"),
        Just("\n\n"),
        Just("\n> "),
        Just("\n- "),
        Just("\n    "),
        Just("\n1. ")
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn no_output_is_ever_unsafe(parts in prop::collection::vec((fragment(), separator()), 0..24)) {
        let markdown: String = parts.iter().map(|(fragment, separator)| format!("{fragment}{separator}")).collect();
        render(&markdown);
    }

    #[test]
    fn arbitrary_text_never_panics_or_leaks(markdown in "\\PC{0,400}") {
        render(&markdown);
    }
}
