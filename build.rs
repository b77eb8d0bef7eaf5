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
    println!("cargo:rerun-if-env-changed=CC");

    let arch = env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    if arch != "x86_64" || env::var_os("CARGO_FEATURE_ARCH_FALLBACK").is_some() {
        build_fallback(&dir, &out);
    }

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
        .with_src(dir.join("src/net/vfs.rs"))
        .with_config(cfg)
        .generate()
        .expect("generating libdillimpl.h")
        .write_to_file(out.join("libdillimpl.h"));
}

/// Compiles the sigsetjmp context switch (src/arch/fallback.c) with the
/// system C compiler into a static library linked into ours.
fn build_fallback(dir: &std::path::Path, out: &std::path::Path) {
    use std::process::Command;
    let cc = env::var("CC").unwrap_or_else(|_| "cc".into());
    let obj = out.join("fallback.o");
    let lib = out.join("libdillfallback.a");
    let ok = Command::new(&cc)
        .args(["-c", "-O2", "-fPIC", "-o"])
        .arg(&obj)
        .arg(dir.join("src/arch/fallback.c"))
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "compiling src/arch/fallback.c with {cc} failed");
    let _ = std::fs::remove_file(&lib);
    let ok = Command::new("ar").arg("crs").arg(&lib).arg(&obj).status().map(|s| s.success()).unwrap_or(false);
    assert!(ok, "ar failed");
    println!("cargo:rustc-link-search=native={}", out.display());
    println!("cargo:rustc-link-lib=static=dillfallback");
}
