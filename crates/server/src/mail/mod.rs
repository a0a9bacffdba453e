//! The mail host's logic: routing a recipient to mailboxes (`route`), storing a received message
//! durably with its unread counts and new-mail events (`deliver`), and mail a member sends
//! (`submit`: local copies, the Sent copy and the outbound queue in one transaction). The SMTP conversation itself is
//! in `smtp`; nothing here reads a socket.

pub mod deliver;
pub mod folders;
pub mod mailbox;
pub mod migrate;
pub mod quota;

pub use mailbox::{Changed, MailCopy, Mailboxes, Owner};
pub mod render;
pub mod route;
pub mod spam;
pub mod submit;
