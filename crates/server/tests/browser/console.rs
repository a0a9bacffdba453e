//! The console in Chromium: console (being written).
