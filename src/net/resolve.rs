//! Names that are not literal addresses: local interface names for
//! `ipaddr_local`, host names for `ipaddr_remote`.

use crate::core::ctx::Ctx;
use crate::net::ipaddr::{Addr, Mode};

/// The address of the local interface `name` (e.g. "eth0").
pub fn local(name: &str, mode: Mode) -> Result<Addr, i32> {
    let _ = (name, mode);
    Err(libc::ENODEV)
}

/// The address of host `name`, resolved without blocking the thread.
pub fn remote(cx: &Ctx, name: &str, mode: Mode, deadline: i64) -> Result<Addr, i32> {
    let _ = (cx, name, mode, deadline);
    Err(libc::EADDRNOTAVAIL)
}
