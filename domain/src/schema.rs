//! OpenAPI schemas of the value types (feature `openapi`), written by hand because each type
//! is a string or number on the wire with rules serde cannot describe: lengths, patterns,
//! ranges. The states and enums derive theirs.

use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::RefOr;

use crate::values::*;

fn text(max: usize, description: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(max))
        .description(Some(format!(
            "{description}: trimmed, 1 to {max} characters, no {}",
            crate::values::UNSAFE_CHARS
        )))
        .into()
}

fn pattern(pattern: &str, description: &str, example: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(pattern))
        .description(Some(description))
        .examples([example])
        .into()
}

fn integer(bounds: std::ops::RangeInclusive<u32>, description: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(*bounds.start()))
        .maximum(Some(*bounds.end()))
        .description(Some(description))
        .into()
}

fn id(description: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
        .description(Some(description))
        .into()
}

impl<T: utoipa::PartialSchema, const MAX: usize> utoipa::PartialSchema for AtMost<T, MAX> {
    fn schema() -> RefOr<Schema> {
        utoipa::openapi::schema::ArrayBuilder::new()
            .items(T::schema())
            .max_items(Some(MAX))
            .into()
    }
}

impl<T: utoipa::PartialSchema, const MAX: usize> utoipa::ToSchema for AtMost<T, MAX> {}

macro_rules! schema {
    ($($t:ty => $e:expr;)*) => {
        $(
            impl utoipa::PartialSchema for $t {
                fn schema() -> RefOr<Schema> {
                    $e
                }
            }
            impl utoipa::ToSchema for $t {}
        )*
    };
}

schema! {
    OrganisationName => text(200, "An organisation's name");
    Reason => text(2000, "Why, in the officer's words");
    Sector => text(100, "A sector");
    ProgrammeName => text(200, "A funding programme's name");
    InvestorName => text(200, "An investor's name");
    Title => text(200, "A short title");
    Expertise => text(100, "An area of expertise or a discipline");
    Proposal => text(4000, "A project proposal or a challenge");
    Cohort => pattern(
        "^[A-Za-z0-9._-]{1,40}$",
        "A cohort label: letters, digits, '-', '_' and '.', 1 to 40 characters",
        "2026-spring",
    );
    Currency => pattern("^[A-Z]{3}$", "An ISO 4217 currency code", "EUR");
    YearMonth => pattern(
        "^(20|21)[0-9]{2}-(0[1-9]|1[0-2])$",
        "A month, YYYY-MM, in the years 2000 to 2199",
        "2026-04",
    );
    Moment => pattern(
        r"^(19|20|21)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])([T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]+)?)?(Z|z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?)?$",
        "A moment: an RFC 3339 instant (2026-03-31T00:00:00+02:00), a local time read as hub time \
         (Europe/Luxembourg; 2026-03-31T09:30), or a date read as its start in hub time \
         (2026-03-31); years 1900 to 2199",
        "2026-03-31T00:00:00+02:00",
    );
    Day => ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
        .pattern(Some("^(19|20|21)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"))
        .description(Some("A day, YYYY-MM-DD, in the years 1900 to 2199"))
        .examples(["2026-03-31"])
        .into();
    PersonId => id("A person's id (the people registry's)");
    MentorId => id("A mentor's id");
    GrantId => id("A grant or loan's id");
    RoundId => id("An equity round's id");
    SessionId => id("A mentoring session's id");
    MilestoneId => id("A milestone's id");
    Headcount => integer(Headcount::MIN..=Headcount::MAX, "People, 0 to 100,000");
    Minutes => integer(Minutes::MIN..=Minutes::MAX, "Minutes, 5 to 480");
    Money => ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some("An amount in the currency's minor unit (cents), never a float"))
        .property(
            "cents",
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
                .minimum(Some(0))
                .maximum(Some(MAX_CENTS as f64)),
        )
        .required("cents")
        .property("currency", <Currency as utoipa::PartialSchema>::schema())
        .required("currency")
        .additional_properties(Some(utoipa::openapi::schema::AdditionalProperties::FreeForm(false)))
        .into();
}
