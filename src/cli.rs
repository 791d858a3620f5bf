//! The command line: `feedbackd serve`, `migrate`, `user add`, `token create|list|revoke`.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};

mod keys;
pub(crate) mod privacy;

use keys::KeysCommand;
use privacy::PrivacyCommand;

use crate::app::{self, Application};
use crate::config::Settings;
use crate::domain::Role;
use crate::staff;
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
    /// Staff accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// API tokens for the internal JSON API.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Answer a person's request to review or remove their data.
    #[command(subcommand)]
    Privacy(PrivacyCommand),
    /// The contact keys (rotation).
    #[command(subcommand)]
    Keys(KeysCommand),
    /// The audit log (views of contact details, exports, erasures, triage changes).
    #[command(subcommand)]
    Audit(AuditCommand),
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Show the newest entries.
    List {
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create a staff account; the password is read from standard input.
    Add {
        name: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// The address staff e-mail goes to (subscriptions are chosen in the triage view).
        #[arg(long)]
        email: Option<String>,
    },
    /// Set a staff account's password (read from standard input) and end its sessions.
    Passwd { name: String },
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Create an API token and print it (it is shown only once).
    Create {
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
    },
    /// List API tokens (names and roles, never the tokens).
    List,
    /// Revoke an API token by name.
    Revoke { name: String },
}

fn parse_role(raw: &str) -> Result<Role, String> {
    Role::parse(raw).ok_or_else(|| "expected triager, webmaster or admin".to_owned())
}

/// A password from standard input: prompted without echo on a terminal, else one line.
fn read_password() -> anyhow::Result<String> {
    let password = if std::io::stdin().is_terminal() {
        rpassword::prompt_password("password: ")?
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line
    };
    Ok(password.trim_end_matches(['\r', '\n']).to_owned())
}

impl Cli {
    pub async fn run(self) -> anyhow::Result<()> {
        crate::privacy::files::restrict_umask();
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
            Command::User(UserCommand::Add { name, role, email }) => {
                let email = match email.as_deref().map(crate::domain::ContactEmail::parse) {
                    None => None,
                    Some(Ok(Some(email))) => Some(email.as_str().to_owned()),
                    Some(_) => anyhow::bail!("--email is not a valid e-mail address"),
                };
                let password = read_password()?;
                let store = app::open_store(&settings).await?;
                let mut added = staff::add_user(store.as_ref(), &name, role, &password).await;
                if added.is_ok() && email.is_some() {
                    let preferences = crate::store::MailPreferences {
                        email,
                        subscriptions: Vec::new(),
                    };
                    added = store
                        .set_mail_preferences(&name, &preferences)
                        .await
                        .map(drop)
                        .map_err(Into::into);
                }
                store.close().await;
                added.context("adding the staff user")?;
                println!("feedbackd: added {name} ({})", role.as_str());
                Ok(())
            }
            Command::User(UserCommand::Passwd { name }) => {
                let password = read_password()?;
                let store = app::open_store(&settings).await?;
                let changed = staff::set_password(store.as_ref(), &name, &password).await;
                store.close().await;
                anyhow::ensure!(
                    changed.context("setting the password")?,
                    "no staff user named {name}"
                );
                println!("feedbackd: password of {name} changed");
                Ok(())
            }
            Command::Token(command) => token(&settings, command).await,
            Command::Privacy(command) => privacy(&settings, command).await,
            Command::Keys(command) => keys::run(&settings, command).await,
            Command::Audit(AuditCommand::List { limit }) => {
                let store = app::open_store(&settings).await?;
                let entries = store.audit_log(limit).await;
                store.close().await;
                for e in entries? {
                    let submission = e.submission_id.map(|id| id.to_string()).unwrap_or_default();
                    println!(
                        "{}\t{}\t{}\t{submission}\t{}",
                        e.at.to_rfc3339(),
                        e.actor,
                        e.action,
                        e.detail.unwrap_or_default()
                    );
                }
                Ok(())
            }
        }
    }
}

async fn privacy(settings: &Settings, command: PrivacyCommand) -> anyhow::Result<()> {
    let services = app::Services::open(settings).await?;
    let outcome = privacy::run(&services, command).await;
    services.store.close().await;
    outcome
}

async fn token(settings: &Settings, command: TokenCommand) -> anyhow::Result<()> {
    let store = app::open_store(settings).await?;
    let outcome = async {
        match command {
            TokenCommand::Create { name, role } => {
                let token = staff::create_token(store.as_ref(), &name, role).await?;
                println!("{token}");
            }
            TokenCommand::List => {
                for t in store.tokens().await? {
                    let state = if t.revoked { "revoked" } else { "active" };
                    println!(
                        "{}\t{}\t{}\t{state}",
                        t.name,
                        t.role,
                        t.created_at.to_rfc3339()
                    );
                }
            }
            TokenCommand::Revoke { name } => {
                anyhow::ensure!(
                    store.revoke_token(&name).await?,
                    "no active token named {name}"
                );
                println!("feedbackd: revoked {name}");
            }
        }
        Ok::<_, anyhow::Error>(())
    }
    .await;
    store.close().await;
    outcome
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let demo_page = settings.demo_page;
    let settings_create_first_admin = settings.create_first_admin;
    let application = Application::build(settings).await?;
    let public = application.public_addr();
    let admin = application.admin_addr();
    let first_admin = if settings_create_first_admin {
        staff::ensure_first_admin(application.state().store.as_ref()).await?
    } else {
        None
    };
    if demo_page {
        announce(&format!("demo page http://{public}/"));
    }
    announce(&format!("public API http://{public}/api/v1/"));
    announce(&format!("triage view http://{public}/triage"));
    if let Some(password) = first_admin {
        announce(&format!(
            "no staff user existed: log in as admin with the one-time password {password} \
             (then change it: feedbackd user passwd admin)"
        ));
    }
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
