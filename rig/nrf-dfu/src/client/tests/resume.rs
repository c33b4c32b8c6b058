//! Resume, rewind and retry decisions, by table.

use rstest::rstest;

use crate::client::resume::*;
use crate::crc::crc32;

/// A firmware image whose bytes differ at every offset (so a wrong prefix has a wrong CRC).
fn image(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}

/// The device's CRC over our first `n` bytes, or a corrupted one.
fn device_crc(data: &[u8], n: u32, good: bool) -> u32 {
    let crc = crc32(&data[..n as usize]);
    if good {
        crc
    } else {
        crc ^ 0x0000_0100
    }
}

const INIT_LEN: usize = 141;

#[rstest]
#[case::nothing_on_device(0, true, true, InitPlan::Create)]
#[case::complete_good_crc(141, true, true, InitPlan::ExecuteOnly)]
#[case::complete_bad_crc(141, false, true, InitPlan::Create)]
#[case::partial_good_crc(100, true, true, InitPlan::Continue { from: 100 })]
#[case::partial_one_byte(1, true, true, InitPlan::Continue { from: 1 })]
#[case::partial_bad_crc(100, false, true, InitPlan::Create)]
#[case::longer_than_ours(142, true, true, InitPlan::Create)]
#[case::much_longer(512, true, true, InitPlan::Create)]
#[case::resume_off_complete(141, true, false, InitPlan::Create)]
#[case::resume_off_partial(100, true, false, InitPlan::Create)]
fn init_plan(
    #[case] offset: u32,
    #[case] good_crc: bool,
    #[case] resume: bool,
    #[case] expected: InitPlan,
) {
    let init = image(INIT_LEN);
    // For offsets beyond our packet the device's CRC is over bytes we do not have.
    let crc = if offset as usize <= INIT_LEN {
        device_crc(&init, offset, good_crc)
    } else {
        0x1234_5678
    };
    let reply = SelectReply {
        max_size: 512,
        offset,
        crc,
    };
    assert_eq!(plan_init(reply, &init, resume), expected);
}

#[rstest]
// 10 000 bytes in objects 0..4096, 4096..8192, 8192..10000.
#[case::at_zero(10_000, 4096, 0, true, DataPlan::Start { offset: 0 })]
#[case::inside_first_good(10_000, 4096, 1000, true, DataPlan::ContinueObject { offset: 1000, object_start: 0 })]
#[case::inside_first_bad(10_000, 4096, 1000, false, DataPlan::Start { offset: 0 })]
#[case::inside_second_good(10_000, 4096, 5000, true, DataPlan::ContinueObject { offset: 5000, object_start: 4096 })]
#[case::inside_second_bad(10_000, 4096, 5000, false, DataPlan::Start { offset: 4096 })]
#[case::inside_last_good(10_000, 4096, 9000, true, DataPlan::ContinueObject { offset: 9000, object_start: 8192 })]
#[case::one_byte_short_of_boundary(10_000, 4096, 4095, true, DataPlan::ContinueObject { offset: 4095, object_start: 0 })]
#[case::boundary_good(10_000, 4096, 4096, true, DataPlan::ExecuteAtBoundary { offset: 4096 })]
#[case::second_boundary_good(10_000, 4096, 8192, true, DataPlan::ExecuteAtBoundary { offset: 8192 })]
#[case::boundary_bad_drops_last_object(10_000, 4096, 4096, false, DataPlan::Start { offset: 0 })]
#[case::second_boundary_bad(10_000, 4096, 8192, false, DataPlan::Start { offset: 4096 })]
#[case::at_end_good(10_000, 4096, 10_000, true, DataPlan::ExecuteFinal)]
#[case::at_end_bad(10_000, 4096, 10_000, false, DataPlan::Start { offset: 8192 })]
#[case::beyond_our_size(10_000, 4096, 10_001, true, DataPlan::RestartImage)]
#[case::far_beyond(10_000, 4096, 65_536, true, DataPlan::RestartImage)]
// Image ending on an object boundary: the end is both.
#[case::aligned_end_good(8192, 4096, 8192, true, DataPlan::ExecuteFinal)]
#[case::aligned_end_bad(8192, 4096, 8192, false, DataPlan::Start { offset: 4096 })]
// The sizes of the end-to-end matrix.
#[case::one_byte_image_done(1, 4096, 1, true, DataPlan::ExecuteFinal)]
#[case::one_byte_image_bad(1, 4096, 1, false, DataPlan::Start { offset: 0 })]
#[case::page_image_done(4096, 4096, 4096, true, DataPlan::ExecuteFinal)]
#[case::page_plus_one_boundary(4097, 4096, 4096, true, DataPlan::ExecuteAtBoundary { offset: 4096 })]
#[case::page_plus_one_done(4097, 4096, 4097, true, DataPlan::ExecuteFinal)]
// Another object size than 4096 is honoured as reported.
#[case::small_objects_inside(3000, 1024, 2500, true, DataPlan::ContinueObject { offset: 2500, object_start: 2048 })]
#[case::small_objects_boundary_bad(3000, 1024, 2048, false, DataPlan::Start { offset: 1024 })]
fn data_plan(
    #[case] len: usize,
    #[case] max_size: u32,
    #[case] offset: u32,
    #[case] good_crc: bool,
    #[case] expected: DataPlan,
) {
    let firmware = image(len);
    let crc = if offset as usize <= len {
        device_crc(&firmware, offset, good_crc)
    } else {
        0xDEAD_BEEF
    };
    let reply = SelectReply {
        max_size,
        offset,
        crc,
    };
    assert_eq!(plan_data(reply, &firmware), expected);
}

#[rstest]
#[case::in_sync(4096, 8192, 8192, true, TransferCheck::InSync)]
#[case::in_sync_mid_object(4096, 6000, 6000, true, TransferCheck::InSync)]
#[case::lost_bytes(4096, 8192, 7000, true, TransferCheck::Lost { resume_at: 7000 })]
// SDK 12 reverts to the object start when a flash store cannot be queued.
#[case::lost_whole_object(4096, 8192, 4096, true, TransferCheck::Lost { resume_at: 4096 })]
#[case::lost_bytes_bad_crc(4096, 8192, 7000, false, TransferCheck::Mismatch)]
#[case::all_arrived_bad_crc(4096, 8192, 8192, false, TransferCheck::Mismatch)]
#[case::more_than_sent(4096, 8000, 8192, true, TransferCheck::OutOfRange)]
#[case::below_object_start(4096, 8192, 4000, true, TransferCheck::OutOfRange)]
#[case::init_packet_lost(0, 141, 120, true, TransferCheck::Lost { resume_at: 120 })]
#[case::init_packet_nothing(0, 141, 0, true, TransferCheck::Lost { resume_at: 0 })]
fn transfer_check(
    #[case] start: u32,
    #[case] sent: u32,
    #[case] offset: u32,
    #[case] good_crc: bool,
    #[case] expected: TransferCheck,
) {
    let data = image(10_000);
    let prefix = PrefixCrc::new(&data);
    let crc = device_crc(&data, offset.min(10_000), good_crc);
    assert_eq!(check_transfer(offset, crc, start, sent, &prefix), expected);
}

const LIMITS: RetryLimits = RetryLimits {
    max_attempts: 3,
    max_rewinds: 2,
};

#[rstest]
#[case::complete(8192, 8192, 1, 0, true, ObjectStep::Execute)]
#[case::complete_on_last_attempt(8192, 8192, 3, 2, true, ObjectStep::Execute)]
#[case::missed_notification_in_sync(6000, 6000, 1, 0, true, ObjectStep::SendFrom { offset: 6000 })]
#[case::lost_bytes_rewind(8192, 7000, 1, 0, true, ObjectStep::Rewind { offset: 7000 })]
#[case::lost_bytes_second_rewind(8192, 7000, 1, 1, true, ObjectStep::Rewind { offset: 7000 })]
#[case::lost_bytes_rewinds_exhausted(8192, 7000, 1, 2, true, ObjectStep::RewindsExhausted)]
#[case::mismatch_first_attempt(8192, 8192, 1, 0, false, ObjectStep::Recreate { attempt: 2 })]
#[case::mismatch_second_attempt(8192, 8192, 2, 0, false, ObjectStep::Recreate { attempt: 3 })]
#[case::mismatch_retries_exhausted(8192, 8192, 3, 0, false, ObjectStep::CrcRetriesExhausted)]
#[case::lost_with_bad_crc_recreates(8192, 7000, 1, 0, false, ObjectStep::Recreate { attempt: 2 })]
#[case::lost_with_bad_crc_exhausted(8192, 7000, 3, 0, false, ObjectStep::CrcRetriesExhausted)]
#[case::device_ahead(8000, 8192, 1, 0, true, ObjectStep::OutOfRange)]
fn object_step(
    #[case] sent: u32,
    #[case] offset: u32,
    #[case] attempt: u8,
    #[case] rewinds: u8,
    #[case] good_crc: bool,
    #[case] expected: ObjectStep,
) {
    let data = image(10_000);
    let prefix = PrefixCrc::new(&data);
    let crc = device_crc(&data, offset, good_crc);
    let progress = ObjectProgress {
        start: 4096,
        end: 8192,
        sent,
        attempt,
        rewinds,
    };
    assert_eq!(
        next_object_step(offset, crc, progress, LIMITS, &prefix),
        expected
    );
}

#[rstest]
#[case(0)]
#[case(1)]
#[case(4095)]
#[case(4096)]
#[case(4097)]
#[case(8192)]
#[case(12_345)]
#[case(20_000)]
fn prefix_crc_matches_direct_crc(#[case] n: u32) {
    let data = image(20_000);
    let prefix = PrefixCrc::new(&data);
    assert_eq!(prefix.at(n), Some(crc32(&data[..n as usize])));
}

#[test]
fn prefix_crc_beyond_data_is_none() {
    let data = image(100);
    assert_eq!(PrefixCrc::new(&data).at(101), None);
    assert_eq!(PrefixCrc::new(&[]).at(0), Some(0));
}
