//! Nordic's genuine nRF5 SDK Secure DFU images on the emulated Cortex-M4F (issue 17): the MBR
//! and the UART bootloader (debug build, without bonds) from the SDK's
//! examples/dfu/secure_dfu_test_images/uart/nrf52832, flashed through the debug port, boot on
//! the emulated core and answer a PING over the UART; then the SDK's signed blinky_mbr.zip goes
//! through the genuine request handler (SET_PRN, MTU_GET, SELECT, CREATE, WRITE, CRC_GET,
//! EXECUTE; the init packet's P-256 signature verified by the bootloader's micro-ecc), the
//! bootloader activates it and resets, and blinky toggles the PCA10040 LEDs.
//!
//! Nordic's binaries are not in the repository: set RIG_NRF5_IMAGES to a directory holding
//! mbr.hex, bootloader_secure_uart_debug_without_bonds_mbr.hex and blinky_mbr.zip (README,
//! "The emulated core"); without it the tests say so and pass.

use std::path::PathBuf;
use std::time::Duration;
use virtual_nrf52::{DebugPort, Device, ProgramOptions, Segment};

fn images() -> Option<PathBuf> {
    let dir = std::env::var_os("RIG_NRF5_IMAGES")?;
    Some(PathBuf::from(dir))
}

fn hex(dir: &std::path::Path, name: &str) -> Vec<Segment> {
    let path = dir.join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (RIG_NRF5_IMAGES must hold it)", path.display()));
    nrf_dfu::image::parse_intel_hex(&text)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .runs()
        .map(|(a, b)| (a, b.to_vec()))
        .collect()
}

/// The device with MBR and bootloader flashed, booted and listening.
fn booted(dir: &std::path::Path) -> Device {
    let mut segments = hex(dir, "mbr.hex");
    segments.extend(hex(
        dir,
        "bootloader_secure_uart_debug_without_bonds_mbr.hex",
    ));
    let mut d = Device::new(nrf_dfu::Chip::Nrf52832Qfaa, 5);
    d.set_emulated_cpu(true);
    d.program(&segments, ProgramOptions::default())
        .expect("program");
    d.soft_reset().expect("reset");
    let mut out = Vec::new();
    let t = d.now() + Duration::from_millis(300);
    run(&mut d, t, &mut out);
    d
}

/// One request, SLIP-framed, and its response (the first complete frame back).
fn request(d: &mut Device, payload: &[u8]) -> Vec<u8> {
    let t = d.now();
    d.uart_rx(t, &nrf_dfu::slip::encode(payload));
    let mut out = Vec::new();
    let deadline = t + Duration::from_secs(5);
    let mut last_fault = d.cpu_fault();
    let mut last_done = t;
    while d.now() < deadline {
        let t = d.now() + Duration::from_micros(500);
        d.advance_to(t);
        for (done, bytes) in d.uart_tx(t) {
            out.extend_from_slice(&bytes);
            // The host has the bytes once they are on the wire.
            last_done = last_done.max(done);
        }
        if d.cpu_fault() != last_fault {
            last_fault = d.cpu_fault();
            eprintln!(
                "fault during {:02x}: {last_fault:x?} regs {:x?}",
                payload[0],
                d.cpu_registers()
            );
        }
        if let Some(end) = out.iter().position(|&b| b == 0xC0) {
            d.advance_to(last_done);
            return nrf_dfu::slip::decode_frame(&out[..=end]).expect("a SLIP frame");
        }
    }
    panic!(
        "no response to {:02x?} within 5 s of lab time (got {out:02x?}): core {} at {:#x}, fault {:x?}",
        &payload[..payload.len().min(8)],
        d.cpu_state(),
        d.cpu_registers().r[15],
        d.cpu_fault()
    );
}

fn ok(r: &[u8], op: u8) -> &[u8] {
    assert_eq!(&r[..3], &[0x60, op, 0x01], "response {r:02x?}");
    &r[3..]
}

/// Create, fill and execute objects of `kind` (1 command, 2 data) from `bytes`.
fn send_object(d: &mut Device, kind: u8, bytes: &[u8]) {
    let sel = request(d, &[0x06, kind]);
    let max = u32::from_le_bytes(ok(&sel, 0x06)[0..4].try_into().unwrap()) as usize;
    let mut sent = 0;
    for chunk in bytes.chunks(max) {
        let mut create = vec![0x01, kind];
        create.extend_from_slice(&(chunk.len() as u32).to_le_bytes());
        ok(&request(d, &create), 0x01);
        // MTU 131 (the SDK's default): 64-byte writes fit any SLIP expansion.
        for part in chunk.chunks(64) {
            let mut w = vec![0x08];
            w.extend_from_slice(part);
            let t = d.now();
            d.uart_rx(t, &nrf_dfu::slip::encode(&w));
        }
        sent += chunk.len();
        let crc = request(d, &[0x03]);
        let r = ok(&crc, 0x03);
        let offset = u32::from_le_bytes(r[0..4].try_into().unwrap()) as usize;
        let want = nrf_dfu::crc::crc32(&bytes[..sent]);
        assert_eq!(offset, sent);
        assert_eq!(u32::from_le_bytes(r[4..8].try_into().unwrap()), want, "CRC");
        ok(&request(d, &[0x04]), 0x04);
    }
}

#[test]
fn genuine_uart_bootloader_updates_blinky() {
    let Some(dir) = images() else {
        eprintln!("skipped: RIG_NRF5_IMAGES is not set");
        return;
    };
    let zip = std::fs::read(dir.join("blinky_mbr.zip")).expect("blinky_mbr.zip in RIG_NRF5_IMAGES");
    let pkg = nrf_dfu::package::Package::from_zip(&zip).expect("a DFU package");
    let image = &pkg.images()[0];
    let mut d = booted(&dir);
    ok(&request(&mut d, &[0x02, 0x00, 0x00]), 0x02); // SET_PRN 0
    ok(&request(&mut d, &[0x07]), 0x07); // MTU_GET
    let i0 = d.cpu_instructions();
    send_object(&mut d, 1, image.init_packet.as_bytes());
    eprintln!("init packet: {} instructions", d.cpu_instructions() - i0);
    send_object(&mut d, 2, &image.firmware);
    eprintln!(
        "firmware sent: {} instructions in all",
        d.cpu_instructions() - i0
    );
    // The bootloader activates the application and resets into it: blinky toggles LEDs.
    let mut out = Vec::new();
    // Blinky (nrf_delay_ms busy loops, 500 ms per LED) until three patterns have shown.
    let t = d.now() + Duration::from_secs(2);
    let mut outputs = std::collections::BTreeSet::new();
    let mut tt = d.now();
    while tt < t && outputs.len() < 3 {
        tt += Duration::from_millis(5);
        run(&mut d, tt, &mut out);
        outputs.insert(d.gpio_outputs().0 & (0xF << 17));
    }
    eprintln!(
        "LED patterns seen: {outputs:x?}; core {} at {:#x}",
        d.cpu_state(),
        d.cpu_registers().r[15]
    );
    assert!(
        outputs.len() >= 3,
        "blinky toggles its LEDs (P0.17-20): {outputs:x?}"
    );
}

/// Run until `t`, collecting what the UART sent.
fn run(d: &mut Device, until: Duration, out: &mut Vec<u8>) {
    let mut t = d.now();
    while t < until {
        t = (t + Duration::from_millis(1)).min(until);
        d.advance_to(t);
        for (_, bytes) in d.uart_tx(t) {
            out.extend_from_slice(&bytes);
        }
    }
}

#[test]
fn genuine_uart_bootloader_boots_and_answers_ping() {
    let Some(dir) = images() else {
        eprintln!("skipped: RIG_NRF5_IMAGES is not set (a directory with the SDK's mbr.hex and bootloader_secure_uart_debug_without_bonds_mbr.hex)");
        return;
    };
    let mut segments = hex(&dir, "mbr.hex");
    segments.extend(hex(
        &dir,
        "bootloader_secure_uart_debug_without_bonds_mbr.hex",
    ));
    let mut d = Device::new(nrf_dfu::Chip::Nrf52832Qfaa, 5);
    d.set_emulated_cpu(true);
    d.program(&segments, ProgramOptions::default())
        .expect("program");
    d.soft_reset().expect("reset");
    let mut out = Vec::new();
    let start = d.now();
    run(&mut d, start + Duration::from_millis(500), &mut out);
    eprintln!(
        "booted: {} instructions, fault {:?}, pc {:#x}, unmodelled {:?}",
        d.cpu_instructions(),
        d.cpu_fault(),
        d.cpu_registers().r[15],
        d.unmodelled_accesses()
    );
    // PING (opcode 0x09) with id 0x5A, SLIP-framed.
    let t = d.now();
    d.uart_rx(t, &nrf_dfu::slip::encode(&[0x09, 0x5A]));
    run(&mut d, t + Duration::from_millis(200), &mut out);
    eprintln!("uart: {out:02x?}");
    eprintln!(
        "after ping: {} instructions, fault {:?}, pc {:#x}",
        d.cpu_instructions(),
        d.cpu_fault(),
        d.cpu_registers().r[15]
    );
    let want = nrf_dfu::slip::encode(&[0x60, 0x09, 0x01, 0x5A]);
    assert!(
        out.windows(want.len()).any(|w| w == want.as_slice()),
        "no PING response {want:02x?} in {out:02x?}"
    );
}

/// Where the interruptions strike: bytes of blinky's firmware the bootloader has received,
/// as fractions of it (fixed, so a run can be replayed).
const CUTS: [f64; 3] = [0.13, 0.5, 0.87];

#[test]
fn genuine_uart_bootloader_resumes_after_a_power_cut_in_the_data_transfer() {
    for cut in CUTS {
        interrupted_update(cut, |d| {
            let t = d.now();
            d.power_off(t);
            d.power_on(t + Duration::from_millis(100));
        });
    }
}

#[test]
fn genuine_uart_bootloader_resumes_after_a_reset_in_the_data_transfer() {
    for cut in CUTS {
        interrupted_update(cut, |d| {
            d.soft_reset().expect("soft reset through the debug port");
        });
    }
}

#[test]
fn genuine_uart_bootloader_resumes_after_a_link_drop_in_the_data_transfer() {
    // The host goes quiet for a second (a UART link drop) and comes back without a reset.
    for cut in CUTS {
        interrupted_update(cut, |d| {
            let mut out = Vec::new();
            let t = d.now() + Duration::from_secs(1);
            run(d, t, &mut out);
        });
    }
}

/// `cut` of the firmware, then `interrupt`; the genuine bootloader must answer again with the
/// init command kept, and the update from the data offset it reports (its decision: 0 after a
/// reset, what it received after a link drop) must complete, with blinky running after.
fn interrupted_update(cut: f64, interrupt: impl FnOnce(&mut Device)) {
    let Some(dir) = images() else {
        eprintln!("skipped: RIG_NRF5_IMAGES is not set");
        return;
    };
    let zip = std::fs::read(dir.join("blinky_mbr.zip")).expect("blinky_mbr.zip in RIG_NRF5_IMAGES");
    let pkg = nrf_dfu::package::Package::from_zip(&zip).expect("a DFU package");
    let image = &pkg.images()[0];
    let fw = &image.firmware;
    let mut d = booted(&dir);
    ok(&request(&mut d, &[0x02, 0x00, 0x00]), 0x02);
    send_object(&mut d, 1, image.init_packet.as_bytes());
    let sel = request(&mut d, &[0x06, 0x02]);
    ok(&sel, 0x06);
    let mut create = vec![0x01, 0x02];
    create.extend_from_slice(&(fw.len() as u32).to_le_bytes());
    ok(&request(&mut d, &create), 0x01);
    // Whole 64-byte writes up to the cut, all received and handled, then the interruption.
    let sent = ((fw.len() as f64 * cut) as usize / 64) * 64;
    for part in fw[..sent].chunks(64) {
        let mut w = vec![0x08];
        w.extend_from_slice(part);
        let t = d.now();
        d.uart_rx(t, &nrf_dfu::slip::encode(&w));
    }
    let t = d.now()
        + Duration::from_micros(87 * 70 * (sent as u64 / 64 + 1))
        + Duration::from_millis(20);
    let mut out = Vec::new();
    run(&mut d, t, &mut out);
    interrupt(&mut d);
    let t = d.now() + Duration::from_millis(300);
    run(&mut d, t, &mut out);
    ok(&request(&mut d, &[0x09, 0x11]), 0x09); // PING
                                               // The executed init command is in the settings page (or still in RAM): SELECT command
                                               // reports it whole.
    let r = request(&mut d, &[0x06, 0x01]);
    let r = ok(&r, 0x06);
    let offset = u32::from_le_bytes(r[4..8].try_into().unwrap()) as usize;
    let crc = u32::from_le_bytes(r[8..12].try_into().unwrap());
    assert_eq!(
        offset,
        image.init_packet.as_bytes().len(),
        "init command kept (cut {cut})"
    );
    assert_eq!(crc, nrf_dfu::crc::crc32(image.init_packet.as_bytes()));
    // What the genuine code decides about the data, and the client's resume from there.
    let r = request(&mut d, &[0x06, 0x02]);
    let r = ok(&r, 0x06).to_vec();
    let at = u32::from_le_bytes(r[4..8].try_into().unwrap()) as usize;
    let crc = u32::from_le_bytes(r[8..12].try_into().unwrap());
    eprintln!(
        "cut at {sent} of {} bytes: the bootloader resumes at {at}",
        fw.len()
    );
    assert!(at <= sent, "offset {at} beyond what was sent ({sent})");
    if at == 0 {
        send_object(&mut d, 2, fw);
    } else {
        assert_eq!(crc, nrf_dfu::crc::crc32(&fw[..at]), "CRC of what it kept");
        for part in fw[at..].chunks(64) {
            let mut w = vec![0x08];
            w.extend_from_slice(part);
            let t = d.now();
            d.uart_rx(t, &nrf_dfu::slip::encode(&w));
        }
        let r = request(&mut d, &[0x03]);
        let r = ok(&r, 0x03);
        assert_eq!(
            u32::from_le_bytes(r[0..4].try_into().unwrap()) as usize,
            fw.len()
        );
        ok(&request(&mut d, &[0x04]), 0x04);
    }
    let t = d.now() + Duration::from_millis(1500);
    let mut tt = d.now();
    let mut outputs = std::collections::BTreeSet::new();
    while tt < t && outputs.len() < 2 {
        tt += Duration::from_millis(5);
        run(&mut d, tt, &mut out);
        outputs.insert(d.gpio_outputs().0 & (0xF << 17));
    }
    assert!(
        outputs.len() >= 2,
        "blinky runs after the resumed update (cut {cut}): {outputs:x?}"
    );
}

/// The debug bootloader's `pk[64]` (`dfu_public_key.c`, reverse(X) ‖ reverse(Y)) in Nordic's
/// SDK 17.0.2 UART test image, at 0x6DD10: the key the SDK's test packages are signed with
/// (its private half is not shipped). Located by scanning the image for 64 bytes that are a
/// P-256 point; `sdk_test_key_signs_blinky` checks it verifies blinky_mbr.zip's signature.
const SDK_TEST_PK: [u8; 64] = [
    0x35, 0x7f, 0x66, 0xa3, 0x96, 0xf2, 0x9b, 0xde, 0x40, 0x90, 0x81, 0xf2, 0xbf, 0x6f, 0x2a, 0x6b,
    0x51, 0x1a, 0x41, 0xbc, 0x61, 0x2f, 0x73, 0xbe, 0x16, 0xe6, 0xdc, 0xab, 0x20, 0x7a, 0xab, 0xf8,
    0x83, 0x92, 0xb8, 0xc4, 0x47, 0xe7, 0x63, 0xb9, 0x84, 0x83, 0x30, 0xe8, 0x50, 0x5e, 0x39, 0x96,
    0x74, 0xd8, 0x9c, 0x3e, 0x1e, 0x88, 0x1d, 0x18, 0x59, 0xd9, 0x0d, 0x2b, 0x47, 0x13, 0xb2, 0x1e,
];

/// A firm's own build of the bootloader: `segments` with the SDK's test key replaced by `pk`
/// (as `nrfutil keys display --format code` prints it into dfu_public_key.c). The key is a
/// const array in flash, so the rest of the image is byte for byte Nordic's.
fn with_public_key(mut segments: Vec<Segment>, pk: &nrf_dfu::signing::PublicKey) -> Vec<Segment> {
    let new = pk.to_pk64();
    let mut found = 0;
    for (_, bytes) in &mut segments {
        let mut i = 0;
        while i + 64 <= bytes.len() {
            if bytes[i..i + 64] == SDK_TEST_PK {
                bytes[i..i + 64].copy_from_slice(&new);
                found += 1;
            }
            i += 4; // __ALIGN(4)
        }
    }
    assert_eq!(
        found, 1,
        "the SDK's test key occurs once in the bootloader image"
    );
    segments
}

/// MBR and the bootloader trusting `pk`, booted and listening.
fn booted_trusting(dir: &std::path::Path, pk: &nrf_dfu::signing::PublicKey) -> Device {
    let mut segments = hex(dir, "mbr.hex");
    segments.extend(with_public_key(
        hex(dir, "bootloader_secure_uart_debug_without_bonds_mbr.hex"),
        pk,
    ));
    let mut d = Device::new(nrf_dfu::Chip::Nrf52832Qfaa, 5);
    d.set_emulated_cpu(true);
    d.program(&segments, ProgramOptions::default())
        .expect("program");
    d.soft_reset().expect("reset");
    let mut out = Vec::new();
    let t = d.now() + Duration::from_millis(300);
    run(&mut d, t, &mut out);
    d
}

/// blinky's `.bin` packaged as `rig pkg generate --hw-version 52 --sd-req 0x00
/// --application-version 1 --key-file <key>` makes it.
fn blinky_signed_with(
    dir: &std::path::Path,
    key: nrf_dfu::signing::SigningKey,
) -> nrf_dfu::package::Package {
    let zip = std::fs::read(dir.join("blinky_mbr.zip")).expect("blinky_mbr.zip in RIG_NRF5_IMAGES");
    let sdk = nrf_dfu::package::Package::from_zip(&zip).expect("a DFU package");
    nrf_dfu::package::generate_package(nrf_dfu::package::GenerateOptions {
        hw_version: Some(52),
        application: Some(nrf_dfu::package::ImageInput::file(
            "blinky.bin",
            sdk.images()[0].firmware.clone(),
        )),
        application_version: Some(1),
        sd_req: Some(vec![0]),
        key: Some(key),
        ..Default::default()
    })
    .expect("nrfutil accepts the options")
    .package
}

#[test]
fn sdk_test_key_signs_blinky() {
    let Some(dir) = images() else {
        eprintln!("skipped: RIG_NRF5_IMAGES is not set");
        return;
    };
    let zip = std::fs::read(dir.join("blinky_mbr.zip")).expect("blinky_mbr.zip in RIG_NRF5_IMAGES");
    let pkg = nrf_dfu::package::Package::from_zip(&zip).expect("a DFU package");
    let key = nrf_dfu::signing::PublicKey::from_pk64(&SDK_TEST_PK).expect("a P-256 point");
    pkg.images()[0]
        .init_packet
        .verify(&key)
        .expect("the SDK's test key signed blinky_mbr.zip");
}

#[test]
fn patched_genuine_bootloader_accepts_the_rig_key_and_refuses_another() {
    let Some(dir) = images() else {
        eprintln!("skipped: RIG_NRF5_IMAGES is not set");
        return;
    };
    let rig_key = virtual_nrf52::testkit::key();
    // Signed by the rig's test key: the whole update goes through and blinky runs.
    let pkg = blinky_signed_with(&dir, rig_key.clone());
    let image = &pkg.images()[0];
    let mut d = booted_trusting(&dir, &rig_key.public_key());
    ok(&request(&mut d, &[0x02, 0x00, 0x00]), 0x02);
    send_object(&mut d, 1, image.init_packet.as_bytes());
    send_object(&mut d, 2, &image.firmware);
    let (mut out, mut outputs) = (Vec::new(), std::collections::BTreeSet::new());
    let (end, mut tt) = (d.now() + Duration::from_secs(2), d.now());
    while tt < end && outputs.len() < 3 {
        tt += Duration::from_millis(5);
        run(&mut d, tt, &mut out);
        outputs.insert(d.gpio_outputs().0 & (0xF << 17));
    }
    assert!(
        outputs.len() >= 3,
        "blinky runs after the rig-signed update: {outputs:x?}"
    );

    // Signed by another key: EXECUTE of the init command is refused.
    let other = nrf_dfu::signing::SigningKey::generate().expect("a key");
    let pkg = blinky_signed_with(&dir, other);
    let init = pkg.images()[0].init_packet.as_bytes().to_vec();
    let mut d = booted_trusting(&dir, &rig_key.public_key());
    let genuine = refused_execute(&mut d, &init);
    // The behavioural model (the stand-in SDK 17 UART bootloader, trusting the same key)
    // given the same bytes: the first differential data point.
    let mut m = virtual_nrf52::testkit::Bench::new(nrf_dfu::SdkVersion::Sdk17)
        .uart()
        .without_app()
        .build();
    let model = refused_execute(&mut m, &init);
    eprintln!("bad signature: genuine {genuine:02x?}, model {model:02x?}");
    // INVALID_OBJECT, not EXT_ERROR VERIFICATION_FAILED: SDK 15+ nrf_dfu_validation.c
    // nrf_dfu_validation_signature_check answers a failed ECDSA check with
    // NRF_DFU_RES_CODE_INVALID_OBJECT ("Signature failed" in its log).
    assert_eq!(
        genuine,
        [0x60, 0x04, 0x05],
        "the genuine bootloader's answer"
    );
    assert_eq!(model, genuine, "the model answers as the genuine code");
}

/// SELECT, CREATE, WRITE and CRC of the init command, then EXECUTE's response.
fn refused_execute(d: &mut Device, init: &[u8]) -> Vec<u8> {
    ok(&request(d, &[0x02, 0x00, 0x00]), 0x02);
    ok(&request(d, &[0x06, 0x01]), 0x06);
    let mut create = vec![0x01, 0x01];
    create.extend_from_slice(&(init.len() as u32).to_le_bytes());
    ok(&request(d, &create), 0x01);
    for part in init.chunks(64) {
        let mut w = vec![0x08];
        w.extend_from_slice(part);
        let t = d.now();
        d.uart_rx(t, &nrf_dfu::slip::encode(&w));
    }
    let crc = request(d, &[0x03]);
    assert_eq!(
        u32::from_le_bytes(ok(&crc, 0x03)[4..8].try_into().unwrap()),
        nrf_dfu::crc::crc32(init)
    );
    request(d, &[0x04])
}

/// The benchmark (a command, no timed assertion): a 100 KB application (blinky padded with
/// 0xFF), signed with the rig key, through the genuine bootloader on the emulated core; prints
/// wall time, lab time and instructions. Run it in release:
/// `RIG_NRF5_IMAGES=DIR cargo test --release -p virtual-nrf52 --test genuine_firmware -- --ignored --nocapture`
#[test]
#[ignore = "benchmark: run in release with RIG_NRF5_IMAGES"]
fn benchmark_100k_update_through_the_genuine_bootloader() {
    let Some(dir) = images() else {
        eprintln!("skipped: RIG_NRF5_IMAGES is not set");
        return;
    };
    let zip = std::fs::read(dir.join("blinky_mbr.zip")).expect("blinky_mbr.zip in RIG_NRF5_IMAGES");
    let mut firmware = nrf_dfu::package::Package::from_zip(&zip)
        .expect("a DFU package")
        .images()[0]
        .firmware
        .clone();
    firmware.resize(100 * 1024, 0xFF);
    let key = virtual_nrf52::testkit::key();
    let pkg = nrf_dfu::package::generate_package(nrf_dfu::package::GenerateOptions {
        hw_version: Some(52),
        application: Some(nrf_dfu::package::ImageInput::file(
            "app.bin",
            firmware.clone(),
        )),
        application_version: Some(1),
        sd_req: Some(vec![0]),
        key: Some(key.clone()),
        ..Default::default()
    })
    .expect("nrfutil accepts the options")
    .package;
    let image = &pkg.images()[0];
    let mut d = booted_trusting(&dir, &key.public_key());
    let (wall, lab, i0) = (std::time::Instant::now(), d.now(), d.cpu_instructions());
    ok(&request(&mut d, &[0x02, 0x00, 0x00]), 0x02);
    send_object(&mut d, 1, image.init_packet.as_bytes());
    send_object(&mut d, 2, &image.firmware);
    eprintln!(
        "100 KB update through the genuine SDK 17.0.2 UART bootloader: {:.2} s wall, {:.2} s lab time \
         (UART at 115200 baud, 64-byte writes), {} M instructions",
        wall.elapsed().as_secs_f64(),
        (d.now() - lab).as_secs_f64(),
        (d.cpu_instructions() - i0) / 1_000_000
    );
    // What the genuine code wrote to bank 0 is the image.
    assert_eq!(
        d.read_flash(0x1000, firmware.len() as u32),
        firmware,
        "bank 0 holds the image"
    );
}

/// Differential point: init command and half the firmware, a reset through the debug port, then
/// SELECT command and SELECT data, the same bytes to the genuine code and to the model.
#[test]
fn after_a_reset_in_the_data_the_model_selects_as_the_genuine_code() {
    let Some(dir) = images() else {
        eprintln!("skipped: RIG_NRF5_IMAGES is not set");
        return;
    };
    let key = virtual_nrf52::testkit::key();
    let bench = virtual_nrf52::testkit::Bench::new(nrf_dfu::SdkVersion::Sdk17)
        .uart()
        .without_app();
    let zip = std::fs::read(dir.join("blinky_mbr.zip")).expect("blinky_mbr.zip in RIG_NRF5_IMAGES");
    let firmware = nrf_dfu::package::Package::from_zip(&zip)
        .expect("a DFU package")
        .images()[0]
        .firmware
        .clone();
    // sd_req: none (the genuine bench has no SoftDevice) or the model's stand-in SoftDevice.
    let pkg = nrf_dfu::package::generate_package(nrf_dfu::package::GenerateOptions {
        hw_version: Some(52),
        application: Some(nrf_dfu::package::ImageInput::file(
            "app.bin",
            firmware.clone(),
        )),
        application_version: Some(1),
        sd_req: Some(vec![0, u32::from(bench.softdevice().info.fwid)]),
        key: Some(key.clone()),
        ..Default::default()
    })
    .expect("nrfutil accepts the options")
    .package;
    let init = pkg.images()[0].init_packet.as_bytes().to_vec();
    let traffic = |d: &mut Device| -> (Vec<u8>, Vec<u8>) {
        ok(&request(d, &[0x02, 0x00, 0x00]), 0x02);
        send_object(d, 1, &init);
        ok(&request(d, &[0x06, 0x02]), 0x06);
        let mut create = vec![0x01, 0x02];
        create.extend_from_slice(&(firmware.len() as u32).to_le_bytes());
        ok(&request(d, &create), 0x01);
        for part in firmware[..firmware.len() / 2 / 64 * 64].chunks(64) {
            let mut w = vec![0x08];
            w.extend_from_slice(part);
            let t = d.now();
            d.uart_rx(t, &nrf_dfu::slip::encode(&w));
        }
        ok(&request(d, &[0x03]), 0x03);
        d.soft_reset().expect("reset through the debug port");
        let mut out = Vec::new();
        let t = d.now() + Duration::from_millis(300);
        run(d, t, &mut out);
        (request(d, &[0x06, 0x01]), request(d, &[0x06, 0x02]))
    };
    let genuine = traffic(&mut booted_trusting(&dir, &key.public_key()));
    let model = traffic(&mut bench.build());
    eprintln!("after a reset: genuine {genuine:02x?}\n               model   {model:02x?}");
    assert_eq!(
        model, genuine,
        "SELECT command and SELECT data after the reset"
    );
}
