//! Predicted duration of [`super::analyze_thickness`] from the triangle count, for the scheduler.
