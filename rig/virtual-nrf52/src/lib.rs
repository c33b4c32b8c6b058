//! A virtual nRF52832 (flash, UICR, FICR, POWER, MBR, SoftDevice recognition and the Secure DFU
//! bootloader model) that stands in for a real board on the rig's virtual bench.
