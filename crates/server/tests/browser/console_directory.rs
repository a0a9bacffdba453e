//! The console in Chromium: console_directory (being written).
