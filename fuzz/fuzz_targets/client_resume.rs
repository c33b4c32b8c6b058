//! The DFU client's pure decisions on arbitrary device replies: SELECT replies for the init
//! packet and the firmware, and CRC_GET / PRN reports during an object. None may panic, and
//! every offset they name must lie inside the image.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nrf_dfu::client::resume::*;

fn u32_at(data: &[u8], i: usize) -> u32 {
    let mut b = [0u8; 4];
    for (k, slot) in b.iter_mut().enumerate() {
        *slot = data.get(i * 4 + k).copied().unwrap_or(0);
    }
    u32::from_le_bytes(b)
}

fuzz_target!(|data: &[u8]| {
    // Header: 8 words of parameters, the rest is the image (init packet = its first part).
    let image = data.get(32..).unwrap_or(&[]);
    let init_len = (u32_at(data, 0) as usize) % (image.len() + 1);
    let init = &image[..init_len];
    let (max_size, offset, crc) = (u32_at(data, 1) % 9000, u32_at(data, 2) % 70_000, u32_at(data, 3));

    let reply = SelectReply { max_size, offset, crc };
    if !init.is_empty() {
        if let InitPlan::Continue { from } = plan_init(reply, init, true) {
            assert!(from > 0 && (from as usize) < init.len());
        }
    }
    if image.is_empty() {
        return;
    }
    let len = image.len() as u32;
    match plan_data(reply, image) {
        DataPlan::Start { offset } => assert!(offset <= len),
        DataPlan::ContinueObject { offset, object_start } => assert!(object_start < offset && offset < len),
        DataPlan::ExecuteAtBoundary { offset } => assert!(offset < len),
        DataPlan::ExecuteFinal | DataPlan::RestartImage => {}
    }

    let prefix = PrefixCrc::new(image);
    let start = u32_at(data, 4) % (len + 1);
    let end = start + (u32_at(data, 5) % (len - start + 1));
    let sent = start + (u32_at(data, 6) % (end - start + 1));
    let w = u32_at(data, 7);
    let progress = ObjectProgress { start, end, sent, attempt: (w & 7) as u8, rewinds: ((w >> 3) & 7) as u8 };
    let limits = RetryLimits { max_attempts: ((w >> 6) & 7) as u8, max_rewinds: ((w >> 9) & 7) as u8 };
    match next_object_step(offset, crc, progress, limits, &prefix) {
        ObjectStep::SendFrom { offset } => assert!(offset == sent && sent < end),
        ObjectStep::Rewind { offset } => assert!(start <= offset && offset < sent),
        ObjectStep::Execute => assert_eq!(offset, sent),
        _ => {}
    }
});
