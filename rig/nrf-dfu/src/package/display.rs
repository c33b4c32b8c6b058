//! The text `nrfutil pkg display` prints (`Package.__str__`/`image_str` in `package.py`),
//! reproduced to the byte, Python `repr` quirks included (`b'…'` for hex, list brackets).

use super::{ImageKind, Package, PackageImage};
use crate::init_packet::{enum_name, FwType, ProtoName, SignatureType};

/// nrfutil's own enum names where they differ from the proto's (`init_packet_pb.py`).
fn hash_type_name(v: i32) -> String {
    match v {
        0 => "NONE".into(),
        1 => "CRC".into(),
        2 => "SHA128".into(),
        3 => "SHA256".into(),
        4 => "SHA512".into(),
        _ => v.to_string(),
    }
}

fn validation_name(v: i32) -> String {
    match v {
        0 => "NO_VALIDATION".into(),
        1 => "VALIDATE_GENERATED_CRC".into(),
        2 => "VALIDATE_GENERATED_SHA256".into(),
        3 => "VALIDATE_ECDSA_P256_SHA256".into(),
        _ => v.to_string(),
    }
}

/// Python's repr of `binascii.hexlify(b)`.
fn py_hex(b: &[u8]) -> String {
    format!("b'{}'", crate::signing::hex_lower(b))
}

fn py_list(items: &[String]) -> String {
    format!("[{}]", items.join(", "))
}

fn image_str(index: usize, img: &PackageImage) -> String {
    let kind = match img.kind {
        ImageKind::SoftdeviceBootloader => "sd_bl",
        ImageKind::Softdevice => "softdevice",
        ImageKind::Bootloader => "bootloader",
        ImageKind::Application => "application",
    };
    let init = img.init_packet.init_command();
    let sd_req = init
        .sd_req
        .iter()
        .map(|x| format!("0x{x:02X}"))
        .collect::<Vec<_>>()
        .join(", ");
    let (signature_type, signature) = match img.init_packet.signature() {
        Some((t, s)) => (enum_name::<SignatureType>(t), py_hex(s)),
        None => ("UNSIGNED".to_string(), "N/A".to_string()),
    };
    let bv_types: Vec<String> = init
        .boot_validation
        .iter()
        .map(|b| format!("'{}'", validation_name(b.r#type.unwrap_or_default())))
        .collect();
    let bv_bytes: Vec<String> = init
        .boot_validation
        .iter()
        .map(|b| py_hex(b.bytes.as_deref().unwrap_or_default()))
        .collect();
    let fw = init.fw_version.unwrap_or_default();
    let hw = init.hw_version.unwrap_or_default();
    let (hash_type, hash) = match &init.hash {
        Some(h) => (
            h.hash_type.unwrap_or_default(),
            h.hash.as_deref().unwrap_or_default(),
        ),
        None => (0, &[][..]),
    };
    let fw_type = FwType::try_from(init.r#type.unwrap_or_default())
        .map(|t| t.proto_name().to_string())
        .unwrap_or_else(|_| init.r#type.unwrap_or_default().to_string());
    format!(
        "|
|- Image #{index}:
   |- Type: {kind}
   |- Image file: {bin}
   |- Init packet file: {dat}
      |
      |- op_code: INIT
      |- signature_type: {signature_type}
      |- signature (little-endian): {signature}
      |
      |- fw_version: 0x{fw:08X} ({fw})
      |- hw_version 0x{hw:08X} ({hw})
      |- sd_req: {sd_req}
      |- type: {fw_type}
      |- sd_size: {sd}
      |- bl_size: {bl}
      |- app_size: {app}
      |
      |- hash_type: {hash_type}
      |- hash (little-endian): {hash}
      |
      |- boot_validation_type: {bv_types}
      |- boot_validation_signature (little-endian): {bv_bytes}
      |
      |- is_debug: {debug}

",
        bin = img.bin_file,
        dat = img.dat_file,
        sd = init.sd_size.unwrap_or_default(),
        bl = init.bl_size.unwrap_or_default(),
        app = init.app_size.unwrap_or_default(),
        hash_type = hash_type_name(hash_type),
        hash = py_hex(hash),
        bv_types = py_list(&bv_types),
        bv_bytes = py_list(&bv_bytes),
        debug = if init.is_debug.unwrap_or_default() {
            "True"
        } else {
            "False"
        },
    )
}

impl Package {
    /// What `nrfutil pkg display ZIP` prints for this package, `zip_name` as given on its
    /// command line (click adds one more newline when printing).
    pub fn nrfutil_display(&self, zip_name: &str) -> String {
        let mut s = format!(
            "\nDFU Package: <{zip_name}>:\n|\n|- Image count: {}\n",
            self.images().len()
        );
        for (i, img) in self.images().iter().enumerate() {
            s.push_str(&image_str(i, img));
        }
        s
    }
}
