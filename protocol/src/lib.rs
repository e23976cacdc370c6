//! The wire protocols of the Pemrograman Jaringan lab, sans-IO.
//!
//! Everything here is a plain function or state machine over bytes: no
//! sockets, no threads, no async runtime. The servers in `server/` feed the
//! bytes they read into a [`Session`] and carry out the [`Action`]s it returns,
//! so the same protocol code runs under all three concurrency models (async,
//! thread-per-connection, iterative) and can be tested without a network.
//!
//! - [`line`]: splitting a TCP byte stream into lines, with a length limit.
//! - [`time`]: the Tugas 2 time protocol (`TIME\r\n` -> `JAM hh:mm:ss\r\n`).
//! - [`echo`]: the Tugas 1 echo protocol and the client's byte-exact check.
//! - [`escape`]: showing raw bytes to people (`"TIME\r\n"`).

pub mod echo;
pub mod escape;
pub mod line;
pub mod session;
pub mod time;

pub use session::{Action, CloseReason, Session};
