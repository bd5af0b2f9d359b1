//! How an image runs, as its config says (`config.Entrypoint`, `Cmd`, `Env`, `WorkingDir`,
//! `User`, `ExposedPorts`, `Volumes`, `StopSignal`), and the command line they make.

use serde::{Deserialize, Serialize};

/// The run configuration of an image, read (and capped) on the server from its config.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct RunConfig {
    /// `Entrypoint`: the executable and its first arguments.
    pub entrypoint: Vec<String>,
    /// `Cmd`: the default arguments, or the whole command when there is no entrypoint.
    pub cmd: Vec<String>,
    /// `Env`, in the config's order.
    pub env: Vec<EnvVar>,
    /// `WorkingDir`.
    pub working_dir: Option<String>,
    /// `User` (`name`, `uid`, `uid:gid`…).
    pub user: Option<String>,
    /// `ExposedPorts` (`8080/tcp`), sorted.
    pub exposed_ports: Vec<String>,
    /// `Volumes` (mount points), sorted.
    pub volumes: Vec<String>,
    /// `StopSignal`.
    pub stop_signal: Option<String>,
    /// True when a list or a value was too long and was cut.
    pub truncated: bool,
}

/// One `Env` entry: `name=value`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct EnvVar {
    /// What comes before the first `=`.
    pub name: String,
    /// What comes after it (empty when there is no `=`).
    pub value: String,
}

impl RunConfig {
    /// True when the config sets none of the fields.
    pub fn is_empty(&self) -> bool {
        self.entrypoint.is_empty()
            && self.cmd.is_empty()
            && self.env.is_empty()
            && self.working_dir.is_none()
            && self.user.is_none()
            && self.exposed_ports.is_empty()
            && self.volumes.is_empty()
            && self.stop_signal.is_none()
    }

    /// The command a container runs by default: the entrypoint followed by `Cmd`, each
    /// argument quoted for a POSIX shell (empty when neither is set).
    pub fn command(&self) -> String {
        self.entrypoint.iter().chain(&self.cmd).map(|argument| shell_quote(argument)).collect::<Vec<_>>().join(" ")
    }
}

/// `arguments` as a JSON array of strings (`["nginx","-g","daemon off;"]`), the exec form.
pub fn json_array(arguments: &[String]) -> String {
    serde_json::to_string(arguments).unwrap_or_default()
}

/// `argument` as one POSIX shell word: unchanged when it holds only characters no shell
/// treats specially, else in single quotes (a `'` inside becomes `'\''`).
pub fn shell_quote(argument: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c);
    if !argument.is_empty() && argument.chars().all(plain) {
        return argument.to_owned();
    }
    format!("'{}'", argument.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|item| (*item).to_owned()).collect()
    }

    #[test]
    fn arguments_are_quoted_only_when_a_shell_would_split_or_expand_them() {
        assert_eq!(shell_quote("/usr/bin/env"), "/usr/bin/env");
        assert_eq!(shell_quote("--port=8080"), "--port=8080");
        assert_eq!(shell_quote("daemon off;"), "'daemon off;'");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("$HOME"), "'$HOME'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote("a\nb"), "'a\nb'");
        assert_eq!(shell_quote("é"), "'é'", "non-ASCII is quoted rather than guessed about");
    }

    #[test]
    fn the_command_is_the_entrypoint_then_cmd() {
        let run = RunConfig {
            entrypoint: strings(&["/docker-entrypoint.sh"]),
            cmd: strings(&["nginx", "-g", "daemon off;"]),
            ..RunConfig::default()
        };
        assert_eq!(run.command(), "/docker-entrypoint.sh nginx -g 'daemon off;'");
        assert_eq!(json_array(&run.cmd), r#"["nginx","-g","daemon off;"]"#);
        assert!(!run.is_empty());
        let only_cmd = RunConfig { cmd: strings(&["/bin/sh"]), ..RunConfig::default() };
        assert_eq!(only_cmd.command(), "/bin/sh");
        assert_eq!(RunConfig::default().command(), "");
        assert!(RunConfig::default().is_empty());
        assert!(!RunConfig { user: Some("0".into()), ..RunConfig::default() }.is_empty());
    }
}
