//! Signing in to a running ocicat the way a browser does (the login form), for tests and the
//! demo that drive a real server process: answers the session cookie to send back.

use anyhow::Context as _;

/// Posts the login form for `user` to the ocicat at `base` (`http://host:port`) and answers its
/// session cookie (`ocicat=…`).
pub async fn session_cookie(base: &str, user: &str, password: &str) -> anyhow::Result<String> {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
    let form = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([("username", user), ("password", password), ("next", "/")])
        .finish();
    let response = client
        .post(format!("{base}/auth/login"))
        .header(reqwest::header::ORIGIN, base)
        .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .with_context(|| format!("cannot reach {base} to sign in"))?;
    response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|value| value.split(';').next().filter(|pair| pair.starts_with("ocicat=")).map(str::to_owned))
        .with_context(|| format!("signing in as {user} at {base} failed ({})", response.status()))
}
