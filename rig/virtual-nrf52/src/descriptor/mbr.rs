//! The stand-in MBR descriptor. Body (4 bytes): MBR version u32 as
//! major·1 000 000 + minor·1000 + patch (e.g. 2 004 001 for the MBR 2.4.1 that SDK 17.1 ships).

use super::{frame, le32, unframe, DescriptorError, Kind};
use serde::{Deserialize, Serialize};

const BODY_LEN: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MbrDescriptor {
    pub version: u32,
}

impl MbrDescriptor {
    /// MBR 2.4.1, shipped with SDK 17.1 (`components/softdevice/mbr/hex/mbr_nrf52_2.4.1_mbr.hex`).
    pub const SDK17: MbrDescriptor = MbrDescriptor { version: 2_004_001 };

    pub fn encode(&self) -> Vec<u8> {
        frame(Kind::Mbr, &self.version.to_le_bytes())
    }

    pub fn decode(bytes: &[u8]) -> Result<MbrDescriptor, DescriptorError> {
        let b = unframe(Kind::Mbr, bytes, BODY_LEN)?;
        Ok(MbrDescriptor {
            version: le32(b, 0),
        })
    }

    /// "2.4.1".
    pub fn version_text(&self) -> String {
        let v = self.version;
        format!("{}.{}.{}", v / 1_000_000, v / 1000 % 1000, v % 1000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn layout() {
        let e = MbrDescriptor::SDK17.encode();
        assert_eq!(e.len(), 16);
        assert_eq!(&e[8..12], &2_004_001u32.to_le_bytes());
        assert_eq!(MbrDescriptor::SDK17.version_text(), "2.4.1");
    }

    proptest! {
        #[test]
        fn round_trip(version: u32) {
            let d = MbrDescriptor { version };
            let e = d.encode();
            let back = MbrDescriptor::decode(&e).unwrap();
            prop_assert_eq!(back, d);
            prop_assert_eq!(back.encode(), e);
        }

        #[test]
        fn any_flipped_bit_is_rejected(version: u32, bit in 0usize..128) {
            let mut e = MbrDescriptor { version }.encode();
            e[bit / 8] ^= 1 << (bit % 8);
            prop_assert!(MbrDescriptor::decode(&e).is_err());
        }
    }
}
