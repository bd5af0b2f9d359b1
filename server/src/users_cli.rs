//! `ocicat user add|passwd|remove|list`: edits the users file named by `[access] users_file`.
//! Passwords come from standard input (one line: `printf '%s\n' "$PW" | ocicat user add alice`),
//! never from arguments (they would show in `ps` and shell history). The file is replaced
//! atomically and readable by its owner only.

use std::io::BufRead as _;
use std::path::Path;

use anyhow::{Context as _, bail};
use clap::Subcommand;
use ocicat_access::{UserEntry, hash_password, parse_users_file, render_users_file, valid_name};

use crate::config::Config;

/// What to do with the users file.
#[derive(Debug, Subcommand)]
pub enum UserAction {
    /// Add a user (the file is created if missing); the grants go in `[[access.user]]`.
    Add {
        /// The sign-in name: 1-64 of A-Z a-z 0-9 . _ @ -
        name: String,
    },
    /// Set a user's password.
    Passwd {
        /// An existing user.
        name: String,
    },
    /// Remove a user (their sessions end at their next request, their tokens stop working).
    Remove {
        /// An existing user.
        name: String,
    },
    /// List the user names in the file.
    List,
}

/// Runs `action` on the configured users file.
pub fn run(config: &Config, action: UserAction) -> anyhow::Result<()> {
    let file = config
        .access
        .as_ref()
        .and_then(|access| access.users_file.as_deref())
        .context("set [access] users_file in the configuration first")?;
    let mut users = read(file)?;
    match action {
        UserAction::List => {
            for user in &users {
                println!("{}", user.name);
            }
            return Ok(());
        }
        UserAction::Add { name } => {
            if !valid_name(&name) {
                bail!("user names are 1 to 64 of A-Z a-z 0-9 . _ @ -");
            }
            if users.iter().any(|user| user.name == name) {
                bail!("user {name:?} exists already; use `ocicat user passwd {name}`");
            }
            users.push(UserEntry { name: name.clone(), password_hash: hash_password(&read_password()?)? });
            write(file, &users)?;
            println!("added {name}; give them roles with an [[access.user]] entry for {name:?}");
        }
        UserAction::Passwd { name } => {
            let password = read_password()?;
            let user = users.iter_mut().find(|user| user.name == name).with_context(|| format!("no user {name:?}"))?;
            user.password_hash = hash_password(&password)?;
            write(file, &users)?;
            println!("password of {name} changed");
        }
        UserAction::Remove { name } => {
            let before = users.len();
            users.retain(|user| user.name != name);
            if users.len() == before {
                bail!("no user {name:?}");
            }
            write(file, &users)?;
            println!("removed {name}");
        }
    }
    Ok(())
}

fn read(file: &Path) -> anyhow::Result<Vec<UserEntry>> {
    match std::fs::read_to_string(file) {
        Ok(text) => parse_users_file(&text).map_err(|error| anyhow::anyhow!("{}: {error}", file.display())),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(error) => Err(error).with_context(|| format!("cannot read the users file {}", file.display())),
    }
}

fn write(file: &Path, users: &[UserEntry]) -> anyhow::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let directory = file.parent().filter(|parent| !parent.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(directory).with_context(|| format!("cannot create {}", directory.display()))?;
    let temporary = directory.join(format!(".{}.tmp", file.file_name().and_then(|n| n.to_str()).unwrap_or("users")));
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&temporary)
        .with_context(|| format!("cannot write {}", temporary.display()))?;
    out.write_all(render_users_file(users).as_bytes())?;
    out.sync_all()?;
    std::fs::rename(&temporary, file).with_context(|| format!("cannot replace {}", file.display()))
}

/// One line of standard input, without its line ending.
fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("cannot read the password from standard input")?;
    let password = line.trim_end_matches(['\n', '\r']).to_owned();
    if password.chars().count() < 8 {
        bail!("the password (one line on standard input) must have at least 8 characters");
    }
    Ok(password)
}
