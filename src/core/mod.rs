//! The runtime core: per-thread scheduler, timers, stacks, poller, handles,
//! bundles and channels. The C surface in `ffi` validates and converts, then
//! calls down into these modules with the thread's context.

pub mod bundle;
pub mod callermem;
pub mod chan;
pub mod clock;
pub mod cr;
pub mod ctx;
pub mod errno;
pub mod fdwait;
pub mod handles;
pub mod hvfs;
pub mod launch;
pub mod live;
pub mod overflow;
pub mod poller;
pub mod pool;
pub mod san;
pub mod sched;
pub mod stack;
pub mod timers;
