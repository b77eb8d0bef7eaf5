//! Generates the C headers of both generations from the Rust `extern "C"`
//! items with cbindgen, into OUT_DIR; a test compares them with the
//! committed `include/` copies. (The shared libraries are linked by the
//! Makefile, one symbol list per generation.)

use std::env;
use std::path::PathBuf;

fn main() {
    let dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=cbindgen-impl.toml");
    println!("cargo:rerun-if-changed=cbindgen-214.toml");
    println!("cargo:rerun-if-changed=cbindgen-214-impl.toml");
    println!("cargo:rerun-if-env-changed=CC");

    let arch = env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    if arch != "x86_64" || env::var_os("CARGO_FEATURE_ARCH_FALLBACK").is_some() {
        build_fallback(&dir, &out);
    }

    // Both generations' go() share one inline context switch: one copy of
    // it, put where each header's text says @CONTEXT_SWITCH@.
    let switch = std::fs::read_to_string(dir.join("src/arch/goswitch.h")).expect("src/arch/goswitch.h");
    let config = |name: &str| {
        let mut cfg = cbindgen::Config::from_file(dir.join(name)).expect(name);
        cfg.after_includes = cfg.after_includes.map(|t| t.replace("@CONTEXT_SWITCH@\n", &switch));
        cfg
    };

    // The 2.6 surface is the whole crate but src/ffi214 (cbindgen:ignore).
    cbindgen::Builder::new()
        .with_crate(&dir)
        .with_config(config("cbindgen.toml"))
        .generate()
        .expect("generating libdill.h")
        .write_to_file(out.join("libdill.h"));

    // libdillimpl.h: the items for implementing handle and socket types,
    // taken from their own source files.
    cbindgen::Builder::new()
        .with_src(dir.join("src/core/hvfs.rs"))
        .with_src(dir.join("src/ffi/handles.rs"))
        .with_src(dir.join("src/net/vfs.rs"))
        .with_config(config("cbindgen-impl.toml"))
        .generate()
        .expect("generating libdillimpl.h")
        .write_to_file(out.join("libdillimpl.h"));

    // The 2.14 headers, from src/ffi214: libdillimpl.h from implh.rs (and
    // the socket interfaces both generations share), libdill.h from the
    // rest but the storage stand-ins.
    let ffi214 = dir.join("src/ffi214");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&ffi214)
        .expect("src/ffi214")
        .map(|e| e.expect("src/ffi214").path())
        .filter(|p| !["mod.rs", "implh.rs", "storage.rs"].iter().any(|n| p.ends_with(n)))
        .collect();
    files.sort();
    std::fs::create_dir_all(out.join("2.14")).expect("OUT_DIR/2.14");
    let mut b = cbindgen::Builder::new().with_config(config("cbindgen-214.toml"));
    for f in &files {
        b = b.with_src(f);
    }
    write_214(b, &out.join("2.14/libdill.h"));
    let b = cbindgen::Builder::new()
        .with_src(ffi214.join("implh.rs"))
        .with_src(dir.join("src/net/vfs.rs"))
        .with_config(config("cbindgen-214-impl.toml"));
    write_214(b, &out.join("2.14/libdillimpl.h"));
}

/// Writes a 2.14 header with a raw-name macro (`#define chmake
/// dill_chmake`) for each function cbindgen declared, before the include
/// guard's end, unless DILL_DISABLE_RAW_NAMES.
fn write_214(b: cbindgen::Builder, path: &std::path::Path) {
    let mut bytes = Vec::new();
    b.generate().expect("generating a 2.14 header").write(&mut bytes);
    let text = String::from_utf8(bytes).expect("header text");
    // cbindgen's own extern "C" block is the last one: the text before it
    // declares dill_prologue and friends, which have no raw names.
    let from = text.rfind("extern \"C\" {").unwrap_or(0);
    let mut names: Vec<&str> = Vec::new();
    let decls = &text[from..];
    let mut rest = decls;
    while let Some(i) = rest.find("dill_") {
        let tail = &rest[i..];
        let len = tail.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(tail.len());
        let starts_word = i == 0 || !rest.as_bytes()[i - 1].is_ascii_alphanumeric() && rest.as_bytes()[i - 1] != b'_';
        if starts_word && tail[len..].starts_with('(') && !names.contains(&&tail[..len]) {
            names.push(&tail[..len]);
        }
        rest = &tail[len..];
    }
    let mut macros = String::from("#if !defined DILL_DISABLE_RAW_NAMES\n");
    for n in &names {
        macros += &format!("#define {} {}\n", &n[5..], n);
    }
    macros += "#endif\n\n";
    let end = text.rfind("#endif").expect("include guard");
    let header = format!("{}{}{}", &text[..end], macros, &text[end..]);
    if std::fs::read_to_string(path).ok().as_deref() != Some(header.as_str()) {
        std::fs::write(path, header).expect("writing a 2.14 header");
    }
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
