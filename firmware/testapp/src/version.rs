//! The application version, fixed at build time from `RIG_APP_VERSION` so one source yields the
//! A and B images a soak alternates between. It is the init packet's `fw_version`: a u32 given
//! in decimal or as `0x` hex, as `rig pkg generate --application-version` takes it.

/// Parse `RIG_APP_VERSION`'s text; `None` if it is not a u32 in decimal or `0x` hexadecimal.
pub const fn parse(text: &str) -> Option<u32> {
    let b = text.as_bytes();
    let (radix, mut i) = if b.len() > 2 && b[0] == b'0' && (b[1] == b'x' || b[1] == b'X') {
        (16u64, 2)
    } else {
        (10u64, 0)
    };
    if i == b.len() {
        return None;
    }
    let mut value: u64 = 0;
    while i < b.len() {
        let digit = match b[i] {
            c @ b'0'..=b'9' => (c - b'0') as u64,
            c @ b'a'..=b'f' if radix == 16 => (c - b'a' + 10) as u64,
            c @ b'A'..=b'F' if radix == 16 => (c - b'A' + 10) as u64,
            _ => return None,
        };
        value = value * radix + digit;
        if value > u32::MAX as u64 {
            return None;
        }
        i += 1;
    }
    Some(value as u32)
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn decimal_and_hex() {
        assert_eq!(parse("1"), Some(1));
        assert_eq!(parse("2"), Some(2));
        assert_eq!(parse("4294967295"), Some(u32::MAX));
        assert_eq!(parse("0x10"), Some(16));
        assert_eq!(parse("0XfF"), Some(255));
    }

    #[test]
    fn rejects_what_is_not_a_u32() {
        for bad in [
            "",
            "0x",
            "-1",
            "1.0",
            " 1",
            "4294967296",
            "0x100000000",
            "v2",
            "0b1",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }
}
