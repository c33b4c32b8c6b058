//! Intel HEX: parse into [`Segments`], and write exactly what Python's `intelhex` 2.3
//! `write_hex_file` writes (nrfutil 6.1.7 uses it for every .hex it produces).
//!
//! Record syntax is the `ihex` crate's job; the address arithmetic and the writer's record
//! layout are ours because they must follow `intelhex` to the byte.

use super::segments::{InsertError, Segments, StartAddress};
use ihex::{ReaderError, Record};

/// What is wrong with an Intel HEX text, and on which line (1-based, as editors count).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HexError {
    #[error("line {line}: malformed record: {reason}")]
    Malformed { line: usize, reason: String },
    #[error(
        "line {line}: bad checksum: record says {stored:#04x}, its bytes sum to {computed:#04x}"
    )]
    BadChecksum {
        line: usize,
        stored: u8,
        computed: u8,
    },
    #[error("line {line}: overlapping data at address {address:#010x}")]
    Overlap { line: usize, address: u32 },
    #[error("line {line}: data at {address:#010x} runs past the 4 GiB address space")]
    PastAddressSpace { line: usize, address: u32 },
    #[error("line {line}: a second start address record")]
    DuplicateStartAddress { line: usize },
}

/// Parse Intel HEX text into sparse segments.
///
/// Follows `intelhex` (what nrfutil reads with): blank lines are skipped, the end-of-file
/// record ends parsing and a missing one is tolerated, record types 02 and 04 set the base
/// address, a data record may run past a 64 KB boundary without wrapping, and any byte
/// written twice is an error.
pub fn parse_intel_hex(text: &str) -> Result<Segments, HexError> {
    let mut segments = Segments::new();
    let mut base: u64 = 0;
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let record_text = raw.trim_end();
        if record_text.is_empty() {
            continue;
        }
        let record = Record::from_record_string(record_text).map_err(|e| match e {
            // ihex checks the checksum before the length byte; a short record would then be
            // blamed on its checksum, so say what is really wrong first.
            ReaderError::ChecksumMismatch(computed, stored) => match length_mismatch(record_text) {
                Some(reason) => HexError::Malformed { line, reason },
                // ihex reports (computed, stored).
                None => HexError::BadChecksum {
                    line,
                    stored,
                    computed,
                },
            },
            other => HexError::Malformed {
                line,
                reason: other.to_string(),
            },
        })?;
        match record {
            Record::Data { offset, value } => {
                let address = base + offset as u64;
                let at = u32::try_from(address).map_err(|_| HexError::PastAddressSpace {
                    line,
                    address: u32::MAX,
                })?;
                segments.insert(at, &value).map_err(|e| match e {
                    InsertError::Overlap(address) => HexError::Overlap { line, address },
                    InsertError::PastAddressSpace { start, .. } => HexError::PastAddressSpace {
                        line,
                        address: start,
                    },
                })?;
            }
            Record::EndOfFile => break,
            Record::ExtendedSegmentAddress(seg) => base = seg as u64 * 16,
            Record::ExtendedLinearAddress(upper) => base = (upper as u64) << 16,
            Record::StartSegmentAddress { cs, ip } => {
                set_start(&mut segments, StartAddress::Segment { cs, ip }, line)?
            }
            Record::StartLinearAddress(eip) => {
                set_start(&mut segments, StartAddress::Linear(eip), line)?
            }
        }
    }
    Ok(segments)
}

/// For a record of valid hex digits: does its length byte disagree with its size?
fn length_mismatch(record_text: &str) -> Option<String> {
    let digits = record_text.get(1..)?;
    let declared = u8::from_str_radix(digits.get(0..2)?, 16).ok()? as usize;
    let actual = (digits.len() / 2).checked_sub(5)?;
    (declared != actual)
        .then(|| format!("length byte says {declared} data bytes, the record holds {actual}"))
}

fn set_start(segments: &mut Segments, start: StartAddress, line: usize) -> Result<(), HexError> {
    if segments.start_address.is_some() {
        return Err(HexError::DuplicateStartAddress { line });
    }
    segments.start_address = Some(start);
    Ok(())
}

/// Bytes per data record, `intelhex`'s default `byte_count`.
const BYTES_PER_RECORD: u64 = 16;

/// Write `segments` as Intel HEX, byte-identical to `intelhex`'s `write_hex_file` defaults:
/// start address record first (if any); type-04 records only when the highest address is above
/// 0xFFFF, then one before the first record and one whenever the upper 16 address bits change;
/// data records of up to 16 bytes that start where the data starts (not 16-aligned), stop at
/// a gap and never cross a 64 KB boundary; uppercase hex; "\n" line ends; ":00000001FF" last.
pub fn write_intel_hex(segments: &Segments) -> String {
    let mut out = String::new();
    let mut push = |r: Record| {
        // Records built here carry at most 16 data bytes, well under ihex's 255-byte limit.
        out.push_str(
            &r.to_record_string()
                .expect("record of at most 16 data bytes"),
        );
        out.push('\n');
    };
    match segments.start_address {
        Some(StartAddress::Segment { cs, ip }) => push(Record::StartSegmentAddress { cs, ip }),
        Some(StartAddress::Linear(eip)) => push(Record::StartLinearAddress(eip)),
        None => {}
    }
    let need_offset_records = segments.max_address().is_some_and(|m| m > 0xFFFF);
    let mut upper: Option<u32> = None;
    for (start, run) in segments.runs() {
        let end = start as u64 + run.len() as u64;
        let mut at = start as u64;
        while at < end {
            let hi = (at >> 16) as u32;
            if need_offset_records && upper != Some(hi) {
                push(Record::ExtendedLinearAddress(hi as u16));
                upper = Some(hi);
            }
            let low = at & 0xFFFF;
            let len = BYTES_PER_RECORD.min(0x1_0000 - low).min(end - at);
            let from = (at - start as u64) as usize;
            push(Record::Data {
                offset: low as u16,
                value: run[from..from + len as usize].to_vec(),
            });
            at += len;
        }
    }
    push(Record::EndOfFile);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_extended_addresses_and_eof() {
        let text = ":020000040002F8\n:0400000001020304F2\n:00000001FF\n:0400000001020304F2\n";
        let s = parse_intel_hex(text).unwrap();
        assert_eq!(
            s.runs().collect::<Vec<_>>(),
            vec![(0x20000, &[1u8, 2, 3, 4][..])]
        );
    }

    #[test]
    fn segment_address_record_multiplies_by_16() {
        let s = parse_intel_hex(":020000021000EC\n:0100000042BD\n").unwrap();
        assert_eq!(s.min_address(), Some(0x10000));
    }

    #[test]
    fn errors_name_the_line() {
        let bad_sum = ":020000040002F8\n\n:0400000001020304F3\n";
        assert_eq!(
            parse_intel_hex(bad_sum),
            Err(HexError::BadChecksum {
                line: 3,
                stored: 0xF3,
                computed: 0xF2
            })
        );
        let overlap = ":0400000001020304F2\n:0100020000FD\n";
        assert_eq!(
            parse_intel_hex(overlap),
            Err(HexError::Overlap {
                line: 2,
                address: 2
            })
        );
        assert!(matches!(
            parse_intel_hex("hello\n"),
            Err(HexError::Malformed { line: 1, .. })
        ));
        assert!(matches!(
            parse_intel_hex(":0400000001020304\n"),
            Err(HexError::Malformed { line: 1, .. })
        ));
        assert!(parse_intel_hex(":0400000001020304F2").is_ok());
        let twice = ":0400000500000001F6\n:0400000500000001F6\n";
        assert_eq!(
            parse_intel_hex(twice),
            Err(HexError::DuplicateStartAddress { line: 2 })
        );
        let past = ":02000004FFFFFC\n:10FFF80000000000000000000000000000000000F9\n";
        assert!(matches!(
            parse_intel_hex(past),
            Err(HexError::PastAddressSpace { line: 2, .. })
        ));
    }

    #[test]
    fn crlf_and_blank_lines() {
        let s = parse_intel_hex("\r\n:0100000042BD\r\n\r\n:00000001FF\r\n").unwrap();
        assert_eq!(s.get(0), Some(0x42));
    }

    #[test]
    fn writer_layout_matches_intelhex() {
        // Below 64 KB: no type-04 record at all; records follow the data's own alignment.
        let s = Segments::from_runs([(0x1003u32, &[0u8; 20][..])]).unwrap();
        let t = write_intel_hex(&s);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(
            lines,
            vec![
                ":1010030000000000000000000000000000000000DD",
                ":0410130000000000D9",
                ":00000001FF"
            ]
        );
        // Above 64 KB: a type-04 record first, and again when crossing into the next 64 KB.
        let s = Segments::from_runs([(0x1FFF8u32, &[0xABu8; 16][..])]).unwrap();
        let lines: Vec<String> = write_intel_hex(&s).lines().map(String::from).collect();
        assert_eq!(
            lines,
            vec![
                ":020000040001F9",
                ":08FFF800ABABABABABABABABA9",
                ":020000040002F8",
                ":08000000ABABABABABABABABA0",
                ":00000001FF",
            ]
        );
        // Start address record goes first; an empty image is just EOF.
        let mut s = Segments::new();
        s.start_address = Some(StartAddress::Linear(0x0002_3101));
        assert_eq!(write_intel_hex(&s), ":0400000500023101C3\n:00000001FF\n");
    }

    proptest! {
        #[test]
        fn round_trip(runs in proptest::collection::vec((0u32..0x30000, proptest::collection::vec(any::<u8>(), 1..40)), 0..8),
                      start in proptest::option::of(any::<u32>())) {
            let mut s = Segments::new();
            for (a, d) in &runs { let _ = s.insert(*a, d); }
            s.start_address = start.map(StartAddress::Linear);
            let text = write_intel_hex(&s);
            let back = parse_intel_hex(&text).unwrap();
            prop_assert_eq!(&back, &s);
            prop_assert_eq!(write_intel_hex(&back), text);
        }
    }
}
