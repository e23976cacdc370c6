//! Build facts for `--version`, from the environment of the build: the
//! Dockerfile and `lab/lab.sh` set them, nothing is looked up (no git, no
//! network). Unset or odd values become `unknown`.
//!
//! - `PROGJAR_BUILD_COMMIT`: the git commit the programs were built from,
//!   e.g. `3f2a9c1d0b7e` or `3f2a9c1d0b7e+changes` (files differed from it).
//! - `PROGJAR_BUILD_PATH`: how the image was built, `ordinary` (the
//!   Dockerfile's rust builder stage) or `registry-free` (`make dist` on the
//!   host, `LAB_OFFLINE=1`).

fn fact(name: &str) -> String {
    println!("cargo:rerun-if-env-changed={name}");
    match std::env::var(name) {
        Ok(value)
            if !value.is_empty()
                && value.len() <= 64
                && value
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._+-".contains(&b)) =>
        {
            value
        }
        _ => "unknown".to_string(),
    }
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    for name in ["PROGJAR_BUILD_COMMIT", "PROGJAR_BUILD_PATH"] {
        println!("cargo:rustc-env={name}={}", fact(name));
    }
}
