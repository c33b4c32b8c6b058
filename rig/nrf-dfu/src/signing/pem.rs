//! PEM as Python's `ecdsa` writes it: base64 in 76-column lines (not RFC 7468's 64), so keys
//! written here are byte-identical to nrfutil's. Reading accepts any line width, as `ecdsa` does.

use super::KeyError;
use base64ct::{Base64, Encoding};

pub const SEC1_LABEL: &str = "EC PRIVATE KEY";
pub const PKCS8_LABEL: &str = "PRIVATE KEY";
pub const SPKI_LABEL: &str = "PUBLIC KEY";

/// Python `ecdsa.der.topem`'s line width.
const LINE: usize = 76;

/// `-----BEGIN label-----`, base64 of `der` in 76-column lines, `-----END label-----`, newline.
pub fn encode(label: &str, der: &[u8]) -> String {
    let b64 = Base64::encode_string(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(LINE) {
        // base64 output is ASCII.
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// The DER body of the first block labelled exactly `label`, if there is one.
pub fn find_block(text: &str, label: &str) -> Result<Option<Vec<u8>>, KeyError> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let Some(start) = text.find(&begin) else {
        return Ok(None);
    };
    let body_start = start + begin.len();
    let Some(len) = text[body_start..].find(&end) else {
        return Err(KeyError::BadBase64 {
            label: label.to_string(),
        });
    };
    let body: String = text[body_start..body_start + len]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    Base64::decode_vec(&body)
        .map(Some)
        .map_err(|_| KeyError::BadBase64 {
            label: label.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_at_76_and_reads_any_width() {
        let der: Vec<u8> = (0..=120u8).collect();
        let text = encode("X", &der);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "-----BEGIN X-----");
        assert_eq!(lines[1].len(), 76);
        assert_eq!(lines.last(), Some(&"-----END X-----"));
        assert!(text.ends_with("-----\n"));
        assert_eq!(find_block(&text, "X").unwrap(), Some(der.clone()));
        let narrow = format!(
            "junk\n-----BEGIN X-----\n{}\n-----END X-----",
            Base64::encode_string(&der)
                .as_bytes()
                .chunks(10)
                .map(|c| std::str::from_utf8(c).unwrap())
                .collect::<Vec<_>>()
                .join("\r\n")
        );
        assert_eq!(find_block(&narrow, "X").unwrap(), Some(der));
        assert_eq!(find_block(&narrow, "Y").unwrap(), None);
        assert!(find_block("-----BEGIN X-----\n!!!!\n-----END X-----", "X").is_err());
        assert!(find_block("-----BEGIN X-----\nAAAA\n", "X").is_err());
    }
}
