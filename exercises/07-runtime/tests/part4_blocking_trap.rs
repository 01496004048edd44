//! part4_blocking_trap
