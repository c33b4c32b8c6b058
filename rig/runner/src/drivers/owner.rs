//! Infrastructure or device: every backend error says whose fault it is, so a campaign keeps
//! bench trouble (probe, adapter, power switch, USB, host) out of the device's statistics.

use serde::Serialize;
use std::fmt;

/// Who a failure belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Owner {
    /// The rig: probe, adapter, power switch, serial port, USB, host permissions, configuration.
    #[serde(rename = "infra")]
    Infrastructure,
    /// The device under test: locked debug port, no answer on SWD, wrong flash content, silence.
    #[serde(rename = "dut")]
    Device,
}

impl Owner {
    /// The prefix of failure classes in reports (`infra.*`, `dut.*`).
    pub fn label(self) -> &'static str {
        match self {
            Owner::Infrastructure => "infra",
            Owner::Device => "dut",
        }
    }
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}
