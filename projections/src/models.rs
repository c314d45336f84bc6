//! Every read model, by name: what the server runs and `incubator projections` rebuilds and
//! checks.

use crate::collaborations::Collaborations;
use crate::db::ReadDb;
use crate::funding::Funding;
use crate::log::LoggedEvent;
use crate::mentorship::Mentorship;
use crate::projector::{Applied, Conn, Projection};
use crate::rebuild::Rebuildable;
use crate::records::Records;
use crate::space_usage::SpaceUsage;

/// One of the read models.
#[derive(Debug, Clone, Copy)]
pub enum Model {
    Funding(Funding),
    Mentorship(Mentorship),
    Collaborations(Collaborations),
    SpaceUsage(SpaceUsage),
    Records(Records),
}

impl Model {
    /// Every read model.
    pub const ALL: [Model; 5] = [
        Model::Funding(Funding),
        Model::Mentorship(Mentorship),
        Model::Collaborations(Collaborations),
        Model::SpaceUsage(SpaceUsage),
        Model::Records(Records),
    ];

    /// The model named `name`, if any.
    pub fn named(name: &str) -> Option<Model> {
        Self::ALL.into_iter().find(|m| m.name() == name)
    }

    /// Every model's name.
    pub fn names() -> Vec<&'static str> {
        Self::ALL.iter().map(Projection::name).collect()
    }
}

/// `$body` on the model inside `$model`, whichever it is (`$m` names it).
macro_rules! each {
    ($model:expr, $m:ident => $body:expr) => {
        match $model {
            Model::Funding($m) => $body,
            Model::Mentorship($m) => $body,
            Model::Collaborations($m) => $body,
            Model::SpaceUsage($m) => $body,
            Model::Records($m) => $body,
        }
    };
}

impl Projection for Model {
    fn name(&self) -> &'static str {
        each!(self, m => m.name())
    }

    async fn apply(&self, conn: &mut Conn, db: &ReadDb, event: &LoggedEvent) -> Applied {
        each!(self, m => m.apply(conn, db, event).await)
    }

    async fn apply_batch(&self, conn: &mut Conn, db: &ReadDb, events: &[LoggedEvent]) -> Applied {
        each!(self, m => m.apply_batch(conn, db, events).await)
    }
}

impl Rebuildable for Model {
    fn tables(&self) -> &'static [&'static str] {
        each!(self, m => m.tables())
    }
}

/// Each read model's name, by its type: its checkpoint, and what reads of it wait on.
macro_rules! named {
    ($($model:ty => $name:literal),* $(,)?) => {
        $(impl crate::projector::Named for $model {
            const NAME: &'static str = $name;
        })*
    };
}

named! {
    crate::funding::Funding => "funding",
    crate::mentorship::Mentorship => "mentorship",
    crate::collaborations::Collaborations => "collaborations",
    crate::space_usage::SpaceUsage => "space_usage",
    crate::records::Records => "records",
}
