//! Vote tallies per height, round and type, with equivocation evidence.
//! SKELETON: being written.
