//! Protocols stacked on other sockets, which they use only by handle
//! number through the public socket calls: any byte stream or message
//! socket below works, ours or user-defined.

pub mod ws;
