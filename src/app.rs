//! Wiring: [`Application::build`] opens the database, the object store and the keys, binds
//! both listeners (port 0 works, for tests), and [`Application::run_until`] serves until told
//! to stop, finishing the requests in flight and flushing pending commits.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::admission::client::ClientKeyer;
use crate::admission::memory::MemoryBudget;
use crate::admission::rate_limit::ClientRateLimiter;
use crate::blobs::{Blobs, StorageOptions};
use crate::config::Settings;
use crate::housekeeping;
use crate::http;
use crate::metrics::Metrics;
use crate::notify;
use crate::privacy::{ContactKeys, ContactVault, files};
use crate::staff::LoginGuard;
use crate::state::{App, AppState};
use crate::store::{self, Store};
use crate::triage::StatusCounts;
use crate::useragent;

pub struct Application {
    public: TcpListener,
    admin: TcpListener,
    state: AppState,
}

/// Opens the database and applies pending migrations.
pub async fn open_store(settings: &Settings) -> anyhow::Result<Arc<dyn Store>> {
    let url = settings.database_url();
    if url.starts_with("sqlite:") {
        files::private_dir(&settings.data_dir)?;
        if settings.database_url.is_none() {
            files::private_file(&settings.data_dir.join("feedbackd.db"))?;
        }
    }
    let store = store::connect(&url).await.context("opening the database")?;
    store.migrate().await.context("migrating the database")?;
    let limit = Duration::from_secs(settings.database_timeout_secs.max(1));
    Ok(Arc::new(store::DeadlineStore::new(store, limit)))
}

/// The contact keys: from the configuration (with the previous pair during a rotation), or
/// from the key file in the data folder.
pub fn contact_keys(settings: &Settings) -> anyhow::Result<ContactKeys> {
    match (&settings.contact_key, &settings.blind_index_key) {
        (Some(seal), Some(blind)) => {
            let keys = ContactKeys::from_config(seal, blind)?;
            match (
                &settings.previous_contact_key,
                &settings.previous_blind_index_key,
            ) {
                (Some(seal), Some(blind)) => {
                    Ok(keys.with_previous(ContactKeys::from_config(seal, blind)?))
                }
                (None, None) => Ok(keys),
                _ => anyhow::bail!(
                    "set both previous_contact_key and previous_blind_index_key, or neither"
                ),
            }
        }
        (None, None) => {
            files::private_dir(&settings.data_dir)?;
            ContactKeys::load_or_create(&settings.data_dir.join("contact.key"))
        }
        _ => anyhow::bail!("set both contact_key and blind_index_key, or neither"),
    }
}

/// The database, the object store and the keys: what the service and the CLI both need.
#[derive(Debug)]
pub struct Services {
    pub store: Arc<dyn Store>,
    pub blobs: Blobs,
    pub vault: ContactVault,
}

impl Services {
    pub async fn open(settings: &Settings) -> anyhow::Result<Self> {
        let store = open_store(settings).await?;
        let s3 = StorageOptions {
            endpoint: settings.s3_endpoint.clone(),
            region: settings.s3_region.clone(),
            timeout: Duration::from_secs(settings.storage_timeout_secs.max(1)),
        };
        let blobs = Blobs::from_url(&settings.storage_url(), &s3)?;
        let vault = ContactVault::new(&contact_keys(settings)?);
        Ok(Self {
            store,
            blobs,
            vault,
        })
    }
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        crate::notify::mail::settings::check(&settings.smtp, &settings.mail)?;
        // Compiling the user-agent rules is slow: do it before the first request, off the runtime.
        tokio::task::spawn_blocking(useragent::warm_up).await?;
        let Services {
            store,
            blobs,
            vault,
        } = Services::open(&settings).await?;
        settings.notify.validate()?;
        let public = TcpListener::bind(settings.listen)
            .await
            .with_context(|| format!("binding {}", settings.listen))?;
        let admin = TcpListener::bind(settings.admin_listen)
            .await
            .with_context(|| format!("binding {}", settings.admin_listen))?;
        let app = App {
            terms: settings.terms()?,
            limits: settings.limits(),
            rate_limiter: ClientRateLimiter::new(
                settings.rate_limit_per_minute,
                settings.rate_limit_burst,
            ),
            client_keyer: ClientKeyer::new(settings.trusted_proxy_hops()),
            metrics: Metrics::new(),
            templates: http::templates(),
            login_guard: LoginGuard::new(settings.login_attempts_per_minute),
            memory: MemoryBudget::new(settings.intake_memory_budget_bytes),
            status_counts: StatusCounts::default(),
            outbox_wake: Arc::new(tokio::sync::Notify::new()),
            store,
            blobs,
            vault,
            settings,
        };
        Ok(Self {
            public,
            admin,
            state: AppState(Arc::new(app)),
        })
    }

    pub fn public_addr(&self) -> SocketAddr {
        self.public
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub fn admin_addr(&self) -> SocketAddr {
        self.admin
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub fn state(&self) -> AppState {
        self.state.clone()
    }

    /// This replica's outbox worker with its channels, unless turned off.
    fn outbox_worker(&self, replica: &str) -> anyhow::Result<Option<notify::worker::Worker>> {
        let state = &self.state;
        if !state.settings.notify.worker {
            return Ok(None);
        }
        let webhooks = notify::webhook::WebhookChannel::new(
            &state.settings.notify.webhooks,
            state.settings.notify.delivery_timeout(),
            state.store.clone(),
            state.settings.public_url.clone(),
            state.metrics.clone(),
        )?;
        let mut channels: Vec<Arc<dyn notify::Channel>> = vec![Arc::new(webhooks)];
        let vault = ContactVault::new(&contact_keys(&state.settings)?);
        if let Some(mail) =
            notify::mail::MailChannel::new(state.settings.clone(), state.store.clone(), vault)?
        {
            channels.push(Arc::new(mail));
        }
        Ok(Some(notify::worker::Worker {
            store: state.store.clone(),
            channels,
            settings: state.settings.notify.clone(),
            metrics: state.metrics.clone(),
            id: replica.to_owned(),
            wake: state.outbox_wake.clone(),
        }))
    }

    /// Serves until `shutdown` resolves, then stops accepting, lets requests in flight finish
    /// and waits for the pending commits.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (stop_tx, stop_rx) = watch::channel(false);
        tokio::spawn(async move {
            shutdown.await;
            let _ = stop_tx.send(true);
        });
        let stopped = |mut rx: watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|stop| *stop).await;
        };

        let replica = uuid::Uuid::new_v4().to_string();
        let housekeeping = tokio::spawn(housekeeping::run(self.state.clone(), replica.clone()));
        let outbox = self
            .outbox_worker(&replica)?
            .map(|w| tokio::spawn(w.run(stop_rx.clone())));
        let public = http::serve::serve(
            self.public,
            http::public_router(self.state.clone()),
            stopped(stop_rx.clone()),
        );
        let admin = http::serve::serve(
            self.admin,
            http::admin_router(self.state.clone()),
            stopped(stop_rx),
        );
        tokio::join!(public, admin);
        housekeeping.abort();
        if let Some(outbox) = outbox {
            // Stopped with the listeners: in-flight deliveries are given back, not waited for.
            let _ = outbox.await;
        }
        // A pass stopped half-way must not keep the other replicas (or our restart) waiting.
        if let Err(error) = self
            .state
            .store
            .release_lease(housekeeping::LEASE, &replica)
            .await
        {
            tracing::warn!(error = ?error, "releasing the housekeeping lease failed");
        }
        self.state.store.close().await;
        Ok(())
    }
}
