//! The tokio runtime of the async server and of the load generator.

/// A runtime with `threads` workers, or one per core this process may run
/// on. `available_parallelism` honours taskset, where tokio's own default
/// counts every core of the machine: two workers sharing one pinned core
/// would hand every wakeup through the OS scheduler. One thread gives a
/// single event loop (tokio's current-thread runtime).
pub fn build(threads: Option<usize>) -> std::io::Result<tokio::runtime::Runtime> {
    let threads = threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    if threads == 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_thread_is_a_current_thread_runtime_and_more_are_multi_thread() {
        use tokio::runtime::RuntimeFlavor;
        let one = build(Some(1)).expect("runtime");
        assert_eq!(one.handle().runtime_flavor(), RuntimeFlavor::CurrentThread);
        let two = build(Some(2)).expect("runtime");
        assert_eq!(two.handle().runtime_flavor(), RuntimeFlavor::MultiThread);
        assert_eq!(two.metrics().num_workers(), 2);
    }
}
