//! Process set-up for the long-running server.

/// Under load the server's resident memory grew 18.5 % in 10 minutes with
/// glibc's default of up to eight malloc arenas per core, and stayed flat at a
/// third of the size with two (docs/benchmarks.md, "Load"): the tokio blocking
/// pool's threads each take an arena and leave freed memory spread over them.
/// glibc reads `MALLOC_ARENA_MAX` only when the process starts, so `serve` and
/// `demo` re-execute themselves once with it set. An operator's own value is
/// kept. Returns only if the re-execution did not happen (then nothing changed).
pub fn limit_malloc_arenas() -> Option<std::io::Error> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::os::unix::process::CommandExt;
        if std::env::var_os(ARENA_VAR).is_some() {
            return None;
        }
        let exe = match std::env::current_exe() {
            Ok(exe) => exe,
            Err(e) => return Some(e),
        };
        // `exec` replaces this process (same pid, same open files) and returns
        // only on failure.
        Some(
            std::process::Command::new(exe)
                .args(std::env::args_os().skip(1))
                .env(ARENA_VAR, ARENAS)
                .exec(),
        )
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    None
}

/// The variable and the value set.
pub const ARENA_VAR: &str = "MALLOC_ARENA_MAX";
pub const ARENAS: &str = "2";
