//! The lab's clients, as a library the binaries and the tests share.
//!
//! - [`time_client`]: one Tugas 2 session (TIME ... QUIT), checked strictly.
//! - [`time_check`]: `time-client check`, the assignment as a list of PASS/FAIL checks.
//! - [`crlf_probe`]: `time-client crlf`, how a server answers a bare-LF line,
//!   an unknown command and a correct request.
//! - [`echo_client`]: send a message or a file round by round like the
//!   course's client (or all on a timer with `--stream`), read the echo in
//!   small pieces while still sending, and check it byte for byte.
//! - [`socket_info`]: the socket facts the course's `socket_info.py` prints.
//! - [`connect`]: connecting with a timeout and an error that says what to do.
//! - [`lines`]: reading a server's replies one whole line at a time.
//! - [`results`]: what a run did and saw, as JSON (`--json FILE` / `PROGJAR_JSON`).

pub mod connect;
pub mod crlf_probe;
pub mod echo_check;
pub mod echo_client;
pub mod lines;
pub mod load;
pub mod results;
pub mod socket_info;
pub mod time_check;
pub mod time_client;
