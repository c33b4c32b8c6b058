//! SLIP framing exactly as the nRF5 SDK (`components/libraries/slip/slip.c`) and nrfutil
//! (`dfu_transport_serial.py`, `Slip.encode` / `Slip.decode_add_byte`) do it.
//!
//! Encoding: the escaped payload followed by one END; no leading END is ever sent.
//! Decoding is a streaming state machine fed arbitrary chunks. It follows the SDK decoder
//! where that matters to a test rig:
//! - ESC followed by anything but ESC_END / ESC_ESC is a protocol violation: the frame is
//!   dropped and bytes are discarded up to the next END. The byte after the ESC is consumed by
//!   the violation, so `ESC END` swallows that END and the *following* frame is discarded too.
//! - A bare END (empty frame) is skipped by default; the SDK passes it up as a zero-length
//!   packet (see [`SlipConfig::emit_empty_frames`]).
//! - A frame longer than [`SlipConfig::max_frame_len`] is reported once as
//!   [`SlipError::Oversized`]; by default the decoder resynchronises at the next END. The real
//!   SDK 15+ UART decoder instead refuses every further byte, END included, and never resets
//!   (the transport is wedged until the device resets); [`Overflow::Wedge`] reproduces that
//!   for the virtual device.
//!
//! Hand-written rather than taken from a SLIP crate: general crates (slip-codec,
//! serial-line-ip) do not model the SDK's escape-violation, empty-frame and buffer-full
//! behaviour, which is what the rig has to reproduce and test against.

/// Frame delimiter.
pub const END: u8 = 0xC0;
/// Escape byte.
pub const ESC: u8 = 0xDB;
/// ESC ESC_END encodes a payload 0xC0.
pub const ESC_END: u8 = 0xDC;
/// ESC ESC_ESC encodes a payload 0xDB.
pub const ESC_ESC: u8 = 0xDD;

/// `buffer_len` of the SDK 15+ UART bootloader's SLIP decoder (`UART_SLIP_MTU`, 131). The SDK
/// checks `current_index == buffer_len` before every byte, so a frame of 131 decoded bytes
/// fills the buffer and its END is refused: the largest frame it accepts is 130 bytes.
pub const SDK15_UART_BUFFER_LEN: usize = 131;

/// Default frame limit for a client decoder: far above any response (23 bytes at most), small
/// enough that a stream without END cannot grow memory without bound.
pub const DEFAULT_MAX_FRAME_LEN: usize = 4096;

/// SLIP-encode `payload`: escaped bytes, then a single END.
pub fn encode(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(encoded_len(payload));
    encode_into(payload, &mut out);
    out
}

/// Append the SLIP encoding of `payload` to `out`.
pub fn encode_into(payload: &[u8], out: &mut Vec<u8>) {
    for &b in payload {
        match b {
            END => out.extend_from_slice(&[ESC, ESC_END]),
            ESC => out.extend_from_slice(&[ESC, ESC_ESC]),
            other => out.push(other),
        }
    }
    out.push(END);
}

/// Length of the encoding of `payload` (at most `2 * len + 1`).
pub fn encoded_len(payload: &[u8]) -> usize {
    payload.len() + payload.iter().filter(|&&b| b == END || b == ESC).count() + 1
}

/// Decode exactly one complete frame (escaped bytes then END, nothing after).
pub fn decode_frame(encoded: &[u8]) -> Result<Vec<u8>, SlipError> {
    let (last, body) = encoded.split_last().ok_or(SlipError::Unterminated)?;
    if *last != END {
        return Err(SlipError::Unterminated);
    }
    let mut out = Vec::with_capacity(body.len());
    let mut bytes = body.iter();
    while let Some(&b) = bytes.next() {
        match b {
            END => return Err(SlipError::TrailingData),
            ESC => match bytes.next() {
                Some(&ESC_END) => out.push(END),
                Some(&ESC_ESC) => out.push(ESC),
                Some(&other) => return Err(SlipError::InvalidEscape { byte: other }),
                None => return Err(SlipError::InvalidEscape { byte: END }),
            },
            other => out.push(other),
        }
    }
    Ok(out)
}

/// Why bytes were dropped, or why a single frame did not decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SlipError {
    #[error("SLIP escape 0xDB followed by 0x{byte:02X} (expected 0xDC or 0xDD): frame dropped up to the next END")]
    InvalidEscape { byte: u8 },
    #[error("SLIP frame longer than {max} bytes: dropped up to the next END")]
    Oversized { max: usize },
    #[error("SLIP frame longer than {max} bytes: the decoder is wedged and refuses all input until reset")]
    Wedged { max: usize },
    #[error("SLIP frame does not end with END (0xC0)")]
    Unterminated,
    #[error("SLIP data after the first END")]
    TrailingData,
}

/// What the decoder does with a frame longer than its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Overflow {
    /// Report it, drop it, carry on after the next END.
    #[default]
    Resync,
    /// Report it, then refuse every byte (END included) until [`SlipDecoder::reset`]: what the
    /// SDK 15+ UART bootloader does (code observation, `slip_decode_add_byte` returns
    /// NRF_ERROR_NO_MEM forever once `current_index == buffer_len`).
    Wedge,
}

/// Decoder settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlipConfig {
    /// Largest decoded frame accepted.
    pub max_frame_len: usize,
    /// Pass bare ENDs up as empty frames (the SDK does) instead of skipping them.
    pub emit_empty_frames: bool,
    pub on_overflow: Overflow,
}

impl Default for SlipConfig {
    fn default() -> Self {
        SlipConfig {
            max_frame_len: DEFAULT_MAX_FRAME_LEN,
            emit_empty_frames: false,
            on_overflow: Overflow::Resync,
        }
    }
}

impl SlipConfig {
    /// The SLIP decoder of a UART bootloader whose `buffer_len` is `buffer_len` (131 for
    /// 15+, see [`crate::wire::Dialect::slip_buffer_len`]): frames up to `buffer_len - 1`
    /// bytes, empty frames passed up, wedged on overflow.
    pub fn sdk_uart_device(buffer_len: usize) -> SlipConfig {
        SlipConfig {
            max_frame_len: buffer_len.saturating_sub(1),
            emit_empty_frames: true,
            on_overflow: Overflow::Wedge,
        }
    }

    pub fn max_frame_len(self, max_frame_len: usize) -> SlipConfig {
        SlipConfig {
            max_frame_len,
            ..self
        }
    }

    pub fn emit_empty_frames(self, emit_empty_frames: bool) -> SlipConfig {
        SlipConfig {
            emit_empty_frames,
            ..self
        }
    }

    pub fn on_overflow(self, on_overflow: Overflow) -> SlipConfig {
        SlipConfig {
            on_overflow,
            ..self
        }
    }
}

/// Something the decoder produced from the byte stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlipEvent {
    /// A complete decoded frame.
    Frame(Vec<u8>),
    /// Bytes were dropped (or the decoder wedged); the stream goes on.
    Error(SlipError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Decoding,
    Escaped,
    /// Dropping bytes up to the next END.
    Clearing,
    Wedged,
}

/// Streaming SLIP decoder: feed chunks of any size, get frames and error events out.
#[derive(Debug, Clone)]
pub struct SlipDecoder {
    config: SlipConfig,
    frame: Vec<u8>,
    state: State,
}

impl Default for SlipDecoder {
    fn default() -> Self {
        SlipDecoder::new(SlipConfig::default())
    }
}

impl SlipDecoder {
    pub fn new(config: SlipConfig) -> SlipDecoder {
        SlipDecoder {
            config,
            frame: Vec::new(),
            state: State::Decoding,
        }
    }

    pub fn config(&self) -> SlipConfig {
        self.config
    }

    /// Feed a chunk; returns the frames and errors it completed, in stream order.
    pub fn feed(&mut self, chunk: &[u8]) -> Vec<SlipEvent> {
        chunk.iter().filter_map(|&b| self.push(b)).collect()
    }

    /// Feed one byte.
    pub fn push(&mut self, byte: u8) -> Option<SlipEvent> {
        match self.state {
            State::Wedged => None,
            State::Clearing => {
                if byte == END {
                    self.state = State::Decoding;
                }
                None
            }
            State::Escaped => match byte {
                ESC_END => self.store(END),
                ESC_ESC => self.store(ESC),
                other => {
                    self.drop_frame(State::Clearing);
                    Some(SlipEvent::Error(SlipError::InvalidEscape { byte: other }))
                }
            },
            State::Decoding => match byte {
                END => {
                    let frame = std::mem::take(&mut self.frame);
                    (self.config.emit_empty_frames || !frame.is_empty())
                        .then_some(SlipEvent::Frame(frame))
                }
                ESC => {
                    self.state = State::Escaped;
                    None
                }
                other => self.store(other),
            },
        }
    }

    /// Append a decoded byte, enforcing the frame limit.
    fn store(&mut self, byte: u8) -> Option<SlipEvent> {
        let max = self.config.max_frame_len;
        if self.frame.len() >= max {
            return Some(SlipEvent::Error(match self.config.on_overflow {
                Overflow::Resync => {
                    self.drop_frame(State::Clearing);
                    SlipError::Oversized { max }
                }
                Overflow::Wedge => {
                    self.drop_frame(State::Wedged);
                    SlipError::Wedged { max }
                }
            }));
        }
        self.frame.push(byte);
        self.state = State::Decoding;
        None
    }

    fn drop_frame(&mut self, next: State) {
        self.frame.clear();
        self.state = next;
    }

    /// True once an overflow wedged the decoder ([`Overflow::Wedge`]).
    pub fn is_wedged(&self) -> bool {
        self.state == State::Wedged
    }

    /// Decoded bytes of the frame in progress.
    pub fn pending_len(&self) -> usize {
        self.frame.len()
    }

    /// Forget the frame in progress and any wedge (a device reset).
    pub fn reset(&mut self) {
        self.drop_frame(State::Decoding);
    }
}

#[cfg(test)]
#[path = "slip/tests.rs"]
mod tests;
