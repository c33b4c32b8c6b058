//! The iteration order of a CPython 3.x `set` of small integers.
//!
//! nrfutil de-duplicates `sd_req` with `list(set(sd_req))` and merges `--sd-id` into it with
//! `sd_req_list += set(sd_id_list) - set(sd_req_list)`, so the order of the values in the init
//! packet is CPython's hash-table order (e.g. `[0x91, 0x8C, 0xFFFE]` for `--sd-req
//! 0x8C,0x91,0xFFFE`). To produce the same bytes as nrfutil, this replays `Objects/setobject.c`
//! (3.7 to 3.12: 8-slot start, 9 linear probes, perturbed jumps, resize at 3/5 fill) for int
//! keys, whose hash is the value itself.

const MIN_SIZE: usize = 8;
const LINEAR_PROBES: usize = 9;
const PERTURB_SHIFT: u32 = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Empty,
    Dummy,
    Active(u64),
}

#[derive(Debug, Clone)]
pub(crate) struct PySet {
    table: Vec<Slot>,
    fill: usize,
    used: usize,
}

impl PySet {
    fn with_size(size: usize) -> PySet {
        PySet {
            table: vec![Slot::Empty; size],
            fill: 0,
            used: 0,
        }
    }

    fn mask(&self) -> usize {
        self.table.len() - 1
    }

    /// `set(iterable)` for a list.
    pub(crate) fn from_list(values: &[u32]) -> PySet {
        let mut s = PySet::with_size(MIN_SIZE);
        for v in values {
            s.add(*v as u64);
        }
        s
    }

    /// Iteration order (`set_next`: table order, skipping empty and dummy slots).
    pub(crate) fn to_list(&self) -> Vec<u32> {
        self.table
            .iter()
            .filter_map(|s| match s {
                Slot::Active(k) => Some(*k as u32),
                _ => None,
            })
            .collect()
    }

    fn contains(&self, key: u64) -> bool {
        self.table.contains(&Slot::Active(key))
    }

    /// The probe sequence shared by `set_add_entry` and `set_insert_clean`: `hash & mask`,
    /// then up to 9 following slots if they fit, then a perturbed jump.
    fn probe(mask: usize, hash: u64, mut visit: impl FnMut(usize) -> bool) {
        let mut perturb = hash;
        let mut i = (hash as usize) & mask;
        loop {
            if visit(i) {
                return;
            }
            if i + LINEAR_PROBES <= mask {
                for j in 1..=LINEAR_PROBES {
                    if visit(i + j) {
                        return;
                    }
                }
            }
            perturb >>= PERTURB_SHIFT;
            i = (i
                .wrapping_mul(5)
                .wrapping_add(1)
                .wrapping_add(perturb as usize))
                & mask;
        }
    }

    /// `set_add_entry` for a key not present: first empty slot on the probe path (dummies
    /// are reused only by sets that had deletions, which nrfutil's never do before adding).
    fn add(&mut self, key: u64) {
        if self.contains(key) {
            return;
        }
        let mask = self.mask();
        let mut at = None;
        let mut freeslot = None;
        let table = &self.table;
        PySet::probe(mask, key, |i| match table[i] {
            Slot::Empty => {
                at = Some(i);
                true
            }
            Slot::Dummy => {
                freeslot.get_or_insert(i);
                false
            }
            Slot::Active(_) => false,
        });
        if let Some(i) = freeslot {
            self.table[i] = Slot::Active(key);
            self.used += 1;
            return;
        }
        let Some(i) = at else { return };
        self.table[i] = Slot::Active(key);
        self.fill += 1;
        self.used += 1;
        if self.fill * 5 >= mask * 3 {
            let minused = if self.used > 50_000 {
                self.used * 2
            } else {
                self.used * 4
            };
            self.resize(minused);
        }
    }

    /// `set_insert_clean`: into a table known to have no dummies and no equal key.
    fn insert_clean(table: &mut [Slot], key: u64) {
        let mask = table.len() - 1;
        let mut at = 0;
        PySet::probe(mask, key, |i| {
            at = i;
            table[i] == Slot::Empty
        });
        table[at] = Slot::Active(key);
    }

    /// `set_table_resize`: smallest power of two above `minused`, keys re-inserted in old order.
    fn resize(&mut self, minused: usize) {
        let mut size = MIN_SIZE;
        while size <= minused {
            size <<= 1;
        }
        let old = std::mem::replace(&mut self.table, vec![Slot::Empty; size]);
        for s in old {
            if let Slot::Active(k) = s {
                PySet::insert_clean(&mut self.table, k);
            }
        }
        self.fill = self.used;
    }

    /// `set_discard_entry`: leaves a dummy.
    fn discard(&mut self, key: u64) {
        if let Some(i) = self.table.iter().position(|s| *s == Slot::Active(key)) {
            self.table[i] = Slot::Dummy;
            self.used -= 1;
        }
    }

    /// `set_merge` into a fresh empty set (`set_copy`).
    fn copy(&self) -> PySet {
        let mut s = PySet::with_size(MIN_SIZE);
        if self.used == 0 {
            return s;
        }
        if self.used * 5 >= s.mask() * 3 {
            s.resize(self.used * 2);
        }
        if s.table.len() == self.table.len() && self.fill == self.used {
            s.table = self.table.clone();
        } else {
            for slot in &self.table {
                if let Slot::Active(k) = slot {
                    PySet::insert_clean(&mut s.table, *k);
                }
            }
        }
        s.fill = self.used;
        s.used = self.used;
        s
    }

    /// `self - other` (`set_difference`, including its copy-then-discard shortcut when `self`
    /// is more than four times larger).
    pub(crate) fn difference(&self, other: &PySet) -> PySet {
        if (self.used >> 2) > other.used {
            let mut result = self.copy();
            for slot in &other.table {
                if let Slot::Active(k) = slot {
                    result.discard(*k);
                }
            }
            return result;
        }
        let mut result = PySet::with_size(MIN_SIZE);
        for slot in &self.table {
            if let Slot::Active(k) = slot {
                if !other.contains(*k) {
                    result.add(*k);
                }
            }
        }
        result
    }
}

/// `list(set(values))`.
pub(crate) fn dedup_like_python(values: &[u32]) -> Vec<u32> {
    PySet::from_list(values).to_list()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (input, `list(set(input))`) from CPython 3.10.
    #[test]
    fn matches_cpython_set_order() {
        for (input, want) in CPYTHON_SET_CASES {
            assert_eq!(dedup_like_python(input), *want, "list(set({input:?}))");
        }
    }

    /// (sd_req, sd_id, `sd_req + list(set(sd_id) - set(sd_req))`) from CPython 3.10.
    #[test]
    fn matches_cpython_difference_order() {
        for (a, b, want) in CPYTHON_DIFF_CASES {
            let mut got = a.to_vec();
            got.extend(
                PySet::from_list(b)
                    .difference(&PySet::from_list(a))
                    .to_list(),
            );
            assert_eq!(got, *want, "{a:?} += set({b:?}) - set({a:?})");
        }
    }

    include!("pyset_cases.rs");
}
