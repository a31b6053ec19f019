//! Safety invariants: agreement, validity, accountability.
