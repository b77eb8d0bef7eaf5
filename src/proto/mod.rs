//! Protocols stacked on other sockets, one file each. They reach the socket
//! below only by its handle number, through the public socket calls (so
//! they stack on ours and on sockets defined in C through libdillimpl.h).
//! Each object holds a `Life`: a call that waited checks its token before
//! touching the object again.

pub mod crlf;
#[cfg(any(test, feature = "fuzz"))]
pub mod fuzz;
pub mod http;
pub mod msgsock;
pub mod pfx;
pub mod prefix;
pub mod socks5;
pub mod suffix;
pub mod term;
pub mod tls;
pub mod ws;

use crate::core::{ctx::Ctx, handles};

/// Takes socket `s` over for a protocol object: `s` gets a new number that
/// only the protocol knows (the caller's number is retired, as the
/// original's numbering does), which `commit` completes once the protocol's
/// own handle exists. Until then `abandon` leaves `s` as it was.
pub(crate) struct Taken {
    pub old: i32,
    pub new: i32,
}

impl Taken {
    pub fn take(cx: &Ctx, s: i32) -> Result<Taken, i32> {
        Ok(Taken { old: s, new: handles::dup(cx, s)? })
    }

    /// The protocol's handle exists: the caller's number goes.
    pub fn commit(self, cx: &Ctx) -> i32 {
        let _ = handles::close(cx, self.old);
        self.new
    }

    /// The protocol could not be made: the socket keeps its number.
    pub fn abandon(self, cx: &Ctx) {
        let _ = handles::close(cx, self.new);
    }
}

/// Closes protocol handle `h` after a detach. Its number is reused last,
/// as the original, which never reuses it (see core::handles).
pub(crate) fn retire(cx: &Ctx, h: i32) {
    let Some(vfs) = cx.handles().begin_remove(h) else { return };
    // SAFETY: vfs was named by h; no handle names it now.
    unsafe {
        if (*vfs).refcount > 1 {
            (*vfs).refcount -= 1;
        } else {
            handles::close_object(cx, vfs);
        }
    }
    cx.handles().end_retire(h);
}
