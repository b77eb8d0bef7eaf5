//! Protocols stacked on other sockets. Each talks to the socket below it
//! only by handle number, through the public bsock/msock calls, so it works
//! over our TCP/IPC connections and over sockets defined in C alike.

pub mod pfx;
