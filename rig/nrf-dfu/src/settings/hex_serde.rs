//! Byte arrays serialise as lowercase hex strings in JSON (readable, and the same as
//! `nrfutil`/`xxd -p` show them).

use serde::Serializer;

pub fn serialize<S: Serializer, T: AsRef<[u8]>>(bytes: &T, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode(bytes.as_ref()))
}
