//! Init packet decoding: any bytes give a packet or a typed error, never a panic; a decoded
//! packet keeps its exact bytes, its init command bytes re-decode to the same command, and the
//! limit checks and JSON view work on anything decode accepts.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nrf_dfu::init_packet::InitPacket;
use nrf_dfu::SdkVersion;
use prost::Message;

fuzz_target!(|data: &[u8]| {
    let Ok(p) = InitPacket::decode(data) else { return };
    assert_eq!(p.as_bytes(), data);
    let cmd = nrf_dfu::init_packet::InitCommand::decode(p.init_command_bytes()).expect("embedded init command decodes");
    assert_eq!(&cmd, p.init_command());
    for sdk in SdkVersion::ALL {
        let _ = p.check_limits(sdk);
    }
    let _ = serde_json::to_string(&p.to_json()).expect("json");
    let rebuilt = InitPacket::new_unsigned(p.init_command().clone());
    let again = InitPacket::decode(&rebuilt.encode()).expect("re-encoded packet decodes");
    assert_eq!(again.init_command(), p.init_command());
    let _ = p.verify(&nrf_dfu::signing::SigningKey::from_scalar_bytes(&[1; 32]).expect("key").public_key());
});
