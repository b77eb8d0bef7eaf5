//! Sockets over the runtime core: addresses, the byte-stream and message
//! socket interfaces, and the TCP, IPC and UDP protocols.

mod dns;
mod hosts;
mod ifaces;
pub mod ipaddr;
pub mod resolve;
mod resolvconf;
