//! Welding one chunk of single-precision corners (binary STL) with the keys inside the table's slots.
//!
//! Binary STL coordinates are `f32`. Two corners weld exactly when their `f32` bits are equal (after
//! `-0.0 == 0.0`), which is exactly when their `f64` conversions' bits are, so this produces the same
//! [`Local`] as [`Local::weld`] would from the converted corners, and the global merge cannot tell them
//! apart. A 16-byte slot holds the 12-byte key and the id, so a probe is one cache access where the
//! `f64` table needs two (slot, then key): the key compare was a quarter of the local weld's time.

use super::local::Local;
use super::{CHUNK, Key};

/// `[x, y, z, id]`; `id == EMPTY` marks a free slot.
type Slot = [u32; 4];
const EMPTY: u32 = u32::MAX;

thread_local! {
    /// Each rayon thread's table, reused from chunk to chunk.
    static SLOTS: std::cell::RefCell<Vec<Slot>> = const { std::cell::RefCell::new(Vec::new()) };
}

#[inline]
fn hash(k0: u32, k1: u32, k2: u32) -> u64 {
    // One multiply per coordinate, not the coordinates packed into a u64 first: packing made the
    // compiler spill them through the stack, and the reload stalled on store forwarding.
    let h = u64::from(k0).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ u64::from(k1).wrapping_mul(0xC2B2_AE3D_27D4_EB4F)
        ^ u64::from(k2).wrapping_mul(0x1656_67B1_9E37_79F9);
    (h ^ (h >> 29)).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// The `f64` key [`super::WeldMode::Exact`] gives the converted point.
fn wide(k0: u32, k1: u32, k2: u32) -> Key {
    [k0, k1, k2].map(|b| f64::from(f32::from_bits(b)).to_bits())
}

impl Local {
    /// Welds `range` (of at most [`CHUNK`] triangles) into this chunk's (reused) buffers; `Err` is the
    /// first triangle `corner` refused.
    pub fn weld_f32<F>(mut self, range: std::ops::Range<usize>, corner: &F) -> Result<Local, usize>
    where
        F: Fn(usize) -> Option<[[f32; 3]; 3]>,
    {
        debug_assert!(range.len() <= CHUNK);
        // Two slots a triangle: a chunk of a closed mesh has well under one distinct corner per triangle
        // (0.7 on the benchmark ring), so the load stays near 1/3; a chunk with more distinct corners
        // doubles the table (see `grow`).
        let bits = (range.len() * 2)
            .max(16)
            .next_power_of_two()
            .trailing_zeros();
        let mut slots = SLOTS.with(|s| s.take());
        slots.clear();
        slots.resize(1 << bits, [0, 0, 0, EMPTY]);
        self.clear();
        let result = self.fill_f32(range, corner, &mut slots);
        SLOTS.with(|s| s.replace(slots));
        result.map(|()| self)
    }

    fn fill_f32<F>(
        &mut self,
        range: std::ops::Range<usize>,
        corner: &F,
        slots: &mut Vec<Slot>,
    ) -> Result<(), usize>
    where
        F: Fn(usize) -> Option<[[f32; 3]; 3]>,
    {
        let mut bits = slots.len().trailing_zeros();
        for i in range {
            let c = corner(i).ok_or(i)?;
            let mut t = [0u32; 3];
            for (j, &[x, y, z]) in c.iter().enumerate() {
                // Adding 0.0 turns -0.0 into +0.0 so the two spellings of zero weld together. Kept as
                // three scalars, not an array: an array went through the stack and stalled the reload.
                let (k0, k1, k2) = (
                    (x + 0.0).to_bits(),
                    (y + 0.0).to_bits(),
                    (z + 0.0).to_bits(),
                );
                let mask = slots.len() - 1;
                let mut s = (hash(k0, k1, k2) >> (64 - bits)) as usize;
                t[j] = loop {
                    let slot = &mut slots[s];
                    if slot[3] == EMPTY {
                        let id = self.keys.len() as u32;
                        *slot = [k0, k1, k2, id];
                        self.keys.push(wide(k0, k1, k2));
                        break id;
                    }
                    if slot[0] == k0 && slot[1] == k1 && slot[2] == k2 {
                        break slot[3];
                    }
                    s = (s + 1) & mask;
                };
                if self.keys.len() * 4 > slots.len() * 3 {
                    bits += 1;
                    grow(slots, bits);
                }
            }
            if t[0] == t[1] || t[1] == t[2] || t[0] == t[2] {
                self.degenerate += 1;
            } else {
                self.triangles.push(t);
            }
        }
        Ok(())
    }
}

/// Doubles the table, re-inserting its entries.
fn grow(slots: &mut Vec<Slot>, bits: u32) {
    let old = std::mem::replace(slots, vec![[0, 0, 0, EMPTY]; 1 << bits]);
    let mask = slots.len() - 1;
    for slot in old.into_iter().filter(|s| s[3] != EMPTY) {
        let mut s = (hash(slot[0], slot[1], slot[2]) >> (64 - bits)) as usize;
        while slots[s][3] != EMPTY {
            s = (s + 1) & mask;
        }
        slots[s] = slot;
    }
}
