//! Benchmarks live in benches/: `scale.sh` (many connections, broadcast)
//! and `load.sh` (the end-to-end load harness, see [`load`]).

pub mod chart;
pub mod load;
