//! libdill 2.6 as a C-ABI library written in Rust: coroutines with
//! structured cancellation, channels, deadlines and fd waits.
//!
//! `ffi` is the C surface of 2.6 and `ffi214` that of 2.14 (dill_ names);
//! `core` does the work; `net` has the sockets and `proto` the protocols
//! stacked on them; `arch` switches contexts.

pub mod arch;
pub mod core;
pub mod ffi;
/// cbindgen:ignore
pub mod ffi214;
pub mod fuzzing;
pub mod net;
pub mod proto;

#[cfg(test)]
mod headers {
    //! The committed headers must be what cbindgen makes of the sources.
    //! `make header` (DILL_BLESS=1) rewrites them.

    fn check(name: &str, generated: &str) {
        let path = format!("{}/include/{}", env!("CARGO_MANIFEST_DIR"), name);
        if std::env::var_os("DILL_BLESS").is_some() {
            std::fs::write(&path, generated).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap();
        assert!(committed == generated, "{name} differs from cbindgen's output: run `make header`");
    }

    #[test]
    fn headers_match_cbindgen() {
        check("libdill.h", include_str!(concat!(env!("OUT_DIR"), "/libdill.h")));
        check("libdillimpl.h", include_str!(concat!(env!("OUT_DIR"), "/libdillimpl.h")));
        check("2.14/libdill.h", include_str!(concat!(env!("OUT_DIR"), "/2.14/libdill.h")));
        check("2.14/libdillimpl.h", include_str!(concat!(env!("OUT_DIR"), "/2.14/libdillimpl.h")));
    }
}
