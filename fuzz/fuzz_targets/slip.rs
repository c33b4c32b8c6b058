//! Arbitrary bytes into the streaming SLIP decoder (every configuration, arbitrary chunking),
//! plus encode/decode round trips of the input as a payload.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nrf_dfu::slip::{self, Overflow, SlipConfig, SlipDecoder, SlipEvent};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, stream)) = data.split_first() else { return };

    // Decoder configuration and chunk size come from the first byte.
    let max = [0usize, 1, 3, 16, 130, 4096][usize::from(selector % 6)];
    let config = SlipConfig::default()
        .max_frame_len(max)
        .emit_empty_frames(selector & 0x08 != 0)
        .on_overflow(if selector & 0x10 != 0 { Overflow::Wedge } else { Overflow::Resync });
    let chunk = usize::from(selector >> 5) + 1;

    let mut decoder = SlipDecoder::new(config);
    let mut whole = SlipDecoder::new(config);
    let mut chunked_events = Vec::new();
    for part in stream.chunks(chunk) {
        chunked_events.extend(decoder.feed(part));
    }
    let whole_events = whole.feed(stream);
    assert_eq!(chunked_events, whole_events, "chunking changed the decoded stream");
    for event in &whole_events {
        if let SlipEvent::Frame(frame) = event {
            assert!(frame.len() <= max, "frame of {} bytes over the {max}-byte limit", frame.len());
            assert!(config.emit_empty_frames || !frame.is_empty());
        }
    }
    assert!(decoder.pending_len() <= max);

    // The input as a payload: encode -> decode -> encode.
    let encoded = slip::encode(stream);
    assert_eq!(encoded.len(), slip::encoded_len(stream));
    let decoded = slip::decode_frame(&encoded).expect("own encoding decodes");
    assert_eq!(decoded, stream);
    assert_eq!(slip::encode(&decoded), encoded);
    let mut fresh = SlipDecoder::new(SlipConfig::default().max_frame_len(usize::MAX).emit_empty_frames(true));
    assert_eq!(fresh.feed(&encoded), vec![SlipEvent::Frame(stream.to_vec())]);

    // The input as a frame: whatever decodes re-encodes to the same bytes.
    if let Ok(frame) = slip::decode_frame(stream) {
        assert_eq!(slip::encode(&frame), stream);
    }
});
