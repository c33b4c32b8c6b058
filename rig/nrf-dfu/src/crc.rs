//! CRC-32 (IEEE, reflected, as zlib and the SDK's `crc32_compute`), chainable over chunks.

/// CRC-32 of `data`, as the bootloader and nrfutil compute it.
pub fn crc32(data: &[u8]) -> u32 {
    crc32fast::hash(data)
}

/// Continue a running CRC: `crc32_continue(crc32(a), b) == crc32(a ++ b)`.
///
/// This is how the SDK's `crc32_compute(data, len, &prev)` chains over data objects, and how a
/// client checks the CRC a device reports over the whole image received so far.
pub fn crc32_continue(prev: u32, data: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new_with_initial(prev);
    h.update(data);
    h.finalize()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn check_value() {
        // The standard CRC-32 check value.
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    proptest! {
        #[test]
        fn chaining_equals_whole(a in proptest::collection::vec(any::<u8>(), 0..300),
                                 b in proptest::collection::vec(any::<u8>(), 0..300)) {
            let whole: Vec<u8> = a.iter().chain(b.iter()).copied().collect();
            prop_assert_eq!(crc32_continue(crc32(&a), &b), crc32(&whole));
        }
    }
}
