//! Value types that parse: constructing one is the validation.
//!
//! Each type deserialises through its `parse` (`#[serde(try_from = ...)]`), so a request body
//! that names a bad currency or an empty name fails at the edge with the field named, and a
//! command can never hold an invalid value.

use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Why a value failed to parse. The message is meant for the person who sent it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ValueError(pub String);

fn err(msg: impl Into<String>) -> ValueError {
    ValueError(msg.into())
}

/// Whether `c` may not appear in a name or free text: control characters (they break CSV
/// exports and terminals), bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069,
/// the marks U+200E, U+200F and U+061C) and zero-width characters (U+200B–U+200D, U+2060,
/// U+FEFF), with which one actor or startup could be made to look like another in the audit
/// feed. Every text the system stores is checked with it: the domain's free text, people's
/// names and tokens' names.
pub fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{2069}'
                | '\u{FEFF}'
        )
}

/// What [`is_unsafe_char`] refuses, in words, for the messages of the fields it checks.
pub const UNSAFE_CHARS: &str = "control, bidirectional-override or zero-width characters";

/// Checks the text rules shared by every free-text field: trimmed, non-empty, bounded, no
/// [`is_unsafe_char`].
fn clean_text(raw: &str, what: &str, max: usize) -> Result<String, ValueError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(err(format!("{what} must not be empty")));
    }
    let chars = trimmed.chars().count();
    if chars > max {
        return Err(err(format!(
            "{what} must be at most {max} characters, got {chars}"
        )));
    }
    if trimmed.chars().any(is_unsafe_char) {
        return Err(err(format!("{what} must not contain {UNSAFE_CHARS}")));
    }
    Ok(trimmed.to_owned())
}

macro_rules! text_type {
    ($(#[$doc:meta])* $name:ident, $what:literal, $max:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            #[doc = concat!("Parses ", $what, ": trimmed, 1 to ", stringify!($max), " characters, no control, bidirectional-override or zero-width characters.")]
            pub fn parse(raw: &str) -> Result<Self, ValueError> {
                clean_text(raw, $what, $max).map(Self)
            }

            /// The text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = ValueError;
            fn try_from(raw: String) -> Result<Self, ValueError> {
                Self::parse(&raw)
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

text_type!(
    /// A startup's (or organisation's) trading name.
    OrganisationName,
    "a name",
    200
);
text_type!(
    /// The reason an officer gives for a decision; kept in the event and its metadata.
    Reason,
    "a reason",
    2000
);
text_type!(
    /// A sector such as "music tech" or "games".
    Sector,
    "a sector",
    100
);
text_type!(
    /// The name of a funding programme ("Fit 4 Start", "Creative Europe").
    ProgrammeName,
    "a programme name",
    200
);
text_type!(
    /// An investor (an organisation or fund; people are referenced by id, never named).
    InvestorName,
    "an investor name",
    200
);
text_type!(
    /// A project proposal or a challenge, in the applicant's or the officer's words.
    Proposal,
    "a proposal",
    4000
);
text_type!(
    /// An area of expertise: a mentor's, a discipline.
    Expertise,
    "an area of expertise",
    100
);
text_type!(
    /// A short title: a milestone, a topic.
    Title,
    "a title",
    200
);

/// A cohort label such as `2026-spring`: letters, digits, `-`, `_` and `.`, 1 to 40 characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Cohort(String);

impl Cohort {
    /// Parses a cohort label.
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let s = raw.trim();
        if s.is_empty() || s.len() > 40 {
            return Err(err("a cohort must be 1 to 40 characters"));
        }
        if !s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(err(
                "a cohort may contain only letters, digits, '-', '_' and '.'",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    /// The label.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Cohort {
    type Error = ValueError;
    fn try_from(raw: String) -> Result<Self, ValueError> {
        Self::parse(&raw)
    }
}

impl From<Cohort> for String {
    fn from(v: Cohort) -> String {
        v.0
    }
}

/// The active ISO 4217 currency codes.
const ISO_4217: &str = "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB \
BRL BSD BTN BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD \
FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR \
KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR \
MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK \
SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES \
VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG";

/// An ISO 4217 currency code, upper case (`EUR`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

impl Currency {
    /// The euro, the hub's own currency.
    pub const EUR: Currency = Currency(*b"EUR");

    /// Parses an active ISO 4217 code.
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let bytes = raw.as_bytes();
        if bytes.len() == 3
            && bytes.iter().all(u8::is_ascii_uppercase)
            && ISO_4217.split_ascii_whitespace().any(|c| c == raw)
        {
            Ok(Self([bytes[0], bytes[1], bytes[2]]))
        } else {
            Err(err(format!(
                "{raw:?} is not an ISO 4217 currency code such as \"EUR\""
            )))
        }
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("parsed from ASCII")
    }
}

impl TryFrom<String> for Currency {
    type Error = ValueError;
    fn try_from(raw: String) -> Result<Self, ValueError> {
        Self::parse(&raw)
    }
}

impl From<Currency> for String {
    fn from(v: Currency) -> String {
        v.as_str().to_owned()
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An amount of money in the currency's minor unit (cents), never a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawMoney")]
pub struct Money {
    /// Minor units (cents). May be zero (a month without revenue); rules that need a positive
    /// amount check it.
    pub cents: i64,
    /// ISO 4217 code.
    pub currency: Currency,
}

/// Money as written on the wire, before its bounds are checked: an object with exactly
/// `cents` and `currency` (serde's derive would also take `[cents, currency]`, which no client
/// means).
struct RawMoney {
    cents: i64,
    currency: Currency,
}

impl<'de> Deserialize<'de> for RawMoney {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{Error, MapAccess, Visitor};
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawMoney;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(r#"an amount: {"cents": integer, "currency": "EUR"}"#)
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<RawMoney, M::Error> {
                let (mut cents, mut currency) = (None, None);
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    match key.as_ref() {
                        "cents" if cents.is_none() => cents = Some(map.next_value()?),
                        "currency" if currency.is_none() => currency = Some(map.next_value()?),
                        "cents" | "currency" => {
                            return Err(M::Error::custom(format!("duplicate field `{key}`")))
                        }
                        other => {
                            return Err(M::Error::unknown_field(other, &["cents", "currency"]))
                        }
                    }
                }
                Ok(RawMoney {
                    cents: cents.ok_or_else(|| M::Error::missing_field("cents"))?,
                    currency: currency.ok_or_else(|| M::Error::missing_field("currency"))?,
                })
            }
        }
        d.deserialize_map(V)
    }
}

impl TryFrom<RawMoney> for Money {
    type Error = ValueError;
    fn try_from(raw: RawMoney) -> Result<Self, ValueError> {
        Money::new(raw.cents, raw.currency)
    }
}

/// The largest amount accepted: EUR 10 billion, far beyond any round at a hub, well inside
/// `i64` even when thousands are summed.
pub const MAX_CENTS: i64 = 1_000_000_000_000;

impl Money {
    /// An amount; `cents` must be within `0..=MAX_CENTS`.
    pub fn new(cents: i64, currency: Currency) -> Result<Self, ValueError> {
        if !(0..=MAX_CENTS).contains(&cents) {
            return Err(err(format!(
                "an amount must be between 0 and {MAX_CENTS} cents, got {cents}"
            )));
        }
        Ok(Self { cents, currency })
    }

    /// An amount in euros.
    pub fn eur(cents: i64) -> Self {
        Self {
            cents,
            currency: Currency::EUR,
        }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}.{:02}",
            self.currency,
            self.cents / 100,
            (self.cents % 100).abs()
        )
    }
}

/// A calendar month, written `YYYY-MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct YearMonth {
    year: i32,
    month: u32,
}

impl YearMonth {
    /// Parses `YYYY-MM` (years 2000 to 2199).
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let bad = || {
            err(format!(
                "{raw:?} is not a month written YYYY-MM in the years 2000 to 2199"
            ))
        };
        let (y, m) = raw.split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u32 = m.parse().map_err(|_| bad())?;
        if !(2000..=2199).contains(&year) || !(1..=12).contains(&month) {
            return Err(bad());
        }
        Ok(Self { year, month })
    }

    /// The month containing `date`.
    pub fn of(date: NaiveDate) -> Self {
        Self {
            year: date.year(),
            month: date.month(),
        }
    }

    /// Its first day.
    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).unwrap_or(NaiveDate::MIN)
    }

    /// The number of months from `self` to `other` (negative when `other` is earlier).
    pub fn months_until(self, other: YearMonth) -> i64 {
        i64::from(other.year - self.year) * 12 + i64::from(other.month) - i64::from(self.month)
    }
}

impl TryFrom<String> for YearMonth {
    type Error = ValueError;
    fn try_from(raw: String) -> Result<Self, ValueError> {
        Self::parse(&raw)
    }
}

impl From<YearMonth> for String {
    fn from(v: YearMonth) -> String {
        v.to_string()
    }
}

impl fmt::Display for YearMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh, time-ordered id (UUID v7).
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// A person in the people registry (founder, artist, mentor, contact). Events hold only
    /// this id, never a name or an address.
    PersonId
);
id_type!(
    /// A mentor.
    MentorId
);
id_type!(
    /// A grant or loan awarded to a startup.
    GrantId
);
id_type!(
    /// An equity round.
    RoundId
);
id_type!(
    /// A mentorship session.
    SessionId
);
id_type!(
    /// A milestone.
    MilestoneId
);

/// A whole number within `MIN..=MAX` (named `what` in the error), for counts such as minutes
/// or headcount; serialised as the bare number.
macro_rules! bounded_type {
    ($(#[$doc:meta])* $name:ident, $what:literal, $min:literal..=$max:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(try_from = "u32", into = "u32")]
        pub struct $name(u32);

        impl $name {
            /// The smallest value allowed.
            pub const MIN: u32 = $min;
            /// The largest value allowed.
            pub const MAX: u32 = $max;

            /// The value, if it is within bounds.
            pub fn parse(value: u32) -> Result<Self, ValueError> {
                if (Self::MIN..=Self::MAX).contains(&value) {
                    Ok(Self(value))
                } else {
                    Err(err(format!(
                        "{} must be between {} and {}, got {value}",
                        $what,
                        Self::MIN,
                        Self::MAX
                    )))
                }
            }
            /// The value.
            pub fn get(self) -> u32 {
                self.0
            }
        }

        impl TryFrom<u32> for $name {
            type Error = ValueError;
            fn try_from(v: u32) -> Result<Self, ValueError> {
                Self::parse(v)
            }
        }

        impl From<$name> for u32 {
            fn from(v: $name) -> u32 {
                v.0
            }
        }
    };
}

bounded_type!(
    /// The length of a mentorship session: 5 minutes to 8 hours.
    Minutes, "minutes", 5..=480
);

/// A list of at most `MAX` items: a bound that travels with the command, so that every
/// caller (a request body, the demo, the workspace) meets it. An event keeps the plain list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct AtMost<T, const MAX: usize>(Vec<T>);

impl<T, const MAX: usize> AtMost<T, MAX> {
    /// The list, if it has at most `MAX` items.
    pub fn new(items: Vec<T>) -> Result<Self, ValueError> {
        if items.len() > MAX {
            return Err(err(format!("at most {MAX} items, got {}", items.len())));
        }
        Ok(Self(items))
    }
    /// The items.
    pub fn into_vec(self) -> Vec<T> {
        self.0
    }
    pub fn as_slice(&self) -> &[T] {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
}

impl<T, const MAX: usize> Default for AtMost<T, MAX> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>, const MAX: usize> Deserialize<'de> for AtMost<T, MAX> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::new(Vec::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// A startup's founders: at most 20 (each in the people registry).
pub type Founders = AtMost<PersonId, 20>;
/// An equity round's investors: at most 50.
pub type Investors = AtMost<InvestorName, 50>;
/// A mentoring session's topics: at most 20.
pub type Topics = AtMost<Title, 20>;

bounded_type!(
    /// A month's headcount: 0 to 100,000 people.
    Headcount, "headcount", 0..=100_000
);

/// A calendar day as the API takes it: a date in the years 1900 to 2199. Wider dates are
/// typing errors (`+10000-01-06`, `0202-03-01`) that would sort wrongly as text and overflow
/// date arithmetic; they are refused at the edge, naming the range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "NaiveDate", into = "NaiveDate")]
pub struct Day(NaiveDate);

impl Day {
    /// The first and last years a day may fall in.
    pub const YEARS: std::ops::RangeInclusive<i32> = 1900..=2199;

    /// The day, if it falls in [`Day::YEARS`].
    pub fn new(date: NaiveDate) -> Result<Self, ValueError> {
        if Self::YEARS.contains(&date.year()) {
            Ok(Self(date))
        } else {
            Err(err(format!(
                "{date} is outside the years {} to {}",
                Self::YEARS.start(),
                Self::YEARS.end()
            )))
        }
    }

    /// The date.
    pub fn get(self) -> NaiveDate {
        self.0
    }
}

impl TryFrom<NaiveDate> for Day {
    type Error = ValueError;
    fn try_from(d: NaiveDate) -> Result<Self, ValueError> {
        Self::new(d)
    }
}

impl From<Day> for NaiveDate {
    fn from(d: Day) -> NaiveDate {
        d.0
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A moment a reader asks about (`as_of`, a feed's `from` and `to`), as a person writes it:
/// an RFC 3339 instant (`2026-03-31T00:00:00+02:00`), a local time without offset, read as hub
/// time (`2026-03-31T09:30`), or a date, read as its start in hub time (`2026-03-31`). Years
/// 1900 to 2199.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(try_from = "String")]
pub struct Moment(pub chrono::DateTime<chrono::Utc>);

impl Moment {
    /// Parses a moment in one of its three forms.
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let s = raw.trim();
        let bad = || {
            err(format!(
                "{raw:?} is not a moment: expected RFC 3339, e.g. 2026-03-31T00:00:00+02:00, \
                 a hub time such as 2026-03-31T09:30, or a date such as 2026-03-31 \
                 (hub time is Europe/Luxembourg)"
            ))
        };
        let at = if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
            t.to_utc()
        } else if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            hub_instant(d.and_time(chrono::NaiveTime::MIN))
        } else {
            let local = [
                "%Y-%m-%dT%H:%M:%S%.f",
                "%Y-%m-%dT%H:%M",
                "%Y-%m-%d %H:%M:%S%.f",
                "%Y-%m-%d %H:%M",
            ]
            .iter()
            .find_map(|f| chrono::NaiveDateTime::parse_from_str(s, f).ok())
            .ok_or_else(bad)?;
            hub_instant(local)
        };
        if !(1900..=2199).contains(&at.year()) {
            return Err(err(format!("{raw:?} is outside the years 1900 to 2199")));
        }
        Ok(Self(at))
    }
}

impl TryFrom<String> for Moment {
    type Error = ValueError;
    fn try_from(raw: String) -> Result<Self, ValueError> {
        Self::parse(&raw)
    }
}

/// The hub's wall clock: Luxembourg time (CET, UTC+1; CEST, UTC+2 from the last Sunday of
/// March to the last Sunday of October, switching at 01:00 UTC, as EU directive 2000/84/EC
/// sets for every member state). Opening hours and booking days are in this time; instants
/// everywhere else are UTC.
pub fn hub_local(t: chrono::DateTime<chrono::Utc>) -> chrono::NaiveDateTime {
    use chrono::{Datelike, Duration, NaiveTime, Weekday};
    fn last_sunday(year: i32, month: u32) -> NaiveDate {
        let mut d = NaiveDate::from_ymd_opt(year, month + 1, 1)
            .and_then(|d| d.pred_opt())
            .unwrap_or(NaiveDate::MIN);
        while d.weekday() != Weekday::Sun {
            d = d.pred_opt().unwrap_or(NaiveDate::MIN);
        }
        d
    }
    let one = NaiveTime::from_hms_opt(1, 0, 0).unwrap_or(NaiveTime::MIN);
    let year = t.year();
    let summer_starts = last_sunday(year, 3).and_time(one).and_utc();
    let summer_ends = last_sunday(year, 10).and_time(one).and_utc();
    let offset = if t >= summer_starts && t < summer_ends {
        Duration::hours(2)
    } else {
        Duration::hours(1)
    };
    (t + offset).naive_utc()
}

/// The UTC instant of a hub-time wall-clock moment (the inverse of [`hub_local`]). In the hour
/// skipped in spring the later offset's reading is taken; in the hour repeated in autumn, the
/// first.
pub fn hub_instant(local: chrono::NaiveDateTime) -> chrono::DateTime<chrono::Utc> {
    use chrono::{Duration, TimeZone, Utc};
    for offset in [2, 1] {
        let t = Utc.from_utc_datetime(&(local - Duration::hours(offset)));
        if hub_local(t) == local {
            return t;
        }
    }
    Utc.from_utc_datetime(&(local - Duration::hours(1)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn text_refuses_what_could_make_one_name_look_like_another() {
        use super::OrganisationName;
        assert!(OrganisationName::parse("Slag Light").is_ok());
        assert!(OrganisationName::parse("Été à Differdange – 1535°").is_ok());
        for bad in [
            "Admin\u{202E}nimda",    // right-to-left override
            "Ad\u{200B}min",         // zero-width space
            "Ad\u{200D}min",         // zero-width joiner
            "\u{FEFF}Admin",         // byte-order mark
            "Ad\u{2066}min\u{2069}", // isolate
            "Ad\u{200F}min",         // right-to-left mark
            "Ad\u{7}min",            // bell
        ] {
            let e = OrganisationName::parse(bad).unwrap_err();
            assert!(e.0.contains("bidirectional"), "{bad:?}: {e}");
        }
    }

    #[test]
    fn bounded_lists_and_headcounts_refuse_what_exceeds_them_however_they_arrive() {
        let founders = |n: usize| vec![PersonId(uuid::Uuid::nil()); n];
        assert_eq!(Founders::new(founders(20)).unwrap().len(), 20);
        assert!(Founders::new(founders(21)).is_err());
        // From a body: the same bound, with a message naming it.
        let many = serde_json::to_value(founders(21)).unwrap();
        let e = serde_json::from_value::<Founders>(many).unwrap_err();
        assert!(e.to_string().contains("at most 20"), "{e}");
        let names = |n: usize| serde_json::json!(vec!["Expon"; n]);
        assert!(serde_json::from_value::<Investors>(names(50)).is_ok());
        assert!(serde_json::from_value::<Investors>(names(51)).is_err());
        assert!(serde_json::from_value::<Topics>(names(21)).is_err());
        assert!(Topics::default().is_empty());
        assert_eq!(Headcount::parse(100_000).unwrap().get(), 100_000);
        assert!(Headcount::parse(100_001).is_err());
        assert!(serde_json::from_value::<Headcount>(serde_json::json!(100_001)).is_err());
    }

    #[test]
    fn hub_local_follows_luxembourg_summer_time() {
        let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().to_utc();
        let local = |s: &str| hub_local(at(s)).format("%Y-%m-%d %H:%M").to_string();
        assert_eq!(local("2026-01-15T12:00:00Z"), "2026-01-15 13:00");
        assert_eq!(local("2026-07-15T12:00:00Z"), "2026-07-15 14:00");
        // 2026: summer time from Sunday 29 March 01:00 UTC to Sunday 25 October 01:00 UTC.
        assert_eq!(local("2026-03-29T00:59:00Z"), "2026-03-29 01:59");
        assert_eq!(local("2026-03-29T01:00:00Z"), "2026-03-29 03:00");
        assert_eq!(local("2026-10-25T00:59:00Z"), "2026-10-25 02:59");
        assert_eq!(local("2026-10-25T01:00:00Z"), "2026-10-25 02:00");
        assert_eq!(local("2026-12-31T23:30:00Z"), "2027-01-01 00:30");
        let wall = |s: &str| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        assert_eq!(
            hub_instant(wall("2026-01-15 13:00")),
            at("2026-01-15T12:00:00Z")
        );
        assert_eq!(
            hub_instant(wall("2026-07-15 14:00")),
            at("2026-07-15T12:00:00Z")
        );
        assert_eq!(
            hub_instant(wall("2026-10-25 02:30")),
            at("2026-10-25T00:30:00Z")
        );
    }

    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            OrganisationName::parse("  Sonic Forge ").unwrap().as_str(),
            "Sonic Forge"
        );
        assert!(OrganisationName::parse("   ").is_err());
        assert!(OrganisationName::parse(&"x".repeat(201)).is_err());
        assert!(OrganisationName::parse("bell\u{7}").is_err());
    }

    #[test]
    fn only_iso_currencies_parse() {
        assert_eq!(Currency::parse("EUR").unwrap(), Currency::EUR);
        assert!(Currency::parse("eur").is_err());
        assert!(Currency::parse("EURO").is_err());
        assert!(Currency::parse("ABC").is_err());
    }

    #[test]
    fn money_is_bounded_and_deserialises_strictly() {
        assert!(Money::new(-1, Currency::EUR).is_err());
        assert!(Money::new(MAX_CENTS + 1, Currency::EUR).is_err());
        let m: Money = serde_json::from_str(r#"{"currency": "EUR", "cents": 5}"#).unwrap();
        assert_eq!(m, Money::new(5, Currency::EUR).unwrap());
        for bad in [
            r#"[5, "EUR"]"#,
            r#"{"cents": 5}"#,
            r#"{"cents": 5, "currency": "EUR", "x": 1}"#,
            r#"{"cents": 5, "cents": 6, "currency": "EUR"}"#,
            r#""5 EUR""#,
        ] {
            assert!(serde_json::from_str::<Money>(bad).is_err(), "{bad}");
        }
        let m: Money = serde_json::from_str(r#"{"cents":150,"currency":"EUR"}"#).unwrap();
        assert_eq!(m.to_string(), "EUR 1.50");
        assert!(serde_json::from_str::<Money>(r#"{"cents":1,"currency":"XXX"}"#).is_err());
        assert!(serde_json::from_str::<Money>(r#"{"cents":1,"currency":"EUR","x":1}"#).is_err());
        assert!(serde_json::from_str::<Money>(r#"{"cents":-5,"currency":"EUR"}"#).is_err());
    }

    #[test]
    fn months_parse_as_yyyy_mm() {
        assert_eq!(YearMonth::parse("2026-03").unwrap().to_string(), "2026-03");
        for bad in ["2026-13", "2026-3", "26-03", "2026/03", "1999-12"] {
            assert!(YearMonth::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn moments_are_instants_hub_times_or_dates() {
        let utc = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().to_utc();
        let m = |s: &str| Moment::parse(s).map(|m| m.0);
        assert_eq!(
            m("2026-03-31T00:00:00+02:00"),
            Ok(utc("2026-03-30T22:00:00Z"))
        );
        assert_eq!(
            m("2026-03-31"),
            Ok(utc("2026-03-30T22:00:00Z")),
            "summer time"
        );
        assert_eq!(
            m("2026-01-15"),
            Ok(utc("2026-01-14T23:00:00Z")),
            "winter time"
        );
        assert_eq!(m("2026-01-15T09:30"), Ok(utc("2026-01-15T08:30:00Z")));
        assert_eq!(
            m("2026-01-15T09:30:15.5"),
            Ok(utc("2026-01-15T08:30:15.5Z"))
        );
        let e = Moment::parse("31/03/2026").unwrap_err().0;
        assert!(
            e.contains("expected RFC 3339, e.g. 2026-03-31T00:00:00+02:00"),
            "{e}"
        );
        assert!(Moment::parse("2999-01-01").is_err());
        assert!(Moment::parse("+10000-01-01").is_err());
    }

    #[test]
    fn days_fall_in_the_years_1900_to_2199() {
        let day: Result<Day, _> = serde_json::from_str("\"2026-03-31\"");
        assert_eq!(
            day.unwrap().get(),
            NaiveDate::from_ymd_opt(2026, 3, 31).unwrap()
        );
        for far in ["\"+10000-01-06\"", "\"1899-12-31\"", "\"2200-01-01\""] {
            let e = serde_json::from_str::<Day>(far).unwrap_err().to_string();
            assert!(e.contains("outside the years 1900 to 2199"), "{far}: {e}");
        }
    }

    #[test]
    fn cohorts_are_labels() {
        assert!(Cohort::parse("2026-spring").is_ok());
        assert!(Cohort::parse("spring 2026").is_err());
    }

    #[test]
    fn session_minutes_are_bounded() {
        assert!(Minutes::parse(4).is_err());
        assert!(Minutes::parse(60).is_ok());
        assert!(Minutes::parse(481).is_err());
    }
}
