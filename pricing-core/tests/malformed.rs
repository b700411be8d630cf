//! A corpus of malformed uploads: each gives the right typed error, never a panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use pricing_core::estimate::{Bbox, gltf_bbox, read_box, sample_binary_stl, sample_text};
use pricing_core::{AnalyzeOptions, Format, FormatHint, Limits, analyze, probe};

fn binary_stl(triangles: &[[[f32; 3]; 3]]) -> Vec<u8> {
    let mut v = b"solid exported by a CAD tool".to_vec();
    v.resize(80, b' ');
    v.extend_from_slice(&(triangles.len() as u32).to_le_bytes());
    for t in triangles {
        v.extend_from_slice(&[0u8; 12]);
        for p in t {
            for c in p {
                v.extend_from_slice(&c.to_le_bytes());
            }
        }
        v.extend_from_slice(&[0, 0]);
    }
    v
}

/// The estimate's readers on any bytes: never a panic, and a box they return is finite and
/// ordered. Each reader is tried as if the file were of its format, whatever it is, and
/// `read_box` on what the probe accepted (its error, if any, is typed).
fn estimate_holds(what: &str, bytes: &[u8]) {
    let sane = |b: Option<Bbox>, reader: &str| {
        if let Some(b) = b {
            assert!(
                (0..3)
                    .all(|i| b.min[i].is_finite() && b.max[i].is_finite() && b.min[i] <= b.max[i]),
                "{what}: {reader} gave {b:?}"
            );
        }
    };
    sane(sample_text(bytes, Format::Obj), "obj sample");
    sane(sample_text(bytes, Format::StlAscii), "ascii stl sample");
    sane(gltf_bbox(bytes, Format::Gltf), "gltf accessors");
    sane(gltf_bbox(bytes, Format::Glb), "glb accessors");
    // A count the file claims is only sampled within the bytes there are.
    let claimed = bytes.get(80..84).map_or(0, |c| {
        u64::from(u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
    });
    let records = (bytes.len() as u64).saturating_sub(84) / 50;
    if let Ok(b) = sample_binary_stl(&mut std::io::Cursor::new(bytes), claimed.min(records)) {
        sane(b, "binary stl sample");
    }
    if let Ok(p) = probe(bytes, None, &Limits::default()) {
        match read_box(bytes, &p, &Limits::default()) {
            Ok(r) => sane(r.bbox, "read_box"),
            Err(e) => assert!(!e.code().is_empty(), "{what}: {e}"),
        }
    }
}

const TRI: [[f32; 3]; 3] = [[0., 0., 0.], [1., 0., 0.], [0., 1., 0.]];

fn code(bytes: &[u8], hint: Option<FormatHint>) -> &'static str {
    let opts = AnalyzeOptions {
        format: hint,
        ..AnalyzeOptions::default()
    };
    analyze(bytes, &opts)
        .map(|_| "ok")
        .unwrap_or_else(|e| e.code())
}

fn glb(json: &str, bin: &[u8]) -> Vec<u8> {
    let mut j = json.as_bytes().to_vec();
    while !j.len().is_multiple_of(4) {
        j.push(b' ');
    }
    let mut b = bin.to_vec();
    while !b.len().is_multiple_of(4) {
        b.push(0);
    }
    let total = 12 + 8 + j.len() + if b.is_empty() { 0 } else { 8 + b.len() };
    let mut out = b"glTF".to_vec();
    out.extend_from_slice(&2u32.to_le_bytes());
    out.extend_from_slice(&(total as u32).to_le_bytes());
    out.extend_from_slice(&(j.len() as u32).to_le_bytes());
    out.extend_from_slice(b"JSON");
    out.extend_from_slice(&j);
    if !b.is_empty() {
        out.extend_from_slice(&(b.len() as u32).to_le_bytes());
        out.extend_from_slice(b"BIN\0");
        out.extend_from_slice(&b);
    }
    out
}

const TRIANGLE_GLTF: &str = r#"{"asset":{"version":"2.0"},"scenes":[{"nodes":[0]}],"nodes":[{"mesh":0}],
 "meshes":[{"primitives":[{"attributes":{"POSITION":0}}]}],
 "accessors":[{"bufferView":0,"componentType":5126,"count":3,"type":"VEC3","max":[1,1,0],"min":[0,0,0]}],
 "bufferViews":[{"buffer":0,"byteLength":36}],
 "buffers":[{"byteLength":36 URI}]}"#;

fn triangle_bin() -> Vec<u8> {
    TRI.iter().flatten().flat_map(|c| c.to_le_bytes()).collect()
}

#[test]
fn malformed_corpus_gives_typed_errors() {
    let good = binary_stl(&[TRI]);
    let mut truncated = good.clone();
    truncated.truncate(good.len() - 7);
    let mut nan = binary_stl(&[TRI]);
    nan[84 + 12..84 + 16].copy_from_slice(&f32::NAN.to_le_bytes());
    let mut inf = binary_stl(&[TRI]);
    inf[84 + 20..84 + 24].copy_from_slice(&f32::INFINITY.to_le_bytes());
    let mut absurd = good[..84].to_vec();
    absurd[80..84].copy_from_slice(&u32::MAX.to_le_bytes());

    let stl = Some(FormatHint::Exact(Format::StlBinary));
    let cases: Vec<(&str, Vec<u8>, Option<FormatHint>, &str)> = vec![
        ("valid binary STL with solid header", good.clone(), None, "ok"),
        ("empty file", Vec::new(), None, "empty_file"),
        ("random text", b"this is not a model".to_vec(), None, "unsupported_format"),
        ("truncated binary STL", truncated, stl, "truncated_file"),
        ("absurd triangle count", absurd, stl, "truncated_file"),
        ("NaN coordinate", nan, None, "non_finite_coordinate"),
        ("infinite coordinate", inf, None, "non_finite_coordinate"),
        ("ASCII STL facet with two vertices",
            b"solid t\nfacet normal 0 0 1\nouter loop\nvertex 0 0 0\nvertex 1 0 0\nendloop\nendfacet\nendsolid\n".to_vec(), None, "malformed_mesh"),
        ("ASCII STL cut inside a facet", b"solid t\nfacet normal 0 0 1\nouter loop\nvertex 0 0 0\n".to_vec(), None, "truncated_file"),
        ("ASCII STL with a word for a number",
            b"solid t\nfacet normal 0 0 1\nouter loop\nvertex 0 zero 0\n".to_vec(), None, "malformed_mesh"),
        ("ASCII STL with NaN", b"solid t\nfacet normal 0 0 1\nouter loop\nvertex 0 0 0\nvertex nan 0 0\nvertex 0 1 0\nendloop\nendfacet\nendsolid\n".to_vec(), None, "non_finite_coordinate"),
        ("ASCII STL bad UTF-8 in a number", b"solid t\nfacet normal 0 0 1\nouter loop\nvertex 0 \xff 0\n".to_vec(), None, "bad_utf8"),
        ("empty ASCII STL", b"solid\nendsolid\n".to_vec(), None, "no_triangles"),
        ("OBJ index out of range", b"v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 9\n".to_vec(), None, "index_out_of_range"),
        ("OBJ negative index out of range", b"v 0 0 0\nv 1 0 0\nv 0 1 0\nf -1 -2 -7\n".to_vec(), None, "index_out_of_range"),
        ("OBJ bad UTF-8", b"v 0 0 0\nv 1 0 \xc3\x28\nf 1 2 3\n".to_vec(), None, "bad_utf8"),
        ("OBJ bad number", b"v 0 0 0\nv 1 0 x\nv 0 1 0\nf 1 2 3\n".to_vec(), Some(FormatHint::Exact(Format::Obj)), "malformed_mesh"),
        ("glTF bad JSON", b"{\"asset\": ".to_vec(), None, "bad_json"),
        ("glTF external buffer", TRIANGLE_GLTF.replace(" URI", r#","uri":"../../etc/passwd""#).into_bytes(), None, "external_reference"),
        ("glTF Draco required", TRIANGLE_GLTF.replace(" URI", "").replace(r#"{"asset""#, r#"{"extensionsRequired":["KHR_draco_mesh_compression"],"extensionsUsed":["KHR_draco_mesh_compression"],"asset""#).into_bytes(), None, "unsupported_extension"),
        ("GLB truncated chunk", { let mut g = glb(&TRIANGLE_GLTF.replace(" URI", ""), &triangle_bin()); g.truncate(g.len() - 10); let n = g.len() as u32; g[8..12].copy_from_slice(&n.to_le_bytes()); g }, None, "truncated_file"),
        ("GLB buffer shorter than declared", glb(&TRIANGLE_GLTF.replace(" URI", ""), &triangle_bin()[..24]), None, "truncated_file"),
        ("GLB valid", glb(&TRIANGLE_GLTF.replace(" URI", ""), &triangle_bin()), None, "ok"),
        ("GLB header length below 12", { let mut g = glb(&TRIANGLE_GLTF.replace(" URI", ""), &triangle_bin()); g[8..12].copy_from_slice(&3u32.to_le_bytes()); g }, None, "malformed_mesh"),
        ("GLB accessor past its view", glb(&TRIANGLE_GLTF.replace(" URI", "").replace(r#""count":3"#, r#""count":300"#), &triangle_bin()), None, "truncated_file"),
        ("OBJ absurd normal index", b"v 0 0 0\nv 1 0 0\nv 0 1 0\nvn 0 0 1\nf 1//9999999999999999999 2//1 3//1\n".to_vec(), None, "malformed_mesh"),
    ];
    let mut failures = Vec::new();
    for (what, bytes, hint, want) in &cases {
        estimate_holds(what, bytes);
        let got = code(bytes, *hint);
        if got != *want {
            failures.push(format!("{what}: got {got}, want {want}"));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn limits_refuse_before_allocating() {
    let limits = Limits {
        max_triangles: 10,
        max_bytes: 1 << 20,
        max_data_uri_bytes: 1 << 20,
        max_unzipped_bytes: 1 << 20,
    };
    let big = binary_stl(&[TRI; 11]);
    assert_eq!(
        probe(&big, None, &limits).unwrap_err().code(),
        "too_many_triangles"
    );
    let opts = AnalyzeOptions {
        limits,
        ..AnalyzeOptions::default()
    };
    assert_eq!(
        analyze(&big, &opts).unwrap_err().code(),
        "too_many_triangles"
    );
    let small = Limits {
        max_bytes: 100,
        ..limits
    };
    assert_eq!(probe(&big, None, &small).unwrap_err().code(), "too_large");
}

#[test]
fn arbitrary_bytes_never_panic() {
    // A cheap deterministic fuzz: mutate valid files of every format byte by byte.
    let fx = fixtures::committed()
        .into_iter()
        .find(|f| f.name == "hex_prism")
        .expect("hex prism");
    for format in fixtures::Format::ALL {
        let mut valid = Vec::new();
        format.write(&fx.mesh, &mut valid).unwrap();
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        for round in 0..300 {
            let mut bytes = valid.clone();
            for _ in 0..(1 + round % 8) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let i = (state as usize) % bytes.len();
                bytes[i] = (state >> 32) as u8;
            }
            if round % 5 == 0 {
                bytes.truncate((state as usize >> 8) % bytes.len());
            }
            let _ = analyze(&bytes, &AnalyzeOptions::default());
            let _ = probe(&bytes, None, &Limits::default());
            estimate_holds(&format!("{format:?} round {round}"), &bytes);
        }
    }
}
