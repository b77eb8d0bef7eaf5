//! The epoll backend.

use super::{Poller, BATCH, NO_PROOF, READABLE, WRITABLE};

pub struct Epoll {
    fd: i32,
    events: [libc::epoll_event; BATCH],
}

impl Poller for Epoll {
    fn open() -> Result<Self, i32> {
        // SAFETY: plain syscall.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if fd < 0 {
            return Err(crate::core::errno::get());
        }
        Ok(Epoll { fd, events: [libc::epoll_event { events: 0, u64: 0 }; BATCH] })
    }

    fn add(&mut self, fd: i32, token: u64) -> Result<(), i32> {
        let mut ev = libc::epoll_event {
            events: (libc::EPOLLIN | libc::EPOLLOUT | libc::EPOLLRDHUP | libc::EPOLLPRI | libc::EPOLLET) as u32,
            u64: token,
        };
        // SAFETY: ev is a valid event for the duration of the call.
        let rc = unsafe { libc::epoll_ctl(self.fd, libc::EPOLL_CTL_ADD, fd, &mut ev) };
        if rc == 0 {
            return Ok(());
        }
        let e = crate::core::errno::get();
        if e == libc::EEXIST {
            // Registered under an old token (reuse we never heard of): retag it.
            // SAFETY: as above.
            if unsafe { libc::epoll_ctl(self.fd, libc::EPOLL_CTL_MOD, fd, &mut ev) } == 0 {
                return Ok(());
            }
            return Err(crate::core::errno::get());
        }
        Err(e)
    }

    fn remove(&mut self, fd: i32) {
        let mut ev = libc::epoll_event { events: 0, u64: 0 };
        // SAFETY: plain syscall; failure (fd already closed) is fine.
        unsafe { libc::epoll_ctl(self.fd, libc::EPOLL_CTL_DEL, fd, &mut ev) };
    }

    fn wait(&mut self, timeout_ms: i32, f: &mut dyn FnMut(u64, u8)) {
        // SAFETY: events has room for BATCH entries.
        let n = unsafe { libc::epoll_wait(self.fd, self.events.as_mut_ptr(), BATCH as i32, timeout_ms) };
        for i in 0..n.max(0) as usize {
            let ev = self.events[i];
            let e = ev.events as i32;
            let mut bits = 0;
            if e & (libc::EPOLLIN | libc::EPOLLRDHUP | libc::EPOLLHUP | libc::EPOLLERR) != 0 {
                bits |= READABLE;
            }
            if e & (libc::EPOLLOUT | libc::EPOLLHUP | libc::EPOLLERR) != 0 {
                bits |= WRITABLE;
            }
            // Urgent data alone wakes no fdin waiter (it does not make a
            // socket readable, and the original does not watch for it).
            if e & (libc::EPOLLRDHUP | libc::EPOLLHUP | libc::EPOLLERR | libc::EPOLLPRI) != 0 {
                bits |= NO_PROOF;
            }
            f(ev.u64, bits);
        }
    }
}

impl Drop for Epoll {
    fn drop(&mut self) {
        // SAFETY: our own descriptor.
        unsafe { libc::close(self.fd) };
    }
}
