//! Binary STL: an 80-byte header, a u32 triangle count, then 50-byte records.

use std::io::Read;

use crate::error::ParseError;
use crate::format::{Format, STL_HEADER_LEN, STL_RECORD_LEN};
use crate::limits::Limits;
use crate::weld::Welder;

const F: Format = Format::StlBinary;

/// The triangle count the header claims, checked against the real length. Constant time.
pub fn triangle_count(header: &[u8], total_len: u64) -> Result<u64, ParseError> {
    if total_len < STL_HEADER_LEN || header.len() < STL_HEADER_LEN as usize {
        return Err(ParseError::truncated(
            F,
            format!("{total_len} bytes is shorter than the 84-byte header"),
        ));
    }
    let n = u32::from_le_bytes([header[80], header[81], header[82], header[83]]) as u64;
    let expected = STL_HEADER_LEN + STL_RECORD_LEN * n;
    if expected > total_len {
        return Err(ParseError::truncated(
            F,
            format!(
                "the header declares {n} triangles ({expected} bytes) but the file has {total_len} bytes"
            ),
        ));
    }
    if expected < total_len {
        return Err(ParseError::malformed(
            F,
            None,
            format!(
                "the header declares {n} triangles ({expected} bytes) but the file has {total_len} bytes"
            ),
        ));
    }
    Ok(n)
}

/// Parse from any reader; `total_len` is the size of the whole input (needed to validate the count before
/// anything is allocated for it). The next batch of records is read while the current one is welded.
pub fn parse<R: Read + Send>(
    reader: &mut R,
    total_len: u64,
    limits: &Limits,
    welder: &mut Welder,
) -> Result<(), ParseError> {
    let mut header = [0u8; STL_HEADER_LEN as usize];
    read_exact(reader, &mut header)?;
    let n = triangle_count(&header, total_len)?;
    limits.check_triangles(n)?;

    let record = STL_RECORD_LEN as usize;
    // Two buffers of the largest batch (about 3 MiB each): a reader-based parse never holds more of the
    // file than that.
    let capacity = n.min(crate::weld::BATCH as u64) as usize * record;
    let (mut current, mut next) = (vec![0u8; capacity], vec![0u8; capacity]);
    let bytes = |b: &std::ops::Range<u64>| (b.end - b.start) as usize * record;
    let mut batches = crate::weld::batches(n);
    let mut batch = batches.next();
    read_exact(reader, &mut current[..batch.as_ref().map_or(0, bytes)])?;
    while let Some(this) = batch {
        let after = batches.next();
        let (read, welded) = rayon::join(
            || read_exact(reader, &mut next[..after.as_ref().map_or(0, bytes)]),
            || weld_records(welder, &current[..bytes(&this)], this.start),
        );
        // A bad record comes before anything later in the file, including a read error.
        welded?;
        read?;
        std::mem::swap(&mut current, &mut next);
        batch = after;
    }
    Ok(())
}

/// Parse a file held in memory: records are decoded where they lie, never copied.
pub fn parse_bytes(bytes: &[u8], limits: &Limits, welder: &mut Welder) -> Result<(), ParseError> {
    let n = triangle_count(bytes, bytes.len() as u64)?;
    limits.check_triangles(n)?;
    let records = &bytes[STL_HEADER_LEN as usize..];
    let record = STL_RECORD_LEN as usize;
    for batch in crate::weld::batches(n) {
        let (start, end) = (batch.start as usize * record, batch.end as usize * record);
        weld_records(welder, &records[start..end], batch.start)?;
    }
    Ok(())
}

/// Decodes and welds whole records; `first` is the index of the first one in the file.
fn weld_records(welder: &mut Welder, records: &[u8], first: u64) -> Result<(), ParseError> {
    const RECORD: usize = STL_RECORD_LEN as usize;
    welder
        .corner_batch_f32(records.len() / RECORD, |i| {
            // A fixed-size record, so the decode needs no bounds check per byte (it is always there:
            // `i` is below the record count).
            let corners = decode_record(records[i * RECORD..].first_chunk::<RECORD>()?);
            // `&`, not `all`: one branch per record instead of one per coordinate.
            corners
                .iter()
                .flatten()
                .fold(true, |finite, x| finite & x.is_finite())
                .then_some(corners)
        })
        .map_err(|i| ParseError::NonFinite {
            format: F,
            triangle: first + i as u64,
        })
}

#[inline]
fn decode_record(record: &[u8; STL_RECORD_LEN as usize]) -> [[f32; 3]; 3] {
    // Bytes 0..12 are the facet normal, which is ignored: it is often wrong, and the winding is the truth.
    let f = |i: usize| {
        let o = 12 + 4 * i;
        f32::from_le_bytes([record[o], record[o + 1], record[o + 2], record[o + 3]])
    };
    [[f(0), f(1), f(2)], [f(3), f(4), f(5)], [f(6), f(7), f(8)]]
}

fn read_exact<R: Read>(reader: &mut R, buf: &mut [u8]) -> Result<(), ParseError> {
    reader.read_exact(buf).map_err(|e| match e.kind() {
        std::io::ErrorKind::UnexpectedEof => {
            ParseError::truncated(F, "the file ends inside a triangle record")
        }
        _ => ParseError::malformed(F, None, format!("read failed: {e}")),
    })
}
