//! [`Scheme::Maven`](crate::Scheme::Maven): a port of Maven 3.9's
//! `org.apache.maven.artifact.versioning.ComparableVersion` (maven-artifact), the order the POM
//! reference documents (<https://maven.apache.org/pom.html#version-order-specification>).
//!
//! The lowercased version is cut at `.`, `-` and digit/letter transitions into numbers and
//! qualifiers; `-`, a transition and a qualifier after a `.` open a nested list. Trailing "null"
//! items (`0`, the release qualifiers `""`/`ga`/`final`/`release`, empty lists) are dropped from
//! every list. Qualifiers order `alpha < beta < milestone < rc = cr < snapshot < release < sp <`
//! other qualifiers by name (`a1`, `b1`, `m1` mean `alpha-1`, `beta-1`, `milestone-1`); a number
//! beats a list, which beats a qualifier; a missing item compares as "null", so `1 = 1.0 =
//! 1-ga`, `1-rc1 < 1 < 1-sp < 1-1 < 1.1`.
//!
//! Differences from the Java: only ASCII digits are digits (Java's `Character.isDigit` takes any
//! Unicode digit) and only strings of printable ASCII starting with a digit parse (Maven takes
//! anything, but versions are expected to start with a number).

use std::cmp::Ordering;

use crate::text::cmp_digits;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    /// A number, leading zeros stripped (so zero is the empty string).
    Number(String),
    /// A qualifier, lowercased, aliases resolved (the release qualifiers are the empty string).
    Qualifier(String),
    /// A nested list.
    List(Vec<Item>),
}

/// Known qualifiers in order; unknown ones come after, by name.
const QUALIFIERS: [&str; 7] = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];
/// The position of the release qualifier (`""`) in [`QUALIFIERS`].
const RELEASE: usize = 5;

pub(crate) fn compare(a: &str, b: &str) -> Option<Ordering> {
    Some(cmp_lists(&parse(a)?, &parse(b)?))
}

pub(crate) fn parses(version: &str) -> bool {
    parse(version).is_some()
}

/// `ComparableVersion.parseVersion`: the top-level list, or `None` for strings this port does
/// not take.
fn parse(version: &str) -> Option<Vec<Item>> {
    if !version.starts_with(|c: char| c.is_ascii_digit()) || !version.bytes().all(|c| c.is_ascii_graphic()) {
        return None;
    }
    let version = version.to_ascii_lowercase();
    let bytes = version.as_bytes();
    // The lists being filled, outermost first: each new list is the last item of the one before
    // it, and once opened, items only go into the newest.
    let mut lists: Vec<Vec<Item>> = vec![Vec::new()];
    let mut is_digit = false;
    let mut start = 0;
    for (i, &c) in bytes.iter().enumerate() {
        let list_is_empty = lists.last().is_none_or(Vec::is_empty);
        if c == b'.' || c == b'-' {
            let item = if i == start { Item::Number(String::new()) } else { item(is_digit, &version[start..i]) };
            push(&mut lists, item);
            start = i + 1;
            if c == b'-' {
                lists.push(Vec::new());
            }
        } else if c.is_ascii_digit() {
            if !is_digit && i > start {
                // 1.0.0.X1 < 1.0.0-X2: a qualifier after a dot is treated as after a hyphen.
                if !list_is_empty {
                    lists.push(Vec::new());
                }
                push(&mut lists, Item::Qualifier(qualifier(&version[start..i], true)));
                start = i;
                lists.push(Vec::new());
            }
            is_digit = true;
        } else {
            if is_digit && i > start {
                push(&mut lists, item(true, &version[start..i]));
                start = i;
                lists.push(Vec::new());
            }
            is_digit = false;
        }
    }
    if bytes.len() > start {
        if !is_digit && !lists.last().is_none_or(Vec::is_empty) {
            lists.push(Vec::new());
        }
        push(&mut lists, item(is_digit, &version[start..]));
    }
    // Close the lists innermost first, normalising each before its parent, as Maven does.
    let mut closed: Option<Vec<Item>> = None;
    while let Some(mut list) = lists.pop() {
        if let Some(child) = closed.take() {
            list.push(Item::List(child));
        }
        normalize(&mut list);
        closed = Some(list);
    }
    closed
}

fn push(lists: &mut [Vec<Item>], item: Item) {
    if let Some(list) = lists.last_mut() {
        list.push(item);
    }
}

/// `ComparableVersion.parseItem`.
fn item(is_digit: bool, text: &str) -> Item {
    if is_digit {
        Item::Number(text.trim_start_matches('0').to_owned())
    } else {
        Item::Qualifier(qualifier(text, false))
    }
}

/// `StringItem`'s constructor: `a1`, `b1`, `m1` spelled out, then the aliases.
fn qualifier(text: &str, followed_by_digit: bool) -> String {
    let text = match text {
        "a" if followed_by_digit => "alpha",
        "b" if followed_by_digit => "beta",
        "m" if followed_by_digit => "milestone",
        "cr" => "rc",
        "ga" | "final" | "release" => "",
        other => other,
    };
    text.to_owned()
}

fn is_null(item: &Item) -> bool {
    match item {
        Item::Number(digits) => digits.is_empty(),
        Item::Qualifier(name) => name.is_empty(),
        Item::List(items) => items.is_empty(),
    }
}

/// `ListItem.normalize`: drop null items from the end, looking past non-null lists.
fn normalize(list: &mut Vec<Item>) {
    let mut i = list.len();
    while i > 0 {
        i -= 1;
        if is_null(&list[i]) {
            list.remove(i);
        } else if !matches!(list[i], Item::List(_)) {
            break;
        }
    }
}

/// `StringItem.comparableQualifier`: known qualifiers by position, then others by name.
fn rank(name: &str) -> (usize, &str) {
    match QUALIFIERS.iter().position(|known| *known == name) {
        Some(position) => (position, ""),
        None => (QUALIFIERS.len(), name),
    }
}

/// `Item.compareTo`, with `None` standing for Java's `null` (a missing item).
fn cmp_item(a: &Item, b: Option<&Item>) -> Ordering {
    match (a, b) {
        (Item::Number(digits), None) => {
            if digits.is_empty() {
                Ordering::Equal
            } else {
                Ordering::Greater
            }
        }
        (Item::Number(x), Some(Item::Number(y))) => cmp_digits(x, y),
        (Item::Number(_), Some(_)) => Ordering::Greater,
        (Item::Qualifier(name), None) => rank(name).cmp(&(RELEASE, "")),
        (Item::Qualifier(x), Some(Item::Qualifier(y))) => rank(x).cmp(&rank(y)),
        (Item::Qualifier(_), Some(_)) => Ordering::Less,
        (Item::List(items), None) => {
            items.iter().map(|item| cmp_item(item, None)).find(|o| o.is_ne()).unwrap_or(Ordering::Equal)
        }
        (Item::List(_), Some(Item::Number(_))) => Ordering::Less,
        (Item::List(_), Some(Item::Qualifier(_))) => Ordering::Greater,
        (Item::List(x), Some(Item::List(y))) => cmp_lists(x, y),
    }
}

/// `ListItem.compareTo` for two lists: item by item, the shorter padded with nulls.
fn cmp_lists(a: &[Item], b: &[Item]) -> Ordering {
    for i in 0..a.len().max(b.len()) {
        let ordering = match (a.get(i), b.get(i)) {
            (Some(x), y) => cmp_item(x, y),
            (None, Some(y)) => cmp_item(y, None).reverse(),
            (None, None) => Ordering::Equal,
        };
        if ordering != Ordering::Equal {
            return ordering;
        }
    }
    Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(items: &[Item]) -> String {
        let mut out = String::new();
        for item in items {
            if !out.is_empty() {
                out.push(if matches!(item, Item::List(_)) { '-' } else { '.' });
            }
            match item {
                Item::Number(digits) if digits.is_empty() => out.push('0'),
                Item::Number(text) | Item::Qualifier(text) => out.push_str(text),
                Item::List(inner) => out.push_str(&canonical(inner)),
            }
        }
        out
    }

    #[test]
    fn canonical_forms_match_maven() {
        for (version, expected) in [
            ("1.0.0", "1"),
            ("1.0-alpha-1", "1-alpha-1"),
            ("1.0-SNAPSHOT", "1-snapshot"),
            ("1.0.0.RC1", "1-rc-1"),
            ("2.0.1-xyz", "2.0.1-xyz"),
            ("1-1-snapshot", "1-1-snapshot"),
            ("1.0.GA", "1"),
        ] {
            assert_eq!(canonical(&parse(version).unwrap()), expected, "{version}");
        }
    }

    #[test]
    fn only_printable_ascii_starting_with_a_digit_parses() {
        for bad in ["", "v1.0", "alpha", "1.0 beta", "1.0\u{e9}", "1.\u{663}"] {
            assert!(!parses(bad), "{bad:?}");
        }
    }
}
