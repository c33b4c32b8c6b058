use super::*;
use crate::sdk::SdkVersion;
use proptest::prelude::*;

/// unsigned.zip's app.dat, made by nrfutil 6.1.7.
const UNSIGNED_APP_DAT: &str = "0a430801123f080110341a028c01200028003000388827422408031220f5cc26fac2fca3dc3a8b930b800987a6033f4846c644f30bef718a02e24e018d4800520408011200";
/// out.zip's app.dat (signed with the fixture key).
const SIGNED_APP_DAT: &str = "1289010a430801123f080110341a028c01200028003000388827422408031220f5cc26fac2fca3dc3a8b930b800987a6033f4846c644f30bef718a02e24e018d480052040801120010001a40b14807bba991ef7f9d67b1382b4b816526aaa83838cb63efcfa3f51b7c61fa32e94ed93aed6d7e645fe87f376fc73a4af59338c917ed72f8590974ddd693b9bc";
/// Public key of the fixture's private.key as pk[64].
const FIXTURE_PK: &str = "3b87a1dcc0465e412999bb51840edd07b89ca3bcb71ce93a02084a3664063dcf78ab198c64a8b22a150565fdcacdcf3249cbb448836c1517512d9333dff55e65";

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// The init command nrfutil builds for `--application app.hex --application-version 1
/// --hw-version 52 --sd-req 0x8C` (every field set explicitly).
fn nrfutil_app_command() -> InitCommand {
    InitCommand {
        fw_version: Some(1),
        hw_version: Some(52),
        sd_req: vec![0x8C],
        r#type: Some(FwType::Application as i32),
        sd_size: Some(0),
        bl_size: Some(0),
        app_size: Some(5000),
        hash: Some(Hash {
            hash_type: Some(HashType::Sha256 as i32),
            hash: Some(unhex(
                "f5cc26fac2fca3dc3a8b930b800987a6033f4846c644f30bef718a02e24e018d",
            )),
        }),
        is_debug: Some(false),
        boot_validation: vec![BootValidation {
            r#type: Some(ValidationType::ValidateGeneratedCrc as i32),
            bytes: Some(vec![]),
        }],
    }
}

#[test]
fn unsigned_encoding_is_nrfutils_to_the_byte() {
    let p = InitPacket::new_unsigned(nrfutil_app_command());
    assert_eq!(p.encode(), unhex(UNSIGNED_APP_DAT));
    assert_eq!(p.init_command_bytes(), &unhex(UNSIGNED_APP_DAT)[6..]);
    assert!(!p.is_signed());
    assert_eq!(
        p.verify(&PublicKey::from_pk64(&unhex(FIXTURE_PK).try_into().unwrap()).unwrap()),
        Err(VerifyError::Unsigned)
    );
}

#[test]
fn signed_fixture_decodes_and_verifies() {
    let raw = unhex(SIGNED_APP_DAT);
    let p = InitPacket::decode(&raw).unwrap();
    assert_eq!(p.init_command(), &nrfutil_app_command());
    // The 63 signed bytes sit after 12 89 01 0a 43 08 01 12 3f.
    assert_eq!(p.init_command_bytes(), &raw[9..72]);
    let (kind, sig) = p.signature().unwrap();
    assert_eq!(kind, SignatureType::EcdsaP256Sha256 as i32);
    assert_eq!(sig.len(), 64);
    let pk = PublicKey::from_pk64(&unhex(FIXTURE_PK).try_into().unwrap()).unwrap();
    p.verify(&pk).unwrap();
    assert_eq!(p.encode(), raw);
    // Re-encoding gives the same bytes too.
    assert_eq!(p.packet().encode_to_vec(), raw);
    // A flipped bit in the init command breaks the signature.
    let mut bad = raw.clone();
    bad[20] ^= 1;
    let p = InitPacket::decode(&bad).unwrap();
    assert!(matches!(
        p.verify(&pk),
        Err(VerifyError::Signature(SignatureError::Mismatch))
    ));
}

#[test]
fn new_signed_verifies_and_other_keys_do_not() {
    let key = SigningKey::generate().unwrap();
    let p = InitPacket::new_signed(nrfutil_app_command(), &key);
    p.verify(&key.public_key()).unwrap();
    let other = SigningKey::generate().unwrap();
    assert!(p.verify(&other.public_key()).is_err());
    // The signed bytes are the same as nrfutil's unsigned init command.
    assert_eq!(p.init_command_bytes(), &unhex(UNSIGNED_APP_DAT)[6..]);
    assert_eq!(p.encode().len(), 140);
}

#[test]
fn verification_uses_the_received_bytes_not_a_re_encoding() {
    // sd_req sent unpacked (field 3 as a plain varint) decodes to the same InitCommand but its
    // bytes differ from the packed re-encoding; the signature covers what was sent.
    let key = SigningKey::generate().unwrap();
    let mut init = nrfutil_app_command().encode_to_vec();
    let packed = [0x1a, 0x02, 0x8c, 0x01];
    let at = init.windows(4).position(|w| w == packed).unwrap();
    init.splice(at..at + 4, [0x18, 0x8c, 0x01]);
    let sig = key.sign_nordic(&init);
    let mut cmd = vec![0x08, 0x01, 0x12, init.len() as u8];
    cmd.extend_from_slice(&init);
    let mut signed = vec![0x0a, cmd.len() as u8];
    signed.extend_from_slice(&cmd);
    signed.extend_from_slice(&[0x10, 0x00, 0x1a, 0x40]);
    signed.extend_from_slice(&sig);
    let mut raw = vec![0x12, signed.len() as u8, 0x01];
    raw[1] |= 0x80;
    raw[1] = (signed.len() & 0x7f) as u8 | 0x80;
    raw[2] = (signed.len() >> 7) as u8;
    raw.extend_from_slice(&signed);
    let p = InitPacket::decode(&raw).unwrap();
    assert_eq!(p.init_command().sd_req, vec![0x8C]);
    assert_eq!(p.init_command_bytes(), &init[..]);
    p.verify(&key.public_key()).unwrap();
}

#[test]
fn structural_errors_name_the_field() {
    let cases: Vec<(Vec<u8>, InitPacketError)> = vec![
        (vec![], InitPacketError::NoCommand),
        (
            vec![0x0a, 0x00],
            InitPacketError::MissingField("Command.op_code".into()),
        ),
        (vec![0x0a, 0x02, 0x08, 0x01], InitPacketError::NoInitCommand),
        (
            vec![0x0a, 0x02, 0x08, 0x00],
            InitPacketError::NotInit("RESET".into()),
        ),
        (
            vec![0x0a, 0x02, 0x08, 0x07],
            InitPacketError::NotInit("7".into()),
        ),
        (
            vec![0x0a, 0x04, 0x08, 0x01, 0x12, 0x00, 0x0a, 0x00],
            InitPacketError::DuplicateField("Packet.command"),
        ),
        (
            vec![0x0a, 0x04, 0x08, 0x01, 0x12, 0x00, 0x12, 0x00],
            InitPacketError::BothCommands,
        ),
        (
            vec![0x12, 0x06, 0x0a, 0x04, 0x08, 0x01, 0x12, 0x00],
            InitPacketError::MissingField("SignedCommand.signature_type".into()),
        ),
        (
            vec![0x12, 0x08, 0x0a, 0x04, 0x08, 0x01, 0x12, 0x00, 0x10, 0x00],
            InitPacketError::MissingField("SignedCommand.signature".into()),
        ),
        (
            vec![0x12, 0x04, 0x10, 0x00, 0x1a, 0x00],
            InitPacketError::MissingField("SignedCommand.command".into()),
        ),
        (
            vec![0x0a, 0x06, 0x08, 0x01, 0x12, 0x02, 0x42, 0x00],
            InitPacketError::MissingField("Hash.hash_type".into()),
        ),
        (
            vec![0x0a, 0x08, 0x08, 0x01, 0x12, 0x04, 0x52, 0x02, 0x08, 0x01],
            InitPacketError::MissingField("InitCommand.boot_validation[0].bytes".into()),
        ),
    ];
    for (bytes, want) in cases {
        assert_eq!(InitPacket::decode(&bytes), Err(want), "{bytes:02x?}");
    }
    assert!(matches!(
        InitPacket::decode(&[0x0a, 0x05, 0x08]),
        Err(InitPacketError::Protobuf(_))
    ));
    assert!(matches!(
        InitPacket::decode(b"PK\x03\x04 garbage"),
        Err(InitPacketError::Protobuf(_))
    ));
}

#[test]
fn limits_per_sdk() {
    let mut cmd = nrfutil_app_command();
    let p = InitPacket::new_unsigned(cmd.clone());
    for sdk in SdkVersion::ALL {
        p.check_limits(sdk).unwrap();
    }
    cmd.sd_req = vec![1, 2, 3, 4, 5];
    let p = InitPacket::new_unsigned(cmd.clone());
    assert_eq!(
        p.check_limits(SdkVersion::Sdk12),
        Err(LimitError::TooMany {
            field: "InitCommand.sd_req",
            count: 5,
            max: 4,
            sdk: SdkVersion::Sdk12
        })
    );
    p.check_limits(SdkVersion::Sdk14).unwrap();
    cmd.sd_req = vec![0x8C];
    cmd.boot_validation = vec![cmd.boot_validation[0].clone(); 4];
    let p = InitPacket::new_unsigned(cmd.clone());
    assert!(matches!(
        p.check_limits(SdkVersion::Sdk15_3),
        Err(LimitError::TooMany {
            field: "InitCommand.boot_validation",
            ..
        })
    ));
    p.check_limits(SdkVersion::Sdk15_2).unwrap();
    cmd.boot_validation = vec![BootValidation {
        r#type: Some(3),
        bytes: Some(vec![0; 65]),
    }];
    assert!(matches!(
        InitPacket::new_unsigned(cmd.clone()).check_limits(SdkVersion::Sdk17),
        Err(LimitError::TooLong { .. })
    ));
    cmd.boot_validation.clear();
    cmd.r#type = Some(FwType::ExternalApplication as i32);
    assert!(matches!(
        InitPacket::new_unsigned(cmd.clone()).check_limits(SdkVersion::Sdk12),
        Err(LimitError::TypeNotInSdk(..))
    ));
    InitPacket::new_unsigned(cmd.clone())
        .check_limits(SdkVersion::Sdk14)
        .unwrap();
    cmd.hash = Some(Hash {
        hash_type: Some(3),
        hash: Some(vec![0; 33]),
    });
    assert!(matches!(
        InitPacket::new_unsigned(cmd.clone()).check_limits(SdkVersion::Sdk17),
        Err(LimitError::TooLong { .. })
    ));
    // 300 bytes: too big for 15.2, fine for 15.3.
    cmd.hash = None;
    cmd.sd_req = (0..16).map(|i| 0x1000_0000 + i).collect();
    cmd.boot_validation = vec![
        BootValidation {
            r#type: Some(3),
            bytes: Some(vec![0; 64])
        };
        3
    ];
    let p = InitPacket::new_unsigned(cmd);
    assert!(p.as_bytes().len() > 256 && p.as_bytes().len() <= 512);
    assert!(matches!(
        p.check_limits(SdkVersion::Sdk15_2),
        Err(LimitError::TooBig { max: 256, .. })
    ));
    p.check_limits(SdkVersion::Sdk15_3).unwrap();
}

#[test]
fn json_uses_proto_names() {
    let p = InitPacket::decode(&unhex(SIGNED_APP_DAT)).unwrap();
    let v = serde_json::to_value(p.to_json()).unwrap();
    assert_eq!(v["signature_type"], "ECDSA_P256_SHA256");
    assert_eq!(v["init"]["type"], "APPLICATION");
    assert_eq!(v["init"]["hash"]["hash_type"], "SHA256");
    assert_eq!(
        v["init"]["boot_validation"][0]["type"],
        "VALIDATE_GENERATED_CRC"
    );
    assert_eq!(v["init"]["sd_req"][0], 0x8C);
    assert_eq!(v["init"]["is_debug"], false);
    assert_eq!(v["size"], 140);
}

fn arb_init_command() -> impl Strategy<Value = InitCommand> {
    (
        (
            proptest::option::of(any::<u32>()),
            proptest::option::of(any::<u32>()),
            proptest::collection::vec(any::<u32>(), 0..17),
        ),
        (
            proptest::option::of(0i32..5),
            proptest::option::of(any::<u32>()),
            proptest::option::of(any::<u32>()),
            proptest::option::of(any::<u32>()),
        ),
        proptest::option::of((0i32..5, proptest::collection::vec(any::<u8>(), 0..33))),
        proptest::option::of(any::<bool>()),
        proptest::collection::vec(
            (0i32..4, proptest::collection::vec(any::<u8>(), 0..65)),
            0..4,
        ),
    )
        .prop_map(
            |((fw, hw, sd_req), (t, sd, bl, app), hash, dbg, bvs)| InitCommand {
                fw_version: fw,
                hw_version: hw,
                sd_req,
                r#type: t,
                sd_size: sd,
                bl_size: bl,
                app_size: app,
                hash: hash.map(|(ht, h)| Hash {
                    hash_type: Some(ht),
                    hash: Some(h),
                }),
                is_debug: dbg,
                boot_validation: bvs
                    .into_iter()
                    .map(|(t, b)| BootValidation {
                        r#type: Some(t),
                        bytes: Some(b),
                    })
                    .collect(),
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn round_trip_unsigned(cmd in arb_init_command()) {
        let p = InitPacket::new_unsigned(cmd.clone());
        let d = InitPacket::decode(&p.encode()).unwrap();
        prop_assert_eq!(d.init_command(), &cmd);
        prop_assert_eq!(d.encode(), p.encode());
        prop_assert_eq!(d.init_command_bytes(), &cmd.encode_to_vec()[..]);
    }

    #[test]
    fn round_trip_signed(cmd in arb_init_command(), sig in proptest::collection::vec(any::<u8>(), 0..70), t in 0i32..3) {
        let p = InitPacket::with_signature(cmd.clone(), t, sig.clone());
        let d = InitPacket::decode(&p.encode()).unwrap();
        prop_assert_eq!(d.init_command(), &cmd);
        prop_assert_eq!(d.signature(), Some((t, &sig[..])));
        prop_assert_eq!(d.encode(), p.encode());
    }

    #[test]
    fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = InitPacket::decode(&bytes);
    }
}
