//! Writing a package zip as nrfutil does.

use super::zipfile::write_stored_zip;
use super::{CivilTime, Package, ZipTooLarge};

impl Package {
    /// The zip nrfutil would write for these images, every entry stamped with `time`.
    ///
    /// Entry order: `manifest.json`, then each image's `.dat`, then each `.bin`, images in
    /// sending order. nrfutil adds its work directory in `os.listdir` order, which depends on
    /// the file system (ext4 hashes names); this fixed order is the one its `unsigned.zip`
    /// fixture shows, and makes the output reproducible.
    pub fn to_zip(&self, time: CivilTime) -> Result<Vec<u8>, ZipTooLarge> {
        let manifest = self.manifest().to_nrfutil_json();
        let mut entries: Vec<(&str, &[u8])> = vec![("manifest.json", manifest.as_bytes())];
        let dats: Vec<(String, Vec<u8>)> = self
            .images()
            .iter()
            .map(|i| (i.dat_file.clone(), i.init_packet.encode()))
            .collect();
        for (name, data) in &dats {
            entries.push((name, data));
        }
        for i in self.images() {
            entries.push((&i.bin_file, &i.firmware));
        }
        write_stored_zip(&entries, time)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::init_packet::{FwType, InitCommand, InitPacket};
    use crate::package::{ImageKind, PackageImage, SizeMetadata};
    use proptest::prelude::*;

    fn image(kind: ImageKind, name: &str, firmware: Vec<u8>, fw_version: u32) -> PackageImage {
        let init = InitCommand {
            fw_version: Some(fw_version),
            r#type: Some(FwType::Application as i32),
            ..Default::default()
        };
        PackageImage {
            kind,
            bin_file: format!("{name}.bin"),
            dat_file: format!("{name}.dat"),
            firmware,
            init_packet: InitPacket::new_unsigned(init),
            sd_bl_sizes: (kind == ImageKind::SoftdeviceBootloader).then_some(SizeMetadata {
                bl_size: 4,
                sd_size: 8,
            }),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        #[test]
        fn zip_round_trip(kinds in proptest::sample::subsequence(ImageKind::ALL.to_vec(), 1..=4),
                          fw in proptest::collection::vec(any::<u8>(), 0..3000),
                          version in any::<u32>(),
                          secs in 315_532_800i64..4_354_819_199) {
            let images = kinds.iter().enumerate().map(|(i, k)| image(*k, &format!("img{i}é"), fw.clone(), version)).collect();
            let pkg = Package::new(images).unwrap();
            let time = CivilTime::from_unix_utc(secs);
            let zip = pkg.to_zip(time).unwrap();
            let back = Package::from_zip(&zip).unwrap();
            prop_assert_eq!(&back, &pkg);
            prop_assert_eq!(back.to_zip(time).unwrap(), zip);
        }
    }
}
