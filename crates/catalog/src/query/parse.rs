//! The search language: words, `field:value` matches (with `*` globs), comparisons
//! (`created > now-90d`, `eol < today`, `size >= 10MB`, `annotation."k" < 2025-01-01`),
//! `NOT`/`-`, `OR` and parentheses; clauses side by side must all hold. Errors point at the
//! offending column.

use std::fmt;

/// A field a clause can name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    /// `kind`
    Kind,
    /// `repo`, `repository`
    Repository,
    /// `tag`
    Tag,
    /// `registry`
    Registry,
    /// `type`, `artifactType`
    ArtifactType,
    /// `media`, `mediaType`
    MediaType,
    /// `platform`
    Platform,
    /// `digest`
    Digest,
    /// `subject`
    Subject,
    /// `created`
    Created,
    /// `eol` (earliest end-of-life date from lifecycle referrers or annotations)
    EndOfLife,
    /// `size`
    Size,
    /// `has` (kinds of attached artifacts: `has:signature`, `has:sbom`)
    Has,
    /// `annotation."key"` or `label."key"` (manifest annotations and config labels)
    Annotation(String),
    /// `vulns.critical`, `vulns.high`, `vulns.medium`, `vulns.low`, `vulns.unknown`, `vulns`
    /// (findings of the newest attached scan)
    Vulnerabilities(Severity),
}

/// A severity of `vulns.<severity>`; `Total` is plain `vulns`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// `vulns.critical`
    Critical,
    /// `vulns.high`
    High,
    /// `vulns.medium`
    Medium,
    /// `vulns.low`
    Low,
    /// `vulns.unknown`
    Unknown,
    /// `vulns`: every finding
    Total,
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `<`
    Less,
    /// `<=`
    LessOrEqual,
    /// `>`
    Greater,
    /// `>=`
    GreaterOrEqual,
    /// `=` or `:`
    Equal,
    /// `!=`
    NotEqual,
}

/// A parsed query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// Every part must hold.
    And(Vec<Expr>),
    /// Any part may hold.
    Or(Vec<Expr>),
    /// The part must not hold.
    Not(Box<Expr>),
    /// `field op value`.
    Clause { field: Field, op: Op, value: String, position: usize },
    /// A free word or phrase, matched against names, tags, types and annotation values.
    Text(String),
}

/// A query that could not be parsed, with the 0-based character column of the fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    /// Where the fault is (character column).
    pub position: usize,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at column {})", self.message, self.position + 1)
    }
}

impl std::error::Error for QueryError {}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Quoted(String),
    Op(Op),
    Open,
    Close,
}

const FIELD_NAMES: &str = "kind, has, repo, tag, registry, type, media, platform, digest, subject, created, eol, size, vulns, vulns.critical (.high, .medium, .low, .unknown), annotation.\"key\", label.\"key\"";

fn tokenize(text: &str) -> Result<Vec<(usize, Token)>, QueryError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut index = 0;
    while index < chars.len() {
        let c = chars[index];
        let start = index;
        match c {
            c if c.is_whitespace() => index += 1,
            '(' | ')' => {
                tokens.push((start, if c == '(' { Token::Open } else { Token::Close }));
                index += 1;
            }
            '"' => {
                let mut value = String::new();
                index += 1;
                loop {
                    match chars.get(index) {
                        None => {
                            return Err(QueryError {
                                position: start,
                                message: "unterminated quote: add a closing \"".into(),
                            });
                        }
                        Some('\\') if index + 1 < chars.len() => {
                            value.push(chars[index + 1]);
                            index += 2;
                        }
                        Some('"') => {
                            index += 1;
                            break;
                        }
                        Some(other) => {
                            value.push(*other);
                            index += 1;
                        }
                    }
                }
                tokens.push((start, Token::Quoted(value)));
            }
            ':' | '=' => {
                tokens.push((start, Token::Op(Op::Equal)));
                index += 1;
            }
            '<' | '>' | '!' => {
                let with_equal = chars.get(index + 1) == Some(&'=');
                let op = match (c, with_equal) {
                    ('<', false) => Op::Less,
                    ('<', true) => Op::LessOrEqual,
                    ('>', false) => Op::Greater,
                    ('>', true) => Op::GreaterOrEqual,
                    ('!', true) => Op::NotEqual,
                    _ => {
                        return Err(QueryError {
                            position: start,
                            message: "'!' must be followed by '=' (use NOT to negate)".into(),
                        });
                    }
                };
                tokens.push((start, Token::Op(op)));
                index += if with_equal { 2 } else { 1 };
            }
            _ => {
                let mut word = String::new();
                while let Some(&c) = chars.get(index) {
                    if c.is_whitespace() || "()\"<>=!:".contains(c) {
                        break;
                    }
                    word.push(c);
                    index += 1;
                }
                tokens.push((start, Token::Word(word)));
            }
        }
    }
    Ok(tokens)
}

fn field_named(name: &str) -> Option<Field> {
    let field = match name.to_ascii_lowercase().as_str() {
        "kind" => Field::Kind,
        "repo" | "repository" => Field::Repository,
        "tag" => Field::Tag,
        "registry" => Field::Registry,
        "type" | "artifacttype" => Field::ArtifactType,
        "media" | "mediatype" => Field::MediaType,
        "platform" => Field::Platform,
        "digest" => Field::Digest,
        "subject" => Field::Subject,
        "created" => Field::Created,
        "eol" | "end-of-life" => Field::EndOfLife,
        "size" => Field::Size,
        "has" => Field::Has,
        "vulns" | "vulnerabilities" => Field::Vulnerabilities(Severity::Total),
        "vulns.critical" => Field::Vulnerabilities(Severity::Critical),
        "vulns.high" => Field::Vulnerabilities(Severity::High),
        "vulns.medium" => Field::Vulnerabilities(Severity::Medium),
        "vulns.low" => Field::Vulnerabilities(Severity::Low),
        "vulns.unknown" => Field::Vulnerabilities(Severity::Unknown),
        _ => {
            let lower = name.to_ascii_lowercase();
            let key = ["annotation.", "annotations.", "label.", "labels."]
                .iter()
                .find_map(|prefix| lower.starts_with(prefix).then(|| &name[prefix.len()..]))?;
            return (!key.is_empty()).then(|| Field::Annotation(key.to_owned()));
        }
    };
    Some(field)
}

struct Parser {
    tokens: Vec<(usize, Token)>,
    next: usize,
    end: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.next).map(|(_, token)| token)
    }

    fn position(&self) -> usize {
        self.tokens.get(self.next).map_or(self.end, |(position, _)| *position)
    }

    fn is_keyword(&self, keyword: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(word)) if word == keyword)
    }

    /// `or := and ("OR" and)*`
    fn parse_or(&mut self, depth: usize) -> Result<Expr, QueryError> {
        let mut parts = vec![self.parse_and(depth)?];
        while self.is_keyword("OR") {
            self.next += 1;
            parts.push(self.parse_and(depth)?);
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Expr::Or(parts) })
    }

    /// `and := unary+` (an explicit `AND` is allowed and ignored)
    fn parse_and(&mut self, depth: usize) -> Result<Expr, QueryError> {
        let mut parts = Vec::new();
        loop {
            if self.is_keyword("AND") {
                self.next += 1;
                continue;
            }
            match self.peek() {
                None | Some(Token::Close) => break,
                Some(Token::Word(word)) if word == "OR" => break,
                _ => parts.push(self.parse_unary(depth)?),
            }
        }
        match parts.len() {
            0 => Err(QueryError { position: self.position(), message: "expected a search term here".into() }),
            1 => Ok(parts.remove(0)),
            _ => Ok(Expr::And(parts)),
        }
    }

    fn parse_unary(&mut self, depth: usize) -> Result<Expr, QueryError> {
        if depth > 32 {
            return Err(QueryError { position: self.position(), message: "too deeply nested".into() });
        }
        let position = self.position();
        match self.peek().cloned() {
            Some(Token::Word(word)) if word == "NOT" => {
                self.next += 1;
                Ok(Expr::Not(Box::new(self.parse_unary(depth + 1)?)))
            }
            Some(Token::Word(word)) if word.len() > 1 && word.starts_with('-') => {
                self.tokens[self.next].1 = Token::Word(word[1..].to_owned());
                self.tokens[self.next].0 += 1;
                Ok(Expr::Not(Box::new(self.parse_unary(depth + 1)?)))
            }
            Some(Token::Open) => {
                self.next += 1;
                let inner = self.parse_or(depth + 1)?;
                if self.peek() != Some(&Token::Close) {
                    return Err(QueryError { position: self.position(), message: "missing ')'".into() });
                }
                self.next += 1;
                Ok(inner)
            }
            Some(Token::Close) => Err(QueryError { position, message: "unexpected ')'".into() }),
            Some(Token::Op(_)) => Err(QueryError {
                position,
                message: "a comparison needs a field before it, like created > 2024-01-01".into(),
            }),
            Some(Token::Quoted(text)) => {
                self.next += 1;
                Ok(Expr::Text(text))
            }
            Some(Token::Word(word)) => {
                self.next += 1;
                // `annotation."key with dots"`: a word ending in '.' followed by a quoted key.
                let mut name = word.clone();
                if name.ends_with('.') {
                    if let Some(Token::Quoted(key)) = self.peek().cloned() {
                        self.next += 1;
                        name.push_str(&key);
                    }
                }
                let Some(Token::Op(op)) = self.peek().cloned() else { return Ok(Expr::Text(name)) };
                let field = field_named(&name).ok_or_else(|| QueryError {
                    position,
                    message: format!("unknown field '{name}'; known fields: {FIELD_NAMES}"),
                })?;
                self.next += 1;
                let value_position = self.position();
                let value = match self.peek().cloned() {
                    Some(Token::Word(value)) | Some(Token::Quoted(value)) => value,
                    _ => {
                        return Err(QueryError {
                            position: value_position,
                            message: format!("'{name}' needs a value after the operator"),
                        });
                    }
                };
                self.next += 1;
                Ok(Expr::Clause { field, op, value, position: value_position })
            }
            None => Err(QueryError { position, message: "expected a search term here".into() }),
        }
    }
}

/// Parses `text`; an empty query matches everything (`And([])`).
pub fn parse_query(text: &str) -> Result<Expr, QueryError> {
    if text.chars().count() > 1000 {
        return Err(QueryError { position: 1000, message: "query too long (1000 characters at most)".into() });
    }
    let tokens = tokenize(text)?;
    if tokens.is_empty() {
        return Ok(Expr::And(Vec::new()));
    }
    let mut parser = Parser { tokens, next: 0, end: text.chars().count() };
    let expr = parser.parse_or(0)?;
    if parser.next < parser.tokens.len() {
        return Err(QueryError { position: parser.position(), message: "unexpected ')'".into() });
    }
    Ok(expr)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clause(field: Field, op: Op, value: &str, position: usize) -> Expr {
        Expr::Clause { field, op, value: value.into(), position }
    }

    #[test]
    fn fields_comparisons_and_words_parse() {
        assert_eq!(parse_query("kind:sbom").unwrap(), clause(Field::Kind, Op::Equal, "sbom", 5));
        assert_eq!(parse_query("eol < today").unwrap(), clause(Field::EndOfLife, Op::Less, "today", 6));
        assert_eq!(
            parse_query("repo:ci/* created < now-90d NOT tag:release-*").unwrap(),
            Expr::And(vec![
                clause(Field::Repository, Op::Equal, "ci/*", 5),
                clause(Field::Created, Op::Less, "now-90d", 20),
                Expr::Not(Box::new(clause(Field::Tag, Op::Equal, "release-*", 36))),
            ])
        );
        assert_eq!(
            parse_query(r#"annotation."vnd.microsoft.artifact.lifecycle.end-of-life.date" < now"#).unwrap(),
            clause(Field::Annotation("vnd.microsoft.artifact.lifecycle.end-of-life.date".into()), Op::Less, "now", 65)
        );
        assert_eq!(parse_query("nginx").unwrap(), Expr::Text("nginx".into()));
    }

    #[test]
    fn or_not_minus_and_parentheses_nest() {
        let parsed = parse_query("(kind:sbom OR kind:scan) -tag:latest").unwrap();
        assert_eq!(
            parsed,
            Expr::And(vec![
                Expr::Or(vec![clause(Field::Kind, Op::Equal, "sbom", 6), clause(Field::Kind, Op::Equal, "scan", 19)]),
                Expr::Not(Box::new(clause(Field::Tag, Op::Equal, "latest", 30))),
            ])
        );
    }

    #[test]
    fn errors_point_at_the_mistake() {
        let error = parse_query("kind:sbom vulnz.critical > 0").unwrap_err();
        assert_eq!(error.position, 10);
        assert!(error.message.contains("unknown field 'vulnz.critical'"), "{error}");
        assert_eq!(parse_query("created >").unwrap_err().position, 9);
        assert_eq!(parse_query("(kind:sbom").unwrap_err().message, "missing ')'");
        assert_eq!(parse_query("kind:sbom)").unwrap_err().position, 9);
        assert_eq!(parse_query("\"open").unwrap_err().position, 0);
        assert_eq!(parse_query("a ! b").unwrap_err().position, 2);
    }

    #[test]
    fn hostile_queries_are_errors_not_crashes() {
        assert!(parse_query(&"(".repeat(500)).is_err());
        assert!(parse_query(&"a ".repeat(600)).is_err());
        assert_eq!(parse_query("   ").unwrap(), Expr::And(vec![]));
    }
}
