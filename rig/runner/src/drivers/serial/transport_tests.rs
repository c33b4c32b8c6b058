//! Over a pseudo-terminal whose master end plays a serial DFU bootloader's framing (SLIP,
//! PING and MTU_GET answers as SDK 15+ UART builds give them): framing, the handshake, timeouts
//! and a vanished port, which the real virtual device cannot be made to show. The DFU protocol
//! over a pty against `rig sim serve` is covered by tests/serial_pty.rs.

use super::*;
use crate::drivers::pty_pair;
use nrf_dfu::slip::{SlipDecoder, SlipEvent};
use std::fs::File;
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};

#[derive(Clone, Copy)]
struct DeviceBehaviour {
    /// PINGs left unanswered before the first answer.
    ignore_pings: u32,
    mtu: Option<u16>,
    /// Close the master (USB CDC unplugged) after this many frames.
    hang_up_after: Option<usize>,
}

/// Frames the fake device received, in order.
type Seen = Arc<Mutex<Vec<Vec<u8>>>>;

fn fake_device(mut master: File, b: DeviceBehaviour) -> Seen {
    let seen: Seen = Arc::default();
    let s = seen.clone();
    let mut out = master.try_clone().unwrap();
    std::thread::spawn(move || {
        let mut dec = SlipDecoder::default();
        let mut ignored = 0;
        let mut buf = [0u8; 256];
        // A master read fails (EIO) while no slave end is open: the host closed the port to
        // reconnect. Keep listening for a while, as a board on the wire would.
        let mut closed_reads = 0;
        loop {
            let n = match master.read(&mut buf) {
                Ok(0) => return,
                Ok(n) => n,
                Err(_) if closed_reads < 300 => {
                    closed_reads += 1;
                    std::thread::sleep(std::time::Duration::from_millis(10));
                    continue;
                }
                Err(_) => return,
            };
            for ev in dec.feed(&buf[..n]) {
                let SlipEvent::Frame(f) = ev else { continue };
                s.lock().unwrap().push(f.clone());
                if b.hang_up_after == Some(s.lock().unwrap().len()) {
                    return;
                }
                let reply = match f.first() {
                    Some(0x09) if ignored < b.ignore_pings => {
                        ignored += 1;
                        None
                    }
                    Some(0x09) => Some(vec![0x60, 0x09, 0x01, f[1]]),
                    Some(0x07) => b.mtu.map(|m| {
                        let mut r = vec![0x60, 0x07, 0x01];
                        r.extend_from_slice(&m.to_le_bytes());
                        r
                    }),
                    Some(0x03) => Some(vec![
                        0x60, 0x03, 0x01, 0xC0, 0, 0, 0, 0xDB, 0xC0, 0xDB, 0xC0,
                    ]),
                    _ => None,
                };
                if let Some(r) = reply {
                    let _ = out.write_all(&slip::encode(&r));
                }
            }
        }
    });
    seen
}

fn settings(path: &str) -> PortSettings {
    PortSettings {
        path: path.into(),
        baud: 115_200,
        flow_control: false,
    }
}

fn quick() -> SerialOptions {
    SerialOptions {
        ping: true,
        connect_timeout: Duration::from_millis(1500),
        answer_timeout: Duration::from_millis(200),
        write_timeout: Duration::from_secs(2),
        reconnect_delay: Duration::from_millis(300),
    }
}

/// A device that answers the first PING and MTU_GET 131 and stays.
const HEALTHY: DeviceBehaviour = DeviceBehaviour {
    ignore_pings: 0,
    mtu: Some(131),
    hang_up_after: None,
};

/// A pty with a fake device behind it, and a transport connected to it.
async fn connected(b: DeviceBehaviour) -> (SerialTransport, String, Seen) {
    let (master, path) = pty_pair::open();
    let seen = fake_device(master, b);
    let t = SerialTransport::connect(settings(&path), quick())
        .await
        .unwrap();
    (t, path, seen)
}

#[tokio::test]
async fn connect_pings_then_sizes_writes_from_mtu() {
    let (t, _path, seen) = connected(DeviceBehaviour {
        ignore_pings: 2,
        mtu: Some(131),
        hang_up_after: None,
    })
    .await;
    assert_eq!(t.mtu(), Some(131));
    assert_eq!(t.max_write_len(), 64);
    assert_eq!(t.transport(), Transport::Uart);
    let frames = seen.lock().unwrap().clone();
    assert_eq!(
        frames,
        vec![vec![0x09, 1], vec![0x09, 2], vec![0x09, 3], vec![0x07]]
    );
}

/// The next image of a multi-image update: nothing goes to the port before the bootloader
/// had `reconnect_delay` to reset (nrfutil's `connect_delay`), then PING as at connect.
#[tokio::test]
async fn reconnect_waits_for_the_bootloader_before_pinging() {
    let (mut t, _path, seen) = connected(HEALTHY).await;
    let before = seen.lock().unwrap().len();
    let started = std::time::Instant::now();
    let watch = seen.clone();
    // Sample what the device has seen just before the delay ends.
    let sampler = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(250)).await;
        watch.lock().unwrap().len()
    });
    t.reconnect().await.unwrap();
    assert!(started.elapsed() >= quick().reconnect_delay);
    assert_eq!(sampler.await.unwrap(), before, "no byte during the delay");
    let frames = seen.lock().unwrap().clone();
    assert_eq!(
        frames[before][0], 0x09,
        "PING first after the delay: {frames:?}"
    );
}

#[tokio::test]
async fn without_mtu_answer_the_default_payload_stays() {
    let (t, _path, _seen) = connected(DeviceBehaviour {
        ignore_pings: 0,
        mtu: None,
        hang_up_after: None,
    })
    .await;
    assert_eq!((t.mtu(), t.max_write_len()), (None, DEFAULT_WRITE_LEN));
}

#[tokio::test]
async fn a_silent_device_times_out_naming_baud_and_flow_control() {
    let (master, path) = pty_pair::open();
    let _seen = fake_device(
        master,
        DeviceBehaviour {
            ignore_pings: u32::MAX,
            mtu: None,
            hang_up_after: None,
        },
    );
    let started = std::time::Instant::now();
    let e = SerialTransport::connect(settings(&path), quick())
        .await
        .err()
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(4));
    assert_eq!(e.kind, LinkErrorKind::Timeout);
    assert!(e.detail.contains("no answer to PING"), "{}", e.detail);
    assert!(
        e.detail.contains("115200") && e.detail.contains("flow control (none)"),
        "{}",
        e.detail
    );
}

#[tokio::test]
async fn requests_and_data_are_slip_framed_and_replies_decoded() {
    let (mut t, _path, seen) = connected(HEALTHY).await;
    // CREATE with a size containing both SLIP specials, data with them too.
    t.send_request(&[0x01, 0x02, 0xC0, 0xDB, 0x00, 0x00])
        .await
        .unwrap();
    t.write_data(&[0xC0, 0x01, 0xDB]).await.unwrap();
    t.send_request(&[0x03]).await.unwrap();
    let reply = tokio::time::timeout(Duration::from_secs(2), t.receive())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        reply,
        vec![0x60, 0x03, 0x01, 0xC0, 0, 0, 0, 0xDB, 0xC0, 0xDB, 0xC0]
    );
    let frames = seen.lock().unwrap().clone();
    assert_eq!(
        frames[2..].to_vec(),
        vec![
            vec![0x01, 0x02, 0xC0, 0xDB, 0, 0],
            vec![0x08, 0xC0, 0x01, 0xDB],
            vec![0x03]
        ]
    );
    assert!(t.send_request(&[]).await.is_err(), "no empty frames");
}

#[tokio::test]
async fn a_vanished_port_is_link_lost() {
    let (master, path) = pty_pair::open();
    // PING, MTU_GET, then the device side goes away on the next frame.
    let _seen = fake_device(
        master,
        DeviceBehaviour {
            ignore_pings: 0,
            mtu: Some(131),
            hang_up_after: Some(3),
        },
    );
    let mut t = SerialTransport::connect(settings(&path), quick())
        .await
        .unwrap();
    // The hang-up races the write: either the write or the next receive sees it.
    let e = match t.send_request(&[0x03]).await {
        Err(e) => e,
        Ok(()) => tokio::time::timeout(Duration::from_secs(3), t.receive())
            .await
            .unwrap()
            .unwrap_err(),
    };
    assert_eq!(e.kind, LinkErrorKind::LinkLost);
    assert!(e.detail.contains(&path), "{}", e.detail);
}

#[tokio::test]
async fn closed_transport_refuses_and_a_missing_port_is_io() {
    let (mut t, _path, _seen) = connected(HEALTHY).await;
    t.close().await.unwrap();
    assert_eq!(t.receive().await.unwrap_err().kind, LinkErrorKind::Closed);
    assert_eq!(
        t.send_request(&[0x03]).await.unwrap_err().kind,
        LinkErrorKind::Closed
    );
    let e = SerialTransport::connect(settings("/dev/no-such-tty"), quick())
        .await
        .err()
        .unwrap();
    assert_eq!(e.kind, LinkErrorKind::Io);
    assert!(
        e.detail
            .starts_with("cannot open serial port /dev/no-such-tty"),
        "{}",
        e.detail
    );
}

#[test]
fn nrfutil_payload_rule() {
    assert_eq!(write_len_for_mtu(131), 64);
    assert_eq!(write_len_for_mtu(64), 30);
    assert_eq!(write_len_for_mtu(3), 0);
}

#[tokio::test]
async fn a_closed_port_opens_again_at_once() {
    // The port's exclusive lock (TIOCEXCL) lasts until every handle on it is closed, the
    // reader thread's too: `close` waits for that, so a campaign step may open the port right
    // after a PING look closed it. Before, the second connect failed within the reader's poll
    // ("Unable to acquire exclusive lock on serial port").
    let (mut t, path, seen) = connected(HEALTHY).await;
    for _ in 0..5 {
        t.close().await.unwrap();
        t = SerialTransport::connect(settings(&path), quick())
            .await
            .unwrap_or_else(|e| panic!("connect straight after close: {e}"));
    }
    t.close().await.unwrap();
    assert_eq!(
        seen.lock().unwrap().iter().filter(|f| f[0] == 0x09).count(),
        6,
        "one PING per connect"
    );
}
