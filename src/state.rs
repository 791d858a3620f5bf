//! The shared state of the request handlers and the background jobs: one [`App`] behind an
//! `Arc`. It sits below `http` (which only reads it) and above the services it holds, so the
//! flow stays one way: `app` (wiring) → `http` → `state` → services → `store`/`blobs` → `domain`.

use std::ops::Deref;
use std::sync::Arc;

use crate::admission::client::ClientKeyer;
use crate::admission::memory::MemoryBudget;
use crate::admission::rate_limit::ClientRateLimiter;
use crate::attachments::Limits;
use crate::blobs::Blobs;
use crate::config::Settings;
use crate::domain::Terms;
use crate::metrics::Metrics;
use crate::privacy::ContactVault;
use crate::staff::LoginGuard;
use crate::store::Store;
use crate::triage::StatusCounts;
use crate::triage::desk::Desk;

/// Everything a request handler may use.
#[derive(Debug)]
pub struct App {
    pub settings: Settings,
    pub store: Arc<dyn Store>,
    pub blobs: Blobs,
    pub terms: Terms,
    pub vault: ContactVault,
    pub limits: Limits,
    pub rate_limiter: Option<ClientRateLimiter>,
    /// Who a request comes from, for per-client limits.
    pub client_keyer: ClientKeyer,
    pub metrics: Metrics,
    pub templates: minijinja::Environment<'static>,
    pub login_guard: LoginGuard,
    /// Memory for request bodies in flight, shared by all requests.
    pub memory: MemoryBudget,
    pub status_counts: StatusCounts,
    /// Wakes this replica's outbox worker after a commit wrote messages.
    pub outbox_wake: Arc<tokio::sync::Notify>,
}

/// The shared state of the routers: one `App` behind an `Arc`.
#[derive(Debug, Clone)]
pub struct AppState(pub Arc<App>);

impl Deref for AppState {
    type Target = App;

    fn deref(&self) -> &App {
        &self.0
    }
}

impl App {
    /// Tells the outbox worker that messages were written (a no-op when none were).
    pub fn outbox_written(&self, messages: usize) {
        if messages > 0 {
            self.outbox_wake.notify_one();
        }
    }

    /// The staff side of triage, over this process's store, keys and count cache.
    pub fn desk(&self) -> Desk<'_> {
        Desk {
            store: self.store.as_ref(),
            vault: &self.vault,
            status_counts: &self.status_counts,
            notify: &self.settings.notify,
            outbox_wake: &self.outbox_wake,
        }
    }
}
