//! Property values with the exact D-Bus types bluetoothd uses. bluez-async (through
//! bluez-generated's typed getters) ignores a property whose variant holds another type, and
//! drops an object whose required property is missing (bluez-async 0.9 `DeviceInfo::
//! from_properties`, `AdapterInfo::from_properties`, `CharacteristicInfo::from_properties`), so
//! every value here is typed, never a generic variant.

use dbus::arg::IterAppend;
use dbus::strings::Signature;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// `s`
    Str(String),
    /// `b`
    Bool(bool),
    /// `n` (RSSI, TxPower)
    I16(i16),
    /// `q` (MTU, Handle, Appearance)
    U16(u16),
    /// `u` (Class, timeouts)
    U32(u32),
    /// `o`
    Path(String),
    /// `ay`
    Bytes(Vec<u8>),
    /// `as`
    Strs(Vec<String>),
    /// `ao`
    Paths(Vec<String>),
    /// `a{qv}` with `ay` values (ManufacturerData)
    Manufacturer(BTreeMap<u16, Vec<u8>>),
    /// `a{sv}` with `ay` values (ServiceData)
    ServiceData(BTreeMap<String, Vec<u8>>),
}

impl Value {
    pub fn str(s: impl Into<String>) -> Value {
        Value::Str(s.into())
    }

    pub fn signature(&self) -> &'static str {
        match self {
            Value::Str(_) => "s",
            Value::Bool(_) => "b",
            Value::I16(_) => "n",
            Value::U16(_) => "q",
            Value::U32(_) => "u",
            Value::Path(_) => "o",
            Value::Bytes(_) => "ay",
            Value::Strs(_) => "as",
            Value::Paths(_) => "ao",
            Value::Manufacturer(_) => "a{qv}",
            Value::ServiceData(_) => "a{sv}",
        }
    }

    /// Append as the body of a variant (the caller opened it with [`Value::signature`]).
    fn append_inner(&self, ia: &mut IterAppend) {
        match self {
            Value::Str(s) => ia.append(s.as_str()),
            Value::Bool(b) => ia.append(*b),
            Value::I16(v) => ia.append(*v),
            Value::U16(v) => ia.append(*v),
            Value::U32(v) => ia.append(*v),
            Value::Path(p) => ia.append(dbus::Path::from(p.as_str())),
            Value::Bytes(b) => ia.append(b.as_slice()),
            Value::Strs(v) => ia.append(v.clone()),
            Value::Paths(v) => ia.append(
                v.iter()
                    .map(|p| dbus::Path::from(p.as_str()))
                    .collect::<Vec<_>>(),
            ),
            Value::Manufacturer(m) => {
                ia.append_dict(&sig("q"), &sig("v"), |d| {
                    for (k, v) in m {
                        d.append_dict_entry(|e| {
                            e.append(*k);
                            e.append_variant(&sig("ay"), |x| x.append(v.as_slice()));
                        });
                    }
                });
            }
            Value::ServiceData(m) => {
                ia.append_dict(&sig("s"), &sig("v"), |d| {
                    for (k, v) in m {
                        d.append_dict_entry(|e| {
                            e.append(k.as_str());
                            e.append_variant(&sig("ay"), |x| x.append(v.as_slice()));
                        });
                    }
                });
            }
        }
    }

    /// Append as a variant `v`.
    pub fn append_variant(&self, ia: &mut IterAppend) {
        ia.append_variant(&sig(self.signature()), |i| self.append_inner(i));
    }
}

pub(crate) fn sig(s: &'static str) -> Signature<'static> {
    Signature::from(s)
}

/// Properties of one interface.
pub type Props = BTreeMap<&'static str, Value>;

/// Append `a{sv}`.
pub fn append_props<'a, I>(ia: &mut IterAppend, props: I)
where
    I: IntoIterator<Item = (&'a &'static str, &'a Value)>,
{
    ia.append_dict(&sig("s"), &sig("v"), |d| {
        for (k, v) in props {
            d.append_dict_entry(|e| {
                e.append(*k);
                v.append_variant(e);
            });
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use dbus::arg::{PropMap, RefArg};
    use dbus::Message;

    #[test]
    fn typed_variants_read_back_as_bluez_async_expects() {
        let mut m = Message::new_signal("/", "a.b", "C").unwrap();
        let mut props = Props::new();
        props.insert("RSSI", Value::I16(-48));
        props.insert("MTU", Value::U16(247));
        props.insert(
            "ManufacturerData",
            Value::Manufacturer([(0x0059, vec![1, 2])].into()),
        );
        props.insert("UUIDs", Value::Strs(vec!["x".into()]));
        append_props(&mut IterAppend::new(&mut m), props.iter());
        let map: PropMap = m.read1().unwrap();
        assert_eq!(map["RSSI"].0.as_i64(), Some(-48));
        assert_eq!(map["RSSI"].0.signature().to_string(), "n");
        assert_eq!(map["MTU"].0.signature().to_string(), "q");
        assert_eq!(map["ManufacturerData"].0.signature().to_string(), "a{qv}");
        assert_eq!(map["UUIDs"].0.signature().to_string(), "as");
    }
}
