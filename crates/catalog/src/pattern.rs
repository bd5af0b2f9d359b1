//! Repository patterns, as grants, scopes and retention policies write them: `*` stands for any
//! characters within one path segment, `**` for any characters across segments, everything else
//! for itself. Besides matching a name, access control asks two set questions of patterns: does
//! one pattern name only repositories that others cover ([`uncovered_example`]), and can two
//! patterns name the same repository ([`overlap`]). Both are answered exactly, by walking the
//! patterns' automata side by side over the few kinds of characters they can tell apart.

use std::collections::{BTreeSet, HashSet, VecDeque};

/// Longest pattern the set questions accept (configuration text, so short in practice).
pub const MAX_PATTERN_LENGTH: usize = 256;

/// One piece of a pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    /// Exactly this character.
    Literal(char),
    /// Any characters but `/`.
    Star,
    /// Any characters.
    DoubleStar,
}

fn tokens(pattern: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' if chars.peek() == Some(&'*') => {
                chars.next();
                tokens.push(Token::DoubleStar);
            }
            '*' => tokens.push(Token::Star),
            c => tokens.push(Token::Literal(c)),
        }
    }
    tokens
}

/// The pattern as an anchored regex (tantivy's grammar): `**` any characters, `*` any but `/`,
/// every other character literal.
pub(crate) fn regex(pattern: &str) -> String {
    let mut regex = String::new();
    for token in tokens(pattern) {
        match token {
            Token::DoubleStar => regex.push_str(".*"),
            Token::Star => regex.push_str("[^/]*"),
            Token::Literal(c) => {
                if "\\.+?()|[]{}^$#&-~\"<>@*".contains(c) {
                    regex.push('\\');
                }
                regex.push(c);
            }
        }
    }
    regex
}

/// True when `pattern` matches the whole of `name`.
pub fn matches(pattern: &str, name: &str) -> bool {
    let pattern = tokens(pattern);
    let mut states = closure(&pattern, [0].into_iter().collect());
    for c in name.chars() {
        states = step(&pattern, &states, Some(c));
        if states.is_empty() {
            return false;
        }
    }
    states.contains(&pattern.len())
}

/// The positions reachable from `states` without reading a character (a star may match nothing).
fn closure(pattern: &[Token], mut states: BTreeSet<usize>) -> BTreeSet<usize> {
    let mut stack: Vec<usize> = states.iter().copied().collect();
    while let Some(position) = stack.pop() {
        if matches!(pattern.get(position), Some(Token::Star | Token::DoubleStar)) && states.insert(position + 1) {
            stack.push(position + 1);
        }
    }
    states
}

/// The positions after reading `symbol` (`None`: a character no literal of the patterns names).
fn step(pattern: &[Token], states: &BTreeSet<usize>, symbol: Option<char>) -> BTreeSet<usize> {
    let mut next = BTreeSet::new();
    for &position in states {
        match pattern.get(position) {
            Some(Token::Literal(c)) if symbol == Some(*c) => {
                next.insert(position + 1);
            }
            Some(Token::Star) if symbol != Some('/') => {
                next.insert(position);
            }
            Some(Token::DoubleStar) => {
                next.insert(position);
            }
            _ => {}
        }
    }
    closure(pattern, next)
}

/// Several patterns read together: the state is the set of positions in each.
struct Automata {
    patterns: Vec<Vec<Token>>,
}

type States = Vec<BTreeSet<usize>>;

impl Automata {
    fn new<'a>(patterns: impl IntoIterator<Item = &'a str>) -> Automata {
        Automata { patterns: patterns.into_iter().map(tokens).collect() }
    }

    fn start(&self) -> States {
        self.patterns.iter().map(|pattern| closure(pattern, [0].into_iter().collect())).collect()
    }

    fn step(&self, states: &States, symbol: Option<char>) -> States {
        self.patterns.iter().zip(states).map(|(pattern, states)| step(pattern, states, symbol)).collect()
    }

    fn accepts(&self, states: &States) -> bool {
        self.patterns.iter().zip(states).any(|(pattern, states)| states.contains(&pattern.len()))
    }

    fn alive(states: &States) -> bool {
        states.iter().any(|states| !states.is_empty())
    }

    /// The characters the patterns tell apart: their literals and `/`, plus `None` for the rest.
    fn symbols(&self) -> Vec<Option<char>> {
        let mut literals: BTreeSet<char> = BTreeSet::from(['/']);
        for token in self.patterns.iter().flatten() {
            if let Token::Literal(c) = token {
                literals.insert(*c);
            }
        }
        literals.into_iter().map(Some).chain([None]).collect()
    }
}

/// A character no pattern names literally, to spell out a `None` symbol in an example.
fn spelled(symbol: Option<char>, literals: &[Option<char>]) -> char {
    symbol.unwrap_or_else(|| ('a'..='z').chain('0'..='9').find(|c| !literals.contains(&Some(*c))).unwrap_or('_'))
}

/// Walks `first` and `second` side by side from their starts and returns the shortest name that
/// brings them into a pair of states `wanted` accepts, if any.
fn search(
    first: &Automata,
    second: &Automata,
    wanted: impl Fn(&States, &States) -> bool,
    keep_going: impl Fn(&States, &States) -> bool,
) -> Option<String> {
    let mut symbols = first.symbols();
    symbols.extend(second.symbols());
    symbols.sort();
    symbols.dedup();
    let start = (first.start(), second.start());
    let mut seen: HashSet<(States, States)> = HashSet::from([start.clone()]);
    let mut queue: VecDeque<((States, States), String)> = VecDeque::from([(start, String::new())]);
    while let Some(((a, b), name)) = queue.pop_front() {
        if wanted(&a, &b) {
            return Some(name);
        }
        for &symbol in &symbols {
            let next = (first.step(&a, symbol), second.step(&b, symbol));
            if keep_going(&next.0, &next.1) && seen.insert(next.clone()) {
                let mut longer = name.clone();
                longer.push(spelled(symbol, &symbols));
                queue.push_back((next, longer));
            }
        }
    }
    None
}

/// A repository name `pattern` matches that none of `covering` matches, or `None` when every
/// name `pattern` can match is covered (the empty list covers nothing).
pub fn uncovered_example<'a>(pattern: &str, covering: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let first = Automata::new([pattern]);
    let second = Automata::new(covering);
    search(&first, &second, |a, b| first.accepts(a) && !second.accepts(b), |a, _| Automata::alive(a))
}

/// A repository name both patterns match, or `None` when they share none.
pub fn overlap(first: &str, second: &str) -> Option<String> {
    let a = Automata::new([first]);
    let b = Automata::new([second]);
    search(&a, &b, |x, y| a.accepts(x) && b.accepts(y), |x, y| Automata::alive(x) && Automata::alive(y))
}

/// True when `pattern` can be used with the set questions (not longer than [`MAX_PATTERN_LENGTH`]).
pub fn is_reasonable(pattern: &str) -> bool {
    pattern.chars().count() <= MAX_PATTERN_LENGTH
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn one_star_is_one_segment_and_two_stars_any_depth() {
        assert!(matches("prod/*", "prod/web"));
        assert!(!matches("prod/*", "prod/web/api"));
        assert!(matches("team-a/**", "team-a/x/y/z"));
        assert!(!matches("team-a/**", "team-ab/x"));
        assert!(matches("team-*/ci", "team-a/ci"));
        assert!(!matches("team-*/ci", "team-a/b/ci"));
        assert!(matches("**", ""));
        assert!(matches("exact/name", "exact/name") && !matches("exact/name", "exact/name2"));
    }

    #[test]
    fn patterns_become_anchored_regexes() {
        assert_eq!(regex("team-a/**"), "team\\-a/.*");
        assert_eq!(regex("prod/*"), "prod/[^/]*");
        assert_eq!(regex("a.b+c"), "a\\.b\\+c");
    }

    #[test]
    fn covering_is_decided_exactly() {
        assert_eq!(uncovered_example("demo/**", ["**"]), None);
        assert_eq!(uncovered_example("demo/*", ["demo/**"]), None);
        assert_eq!(uncovered_example("demo/app", ["demo/*"]), None);
        assert_eq!(uncovered_example("**", ["demo/**"]).as_deref(), Some(""), "the empty name is outside demo/**");
        let example = uncovered_example("demo/**", ["demo/*"]).expect("demo/a/b is outside demo/*");
        assert!(matches("demo/**", &example) && !matches("demo/*", &example), "{example}");
        assert_eq!(uncovered_example("a/**", ["a/*", "a/*/**"]), None, "a union covers what no part does");
        assert!(uncovered_example("anything", std::iter::empty()).is_some(), "nothing covers nothing");
        assert_eq!(uncovered_example("team-*/ci", ["*/ci"]), None);
        assert!(uncovered_example("*/ci", ["team-*/ci"]).is_some());
    }

    #[test]
    fn overlaps_are_decided_exactly() {
        assert!(overlap("demo/**", "**").is_some());
        assert!(overlap("demo/*", "other/**").is_none());
        assert_eq!(overlap("demo/*", "*/app").as_deref(), Some("demo/app"));
        assert!(overlap("a*", "*b").is_some());
        assert!(overlap("a/*", "a/b/c").is_none(), "one star never crosses a slash");
    }

    fn pattern() -> impl Strategy<Value = String> {
        proptest::collection::vec(prop_oneof!["a", "b", "/", "\\*", "\\*\\*"], 0..6).prop_map(|parts| parts.concat())
    }

    fn name() -> impl Strategy<Value = String> {
        proptest::collection::vec(prop_oneof!["a", "b", "c", "/"], 0..7).prop_map(|parts| parts.concat())
    }

    proptest! {
        /// An example is a real counterexample, and "covered" holds for every name tried.
        #[test]
        fn uncovered_examples_are_real_and_covering_holds(
            pattern in pattern(), cover in pattern(), names in proptest::collection::vec(name(), 20)
        ) {
            match uncovered_example(&pattern, [cover.as_str()]) {
                Some(example) => prop_assert!(matches(&pattern, &example) && !matches(&cover, &example)),
                None => for name in &names {
                    prop_assert!(!matches(&pattern, name) || matches(&cover, name), "{name}");
                },
            }
        }

        /// A shared name matches both; "no overlap" holds for every name tried.
        #[test]
        fn overlaps_are_real_and_disjointness_holds(
            first in pattern(), second in pattern(), names in proptest::collection::vec(name(), 20)
        ) {
            match overlap(&first, &second) {
                Some(shared) => prop_assert!(matches(&first, &shared) && matches(&second, &shared)),
                None => for name in &names {
                    prop_assert!(!(matches(&first, name) && matches(&second, name)), "{name}");
                },
            }
        }
    }
}
