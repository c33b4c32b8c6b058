use super::*;

fn roundtrip_req(r: Request) {
    assert_eq!(Request::decode(&r.encode()).unwrap(), r);
}

#[test]
fn requests_roundtrip() {
    roundtrip_req(Request::Hello {
        version: VERSION,
        pid: 77,
    });
    roundtrip_req(Request::Batch {
        wait_retries: 100,
        ops: vec![
            Op::Write {
                port: Port::Dp,
                addr: 0x8,
                value: 0x0100_00F0,
            },
            Op::Read {
                port: Port::Ap,
                addr: 0xC,
            },
            Op::Read {
                port: Port::Dp,
                addr: 0xC,
            },
        ],
    });
    roundtrip_req(Request::LineReset);
    roundtrip_req(Request::Nreset { asserted: true });
    roundtrip_req(Request::SetClock { khz: 4000 });
    roundtrip_req(Request::Status);
    roundtrip_req(Request::Power(PowerAction::Cycle));
}

#[test]
fn batch_bytes_are_as_documented() {
    let b = Request::Batch {
        wait_retries: 3,
        ops: vec![
            Op::Read {
                port: Port::Ap,
                addr: 0xC,
            },
            Op::Write {
                port: Port::Dp,
                addr: 0x4,
                value: 0x5000_0000,
            },
        ],
    }
    .encode();
    assert_eq!(
        b,
        [0x02, 3, 0, 2, 0, 0, 0, 0b10, 0x0C, 0b01, 0x04, 0, 0, 0, 0x50]
    );
}

#[test]
fn replies_roundtrip() {
    for r in [
        Reply::Hello {
            version: 1,
            dut: "dut-0".into(),
            chip: "nRF52832_xxAA".into(),
        },
        Reply::Batch(BatchReply {
            done: 2,
            reads: vec![1, 0x2BA0_1477],
            ack: Ack::Wait,
        }),
        Reply::Done,
        Reply::Error("busy".into()),
    ] {
        assert_eq!(Reply::decode(&r.encode()).unwrap(), r);
    }
}

#[test]
fn bad_messages_are_named_not_panicked_on() {
    let e = Request::decode(&[0x02, 0, 0, 0xFF, 0xFF, 0xFF, 0x0F]).unwrap_err();
    assert!(e.to_string().contains("ops announced"), "{e}");
    let e = Request::decode(&[0x02, 0, 0, 1, 0, 0, 0, 0, 0x05]).unwrap_err();
    assert!(e.to_string().contains("only A[3:2]"), "{e}");
    let e = Request::decode(&[0x42]).unwrap_err();
    assert!(e.to_string().contains("request tag 0x42"), "{e}");
    let e = Request::decode(&[0x06, 0]).unwrap_err();
    assert!(e.to_string().contains("1 bytes after"), "{e}");
    assert!(Request::decode(&[]).is_err());
}

#[test]
fn frames_split_from_a_stream() {
    let mut wire = Vec::new();
    write_frame(&mut wire, &Request::Status.encode()).unwrap();
    write_frame(&mut wire, &Request::LineReset.encode()).unwrap();
    let mut buf = wire[..6].to_vec();
    assert_eq!(take_frame(&mut buf).unwrap(), Some(vec![0x06]));
    assert_eq!(take_frame(&mut buf).unwrap(), None);
    buf.extend_from_slice(&wire[6..]);
    assert_eq!(take_frame(&mut buf).unwrap(), Some(vec![0x03]));
    let mut huge = (MAX_FRAME as u32 + 1).to_le_bytes().to_vec();
    assert!(matches!(
        take_frame(&mut huge),
        Err(ProtocolError::TooLong(_))
    ));
}
