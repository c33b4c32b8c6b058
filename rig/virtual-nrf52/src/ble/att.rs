//! ATT error codes a central sees from the virtual device (Bluetooth Core Vol 3 Part F 3.4.1.1,
//! plus the common profile error 0xFD of CSS Part B 1.2).

/// An ATT Error Response (or, for a write command, what the central's own stack refuses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum AttError {
    #[error("ATT 0x01 invalid handle {0:#06x}")]
    InvalidHandle(u16),
    #[error("ATT 0x03 write not permitted on handle {0:#06x}")]
    WriteNotPermitted(u16),
    #[error("ATT 0x05 insufficient authentication for handle {0:#06x} (no bond with this central: pair first)")]
    InsufficientAuthentication(u16),
    #[error("ATT 0x06 request not supported on handle {0:#06x}")]
    RequestNotSupported(u16),
    #[error("ATT 0x0D invalid attribute value length: {len} bytes written to handle {handle:#06x}, at most {max}")]
    InvalidAttributeValueLength { handle: u16, len: usize, max: usize },
    #[error(
        "ATT 0x0F insufficient encryption for handle {0:#06x} (bonded: encrypt the link first)"
    )]
    InsufficientEncryption(u16),
    #[error("ATT 0xFD client characteristic configuration descriptor improperly configured (handle {0:#06x}: notifications/indications not enabled)")]
    CccdImproperlyConfigured(u16),
}

impl AttError {
    /// The ATT error code byte.
    pub fn code(&self) -> u8 {
        match self {
            AttError::InvalidHandle(_) => 0x01,
            AttError::WriteNotPermitted(_) => 0x03,
            AttError::InsufficientAuthentication(_) => 0x05,
            AttError::RequestNotSupported(_) => 0x06,
            AttError::InvalidAttributeValueLength { .. } => 0x0D,
            AttError::InsufficientEncryption(_) => 0x0F,
            AttError::CccdImproperlyConfigured(_) => 0xFD,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        assert_eq!(AttError::CccdImproperlyConfigured(3).code(), 0xFD);
        assert_eq!(
            AttError::InvalidAttributeValueLength {
                handle: 1,
                len: 245,
                max: 244
            }
            .code(),
            0x0D
        );
        assert_eq!(AttError::WriteNotPermitted(1).code(), 0x03);
        assert!(AttError::CccdImproperlyConfigured(0x0C)
            .to_string()
            .contains("0xFD"));
    }
}
