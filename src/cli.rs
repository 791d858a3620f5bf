//! The command line: `feedbackd serve`, `feedbackd migrate`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::app::{self, Application};
use crate::config::Settings;
use crate::telemetry;

#[derive(Debug, Parser)]
#[command(
    name = "feedbackd",
    version,
    about = "Collects WebApp feedback and keeps it private."
)]
pub struct Cli {
    /// A TOML configuration file; FEEDBACKD_* environment variables override it.
    #[arg(long, global = true, env = "FEEDBACKD_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the service (public and admin listeners) until SIGINT or SIGTERM.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
}

impl Cli {
    pub async fn run(self) -> anyhow::Result<()> {
        let settings = Settings::load(self.config.as_deref())?;
        telemetry::init(settings.log_format);
        match self.command {
            Command::Serve => serve(settings).await,
            Command::Migrate => {
                let store = app::open_store(&settings).await?;
                store.close().await;
                println!("feedbackd: database is up to date");
                Ok(())
            }
        }
    }
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let demo_page = settings.demo_page;
    let application = Application::build(settings).await?;
    let public = application.public_addr();
    let admin = application.admin_addr();
    if demo_page {
        announce(&format!("demo page http://{public}/"));
    }
    announce(&format!("public API http://{public}/api/v1/"));
    announce(&format!("metrics http://{admin}/metrics"));
    tracing::info!(%public, %admin, "feedbackd listening");
    application.run_until(shutdown_signal()).await
}

/// A line for the operator on stdout; a closed stdout must not stop the service.
fn announce(line: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "feedbackd: {line}").and_then(|()| out.flush());
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("shutting down: finishing requests in flight");
}
