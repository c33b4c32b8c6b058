//! Package reading: any bytes give a package or a typed error, never a panic; what reads
//! back writes and re-reads to the same package.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nrf_dfu::package::{CivilTime, Package};

fuzz_target!(|data: &[u8]| {
    let Ok(pkg) = Package::from_zip(data) else { return };
    let _ = pkg.verify(None);
    let _ = pkg.nrfutil_display("fuzz.zip");
    let time = CivilTime { year: 2026, month: 1, day: 1, hour: 0, minute: 0, second: 0 };
    let Ok(zip) = pkg.to_zip(time) else { return };
    let mut again = Package::from_zip(&zip).expect("a written package reads back");
    again.ignored_manifest_keys = pkg.ignored_manifest_keys.clone();
    assert_eq!(again, pkg);
    assert_eq!(again.to_zip(time).expect("writes again"), zip);
});
