//! part5_races
