//! What the aggregates' tests share: values from the tests' own literals (known valid, so a
//! parse that fails is the test's mistake and panics).

use chrono::NaiveDate;
use uuid::Uuid;

use crate::values::{Expertise, Reason, Title};

/// A day of 2026, the demo year.
pub fn day(month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, month, day).unwrap()
}

/// A readable id: `id(1)`, `id(2)`, …
pub fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

pub fn reason(text: &str) -> Reason {
    Reason::parse(text).unwrap()
}

pub fn title(text: &str) -> Title {
    Title::parse(text).unwrap()
}

pub fn expertise(text: &str) -> Expertise {
    Expertise::parse(text).unwrap()
}
