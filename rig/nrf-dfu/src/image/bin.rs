//! Raw binaries. nrfutil takes a `.bin` as is (no MBR or UICR rules, no address), only padded
//! to whole 32-bit words; the address is kept for callers that place it in flash.

use super::firmware::{pad_to_word, Firmware, FirmwareError};
use super::segments::Segments;

/// A raw binary that belongs at `address`.
pub fn firmware_from_bin(data: &[u8], address: u32) -> Result<Firmware, FirmwareError> {
    if data.is_empty() {
        return Err(FirmwareError::Empty);
    }
    let mut bin = data.to_vec();
    pad_to_word(&mut bin);
    Ok(Firmware {
        start_address: address,
        bin,
    })
}

/// A raw binary as segments at `address` (for writing it out as Intel HEX).
pub fn segments_from_bin(data: &[u8], address: u32) -> Result<Segments, FirmwareError> {
    let mut s = Segments::new();
    s.insert(address, data).map_err(FirmwareError::Layout)?;
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bin_is_padded_to_a_word() {
        let f = firmware_from_bin(&[1, 2, 3], 0x23000).unwrap();
        assert_eq!(f.bin, vec![1, 2, 3, 0xFF]);
        assert_eq!(f.start_address, 0x23000);
        assert_eq!(firmware_from_bin(&[], 0), Err(FirmwareError::Empty));
        assert!(segments_from_bin(&[1, 2], 0xFFFF_FFFF).is_err());
    }
}
