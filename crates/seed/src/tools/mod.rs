//! The real tools the seeder drives: `umoci` builds image layouts, `skopeo` copies them into the
//! registry, `buildah` assembles and pushes multi-platform indexes.

mod copy;
mod umoci;

pub(crate) use copy::{BuildahIndex, Format, skopeo_copy};
pub(crate) use umoci::{ImageSpec, Layout};

use std::ffi::OsStr;

use anyhow::{Context as _, bail};

/// Runs `program` with `args`, failing with its stderr when it exits unsuccessfully.
pub(crate) async fn run<I, S>(program: &str, args: I) -> anyhow::Result<String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let args: Vec<std::ffi::OsString> = args.into_iter().map(|arg| arg.as_ref().to_owned()).collect();
    let shown = shown_command(program, &args);
    tracing::debug!(tool.command = %shown, "running {shown}");
    let output = tokio::process::Command::new(program)
        .args(&args)
        .env("LC_ALL", "C")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .with_context(|| format!("failed to start {program} (is it installed?)"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: String = stderr.trim().chars().rev().take(2000).collect::<Vec<_>>().into_iter().rev().collect();
        bail!("{shown} failed with {}: {tail}", output.status);
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The command line for messages, with credentials hidden.
fn shown_command(program: &str, args: &[std::ffi::OsString]) -> String {
    let mut shown = program.to_owned();
    let mut hide_next = false;
    for arg in args {
        let text = arg.to_string_lossy();
        shown.push(' ');
        if hide_next {
            shown.push_str("<redacted>");
        } else {
            shown.push_str(&text);
        }
        hide_next = text == "--dest-creds" || text == "--creds" || text == "--src-creds";
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_never_appear_in_shown_commands() {
        let args: Vec<std::ffi::OsString> =
            ["copy", "--dest-creds", "user:secret", "a", "b"].iter().map(Into::into).collect();
        let shown = shown_command("skopeo", &args);
        assert_eq!(shown, "skopeo copy --dest-creds <redacted> a b");
    }

    #[tokio::test]
    async fn failing_commands_report_their_stderr() {
        let error = run("sh", ["-c", "echo broken pipe dream >&2; exit 3"]).await.unwrap_err();
        let text = format!("{error:#}");
        assert!(text.contains("broken pipe dream") && text.contains("exit status: 3"), "{text}");
    }
}
