//! What the `rig` binary carries inside it, so an installed `rig` (`cargo install --path
//! rig/runner`) works from any directory: the test key pair, the stand-in images and the shipped
//! suites. Each is compiled in from the repository's own file (`include_str!`), so the files in
//! firmware/keys/ and suites/ stay the single source; the stand-in images are generated from
//! code, exactly as `rig sim images` writes firmware/sim/.

pub mod images;
pub mod keys;
pub mod suites;
