//! Reading a message after `DATA` (RFC 5321 §4.1.1.4): dot-unstuffed by `smtp-proto`'s receiver,
//! up to `<CRLF>.<CRLF>`, under the size limit.

use smtp_proto::request::receiver::DataReceiver;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

/// What a DATA transfer produced.
pub(super) enum Data {
    /// The whole message.
    Complete(Vec<u8>),
    /// Larger than the limit (read to its end and dropped).
    TooBig,
    /// The client went away.
    Closed,
}

/// Reads DATA up to the terminating `<CRLF>.<CRLF>`, dot-unstuffed. Past `limit` bytes the rest is
/// read and thrown away (so the reply lines up with the end of the transfer) and `TooBig` returned.
pub(super) async fn read_data<R: AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
    limit: usize,
) -> std::io::Result<Data> {
    let mut receiver = DataReceiver::new();
    let mut data = Vec::new();
    let mut too_big = false;
    loop {
        let buf = reader.fill_buf().await?;
        if buf.is_empty() {
            return Ok(Data::Closed);
        }
        let mut iter = buf.iter();
        let done = receiver.ingest(&mut iter, &mut data);
        let used = buf.len() - iter.as_slice().len();
        reader.consume(used);
        if data.len() > limit {
            too_big = true;
            data.clear();
        }
        if done {
            return Ok(if too_big {
                Data::TooBig
            } else {
                Data::Complete(data)
            });
        }
    }
}
