//! The local side of the scan, and the rules both trees are read under: the local walk,
//! the include/exclude filter and the size and age limits.

pub mod filter;
pub mod limits;
pub mod local;
