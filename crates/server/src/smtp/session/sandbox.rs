//! A sandbox's SMTP faults (`docs/SANDBOX.md`): a recipient of a sandbox tenant may be answered
//! 421 (and the session closed) or 450/451/452, after a latency, as a real server on a bad day
//! does. Each injected fault leaves an operation-log row of the tenant (endpoint `smtp`).

use super::{Ended, Next, Session};
use crate::mail::route::Mailbox;
use bizmail_protocol::sandbox::{Fault, SMTP};
use tokio::io::{AsyncRead, AsyncWrite};

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<S> {
    /// Applies the recipient's sandbox, if any: `Some` is how the session goes on instead of
    /// accepting the recipient.
    pub(super) async fn sandbox_fault(
        &mut self,
        boxes: &[Mailbox],
        rcpt: &str,
    ) -> std::io::Result<Option<Next>> {
        let (Some(sandboxes), Some(first)) = (&self.settings.sandbox, boxes.first()) else {
            return Ok(None);
        };
        let Some(sandbox) = sandboxes.of(first.tenant_id).await else {
            return Ok(None);
        };
        let decision = sandboxes.decide(&sandbox, SMTP);
        if let Some(mark) = decision.mark() {
            sandboxes
                .log_fault(
                    first.tenant_id,
                    &self.client_ip.to_string(),
                    (SMTP, &format!("[sandbox: {mark}] rcpt={rcpt}")),
                    match decision.fault {
                        Some(Fault::Smtp(code)) => i64::from(code),
                        _ => 0,
                    },
                )
                .await;
        }
        if !decision.latency.is_zero() {
            tokio::time::sleep(decision.latency).await;
        }
        Ok(match decision.fault {
            Some(Fault::Smtp(421)) => {
                let bye = format!(
                    "421 4.3.2 {} Service not available (sandbox fault), closing connection",
                    self.settings.hostname
                );
                self.reply(&bye).await?;
                Some(Next::End(Ended::Closed))
            }
            Some(Fault::Smtp(code)) => {
                self.reply(&format!("{code} 4.3.0 Try again later (sandbox fault)"))
                    .await?;
                Some(Next::Continue)
            }
            _ => None,
        })
    }
}
