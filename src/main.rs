use clap::Parser;

/// Threads for blocking work (local-folder object writes among them): enough to keep the disk
/// busy, few enough that a burst of uploads does not grow hundreds of thread stacks.
const MAX_BLOCKING_THREADS: usize = 8;

fn main() -> anyhow::Result<()> {
    let cli = feedbackd::cli::Cli::parse();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(MAX_BLOCKING_THREADS)
        .build()?
        .block_on(cli.run())
}
