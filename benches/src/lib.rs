//! Benchmarks live in benches/: `scale.sh` (many connections, broadcast)
//! and `load.sh` (the end-to-end load harness, see [`load`]; its fan-out
//! load, [`fanout`]).

pub mod chart;
pub mod fanout;
pub mod load;
