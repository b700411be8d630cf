//! Vertex welding: turns the corners the parsers emit into a shared-vertex mesh.
//!
//! Exact welding merges corners whose coordinates are bit-identical (after `-0.0 == 0.0`, and a vertex
//! is stored with `0.0`), which is what every exporter means by "the same vertex". Tolerance welding
//! snaps to a grid of the given size instead; two points closer than the tolerance but on opposite sides
//! of a grid line stay apart, which is the price of an O(1) lookup and is documented rather than hidden.
//!
//! Vertex numbering follows first appearance in the file, so the result is deterministic.
//!
//! Why it is built this way: welding is most of the cost of analysing a binary STL, and one big hash
//! table of every vertex is a cache (and, in a virtual machine, an expensive TLB) miss per corner.
//! Triangle soup from real exporters has locality (a vertex's six triangles are near each other in the
//! file), so corners are welded in two steps:
//! 1. *local* ([`local`]): a batch of triangles is cut into chunks of [`local::CHUNK`] triangles, and
//!    each chunk is welded against its own small table, which stays in the core's cache. Chunks are
//!    independent, so rayon welds them in parallel; each keeps its vertices in first-appearance order.
//! 2. *global* ([`global`]): the chunks' distinct vertices are looked up in the mesh's table strictly in
//!    chunk order, so global numbering is still by first appearance, whatever the thread count. The
//!    global merge of one batch runs while the next batch is welded locally.
//!
//! Parsers of indexed formats (OBJ, glTF) ask for vertex ids one point at a time instead, from the same
//! table, a window of points at a time.
//!
//! The table is filled beside the first batch's local weld, one chunk is batched first and last
//! ([`batches`]), the scratch memory is freed on another thread, and the pages of `mesh.triangles` the
//! next merge will write are faulted in beside the local weld: the serial merge sets the pace, and it
//! waits on cache misses. Alternatives measured and not kept are in `docs/performance-notes.md`.

mod global;
mod local;
mod local32;

use crate::mesh::Mesh;
use global::Global;
use local::{CHUNK, Local};

/// Triangles buffered before a batch is welded; several chunks, so both cores get work.
pub const BATCH: usize = 4 * CHUNK;
/// How a parser that hands the welder fixed-size records should cut `n` of them into batches: [`BATCH`]
/// at a time, except a single chunk first and last. The pipeline overlaps each batch's local weld with
/// the previous batch's merge, so the first batch's reading and the last batch's merge each leave a core
/// idle; one chunk keeps both short.
pub fn batches(n: u64) -> impl Iterator<Item = std::ops::Range<u64>> {
    let (chunk, batch) = (CHUNK as u64, BATCH as u64);
    let mut start = 0;
    std::iter::from_fn(move || {
        let remaining = n - start;
        let len = match remaining {
            0 => return None,
            r if start == 0 || r <= chunk => r.min(chunk),
            r if r > batch => batch,
            r => r - chunk,
        };
        start += len;
        Some(start - len..start)
    })
}

/// Keys whose table lines are loaded together before they are looked up; enough to keep a core's
/// outstanding misses busy.
pub(crate) const WINDOW: usize = 32;

/// What a vertex is compared by: the bits of its coordinates (exact) or its grid cell (tolerance).
type Key = [u64; 3];

/// How corners are merged into vertices.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum WeldMode {
    #[default]
    Exact,
    /// Snap to a grid of this many millimetres (in file units before scaling).
    Tolerance(f64),
}

impl WeldMode {
    #[inline]
    fn key(self, p: [f64; 3]) -> Key {
        match self {
            // Adding 0.0 turns -0.0 into +0.0 so the two spellings of zero weld together.
            WeldMode::Exact => p.map(|x| (x + 0.0).to_bits()),
            WeldMode::Tolerance(tol) => p.map(|x| (x / tol).round() as i64 as u64),
        }
    }
}

/// What welding did, for the analysis report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WeldStats {
    /// Triangles read from the file, before dropping degenerate ones.
    pub input_triangles: u64,
    /// Triangles dropped because two corners welded into the same vertex.
    pub degenerate_dropped: u64,
}

/// Accumulates triangles; the parsers' common sink.
#[derive(Debug)]
pub struct Welder {
    mode: WeldMode,
    global: Global,
    /// Triangles given one at a time by [`Welder::corners`], not yet welded.
    pending: Vec<[[f64; 3]; 3]>,
    /// Locally welded chunks waiting for the global merge, in file order.
    ready: Vec<Local>,
    /// Merged chunks whose buffers the next batch reuses: fresh memory costs a page fault per 4 KiB.
    spare: Vec<Local>,
    /// Names the file gives its parts, each from the triangle it starts at (see [`Welder::name_part`]).
    parts: Vec<PartName>,
}

/// A name the file gives the triangles from `first_triangle` up to the next part's start (an OBJ
/// group, a glTF node, a 3MF object): how a model says which body is a stone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartName {
    pub first_triangle: u32,
    pub name: String,
}

/// Names kept per model, and characters per name: a file cannot make the welder hold more than this.
pub const MAX_PART_NAMES: usize = 4096;
pub const MAX_PART_NAME_CHARS: usize = 80;

#[inline]
fn hash(k: Key) -> u64 {
    // Multiply-xor mixing: cheap, and the high bits (used for the slot) depend on every input bit.
    let h = (k[0].wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ k[1]).wrapping_mul(0xC2B2_AE3D_27D4_EB4F)
        ^ k[2];
    (h ^ (h >> 32)).wrapping_mul(0x1656_67B1_9E37_79F9)
}

fn slot_of(h: u64, bits: u32) -> usize {
    (h >> (64 - bits)) as usize
}

impl Welder {
    /// `triangles_hint` sizes the buffers; it must already be capped by the caller's limits.
    pub fn new(mode: WeldMode, triangles_hint: usize) -> Self {
        Welder {
            mode,
            global: Global::new(mode, triangles_hint),
            pending: Vec::new(),
            ready: Vec::new(),
            spare: Vec::new(),
            parts: Vec::new(),
        }
    }

    /// Names the triangles added from now on (until the next call). Pending triangles are welded first,
    /// so the part starts exactly at the next triangle kept; an empty name ends the previous part. Past
    /// [`MAX_PART_NAMES`] names further ones are ignored.
    pub fn name_part(&mut self, name: &str) {
        if self.parts.len() >= MAX_PART_NAMES {
            return;
        }
        self.flush();
        let first_triangle = self.global.triangles as u32;
        let name: String = name.trim().chars().take(MAX_PART_NAME_CHARS).collect();
        if let Some(last) = self.parts.last_mut()
            && last.first_triangle == first_triangle
        {
            // A part with no triangles (an empty group) names nothing.
            last.name = name;
            return;
        }
        self.parts.push(PartName {
            first_triangle,
            name,
        });
    }

    /// The part names recorded so far, in triangle order; call before [`Welder::finish`].
    pub fn take_parts(&mut self) -> Vec<PartName> {
        std::mem::take(&mut self.parts)
    }

    /// The vertex index for a point, creating it on first sight. The point must be finite.
    pub fn vertex(&mut self, p: [f64; 3]) -> u32 {
        self.flush();
        self.global.vertex(self.mode.key(p), p)
    }

    /// The vertex index of each point, appended to `out`; the same as calling [`Welder::vertex`] for each,
    /// but the table lines of a window of points are loaded together, so indexed formats (OBJ, glTF),
    /// whose points are mostly new, do not wait on one cache miss at a time.
    pub fn vertices(&mut self, points: &[[f64; 3]], out: &mut Vec<u32>) {
        self.flush();
        let mode = self.mode;
        let mut keys = [[0u64; 3]; WINDOW];
        for window in points.chunks(WINDOW) {
            for (k, &p) in keys.iter_mut().zip(window) {
                *k = mode.key(p);
            }
            let keys = &keys[..window.len()];
            self.global.touch(keys);
            out.extend(
                keys.iter()
                    .zip(window)
                    .map(|(&k, &p)| self.global.vertex(k, p)),
            );
        }
    }

    /// Add a triangle by welded vertex indices; a triangle that repeats a vertex is dropped and counted.
    pub fn triangle(&mut self, t: [u32; 3]) {
        self.flush();
        self.global.triangle(t);
    }

    /// Add a triangle by its corner coordinates (which must be finite). Buffered and welded in batches.
    pub fn corners(&mut self, c: [[f64; 3]; 3]) {
        self.pending.push(c);
        if self.pending.len() >= BATCH {
            self.weld_pending();
        }
    }

    /// Add `n` triangles, the i-th given by `corner(i)`, decoded and welded in parallel; the parsers of
    /// fixed-size records use it. `corner` returns `None` for a triangle that must not be welded (a
    /// non-finite coordinate): the batch is abandoned and the first such index is the error.
    pub fn corner_batch<F>(&mut self, n: usize, corner: F) -> Result<(), usize>
    where
        F: Fn(usize) -> Option<[[f64; 3]; 3]> + Sync,
    {
        self.weld_pending();
        let mode = self.mode;
        self.weld_batch(n, &|l: Local, r| l.weld(mode, r, &corner))
    }

    /// [`Welder::corner_batch`] for single-precision corners (binary STL): welded with the `f32` keys
    /// inside the table's slots, with exactly the result the `f64` path gives the converted corners.
    pub fn corner_batch_f32<F>(&mut self, n: usize, corner: F) -> Result<(), usize>
    where
        F: Fn(usize) -> Option<[[f32; 3]; 3]> + Sync,
    {
        self.weld_pending();
        match self.mode {
            WeldMode::Exact => self.weld_batch(n, &|l: Local, r| l.weld_f32(r, &corner)),
            mode @ WeldMode::Tolerance(_) => {
                let wide = |i: usize| corner(i).map(|c| c.map(|p| p.map(f64::from)));
                self.weld_batch(n, &|l: Local, r| l.weld(mode, r, &wide))
            }
        }
    }

    /// Position of an already-created vertex (ids come from [`Welder::vertex`], which welds at once).
    pub fn position(&self, i: u32) -> [f64; 3] {
        self.global.mesh.positions[i as usize]
    }

    pub fn finish(mut self) -> (Mesh, WeldStats) {
        self.flush();
        // The table and the chunks' buffers are freed on another thread: unmapping them (16 MB and more
        // for 3M triangles) would otherwise hold up the measurement while the other core waits.
        let scratch = (
            std::mem::take(&mut self.global.slots),
            std::mem::take(&mut self.spare),
        );
        rayon::spawn(move || drop(scratch));
        self.global.mesh.triangles.truncate(self.global.triangles);
        (self.global.mesh, self.global.stats)
    }

    fn weld_pending(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let mut pending = std::mem::take(&mut self.pending);
        let mode = self.mode;
        // The corners were checked by the parser, so this batch cannot fail.
        let corner = |i: usize| Some(pending[i]);
        let _ = self.weld_batch(pending.len(), &|l: Local, r| l.weld(mode, r, &corner));
        pending.clear();
        self.pending = pending;
    }

    /// Welds a batch of `n` triangles locally, a chunk at a time with `weld_chunk`, while the previous
    /// batch is merged globally.
    fn weld_batch<W>(&mut self, n: usize, weld_chunk: &W) -> Result<(), usize>
    where
        W: Fn(Local, std::ops::Range<usize>) -> Result<Local, usize> + Sync,
    {
        use rayon::prelude::*;
        let mut previous = std::mem::take(&mut self.ready);
        let spare: Vec<Local> = (0..n.div_ceil(CHUNK))
            .map(|_| self.spare.pop().unwrap_or_default())
            .collect();
        // The merge writes its triangles right after those written so far; the pages the next merge
        // will write (at most this batch's `n`) are faulted in beside the local weld instead of on the
        // merge's serial path, where a page fault per 4 KiB of 36 MB (3M triangles) showed in perf.
        let (mut triangles, merged) = self.triangle_space(&previous);
        let (written, ahead) = triangles.split_at_mut(merged.end);
        let out = &mut written[merged];
        let ahead_len = n.min(ahead.len());
        let ahead = &mut ahead[..ahead_len];
        let global = &mut self.global;
        let ((), locals) = rayon::join(
            || global.merge(&mut previous, out),
            || {
                let page = 4096 / std::mem::size_of::<[u32; 3]>();
                for t in ahead.iter_mut().step_by(page) {
                    *t = [0; 3];
                }
                spare
                    .into_par_iter()
                    .enumerate()
                    .map(|(c, l)| weld_chunk(l, c * CHUNK..((c + 1) * CHUNK).min(n)))
                    .collect::<Vec<_>>()
            },
        );
        self.global.mesh.triangles = triangles;
        self.spare.extend(previous);
        // The first bad triangle in file order, whichever chunk finished first.
        self.ready = locals.into_iter().collect::<Result<_, _>>()?;
        Ok(())
    }

    /// Takes the mesh's triangle buffer, with room for `locals`' triangles, and the range they will fill:
    /// the caller lends that part to the merge (and may touch what lies beyond) and puts the buffer back.
    fn triangle_space(&mut self, locals: &[Local]) -> (Vec<[u32; 3]>, std::ops::Range<usize>) {
        let mut triangles = std::mem::take(&mut self.global.mesh.triangles);
        let start = self.global.triangles;
        let end = start + locals.iter().map(|l| l.triangles.len()).sum::<usize>();
        global::room_for(&mut triangles, end);
        (triangles, start..end)
    }

    /// Everything given so far is welded and numbered, so one-at-a-time calls see it in file order.
    fn flush(&mut self) {
        self.weld_pending();
        if !self.ready.is_empty() {
            let mut ready = std::mem::take(&mut self.ready);
            let (mut triangles, merged) = self.triangle_space(&ready);
            self.global.merge(&mut ready, &mut triangles[merged]);
            self.global.mesh.triangles = triangles;
            self.spare.extend(ready);
        }
    }
}

/// Weld an existing mesh again (e.g. with a tolerance). Welding is idempotent: welding a welded mesh
/// with the same mode changes nothing.
pub fn reweld(mesh: &Mesh, mode: WeldMode) -> (Mesh, WeldStats) {
    let mut w = Welder::new(mode, mesh.triangles.len());
    let remap: Vec<u32> = mesh.positions.iter().map(|&p| w.vertex(p)).collect();
    for t in &mesh.triangles {
        w.triangle(t.map(|i| remap[i as usize]));
    }
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustc_hash::FxHashMap;

    /// The obvious one-table weld, kept as the reference the batched one must match exactly.
    fn reference(mode: WeldMode, tris: &[[[f64; 3]; 3]]) -> (Mesh, WeldStats) {
        let mut map: FxHashMap<[u64; 3], u32> = FxHashMap::default();
        let mut mesh = Mesh::default();
        let mut stats = WeldStats::default();
        for c in tris {
            let t = c.map(|p| {
                let next = mesh.positions.len() as u32;
                *map.entry(mode.key(p)).or_insert_with(|| {
                    mesh.positions.push(Global::stored(mode, p));
                    next
                })
            });
            stats.input_triangles += 1;
            if t[0] == t[1] || t[1] == t[2] || t[0] == t[2] {
                stats.degenerate_dropped += 1;
            } else {
                mesh.triangles.push(t);
            }
        }
        (mesh, stats)
    }

    /// Triangles over a small grid of points, in a scrambled order, so vertices repeat across chunks and
    /// batches, with some degenerate triangles and signed zeros.
    fn soup(n: usize, seed: u64) -> Vec<[[f64; 3]; 3]> {
        let mut x = seed;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        (0..n)
            .map(|_| {
                [(); 3].map(|_| {
                    let r = next();
                    let c = |s: u32| ((r >> s) % 40) as f64 * 0.25 - 5.0;
                    let z = if r % 97 == 0 { -0.0 } else { c(16) };
                    [c(0), c(8), z]
                })
            })
            .collect()
    }

    #[test]
    fn batches_tile_the_records_with_one_chunk_first_and_last() {
        for n in [
            0,
            1,
            CHUNK - 1,
            CHUNK,
            CHUNK + 1,
            2 * CHUNK,
            BATCH + 3,
            3 * BATCH + CHUNK / 2,
        ] {
            let n = n as u64;
            let cut: Vec<_> = batches(n).collect();
            let mut next = 0;
            for r in &cut {
                assert_eq!(r.start, next, "n = {n}: {cut:?}");
                assert!(
                    !r.is_empty() && r.end - r.start <= BATCH as u64,
                    "n = {n}: {cut:?}"
                );
                next = r.end;
            }
            assert_eq!(next, n, "n = {n}: {cut:?}");
            if let ([first, ..], Some(last)) = (cut.as_slice(), cut.last()) {
                assert!(first.end - first.start <= CHUNK as u64, "n = {n}: {cut:?}");
                assert!(last.end - last.start <= CHUNK as u64, "n = {n}: {cut:?}");
            }
        }
        assert_eq!(
            batches(3 * BATCH as u64).nth(1),
            Some(CHUNK as u64..(CHUNK + BATCH) as u64)
        );
    }

    #[test]
    fn shared_corners_become_one_vertex_and_degenerates_are_dropped() {
        let mut w = Welder::new(WeldMode::Exact, 4);
        w.corners([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]);
        w.corners([[1.0, 0.0, 0.0], [-0.0, 0.0, 0.0], [0.0, 0.0, 1.0]]);
        w.corners([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]);
        let (mesh, stats) = w.finish();
        assert_eq!(mesh.positions.len(), 4);
        assert_eq!(mesh.triangles, vec![[0, 1, 2], [1, 0, 3]]);
        assert_eq!(
            stats,
            WeldStats {
                input_triangles: 3,
                degenerate_dropped: 1
            }
        );
    }

    #[test]
    fn tolerance_merges_near_points() {
        let mut w = Welder::new(WeldMode::Tolerance(0.01), 1);
        let a = w.vertex([1.0, 1.0, 1.0]);
        let b = w.vertex([1.001, 1.0, 0.999]);
        assert_eq!(a, b);
    }

    #[test]
    fn batched_weld_matches_the_one_table_reference_across_batches() {
        // More than two batches, a hint far too small (the global table must grow), both modes.
        let tris = soup(2 * BATCH + CHUNK + 17, 0x2545_F491_4F6C_DD1D);
        for mode in [WeldMode::Exact, WeldMode::Tolerance(0.3)] {
            let mut one = Welder::new(mode, 10);
            tris.iter().for_each(|&c| one.corners(c));
            let mut batched = Welder::new(mode, tris.len());
            let half = tris.len() / 2;
            batched
                .corner_batch(half, |i| Some(tris[i]))
                .expect("finite");
            tris[half..].iter().for_each(|&c| batched.corners(c));
            let expected = reference(mode, &tris);
            assert_eq!(one.finish(), expected, "{mode:?}");
            assert_eq!(batched.finish(), expected, "{mode:?}");
        }
    }

    #[test]
    fn vertices_in_windows_match_one_at_a_time() {
        let points: Vec<[f64; 3]> = soup(3 * WINDOW + 5, 5).into_iter().flatten().collect();
        let mut one = Welder::new(WeldMode::Exact, 0);
        let expected: Vec<u32> = points.iter().map(|&p| one.vertex(p)).collect();
        let mut batched = Welder::new(WeldMode::Exact, 0);
        let mut ids = Vec::new();
        batched.vertices(&points[..7], &mut ids);
        batched.vertices(&points[7..], &mut ids);
        assert_eq!(ids, expected);
        assert_eq!(batched.finish(), one.finish());
    }

    #[test]
    fn corners_then_vertices_keep_file_order() {
        let tris = soup(CHUNK + 5, 7);
        let mut w = Welder::new(WeldMode::Exact, 0);
        tris.iter().for_each(|&c| w.corners(c));
        // A vertex asked for after buffered corners must see them first.
        let first = w.vertex(tris[0][0]);
        assert_eq!(first, 0);
        let (mesh, _) = w.finish();
        assert_eq!(mesh, reference(WeldMode::Exact, &tris).0);
    }

    #[test]
    fn corners_after_one_at_a_time_vertices_weld_against_them() {
        let tris = soup(BATCH + CHUNK + 9, 13);
        let mut w = Welder::new(WeldMode::Exact, tris.len());
        // These points are the first corners of the soup, so the batches must find them, not add them.
        let early: Vec<[f64; 3]> = tris[..40].iter().flatten().copied().collect();
        let mut ids = Vec::new();
        w.vertices(&early, &mut ids);
        tris.iter().for_each(|&c| w.corners(c));
        let (mesh, _) = w.finish();
        let mut expected = Welder::new(WeldMode::Exact, 0);
        let mut ids_expected = Vec::new();
        expected.vertices(&early, &mut ids_expected);
        tris.iter().for_each(|&c| {
            let t = c.map(|p| expected.vertex(p));
            expected.triangle(t);
        });
        assert_eq!(ids, ids_expected);
        assert_eq!(mesh, expected.finish().0);
    }

    /// The soup in single precision, with some corners spelled -0.0 and a long run of distinct corners
    /// (so a chunk's table must grow).
    fn soup_f32(n: usize, seed: u64) -> Vec<[[f32; 3]; 3]> {
        let mut tris: Vec<[[f32; 3]; 3]> = soup(n, seed)
            .into_iter()
            .map(|c| c.map(|p| p.map(|x| x as f32)))
            .collect();
        for (i, t) in tris.iter_mut().enumerate().skip(CHUNK / 2).take(CHUNK / 2) {
            let x = i as f32;
            *t = [[x, 0.5, -0.0], [x, 1.5, 0.0], [x + 0.25, 0.5, 2.0]];
        }
        tris
    }

    #[test]
    fn f32_corners_weld_exactly_as_their_f64_conversions() {
        let tris = soup_f32(2 * BATCH + CHUNK + 17, 0x9E37_79B9);
        let wide: Vec<[[f64; 3]; 3]> = tris.iter().map(|c| c.map(|p| p.map(f64::from))).collect();
        for mode in [WeldMode::Exact, WeldMode::Tolerance(0.3)] {
            let mut w = Welder::new(mode, tris.len());
            let half = tris.len() / 2;
            w.corner_batch_f32(half, |i| Some(tris[i])).expect("finite");
            w.corner_batch_f32(tris.len() - half, |i| Some(tris[half + i]))
                .expect("finite");
            assert_eq!(w.finish(), reference(mode, &wide), "{mode:?}");
        }
    }

    #[test]
    fn negative_zero_is_stored_as_zero() {
        let mut w = Welder::new(WeldMode::Exact, 1);
        w.corners([[-0.0, 1.0, 2.0], [1.0, -0.0, 0.0], [0.0, 1.0, -0.0]]);
        let (mesh, _) = w.finish();
        assert!(
            mesh.positions
                .iter()
                .flatten()
                .all(|x| x.is_sign_positive())
        );
    }

    #[test]
    fn a_bad_triangle_is_reported_by_its_first_index_in_both_precisions() {
        let tris = soup(3 * CHUNK, 11);
        let narrow = soup_f32(3 * CHUNK, 11);
        let good = |i: usize| i != CHUNK + 3 && i != 2 * CHUNK + 1;
        let mut w = Welder::new(WeldMode::Exact, tris.len());
        assert_eq!(
            w.corner_batch(tris.len(), |i| good(i).then(|| tris[i])),
            Err(CHUNK + 3)
        );
        let mut w = Welder::new(WeldMode::Exact, tris.len());
        assert_eq!(
            w.corner_batch_f32(narrow.len(), |i| good(i).then(|| narrow[i])),
            Err(CHUNK + 3)
        );
    }

    #[test]
    fn same_result_on_one_and_two_threads_in_both_precisions() {
        let n = BATCH + 3 * CHUNK;
        let (tris, narrow) = (soup(n, 99), soup_f32(n, 5));
        let weld = |single: bool| {
            let (tris, narrow) = (&tris, &narrow);
            move || {
                let mut w = Welder::new(WeldMode::Exact, n);
                let welded = if single {
                    w.corner_batch_f32(n, |i| Some(narrow[i]))
                } else {
                    w.corner_batch(n, |i| Some(tris[i]))
                };
                welded.expect("finite");
                w.finish()
            }
        };
        for single in [false, true] {
            assert_eq!(on_threads(1, weld(single)), on_threads(2, weld(single)));
        }
    }

    /// Runs `f` on a rayon pool of `threads` threads.
    fn on_threads<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool")
            .install(f)
    }
}
