//! The mesh being built, and the incremental vertex table behind [`super::Welder::vertex`].

use super::local::Local;
use super::{Key, WINDOW, WeldMode, WeldStats, hash, slot_of};
use crate::mesh::Mesh;

/// A slot is never all ones: ids stay below three quarters of the slot count (see [`Global::vertex`]).
const EMPTY_SLOT: u32 = u32::MAX;

#[derive(Debug)]
pub(super) struct Global {
    mode: WeldMode,
    /// Open addressing, linear probing; a slot holds [`EMPTY_SLOT`] or `tag << bits | vertex id` (2^bits
    /// slots, so an id fits in `bits`), where the tag is the key's low hash bits: a probe passes most
    /// other keys without reading their positions, and 4-byte slots keep the table small (16 MB for 3M
    /// triangles, half of what 8-byte slots at the same load took), so fewer of its random accesses
    /// miss the caches and the TLB. Sized on first use.
    pub slots: Vec<u32>,
    vertices_hint: usize,
    /// `mesh.triangles` is a zeroed buffer, longer than what is written (its untouched pages cost
    /// nothing), so the next batch's part can be faulted in on another core; this many are written.
    pub triangles: usize,
    pub mesh: Mesh,
    pub stats: WeldStats,
}

/// Makes `buffer` hold at least `n` triangles, doubling so one-at-a-time growth stays amortized.
pub(super) fn room_for(buffer: &mut Vec<[u32; 3]>, n: usize) {
    if buffer.len() < n {
        buffer.resize(n.max(2 * buffer.len()), [0; 3]);
    }
}

/// The tag bits of a hash for a table of 2^bits slots; zero bits when ids need all 32.
fn tag_of(h: u64, bits: u32) -> u32 {
    (h as u32).checked_shl(bits).unwrap_or(0)
}

fn id_mask(bits: u32) -> u32 {
    u32::MAX >> (32 - bits)
}

impl Global {
    pub fn new(mode: WeldMode, triangles_hint: usize) -> Self {
        // A closed mesh has about half as many vertices as triangles; reserving for that avoids regrowing
        // without ever sizing memory by more than the input justifies.
        let vertices_hint = triangles_hint / 2 + 16;
        Global {
            mode,
            slots: Vec::new(),
            vertices_hint,
            triangles: 0,
            mesh: Mesh {
                positions: Vec::with_capacity(vertices_hint),
                // Zeroed memory comes from the system untouched: a page is faulted in when written.
                triangles: vec![[0; 3]; triangles_hint],
            },
            stats: WeldStats::default(),
        }
    }

    fn bits(&self) -> u32 {
        self.slots.len().trailing_zeros()
    }

    /// The position a new vertex gets: exact welding stores `-0.0` as `0.0`, so a vertex is its key.
    pub fn stored(mode: WeldMode, p: [f64; 3]) -> [f64; 3] {
        match mode {
            WeldMode::Exact => p.map(|x| x + 0.0),
            WeldMode::Tolerance(_) => p,
        }
    }

    pub fn vertex(&mut self, k: Key, p: [f64; 3]) -> u32 {
        self.ensure_table();
        let (bits, mask) = (self.bits(), self.slots.len() - 1);
        let h = hash(k);
        let tag = tag_of(h, bits);
        let mut s = slot_of(h, bits);
        loop {
            let slot = self.slots[s];
            if slot == EMPTY_SLOT {
                let id = self.mesh.positions.len() as u32;
                self.slots[s] = tag | id;
                self.mesh.positions.push(Self::stored(self.mode, p));
                // Keep the load at most three quarters: probe runs stay short (a cache line holds 16
                // slots), and ids stay below 2^bits - 1, so no entry is all ones.
                if self.mesh.positions.len() * 4 > self.slots.len() * 3 {
                    self.rebuild(bits + 1);
                }
                return id;
            }
            // The key is recomputed from the stored position: the table need not hold keys at all.
            let id = slot & id_mask(bits);
            if slot & !id_mask(bits) == tag && self.mode.key(self.mesh.positions[id as usize]) == k
            {
                return id;
            }
            s = (s + 1) & mask;
        }
    }

    fn ensure_table(&mut self) {
        if self.slots.is_empty() {
            // Sized for load 3/8 at the expected vertex count: linear probe runs stay about one slot
            // (at 3/4 they averaged several and the merge was ~6% slower); the table is freed before
            // measuring, so it does not raise the analysis's peak.
            let need = self.vertices_hint * 8 / 3 + 1;
            self.rebuild(need.next_power_of_two().trailing_zeros().max(4));
        }
    }

    fn rebuild(&mut self, bits: u32) {
        use rayon::prelude::*;
        let mask = (1usize << bits) - 1;
        // Filled on every core: the first fill is 16 MB for 3M triangles, and fresh memory costs a page
        // fault per 4 KiB.
        self.slots = Vec::new();
        self.slots
            .par_extend(rayon::iter::repeat_n(EMPTY_SLOT, 1 << bits));
        for (id, &p) in self.mesh.positions.iter().enumerate() {
            let h = hash(self.mode.key(p));
            let mut s = slot_of(h, bits);
            while self.slots[s] != EMPTY_SLOT {
                s = (s + 1) & mask;
            }
            self.slots[s] = tag_of(h, bits) | id as u32;
        }
    }

    /// Loads the slot each key will probe first, all at once. The loads are independent, so the core
    /// overlaps their cache misses instead of waiting for each in turn inside [`Global::vertex`], whose
    /// inserts make it serial. (A prefetch without `unsafe` intrinsics.)
    pub fn touch(&mut self, keys: &[Key]) {
        debug_assert!(keys.len() <= WINDOW);
        self.ensure_table();
        let bits = self.bits();
        let sink = keys
            .iter()
            .fold(0u32, |acc, &k| acc ^ self.slots[slot_of(hash(k), bits)]);
        std::hint::black_box(sink);
    }

    /// Merges locally welded chunks in file order: their vertices one by one (the only serial step, since
    /// numbering is by first appearance), then their triangles in parallel into `out`, the space they
    /// will occupy in `mesh.triangles` (which the caller holds meanwhile; exactly their count).
    pub fn merge(&mut self, locals: &mut [Local], out: &mut [[u32; 3]]) {
        use rayon::prelude::*;
        // The first batch's merge has nothing to merge, but runs beside that batch's local weld: filling
        // the table there keeps its 16 MB off the serial path.
        self.ensure_table();
        for local in locals.iter_mut() {
            let mut remap = std::mem::take(&mut local.remap);
            remap.clear();
            for (w, keys) in local.keys.chunks(WINDOW).enumerate() {
                self.touch(keys);
                for (j, &k) in keys.iter().enumerate() {
                    remap.push(self.vertex(k, local.position(self.mode, w * WINDOW + j)));
                }
            }
            local.remap = remap;
            self.stats.input_triangles += local.triangles.len() as u64 + local.degenerate;
            self.stats.degenerate_dropped += local.degenerate;
        }
        self.triangles += out.len();
        let mut rest = out;
        let mut parts = Vec::with_capacity(locals.len());
        for local in locals.iter() {
            let (part, tail) = rest.split_at_mut(local.triangles.len());
            parts.push((part, local));
            rest = tail;
        }
        parts.into_par_iter().for_each(|(part, local)| {
            for (dst, t) in part.iter_mut().zip(&local.triangles) {
                *dst = t.map(|i| local.remap[i as usize]);
            }
        });
    }

    pub fn triangle(&mut self, t: [u32; 3]) {
        self.stats.input_triangles += 1;
        if t[0] == t[1] || t[1] == t[2] || t[0] == t[2] {
            self.stats.degenerate_dropped += 1;
        } else {
            room_for(&mut self.mesh.triangles, self.triangles + 1);
            self.mesh.triangles[self.triangles] = t;
            self.triangles += 1;
        }
    }
}
