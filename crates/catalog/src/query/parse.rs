//! The search language: words, `field:value` matches (with `*` globs), comparisons
//! (`created > now-90d`, `eol < today`, `size >= 10MB`, `annotation."k" < 2025-01-01`),
//! `NOT`/`-`, `OR` and parentheses; clauses side by side must all hold. What people paste works
//! too: a digest (`sha256:…`, alone or after `digest:`/`subject:`), `repo:tag`,
//! `registry/repo:tag` and `repo@sha256:…`. Errors point at the offending column.

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
    /// `signature` (verdicts on the attached signatures: `verified`, `untrusted`, `invalid`,
    /// `unverifiable`, or `none`)
    Signature,
    /// `trust` (the policies that verified an attached signature)
    Trust,
    /// `signer` (identities of the attached signatures' signers)
    Signer,
    /// `annotation."key"` or `label."key"` (manifest annotations and config labels)
    Annotation(String),
    /// `vulns.critical`, `vulns.high`, `vulns.medium`, `vulns.low`, `vulns.unknown`, `vulns`
    /// (findings of the newest attached scan)
    Vulnerabilities(Severity),
    /// `pkg`, `package`: a package an attached SBOM lists, by name (`*` globs) or by purl
    /// (`pkg:"pkg:deb/debian/openssl"`)
    Package,
    /// `version`: compares the version of the `pkg:` beside it, in its ecosystem's order
    Version,
    /// `cve`, `advisory`, `vuln`: an advisory an attached scan reports (CVE, GHSA, …)
    Advisory,
    /// `license`, `licence`: a licence an attached SBOM names for one of its packages
    License,
    /// `fixable`: an attached scan reports a finding with (`true`) or without (`false`) a fix
    Fixable,
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

impl Op {
    /// True when a value ordered `ordering` against the clause's value satisfies the operator.
    pub fn holds(self, ordering: std::cmp::Ordering) -> bool {
        match self {
            Op::Less => ordering.is_lt(),
            Op::LessOrEqual => ordering.is_le(),
            Op::Greater => ordering.is_gt(),
            Op::GreaterOrEqual => ordering.is_ge(),
            Op::Equal => ordering.is_eq(),
            Op::NotEqual => ordering.is_ne(),
        }
    }
}

/// Hashes of artifact keys (`Expr::Keys`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyHashes(pub std::collections::HashSet<u64>);

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
    /// The artifacts whose key, or one of whose index children's keys, has one of these hashes
    /// (`keys::artifact_hash`): what an impact clause (`pkg:`, `cve:`, `license:`, `fixable:`)
    /// resolved to. Never written; the search makes it before translating.
    Keys(std::sync::Arc<KeyHashes>),
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
    /// `:`: a field's match, or the tag of a pasted `repo:tag`.
    Colon,
    Open,
    Close,
}

/// True when the word read so far names a digest algorithm, so a `:` and hex after it belong
/// to the word (`sha256:ab…`, `repo@sha512:cd…`).
fn ends_with_algorithm(word: &str) -> bool {
    let lower = word.to_ascii_lowercase();
    ["sha256", "sha512"].iter().any(|algorithm| lower == *algorithm || lower.ends_with(&format!("@{algorithm}")))
}

/// True when the word read so far is a date with a time (`2024-03-02T12`, …), so a `:` and a
/// digit after it belong to the word: RFC 3339 values need no quotes.
fn within_time(word: &str) -> bool {
    let bytes = word.as_bytes();
    bytes.len() >= 13
        && bytes[..10]
            .iter()
            .enumerate()
            .all(|(at, byte)| if at == 4 || at == 7 { *byte == b'-' } else { byte.is_ascii_digit() })
        && matches!(bytes[10], b'T' | b't')
}

const FIELD_NAMES: &str = "kind, has, repo, tag, registry, type, media, platform, digest, subject, created, eol, size, vulns, vulns.critical (.high, .medium, .low, .unknown), annotation.\"key\", label.\"key\", pkg, version, cve, license, fixable";

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
            ':' => {
                tokens.push((start, Token::Colon));
                index += 1;
            }
            '=' => {
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
                    let digest_colon = c == ':'
                        && ends_with_algorithm(&word)
                        && chars.get(index + 1).is_some_and(|next| next.is_ascii_hexdigit());
                    let time_colon =
                        c == ':' && within_time(&word) && chars.get(index + 1).is_some_and(char::is_ascii_digit);
                    if !digest_colon && !time_colon && (c.is_whitespace() || "()\"<>=!:".contains(c)) {
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
        "signature" | "signed" => Field::Signature,
        "trust" | "trusted" => Field::Trust,
        "signer" => Field::Signer,
        "vulns" | "vulnerabilities" => Field::Vulnerabilities(Severity::Total),
        "vulns.critical" => Field::Vulnerabilities(Severity::Critical),
        "vulns.high" => Field::Vulnerabilities(Severity::High),
        "vulns.medium" => Field::Vulnerabilities(Severity::Medium),
        "vulns.low" => Field::Vulnerabilities(Severity::Low),
        "vulns.unknown" => Field::Vulnerabilities(Severity::Unknown),
        "pkg" | "package" => Field::Package,
        "version" => Field::Version,
        "cve" | "advisory" | "vuln" => Field::Advisory,
        "license" | "licence" => Field::License,
        "fixable" => Field::Fixable,
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
            Some(Token::Op(_) | Token::Colon) => Err(QueryError {
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
                let (op, colon) = match self.peek() {
                    Some(Token::Op(op)) => (*op, false),
                    Some(Token::Colon) => (Op::Equal, true),
                    _ => return Ok(pasted(&name, position).unwrap_or(Expr::Text(name))),
                };
                let Some(field) = field_named(&name) else {
                    // `repo:tag` or `registry/repo:tag`, pasted from a pull command.
                    if let (true, Some(Token::Word(tag))) =
                        (colon, self.tokens.get(self.next + 1).map(|(_, token)| token))
                        && let Some(reference) = repository_reference(&name, Field::Tag, tag, position)
                    {
                        self.next += 2;
                        return Ok(reference);
                    }
                    return Err(QueryError {
                        position,
                        message: format!("unknown field '{name}'; known fields: {FIELD_NAMES}"),
                    });
                };
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

/// A lone word that is a digest (`sha256:…`) or `repo@digest`, as pasted.
fn pasted(word: &str, position: usize) -> Option<Expr> {
    if word.parse::<ocicat_oci::Digest>().is_ok() {
        return Some(Expr::Clause { field: Field::Digest, op: Op::Equal, value: word.to_owned(), position });
    }
    let (repository, digest) = word.rsplit_once('@')?;
    digest.parse::<ocicat_oci::Digest>().ok()?;
    repository_reference(repository, Field::Digest, digest, position)
}

/// `path` with a tag or digest: the repository `path` of any registry, or, when its first
/// component can be a registry name, the repository after it in that registry.
fn repository_reference(path: &str, field: Field, value: &str, position: usize) -> Option<Expr> {
    let valid_value = match field {
        Field::Tag => ocicat_oci::is_valid_tag(value),
        _ => value.parse::<ocicat_oci::Digest>().is_ok(),
    };
    if !valid_value || !ocicat_oci::is_valid_repository(path) {
        return None;
    }
    let clause = |field: Field, value: &str| Expr::Clause { field, op: Op::Equal, value: value.to_owned(), position };
    let whole = Expr::And(vec![clause(Field::Repository, path), clause(field.clone(), value)]);
    let registry_first = path.split_once('/').filter(|(registry, rest)| {
        registry.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
            && !rest.is_empty()
    });
    Some(match registry_first {
        Some((registry, rest)) => Expr::Or(vec![
            whole,
            Expr::And(vec![clause(Field::Registry, registry), clause(Field::Repository, rest), clause(field, value)]),
        ]),
        None => whole,
    })
}

/// What a query that is one pasted reference names (`[registry/]repo:tag` or
/// `[registry/]repo@digest`); `None` for any other query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PastedReference {
    /// The path as pasted (maybe with a registry name in front).
    pub path: String,
    /// The tag, when it names one.
    pub tag: Option<String>,
    /// The digest, when it names one.
    pub digest: Option<String>,
}

/// The reference `text` is, when the whole query is one pasted reference.
pub fn pasted_reference(text: &str) -> Option<PastedReference> {
    let text = text.trim();
    if text.contains(char::is_whitespace) {
        return None;
    }
    if let Some((path, digest)) = text.rsplit_once('@') {
        return (ocicat_oci::is_valid_repository(path) && digest.parse::<ocicat_oci::Digest>().is_ok())
            .then(|| PastedReference { path: path.to_owned(), tag: None, digest: Some(digest.to_owned()) });
    }
    let (path, tag) = text.rsplit_once(':')?;
    let known_field = field_named(path).is_some();
    (!known_field && ocicat_oci::is_valid_repository(path) && ocicat_oci::is_valid_tag(tag)).then(|| PastedReference {
        path: path.to_owned(),
        tag: Some(tag.to_owned()),
        digest: None,
    })
}

/// Most terms (clauses and words) one query may hold.
pub(super) const MAX_TERMS: usize = 64;
/// Most `*` one value may hold.
pub(super) const MAX_STARS: usize = 8;

/// Checks the cost of a parsed query: at most [`MAX_TERMS`] terms, [`MAX_STARS`] stars a value.
fn check_cost(expr: &Expr, terms: &mut usize) -> Result<(), QueryError> {
    match expr {
        Expr::And(parts) | Expr::Or(parts) => parts.iter().try_for_each(|part| check_cost(part, terms)),
        Expr::Not(inner) => check_cost(inner, terms),
        Expr::Keys(_) => Ok(()),
        Expr::Text(_) | Expr::Clause { .. } => {
            *terms += 1;
            if *terms > MAX_TERMS {
                return Err(QueryError { position: 0, message: format!("too many terms ({MAX_TERMS} at most)") });
            }
            if let Expr::Clause { value, position, .. } = expr
                && value.matches('*').count() > MAX_STARS
            {
                return Err(QueryError {
                    position: *position,
                    message: format!("too many '*' in one value ({MAX_STARS} at most)"),
                });
            }
            Ok(())
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
    check_cost(&expr, &mut 0)?;
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
    fn rfc3339_values_need_no_quotes() {
        let at = |op: Op, value: &str, position: usize| clause(Field::Created, op, value, position);
        assert_eq!(parse_query("created > 2024-03-02T12:00:00Z").unwrap(), at(Op::Greater, "2024-03-02T12:00:00Z", 10));
        assert_eq!(
            parse_query("created:2024-03-02T12:00:00+02:00").unwrap(),
            at(Op::Equal, "2024-03-02T12:00:00+02:00", 8)
        );
        assert_eq!(
            parse_query(r#"created > "2024-03-02T12:00:00Z""#).unwrap(),
            at(Op::Greater, "2024-03-02T12:00:00Z", 10)
        );
        // Only a date's time keeps its colons: a word that is no date still ends at one.
        assert!(parse_query("created > 2024-03-02T:00").is_err());
        assert!(parse_query("release:12:00").is_err());
    }

    #[test]
    fn digests_and_references_parse_as_pasted() {
        let digest = format!("sha256:{}", "ab".repeat(32));
        let clause_of = |field: Field, value: &str, position: usize| clause(field, Op::Equal, value, position);
        assert_eq!(parse_query(&format!("digest:{digest}")).unwrap(), clause_of(Field::Digest, &digest, 7));
        assert_eq!(parse_query(&format!("subject:{digest}")).unwrap(), clause_of(Field::Subject, &digest, 8));
        assert_eq!(parse_query(&digest).unwrap(), clause_of(Field::Digest, &digest, 0));
        assert_eq!(
            parse_query("demo/app:1.0").unwrap(),
            Expr::Or(vec![
                Expr::And(vec![clause_of(Field::Repository, "demo/app", 0), clause_of(Field::Tag, "1.0", 0)]),
                Expr::And(vec![
                    clause_of(Field::Registry, "demo", 0),
                    clause_of(Field::Repository, "app", 0),
                    clause_of(Field::Tag, "1.0", 0),
                ]),
            ])
        );
        assert_eq!(
            parse_query("app:1.0").unwrap(),
            Expr::And(vec![clause_of(Field::Repository, "app", 0), clause_of(Field::Tag, "1.0", 0)])
        );
        let pinned = parse_query(&format!("local/demo/app@{digest}")).unwrap();
        assert!(matches!(&pinned, Expr::Or(parts) if parts.len() == 2), "{pinned:?}");
        assert_eq!(
            pasted_reference(&format!("local/demo/app@{digest}")),
            Some(PastedReference { path: "local/demo/app".into(), tag: None, digest: Some(digest.clone()) })
        );
        assert_eq!(pasted_reference("demo/app:1.0").and_then(|r| r.tag), Some("1.0".into()));
        assert_eq!(pasted_reference("kind:sbom"), None, "a field is no repository");
        assert_eq!(pasted_reference("demo/app:1.0 kind:image"), None);
        assert!(parse_query("Demo/App:1.0").is_err(), "not a repository name: an unknown field");
        assert!(
            !matches!(parse_query("sha256:xyz").unwrap(), Expr::Clause { field: Field::Digest, .. }),
            "not a digest (a repository named sha256 with tag xyz)"
        );
    }

    #[test]
    fn costly_queries_are_refused_with_a_reason() {
        let many: Vec<String> = (0..=MAX_TERMS).map(|n| format!("tag:t{n}")).collect();
        let error = parse_query(&many.join(" OR ")).unwrap_err();
        assert!(error.message.contains("too many terms"), "{error}");
        assert!(parse_query(&many[..MAX_TERMS].join(" OR ")).is_ok(), "the cap itself is fine");
        let error = parse_query("repo:*a*b*c*d*e*f*g*h*i*").unwrap_err();
        assert_eq!(error.position, 5);
        assert!(error.message.contains("too many '*'"), "{error}");
        assert!(parse_query("repo:team-*/ci/**").is_ok());
    }

    #[test]
    fn hostile_queries_are_errors_not_crashes() {
        assert!(parse_query(&"(".repeat(500)).is_err());
        assert!(parse_query(&"a ".repeat(600)).is_err());
        assert_eq!(parse_query("   ").unwrap(), Expr::And(vec![]));
    }
}
