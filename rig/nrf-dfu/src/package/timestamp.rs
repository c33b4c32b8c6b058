//! Wall-clock time as a zip entry stores it (MS-DOS date and time, no time zone).

/// A calendar date and time of day, in whatever zone the caller chose (nrfutil: local time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct CivilTime {
    pub year: u16,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
}

impl CivilTime {
    /// The UTC calendar time of a Unix timestamp (for `SOURCE_DATE_EPOCH`).
    pub fn from_unix_utc(secs: i64) -> CivilTime {
        let days = secs.div_euclid(86_400);
        let tod = secs.rem_euclid(86_400);
        // Howard Hinnant's days-to-civil algorithm.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = yoe + era * 400 + i64::from(month <= 2);
        CivilTime {
            year: year.clamp(0, u16::MAX as i64) as u16,
            month,
            day,
            hour: (tod / 3600) as u8,
            minute: (tod % 3600 / 60) as u8,
            second: (tod % 60) as u8,
        }
    }

    /// MS-DOS (date, time) words as Python's `zipfile` writes them: seconds halved (rounded
    /// down), years clamped to the format's 1980..=2107.
    pub fn to_dos(self) -> (u16, u16) {
        let year = self.year.clamp(1980, 2107);
        let date = ((year - 1980) << 9) | ((self.month as u16) << 5) | self.day as u16;
        let time =
            ((self.hour as u16) << 11) | ((self.minute as u16) << 5) | (self.second as u16 / 2);
        (date, time)
    }

    /// Inverse of [`CivilTime::to_dos`] (seconds come back even).
    pub fn from_dos(date: u16, time: u16) -> CivilTime {
        CivilTime {
            year: 1980 + (date >> 9),
            month: ((date >> 5) & 0x0F) as u8,
            day: (date & 0x1F) as u8,
            hour: (time >> 11) as u8,
            minute: ((time >> 5) & 0x3F) as u8,
            second: ((time & 0x1F) * 2) as u8,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_to_civil() {
        assert_eq!(
            CivilTime::from_unix_utc(0),
            CivilTime {
                year: 1970,
                month: 1,
                day: 1,
                hour: 0,
                minute: 0,
                second: 0
            }
        );
        // 2026-11-24T10:08:48Z, the fixtures' zip timestamp.
        let t = CivilTime::from_unix_utc(1_795_514_928);
        assert_eq!(
            t,
            CivilTime {
                year: 2026,
                month: 11,
                day: 24,
                hour: 10,
                minute: 8,
                second: 48
            }
        );
        assert_eq!(t.to_dos(), (0x5D78, 0x5118));
        assert_eq!(CivilTime::from_dos(0x5D78, 0x5118), t);
        assert_eq!(CivilTime::from_unix_utc(951_782_400).day, 29); // 2000-02-29
    }

    proptest::proptest! {
        #[test]
        fn dos_round_trip(secs in 315_532_800i64..4_354_819_199) {
            let t = CivilTime::from_unix_utc(secs);
            let even = CivilTime { second: t.second / 2 * 2, ..t };
            proptest::prop_assert_eq!(CivilTime::from_dos(t.to_dos().0, t.to_dos().1), even);
        }
    }
}
