//! The sequencer task: takes batches off the queue, integrates them on a blocking thread,
//! and after a storage error goes back to the last durable checkpoint instead of stopping
//! (see the crate documentation).

use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, watch};

use crate::durable::LogStorage;
use crate::sequencer::{LogError, LogOptions, Published, Request, State};

/// Whether the log takes entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    /// The last write went through.
    Ok,
    /// The last write failed on storage (the reason): entries are refused with
    /// [`LogError::Retry`] until a write goes through again.
    Failing(String),
    /// The log stopped until a restart (the reason): [`LogError::Poisoned`].
    Stopped(String),
}

pub(crate) type SharedHealth = Arc<Mutex<Health>>;

pub(crate) fn set_health(h: &SharedHealth, to: Health) {
    *h.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = to;
}

/// The sequencer task's own: the tree's right edge and how to reread it from storage.
pub(crate) struct Sequencer {
    /// `None` only while a batch is being integrated on a blocking thread.
    pub(crate) state: Option<State>,
    pub(crate) opts: LogOptions,
    pub(crate) storage: Arc<dyn LogStorage>,
    pub(crate) pub_tx: watch::Sender<Published>,
    pub(crate) health: SharedHealth,
    /// A failed write left `state` ahead of storage and storage could not be read back
    /// yet: recover before the next batch.
    pub(crate) recover_first: bool,
}

/// How a batch ended.
enum Outcome {
    Logged(u64),
    Refused(LogError),
    /// Nothing more can be integrated (the reason).
    Stop(String),
}

pub(crate) async fn sequence(
    mut seq: Sequencer,
    mut rx: mpsc::Receiver<Request>,
    max_batch: usize,
) {
    let mut stopped: Option<String> = None;
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < max_batch {
            match rx.try_recv() {
                Ok(r) => batch.push(r),
                Err(_) => break,
            }
        }
        let outcome = match &stopped {
            Some(why) => Outcome::Refused(LogError::Poisoned(why.clone())),
            None => seq.integrate(&mut batch).await,
        };
        match outcome {
            Outcome::Logged(first_index) => {
                for (i, r) in batch.into_iter().enumerate() {
                    let _ = r.reply.send(Ok(first_index + i as u64));
                }
            }
            Outcome::Refused(e) => {
                for r in batch {
                    let _ = r.reply.send(Err(e.clone()));
                }
            }
            Outcome::Stop(why) => {
                tracing::error!(%why, "log stopped until a restart");
                set_health(&seq.health, Health::Stopped(why.clone()));
                for r in batch {
                    let _ = r.reply.send(Err(LogError::Poisoned(why.clone())));
                }
                stopped = Some(why);
            }
        }
    }
}

impl Sequencer {
    /// Integrates a batch; after a storage error, goes back to the last durable checkpoint
    /// (a transient error — a full disk, no file descriptors — costs the batch, not the log).
    async fn integrate(&mut self, batch: &mut [Request]) -> Outcome {
        if self.recover_first {
            match self.recover(None).await {
                Ok(None) => self.recover_first = false,
                Ok(Some(stop)) => return stop,
                Err(e) => return self.failing(e),
            }
        }
        let entries: Vec<Vec<u8>> = batch
            .iter_mut()
            .map(|r| std::mem::take(&mut r.entry))
            .collect();
        let count = entries.len() as u64;
        let Some(state) = self.state.take() else {
            return Outcome::Stop("the sequencer lost its state".into());
        };
        let joined = tokio::task::spawn_blocking(move || {
            let mut state = state;
            let r = state.integrate(&entries);
            (state, r)
        })
        .await;
        let (state, result) = match joined {
            Ok(x) => x,
            // The state went down with the task: nothing more can be integrated.
            Err(e) => return Outcome::Stop(format!("sequencer task failed: {e}")),
        };
        self.state = Some(state);
        match result {
            Ok((first_index, published)) => {
                set_health(&self.health, Health::Ok);
                let _ = self.pub_tx.send(published);
                Outcome::Logged(first_index)
            }
            Err(e) => {
                let why = e.to_string();
                tracing::error!(error = %why, "log storage failed; going back to the last durable checkpoint");
                match self.recover(Some(count)).await {
                    Ok(Some(outcome)) => outcome,
                    Ok(None) => self.failing(why),
                    Err(e) => {
                        self.recover_first = true;
                        self.failing(format!("{why}; reading it back: {e}"))
                    }
                }
            }
        }
    }

    fn failing(&self, why: String) -> Outcome {
        set_health(&self.health, Health::Failing(why.clone()));
        Outcome::Refused(LogError::Retry(why))
    }

    /// Rereads the right edge from storage. Answers `None` when storage holds the
    /// published tree; when a failed batch of `batch` entries turns out to have reached
    /// a durable checkpoint after all (the error came after it), that batch as logged;
    /// any other size stops the log.
    async fn recover(&mut self, batch: Option<u64>) -> Result<Option<Outcome>, String> {
        let (opts, storage) = (self.opts.clone(), self.storage.clone());
        let fresh = tokio::task::spawn_blocking(move || State::recover(opts, storage))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        let before = self.pub_tx.borrow().size;
        let logged = match batch {
            Some(n) if fresh.size == before + n => true,
            _ if fresh.size == before => false,
            _ => {
                return Ok(Some(Outcome::Stop(format!(
                    "after a storage error the checkpoint on disk is at {}, the published one at {before}",
                    fresh.size
                ))));
            }
        };
        let mut fresh = fresh;
        if let Some(old) = self.state.as_mut() {
            fresh.removals = std::mem::take(&mut old.removals);
        }
        let published = fresh.published().map_err(|e| e.to_string())?;
        self.state = Some(fresh);
        if !logged {
            return Ok(None);
        }
        set_health(&self.health, Health::Ok);
        let _ = self.pub_tx.send(published);
        Ok(Some(Outcome::Logged(before)))
    }
}
