//! One integration-test binary, a module per capability. Each test starts its own app.

mod access;
mod app;
mod audit;
mod auth;
mod cases;
mod centres;
mod certificates;
mod contract;
mod crash;
mod desk;
mod directory;
mod errors;
mod first_start;
mod geo;
mod health;
mod housing;
mod housing_attack;
mod live;
mod logs;
mod partners;
mod records;
mod recovery;
mod security;
mod security_public;
mod text_line;
mod tokens;
