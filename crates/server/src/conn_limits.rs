//! Connection limits shared by the listeners (HTTP and SMTP): at most so many connections at once
//! in all, and from one client address. A connection holds a [`Place`] while it lives; dropping
//! it frees both counts.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The counts of one listener.
pub struct ConnLimits {
    global: Arc<Semaphore>,
    per_ip: Arc<PerIp>,
    max_per_ip: usize,
}

/// Why a connection was not let in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Full {
    /// The listener holds its maximum of connections.
    Everyone,
    /// This address holds its maximum.
    ThisAddress,
}

/// A connection's place in the counts, freed when dropped.
pub struct Place {
    _global: OwnedSemaphorePermit,
    _ip: IpSlot,
}

impl ConnLimits {
    /// At most `max` connections in all and `max_per_ip` from one address.
    pub fn new(max: usize, max_per_ip: usize) -> ConnLimits {
        ConnLimits {
            global: Arc::new(Semaphore::new(max)),
            per_ip: Arc::default(),
            max_per_ip,
        }
    }

    /// A place for a connection from `ip`, if there is one.
    pub fn admit(&self, ip: IpAddr) -> Result<Place, Full> {
        let global = self
            .global
            .clone()
            .try_acquire_owned()
            .map_err(|_| Full::Everyone)?;
        let ip = self
            .per_ip
            .try_take(ip, self.max_per_ip)
            .ok_or(Full::ThisAddress)?;
        Ok(Place {
            _global: global,
            _ip: ip,
        })
    }
}

/// Counts connections per client address.
#[derive(Default)]
struct PerIp {
    counts: Mutex<HashMap<IpAddr, usize>>,
}

struct IpSlot {
    per_ip: Arc<PerIp>,
    ip: IpAddr,
}

impl PerIp {
    fn try_take(self: &Arc<Self>, ip: IpAddr, max: usize) -> Option<IpSlot> {
        let mut counts = self.counts.lock().ok()?;
        let n = counts.entry(ip).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(IpSlot {
            per_ip: self.clone(),
            ip,
        })
    }
}

impl Drop for IpSlot {
    fn drop(&mut self) {
        if let Ok(mut counts) = self.per_ip.counts.lock()
            && let Some(n) = counts.get_mut(&self.ip)
        {
            *n = n.saturating_sub(1);
            if *n == 0 {
                counts.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_in_all_and_per_address() {
        let limits = ConnLimits::new(3, 2);
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let a1 = limits.admit(a).unwrap();
        let _a2 = limits.admit(a).unwrap();
        assert_eq!(limits.admit(a).err(), Some(Full::ThisAddress));
        let _b1 = limits.admit(b).unwrap();
        assert_eq!(limits.admit(b).err(), Some(Full::Everyone));
        drop(a1);
        assert!(limits.admit(b).is_ok(), "a dropped place is free again");
    }
}
