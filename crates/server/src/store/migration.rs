//! How far `bizmail migrate mail` copied each source folder (`migrated_folders`), and the
//! identities of the copies a folder holds, for the fallback dedup when the source's UIDs
//! cannot be trusted.

use super::{Conn, StoreResult, sql};
use crate::mail::migrate::Progress;

/// One source folder of one member: the key of its progress.
#[derive(Debug, Clone, Copy)]
pub struct SourceFolder<'a> {
    /// The member the mail is copied to.
    pub member_id: i64,
    /// The source, `host:port`.
    pub source: &'a str,
    /// The folder's decoded name at the source.
    pub folder: &'a str,
}

/// The progress recorded for one source folder of a member.
pub async fn progress(conn: &mut Conn<'_>, key: SourceFolder<'_>) -> StoreResult<Option<Progress>> {
    sql::optional_in::<Progress>(
        conn,
        "SELECT uidvalidity, last_uid, copied FROM migrated_folders WHERE member_id = $1 AND \
         source = $2 AND folder = $3",
        &[key.member_id.into(), key.source.into(), key.folder.into()],
    )
    .await
}

/// Records a stored batch: the folder's UIDVALIDITY, its new last UID, and `copied` more
/// messages. A changed UIDVALIDITY replaces the old position, not the count.
pub async fn advance(
    conn: &mut Conn<'_>,
    key: SourceFolder<'_>,
    uidvalidity: i64,
    last_uid: i64,
    copied: i64,
    now_ms: i64,
) -> StoreResult<()> {
    sql::execute_in(
        conn,
        "INSERT INTO migrated_folders (member_id, source, folder, uidvalidity, last_uid, copied, \
         updated_ms) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (member_id, source, folder) \
         DO UPDATE SET uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid, \
         copied = migrated_folders.copied + excluded.copied, updated_ms = excluded.updated_ms",
        &[
            key.member_id.into(),
            key.source.into(),
            key.folder.into(),
            uidvalidity.into(),
            last_uid.into(),
            copied.into(),
            now_ms.into(),
        ],
    )
    .await?;
    Ok(())
}

/// `(Message-ID, internal date in ms, size)` of every copy in a folder: what a copy is
/// recognised by when the source's UIDs changed.
pub async fn identities(
    conn: &mut Conn<'_>,
    folder_id: i64,
) -> StoreResult<Vec<(String, i64, i64)>> {
    sql::all_in::<(String, i64, i64)>(
        conn,
        "SELECT m.message_id, b.received_ms, m.size FROM mailbox b JOIN messages m ON m.id = \
         b.message_id WHERE b.folder_id = $1",
        &[folder_id.into()],
    )
    .await
}
