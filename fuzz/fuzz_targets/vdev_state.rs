//! Arbitrary bytes (with a valid header prefix half of the time, so the fuzzer gets past the
//! magic) into the device state-file loader: never a panic, and a file that loads saves back to
//! the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use virtual_nrf52::state::{FORMAT_VERSION, MAGIC};
use virtual_nrf52::Device;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let bytes = if mode & 1 == 1 {
        let mut b = MAGIC.to_vec();
        b.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        b.extend_from_slice(rest);
        b
    } else {
        rest.to_vec()
    };
    if let Ok(dev) = Device::from_state_bytes(&bytes) {
        assert_eq!(dev.to_state_bytes(), bytes);
    }
});
