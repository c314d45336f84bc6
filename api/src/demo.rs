//! `incubator demo`: a realistic year (2026) at the hub, loaded through the same command path
//! the API uses (`Store::execute`, real events, real metadata), deterministic from a seed.
//!
//! What it loads, per hub (`--scale N` loads N hubs' worth, each with its own names):
//! - the three buildings and ~95 spaces: offices and studios in A, ateliers of 69 and 144 m²,
//!   the 529 m² hall, the 445 m² Hangar and shop units in B, 39 rental spaces, the Sonotron's
//!   9 rehearsal rooms and a recording studio in C;
//! - ~70 tenant organisations and the startups holding ~95 % of the workspaces;
//! - two startup cohorts moving through the stages, with Fit 4 Start grants in tranches and
//!   equity rounds; ~15 mentors with monthly sessions;
//! - six residencies and four collaborations;
//! - thousands of hourly bookings of the Sonotron rooms, the Hangar and the recording studio.
//!
//! Ids are UUID v7 built from the simulated date and the seeded generator, so the same seed
//! gives the same ids, payloads and figures (commit times and positions are real).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use cqrs_es::persist::PersistedEventStore;
use cqrs_es::Aggregate;
use incubator_domain::collaboration::{
    CoProduction, CollabMilestone, CollaborationCommand, Output, OutputKind, Participant,
    PartyKind, Phase, Scope,
};
use incubator_domain::mentor::{MentorCommand, MentorStanding};
use incubator_domain::residency::{Agreement, PublicMoment, PublicMomentKind, ResidencyCommand};
use incubator_domain::space::{
    Building, Occupant, OccupantKind, OccupantStanding, OpeningHours, SpaceCommand, SpaceKind,
};
use incubator_domain::startup::{FundingKind, RoundKind, Stage, StartupCommand};
use incubator_domain::values::{
    AtMost, Cohort, Currency, Expertise, GrantId, Headcount, InvestorName, MentorId, MilestoneId,
    Minutes, Money, OrganisationName, PersonId, ProgrammeName, Proposal, Reason, RoundId, Sector,
    SessionId, Title, YearMonth,
};
use incubator_domain::{CommandInfo, DomainRule};
use indicatif::{ProgressBar, ProgressStyle};
use uuid::Uuid;

use incubator_server::app::{Actor, App, Caller, RequestId};
use incubator_server::auth::Role;
use incubator_server::metrics::Metrics;
use incubator_server::people::{self, Details};
use incubator_server::store::{EventRepo, Store};

/// `incubator demo` arguments.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// The (empty) event store to load: sqlite://PATH or postgres://USER@HOST/DB.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://incubator.db")]
    pub database_url: String,
    /// The generator's seed: the same seed loads the same data.
    #[arg(long, default_value_t = 1535)]
    pub seed: u64,
    /// How many hubs' worth of data to load (for benchmarks).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub scale: u32,
}

/// SplitMix64: small, fast, and the same sequence on every platform and version.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }

    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }

    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// A UUID v7 for a record made at `at` (simulated), random bits from the seed.
    fn id_at(&mut self, at: NaiveDate) -> Uuid {
        let ms = at
            .and_hms_opt(12, 0, 0)
            .map_or(0, |t| t.and_utc().timestamp_millis()) as u64
            + self.below(43_200_000);
        let mut bytes = [0u8; 10];
        bytes[..8].copy_from_slice(&self.next().to_le_bytes());
        bytes[8..].copy_from_slice(&self.next().to_le_bytes()[..2]);
        uuid::Builder::from_unix_timestamp_millis(ms, &bytes).into_uuid()
    }
}

fn day(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, d).unwrap_or(NaiveDate::MIN)
}

const FIRST: &[&str] = &[
    "Ana", "Ben", "Carla", "David", "Elena", "Filipe", "Greta", "Hugo", "Inês", "Jonas", "Katrin",
    "Luc", "Marie", "Nico", "Olga", "Pol", "Rita", "Sven", "Tessy", "Yann", "Zoé", "Mika", "Lena",
    "Romain", "Sofia", "Tom", "Nadia", "Marc", "Julie", "Paulo",
];
const LAST: &[&str] = &[
    "Schmit", "Muller", "Weber", "Wagner", "Hoffmann", "Pereira", "da Silva", "Thill", "Kremer",
    "Reuter", "Klein", "Feller", "Becker", "Ferreira", "Majerus", "Hansen", "Rossi", "Dupont",
    "Lentz", "Scholtes", "Kieffer", "Marques", "Bernard", "Meyer",
];
const WORDS: &[&str] = &[
    "Slag",
    "Furnace",
    "Rust",
    "Ore",
    "Blast",
    "Cinder",
    "Steel",
    "Forge",
    "Anvil",
    "Minett",
    "Red Rock",
    "Crucible",
    "Ingot",
    "Foundry",
    "Alloy",
    "Kiln",
    "Ember",
    "Carbon",
    "Quench",
    "Tempered",
    "Spark",
    "Molten",
    "Ironworks",
    "Beam",
];
const SUFFIX: &[&str] = &[
    "Labs",
    "Studio",
    "Collective",
    "Works",
    "Sound",
    "Pixels",
    "Games",
    "Media",
    "Design",
    "Robotics",
    "Audio",
    "Films",
    "Textiles",
    "Press",
    "Analytics",
    "XR",
];
const SECTORS: &[&str] = &[
    "game development",
    "music technology",
    "immersive media",
    "design",
    "fashion tech",
    "audiovisual production",
    "creative AI",
    "publishing",
    "architecture",
    "edtech",
];
const EXPERTISE: &[&str] = &[
    "fundraising",
    "go-to-market",
    "intellectual property",
    "music business",
    "game design",
    "UX research",
    "hardware prototyping",
    "pricing",
    "EU funding",
    "team building",
    "sound engineering",
    "film distribution",
    "legal",
    "accounting",
    "exhibition design",
];
const DISCIPLINES: &[&str] = &[
    "sound art",
    "light art",
    "sculpture",
    "choreography",
    "photography",
    "media art",
    "textile art",
    "creative coding",
    "materials science",
    "robotics",
    "architecture",
];
const INVESTORS: &[&str] = &[
    "Luxembourg Future Fund",
    "Digital Tech Fund",
    "Expon Capital",
    "BIL Business Angels",
    "LBAN",
    "Mangrove Capital",
    "Paladin",
    "Tera Ventures",
];

/// One command for one aggregate, planned in order.
enum Step {
    /// A residency's arrival: its studio and the residency, through the application layer.
    Arrive(Uuid, NaiveDate, Uuid),
    Startup(Uuid, StartupCommand),
    Mentor(Uuid, MentorCommand),
    Space(Uuid, SpaceCommand),
    Residency(Uuid, ResidencyCommand),
    Collaboration(Uuid, CollaborationCommand),
}

/// What the plan of one hub holds besides its steps.
pub(crate) struct Plan {
    people: Vec<(Uuid, Details)>,
    steps: Vec<Step>,
    /// Per bookable room, its bookings (and cancellations) in order: one lane each.
    lanes: Vec<Vec<Step>>,
}

fn text<T>(
    parse: impl Fn(&str) -> Result<T, incubator_domain::values::ValueError>,
    s: impl AsRef<str>,
) -> T {
    let s = s.as_ref();
    parse(s).unwrap_or_else(|e| panic!("demo text {s:?}: {e}"))
}

/// A bounded list of the plan (the plan never exceeds a bound: a panic is a bug in it).
fn list<T, const MAX: usize>(items: Vec<T>) -> AtMost<T, MAX> {
    AtMost::new(items).unwrap_or_else(|e| panic!("{e}"))
}

fn eur(cents: i64) -> Money {
    Money::new(cents, Currency::EUR).unwrap_or_else(|e| panic!("demo amount: {e}"))
}

/// Builds the plan of hub number `hub` (0-based).
fn plan(rng: &mut Rng, hub: u32) -> Plan {
    let tag = if hub == 0 {
        String::new()
    } else {
        format!(" ({})", hub + 1)
    };
    let mut people = Vec::new();
    let mut steps = Vec::new();
    let person = |rng: &mut Rng, people: &mut Vec<(Uuid, Details)>, at: NaiveDate| {
        let id = rng.id_at(at);
        let name = format!("{} {}", rng.pick(FIRST), rng.pick(LAST));
        let email = format!(
            "{}.{}@example.lu",
            name.split(' ').next().unwrap_or("x").to_lowercase(),
            rng.below(10_000)
        );
        let details: Details = serde_json::from_value(serde_json::json!({
            "name": name, "email": email,
            "phone": format!("+352 6{:02} {:03} {:03}", rng.below(100), rng.below(1000), rng.below(1000)),
        }))
        .unwrap_or_else(|e| panic!("demo person: {e}"));
        people.push((id, details));
        PersonId(id)
    };

    // Spaces.
    let mut workspaces: Vec<(Uuid, u32)> = Vec::new();
    let mut ateliers: Vec<Uuid> = Vec::new();
    let mut rooms: Vec<(Uuid, OpeningHours)> = Vec::new();
    let opening = |o: u32, c: u32| OpeningHours {
        opens: NaiveTime::from_hms_opt(o, 0, 0).unwrap_or(NaiveTime::MIN),
        closes: NaiveTime::from_hms_opt(c, 0, 0).unwrap_or(NaiveTime::MIN),
    };
    let space = |rng: &mut Rng,
                 steps: &mut Vec<Step>,
                 building: Building,
                 kind: SpaceKind,
                 name: String,
                 area: u32,
                 hours: Option<OpeningHours>| {
        let id = rng.id_at(day(1, 2));
        steps.push(Step::Space(
            id,
            SpaceCommand::Register {
                building,
                kind,
                name: text(Title::parse, format!("{name}{tag}")),
                area_m2: area,
                capacity: 1,
                rent_per_m2: eur(600 + 50 * rng.range(-2, 2)),
                opening_hours: hours,
                registered_on: day(1, 1),
            },
        ));
        (id, area)
    };
    // The three buildings' spaces, in the order they are registered (the generator draws in
    // this order: a random kind first where there is one, then the area, then the space's id
    // and rent). Of the Zilleschapp's ateliers, the first three are the residencies' studios;
    // spaces with opening hours are rooms booked by the hour.
    use Building::{Kesselbetrib, Schraeinerei, Zilleschapp};
    use SpaceKind::{Hall, Office, RehearsalRoom, ShopUnit, Studio, Workshop};
    // Building, kind (none: drawn), how many, the i-th's name and area, opening hours, and how
    // many of the first are the residencies' studios.
    type Planned = (
        Building,
        Option<SpaceKind>,
        u32,
        Name,
        Area,
        Option<OpeningHours>,
        u32,
    );
    type Name = fn(u32) -> String;
    type Area = fn(&mut Rng, u32) -> u32;
    #[rustfmt::skip]
    let plans: [Planned; 9] = [
        (Schraeinerei, Some(Office), 30, |i| format!("A-{}.{:02}", 1 + i / 10, i % 10 + 1),
            |rng, _| rng.range(18, 64) as u32, None, 0),
        (Schraeinerei, Some(Studio), 8, |i| format!("A-S{:02}", i + 1),
            |rng, _| rng.range(30, 90) as u32, None, 0),
        (Zilleschapp, Some(Studio), 12, |i| format!("B-Atelier {:02}", i + 1),
            |_, i| if i % 3 == 0 { 144 } else { 69 }, None, 3),
        (Zilleschapp, Some(ShopUnit), 6, |i| format!("B-Shop {}", i + 1),
            |rng, _| rng.range(25, 60) as u32, None, 0),
        (Zilleschapp, Some(Hall), 1, |_| "B-Hall".into(), |_, _| 529, Some(opening(8, 23)), 0),
        (Zilleschapp, Some(Hall), 1, |_| "Hangar".into(), |_, _| 445, Some(opening(8, 23)), 0),
        (Kesselbetrib, None, 39, |i| format!("C-{:02}", i + 1),
            |rng, _| rng.range(20, 220) as u32, None, 0),
        (Kesselbetrib, Some(RehearsalRoom), 9, |i| format!("Sonotron {}", i + 1),
            |rng, _| rng.range(18, 35) as u32, Some(opening(10, 23)), 0),
        (Kesselbetrib, Some(RehearsalRoom), 1, |_| "Sonotron recording studio".into(),
            |_, _| 60, Some(opening(9, 22)), 0),
    ];
    for (building, kind, count, name, area, hours, studios) in plans {
        for i in 0..count {
            let kind = match kind {
                Some(kind) => kind,
                None => *rng.pick(&[Office, Workshop, Studio]),
            };
            let area = area(rng, i);
            let s = space(rng, &mut steps, building, kind, name(i), area, hours);
            match hours {
                Some(hours) => rooms.push((s.0, hours)),
                None if i < studios => ateliers.push(s.0),
                None => workspaces.push(s),
            }
        }
    }

    // Mentors.
    let mut mentors = Vec::new();
    for i in 0..15 {
        let id = rng.id_at(day(1, 5));
        let p = person(rng, &mut people, day(1, 5));
        let mut areas: Vec<&str> = Vec::new();
        while areas.len() < 2 + (i % 3) {
            let a = *rng.pick(EXPERTISE);
            if !areas.contains(&a) {
                areas.push(a);
            }
        }
        steps.push(Step::Mentor(
            id,
            MentorCommand::Register {
                person_id: p,
                expertise: areas.iter().map(|a| text(Expertise::parse, a)).collect(),
                registered_on: day(1, 5),
            },
        ));
        mentors.push(MentorId(id));
    }
    let retiring = mentors[14];
    steps.push(Step::Mentor(
        retiring.0,
        MentorCommand::Retire {
            reason: text(Reason::parse, "moved abroad"),
            retired_on: day(9, 30),
        },
    ));
    let active_mentors = &mentors[..14];

    // Startups: two cohorts.
    let mut startups: Vec<(Uuid, Stage)> = Vec::new();
    for (cohort, applied_month) in [("2026-spring", 1u32), ("2026-autumn", 7)] {
        // A spring cohort ten months in, an autumn one four months in.
        let mut outcomes: Vec<Stage> = if applied_month == 1 {
            [
                (Stage::Rejected, 3),
                (Stage::Screening, 1),
                (Stage::PreIncubation, 2),
                (Stage::Incubation, 5),
                (Stage::Acceleration, 2),
                (Stage::Withdrawn, 1),
            ]
        } else {
            [
                (Stage::Rejected, 3),
                (Stage::Screening, 2),
                (Stage::PreIncubation, 6),
                (Stage::Incubation, 3),
                (Stage::Acceleration, 0),
                (Stage::Withdrawn, 0),
            ]
        }
        .into_iter()
        .flat_map(|(stage, n)| std::iter::repeat_n(stage, n))
        .collect();
        for k in (1..outcomes.len()).rev() {
            outcomes.swap(k, rng.below(k as u64 + 1) as usize);
        }
        for (i, target) in outcomes.iter().copied().enumerate() {
            let id = rng.id_at(day(applied_month, 10));
            let applied_on = day(applied_month, 5 + (i as u32 % 20));
            let founders = (0..1 + rng.below(3))
                .map(|_| person(rng, &mut people, applied_on))
                .collect::<Vec<_>>();
            let name = format!("{} {}{tag}", rng.pick(WORDS), rng.pick(SUFFIX));
            steps.push(Step::Startup(
                id,
                StartupCommand::Apply {
                    name: text(OrganisationName::parse, format!("{name} {}", i + 1)),
                    sector: Some(text(Sector::parse, rng.pick(SECTORS))),
                    founders: list(founders.clone()),
                    cohort: Some(text(Cohort::parse, cohort)),
                    applied_on,
                },
            ));
            // The simulated calendar: each stage change is decided on its own day.
            let advance = |to, on| StartupCommand::Advance {
                to: Some(to),
                override_reason: None,
                on,
                today: on,
            };
            // Stage days follow from the application, not from the random draws (so that
            // adding them left every other figure of the demo as it was).
            let n = i as i64;
            let screening_on = applied_on + Duration::days(10 + n % 7);
            let pre_on = screening_on + Duration::days(28 + n % 5);
            let incubation_on = pre_on + Duration::days(45 + n % 9);
            steps.push(Step::Startup(id, advance(Stage::Screening, screening_on)));
            match target {
                Stage::Rejected => steps.push(Step::Startup(
                    id,
                    StartupCommand::Reject {
                        reason: text(Reason::parse, "jury: market too narrow for now"),
                        on: screening_on + Duration::days(21),
                        today: screening_on + Duration::days(21),
                    },
                )),
                Stage::Screening => {}
                _ => {
                    steps.push(Step::Startup(id, advance(Stage::PreIncubation, pre_on)));
                    let mentor = *rng.pick(active_mentors);
                    steps.push(Step::Startup(
                        id,
                        StartupCommand::AssignMentor {
                            mentor_id: mentor,
                            standing: MentorStanding::Active,
                        },
                    ));
                    let start = applied_month + 1;
                    for month in start..=11 {
                        if rng.chance(0.8) {
                            steps.push(Step::Startup(
                                id,
                                StartupCommand::LogSession {
                                    session_id: SessionId(rng.id_at(day(month, 10))),
                                    mentor_id: mentor,
                                    held_on: day(month, 1 + rng.below(27) as u32),
                                    minutes: Minutes::parse(30 * (1 + rng.below(4) as u32))
                                        .unwrap_or_else(|e| panic!("{e}")),
                                    topics: list(vec![text(Title::parse, rng.pick(EXPERTISE))]),
                                    today: day(12, 31),
                                },
                            ));
                        }
                    }
                    if matches!(
                        target,
                        Stage::Incubation | Stage::Acceleration | Stage::Withdrawn
                    ) {
                        steps.push(Step::Startup(id, advance(Stage::Incubation, incubation_on)));
                        let grant = GrantId(rng.id_at(day(start + 1, 1)));
                        let awarded_on = day(start + 1, 15);
                        steps.push(Step::Startup(
                            id,
                            StartupCommand::AwardFunding {
                                grant_id: grant,
                                programme: text(ProgrammeName::parse, "Fit 4 Start"),
                                kind: FundingKind::Grant,
                                amount: eur(15_000_000),
                                awarded_on,
                            },
                        ));
                        steps.push(Step::Startup(
                            id,
                            StartupCommand::PayTranche {
                                grant_id: grant,
                                amount: eur(5_000_000),
                                paid_on: awarded_on + Duration::days(14),
                                today: day(12, 31),
                            },
                        ));
                        if applied_month == 1 && rng.chance(0.7) {
                            steps.push(Step::Startup(
                                id,
                                StartupCommand::PayTranche {
                                    grant_id: grant,
                                    amount: eur(8_000_000),
                                    paid_on: day(9, 15),
                                    today: day(12, 31),
                                },
                            ));
                        }
                        for month in (start + 1)..=10 {
                            steps.push(Step::Startup(
                                id,
                                StartupCommand::RecordKpis {
                                    month: text(YearMonth::parse, format!("2026-{month:02}")),
                                    revenue: eur(100 * rng.range(0, 40_000)),
                                    headcount: Headcount::parse(1 + rng.below(8) as u32)
                                        .unwrap_or_else(|e| panic!("{e}")),
                                    customers: rng.below(60) as u32,
                                },
                            ));
                        }
                        if rng.chance(0.4) {
                            let (round, euros) = if rng.chance(0.7) {
                                (RoundKind::PreSeed, rng.range(50, 500) * 1_000)
                            } else {
                                (RoundKind::Seed, rng.range(300, 2_000) * 1_000)
                            };
                            steps.push(Step::Startup(
                                id,
                                StartupCommand::RecordEquityRound {
                                    round_id: RoundId(rng.id_at(day(10, 1))),
                                    round,
                                    amount: eur(100 * euros),
                                    investors: list(vec![text(
                                        InvestorName::parse,
                                        rng.pick(INVESTORS),
                                    )]),
                                    closed_on: day(10, 1 + rng.below(27) as u32),
                                },
                            ));
                        }
                        let milestone = MilestoneId(rng.id_at(day(start, 20)));
                        steps.push(Step::Startup(
                            id,
                            StartupCommand::SetMilestone {
                                milestone_id: milestone,
                                title: text(Title::parse, "first paying customer"),
                                due_on: Some(day(10, 31)),
                            },
                        ));
                        if rng.chance(0.6) {
                            steps.push(Step::Startup(
                                id,
                                StartupCommand::AchieveMilestone {
                                    milestone_id: milestone,
                                    achieved_on: day(9, 1 + rng.below(27) as u32),
                                },
                            ));
                        }
                    }
                    if target == Stage::Acceleration {
                        steps.push(Step::Startup(
                            id,
                            advance(
                                Stage::Acceleration,
                                incubation_on + Duration::days(120 + n % 11),
                            ),
                        ));
                    }
                    if target == Stage::Withdrawn {
                        steps.push(Step::Startup(
                            id,
                            StartupCommand::Withdraw {
                                reason: text(Reason::parse, "founders took jobs abroad"),
                                on: incubation_on + Duration::days(40),
                                today: incubation_on + Duration::days(40),
                            },
                        ));
                    }
                }
            }
            startups.push((id, target));
        }
    }

    // Workspaces: startups in the programme and ~70 tenant organisations, ~95 % let.
    let in_programme: Vec<Uuid> = startups
        .iter()
        .filter(|(_, s)| {
            matches!(
                s,
                Stage::Incubation | Stage::Acceleration | Stage::PreIncubation
            )
        })
        .map(|(id, _)| *id)
        .collect();
    let mut next_startup = in_programme.iter();
    for (n, (space_id, _)) in workspaces.iter().enumerate() {
        if rng.chance(0.05) {
            continue; // vacant
        }
        let occupant = match next_startup.next() {
            Some(id) if n % 3 == 0 => Occupant {
                kind: OccupantKind::Startup,
                id: *id,
                name: None,
            },
            _ => Occupant {
                kind: OccupantKind::Tenant,
                id: rng.id_at(day(1, 1)),
                name: Some(text(
                    OrganisationName::parse,
                    format!("{} {}{tag} {}", rng.pick(WORDS), rng.pick(SUFFIX), n + 1),
                )),
            },
        };
        let allocation_id = rng.id_at(day(1, 2));
        let from = day(1 + rng.below(3) as u32, 1);
        let ends = rng.chance(0.1);
        steps.push(Step::Space(
            *space_id,
            SpaceCommand::Allocate {
                allocation_id,
                occupant,
                standing: OccupantStanding::Known,
                from,
                to: None,
            },
        ));
        if ends {
            steps.push(Step::Space(
                *space_id,
                SpaceCommand::EndAllocation {
                    allocation_id,
                    last_day: day(6, 30),
                    reason: Some(text(Reason::parse, "moved out")),
                },
            ));
        }
    }

    // Residencies: six applications to the open call.
    let mut residents = Vec::new();
    for i in 0..6u32 {
        let id = rng.id_at(day(2, 1));
        let artist = person(rng, &mut people, day(2, 1));
        let discipline = *rng.pick(DISCIPLINES);
        let from = day(3 + i, 1);
        let to = from + Duration::days(89);
        steps.push(Step::Residency(
            id,
            ResidencyCommand::Apply {
                call: text(Title::parse, format!("Open call 2026{tag}")),
                artist,
                discipline: text(Expertise::parse, discipline),
                proposal: text(
                    Proposal::parse,
                    format!("A {discipline} project on the memory of the Minett's steelworks"),
                ),
                requested_from: from,
                requested_to: to,
                applied_on: day(2, 1 + i),
            },
        ));
        match i {
            0 => steps.push(Step::Residency(
                id,
                ResidencyCommand::Decline {
                    reason: text(Reason::parse, "outside the call's theme"),
                },
            )),
            1 => steps.push(Step::Residency(
                id,
                ResidencyCommand::WaitList {
                    reason: Some(text(Reason::parse, "studios full until autumn")),
                },
            )),
            _ => {
                let atelier = ateliers[i as usize % ateliers.len()];
                steps.push(Step::Residency(id, ResidencyCommand::Accept));
                steps.push(Step::Residency(
                    id,
                    ResidencyCommand::SignAgreement {
                        agreement: Agreement {
                            starts_on: from,
                            ends_on: to,
                            stipend: eur(150_000 * 3),
                            studio_id: atelier,
                        },
                    },
                ));
                if i < 5 {
                    // The application layer allocates the studio of the agreement, then
                    // records the arrival, as an officer's request does.
                    steps.push(Step::Arrive(id, from, rng.id_at(from)));
                    let mentor = *rng.pick(active_mentors);
                    steps.push(Step::Residency(
                        id,
                        ResidencyCommand::AssignMentor {
                            mentor_id: mentor,
                            standing: MentorStanding::Active,
                        },
                    ));
                    steps.push(Step::Residency(
                        id,
                        ResidencyCommand::LogSession {
                            session_id: SessionId(rng.id_at(from)),
                            mentor_id: mentor,
                            held_on: from + Duration::days(20),
                            minutes: Minutes::parse(90).unwrap_or_else(|e| panic!("{e}")),
                            today: day(12, 31),
                        },
                    ));
                    if i < 4 {
                        steps.push(Step::Residency(
                            id,
                            ResidencyCommand::RecordPublicMoment {
                                moment: PublicMoment {
                                    moment_id: rng.id_at(to),
                                    kind: *rng.pick(&[
                                        PublicMomentKind::OpenStudio,
                                        PublicMomentKind::Exhibition,
                                        PublicMomentKind::Workshop,
                                    ]),
                                    title: text(Title::parse, format!("{discipline}: open studio")),
                                    held_on: to - Duration::days(7),
                                },
                            },
                        ));
                        steps.push(Step::Residency(
                            id,
                            ResidencyCommand::Complete { completed_on: to },
                        ));
                    }
                }
                residents.push((id, discipline));
            }
        }
    }

    // Collaborations: four, S+T+ARTS.
    for i in 0..4u32 {
        let id = rng.id_at(day(2, 15));
        let d1 = *rng.pick(DISCIPLINES);
        let d2 = if d1 == "robotics" {
            "sound art"
        } else {
            "robotics"
        };
        steps.push(Step::Collaboration(
            id,
            CollaborationCommand::Propose {
                title: text(
                    Title::parse,
                    format!(
                        "{} {}{tag}",
                        rng.pick(WORDS),
                        rng.pick(&["Light", "Echo", "Memory", "Machine"])
                    ),
                ),
                challenge: text(
                    Proposal::parse,
                    "Give the blast furnaces a second life through art and technology",
                ),
                disciplines: vec![text(Expertise::parse, d1), text(Expertise::parse, d2)],
                proposed_on: day(2, 15 + i),
            },
        ));
        let (resident, rd) = residents[i as usize % residents.len()];
        steps.push(Step::Collaboration(
            id,
            CollaborationCommand::Join {
                participant: Participant {
                    participant_id: rng.id_at(day(3, 1)),
                    kind: PartyKind::Residency,
                    party_id: resident,
                    name: None,
                    scope: None,
                    discipline: text(Expertise::parse, rd),
                    role: text(Title::parse, "artist"),
                },
            },
        ));
        let scope = [
            Scope::Local,
            Scope::National,
            Scope::European,
            Scope::European,
        ][i as usize];
        let rd_partner = if rd == d2 { d1 } else { d2 };
        steps.push(Step::Collaboration(
            id,
            CollaborationCommand::Join {
                participant: Participant {
                    participant_id: rng.id_at(day(3, 1)),
                    kind: PartyKind::Partner,
                    party_id: rng.id_at(day(3, 1)),
                    name: Some(text(
                        OrganisationName::parse,
                        *rng.pick(&[
                            "LIST",
                            "University of Luxembourg",
                            "Ars Electronica",
                            "WAAG Amsterdam",
                            "ZKM Karlsruhe",
                        ]),
                    )),
                    scope: Some(scope),
                    discipline: text(Expertise::parse, rd_partner),
                    role: text(Title::parse, "technology partner"),
                },
            },
        ));
        if let Some(&(startup, _)) = startups.iter().find(|(_, s)| *s == Stage::Incubation) {
            if i % 2 == 0 {
                steps.push(Step::Collaboration(
                    id,
                    CollaborationCommand::Join {
                        participant: Participant {
                            participant_id: rng.id_at(day(3, 1)),
                            kind: PartyKind::Startup,
                            party_id: startup,
                            name: None,
                            scope: None,
                            discipline: text(Expertise::parse, "creative coding"),
                            role: text(Title::parse, "prototyping"),
                        },
                    },
                ));
            }
        }
        if i == 3 {
            steps.push(Step::Collaboration(
                id,
                CollaborationCommand::Abandon {
                    reason: text(Reason::parse, "EU co-funding refused"),
                    abandoned_on: day(5, 1),
                },
            ));
            continue;
        }
        steps.push(Step::Collaboration(
            id,
            CollaborationCommand::RecordAgreement {
                agreement: CoProduction {
                    ip_terms: text(
                        Proposal::parse,
                        "Artwork to the artist; process to the partner; documentation CC BY",
                    ),
                    licence: text(Title::parse, "CC BY 4.0"),
                    signed_on: day(3, 10),
                },
            },
        ));
        steps.push(Step::Collaboration(
            id,
            CollaborationCommand::Activate {
                activated_on: day(3, 15),
            },
        ));
        steps.push(Step::Collaboration(
            id,
            CollaborationCommand::AddPhase {
                phase: Phase {
                    phase_id: rng.id_at(day(3, 15)),
                    title: text(Title::parse, "research"),
                    starts_on: day(3, 15),
                    ends_on: day(6, 30),
                },
            },
        ));
        let m = rng.id_at(day(3, 15));
        steps.push(Step::Collaboration(
            id,
            CollaborationCommand::SetMilestone {
                milestone: CollabMilestone {
                    milestone_id: m,
                    title: text(Title::parse, "first prototype"),
                    due_on: day(6, 30),
                    done_on: None,
                },
            },
        ));
        steps.push(Step::Collaboration(
            id,
            CollaborationCommand::AchieveMilestone {
                milestone_id: m,
                done_on: day(6, 20),
            },
        ));
        steps.push(Step::Collaboration(
            id,
            CollaborationCommand::RecordOutput {
                output: Output {
                    output_id: rng.id_at(day(6, 20)),
                    kind: OutputKind::Prototype,
                    title: text(Title::parse, "prototype v1"),
                    on: day(6, 20),
                },
            },
        ));
        if i == 0 {
            steps.push(Step::Collaboration(
                id,
                CollaborationCommand::RecordOutput {
                    output: Output {
                        output_id: rng.id_at(day(9, 20)),
                        kind: OutputKind::Exhibition,
                        title: text(Title::parse, "shown at the Hangar"),
                        on: day(9, 20),
                    },
                },
            ));
            steps.push(Step::Collaboration(
                id,
                CollaborationCommand::Conclude {
                    concluded_on: day(10, 31),
                },
            ));
        }
    }

    // Bookings: every day of the year, each room, a few slots; some cancelled.
    let bands: Vec<Occupant> = (0..25)
        .map(|n| Occupant {
            kind: OccupantKind::Tenant,
            id: rng.id_at(day(1, 1)),
            name: Some(text(
                OrganisationName::parse,
                format!(
                    "{} {}{tag} {}",
                    rng.pick(WORDS),
                    rng.pick(&["Band", "Ensemble", "Quartet", "Crew", "Choir"]),
                    n + 1
                ),
            )),
        })
        .collect();
    let mut lanes = Vec::new();
    for (room, hours) in &rooms {
        let mut lane = Vec::new();
        let mut date = day(1, 2);
        while date <= day(12, 31) {
            let mut hour = hours.opens.hour_of() + rng.below(3) as u32;
            let slots = rng.below(4);
            for _ in 0..slots {
                let length = 1 + rng.below(3) as u32;
                if hour + length > hours.closes.hour_of() {
                    break;
                }
                let starts = hub_instant(date, hour);
                let ends = hub_instant(date, hour + length);
                let booked_at = starts - Duration::days(1 + rng.below(20) as i64);
                let booking_id = rng.id_at(booked_at.date_naive());
                lane.push(Step::Space(
                    *room,
                    SpaceCommand::Book {
                        booking_id,
                        booked_by: rng.pick(&bands).clone(),
                        standing: OccupantStanding::Known,
                        starts_at: starts,
                        ends_at: ends,
                        now: booked_at,
                    },
                ));
                if rng.chance(0.05) {
                    lane.push(Step::Space(
                        *room,
                        SpaceCommand::CancelBooking {
                            booking_id,
                            reason: Some(text(Reason::parse, "gig moved")),
                            now: booked_at + Duration::hours(2),
                        },
                    ));
                }
                hour += length + rng.below(2) as u32;
            }
            date += Duration::days(1);
        }
        lanes.push(lane);
    }
    Plan {
        people,
        steps,
        lanes,
    }
}

trait HourOf {
    fn hour_of(&self) -> u32;
}

impl HourOf for NaiveTime {
    fn hour_of(&self) -> u32 {
        chrono::Timelike::hour(self)
    }
}

/// The UTC instant of `hour`:00 hub time on `date` (Luxembourg: UTC+1, UTC+2 in summer).
fn hub_instant(date: NaiveDate, hour: u32) -> DateTime<Utc> {
    incubator_domain::values::hub_instant(date.and_hms_opt(hour, 0, 0).unwrap_or_default())
}

/// Loads the demo and prints what it loaded.
pub async fn run(args: DemoArgs) -> Result<(), String> {
    let store = Store::open(&args.database_url)
        .await
        .map_err(|e| e.to_string())?;
    let existing = {
        let mut conn = store.read.pool.acquire().await.map_err(|e| e.to_string())?;
        incubator_projections::log::head_position(&mut conn)
            .await
            .map_err(|e| e.to_string())?
    };
    if existing > 0 {
        return Err(format!(
            "the store at {} already holds events: the demo loads into an empty store",
            incubator_server::store::redact(&args.database_url)
        ));
    }
    let started = Instant::now();
    let (plans, total, events, people_count) = load(&store, args.seed, args.scale, true).await?;
    // No server ran while the demo wrote: seal what it wrote, so that `audit verify` checks
    // every event against its seal.
    incubator_projections::audit::seal_all(&store.read)
        .await
        .map_err(|e| format!("cannot seal the demo's events: {e}"))?;
    let elapsed = started.elapsed();
    let mut by_type: HashMap<&str, usize> = HashMap::new();
    for p in &plans {
        for s in p.steps.iter().chain(p.lanes.iter().flatten()) {
            *by_type.entry(step_type(s)).or_default() += 1;
        }
    }
    let mut summary = format!(
        "demo loaded: {} commands ({} events) for {} hub(s) in {:.1} s, {} people in the registry\n",
        total,
        events,
        args.scale,
        elapsed.as_secs_f64(),
        people_count
    );
    let mut kinds: Vec<_> = by_type.into_iter().collect();
    kinds.sort();
    for (kind, n) in kinds {
        summary.push_str(&format!("  {kind:<14} {n:>7} commands\n"));
    }
    // A closed pipe (`| head`) is not an error worth a panic.
    let _ = std::io::Write::write_all(&mut std::io::stdout(), summary.as_bytes());
    store.close().await;
    Ok(())
}

/// Plans and loads `scale` hubs from `seed` into `store`; returns the plans, the commands run,
/// the events appended and the people added.
pub(crate) async fn load(
    store: &Store,
    seed: u64,
    scale: u32,
    show_progress: bool,
) -> Result<(Vec<Plan>, usize, u64, usize), String> {
    let mut rng = Rng(seed);
    let plans: Vec<Plan> = (0..scale).map(|hub| plan(&mut rng, hub)).collect();
    let total: usize = plans
        .iter()
        .map(|p| p.steps.len() + p.lanes.iter().map(Vec::len).sum::<usize>())
        .sum();
    let bar = if show_progress {
        ProgressBar::new(total as u64)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {elapsed_precise} [{bar:40}] {pos}/{len} commands ({per_sec}, {eta} left)",
        )
        .map_err(|e| e.to_string())?
        .progress_chars("=> "),
    );
    let counter = Arc::new(AtomicU64::new(0));
    let app = App::new(store.clone(), Arc::new(Metrics::default()));
    let mut people_count = 0;
    for p in &plans {
        for (id, details) in &p.people {
            people::insert(&store.read, *id, details, DEMO_ACTOR)
                .await
                .map_err(|e| format!("cannot add a person: {e}"))?;
            people_count += 1;
        }
        for step in &p.steps {
            execute(&app, step, &counter).await?;
            bar.inc(1);
        }
        // Each room's bookings in order, rooms side by side.
        let lanes = p.lanes.iter().map(|lane| {
            let (app, counter, bar) = (app.clone(), counter.clone(), bar.clone());
            async move {
                for step in lane {
                    execute(&app, step, &counter).await?;
                    bar.inc(1);
                }
                Ok::<(), String>(())
            }
        });
        for result in futures::future::join_all(lanes).await {
            result?;
        }
    }
    bar.finish_and_clear();
    Ok((plans, total, counter.load(Ordering::Relaxed), people_count))
}

fn step_type(s: &Step) -> &'static str {
    match s {
        Step::Startup(..) => "startups",
        Step::Mentor(..) => "mentors",
        Step::Space(..) => "spaces",
        Step::Residency(..) | Step::Arrive(..) => "residencies",
        Step::Collaboration(..) => "collaborations",
    }
}

/// Who the demo's commands and registry entries are from.
const DEMO_ACTOR: &str = "demo";

/// Who the demo's commands are from; the request id names the record and the command.
fn demo_caller(id: Uuid, name: &str) -> Caller {
    Caller {
        actor: Actor {
            name: DEMO_ACTOR.to_owned(),
            role: Role::Officer,
        },
        request: RequestId(format!("demo-{id}-{name}")),
        client_request: None,
        idempotency_key: None,
        expected_version: None,
    }
}

async fn execute(app: &App, step: &Step, counter: &AtomicU64) -> Result<(), String> {
    let store = &app.store;
    match step {
        Step::Arrive(id, on, allocation_id) => {
            let done = app
                .arrive(&demo_caller(*id, "Arrive"), *id, *on, *allocation_id)
                .await
                .map_err(|e| format!("Arrive on Residency {id}: {e}"))?;
            let appended = done.before.len() + done.committed.events.len() + done.after.len();
            counter.fetch_add(appended as u64, Ordering::Relaxed);
            Ok(())
        }
        Step::Startup(id, c) => {
            let c = with_standing(app, c.clone()).await?;
            exec(app, store.startups(), *id, c, counter).await
        }
        Step::Mentor(id, c) => exec(app, store.mentors(), *id, c.clone(), counter).await,
        Step::Space(id, c) => exec(app, store.spaces(), *id, c.clone(), counter).await,
        Step::Residency(id, c) => {
            let c = match c.clone() {
                ResidencyCommand::AssignMentor { mentor_id, .. } => {
                    ResidencyCommand::AssignMentor {
                        mentor_id,
                        standing: standing(app, mentor_id).await?,
                    }
                }
                other => other,
            };
            exec(app, store.residencies(), *id, c, counter).await
        }
        Step::Collaboration(id, c) => {
            exec(app, store.collaborations(), *id, c.clone(), counter).await
        }
    }
}

/// The mentor's standing, looked up as an officer's request looks it up.
async fn standing(app: &App, mentor: MentorId) -> Result<MentorStanding, String> {
    app.mentor_standing(mentor.0)
        .await
        .map_err(|e| format!("mentor {}: {e}", mentor.0))
}

async fn with_standing(app: &App, c: StartupCommand) -> Result<StartupCommand, String> {
    Ok(match c {
        StartupCommand::AssignMentor { mentor_id, .. } => StartupCommand::AssignMentor {
            mentor_id,
            standing: standing(app, mentor_id).await?,
        },
        other => other,
    })
}

async fn exec<A>(
    app: &App,
    events: &PersistedEventStore<EventRepo, A>,
    id: Uuid,
    command: A::Command,
    counter: &AtomicU64,
) -> Result<(), String>
where
    A: Aggregate<Services = ()> + Clone,
    A::Command: Clone + CommandInfo,
    A::Error: Clone + DomainRule,
    A::Event: incubator_domain::AnswerIds,
{
    let name = command.name();
    let committed = app
        .execute(&demo_caller(id, name), events, id, command)
        .await
        .map_err(|e| format!("{name} on {} {id}: {e}", A::TYPE))?;
    counter.fetch_add(committed.events.len() as u64, Ordering::Relaxed);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_plans_the_same_year() {
        let a = plan(&mut Rng(7), 0);
        let b = plan(&mut Rng(7), 0);
        let c = plan(&mut Rng(8), 0);
        let ids = |p: &Plan| -> Vec<Uuid> { p.people.iter().map(|(id, _)| *id).collect() };
        assert_eq!(ids(&a), ids(&b));
        assert_ne!(ids(&a), ids(&c));
        assert_eq!(a.steps.len(), b.steps.len());
        let bookings: usize = a.lanes.iter().map(Vec::len).sum();
        assert!(bookings > 2_000, "{bookings} bookings");
    }

    #[test]
    fn hub_instants_round_trip() {
        for (date, hour) in [
            (day(1, 15), 10),
            (day(7, 15), 22),
            (day(3, 29), 12),
            (day(10, 25), 9),
        ] {
            let t = hub_instant(date, hour);
            assert_eq!(
                incubator_domain::values::hub_local(t),
                date.and_hms_opt(hour, 0, 0).unwrap()
            );
        }
        assert_eq!(
            hub_instant(day(1, 15), 10).to_rfc3339(),
            "2026-01-15T09:00:00+00:00"
        );
        assert_eq!(
            hub_instant(day(7, 15), 10).to_rfc3339(),
            "2026-07-15T08:00:00+00:00"
        );
    }

    #[test]
    fn a_year_has_the_hubs_figures() {
        let p = plan(&mut Rng(1535), 0);
        let registered = p
            .steps
            .iter()
            .filter(|s| matches!(s, Step::Space(_, SpaceCommand::Register { .. })))
            .count();
        assert!((90..=110).contains(&registered), "{registered} spaces");
    }
}
