//! The GATT tables the virtual device exposes: the Secure DFU bootloader's and the stand-in
//! application's. Handles are assigned in declaration order from 1, as the SoftDevice does
//! (GAP service first, then the GATT service, then the services the firmware adds); clients find
//! characteristics by UUID, so only the order matters.

use super::uuid::{self, sig16};
use ::uuid::Uuid;

bitflags::bitflags! {
    /// Characteristic properties (Core Vol 3 Part G 3.3.1.1).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct Properties: u8 {
        const READ = 0x02;
        const WRITE_WITHOUT_RESPONSE = 0x04;
        const WRITE = 0x08;
        const NOTIFY = 0x10;
        const INDICATE = 0x20;
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Characteristic {
    pub uuid: Uuid,
    pub properties: Properties,
    pub declaration_handle: u16,
    pub value_handle: u16,
    /// The CCCD, present on notifying or indicating characteristics.
    pub cccd_handle: Option<u16>,
    /// Longest value a write may carry (`max_len` of the attribute), independent of the MTU.
    pub max_len: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub uuid: Uuid,
    pub start_handle: u16,
    pub end_handle: u16,
    pub characteristics: Vec<Characteristic>,
}

/// A device's attribute table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GattTable {
    pub services: Vec<Service>,
}

struct Builder {
    next: u16,
    services: Vec<Service>,
}

impl Builder {
    fn new() -> Builder {
        Builder {
            next: 1,
            services: Vec::new(),
        }
    }

    fn service(&mut self, uuid: Uuid, chars: &[(Uuid, Properties, usize)]) {
        let start = self.next;
        self.next += 1;
        let mut characteristics = Vec::new();
        for &(uuid, properties, max_len) in chars {
            let declaration_handle = self.next;
            let value_handle = self.next + 1;
            self.next += 2;
            let cccd_handle = properties
                .intersects(Properties::NOTIFY | Properties::INDICATE)
                .then(|| {
                    self.next += 1;
                    self.next - 1
                });
            characteristics.push(Characteristic {
                uuid,
                properties,
                declaration_handle,
                value_handle,
                cccd_handle,
                max_len,
            });
        }
        self.services.push(Service {
            uuid,
            start_handle: start,
            end_handle: self.next - 1,
            characteristics,
        });
    }

    /// GAP (device name, appearance, preferred connection parameters) and GATT (Service Changed
    /// only when the firmware enables it, `NRF_SDH_BLE_SERVICE_CHANGED`).
    fn standard(&mut self, service_changed: bool) {
        self.service(
            sig16(uuid::GAP_SERVICE_16),
            &[
                (sig16(uuid::DEVICE_NAME_16), Properties::READ, 20),
                (sig16(uuid::APPEARANCE_16), Properties::READ, 2),
                (sig16(uuid::PPCP_16), Properties::READ, 8),
            ],
        );
        let sc = [(sig16(uuid::SERVICE_CHANGED_16), Properties::INDICATE, 4)];
        self.service(
            sig16(uuid::GATT_SERVICE_16),
            if service_changed { &sc } else { &[] },
        );
    }
}

/// Attribute `max_len` of the Control Point: the ATT default MTU (`BLE_GATT_ATT_MTU_DEFAULT` in
/// 17.1 `nrf_dfu_ble.c`, `dfu_ctrl_pt_add`).
pub const CONTROL_POINT_MAX_LEN: usize = 23;
/// Attribute `max_len` of the buttonless characteristic (op + length + 20-byte name).
pub const BUTTONLESS_MAX_LEN: usize = 23;

impl GattTable {
    /// The bootloader's table: DFU service 0xFE59 with Packet (write without response, value up to
    /// MTU − 3 = `packet_max_len`) and Control Point (write + notify). Service Changed only with
    /// bonds (mandatory then: 17.1 `nrf_dfu_ble.c` refuses to build bonds without
    /// `NRF_SDH_BLE_SERVICE_CHANGED`).
    pub fn bootloader(packet_max_len: usize, requires_bonds: bool) -> GattTable {
        let mut b = Builder::new();
        b.standard(requires_bonds);
        b.service(
            sig16(uuid::DFU_SERVICE_16),
            &[
                (
                    uuid::PACKET,
                    Properties::WRITE_WITHOUT_RESPONSE,
                    packet_max_len,
                ),
                (
                    uuid::CONTROL_POINT,
                    Properties::WRITE | Properties::NOTIFY,
                    CONTROL_POINT_MAX_LEN,
                ),
            ],
        );
        GattTable {
            services: b.services,
        }
    }

    /// The stand-in application's table: Service Changed (the buttonless example enables it),
    /// and the DFU service with the buttonless characteristic when it has one.
    pub fn app(buttonless: Option<Uuid>) -> GattTable {
        let mut b = Builder::new();
        b.standard(true);
        if let Some(u) = buttonless {
            b.service(
                sig16(uuid::DFU_SERVICE_16),
                &[(
                    u,
                    Properties::WRITE | Properties::INDICATE,
                    BUTTONLESS_MAX_LEN,
                )],
            );
        }
        GattTable {
            services: b.services,
        }
    }

    pub fn characteristic(&self, uuid: &Uuid) -> Option<&Characteristic> {
        self.services
            .iter()
            .flat_map(|s| &s.characteristics)
            .find(|c| &c.uuid == uuid)
    }

    /// The characteristic whose value or CCCD is `handle`.
    pub fn by_handle(&self, handle: u16) -> Option<(&Characteristic, bool)> {
        self.services
            .iter()
            .flat_map(|s| &s.characteristics)
            .find_map(|c| {
                if c.value_handle == handle {
                    Some((c, false))
                } else if c.cccd_handle == Some(handle) {
                    Some((c, true))
                } else {
                    None
                }
            })
    }

    /// ATT round trips a full discovery takes: one per service for primary service discovery
    /// plus the final "attribute not found", one per service for its characteristics, one per
    /// CCCD for descriptor discovery.
    pub fn discovery_round_trips(&self) -> u32 {
        let s = self.services.len() as u32;
        let d = self
            .services
            .iter()
            .flat_map(|s| &s.characteristics)
            .filter(|c| c.cccd_handle.is_some())
            .count() as u32;
        (s + 1) + s + d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bootloader_table() {
        let t = GattTable::bootloader(244, false);
        assert_eq!(t.services.len(), 3);
        let dfu = &t.services[2];
        assert_eq!(dfu.uuid, sig16(0xFE59));
        let cp = t.characteristic(&uuid::CONTROL_POINT).unwrap();
        assert_eq!(cp.properties, Properties::WRITE | Properties::NOTIFY);
        assert!(cp.cccd_handle.is_some());
        let pkt = t.characteristic(&uuid::PACKET).unwrap();
        assert_eq!(pkt.properties, Properties::WRITE_WITHOUT_RESPONSE);
        assert_eq!(pkt.cccd_handle, None);
        assert_eq!(pkt.max_len, 244);
        assert_eq!(dfu.end_handle, cp.cccd_handle.unwrap());
        assert_eq!(t.by_handle(cp.cccd_handle.unwrap()), Some((cp, true)));
        assert!(
            t.characteristic(&sig16(0x2A05)).is_none(),
            "no Service Changed without bonds"
        );
        assert!(GattTable::bootloader(20, true)
            .characteristic(&sig16(0x2A05))
            .is_some());
        // Handles are unique and ascending.
        let mut hs: Vec<u16> = t
            .services
            .iter()
            .flat_map(|s| {
                s.characteristics
                    .iter()
                    .flat_map(|c| [c.declaration_handle, c.value_handle])
            })
            .collect();
        let n = hs.len();
        hs.dedup();
        assert_eq!(hs.len(), n);
    }

    #[test]
    fn app_table() {
        let t = GattTable::app(Some(uuid::BUTTONLESS_UNBONDED));
        let b = t.characteristic(&uuid::BUTTONLESS_UNBONDED).unwrap();
        assert_eq!(b.properties, Properties::WRITE | Properties::INDICATE);
        assert!(t.characteristic(&uuid::CONTROL_POINT).is_none());
        assert!(GattTable::app(None)
            .characteristic(&uuid::BUTTONLESS_UNBONDED)
            .is_none());
        assert_eq!(GattTable::app(None).services.len(), 2);
    }
}
