//! Properties of the resume planners over arbitrary device replies.

use proptest::prelude::*;

use crate::client::resume::*;
use crate::crc::crc32;

proptest! {
    /// Whatever the device says, the init plan stays inside our packet and resumes only from a
    /// prefix the device really holds.
    #[test]
    fn init_plan_is_bounded(init in proptest::collection::vec(any::<u8>(), 1..600),
                            offset in 0u32..700, crc in any::<u32>(), honest in any::<bool>(),
                            resume in any::<bool>()) {
        let crc = if honest && (offset as usize) <= init.len() { crc32(&init[..offset as usize]) } else { crc };
        let reply = SelectReply { max_size: 512, offset, crc };
        match plan_init(reply, &init, resume) {
            InitPlan::Create => {}
            InitPlan::Continue { from } => {
                prop_assert!(resume && from > 0 && (from as usize) < init.len());
                prop_assert_eq!(crc32(&init[..from as usize]), crc);
            }
            InitPlan::ExecuteOnly => {
                prop_assert!(resume && offset as usize == init.len());
                prop_assert_eq!(crc32(&init), crc);
            }
        }
    }

    /// Whatever the device says, the data plan names offsets inside the image, starts object
    /// creation on object boundaries, and continues only a prefix the device really holds.
    #[test]
    fn data_plan_is_bounded(len in 1usize..20_000, max_size in 0u32..9000,
                            offset in 0u32..25_000, crc in any::<u32>(), honest in any::<bool>()) {
        let firmware: Vec<u8> = (0..len).map(|i| (i * 31 + 7) as u8).collect();
        let crc = if honest && (offset as usize) <= len { crc32(&firmware[..offset as usize]) } else { crc };
        let max = max_size.max(1);
        match plan_data(SelectReply { max_size, offset, crc }, &firmware) {
            DataPlan::Start { offset: start } => {
                prop_assert_eq!(start % max, 0);
                prop_assert!(start < offset || offset == 0);
            }
            DataPlan::ContinueObject { offset: at, object_start } => {
                prop_assert_eq!(object_start % max, 0);
                prop_assert!(object_start < at && at < object_start + max && (at as usize) < len);
                prop_assert_eq!(crc32(&firmware[..at as usize]), crc);
            }
            DataPlan::ExecuteAtBoundary { offset: at } => {
                prop_assert!(at % max == 0 && at > 0 && (at as usize) < len);
                prop_assert_eq!(crc32(&firmware[..at as usize]), crc);
            }
            DataPlan::ExecuteFinal => {
                prop_assert_eq!(offset as usize, len);
                prop_assert_eq!(crc32(&firmware), crc);
            }
            DataPlan::RestartImage => prop_assert!(offset as usize > len),
        }
    }

    /// A device holding an honest prefix of our image (k executed objects plus p bytes of the
    /// next) never makes the client throw away executed data or resend what it holds.
    #[test]
    fn honest_device_state_loses_nothing(objects in 1u32..8, last in 1u32..4097,
                                         executed in 0u32..8, partial in 0u32..4096) {
        let max = 4096u32;
        let len = (objects - 1) * max + last;
        let firmware: Vec<u8> = (0..len).map(|i| (i % 253) as u8).collect();
        let executed = executed.min(objects - 1) * max;
        let offset = (executed + partial).min(len);
        let reply = SelectReply { max_size: max, offset, crc: crc32(&firmware[..offset as usize]) };
        let plan = plan_data(reply, &firmware);
        let expected = if offset == 0 {
            DataPlan::Start { offset: 0 }
        } else if offset == len {
            DataPlan::ExecuteFinal
        } else if offset.is_multiple_of(max) {
            DataPlan::ExecuteAtBoundary { offset }
        } else {
            DataPlan::ContinueObject { offset, object_start: offset - offset % max }
        };
        prop_assert_eq!(plan, expected);
    }
}
