//! PFX with arbitrary bytes from the peer (see dill::fuzzing::pfx).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    dill::fuzzing::pfx::run(data);
});
