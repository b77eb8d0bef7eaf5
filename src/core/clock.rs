//! Monotonic time in milliseconds, the unit of every deadline.

/// Milliseconds on the monotonic clock, from the same epoch as the
/// original's (so deadlines built from a CLOCK_MONOTONIC reading elsewhere
/// agree). The kernel's monotonic clock starts past 0 at boot, so 0 and -1,
/// the special deadlines "now" and "never", do not come up.
#[inline]
pub fn now_ms() -> i64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: ts is a valid out-pointer; CLOCK_MONOTONIC always exists.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as i64 * 1000 + ts.tv_nsec as i64 / 1_000_000
}
