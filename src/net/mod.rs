//! Sockets over the runtime core: addresses, the byte-stream and message
//! socket interfaces, and the TCP, IPC and UDP protocols.

mod dns;
pub mod adopt;
pub mod fdio;
pub mod happyeyeballs;
mod hosts;
mod ifaces;
pub mod iol;
pub mod ipaddr;
pub mod ipc;
pub mod listener;
mod resolvconf;
pub mod resolve;
pub mod stream;
pub mod stream214;
pub mod tcp;
pub mod udp;
pub mod vfs;
