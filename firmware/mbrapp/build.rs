//! Puts link.x where the linker finds it, and rebuilds when the version changes.
use std::path::PathBuf;

fn main() {
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    std::fs::copy("link.x", out.join("link.x")).unwrap();
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=link.x");
    println!("cargo:rerun-if-env-changed=RIG_APP_VERSION");
    println!("cargo:rerun-if-env-changed=RIG_APP_FILL");
}
