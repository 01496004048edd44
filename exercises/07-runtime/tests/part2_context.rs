//! part2_context
