//! The figures auditors recompute, at the level of the read models: commands through the
//! application layer into the real event store, the projectors stepped by hand, and the
//! models' own queries read back. No HTTP: what is tested is the rule (docs/rules.md), on
//! both stores.

use chrono::NaiveDate;
use incubator_domain::space::{
    Building, Occupant, OccupantKind, OccupantStanding, SpaceCommand, SpaceKind,
};
use incubator_domain::startup::{Stage, StartupCommand};
use incubator_domain::values::{
    AtMost, Cohort, Currency, Money, OrganisationName, PersonId, Reason, Title,
};
use incubator_projections::funding::{self, Funding};
use incubator_projections::projector::{checkpoint, step, Projection};
use incubator_projections::space_usage::{self, Filter, SpaceUsage};
use incubator_server::app::{Actor, App, Caller, RequestId};
use incubator_server::auth::Role;
use incubator_server::metrics::Metrics;
use incubator_server::store::Store;
use incubator_tests::{both_stores, Backend, TestDb};
use uuid::Uuid;

both_stores!(
    rent_is_prorated_per_allocation_and_month_on_the_terms_it_was_made_with,
    utilisation_counts_each_place_of_a_shared_space_as_its_share_of_the_area,
    conversion_and_time_in_stage_follow_the_days_stage_changes_carry,
);

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn eur(cents: i64) -> Money {
    Money::new(cents, Currency::EUR).unwrap()
}

async fn hub(backend: Backend) -> (TestDb, App, Caller) {
    let db = TestDb::new(backend).await;
    let store = Store::open(&db.url).await.expect("open the store");
    let caller = Caller {
        actor: Actor {
            name: "figures".into(),
            role: Role::Officer,
        },
        request: RequestId("figures".into()),
        client_request: None,
        idempotency_key: None,
        expected_version: None,
    };
    (
        db,
        App::new(store, std::sync::Arc::new(Metrics::default())),
        caller,
    )
}

/// Applies the whole log to `model`. On PostgreSQL the log is read in commit order only up to
/// the cluster's oldest running transaction (other tests' included), so a step may find
/// nothing yet: step until the model's checkpoint reaches the log's head.
async fn project(app: &App, model: &impl Projection) {
    let head = {
        let mut conn = app.store.read.pool.acquire().await.unwrap();
        incubator_projections::log::head_position(&mut conn)
            .await
            .unwrap()
    };
    for _ in 0..1000 {
        let moved = step(&app.store.read, model, 500).await.expect("a batch");
        if moved.is_none() {
            let at = checkpoint(&app.store.read, model.name()).await.unwrap();
            if at.position >= head {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
    panic!("{} did not reach position {head}", model.name());
}

async fn space(app: &App, caller: &Caller, command: SpaceCommand) -> Uuid {
    let id = Uuid::now_v7();
    app.execute(caller, app.store.spaces(), id, command)
        .await
        .expect("register the space");
    id
}

/// A workspace of 30 m² for two at EUR 6.00 per m² and month.
fn shared_office() -> SpaceCommand {
    SpaceCommand::Register {
        building: Building::Schraeinerei,
        kind: SpaceKind::Office,
        name: Title::parse("A-1.04").unwrap(),
        area_m2: 30,
        capacity: 2,
        rent_per_m2: eur(600),
        opening_hours: None,
        registered_on: day("2026-01-01"),
    }
}

async fn allocate(
    app: &App,
    caller: &Caller,
    space: Uuid,
    tenant: &str,
    from: &str,
    to: Option<&str>,
) {
    let command = SpaceCommand::Allocate {
        allocation_id: Uuid::now_v7(),
        occupant: Occupant {
            kind: OccupantKind::Tenant,
            id: Uuid::now_v7(),
            name: Some(OrganisationName::parse(tenant).unwrap()),
        },
        standing: OccupantStanding::Known,
        from: day(from),
        to: to.map(day),
    };
    app.execute(caller, app.store.spaces(), space, command)
        .await
        .expect("allocate");
}

async fn rent_is_prorated_per_allocation_and_month_on_the_terms_it_was_made_with(backend: Backend) {
    let (_db, app, caller) = hub(backend).await;
    let office = space(&app, &caller, shared_office()).await;
    allocate(
        &app,
        &caller,
        office,
        "Lumen Works",
        "2026-03-11",
        Some("2026-04-20"),
    )
    .await;
    allocate(&app, &caller, office, "Forge Nord", "2026-03-01", None).await;
    // New terms apply to new allocations only.
    let terms = SpaceCommand::ChangeTerms {
        area_m2: None,
        capacity: None,
        rent_per_m2: Some(eur(800)),
        opening_hours: None,
    };
    app.execute(&caller, app.store.spaces(), office, terms)
        .await
        .expect("new terms");
    allocate(&app, &caller, office, "Atelier Sud", "2026-05-01", None).await;
    project(&app, &SpaceUsage).await;

    let mut conn = app.store.read.pool.acquire().await.unwrap();
    let months = space_usage::rent_roll(
        &mut conn,
        Filter::default(),
        day("2026-03-01"),
        day("2026-05-31"),
    )
    .await
    .unwrap();
    let roll: Vec<(&str, i64, i64)> = months
        .iter()
        .map(|m| (m.month.as_str(), m.total_cents, m.allocations))
        .collect();
    // March: Lumen 30 × 600 × 21 ÷ (31 × 2) = 6,096.77 → 6,097; Forge a whole month ÷ 2 = 9,000.
    // April: Lumen 20 of 30 days = 6,000; Forge 9,000.
    // May: Forge 9,000; Atelier on the new terms, 30 × 800 ÷ 2 = 12,000.
    assert_eq!(
        roll,
        [
            ("2026-03", 15_097, 2),
            ("2026-04", 15_000, 2),
            ("2026-05", 21_000, 2)
        ]
    );
    assert_eq!(months[0].by_building["schraeinerei"], 15_097);
    assert_eq!(months[0].by_occupant_kind["tenant"], 15_097);
}

async fn utilisation_counts_each_place_of_a_shared_space_as_its_share_of_the_area(
    backend: Backend,
) {
    let (_db, app, caller) = hub(backend).await;
    let office = space(&app, &caller, shared_office()).await;
    allocate(
        &app,
        &caller,
        office,
        "Lumen Works",
        "2026-03-11",
        Some("2026-04-20"),
    )
    .await;
    allocate(&app, &caller, office, "Forge Nord", "2026-03-01", None).await;
    project(&app, &SpaceUsage).await;

    let mut conn = app.store.read.pool.acquire().await.unwrap();
    let march = space_usage::utilisation(
        &mut conn,
        Filter::default(),
        day("2026-03-01"),
        day("2026-03-31"),
    )
    .await
    .unwrap();
    // 30 m² × 31 days available; occupied 30 ÷ 2 × (21 + 31) days = 780 m²·days.
    assert_eq!(march.total.spaces, 1);
    assert_eq!(march.total.available_m2_days, 930.0);
    assert_eq!(march.total.occupied_m2_days, 780.0);
    assert_eq!(march.total.occupancy, Some(0.8387));
    assert_eq!(march.buildings["schraeinerei"].occupancy, Some(0.8387));
    // Before anyone moved in nothing is occupied; nothing lettable, no rate at all.
    let february = space_usage::utilisation(
        &mut conn,
        Filter::default(),
        day("2026-02-01"),
        day("2026-02-28"),
    )
    .await
    .unwrap();
    assert_eq!(february.total.occupancy, Some(0.0));
    let rooms_only = Filter {
        kind: Some(SpaceKind::RehearsalRoom),
        ..Filter::default()
    };
    let none =
        space_usage::utilisation(&mut conn, rooms_only, day("2026-03-01"), day("2026-03-31"))
            .await
            .unwrap();
    assert_eq!(
        (none.total.occupancy, none.total.booking_rate),
        (None, None)
    );
}

async fn startup(app: &App, caller: &Caller, applied_on: &str) -> Uuid {
    let id = Uuid::now_v7();
    let command = StartupCommand::Apply {
        name: OrganisationName::parse(&format!("Startup {id}")).unwrap(),
        sector: None,
        founders: AtMost::new(vec![PersonId(Uuid::now_v7())]).unwrap(),
        cohort: Some(Cohort::parse("2026-spring").unwrap()),
        applied_on: day(applied_on),
    };
    app.execute(caller, app.store.startups(), id, command)
        .await
        .expect("apply");
    id
}

async fn advance(app: &App, caller: &Caller, id: Uuid, to: Stage, on: &str) {
    let command = StartupCommand::Advance {
        to: Some(to),
        override_reason: None,
        on: day(on),
        today: day("2026-03-01"),
    };
    app.execute(caller, app.store.startups(), id, command)
        .await
        .expect("advance");
}

async fn conversion_and_time_in_stage_follow_the_days_stage_changes_carry(backend: Backend) {
    let (_db, app, caller) = hub(backend).await;
    let admitted = startup(&app, &caller, "2026-01-05").await;
    advance(&app, &caller, admitted, Stage::Screening, "2026-01-15").await;
    advance(&app, &caller, admitted, Stage::PreIncubation, "2026-02-14").await;
    let rejected = startup(&app, &caller, "2026-01-05").await;
    advance(&app, &caller, rejected, Stage::Screening, "2026-01-25").await;
    let reject = StartupCommand::Reject {
        reason: Reason::parse("outside the hub's scope").unwrap(),
        on: day("2026-02-04"),
        today: day("2026-03-01"),
    };
    app.execute(&caller, app.store.startups(), rejected, reject)
        .await
        .expect("reject");
    startup(&app, &caller, "2026-01-05").await;
    project(&app, &Funding).await;

    let mut conn = app.store.read.pool.acquire().await.unwrap();
    let p = funding::pipeline(&mut conn, Some("2026-spring"), day("2026-03-01"))
        .await
        .unwrap();
    assert_eq!(p.startups, 3);
    let rate = |from: &str, to: &str| {
        let c = p
            .conversion
            .iter()
            .find(|c| c.from == from && c.to == to)
            .unwrap_or_else(|| panic!("no conversion {from} → {to}: {:?}", p.conversion));
        (c.reached_from, c.reached_to, c.rate)
    };
    // All three reached application; two reached screening; one of those went further.
    assert_eq!(rate("application", "screening"), (3, 2, Some(0.6667)));
    assert_eq!(rate("screening", "pre_incubation"), (2, 1, Some(0.5)));
    assert_eq!(rate("pre_incubation", "incubation"), (1, 0, Some(0.0)));
    assert_eq!(rate("incubation", "acceleration"), (0, 0, None));
    let time = |stage: &str| {
        let t = p
            .time_in_stage
            .iter()
            .find(|t| t.stage == stage)
            .unwrap_or_else(|| panic!("no time in {stage}: {:?}", p.time_in_stage));
        (
            t.completed,
            t.average_days,
            t.median_days,
            t.current,
            t.current_average_days,
        )
    };
    // Application: left after 10 and 20 days; one still there after 55 (5 January → 1 March).
    assert_eq!(
        time("application"),
        (2, Some(15.0), Some(15.0), 1, Some(55.0))
    );
    // Screening: 30 days (admitted) and 10 days (rejected on 4 February).
    assert_eq!(time("screening"), (2, Some(20.0), Some(20.0), 0, None));
    // Pre-incubation since 14 February: 15 days by 1 March.
    assert_eq!(time("pre_incubation"), (0, None, None, 1, Some(15.0)));
}
