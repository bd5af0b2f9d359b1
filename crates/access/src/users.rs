//! The users file: htpasswd-style `name:hash` lines (argon2id PHC strings only), `#` comments
//! and blank lines ignored. `ocicat user add/passwd` write it; the server reads it.

/// One user of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserEntry {
    /// The sign-in name.
    pub name: String,
    /// The argon2id PHC string.
    pub password_hash: String,
}

/// What is wrong with a users file, with the line.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UsersError {
    /// A line without `name:hash`.
    #[error("line {line}: expected name:hash")]
    Shape {
        /// 1-based line number.
        line: usize,
    },
    /// A name with characters outside `A-Z a-z 0-9 . _ @ -`, or longer than 64.
    #[error("line {line}: user names are 1 to 64 of A-Z a-z 0-9 . _ @ -")]
    Name {
        /// 1-based line number.
        line: usize,
    },
    /// The same name twice.
    #[error("line {line}: user {name:?} is already defined")]
    Duplicate {
        /// 1-based line number.
        line: usize,
        /// The repeated name.
        name: String,
    },
    /// Not an argon2 hash (plain text, bcrypt, …).
    #[error("line {line}: the password of {name:?} is not an argon2 hash; set it with `ocicat user passwd`")]
    Hash {
        /// 1-based line number.
        line: usize,
        /// The user whose hash is unusable.
        name: String,
    },
}

/// True for names the file (and the sign-in form) accepts.
pub fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '@' | '-'))
}

/// Parses the file's text; the first problem is the error.
pub fn parse_users_file(text: &str) -> Result<Vec<UserEntry>, UsersError> {
    let mut users: Vec<UserEntry> = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let (name, hash) = trimmed.split_once(':').ok_or(UsersError::Shape { line })?;
        if !valid_name(name) {
            return Err(UsersError::Name { line });
        }
        if users.iter().any(|user| user.name == name) {
            return Err(UsersError::Duplicate { line, name: name.to_owned() });
        }
        if crate::password::check_hash(hash).is_err() || !hash.starts_with("$argon2") {
            return Err(UsersError::Hash { line, name: name.to_owned() });
        }
        users.push(UserEntry { name: name.to_owned(), password_hash: hash.to_owned() });
    }
    Ok(users)
}

/// The file's text for `users`, one line each, after a comment saying what it is.
pub fn render_users_file(users: &[UserEntry]) -> String {
    let mut text = String::from("# ocicat users: name:argon2id hash (edit with `ocicat user add/passwd`)\n");
    for user in users {
        text.push_str(&format!("{}:{}\n", user.name, user.password_hash));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::password::hash_password;

    #[test]
    fn a_rendered_file_parses_back_to_the_same_users() {
        let users = vec![
            UserEntry { name: "alice".into(), password_hash: hash_password("a").expect("hash") },
            UserEntry { name: "ci-bot@example".into(), password_hash: hash_password("b").expect("hash") },
        ];
        assert_eq!(parse_users_file(&render_users_file(&users)), Ok(users));
    }

    #[test]
    fn bad_lines_are_reported_with_their_number() {
        let hash = hash_password("a").expect("hash");
        assert_eq!(parse_users_file("# c\n\nalice"), Err(UsersError::Shape { line: 3 }));
        assert_eq!(parse_users_file(&format!("al ice:{hash}")), Err(UsersError::Name { line: 1 }));
        assert_eq!(
            parse_users_file(&format!("alice:{hash}\nalice:{hash}")),
            Err(UsersError::Duplicate { line: 2, name: "alice".into() })
        );
        let plain = parse_users_file("bob:hunter2").expect_err("plain text is refused");
        assert_eq!(plain, UsersError::Hash { line: 1, name: "bob".into() });
        assert!(!plain.to_string().contains("hunter2"), "the error never repeats the secret");
    }
}
