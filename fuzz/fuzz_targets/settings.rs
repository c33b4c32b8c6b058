//! Arbitrary bytes into the settings page codec of each layout, the per-SDK boot-time init
//! (main page + backup) and the display report.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nrf_dfu::image::parse_intel_hex;
use nrf_dfu::settings::{crc_ok, locate_settings, settings_init, SettingsLayout, SettingsPage, SettingsReport};
use nrf_dfu::SdkVersion;

fuzz_target!(|data: &[u8]| {
    // Codec: every layout decodes any long-enough buffer losslessly and rejects a short one.
    for layout in SettingsLayout::ALL {
        match SettingsPage::decode(data, layout) {
            Ok(page) => {
                assert_eq!(page.encode(), &data[..layout.size()]);
                let _ = page.validate();
                let report = page.check_crcs();
                let mut fixed = page.clone();
                fixed.fix_crcs();
                if fixed.crc != 0xFFFF_FFFF {
                    assert!(fixed.validate().is_ok(), "{report:?}");
                }
                let _ = serde_json::to_string(&page);
            }
            Err(_) => assert!(data.len() < layout.size()),
        }
    }
    let _ = SettingsPage::decode_detect(data);

    // Boot-time init: the input split into a main page and a backup page.
    let half = data.len() / 2;
    let (main, backup) = data.split_at(half);
    let page = |b: &[u8]| {
        let mut p = b.to_vec();
        p.resize(4096, 0xFF);
        p
    };
    let (main, backup) = (page(main), page(backup));
    // Random bytes almost never carry valid CRCs: the first byte chooses which pages to seal in
    // the SDK's layout first, so that the merge / tamper / restore paths run too.
    let flags = data.first().copied().unwrap_or(0);
    let seal = |p: &[u8], layout: SettingsLayout| {
        let mut s = SettingsPage::decode(p, layout).expect("4 KB page");
        s.fix_settings_crcs();
        let mut out = p.to_vec();
        out[..layout.size()].copy_from_slice(&s.encode());
        out
    };
    for sdk in SdkVersion::ALL {
        let layout = SettingsLayout::for_sdk(sdk);
        let main = if flags & 1 != 0 { seal(&main, layout) } else { main.clone() };
        let backup = if flags & 2 != 0 { seal(&backup, layout) } else { backup.clone() };
        let r = settings_init(sdk, &main, &backup).expect("whole pages never fail");
        let bytes = r.settings.encode();
        assert_eq!(r.settings.layout(), SettingsLayout::for_sdk(sdk));
        if let Some(w) = &r.main_page_write {
            assert_eq!(w, &bytes);
        }
        if let Some(w) = &r.backup_page_write {
            assert_eq!(w, &bytes);
        }
        if r.settings.crc != 0xFFFF_FFFF {
            assert!(crc_ok(&bytes), "{sdk}: {:?}", r.outcome);
        }
        // Running init again on what was written changes nothing more (15.3+ writes both pages).
        if sdk >= SdkVersion::Sdk15_3 && r.settings.crc != 0xFFFF_FFFF {
            let again = settings_init(sdk, &r.settings.encode_page(), &r.settings.encode_page()).unwrap();
            assert_eq!(again.settings, r.settings, "{sdk}");
            assert!(again.main_page_write.is_none() && again.backup_page_write.is_none());
        }
    }

    // Display path: the input as Intel HEX text.
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(segments) = parse_intel_hex(text) {
            if let Ok(pages) = locate_settings(&segments, None) {
                if let Ok(report) = SettingsReport::new(&pages, None) {
                    let _ = report.to_text("fuzz.hex");
                }
            }
        }
    }
});
