//! Free loopback port discovery for servers that must be told their port up front.

use std::net::{Ipv4Addr, TcpListener};

use anyhow::Context as _;

/// Returns a TCP port on `127.0.0.1` that was free a moment ago.
///
/// The port is found by binding port 0 and releasing it, so another process may
/// take it before the caller binds it; [`crate::Distribution`] and
/// [`crate::Ferro`] retry with a new port when that happens.
pub fn free_port() -> anyhow::Result<u16> {
    let listener =
        TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("failed to bind 127.0.0.1:0 to find a free port")?;
    let address = listener.local_addr().context("failed to read the local address of the probe listener")?;
    Ok(address.port())
}
