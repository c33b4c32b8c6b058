//! Locate a sub-message's bytes inside an encoded protobuf, so that the init command can be
//! hashed and verified exactly as it was received (the bootloader verifies the bytes it got,
//! never a re-encoding; a re-encoding could differ, e.g. with unpacked `sd_req`).

use prost::encoding::decode_varint;
use std::ops::Range;

/// The byte range of the length-delimited field `tag` in `msg` (a message that starts at
/// `base` in the whole buffer). `Ok(None)` if absent; `Err` if it appears more than once or
/// the bytes are not protobuf.
pub(crate) fn unique_field(
    msg: &[u8],
    base: usize,
    tag: u32,
) -> Result<Option<Range<usize>>, WalkError> {
    let mut rest = msg;
    let mut found = None;
    while !rest.is_empty() {
        let key = decode_varint(&mut rest).map_err(|_| WalkError::Malformed)?;
        let field = (key >> 3) as u32;
        match key & 7 {
            0 => {
                decode_varint(&mut rest).map_err(|_| WalkError::Malformed)?;
            }
            1 => rest = rest.get(8..).ok_or(WalkError::Malformed)?,
            5 => rest = rest.get(4..).ok_or(WalkError::Malformed)?,
            2 => {
                let len =
                    usize::try_from(decode_varint(&mut rest).map_err(|_| WalkError::Malformed)?)
                        .map_err(|_| WalkError::Malformed)?;
                let start = base + (msg.len() - rest.len());
                let body = rest.get(..len).ok_or(WalkError::Malformed)?;
                if field == tag {
                    if found.is_some() {
                        return Err(WalkError::Duplicate);
                    }
                    found = Some(start..start + body.len());
                }
                rest = &rest[len..];
            }
            _ => return Err(WalkError::Malformed),
        }
    }
    Ok(found)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WalkError {
    Malformed,
    Duplicate,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_fields_and_rejects_duplicates() {
        // field 1 varint 5, field 2 bytes [aa bb], field 3 fixed32.
        let msg = [0x08, 0x05, 0x12, 0x02, 0xAA, 0xBB, 0x1D, 1, 2, 3, 4];
        assert_eq!(unique_field(&msg, 10, 2), Ok(Some(14..16)));
        assert_eq!(unique_field(&msg, 0, 4), Ok(None));
        assert_eq!(
            unique_field(&[0x12, 0x00, 0x12, 0x00], 0, 2),
            Err(WalkError::Duplicate)
        );
        assert_eq!(
            unique_field(&[0x12, 0x05, 0x00], 0, 2),
            Err(WalkError::Malformed)
        );
        assert_eq!(unique_field(&[0x0B], 0, 2), Err(WalkError::Malformed));
    }
}
