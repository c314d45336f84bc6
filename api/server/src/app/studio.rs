//! A residency's studio: arrival and extension allocate it on the space, then record it on
//! the residency; a cancelled residency gives it back. Each change spans two records, so it
//! is journalled (`incubator_projections::journal`) before its first step and forgotten after
//! its last:
//!
//! - the residency refuses (wrong stage, stale `If-Match`): the allocation is cancelled at
//!   once, with the reason in the log;
//! - the process dies, or the store fails with an effect unknown, between the steps: the row
//!   stays. A retry of the same request (same `Idempotency-Key`) resumes it with the same
//!   allocation; without one, [`settle`] finishes it past twice a request's lifetime: an
//!   allocation the residency never recorded is cancelled ("visibly undone"), a release not
//!   carried out is carried out.
//!
//! The space comes first so that a taken studio refuses with the space's own 409.

use std::time::Duration;

use chrono::NaiveDate;
use incubator_domain::residency::{ResidencyCommand, ResidencyStage, ResidencyState};
use incubator_domain::space::{Occupant, OccupantKind, OccupantStanding, SpaceCommand};
use incubator_domain::values::Reason;
use incubator_projections::journal::{self, Pending};
use incubator_projections::log;
use serde_json::json;
use uuid::Uuid;

use super::{failpoint, Actor, App, Caller, RequestId};
use crate::auth::Role;
use crate::http::error::ApiError;
use crate::store::{answer_id_of, Appended, Committed};

/// A residency command done, with the space's events appended before it (the allocation) and
/// after it (the studio given back).
#[derive(Debug)]
pub struct Done {
    pub committed: Committed,
    pub before: Vec<Appended>,
    pub after: Vec<Appended>,
}

impl Done {
    fn alone(committed: Committed) -> Self {
        Self {
            committed,
            before: Vec::new(),
            after: Vec::new(),
        }
    }
}

/// What a journalled studio change needs to be finished by someone else.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Detail {
    from: NaiveDate,
    to: NaiveDate,
    #[serde(default)]
    reason: Option<String>,
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The hub's today.
fn today() -> NaiveDate {
    incubator_domain::values::hub_local(chrono::Utc::now()).date()
}

fn fixed_reason(text: &str) -> Reason {
    Reason::parse(text).unwrap_or_else(|e| unreachable!("a fixed reason is valid: {e}"))
}

impl App {
    /// The residency's current state (404 when it does not exist).
    pub async fn residency(&self, id: Uuid) -> Result<ResidencyState, ApiError> {
        let (residency, _) = self
            .store
            .load(self.store.residencies(), &id.to_string())
            .await?;
        residency
            .state
            .ok_or_else(|| ApiError::not_found(format!("no residency with id {id}")))
    }

    /// Records the artist's arrival on `arrived_on`, allocating the studio of the agreement
    /// until it ends as `allocation_id` (a fresh UUID v7 for a request; the demo's are
    /// seeded).
    pub async fn arrive(
        &self,
        caller: &Caller,
        id: Uuid,
        arrived_on: NaiveDate,
        allocation_id: Uuid,
    ) -> Result<Done, ApiError> {
        let s = self.residency(id).await?;
        let arrive = |allocation_id| ResidencyCommand::Arrive {
            arrived_on,
            allocation_id,
        };
        match s
            .agreement
            .filter(|a| s.stage == ResidencyStage::Contracted && arrived_on <= a.ends_on)
        {
            Some(a) => {
                let detail = Detail {
                    from: arrived_on,
                    to: a.ends_on,
                    reason: None,
                };
                let change = (allocation_id, a.studio_id);
                self.studio_then_residency(caller, "arrive", id, change, detail, arrive)
                    .await
            }
            // Nothing to allocate: the residency says why it refuses.
            None => self
                .execute(caller, self.store.residencies(), id, arrive(allocation_id))
                .await
                .map(Done::alone),
        }
    }

    /// Extends the stay to `ends_on`, allocating the studio for the added days.
    pub async fn extend(
        &self,
        caller: &Caller,
        id: Uuid,
        ends_on: NaiveDate,
        reason: Reason,
    ) -> Result<Done, ApiError> {
        let s = self.residency(id).await?;
        let extend = |allocation_id| ResidencyCommand::Extend {
            ends_on,
            allocation_id,
            reason: reason.clone(),
        };
        match s
            .agreement
            .filter(|a| s.stage == ResidencyStage::InResidence && ends_on > a.ends_on)
        {
            Some(a) => {
                let detail = Detail {
                    from: a.ends_on.succ_opt().unwrap_or(a.ends_on),
                    to: ends_on,
                    reason: None,
                };
                let change = (Uuid::now_v7(), a.studio_id);
                self.studio_then_residency(caller, "extend", id, change, detail, extend)
                    .await
            }
            None => self
                .execute(caller, self.store.residencies(), id, extend(Uuid::now_v7()))
                .await
                .map(Done::alone),
        }
    }

    /// Cancels the residency and gives its studio back: allocations not yet begun are
    /// cancelled, running ones end today.
    pub async fn cancel(
        &self,
        caller: &Caller,
        id: Uuid,
        reason: Reason,
    ) -> Result<Done, ApiError> {
        let s = self.residency(id).await?;
        let change = s.agreement.as_ref().map(|a| {
            self.pending(
                caller,
                "release",
                Uuid::now_v7(),
                id,
                a.studio_id,
                &Detail {
                    from: today(),
                    to: today(),
                    reason: Some(reason.as_str().to_owned()),
                },
            )
        });
        if let Some(change) = &change {
            journal::begin(&self.store.commands, change).await?;
        }
        let command = ResidencyCommand::Cancel {
            reason: reason.clone(),
        };
        let committed = match self
            .execute(caller, self.store.residencies(), id, command)
            .await
        {
            Ok(committed) => committed,
            Err(e) => {
                if let Some(change) = change.filter(|_| !transient(&e)) {
                    self.forget(&change).await;
                }
                return Err(e);
            }
        };
        let mut after = Vec::new();
        if let Some(change) = change {
            failpoint("release.after_residency");
            match self.release_studio(caller, id, &reason).await {
                Ok(released) => {
                    after = released;
                    self.forget(&change).await;
                }
                Err(e) => {
                    tracing::error!(residency = %id, error = %e, "could not give the studio back yet");
                }
            }
        }
        Ok(Done {
            committed,
            before: Vec::new(),
            after,
        })
    }

    fn pending(
        &self,
        caller: &Caller,
        kind: &str,
        change_id: Uuid,
        id: Uuid,
        studio: Uuid,
        detail: &Detail,
    ) -> Pending {
        Pending {
            change_id: change_id.to_string(),
            kind: kind.to_owned(),
            record_id: id.to_string(),
            other_id: studio.to_string(),
            actor: caller.actor.name.clone(),
            role: caller.actor.role.as_str().to_owned(),
            correlation_id: caller.request.0.clone(),
            idem_key: caller.idempotency_key.clone(),
            detail: json!(detail).to_string(),
            started_at: now_ms(),
        }
    }

    async fn forget(&self, change: &Pending) {
        if let Err(e) = journal::finish(&self.store.commands, &change.change_id).await {
            // Harmless: settle finds the change complete and forgets it then.
            tracing::warn!(change = %change.change_id, error = %e, "could not close a journalled change");
        }
    }

    /// Allocates the studio as `(allocation id, studio)`, then runs the residency's `command`
    /// with the allocation's id; resumes instead the change a first attempt of the same
    /// request left unfinished.
    async fn studio_then_residency(
        &self,
        caller: &Caller,
        kind: &str,
        id: Uuid,
        (allocation_id, studio): (Uuid, Uuid),
        detail: Detail,
        command: impl Fn(Uuid) -> ResidencyCommand,
    ) -> Result<Done, ApiError> {
        let earlier = match &caller.idempotency_key {
            Some(key) => {
                journal::of_request(
                    &self.store.commands,
                    kind,
                    &id.to_string(),
                    &caller.actor.name,
                    key,
                )
                .await?
            }
            None => None,
        };
        let (change, allocation_id, studio, before) = match earlier {
            Some(change) => {
                let now = now_ms();
                if !journal::claim(&self.store.commands, &change, now).await? {
                    return Err(ApiError::KeyInProgress);
                }
                let change = Pending {
                    started_at: now,
                    ..change
                };
                let (allocation_id, studio) = ids(&change)?;
                let detail: Detail =
                    serde_json::from_str(&change.detail).map_err(|e| ApiError::internal(&e))?;
                let before = match self.allocation_event(studio, allocation_id).await? {
                    Some(allocated) => vec![allocated],
                    None => {
                        self.allocate(caller, id, studio, allocation_id, &detail)
                            .await?
                    }
                };
                (change, allocation_id, studio, before)
            }
            None => {
                let change = self.pending(caller, kind, allocation_id, id, studio, &detail);
                journal::begin(&self.store.commands, &change).await?;
                match self
                    .allocate(caller, id, studio, allocation_id, &detail)
                    .await
                {
                    Ok(before) => (change, allocation_id, studio, before),
                    Err(e) => {
                        if !transient(&e) {
                            self.forget(&change).await;
                        }
                        return Err(e);
                    }
                }
            }
        };
        failpoint(&format!("{kind}.after_space"));
        match self
            .execute(caller, self.store.residencies(), id, command(allocation_id))
            .await
        {
            Ok(committed) => {
                self.forget(&change).await;
                Ok(Done {
                    committed,
                    before,
                    after: Vec::new(),
                })
            }
            // The effect is unknown: the journal keeps the change for a retry or for settle.
            Err(e) if transient(&e) => Err(e),
            Err(e) => {
                let why = fixed_reason("the residency refused the change it was made for");
                if self
                    .withdraw(caller, studio, allocation_id, why)
                    .await
                    .is_ok()
                {
                    self.forget(&change).await;
                }
                Err(e)
            }
        }
    }

    /// Allocates `studio` to residency `id` as `allocation_id`; the space's events.
    async fn allocate(
        &self,
        caller: &Caller,
        id: Uuid,
        studio: Uuid,
        allocation_id: Uuid,
        detail: &Detail,
    ) -> Result<Vec<Appended>, ApiError> {
        let command = SpaceCommand::Allocate {
            allocation_id,
            occupant: Occupant {
                kind: OccupantKind::Residency,
                id,
                name: None,
            },
            // The residency itself was just loaded.
            standing: OccupantStanding::Known,
            from: detail.from,
            to: Some(detail.to),
        };
        let committed = self
            .execute(&caller.elsewhere(), self.store.spaces(), studio, command)
            .await?;
        Ok(committed.events)
    }

    /// The space's event that made `allocation_id`, if the space has one.
    async fn allocation_event(
        &self,
        studio: Uuid,
        allocation_id: Uuid,
    ) -> Result<Option<Appended>, ApiError> {
        let mut conn = self.store.commands.pool.acquire().await?;
        let mut after = 0;
        loop {
            let page = log::read_stream(
                &mut conn,
                self.store.commands.dialect,
                "Space",
                &studio.to_string(),
                after,
                500,
            )
            .await?;
            let Some(last) = page.last() else {
                return Ok(None);
            };
            after = last.sequence;
            let found = page.iter().find(|e| {
                answer_id_of(&e.aggregate_type, &e.payload)
                    .is_some_and(|(_, id)| id == allocation_id)
            });
            if let Some(e) = found {
                return Ok(Some(Appended {
                    aggregate_type: e.aggregate_type.clone(),
                    aggregate_id: e.aggregate_id.clone(),
                    sequence: e.sequence as u64,
                    event_type: e.event_type.clone(),
                    answer_id: answer_id_of(&e.aggregate_type, &e.payload),
                }));
            }
        }
    }

    /// Cancels an allocation whose residency change did not happen.
    async fn withdraw(
        &self,
        caller: &Caller,
        studio: Uuid,
        allocation_id: Uuid,
        reason: Reason,
    ) -> Result<Vec<Appended>, ApiError> {
        let command = SpaceCommand::CancelAllocation {
            allocation_id,
            reason,
        };
        self.execute(&caller.elsewhere(), self.store.spaces(), studio, command)
            .await
            .map(|c| c.events)
            .inspect_err(|e| {
                tracing::error!(%studio, %allocation_id, error = %e, "could not withdraw a studio allocation");
            })
    }

    /// Gives a cancelled residency's studio back: what is still allocated to it on its
    /// studio is cancelled (not yet begun) or ended today (running). Idempotent.
    async fn release_studio(
        &self,
        caller: &Caller,
        id: Uuid,
        reason: &Reason,
    ) -> Result<Vec<Appended>, ApiError> {
        let s = self.residency(id).await?;
        let Some(agreement) = s.agreement else {
            return Ok(Vec::new());
        };
        let (space, _) = self
            .store
            .load(self.store.spaces(), &agreement.studio_id.to_string())
            .await?;
        let Some(space) = space.state else {
            return Ok(Vec::new());
        };
        let today = today();
        let mut released = Vec::new();
        for a in space
            .allocations
            .iter()
            .filter(|a| s.allocations.contains(&a.allocation_id))
        {
            let command = if a.from > today {
                SpaceCommand::CancelAllocation {
                    allocation_id: a.allocation_id,
                    reason: reason.clone(),
                }
            } else if a.to.is_none_or(|to| to > today) {
                SpaceCommand::EndAllocation {
                    allocation_id: a.allocation_id,
                    last_day: today,
                    reason: Some(reason.clone()),
                }
            } else {
                continue;
            };
            let committed = self
                .execute(
                    &caller.elsewhere(),
                    self.store.spaces(),
                    agreement.studio_id,
                    command,
                )
                .await?;
            released.extend(committed.events);
        }
        Ok(released)
    }

    /// Finishes the journalled changes started (or last claimed) more than `older_than`
    /// ago: each is completed, undone or carried out as its kind says. Returns how many it
    /// settled.
    pub async fn settle(&self, older_than: Duration) -> Result<usize, ApiError> {
        let before = now_ms() - i64::try_from(older_than.as_millis()).unwrap_or(i64::MAX);
        let mut settled = 0;
        for change in journal::started_before(&self.store.commands, before, 100).await? {
            if !journal::claim(&self.store.commands, &change, now_ms()).await? {
                continue;
            }
            match self.settle_one(&change).await {
                Ok(()) => {
                    journal::finish(&self.store.commands, &change.change_id).await?;
                    settled += 1;
                }
                Err(e) => {
                    tracing::warn!(change = %change.change_id, kind = %change.kind, error = %e, "could not settle a change yet")
                }
            }
        }
        Ok(settled)
    }

    async fn settle_one(&self, change: &Pending) -> Result<(), ApiError> {
        let caller = Caller {
            actor: Actor {
                name: change.actor.clone(),
                role: Role::parse(&change.role).unwrap_or(Role::Officer),
            },
            request: RequestId(change.correlation_id.clone()),
            client_request: None,
            idempotency_key: None,
            expected_version: None,
        };
        let (change_id, studio) = ids(change)?;
        let id: Uuid = change
            .record_id
            .parse()
            .map_err(|e| ApiError::internal(&e))?;
        match change.kind.as_str() {
            "release" => {
                let detail: Detail =
                    serde_json::from_str(&change.detail).map_err(|e| ApiError::internal(&e))?;
                let cancelled = self
                    .residency(id)
                    .await
                    .is_ok_and(|s| s.stage == ResidencyStage::Cancelled);
                if cancelled {
                    let reason = detail
                        .reason
                        .and_then(|r| Reason::parse(&r).ok())
                        .unwrap_or_else(|| fixed_reason("the residency was cancelled"));
                    self.release_studio(&caller, id, &reason).await?;
                }
                Ok(())
            }
            _ => {
                let recorded = self
                    .residency(id)
                    .await
                    .is_ok_and(|s| s.allocations.contains(&change_id));
                let (space, _) = self
                    .store
                    .load(self.store.spaces(), &studio.to_string())
                    .await?;
                let held = space
                    .state
                    .is_some_and(|s| s.allocations.iter().any(|a| a.allocation_id == change_id));
                if !recorded && held {
                    let why = if change.kind == "arrive" {
                        "the arrival it was made for was never recorded (interrupted between its two steps)"
                    } else {
                        "the extension it was made for was never recorded (interrupted between its two steps)"
                    };
                    self.withdraw(&caller, studio, change_id, fixed_reason(why))
                        .await?;
                }
                Ok(())
            }
        }
    }
}

/// Whether a failure leaves the command's effect unknown (it may have been committed).
fn transient(e: &ApiError) -> bool {
    matches!(
        e,
        ApiError::Unavailable | ApiError::Internal | ApiError::Timeout
    )
}

/// A journalled studio change's allocation (or release) id and studio.
fn ids(change: &Pending) -> Result<(Uuid, Uuid), ApiError> {
    let change_id = change
        .change_id
        .parse()
        .map_err(|e| ApiError::internal(&e))?;
    let studio = change
        .other_id
        .parse()
        .map_err(|e| ApiError::internal(&e))?;
    Ok((change_id, studio))
}

/// Settles interrupted changes every `every`, those older than `older_than`, until dropped.
pub async fn settle_forever(app: App, older_than: Duration, every: Duration) {
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        match app.settle(older_than).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(settled = n, "interrupted changes settled"),
            Err(e) => tracing::warn!(error = %e, "could not settle interrupted changes"),
        }
    }
}
