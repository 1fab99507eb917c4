//! Replays the corpus of the fuzz target that drives this runtime
//! (`stream_server`: the server over an in-memory transport) on stable, so
//! CI needs no nightly for it. The body is the one `cargo +nightly fuzz run
//! stream_server` drives (`fuzz/src/stream.rs`, included here).
//!
//! After changing the seeds, rewrite the files with
//! `cargo test -p ws-tokio --test fuzz_replay -- --ignored`.

#[allow(unreachable_pub, dead_code)]
#[path = "../../fuzz/src/stream.rs"]
mod stream;

use std::path::PathBuf;

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/stream_server")
}

#[test]
fn every_corpus_file() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .expect("the stream_server corpus")
        .map(|entry| entry.expect("a directory entry").path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "stream_server has no corpus");
    for file in files {
        eprintln!("stream_server: {}", file.display());
        stream::stream_server(&std::fs::read(&file).expect("a corpus file"));
    }
}

#[test]
fn seeds_run_and_are_committed() {
    for (name, data, echoes) in stream::seeds() {
        assert_eq!(stream::serve(&data), echoes, "{name}");
        let path = corpus_dir().join(name);
        let committed = std::fs::read(&path).unwrap_or_default();
        assert!(
            committed == data,
            "{} is stale: run `cargo test -p ws-tokio --test fuzz_replay -- --ignored`",
            path.display()
        );
    }
}

/// Writes the seed files (run on purpose, with `--ignored`).
#[test]
#[ignore = "rewrites fuzz/corpus/stream_server"]
fn write_seed_corpus() {
    std::fs::create_dir_all(corpus_dir()).expect("create the corpus directory");
    for (name, data, _) in stream::seeds() {
        std::fs::write(corpus_dir().join(name), data).expect("write a seed");
    }
}
