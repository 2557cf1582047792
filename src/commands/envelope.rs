//! The JSON record envelope now lives in the client layer (`client::envelope`)
//! so the stream layer can share it; re-exported for the commands.
pub use crate::client::envelope::*;
