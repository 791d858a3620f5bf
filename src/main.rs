use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    feedbackd::cli::Cli::parse().run().await
}
