//! errno access: every C entry point reports failure through errno.

/// Sets the calling thread's errno.
#[inline]
pub fn set(e: i32) {
    // SAFETY: __errno_location returns the thread's own errno slot.
    unsafe { *libc::__errno_location() = e };
}

/// Reads the calling thread's errno.
#[inline]
pub fn get() -> i32 {
    // SAFETY: as above.
    unsafe { *libc::__errno_location() }
}

/// Sets errno to `e` and returns -1: the usual failure of a C call.
#[inline]
pub fn fail(e: i32) -> i32 {
    set(e);
    -1
}
