//! The broker (being assembled; modules switched on as their dependencies land).
#[cfg(strom_wip)]
pub mod wip {}
