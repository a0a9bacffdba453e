//! A DNS server for tests, on loopback UDP: answers TXT, MX and A questions from records the test
//! adds (SPF, DKIM keys, DMARC policies); any other name is NXDOMAIN. bizmail reaches it through
//! its `dns_servers` setting, as it would a real resolver.

use hickory_resolver::proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_resolver::proto::rr::rdata::{A, MX, TXT};
use hickory_resolver::proto::rr::{Name, RData, Record, RecordType};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// Records by (lower-case name without the final dot, type).
type Records = HashMap<(String, RecordType), Vec<RData>>;

/// The records served.
#[derive(Clone, Default)]
pub struct Zone(Arc<Mutex<Records>>);

impl Zone {
    /// Adds a TXT record (one string of any length: split into 255-byte pieces as DNS does).
    pub fn txt(&self, name: &str, text: &str) {
        let pieces = text
            .as_bytes()
            .chunks(255)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect();
        self.add(name, RecordType::TXT, RData::TXT(TXT::new(pieces)));
    }

    /// Adds an MX record.
    pub fn mx(&self, name: &str, preference: u16, exchange: &str) {
        let exchange = Name::from_ascii(format!("{exchange}.")).unwrap();
        self.add(
            name,
            RecordType::MX,
            RData::MX(MX::new(preference, exchange)),
        );
    }

    /// Adds an A record.
    pub fn a(&self, name: &str, ip: std::net::Ipv4Addr) {
        self.add(name, RecordType::A, RData::A(A(ip)));
    }

    fn add(&self, name: &str, kind: RecordType, data: RData) {
        let key = (name.trim_end_matches('.').to_ascii_lowercase(), kind);
        self.0.lock().unwrap().entry(key).or_default().push(data);
    }

    fn answer(&self, query: &[u8]) -> Option<Vec<u8>> {
        let request = Message::from_vec(query).ok()?;
        let mut response = Message::new(request.metadata.id, MessageType::Response, OpCode::Query);
        response.metadata.authoritative = true;
        response.metadata.recursion_available = true;
        response.add_queries(request.queries.iter().cloned());
        let zone = self.0.lock().unwrap();
        let mut found_name = false;
        for q in &request.queries {
            let name = q
                .name()
                .to_ascii()
                .trim_end_matches('.')
                .to_ascii_lowercase();
            found_name |= zone.keys().any(|(n, _)| *n == name);
            for data in zone.get(&(name, q.query_type())).into_iter().flatten() {
                response.add_answer(Record::from_rdata(q.name().clone(), 60, data.clone()));
            }
        }
        if !found_name {
            response.metadata.response_code = ResponseCode::NXDomain;
        }
        response.to_vec().ok()
    }
}

/// Starts the server; returns its address and the zone to fill.
pub async fn start() -> (SocketAddr, Zone) {
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = socket.local_addr().unwrap();
    let zone = Zone::default();
    let served = zone.clone();
    tokio::spawn(async move {
        let mut buf = vec![0u8; 4096];
        loop {
            let Ok((n, peer)) = socket.recv_from(&mut buf).await else {
                return;
            };
            if let Some(reply) = served.answer(&buf[..n]) {
                let _ = socket.send_to(&reply, peer).await;
            }
        }
    });
    (addr, zone)
}
