//! Generates the C headers from the Rust `extern "C"` items with cbindgen,
//! into OUT_DIR; a test compares them with the committed `include/` copies.
//! Also sets the shared library's SONAME.

use std::env;
use std::path::PathBuf;

fn main() {
    let dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=cbindgen-impl.toml");
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libdill.so.19");

    let cfg = cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("cbindgen.toml");
    cbindgen::Builder::new()
        .with_crate(&dir)
        .with_config(cfg)
        .generate()
        .expect("generating libdill.h")
        .write_to_file(out.join("libdill.h"));

    // libdillimpl.h: the items for implementing handle and socket types,
    // taken from their own source files.
    let cfg = cbindgen::Config::from_file(dir.join("cbindgen-impl.toml")).expect("cbindgen-impl.toml");
    cbindgen::Builder::new()
        .with_src(dir.join("src/core/hvfs.rs"))
        .with_src(dir.join("src/ffi/handles.rs"))
        .with_config(cfg)
        .generate()
        .expect("generating libdillimpl.h")
        .write_to_file(out.join("libdillimpl.h"));
}
