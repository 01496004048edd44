//! part3_spawn_blocking
