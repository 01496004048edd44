//! part1_join_handle
