//! Integration tests of kontor-schedule (one test binary, several modules).

mod brute;
mod dzn_files;
mod instance_errors;
mod solver;
mod verifier;

use std::path::PathBuf;

/// The JAIR 2022 benchmark folder; panics with a clear message if it is absent.
pub fn jair_dir() -> PathBuf {
    let dir = std::env::var_os("KONTOR_JAIR_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../../shared/benchmarks/b2b-jair2022")
        });
    assert!(
        dir.join("optima.csv").is_file(),
        "the JAIR 2022 benchmark folder is missing: expected {} (set KONTOR_JAIR_DIR to override)",
        dir.display()
    );
    dir
}

/// A tiny deterministic PRNG for building test instances.
pub struct TestRng(pub u64);

impl TestRng {
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}
