//! One parser per upload format. Each reads only the bytes it is given (a reference inside a file never
//! opens another file), checks the limits before allocating by a count the file claims, and feeds the
//! triangles into a [`crate::weld::Welder`].

pub mod gltf;
pub mod obj;
pub mod stl_ascii;
pub mod stl_binary;
pub mod threemf;
mod triangulate;
