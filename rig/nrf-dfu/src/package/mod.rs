//! DFU packages (.zip) as nrfutil 6.1.7 writes and reads them (facts §5.1).

mod timestamp;

pub use timestamp::CivilTime;
