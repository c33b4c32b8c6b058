//! The stand-in application descriptor. Body (40 bytes):
//!
//! | Offset | Size | Field |
//! |---|---|---|
//! | 0 | 4 | version u32 (the `--application-version` it is packaged with) |
//! | 4 | 1 | buttonless: 0 none, 1 unbonded (characteristic 0x0003), 2 bonded (0x0004) |
//! | 5 | 1 | name length (1..=32) |
//! | 6 | 2 | reserved, 0 |
//! | 8 | 32 | name, UTF-8, zero padded |

use super::{frame, le32, padded, text, unframe, DescriptorError, Kind};
use serde::{Deserialize, Serialize};

const BODY_LEN: usize = 40;
/// Longest application name.
pub const MAX_NAME: usize = 32;

/// Which buttonless DFU service the application exposes (SDK 17.1 `ble_dfu.h`: 8EC90003 without
/// bonds, 8EC90004 with bonds; SDK 12.3's experimental service in its own `ble_dfu.h`: 8E400001).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Buttonless {
    None,
    Unbonded,
    Bonded,
}

impl Buttonless {
    fn code(self) -> u8 {
        match self {
            Buttonless::None => 0,
            Buttonless::Unbonded => 1,
            Buttonless::Bonded => 2,
        }
    }

    fn from_code(c: u8) -> Option<Buttonless> {
        Some(match c {
            0 => Buttonless::None,
            1 => Buttonless::Unbonded,
            2 => Buttonless::Bonded,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppDescriptor {
    pub name: String,
    pub version: u32,
    pub buttonless: Buttonless,
}

impl AppDescriptor {
    fn field(field: &'static str, reason: impl Into<String>) -> DescriptorError {
        DescriptorError::Field {
            kind: Kind::App.name(),
            field,
            reason: reason.into(),
        }
    }

    pub fn encode(&self) -> Result<Vec<u8>, DescriptorError> {
        let n = self.name.len();
        if n == 0 || n > MAX_NAME {
            return Err(Self::field(
                "name",
                format!("must be 1..={MAX_NAME} bytes, is {n}"),
            ));
        }
        let mut b = Vec::with_capacity(BODY_LEN);
        b.extend_from_slice(&self.version.to_le_bytes());
        b.push(self.buttonless.code());
        b.push(n as u8);
        b.extend_from_slice(&[0, 0]);
        b.extend_from_slice(&padded(&self.name, MAX_NAME));
        Ok(frame(Kind::App, &b))
    }

    pub fn decode(bytes: &[u8]) -> Result<AppDescriptor, DescriptorError> {
        let b = unframe(Kind::App, bytes, BODY_LEN)?;
        let buttonless = Buttonless::from_code(b[4])
            .ok_or_else(|| Self::field("buttonless", format!("code {} is not 0, 1 or 2", b[4])))?;
        if b[6] != 0 || b[7] != 0 {
            return Err(Self::field("reserved", "is not zero"));
        }
        let n = b[5] as usize;
        if n == 0 {
            return Err(Self::field("name", "is empty"));
        }
        let name = text(Kind::App, "name", &b[8..8 + MAX_NAME], n, MAX_NAME)?;
        Ok(AppDescriptor {
            name,
            version: le32(b, 0),
            buttonless,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn name_limits() {
        let mut d = AppDescriptor {
            name: "x".repeat(33),
            version: 1,
            buttonless: Buttonless::None,
        };
        assert!(d.encode().is_err());
        d.name.clear();
        assert!(d.encode().is_err());
        d.name = "blinky".into();
        assert_eq!(d.encode().unwrap().len(), 52);
    }

    #[test]
    fn bad_buttonless_code_is_named() {
        let d = AppDescriptor {
            name: "a".into(),
            version: 1,
            buttonless: Buttonless::Bonded,
        };
        let mut e = d.encode().unwrap();
        e[12] = 7;
        let n = e.len();
        let crc = nrf_dfu::crc::crc32(&e[..n - 4]);
        e[n - 4..].copy_from_slice(&crc.to_le_bytes());
        let err = AppDescriptor::decode(&e).unwrap_err();
        assert!(err.to_string().contains("buttonless"), "{err}");
    }

    fn any_buttonless() -> impl Strategy<Value = Buttonless> {
        prop_oneof![
            Just(Buttonless::None),
            Just(Buttonless::Unbonded),
            Just(Buttonless::Bonded)
        ]
    }

    proptest! {
        #[test]
        fn round_trip(name in "[a-zA-Z0-9 _-]{1,32}", version: u32, buttonless in any_buttonless()) {
            let d = AppDescriptor { name, version, buttonless };
            let e = d.encode().unwrap();
            let back = AppDescriptor::decode(&e).unwrap();
            prop_assert_eq!(back.encode().unwrap(), e);
            prop_assert_eq!(back, d);
        }
    }
}
