//! Structured logging with tracing: text by default, JSON with `OCICAT_LOG_FORMAT=json`,
//! filtered by `RUST_LOG` (default: ocicat at info, noisy dependencies at warn). Logs go to
//! stderr, so `ocicat crawl` and `ocicat search` print clean JSON on stdout. Colours only on a
//! terminal; in text lines every control character a value carries (a registry's `\n`, `\r` or
//! escape sequence) is written escaped, so no registry string can forge or hide a log line.

use std::io::{IsTerminal as _, Write};

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// PostgreSQL's notices ("relation … already exists, skipping" at every start, once per
/// `CREATE … IF NOT EXISTS`) are not worth a line each; warnings and errors still show. (Asking
/// the server for fewer notices, `client_min_messages` in the connection's startup options, is
/// refused by poolers such as PgBouncer.)
pub const POSTGRES_NOTICES: &str = "sqlx::postgres::notice=warn";

/// Installs the global subscriber.
pub fn init() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,tantivy=warn,hyper=warn,reqwest=warn,tower_http=info"))
        .add_directive(POSTGRES_NOTICES.parse().expect("a valid directive"));
    let json = std::env::var("OCICAT_LOG_FORMAT").is_ok_and(|format| format.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(EscapedLines);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Stderr, one formatted event per write, its control characters escaped but for the colours
/// the formatter itself adds and the line's own end.
#[derive(Debug, Clone, Copy)]
struct EscapedLines;

impl<'a> MakeWriter<'a> for EscapedLines {
    type Writer = EscapingWriter;

    fn make_writer(&'a self) -> Self::Writer {
        EscapingWriter { colours: std::io::stderr().is_terminal() }
    }
}

/// Writes one event to stderr escaped (see [`escape_line`]).
#[derive(Debug)]
struct EscapingWriter {
    colours: bool,
}

impl Write for EscapingWriter {
    fn write(&mut self, buffer: &[u8]) -> std::io::Result<usize> {
        std::io::stderr().lock().write_all(&escape_line(buffer, self.colours))?;
        Ok(buffer.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// `line` with every control character but its final newline written as `\n`, `\r`, `\t` or
/// `\u{..}`; with `colours`, the formatter's own SGR sequences (`ESC [ digits ; m`) stay.
fn escape_line(line: &[u8], colours: bool) -> Vec<u8> {
    let (body, end) = match line.strip_suffix(b"\n") {
        Some(body) => (body, &b"\n"[..]),
        None => (line, &b""[..]),
    };
    let text = String::from_utf8_lossy(body);
    let mut out = String::with_capacity(text.len() + 8);
    let mut chars = text.char_indices().peekable();
    while let Some((index, c)) = chars.next() {
        match c {
            '\u{1b}' if colours && is_colour_sequence(&text[index..]) => {
                out.push(c);
                while let Some((_, next)) = chars.next() {
                    out.push(next);
                    if next == 'm' {
                        break;
                    }
                }
            }
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&c.escape_unicode().to_string()),
            c => out.push(c),
        }
    }
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(end);
    bytes
}

/// True when `text` starts with a colour sequence: `ESC [`, digits and `;`, then `m`.
fn is_colour_sequence(text: &str) -> bool {
    let Some(rest) = text.strip_prefix("\u{1b}[") else { return false };
    let parameters = rest.bytes().take_while(|b| b.is_ascii_digit() || *b == b';').count();
    rest.as_bytes().get(parameters) == Some(&b'm')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_registry_string_cannot_forge_a_log_line() {
        let forged = b"WARN failed error=x\n2026-01-01T00:00:00Z  INFO admin signed in\n";
        let written = String::from_utf8(escape_line(forged, false)).unwrap();
        assert_eq!(written, "WARN failed error=x\\n2026-01-01T00:00:00Z  INFO admin signed in\n");
        assert_eq!(written.matches('\n').count(), 1, "one event, one line");
    }

    #[test]
    fn escape_sequences_are_shown_unless_they_are_our_colours() {
        let hostile = b"repo=\x1b]0;owned\x07 \x1b[2Jcleared\r\n";
        let written = String::from_utf8(escape_line(hostile, false)).unwrap();
        assert!(!written.contains('\u{1b}') && !written.contains('\u{7}'), "{written:?}");
        assert!(written.ends_with("cleared\\r\n"), "{written:?}");
        let coloured = "\u{1b}[33m WARN\u{1b}[0m x\n";
        assert_eq!(String::from_utf8(escape_line(coloured.as_bytes(), true)).unwrap(), coloured);
        assert!(!String::from_utf8(escape_line(coloured.as_bytes(), false)).unwrap().contains('\u{1b}'));
    }
}
