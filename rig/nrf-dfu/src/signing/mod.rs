//! ECDSA P-256 signing and verification with Nordic's byte orders (pc-nrfutil 6.1.7
//! `nordicsemi/dfu/signing.py`, `Signing.sign`; SDK 17.1 `nrf_dfu_validation.c`,
//! `nrf_dfu_validation_signature_check`).
//!
//! Signatures are ECDSA P-256 over SHA-256 of the data, stored as reverse(r) ‖ reverse(s);
//! public keys as the bootloader's `pk[64]` are reverse(X) ‖ reverse(Y). Signing uses RFC 6979
//! deterministic nonces, so the same key and data give the same bytes (nrfutil's Python `ecdsa`
//! draws a random nonce instead; both verify the same way).

pub mod display;
pub mod pem;

use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{Signature, SigningKey as EcdsaSigningKey, VerifyingKey};
use p256::elliptic_curve::Generate;
use p256::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePublicKey};

/// A signature in Nordic's order: reverse(r) ‖ reverse(s).
pub type NordicSignature = [u8; 64];

/// A key or signature that could not be read or does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    #[error("no PEM block labelled {expected} found")]
    NoPemBlock { expected: &'static str },
    #[error("PEM block {label}: body is not valid base64")]
    BadBase64 { label: String },
    #[error("PEM block {label}: not a P-256 key ({reason})")]
    NotP256 { label: String, reason: String },
    #[error("public key pk[64]: not a point on P-256")]
    BadPoint,
    #[error("system random number generator failed: {0}")]
    Rng(String),
    #[error("cannot encode key: {0}")]
    Encode(String),
}

/// Why a Nordic-order signature was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    #[error("signature is {0} bytes, expected 64 (r and s, 32 bytes each)")]
    WrongLength(usize),
    #[error("signature r or s is zero or not below the curve order")]
    Malformed,
    #[error("signature does not match the data and public key")]
    Mismatch,
}

/// A P-256 private (signing) key.
#[derive(Clone)]
pub struct SigningKey(EcdsaSigningKey);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SigningKey(public {})",
            hex_lower(&self.public_key().to_pk64())
        )
    }
}

/// A P-256 public (verification) key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

impl SigningKey {
    /// A fresh key from the operating system's random number generator.
    pub fn generate() -> Result<SigningKey, KeyError> {
        EcdsaSigningKey::try_generate()
            .map(SigningKey)
            .map_err(|e| KeyError::Rng(e.to_string()))
    }

    /// From the 32-byte big-endian private scalar.
    pub fn from_scalar_bytes(bytes: &[u8]) -> Result<SigningKey, KeyError> {
        EcdsaSigningKey::from_slice(bytes)
            .map(SigningKey)
            .map_err(|e| KeyError::NotP256 {
                label: "raw scalar".into(),
                reason: e.to_string(),
            })
    }

    /// The 32-byte big-endian private scalar.
    pub fn to_scalar_bytes(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        out.copy_from_slice(&self.0.to_bytes());
        out
    }

    /// Read a PEM private key the way nrfutil's Python `ecdsa` does: the first
    /// "EC PRIVATE KEY" (SEC1, what nrfutil and `openssl ecparam -genkey` write, possibly after
    /// an "EC PARAMETERS" block) or else "PRIVATE KEY" (PKCS#8) block.
    pub fn from_pem(text: &str) -> Result<SigningKey, KeyError> {
        if let Some(der) = pem::find_block(text, pem::SEC1_LABEL)? {
            return p256::SecretKey::from_sec1_der(&der)
                .map(|k| SigningKey(EcdsaSigningKey::from(k)))
                .map_err(|e| KeyError::NotP256 {
                    label: pem::SEC1_LABEL.into(),
                    reason: e.to_string(),
                });
        }
        if let Some(der) = pem::find_block(text, pem::PKCS8_LABEL)? {
            return EcdsaSigningKey::from_pkcs8_der(&der)
                .map(SigningKey)
                .map_err(|e| KeyError::NotP256 {
                    label: pem::PKCS8_LABEL.into(),
                    reason: e.to_string(),
                });
        }
        Err(KeyError::NoPemBlock {
            expected: "EC PRIVATE KEY or PRIVATE KEY",
        })
    }

    /// SEC1 "EC PRIVATE KEY" PEM exactly as nrfutil writes it (`ecdsa.SigningKey.to_pem()`):
    /// named curve and public key included, base64 in 76-column lines, trailing newline.
    pub fn to_pem(&self) -> Result<String, KeyError> {
        let secret = p256::SecretKey::from(&self.0);
        let der = secret
            .to_sec1_der()
            .map_err(|e| KeyError::Encode(e.to_string()))?;
        Ok(pem::encode(pem::SEC1_LABEL, &der))
    }

    pub fn public_key(&self) -> PublicKey {
        PublicKey(*self.0.verifying_key())
    }

    /// ECDSA P-256 over SHA-256(`data`), as reverse(r) ‖ reverse(s).
    pub fn sign_nordic(&self, data: &[u8]) -> NordicSignature {
        let sig: Signature = self.0.sign(data);
        let rs = sig.to_bytes();
        let mut out = [0u8; 64];
        out.copy_from_slice(&rs);
        out[..32].reverse();
        out[32..].reverse();
        out
    }

    /// True for the private key nrfutil ships in `signing.py` (`keys_default_pem`), which
    /// nrfutil warns about: anyone can sign with it.
    pub fn is_nrfutil_default_key(&self) -> bool {
        // Parsed once: reading a SEC1 key checks its public point (a scalar multiplication),
        // and every generated package asks.
        static DEFAULT: std::sync::OnceLock<Option<[u8; 32]>> = std::sync::OnceLock::new();
        let default = DEFAULT.get_or_init(|| {
            SigningKey::from_pem(NRFUTIL_DEFAULT_KEY_PEM)
                .ok()
                .map(|k| k.to_scalar_bytes())
        });
        *default == Some(self.to_scalar_bytes())
    }
}

/// nrfutil 6.1.7's well-known debug key (`nordicsemi/dfu/signing.py`), kept only to recognise it.
pub const NRFUTIL_DEFAULT_KEY_PEM: &str = "-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIGvsrpXh8m/E9bj1dq/0o1aBPQVAFJQ6Pzusx685URE0oAoGCCqGSM49
AwEHoUQDQgAEaHYrUu/oFKIXN457GH+8IOuv6OIPBRLqoHjaEKM0wIzJZ0lhfO/A
53hKGjKEjYT3VNTQ3Zq1YB3o5QSQMP/LRg==
-----END EC PRIVATE KEY-----";

impl PublicKey {
    /// From the bootloader's `pk[64]`: reverse(X) ‖ reverse(Y).
    pub fn from_pk64(pk: &[u8; 64]) -> Result<PublicKey, KeyError> {
        let mut sec1 = [0u8; 65];
        sec1[0] = 0x04;
        sec1[1..].copy_from_slice(pk);
        sec1[1..33].reverse();
        sec1[33..].reverse();
        VerifyingKey::from_sec1_bytes(&sec1)
            .map(PublicKey)
            .map_err(|_| KeyError::BadPoint)
    }

    /// The bootloader's `pk[64]` (`dfu_public_key.c`): reverse(X) ‖ reverse(Y).
    pub fn to_pk64(&self) -> [u8; 64] {
        let point = self.0.to_sec1_point(false);
        let mut out = [0u8; 64];
        out.copy_from_slice(&point.as_bytes()[1..65]);
        out[..32].reverse();
        out[32..].reverse();
        out
    }

    /// Read a "PUBLIC KEY" (SubjectPublicKeyInfo) PEM; a private key PEM gives its public key.
    pub fn from_pem(text: &str) -> Result<PublicKey, KeyError> {
        if let Some(der) = pem::find_block(text, pem::SPKI_LABEL)? {
            return VerifyingKey::from_public_key_der(&der)
                .map(PublicKey)
                .map_err(|e| KeyError::NotP256 {
                    label: pem::SPKI_LABEL.into(),
                    reason: e.to_string(),
                });
        }
        match SigningKey::from_pem(text) {
            Ok(k) => Ok(k.public_key()),
            Err(KeyError::NoPemBlock { .. }) => Err(KeyError::NoPemBlock {
                expected: "PUBLIC KEY, EC PRIVATE KEY or PRIVATE KEY",
            }),
            Err(e) => Err(e),
        }
    }

    /// "PUBLIC KEY" PEM as nrfutil prints it (`ecdsa.VerifyingKey.to_pem()`, 76-column lines).
    pub fn to_pem(&self) -> Result<String, KeyError> {
        let der = self
            .0
            .to_public_key_der()
            .map_err(|e| KeyError::Encode(e.to_string()))?;
        Ok(pem::encode(pem::SPKI_LABEL, der.as_bytes()))
    }

    /// Check a Nordic-order signature over SHA-256(`data`).
    pub fn verify_nordic(&self, data: &[u8], signature: &[u8]) -> Result<(), SignatureError> {
        let sig = signature_from_nordic(signature)?;
        self.0
            .verify(data, &sig)
            .map_err(|_| SignatureError::Mismatch)
    }
}

fn signature_from_nordic(signature: &[u8]) -> Result<Signature, SignatureError> {
    let mut rs: [u8; 64] = signature
        .try_into()
        .map_err(|_| SignatureError::WrongLength(signature.len()))?;
    rs[..32].reverse();
    rs[32..].reverse();
    Signature::from_slice(&rs).map_err(|_| SignatureError::Malformed)
}

pub(crate) fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn sign_then_verify_and_tamper() {
        let key = SigningKey::generate().unwrap();
        let pk = key.public_key();
        let sig = key.sign_nordic(b"init command");
        pk.verify_nordic(b"init command", &sig).unwrap();
        assert_eq!(
            pk.verify_nordic(b"init commanD", &sig),
            Err(SignatureError::Mismatch)
        );
        let mut swapped = sig;
        swapped[..32].reverse();
        assert!(pk.verify_nordic(b"init command", &swapped).is_err());
        assert_eq!(
            pk.verify_nordic(b"x", &sig[..63]),
            Err(SignatureError::WrongLength(63))
        );
        assert_eq!(
            pk.verify_nordic(b"x", &[0u8; 64]),
            Err(SignatureError::Malformed)
        );
    }

    #[test]
    fn default_key_is_recognised() {
        let k = SigningKey::from_pem(NRFUTIL_DEFAULT_KEY_PEM).unwrap();
        assert!(k.is_nrfutil_default_key());
        assert!(!SigningKey::generate().unwrap().is_nrfutil_default_key());
    }

    #[test]
    fn pk64_rejects_points_off_the_curve() {
        assert_eq!(PublicKey::from_pk64(&[1u8; 64]), Err(KeyError::BadPoint));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(16))]
        #[test]
        fn key_round_trips(scalar in proptest::array::uniform32(1u8..)) {
            let key = SigningKey::from_scalar_bytes(&scalar).unwrap();
            let pem = key.to_pem().unwrap();
            let back = SigningKey::from_pem(&pem).unwrap();
            prop_assert_eq!(back.to_scalar_bytes(), key.to_scalar_bytes());
            prop_assert_eq!(back.to_pem().unwrap(), pem);
            let pk = key.public_key();
            prop_assert_eq!(PublicKey::from_pk64(&pk.to_pk64()).unwrap(), pk);
            prop_assert_eq!(PublicKey::from_pem(&pk.to_pem().unwrap()).unwrap(), pk);
        }
    }
}
