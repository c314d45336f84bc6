//! The startup aggregate: from application to graduation, with its funding and mentorship.
//!
//! ```text
//! application → screening → pre_incubation → incubation → acceleration → graduated
//!      └───────────┴→ rejected
//! any active stage → withdrawn | exited   (with a reason)
//! ```
//!
//! Rules live in [`Startup::decide`]; [`Startup::apply`] only folds events into state.

mod commands;
mod error;
mod events;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

pub use commands::StartupCommand;
pub use error::StartupError;
pub use events::StartupEvent;

use crate::mentor::MentorStanding;
use crate::values::{
    Cohort, GrantId, InvestorName, MentorId, MilestoneId, Money, OrganisationName, PersonId,
    ProgrammeName, RoundId, Sector, Title, YearMonth,
};

/// Where a startup stands.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Application,
    Screening,
    PreIncubation,
    Incubation,
    Acceleration,
    Graduated,
    Rejected,
    Withdrawn,
    Exited,
}

impl Stage {
    /// Every stage, pipeline stages first, in order.
    pub const ALL: [Stage; 9] = [
        Stage::Application,
        Stage::Screening,
        Stage::PreIncubation,
        Stage::Incubation,
        Stage::Acceleration,
        Stage::Graduated,
        Stage::Rejected,
        Stage::Withdrawn,
        Stage::Exited,
    ];

    /// The position in the forward pipeline, or `None` for the closing stages.
    pub fn rank(self) -> Option<usize> {
        Self::ALL[..6].iter().position(|s| *s == self)
    }

    /// Whether the startup is still moving through the programme.
    pub fn is_active(self) -> bool {
        matches!(self.rank(), Some(r) if r < 5)
    }

    /// The stage after this one in the pipeline.
    pub fn next(self) -> Option<Stage> {
        self.rank().filter(|r| *r < 5).map(|r| Self::ALL[r + 1])
    }

    /// The snake_case name, as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Application => "application",
            Stage::Screening => "screening",
            Stage::PreIncubation => "pre_incubation",
            Stage::Incubation => "incubation",
            Stage::Acceleration => "acceleration",
            Stage::Graduated => "graduated",
            Stage::Rejected => "rejected",
            Stage::Withdrawn => "withdrawn",
            Stage::Exited => "exited",
        }
    }

    /// Parses the snake_case name.
    pub fn parse(raw: &str) -> Option<Stage> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An equity round, by the usual names.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoundKind {
    PreSeed,
    Seed,
    SeriesA,
    SeriesBPlus,
}

impl RoundKind {
    /// Every round kind, smallest first.
    pub const ALL: [RoundKind; 4] = [
        RoundKind::PreSeed,
        RoundKind::Seed,
        RoundKind::SeriesA,
        RoundKind::SeriesBPlus,
    ];

    /// The snake_case name, as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            RoundKind::PreSeed => "pre_seed",
            RoundKind::Seed => "seed",
            RoundKind::SeriesA => "series_a",
            RoundKind::SeriesBPlus => "series_b_plus",
        }
    }
}

/// Non-dilutive funding: a grant, or a loan to be repaid.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FundingKind {
    Grant,
    Loan,
}

/// An equity round as the startup's state keeps it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EquityRound {
    pub round_id: RoundId,
    pub round: RoundKind,
    pub amount: Money,
    pub investors: Vec<InvestorName>,
    pub closed_on: NaiveDate,
}

/// A tranche paid out of an award.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tranche {
    pub amount: Money,
    pub paid_on: NaiveDate,
}

/// Non-dilutive funding awarded, with the tranches paid so far.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Award {
    pub grant_id: GrantId,
    pub programme: ProgrammeName,
    pub kind: FundingKind,
    pub amount: Money,
    pub awarded_on: NaiveDate,
    pub tranches: Vec<Tranche>,
}

impl Award {
    /// Cents paid so far.
    pub fn paid_cents(&self) -> i64 {
        self.tranches.iter().map(|t| t.amount.cents).sum()
    }
}

/// A milestone and whether it was reached.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Milestone {
    pub milestone_id: MilestoneId,
    pub title: Title,
    pub due_on: Option<NaiveDate>,
    pub achieved_on: Option<NaiveDate>,
}

/// One month's key figures.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Kpis {
    pub revenue: Money,
    pub headcount: u32,
    pub customers: u32,
}

/// A startup's current state: what `GET /startups/{id}` shows and what snapshots hold.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StartupState {
    pub name: OrganisationName,
    pub sector: Option<Sector>,
    pub founders: Vec<PersonId>,
    pub cohort: Option<Cohort>,
    pub stage: Stage,
    pub applied_on: NaiveDate,
    /// The day the current stage was entered, when known (stage changes recorded before their
    /// day was kept have none).
    #[serde(default)]
    pub stage_entered_on: Option<NaiveDate>,
    pub equity_rounds: Vec<EquityRound>,
    pub funding: Vec<Award>,
    pub mentors: Vec<MentorId>,
    pub sessions: u32,
    pub session_minutes: u64,
    pub milestones: Vec<Milestone>,
    pub kpis: BTreeMap<YearMonth, Kpis>,
    /// Voided: entered by mistake, kept in the log, out of every figure.
    #[serde(default)]
    pub voided: bool,
    /// Ids of sessions logged, so that a session id is never used twice.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "openapi", schema(ignore))]
    session_ids: Vec<crate::values::SessionId>,
}

/// The startup aggregate. `None` until its application is recorded.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Startup {
    pub state: Option<StartupState>,
}

crate::aggregate!(Startup, StartupCommand, StartupEvent, StartupError);

impl Startup {
    /// Folds one event into the state (what cqrs-es's `apply` runs).
    fn evolve(&mut self, event: StartupEvent) {
        use StartupEvent as E;
        if let E::Applied {
            name,
            sector,
            founders,
            cohort,
            applied_on,
        } = event
        {
            self.state = Some(StartupState {
                name,
                sector,
                founders,
                cohort,
                stage: Stage::Application,
                applied_on,
                stage_entered_on: Some(applied_on),
                equity_rounds: Vec::new(),
                funding: Vec::new(),
                mentors: Vec::new(),
                sessions: 0,
                session_minutes: 0,
                milestones: Vec::new(),
                kpis: BTreeMap::new(),
                voided: false,
                session_ids: Vec::new(),
            });
            return;
        }
        let Some(s) = self.state.as_mut() else {
            return;
        };
        match event {
            E::Applied { .. } => {}
            E::StageAdvanced { to, on, .. } => (s.stage, s.stage_entered_on) = (to, on),
            E::Rejected { on, .. } => (s.stage, s.stage_entered_on) = (Stage::Rejected, on),
            E::Withdrawn { on, .. } => (s.stage, s.stage_entered_on) = (Stage::Withdrawn, on),
            E::Exited { on, .. } => (s.stage, s.stage_entered_on) = (Stage::Exited, on),
            E::CohortAssigned { cohort } => s.cohort = Some(cohort),
            E::Voided { .. } => s.voided = true,
            E::EquityRoundRecorded {
                round_id,
                round,
                amount,
                investors,
                closed_on,
            } => s.equity_rounds.push(EquityRound {
                round_id,
                round,
                amount,
                investors,
                closed_on,
            }),
            E::FundingAwarded {
                grant_id,
                programme,
                kind,
                amount,
                awarded_on,
            } => s.funding.push(Award {
                grant_id,
                programme,
                kind,
                amount,
                awarded_on,
                tranches: Vec::new(),
            }),
            E::TranchePaid {
                grant_id,
                amount,
                paid_on,
            } => {
                if let Some(a) = s.funding.iter_mut().find(|a| a.grant_id == grant_id) {
                    a.tranches.push(Tranche { amount, paid_on });
                }
            }
            E::MentorAssigned { mentor_id } => s.mentors.push(mentor_id),
            E::MentorReleased { mentor_id, .. } => s.mentors.retain(|m| *m != mentor_id),
            E::SessionLogged {
                session_id,
                minutes,
                ..
            } => {
                s.sessions += 1;
                s.session_minutes += u64::from(minutes.get());
                s.session_ids.push(session_id);
            }
            E::MilestoneSet {
                milestone_id,
                title,
                due_on,
            } => s.milestones.push(Milestone {
                milestone_id,
                title,
                due_on,
                achieved_on: None,
            }),
            E::MilestoneAchieved {
                milestone_id,
                achieved_on,
            } => {
                if let Some(m) = s
                    .milestones
                    .iter_mut()
                    .find(|m| m.milestone_id == milestone_id)
                {
                    m.achieved_on = Some(achieved_on);
                }
            }
            E::KpisRecorded {
                month,
                revenue,
                headcount,
                customers,
            } => {
                s.kpis.insert(
                    month,
                    Kpis {
                        revenue,
                        headcount,
                        customers,
                    },
                );
            }
        }
    }
}

impl Startup {
    /// Checks a command against the rules and says what happens. Pure: no I/O, no clock.
    pub fn decide(&self, command: StartupCommand) -> Result<Vec<StartupEvent>, StartupError> {
        use StartupCommand as C;
        use StartupEvent as E;
        let s = match (&self.state, &command) {
            (Some(_), C::Apply { .. }) => return Err(StartupError::AlreadyExists),
            (None, C::Apply { .. }) => {
                let C::Apply {
                    name,
                    sector,
                    founders,
                    cohort,
                    applied_on,
                } = command
                else {
                    unreachable!("matched above")
                };
                if founders.is_empty() {
                    return Err(StartupError::NoFounders);
                }
                return Ok(vec![E::Applied {
                    name,
                    sector,
                    founders: dedup(founders.into_vec()),
                    cohort,
                    applied_on,
                }]);
            }
            (None, _) => return Err(StartupError::NotFound),
            (Some(s), _) => s,
        };
        if s.voided {
            return Err(StartupError::Voided);
        }
        let stage = s.stage;
        let withdrawing = matches!(command, C::Withdraw { .. });
        let event = match command {
            C::Apply { .. } => unreachable!("handled above"),
            C::Void { reason } => E::Voided { reason },
            C::Advance {
                to,
                override_reason,
                on,
                today,
            } => {
                if stage == Stage::Graduated {
                    return Err(StartupError::NoFurtherStage);
                }
                if !stage.is_active() {
                    return Err(StartupError::NotActive { stage });
                }
                let next = stage.next().expect("active stages have a next stage");
                let to = to.unwrap_or(next);
                let (Some(from_rank), Some(to_rank)) = (stage.rank(), to.rank()) else {
                    return Err(StartupError::InvalidTransition { from: stage, to });
                };
                if to_rank <= from_rank {
                    return Err(StartupError::InvalidTransition { from: stage, to });
                }
                if to_rank > from_rank + 1 && override_reason.is_none() {
                    return Err(StartupError::SkipRequiresOverride { from: stage, to });
                }
                dated(s, on, today)?;
                // A reason given for an ordinary step is kept: it is the officer's record.
                E::StageAdvanced {
                    from: stage,
                    to,
                    override_reason,
                    on: Some(on),
                }
            }
            C::Reject { reason, on, today } => {
                if !stage.is_active() {
                    return Err(StartupError::NotActive { stage });
                }
                if !matches!(stage, Stage::Application | Stage::Screening) {
                    return Err(StartupError::RejectionTooLate { stage });
                }
                dated(s, on, today)?;
                E::Rejected {
                    from: stage,
                    reason,
                    on: Some(on),
                }
            }
            // Leaving the programme, from any active stage, on a day that fits the record.
            C::Withdraw { reason, on, today } | C::Exit { reason, on, today } => {
                require_active(stage)?;
                dated(s, on, today)?;
                let (from, on) = (stage, Some(on));
                if withdrawing {
                    E::Withdrawn { from, reason, on }
                } else {
                    E::Exited { from, reason, on }
                }
            }
            C::AssignCohort { cohort } => {
                require_active(stage)?;
                E::CohortAssigned { cohort }
            }
            C::RecordEquityRound {
                round_id,
                round,
                amount,
                investors,
                closed_on,
            } => {
                require_fundable(stage)?;
                require_positive(&amount)?;
                if investors.is_empty() {
                    return Err(StartupError::NoInvestors);
                }
                if s.equity_rounds.iter().any(|r| r.round_id == round_id) {
                    return Err(StartupError::DuplicateId);
                }
                E::EquityRoundRecorded {
                    round_id,
                    round,
                    amount,
                    investors: dedup(investors.into_vec()),
                    closed_on,
                }
            }
            C::AwardFunding {
                grant_id,
                programme,
                kind,
                amount,
                awarded_on,
            } => {
                require_fundable(stage)?;
                require_positive(&amount)?;
                if awarded_on < s.applied_on {
                    return Err(StartupError::AwardBeforeApplication {
                        applied_on: s.applied_on,
                    });
                }
                if s.funding.iter().any(|a| a.grant_id == grant_id) {
                    return Err(StartupError::DuplicateId);
                }
                E::FundingAwarded {
                    grant_id,
                    programme,
                    kind,
                    amount,
                    awarded_on,
                }
            }
            C::PayTranche {
                grant_id,
                amount,
                paid_on,
                today,
            } => {
                require_fundable(stage)?;
                require_positive(&amount)?;
                not_after("a tranche", paid_on, today)?;
                let award = s
                    .funding
                    .iter()
                    .find(|a| a.grant_id == grant_id)
                    .ok_or(StartupError::UnknownGrant(grant_id))?;
                if award.amount.currency != amount.currency {
                    return Err(StartupError::CurrencyMismatch {
                        expected: award.amount.currency,
                        got: amount.currency,
                    });
                }
                if paid_on < award.awarded_on {
                    return Err(StartupError::TrancheBeforeAward);
                }
                let remaining_cents = award.amount.cents - award.paid_cents();
                if amount.cents > remaining_cents {
                    return Err(StartupError::TrancheExceedsAward { remaining_cents });
                }
                E::TranchePaid {
                    grant_id,
                    amount,
                    paid_on,
                }
            }
            C::AssignMentor {
                mentor_id,
                standing,
            } => {
                require_active(stage)?;
                match standing {
                    MentorStanding::Active => {}
                    MentorStanding::Retired => return Err(StartupError::MentorRetired(mentor_id)),
                    MentorStanding::Unknown => return Err(StartupError::UnknownMentor(mentor_id)),
                }
                if s.mentors.contains(&mentor_id) {
                    return Err(StartupError::MentorAlreadyAssigned(mentor_id));
                }
                E::MentorAssigned { mentor_id }
            }
            C::ReleaseMentor { mentor_id, reason } => {
                if !s.mentors.contains(&mentor_id) {
                    return Err(StartupError::MentorNotAssigned(mentor_id));
                }
                E::MentorReleased { mentor_id, reason }
            }
            C::LogSession {
                session_id,
                mentor_id,
                held_on,
                minutes,
                topics,
                today,
            } => {
                require_active(stage)?;
                not_after("a session", held_on, today)?;
                if !s.mentors.contains(&mentor_id) {
                    return Err(StartupError::MentorNotAssigned(mentor_id));
                }
                if s.session_ids.contains(&session_id) {
                    return Err(StartupError::DuplicateId);
                }
                E::SessionLogged {
                    session_id,
                    mentor_id,
                    held_on,
                    minutes,
                    topics: dedup(topics.into_vec()),
                }
            }
            C::SetMilestone {
                milestone_id,
                title,
                due_on,
            } => {
                require_active(stage)?;
                if s.milestones.iter().any(|m| m.milestone_id == milestone_id) {
                    return Err(StartupError::DuplicateId);
                }
                E::MilestoneSet {
                    milestone_id,
                    title,
                    due_on,
                }
            }
            C::AchieveMilestone {
                milestone_id,
                achieved_on,
            } => {
                require_active(stage)?;
                let m = s
                    .milestones
                    .iter()
                    .find(|m| m.milestone_id == milestone_id)
                    .ok_or(StartupError::UnknownMilestone(milestone_id))?;
                if m.achieved_on.is_some() {
                    return Err(StartupError::MilestoneAlreadyAchieved(milestone_id));
                }
                E::MilestoneAchieved {
                    milestone_id,
                    achieved_on,
                }
            }
            C::RecordKpis {
                month,
                revenue,
                headcount,
                customers,
            } => {
                let in_programme = matches!(
                    stage,
                    Stage::PreIncubation
                        | Stage::Incubation
                        | Stage::Acceleration
                        | Stage::Graduated
                );
                if !in_programme {
                    return Err(StartupError::NotInProgramme { stage });
                }
                E::KpisRecorded {
                    month,
                    revenue,
                    headcount: headcount.get(),
                    customers,
                }
            }
        };
        Ok(vec![event])
    }
}

/// A stage change on `on`: not after `today`, nor before the current stage was entered.
fn dated(s: &StartupState, on: NaiveDate, today: NaiveDate) -> Result<(), StartupError> {
    not_after("a stage change", on, today)?;
    match s.stage_entered_on {
        Some(entered_on) if on < entered_on => {
            Err(StartupError::StageDateBeforeEntry { entered_on })
        }
        _ => Ok(()),
    }
}

/// Something that has happened, dated `on`: not after `today`.
fn not_after(what: &'static str, on: NaiveDate, today: NaiveDate) -> Result<(), StartupError> {
    if on > today {
        Err(StartupError::InTheFuture { what, today })
    } else {
        Ok(())
    }
}

fn require_active(stage: Stage) -> Result<(), StartupError> {
    if stage.is_active() {
        Ok(())
    } else {
        Err(StartupError::NotActive { stage })
    }
}

/// Funding may be recorded at any stage but a closed one: a graduate still raises rounds.
fn require_fundable(stage: Stage) -> Result<(), StartupError> {
    match stage {
        Stage::Rejected | Stage::Withdrawn | Stage::Exited => {
            Err(StartupError::FundingNotAllowed { stage })
        }
        _ => Ok(()),
    }
}

fn require_positive(amount: &Money) -> Result<(), StartupError> {
    if amount.cents > 0 {
        Ok(())
    } else {
        Err(StartupError::NonPositiveAmount)
    }
}

/// Removes repeats, keeping first occurrences in order.
fn dedup<T: PartialEq>(items: Vec<T>) -> Vec<T> {
    let mut out: Vec<T> = Vec::with_capacity(items.len());
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}
