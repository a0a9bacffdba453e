//! `openapi/listen`, the new-mail push: one poll ([`Client::listen`]), or the protocol's loop
//! ([`Listener`]): hold a poll with the directory version you know; on `{"Ver"}` fetch the changes
//! and listen with the new version; on a notice, hand it over; on `{"Ret":0}`, poll again.

use crate::{Client, Error, ListenAnswer, NewMailNotice, UnreadNotice, UserList, Ver};

impl Client {
    /// One poll of `openapi/listen` with the directory version the caller holds (`None`: `0`).
    /// Held by the server until something happens or its poll timeout passes.
    pub async fn listen(&self, ver: Option<Ver>) -> Result<ListenAnswer, Error> {
        let ver = ver.map_or_else(|| "0".to_owned(), |v| v.to_string());
        self.call_json("listen", &[("Ver", &ver)]).await
    }
}

/// What a [`Listener`] hands over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// The directory changed: these are the member changes since the version held before
    /// (`user/list` was called for you), and the listener holds the new version now.
    Directory(UserList),
    /// A member received a mail.
    NewMail(NewMailNotice),
    /// A member's unread count changed otherwise.
    Unread(UnreadNotice),
}

/// Follows the protocol's loop over [`Client::listen`], keeping the directory version.
pub struct Listener<'c> {
    client: &'c Client,
    ver: Option<Ver>,
}

impl<'c> Listener<'c> {
    /// A listener starting from directory version `ver` (`None`: from nothing, so the first
    /// answer is the whole directory as a change).
    pub fn new(client: &'c Client, ver: Option<Ver>) -> Listener<'c> {
        Listener { client, ver }
    }

    /// The directory version this listener holds.
    pub fn version(&self) -> Option<Ver> {
        self.ver
    }

    /// Polls until there is something to hand over (idle answers are polled past).
    pub async fn next(&mut self) -> Result<Notice, Error> {
        loop {
            match self.client.listen(self.ver).await? {
                ListenAnswer::Ver(_) => {
                    // The list's own version, not the poll's: it covers changes made between
                    // the poll's answer and the list.
                    let changes = self.client.user_list(self.ver).await?;
                    self.ver = Some(changes.ver);
                    return Ok(Notice::Directory(changes));
                }
                ListenAnswer::NewMail(n) => return Ok(Notice::NewMail(n)),
                ListenAnswer::Unread(n) => return Ok(Notice::Unread(n)),
                ListenAnswer::Idle(_) => {}
            }
        }
    }
}
