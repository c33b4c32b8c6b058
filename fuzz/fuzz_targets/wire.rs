//! Arbitrary bytes into request decoding (strict, and as every dialect's bootloader reads
//! them) and into response decoding for every request opcode.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nrf_dfu::wire::{DeviceDecode, Dialect, Request, Response};

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = Request::decode(data) {
        assert_eq!(request.encode(), data, "strict request decode is not canonical");
    }
    for op in 0..=u8::MAX {
        if let Ok(response) = Response::decode_raw(data, op) {
            assert_eq!(response.encode(), data, "response decode is not canonical");
        }
    }

    // First byte splits the rest into the message and the stale receive-buffer contents.
    let Some((&split, rest)) = data.split_first() else { return };
    let (raw, stale) = rest.split_at(usize::from(split).min(rest.len()));
    let dialects = Dialect::all()
        .into_iter()
        .flat_map(|d| [Some(d), d.with_protocol_reduced(false).ok()])
        .flatten();
    for dialect in dialects {
        match dialect.device_decode_with_stale(raw, stale) {
            DeviceDecode::Reply { response, bytes } => {
                let op = raw.first().or(stale.first()).copied().unwrap_or(0);
                assert_eq!(Response::decode_raw(&bytes, op), Ok(response), "{dialect}: reply does not decode");
            }
            DeviceDecode::Request(r) => {
                assert!(dialect.is_supported(r.request.opcode()), "{dialect}: unsupported request handed on");
            }
            DeviceDecode::WriteLengthUnderflow => assert!(raw.is_empty()),
        }
    }
});
