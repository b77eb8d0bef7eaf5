//! Sockets over the runtime core: addresses, the byte-stream and message
//! socket interfaces, and the TCP, IPC and UDP protocols.

pub mod fdio;
pub mod iol;
pub mod ipaddr;
pub mod ipc;
pub mod listener;
pub mod resolve;
pub mod stream;
pub mod tcp;
pub mod udp;
pub mod vfs;
