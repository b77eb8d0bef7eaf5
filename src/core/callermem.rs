//! The least memory `go_mem` accepts. The first call a coroutine makes
//! through a program's PLT (with lazy binding: `dill_epilogue` at its end,
//! if nothing earlier) runs the dynamic linker's resolver on the coroutine's
//! stack, and the resolver saves the vector registers there with XSAVE(C):
//! 2.4 KiB with AVX-512, where the resolver's whole call took 3.3 KiB (2 KiB
//! let it write 1 320 bytes below the caller's memory). So the minimum is
//! derived from the machine's register state, once per process.

use core::sync::atomic::{AtomicUsize, Ordering};

/// Never less than this, whatever the machine.
const FLOOR: usize = 2048;
/// Beyond the register save area: the resolver's own frames (`_dl_fixup`,
/// the symbol lookup, 0.6 KiB measured with glibc 2.36), the coroutine
/// record, its bundle and the launch frames (0.3 KiB), with room to spare.
const MARGIN: usize = 1344 + SWITCH_EXTRA;
/// The portable context switch (sigsetjmp) adds 0.5 KiB of launch frames.
#[cfg(any(not(target_arch = "x86_64"), feature = "arch-fallback"))]
const SWITCH_EXTRA: usize = 512;
#[cfg(all(target_arch = "x86_64", not(feature = "arch-fallback")))]
const SWITCH_EXTRA: usize = 0;

static MIN: AtomicUsize = AtomicUsize::new(0);

/// The least `go_mem` memory, computed on first use.
#[inline]
pub fn min_caller_mem() -> usize {
    match MIN.load(Ordering::Relaxed) {
        0 => compute(),
        n => n,
    }
}

#[cold]
fn compute() -> usize {
    let n = FLOOR.max(save_area().div_ceil(64) * 64 + MARGIN);
    MIN.store(n, Ordering::Relaxed);
    n
}

/// Bytes of register state the resolver saves: the standard XSAVE layout of
/// the user state enabled in XCR0 (CPUID leaf 0xD), which is at least what
/// the compacted XSAVEC form takes. AMX tile state (components 17 and 18,
/// 8 KiB) is left out: the resolver does not save it (no arguments pass in
/// tiles), and counting it would refuse even the 4 KiB the original's own
/// tests use.
#[cfg(target_arch = "x86_64")]
fn save_area() -> usize {
    use core::arch::x86_64::{__cpuid, __cpuid_count};
    const FXSAVE: usize = 512;
    const LEGACY_AND_HEADER: usize = 576;
    let max_leaf = __cpuid(0).eax;
    // OSXSAVE: the kernel enabled XSAVE, so XGETBV may be used.
    if max_leaf < 0xd || __cpuid(1).ecx & (1 << 27) == 0 {
        return FXSAVE;
    }
    let xcr0 = xgetbv0();
    let mut size = LEGACY_AND_HEADER;
    for i in 2..63 {
        if xcr0 & (1 << i) == 0 || i == 17 || i == 18 {
            continue;
        }
        let c = __cpuid_count(0xd, i);
        size = size.max(c.ebx as usize + c.eax as usize);
    }
    size
}

#[cfg(target_arch = "x86_64")]
fn xgetbv0() -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: XGETBV with ECX = 0 reads XCR0; the caller checked OSXSAVE.
    unsafe {
        core::arch::asm!("xgetbv", in("ecx") 0, out("eax") lo, out("edx") hi,
            options(nomem, nostack, preserves_flags));
    }
    (hi as u64) << 32 | lo as u64
}

/// Elsewhere the resolvers save far less than the floor allows for.
#[cfg(not(target_arch = "x86_64"))]
fn save_area() -> usize {
    0
}

#[cfg(test)]
mod tests {
    #[test]
    fn minimum_covers_the_register_state_and_is_cached() {
        let n = super::min_caller_mem();
        assert!(n >= super::FLOOR);
        assert!(n >= super::save_area() + super::MARGIN);
        assert_eq!(n % 64, 0);
        assert_eq!(super::min_caller_mem(), n);
    }
}
