//! Replays the fuzz targets' corpus on stable, so CI needs no nightly.
//!
//! The bodies are the ones `cargo +nightly fuzz run` drives
//! (`fuzz/src/lib.rs`, included here as a module). Every file under
//! `fuzz/corpus/<target>/` goes through its target, and so do the seeds as
//! built by the code, which the committed seed files must match.
//!
//! After changing the seeds, rewrite the files with
//! `cargo test -p ws-proto --test fuzz_replay -- --ignored`.

#[allow(unreachable_pub, dead_code)]
#[path = "../../fuzz/src/lib.rs"]
mod bodies;

use std::path::PathBuf;

fn corpus_dir(target: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target)
}

fn body(target: &str) -> bodies::Body {
    bodies::TARGETS
        .iter()
        .find(|(name, _)| *name == target)
        .map(|(_, body)| *body)
        .unwrap_or_else(|| panic!("no fuzz target {target}"))
}

#[test]
fn every_corpus_file_of_every_target() {
    for (target, body) in bodies::TARGETS {
        let dir = corpus_dir(target);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|entry| entry.expect("a directory entry").path())
            .collect();
        files.sort();
        assert!(!files.is_empty(), "{target} has no corpus");
        for file in files {
            let data = std::fs::read(&file).expect("a corpus file");
            eprintln!("{target}: {}", file.display());
            body(&data);
        }
    }
}

#[test]
fn seeds_run_and_are_committed() {
    for (target, name, data) in bodies::seeds() {
        body(target)(&data);
        let path = corpus_dir(target).join(name);
        let committed = std::fs::read(&path).unwrap_or_default();
        assert!(
            committed == data,
            "{} is stale: run `cargo test -p ws-proto --test fuzz_replay -- --ignored`",
            path.display()
        );
    }
}

/// Writes the seed files (run on purpose, with `--ignored`).
#[test]
#[ignore = "rewrites fuzz/corpus"]
fn write_seed_corpus() {
    for (target, name, data) in bodies::seeds() {
        let dir = corpus_dir(target);
        std::fs::create_dir_all(&dir).expect("create the corpus directory");
        std::fs::write(dir.join(name), data).expect("write a seed");
    }
}
