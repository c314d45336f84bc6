//! End-to-end tests: the real server over real HTTP, every test on SQLite and on PostgreSQL,
//! each on a database of its own.

mod access;
mod as_of;
mod audit_feed;
mod bad_input;
mod benches;
mod collaborations;
mod concurrency;
mod config;
mod crash;
mod dashboard;
mod demo;
mod export;
mod frictions;
mod funding;
mod idempotency;
mod limits;
mod lists;
mod live;
mod log_order;
mod malformed;
mod mentors;
mod mentorship;
mod operations;
mod outage;
mod people;
mod portfolio;
mod rebuild;
mod residencies;
mod rules;
mod space_usage;
mod spaces;
mod startups;
mod takeover;
mod tamper;
mod two_steps;
