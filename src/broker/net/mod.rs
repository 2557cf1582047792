//! Socket helpers shared by both protocol adapters.
pub mod sendfile;
