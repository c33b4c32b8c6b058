//! `standin:NAME` on the command line (`rig flash standin:s132-7.2.0`, `rig dfu --image
//! standin:app-b`): the stand-in images of `rig sim images`, built in memory, so the virtual
//! bench needs no file from the repository. Suites name the same images (`standin:NAME`), where
//! the campaign builds them for the DUT's chip and bench key instead.

use crate::sim::images::{image_set, ImagesError};

/// What marks a stand-in image on the command line and in suites.
pub const PREFIX: &str = "standin:";

/// A stand-in image could not be had.
#[derive(Debug, thiserror::Error)]
pub enum StandInError {
    #[error("unknown stand-in image `{name}`: expected one of {}", choices.join(", "))]
    Unknown { name: String, choices: Vec<String> },
    #[error("building the stand-in images: {0}")]
    Build(#[from] ImagesError),
}

/// The names `standin:NAME` accepts (the `rig sim images` files without `.hex`).
pub fn names() -> Result<Vec<String>, StandInError> {
    Ok(image_set()?
        .into_iter()
        .filter_map(|f| f.name.strip_suffix(".hex").map(str::to_string))
        .collect())
}

/// The Intel HEX text of `standin:NAME`, or `None` when `arg` does not name a stand-in.
pub fn hex_for(arg: &str) -> Option<Result<String, StandInError>> {
    let name = arg.strip_prefix(PREFIX)?;
    Some((|| {
        let files = image_set()?;
        let wanted = format!("{name}.hex");
        match files.iter().find(|f| f.name == wanted) {
            Some(f) => Ok(f.contents.clone()),
            None => Err(StandInError::Unknown {
                name: name.to_string(),
                choices: files
                    .iter()
                    .filter_map(|f| f.name.strip_suffix(".hex"))
                    .map(|n| format!("{PREFIX}{n}"))
                    .collect(),
            }),
        }
    })())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaign::suite::StandIn;

    #[test]
    fn the_command_line_and_suites_know_the_same_stand_ins() {
        assert_eq!(names().unwrap(), StandIn::all_names());
    }

    #[test]
    fn a_stand_in_is_the_file_rig_sim_images_writes() {
        let hex = hex_for("standin:app-b").unwrap().unwrap();
        let file = image_set()
            .unwrap()
            .into_iter()
            .find(|f| f.name == "app-b.hex")
            .unwrap();
        assert_eq!(hex, file.contents);
        assert!(hex_for("app-b.hex").is_none(), "a path is not a stand-in");
    }

    #[test]
    fn an_unknown_stand_in_lists_the_known_ones() {
        let e = hex_for("standin:app-z").unwrap().unwrap_err().to_string();
        assert!(
            e.contains("app-z") && e.contains("standin:s132-7.2.0"),
            "{e}"
        );
    }
}
