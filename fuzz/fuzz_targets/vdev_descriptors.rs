//! Arbitrary bytes into the three stand-in descriptor decoders and the MBR's stored COPY_BL
//! record: never a panic, and whatever decodes re-encodes to the same bytes. Half of the inputs
//! get a correct magic, length and CRC patched in, so the field checks behind the CRC are reached.
#![no_main]

use libfuzzer_sys::fuzz_target;
use virtual_nrf52::descriptor::{AppDescriptor, BootloaderDescriptor, MbrDescriptor};
use virtual_nrf52::mbr::CopyBlRecord;

/// Patch `magic`, format version 1, body length and CRC into a frame with a `body`-byte body.
fn framed(data: &[u8], magic: &[u8; 4], body: usize) -> Vec<u8> {
    let mut b = data.to_vec();
    b.resize(8 + body + 4, 0);
    b[..4].copy_from_slice(magic);
    b[4] = 1;
    b[6..8].copy_from_slice(&(body as u16).to_le_bytes());
    let crc = crc32fast::hash(&b[..8 + body]);
    b[8 + body..].copy_from_slice(&crc.to_le_bytes());
    b
}

fn check(data: &[u8]) {
    if let Ok(d) = MbrDescriptor::decode(data) {
        let e = d.encode();
        assert_eq!(&data[..e.len()], &e[..]);
    }
    if let Ok(d) = BootloaderDescriptor::decode(data) {
        let e = d.encode().expect("a decoded descriptor encodes");
        assert_eq!(&data[..e.len()], &e[..]);
    }
    if let Ok(d) = AppDescriptor::decode(data) {
        let e = d.encode().expect("a decoded descriptor encodes");
        assert_eq!(&data[..e.len()], &e[..]);
    }
    if let Some(r) = CopyBlRecord::decode(data) {
        assert_eq!(&data[..CopyBlRecord::LEN], &r.encode()[..]);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    match mode % 4 {
        0 => check(rest),
        1 => check(&framed(rest, b"rigM", 4)),
        2 => check(&framed(rest, b"rigB", 100)),
        _ => check(&framed(rest, b"rigA", 40)),
    }
});
