//! Images and packages of a campaign: files named in the suite (relative to it) or stand-ins
//! built for the DUT's chip, and the DFU packages made from them with the version an iteration
//! asks for, signed with the bench key. Both are cached: a soak re-sends the same two images.

use super::error::RunError;
use crate::campaign::suite::image_ref::StandIn;
use crate::campaign::suite::ImageRef;
use crate::sim::images::{sample_app, APP_A_SIZE, APP_B_SIZE, SAMPLE_APP_BASE};
use nrf_dfu::client::DfuImage;
use nrf_dfu::image::parse_elf;
use nrf_dfu::image::{parse_intel_hex, Firmware, ImageFormat, Segments};
use nrf_dfu::package::{generate_package, GenerateOptions, ImageInput, Package};
use nrf_dfu::signing::SigningKey;
use nrf_dfu::Chip;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use virtual_nrf52::descriptor::MbrDescriptor;
use virtual_nrf52::softdevice::stand_in_by_name;
use virtual_nrf52::standin::{self, DEFAULT_BOOTLOADER_SIZE};

/// Packages kept at once: a soak alternates two; sweeps over versions would otherwise grow.
const PACKAGE_CACHE: usize = 16;

/// What a dfu step sends, ready for the client, with what the oracle compares against.
#[derive(Debug)]
pub struct Prepared {
    pub images: Vec<DfuImage>,
    /// The application firmware (what bank 0 must hold afterwards), when the package has one.
    pub app_firmware: Option<Vec<u8>>,
    /// The application version in the init packet.
    pub app_version: Option<u32>,
    pub bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PackageKey {
    pub image: ImageRef,
    pub version: u32,
    pub sd_req: Vec<u16>,
    pub debug: bool,
}

pub struct ImageStore {
    suite_dir: PathBuf,
    chip: Chip,
    key: SigningKey,
    public_key: [u8; 64],
    hw_version: u32,
    /// Where stand-in applications are linked: the end of the SoftDevice last flashed.
    app_base: u32,
    segments: HashMap<ImageRef, Rc<Segments>>,
    /// The `.bin` of each image packaged so far: every version of a package starts from it.
    firmware: HashMap<ImageRef, Result<Rc<Firmware>, nrf_dfu::image::FirmwareError>>,
    packages: HashMap<PackageKey, Rc<Prepared>>,
    files: HashMap<PathBuf, Rc<Prepared>>,
}

fn image_err(path: impl Into<String>, message: impl ToString) -> RunError {
    RunError::Image {
        path: path.into(),
        message: message.to_string(),
    }
}

impl ImageStore {
    pub fn new(suite_dir: &Path, chip: Chip, key: SigningKey) -> ImageStore {
        let public_key = key.public_key().to_pk64();
        ImageStore {
            suite_dir: suite_dir.to_path_buf(),
            chip,
            key,
            public_key,
            hw_version: 52,
            app_base: SAMPLE_APP_BASE,
            segments: HashMap::new(),
            firmware: HashMap::new(),
            packages: HashMap::new(),
            files: HashMap::new(),
        }
    }

    pub fn chip(&self) -> Chip {
        self.chip
    }

    /// Link stand-in applications at `base` from now on. What was built for the old base goes:
    /// a suite whose cases flash different SoftDevices (interrupt-recovery: S132 3.0.0, 6.1.1,
    /// 7.2.0) would otherwise flash `app-a` linked for the previous SoftDevice over the new one.
    fn move_app_base(&mut self, base: u32) {
        if base == self.app_base {
            return;
        }
        self.app_base = base;
        let is_app = |r: &ImageRef| matches!(r, ImageRef::StandIn(StandIn::App(_)));
        self.segments.retain(|r, _| !is_app(r));
        self.firmware.retain(|r, _| !is_app(r));
        self.packages.retain(|k, _| !is_app(&k.image));
    }

    /// The segments to program for `r`.
    pub fn segments(&mut self, r: &ImageRef) -> Result<Rc<Segments>, RunError> {
        if let ImageRef::StandIn(StandIn::SoftDevice(v)) = r {
            if let Some(sd) = stand_in_by_name(v) {
                self.move_app_base(sd.info.end_address);
            }
        }
        let segs = match self.segments.get(r) {
            Some(s) => s.clone(),
            None => Rc::new(match r {
                ImageRef::File(p) => self.file_segments(p)?,
                ImageRef::StandIn(s) => self.standin_segments(*s)?,
            }),
        };
        if let ImageRef::File(_) = r {
            // A SoftDevice file moves bank 0 for stand-in apps too: read its info struct.
            if let Some(sd) = softdevice_end(&segs) {
                self.move_app_base(sd);
            }
        }
        self.segments.insert(r.clone(), segs.clone());
        Ok(segs)
    }

    fn file_segments(&self, p: &Path) -> Result<Segments, RunError> {
        let path = self.suite_dir.join(p);
        let shown = path.display().to_string();
        let bytes = std::fs::read(&path).map_err(|e| image_err(&shown, e))?;
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        match ImageFormat::detect(name, &bytes) {
            ImageFormat::Elf => parse_elf(&bytes).map_err(|e| image_err(&shown, e)),
            ImageFormat::IntelHex => {
                let text = std::str::from_utf8(&bytes)
                    .map_err(|_| image_err(&shown, "Intel HEX is not text"))?;
                parse_intel_hex(text).map_err(|e| image_err(&shown, e))
            }
            ImageFormat::Bin => Err(image_err(
                &shown,
                "a raw .bin has no address: give an Intel HEX or ELF file",
            )),
        }
    }

    fn standin_segments(&self, s: StandIn) -> Result<Segments, RunError> {
        let name = format!("standin:{s}");
        let build = |e: standin::BuildError| image_err(&name, e);
        let runs: Vec<(u32, Vec<u8>)> = match s {
            StandIn::Mbr => vec![(0, standin::mbr_image(&MbrDescriptor::SDK17))],
            StandIn::SoftDevice(v) => {
                let sd = stand_in_by_name(v)
                    .ok_or_else(|| image_err(&name, "no such stand-in SoftDevice"))?;
                standin::softdevice_hex_segments(&sd)
            }
            StandIn::Bootloader {
                sdk,
                transport,
                save_progress,
            } => {
                let mut desc =
                    crate::sim::images::bootloader_descriptor(sdk, transport, self.public_key);
                desc.save_progress_in_flash = save_progress;
                standin::bootloader_segments(&desc, self.chip, DEFAULT_BOOTLOADER_SIZE)
                    .map_err(build)?
            }
            StandIn::App(c) => {
                let version = s.app_version().unwrap_or(1);
                let size = if c == 'a' { APP_A_SIZE } else { APP_B_SIZE };
                let img = standin::app_image(&sample_app(version), self.chip, self.app_base, size)
                    .map_err(build)?;
                vec![(self.app_base, img)]
            }
        };
        Segments::from_runs(runs.iter().map(|(a, d)| (*a, d.as_slice())))
            .map_err(|e| image_err(&name, e))
    }

    /// The application firmware of `r` as nrfutil puts it in a package (the `.bin`).
    pub fn firmware(&mut self, r: &ImageRef) -> Result<Firmware, RunError> {
        let segs = self.segments(r)?;
        Firmware::from_segments(&segs).map_err(|e| image_err(r.to_string(), e))
    }

    /// A signed application package of `key.image` at `key.version`.
    pub fn package(&mut self, key: &PackageKey) -> Result<Rc<Prepared>, RunError> {
        if let Some(p) = self.packages.get(key) {
            return Ok(p.clone());
        }
        let built = |e: &dyn std::fmt::Display| {
            image_err(key.image.to_string(), format!("building the package: {e}"))
        };
        // The image stays in memory: the package is the one its HEX file would give
        // (`ImageInput::firmware`), without writing and parsing the text for every version.
        let firmware = match self.firmware.get(&key.image) {
            Some(f) => f.clone(),
            None => {
                let segs = self.segments(&key.image)?;
                let f = Firmware::from_segments(&segs).map(Rc::new);
                self.firmware.insert(key.image.clone(), f.clone());
                f
            }
        };
        // The file name the package's `.bin` and `.dat` are named after.
        const NAME: &str = "app.hex";
        let firmware = firmware.map_err(|e| built(&format!("{NAME}: {e}")))?;
        let generated = generate_package(GenerateOptions {
            hw_version: Some(self.hw_version),
            application: Some(ImageInput::firmware(NAME, (*firmware).clone())),
            application_version: Some(key.version),
            sd_req: Some(key.sd_req.iter().map(|&v| u32::from(v)).collect()),
            key: Some(self.key.clone()),
            debug_mode: key.debug,
            ..Default::default()
        })
        .map_err(|e| built(&e))?;
        let prepared = Rc::new(prepare(&generated.package, Some(key.version)));
        if self.packages.len() >= PACKAGE_CACHE {
            self.packages.clear();
        }
        self.packages.insert(key.clone(), prepared.clone());
        Ok(prepared)
    }

    /// A prebuilt package file named in the suite.
    pub fn package_file(&mut self, p: &Path) -> Result<Rc<Prepared>, RunError> {
        let path = self.suite_dir.join(p);
        if let Some(pr) = self.files.get(&path) {
            return Ok(pr.clone());
        }
        let shown = path.display().to_string();
        let bytes = std::fs::read(&path).map_err(|e| image_err(&shown, e))?;
        let package = Package::from_zip(&bytes).map_err(|e| image_err(&shown, e))?;
        let pr = Rc::new(prepare(&package, None));
        self.files.insert(path, pr.clone());
        Ok(pr)
    }
}

fn prepare(package: &Package, version: Option<u32>) -> Prepared {
    let images = DfuImage::from_package(package);
    let app = package
        .images()
        .iter()
        .find(|i| i.kind == nrf_dfu::package::ImageKind::Application);
    let bytes = images.iter().map(|i| i.firmware.len() as u64).sum();
    Prepared {
        app_firmware: app.map(|a| a.firmware.clone()),
        app_version: version.or_else(|| app.and_then(|a| a.init_packet.init_command().fw_version)),
        images,
        bytes,
    }
}

/// The end of a SoftDevice in `segs` (its info struct), if it holds one.
fn softdevice_end(segs: &Segments) -> Option<u32> {
    use nrf_dfu::memory_map::{SoftDeviceInfo, SOFTDEVICE_START};
    let head: Vec<u8> = (0..0x3100u32)
        .map(|o| segs.get(o).unwrap_or(0xFF))
        .collect();
    SoftDeviceInfo::parse(&head, 0)
        .filter(|_| segs.get(SOFTDEVICE_START).is_some())
        .map(|sd| sd.end_address)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::images::TEST_KEY_PEM;
    use nrf_dfu::image::write_intel_hex;

    /// The store's packages (from the image in memory) are the ones the old path made by
    /// writing the image as Intel HEX and generating from the file's bytes, byte for byte.
    #[test]
    fn packages_from_memory_are_the_hex_files_packages() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../firmware/sim");
        let key = SigningKey::from_pem(TEST_KEY_PEM).unwrap();
        let mut store = ImageStore::new(&dir, Chip::Nrf52832Qfaa, key.clone());
        for (image, version, sd_req, debug) in [
            ("app-a.hex", 1, vec![0x101], false),
            ("app-b.hex", 2, vec![0x101, 0x8C], false),
            ("app-a.hex", 77, vec![0xFFFE], true),
        ] {
            let r = ImageRef::File(image.into());
            let pk = PackageKey {
                image: r.clone(),
                version,
                sd_req: sd_req.clone(),
                debug,
            };
            let got = store.package(&pk).unwrap();
            let hex = write_intel_hex(&store.segments(&r).unwrap());
            let want = generate_package(GenerateOptions {
                hw_version: Some(52),
                application: Some(ImageInput::file("app.hex", hex.into_bytes())),
                application_version: Some(version),
                sd_req: Some(sd_req.iter().map(|&v| u32::from(v)).collect()),
                key: Some(key.clone()),
                debug_mode: debug,
                ..Default::default()
            })
            .unwrap();
            let want = prepare(&want.package, Some(version));
            assert_eq!(got.images, want.images, "{image} version {version}");
            assert!(got.images[0].firmware.len() > 1000);
            assert_eq!(got.app_firmware, want.app_firmware);
            assert_eq!((got.app_version, got.bytes), (want.app_version, want.bytes));
        }
    }
}
