//! Monotonic time in milliseconds, the unit of every deadline.

/// Milliseconds on the monotonic clock. Never 0 or -1 in practice: those are
/// the special deadlines "now" and "never".
#[inline]
pub fn now_ms() -> i64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: ts is a valid out-pointer; CLOCK_MONOTONIC always exists.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    // Offset by one second so that a freshly booted machine never yields 0.
    ts.tv_sec as i64 * 1000 + ts.tv_nsec as i64 / 1_000_000 + 1000
}
