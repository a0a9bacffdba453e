//! The console in Chromium: console_mail (being written).
