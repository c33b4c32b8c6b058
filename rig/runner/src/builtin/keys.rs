//! The rig's test key pair (firmware/keys/): the default signing key wherever the target trusts
//! it (the virtual bench, whose stand-in bootloaders are built with it, and lab or bench DUTs
//! whose bootloader was built with it). Never a product's key: the private half is public.

use nrf_dfu::signing::{KeyError, SigningKey};
use std::path::Path;

pub use crate::sim::images::TEST_KEY_PEM as TEST_PRIVATE_KEY_PEM;
/// The public half (`rig keys display --key pk` of the private key writes the same PEM).
pub const TEST_PUBLIC_KEY_PEM: &str = include_str!("../../../../firmware/keys/rig-test-public.pem");

/// How the built-in key is named in messages.
pub const TEST_KEY_NAME: &str = "the built-in test key (firmware/keys/rig-test-private.pem)";

/// A signing key could not be read.
#[derive(Debug, thiserror::Error)]
pub enum KeyLoadError {
    #[error(
        "signing key {path}: {source}; leave out --key to sign with the built-in test key (which \
         the stand-in bootloaders trust), or make a key with `rig keys generate FILE`"
    )]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("signing key {path}: {source}")]
    Parse { path: String, source: KeyError },
}

/// The built-in test key.
pub fn test_signing_key() -> SigningKey {
    // The PEM is compiled in and checked by a test; a failure here is a broken build.
    SigningKey::from_pem(TEST_PRIVATE_KEY_PEM).expect("the built-in test key is a P-256 PEM")
}

/// The key at `path` (PEM), or the built-in test key without one; with the name to show.
pub fn signing_key(path: Option<&Path>) -> Result<(SigningKey, String), KeyLoadError> {
    let Some(path) = path else {
        return Ok((test_signing_key(), TEST_KEY_NAME.to_string()));
    };
    let shown = path.display().to_string();
    let pem = std::fs::read_to_string(path).map_err(|source| KeyLoadError::Read {
        path: shown.clone(),
        source,
    })?;
    let key = SigningKey::from_pem(&pem).map_err(|source| KeyLoadError::Parse {
        path: shown.clone(),
        source,
    })?;
    Ok((key, shown))
}

#[cfg(test)]
mod tests {
    use super::*;
    use nrf_dfu::signing::PublicKey;

    #[test]
    fn the_pair_belongs_together() {
        let public = PublicKey::from_pem(TEST_PUBLIC_KEY_PEM).unwrap();
        assert_eq!(test_signing_key().public_key().to_pk64(), public.to_pk64());
    }

    #[test]
    fn a_missing_key_file_says_what_to_pass_instead() {
        let e = signing_key(Some(Path::new("/nonexistent/k.pem")))
            .unwrap_err()
            .to_string();
        assert!(e.contains("/nonexistent/k.pem"), "{e}");
        assert!(e.contains("leave out --key"), "{e}");
        assert!(e.contains("rig keys generate"), "{e}");
    }
}
