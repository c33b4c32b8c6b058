use super::*;
use proptest::prelude::*;
use rstest::rstest;

fn h(s: &str) -> Vec<u8> {
    hex::decode(s.replace(' ', "")).expect("test hex")
}

fn frames(events: &[SlipEvent]) -> Vec<Vec<u8>> {
    events
        .iter()
        .filter_map(|e| match e {
            SlipEvent::Frame(f) => Some(f.clone()),
            SlipEvent::Error(_) => None,
        })
        .collect()
}

#[rstest]
#[case::empty("", "c0")]
#[case::plain("01", "01 c0")]
#[case::end_escaped("c0", "db dc c0")]
#[case::esc_escaped("db", "db dd c0")]
#[case::esc_end_literal_not_escaped("dc dd", "dc dd c0")]
#[case::select_request("06 01", "06 01 c0")]
#[case::create_data_4096("01 02 00 10 00 00", "01 02 00 10 00 00 c0")]
#[case::crc_response_with_specials(
    "60 03 01 c0 00 00 00 db 00 c0 00",
    "60 03 01 db dc 00 00 00 db dd 00 db dc 00 c0"
)]
fn encode_matches_sdk(#[case] payload: &str, #[case] wire: &str) {
    let encoded = encode(&h(payload));
    assert_eq!(encoded, h(wire));
    assert_eq!(encoded_len(&h(payload)), encoded.len());
    assert_eq!(decode_frame(&encoded).unwrap(), h(payload));
}

#[rstest]
#[case::two_frames("01 c0 02 03 c0", &["01", "02 03"])]
#[case::empty_frames_skipped("c0 c0 01 c0 c0", &["01"])]
#[case::escapes("db dc db dd c0", &["c0 db"])]
#[case::leading_end_tolerated("c0 60 06 01 c0", &["60 06 01"])]
#[case::unterminated_tail_kept_pending("01 c0 02", &["01"])]
fn stream_decodes(#[case] stream: &str, #[case] expected: &[&str]) {
    let mut d = SlipDecoder::default();
    let events = d.feed(&h(stream));
    assert_eq!(
        frames(&events),
        expected.iter().map(|s| h(s)).collect::<Vec<_>>()
    );
    assert!(events.iter().all(|e| matches!(e, SlipEvent::Frame(_))));
}

#[test]
fn empty_frames_are_passed_up_when_asked() {
    let mut d = SlipDecoder::new(SlipConfig::default().emit_empty_frames(true));
    let events = d.feed(&h("c0 01 c0 c0"));
    assert_eq!(
        events,
        vec![
            SlipEvent::Frame(vec![]),
            SlipEvent::Frame(vec![1]),
            SlipEvent::Frame(vec![])
        ]
    );
}

#[test]
fn invalid_escape_discards_until_next_end() {
    let mut d = SlipDecoder::default();
    let events = d.feed(&h("01 db 05 02 c0 03 c0"));
    assert_eq!(
        events,
        vec![
            SlipEvent::Error(SlipError::InvalidEscape { byte: 0x05 }),
            SlipEvent::Frame(vec![3])
        ]
    );
}

#[test]
fn esc_end_swallows_that_end_and_drops_the_following_frame() {
    // As slip.c and nrfutil: the END after ESC is the violating byte, not a delimiter.
    let mut d = SlipDecoder::default();
    let events = d.feed(&h("01 db c0 02 c0 03 c0"));
    assert_eq!(
        events,
        vec![
            SlipEvent::Error(SlipError::InvalidEscape { byte: 0xC0 }),
            SlipEvent::Frame(vec![3])
        ]
    );
}

#[test]
fn escape_split_across_chunks() {
    let mut d = SlipDecoder::default();
    assert!(d.feed(&[0x01, ESC]).is_empty());
    assert_eq!(d.pending_len(), 1);
    assert_eq!(
        d.feed(&[ESC_END, END]),
        vec![SlipEvent::Frame(vec![0x01, 0xC0])]
    );
}

#[test]
fn oversized_frame_is_reported_and_decoder_resyncs() {
    let mut d = SlipDecoder::new(SlipConfig::default().max_frame_len(3));
    let events = d.feed(&h("01 02 03 c0 01 02 03 04 05 c0 06 c0"));
    assert_eq!(
        events,
        vec![
            SlipEvent::Frame(vec![1, 2, 3]),
            SlipEvent::Error(SlipError::Oversized { max: 3 }),
            SlipEvent::Frame(vec![6]),
        ]
    );
    assert!(!d.is_wedged());
}

#[test]
fn sdk15_uart_device_accepts_130_and_wedges_at_131() {
    let config = SlipConfig::sdk_uart_device(SDK15_UART_BUFFER_LEN);
    assert_eq!(config.max_frame_len, 130);
    let mut d = SlipDecoder::new(config);
    let ok = vec![0x08; 130];
    assert_eq!(d.feed(&encode(&ok)), vec![SlipEvent::Frame(ok)]);

    let too_long = vec![0x08; 131];
    let events = d.feed(&encode(&too_long));
    assert_eq!(
        events,
        vec![SlipEvent::Error(SlipError::Wedged { max: 130 })]
    );
    assert!(d.is_wedged());
    // Wedged: later well-formed frames and ENDs are refused until reset.
    assert!(d.feed(&encode(&[0x09, 0x01])).is_empty());
    d.reset();
    assert_eq!(
        d.feed(&encode(&[0x09, 0x01])),
        vec![SlipEvent::Frame(vec![0x09, 0x01])]
    );
}

#[test]
fn nrfutil_write_chunk_fits_the_17_1_uart() {
    // nrfutil: chunk = (mtu - 1) // 2 - 1 = 64 for MTU 131; frame = 08 + 64 bytes.
    let chunk = (131 - 1) / 2 - 1;
    assert_eq!(chunk, 64);
    let worst = [vec![0x08], vec![END; chunk]].concat();
    assert!(encoded_len(&worst) <= 131);
    let mut d = SlipDecoder::new(SlipConfig::sdk_uart_device(SDK15_UART_BUFFER_LEN));
    assert_eq!(d.feed(&encode(&worst)), vec![SlipEvent::Frame(worst)]);
}

#[rstest]
#[case::no_end("01 02", SlipError::Unterminated)]
#[case::empty_input("", SlipError::Unterminated)]
#[case::two_frames("01 c0 02 c0", SlipError::TrailingData)]
#[case::bad_escape("db 01 c0", SlipError::InvalidEscape { byte: 0x01 })]
#[case::escaped_end_delimiter("01 db c0", SlipError::InvalidEscape { byte: 0xC0 })]
fn decode_frame_rejects(#[case] wire: &str, #[case] err: SlipError) {
    assert_eq!(decode_frame(&h(wire)), Err(err));
}

#[test]
fn error_messages_name_the_bytes() {
    assert_eq!(
        SlipError::InvalidEscape { byte: 0x05 }.to_string(),
        "SLIP escape 0xDB followed by 0x05 (expected 0xDC or 0xDD): frame dropped up to the next END"
    );
    assert_eq!(
        SlipError::Oversized { max: 130 }.to_string(),
        "SLIP frame longer than 130 bytes: dropped up to the next END"
    );
}

/// Straight port of SDK 17.1 `slip_decode_add_byte` plus the UART transport's reset after a
/// complete packet, used as the reference for the device configuration.
struct SdkSlip {
    buf: Vec<u8>,
    buffer_len: usize,
    state: u8, // 0 decoding, 1 esc received, 2 clearing
}

impl SdkSlip {
    fn add(&mut self, c: u8) -> Option<Vec<u8>> {
        if self.buf.len() == self.buffer_len {
            return None; // NRF_ERROR_NO_MEM
        }
        match self.state {
            0 => match c {
                END => return Some(std::mem::take(&mut self.buf)),
                ESC => self.state = 1,
                _ => self.buf.push(c),
            },
            1 => match c {
                ESC_END => {
                    self.buf.push(END);
                    self.state = 0;
                }
                ESC_ESC => {
                    self.buf.push(ESC);
                    self.state = 0;
                }
                _ => self.state = 2,
            },
            _ => {
                if c == END {
                    self.state = 0;
                    self.buf.clear();
                }
            }
        }
        None
    }
}

fn payload() -> impl Strategy<Value = Vec<u8>> {
    // Bias towards the special bytes.
    proptest::collection::vec(
        prop_oneof![
            Just(END),
            Just(ESC),
            Just(ESC_END),
            Just(ESC_ESC),
            any::<u8>()
        ],
        0..80,
    )
}

proptest! {
    #[test]
    fn encode_decode_encode(p in payload()) {
        let wire = encode(&p);
        prop_assert_eq!(wire.last(), Some(&END));
        prop_assert_eq!(wire.iter().filter(|&&b| b == END).count(), 1);
        prop_assert!(wire.len() <= 2 * p.len() + 1);
        let back = decode_frame(&wire).unwrap();
        prop_assert_eq!(&back, &p);
        prop_assert_eq!(encode(&back), wire);
    }

    #[test]
    fn stream_in_arbitrary_chunks(payloads in proptest::collection::vec(payload(), 0..8),
                                  cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..12),
                                  emit_empty in any::<bool>()) {
        let stream: Vec<u8> = payloads.iter().flat_map(|p| encode(p)).collect();
        let mut points: Vec<usize> = cuts.iter().map(|i| i.index(stream.len() + 1)).collect();
        points.sort_unstable();
        let mut d = SlipDecoder::new(SlipConfig::default().emit_empty_frames(emit_empty));
        let mut events = Vec::new();
        let mut start = 0;
        for p in points.into_iter().chain([stream.len()]) {
            events.extend(d.feed(&stream[start..p]));
            start = p;
        }
        let expected: Vec<Vec<u8>> = payloads.into_iter().filter(|p| emit_empty || !p.is_empty()).collect();
        prop_assert_eq!(frames(&events), expected);
        prop_assert_eq!(d.pending_len(), 0);
    }

    #[test]
    fn arbitrary_bytes_never_exceed_the_limit(bytes in proptest::collection::vec(any::<u8>(), 0..600),
                                              max in 0usize..40, wedge in any::<bool>()) {
        let policy = if wedge { Overflow::Wedge } else { Overflow::Resync };
        let mut d = SlipDecoder::new(SlipConfig::default().max_frame_len(max).on_overflow(policy));
        for e in d.feed(&bytes) {
            if let SlipEvent::Frame(f) = e {
                prop_assert!(f.len() <= max);
            }
        }
        prop_assert!(d.pending_len() <= max);
    }

    #[test]
    fn device_config_matches_the_sdk_decoder(bytes in proptest::collection::vec(
            prop_oneof![Just(END), Just(ESC), Just(ESC_END), Just(ESC_ESC), any::<u8>()], 0..400),
            buffer_len in 1usize..20) {
        let mut sdk = SdkSlip { buf: Vec::new(), buffer_len, state: 0 };
        let mut ours = SlipDecoder::new(SlipConfig::sdk_uart_device(buffer_len));
        let mut sdk_frames = Vec::new();
        let mut our_frames = Vec::new();
        for &b in &bytes {
            sdk_frames.extend(sdk.add(b));
            if let Some(SlipEvent::Frame(f)) = ours.push(b) {
                our_frames.push(f);
            }
            prop_assert_eq!(ours.is_wedged(), sdk.buf.len() == buffer_len);
        }
        prop_assert_eq!(our_frames, sdk_frames);
    }
}
