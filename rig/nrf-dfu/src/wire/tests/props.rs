use proptest::prelude::*;

use crate::wire::{
    answering_opcode, DeviceDecode, Dialect, ExtError, FirmwareType, Opcode, Request, Response,
    ResultCode, Transport,
};

fn request() -> impl Strategy<Value = Request> {
    prop_oneof![
        Just(Request::ProtocolVersion),
        (any::<u8>(), any::<u32>())
            .prop_map(|(object_type, size)| Request::Create { object_type, size }),
        any::<u16>().prop_map(|count| Request::SetPrn { count }),
        Just(Request::CrcGet),
        Just(Request::Execute),
        any::<u8>().prop_map(|object_type| Request::Select { object_type }),
        Just(Request::MtuGet),
        proptest::collection::vec(any::<u8>(), 0..300).prop_map(|data| Request::Write { data }),
        any::<u8>().prop_map(|id| Request::Ping { id }),
        Just(Request::HardwareVersion),
        any::<u8>().prop_map(|image| Request::FirmwareVersion { image }),
        Just(Request::Abort),
    ]
}

fn failure() -> impl Strategy<Value = ResultCode> {
    any::<u8>()
        .prop_map(ResultCode::from_u8)
        .prop_filter("not SUCCESS or EXT_ERROR", |r| {
            !matches!(r, ResultCode::Success | ResultCode::ExtError)
        })
}

/// A response together with the opcode of the request it answers.
fn response() -> impl Strategy<Value = (u8, Response)> {
    let bare = prop_oneof![
        Just(Opcode::ProtocolVersion),
        Just(Opcode::MtuGet),
        Just(Opcode::Ping),
        Just(Opcode::HardwareVersion),
        Just(Opcode::FirmwareVersion),
    ];
    let request_op = any::<u8>();
    prop_oneof![
        (any::<u32>(), any::<u32>(), any::<u32>()).prop_map(|(max_size, offset, crc)| (
            0x06,
            Response::Select {
                max_size,
                offset,
                crc
            }
        )),
        (
            any::<u32>(),
            any::<u32>(),
            prop_oneof![Just(0x03u8), Just(0x08u8)]
        )
            .prop_map(|(offset, crc, op)| (op, Response::Crc { offset, crc })),
        Just((0x01, Response::Create)),
        Just((0x04, Response::Execute)),
        Just((0x02, Response::SetPrn)),
        Just((0x0C, Response::Abort)),
        any::<u8>().prop_map(|version| (0x00, Response::ProtocolVersion { version })),
        any::<u16>().prop_map(|mtu| (0x07, Response::Mtu { mtu })),
        any::<u8>().prop_map(|id| (0x09, Response::Ping { id })),
        any::<[u32; 5]>().prop_map(|[part, variant, rom_size, ram_size, rom_page_size]| {
            (
                0x0A,
                Response::HardwareVersion {
                    part,
                    variant,
                    rom_size,
                    ram_size,
                    rom_page_size,
                },
            )
        }),
        (any::<u8>(), any::<u32>(), any::<u32>(), any::<u32>()).prop_map(
            |(t, version, addr, len)| {
                (
                    0x0B,
                    Response::FirmwareVersion {
                        image_type: FirmwareType::from_u8(t),
                        version,
                        addr,
                        len,
                    },
                )
            }
        ),
        bare.prop_map(|op| (op.as_u8(), Response::Bare { op })),
        (request_op, failure()).prop_map(|(req, result)| (
            req,
            Response::Error {
                op: answering_opcode(req),
                result
            }
        )),
        (request_op, any::<u8>()).prop_map(|(req, ext)| {
            (
                req,
                Response::ExtendedError {
                    op: answering_opcode(req),
                    ext: ExtError::from_u8(ext),
                },
            )
        }),
    ]
}

fn dialect() -> impl Strategy<Value = Dialect> {
    let all = Dialect::all();
    (0..all.len(), any::<bool>()).prop_map(move |(i, full)| {
        let d = all[i];
        if full && d.protocol_reduced() {
            d.with_protocol_reduced(false).unwrap_or(d)
        } else {
            d
        }
    })
}

proptest! {
    #[test]
    fn request_round_trip(req in request()) {
        let wire = req.encode();
        prop_assert_eq!(wire.len(), req.encoded_len());
        let back = Request::decode(&wire).unwrap();
        prop_assert_eq!(&back, &req);
        prop_assert_eq!(back.encode(), wire);
    }

    #[test]
    fn response_round_trip((op, resp) in response()) {
        let wire = resp.encode();
        let back = Response::decode_raw(&wire, op).unwrap();
        prop_assert_eq!(&back, &resp);
        prop_assert_eq!(back.encode(), wire);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
        if let Ok(req) = Request::decode(&bytes) {
            prop_assert_eq!(req.encode(), bytes.clone());
        }
        for op in 0..=u8::MAX {
            if let Ok(resp) = Response::decode_raw(&bytes, op) {
                // Whatever decodes is canonical: it encodes back to the same bytes.
                prop_assert_eq!(resp.encode(), bytes.clone());
            }
        }
    }

    #[test]
    fn responses_with_the_header_mostly_right(op in any::<u8>(), result in any::<u8>(),
                                              tail in proptest::collection::vec(any::<u8>(), 0..30)) {
        let bytes = [vec![0x60, answering_opcode(op), result], tail].concat();
        match Response::decode_raw(&bytes, op) {
            Ok(resp) => {
                prop_assert_eq!(resp.encode(), bytes);
                prop_assert_eq!(resp.request_opcode(), answering_opcode(op));
            }
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }

    #[test]
    fn device_decode_never_panics_and_replies_decode(d in dialect(),
                                                     raw in proptest::collection::vec(any::<u8>(), 0..12),
                                                     stale in proptest::collection::vec(any::<u8>(), 0..12)) {
        match d.device_decode_with_stale(&raw, &stale) {
            DeviceDecode::Reply { response, bytes } => {
                let op = raw.first().or(stale.first()).copied().unwrap_or(0);
                prop_assert_eq!(Response::decode_raw(&bytes, op), Ok(response));
            }
            DeviceDecode::Request(r) => {
                prop_assert!(d.is_supported(r.request.opcode()));
                prop_assert!(r.stale_bytes <= 6);
            }
            DeviceDecode::WriteLengthUnderflow => {
                prop_assert!(raw.is_empty());
                prop_assert_eq!(d.transport(), Transport::Uart);
            }
        }
    }

    #[test]
    fn device_decodes_canonical_requests(d in dialect(), req in request()) {
        let wire = req.encode();
        match d.device_decode(&wire) {
            DeviceDecode::Request(got) => {
                prop_assert!(d.is_supported(req.opcode()));
                prop_assert_eq!(got.stale_bytes, 0);
                if req.opcode() == Opcode::ObjectWrite || d.parses_parameters(req.opcode()) {
                    if d.transport() == Transport::Uart || req.opcode() != Opcode::ObjectWrite {
                        prop_assert_eq!(got.request, req);
                    }
                } else {
                    // Unparsed parameters reach the handler as zeros.
                    prop_assert_eq!(got.request.opcode(), req.opcode());
                }
            }
            DeviceDecode::Reply { response, .. } => {
                prop_assert!(!d.is_supported(req.opcode()));
                prop_assert_eq!(response.result(), d.unsupported_result());
            }
            DeviceDecode::WriteLengthUnderflow => prop_assert!(false, "canonical requests are never empty"),
        }
    }
}
