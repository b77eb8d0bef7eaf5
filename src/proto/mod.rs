//! Protocols stacked on other sockets, which they reach only by handle
//! number through the public socket calls (so they stack on ours and on
//! sockets defined in C alike).

pub mod tls;
