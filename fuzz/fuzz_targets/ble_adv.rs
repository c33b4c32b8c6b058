//! Advertising payloads and buttonless DFU writes as a scanner / the stand-in application decode
//! them: never a panic, and whatever decodes encodes back to something that decodes the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use virtual_nrf52::ble::adv::AdvertisingData;
use virtual_nrf52::ble::buttonless::ButtonlessRequest;

fuzz_target!(|data: &[u8]| {
    if let Ok(d) = AdvertisingData::decode(data) {
        let e = d.encode();
        assert_eq!(AdvertisingData::decode(&e).as_ref(), Ok(&d));
        let _ = (d.local_name(), d.app_version(), d.uuids16(), d.flags());
    }
    let r = ButtonlessRequest::decode(data);
    assert_eq!(ButtonlessRequest::decode(&r.encode()), r);
    if let ButtonlessRequest::SetAdvName { len, name } = &r {
        let _ = ButtonlessRequest::valid_adv_name(*len, name);
    }
});
