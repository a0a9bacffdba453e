//! Bad input never yields a 5xx or a panic: errcode answers, 413, or 404, on both backends.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use bizmail_protocol::ErrorCode;
use bizmail_testkit::{backend_test, error_body};

backend_test! {
    async fn invalid_utf8_is_invalid_request(srv) {
        let token = srv.token().await;
        let r = srv.http.post(srv.url("openapi/bizmail/ping"))
            .bearer_auth(&token)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(b"name=%FF%FE&alias=\xff\xfe".to_vec())
            .send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.text().await.unwrap(), error_body(ErrorCode::InvalidRequest));
        let r = srv.http.post(srv.url("cgi-bin/token?client_id=%C3%28")).send().await.unwrap();
        assert_eq!(r.text().await.unwrap(), error_body(ErrorCode::InvalidRequest));
    }
}

backend_test! {
    async fn a_path_that_does_not_decode_gets_the_protocol_error_shape(srv) {
        // `%ff%fe` is not UTF-8: no endpoint has that name, so it is answered like any unknown
        // endpoint (1200 without a token, 404 with one), always as {"errcode","error"} JSON.
        let r = srv.http.get(srv.url("openapi/%ff%fe")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.text().await.unwrap(), error_body(ErrorCode::InvalidToken));
        let token = srv.token().await;
        let r = srv.http.get(srv.url("openapi/%ff%fe")).bearer_auth(&token).send().await.unwrap();
        assert_eq!(r.status(), 404);
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
        assert_eq!(r.text().await.unwrap(), error_body(ErrorCode::InvalidRequest));
    }
}

/// Sends a request whose body is larger than allowed over a raw socket, writing the body while
/// reading, and returns the whole answer. The server may answer before the body is all sent and
/// close: the answer must be there to read either way, never a reset instead of it.
async fn oversized(
    srv: &bizmail_testkit::TestServer,
    path: &str,
    token: &str,
    chunked: bool,
) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = srv
        .url("/")
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let (mut r, mut w) = stream.into_split();
    let framing = if chunked {
        "Transfer-Encoding: chunked".to_owned()
    } else {
        format!("Content-Length: {}", 10 * 1024 * 1024)
    };
    let head = format!(
        "POST /{path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\n{framing}\r\n\r\n"
    );
    w.write_all(head.as_bytes()).await.unwrap();
    let writer = tokio::spawn(async move {
        let chunk = vec![b'a'; 64 * 1024];
        for _ in 0..160 {
            let sent = if chunked {
                let mut framed = format!("{:x}\r\n", chunk.len()).into_bytes();
                framed.extend_from_slice(&chunk);
                framed.extend_from_slice(b"\r\n");
                w.write_all(&framed).await
            } else {
                w.write_all(&chunk).await
            };
            if sent.is_err() {
                return;
            }
        }
    });
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(std::time::Duration::from_secs(20), r.read(&mut buf))
            .await
            .expect("an answer in time")
            .expect("an answer, not a reset");
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&answer);
        if let Some((_, body)) = text.split_once("\r\n\r\n")
            && text
                .lines()
                .any(|l| l.eq_ignore_ascii_case(&format!("content-length: {}", body.len())))
        {
            break;
        }
    }
    writer.abort();
    String::from_utf8_lossy(&answer).into_owned()
}

backend_test! {
    async fn oversized_body_is_413(srv) {
        let token = srv.token().await;
        for chunked in [false, true] {
            let answer = oversized(&srv, "openapi/bizmail/ping", &token, chunked).await;
            assert!(answer.starts_with("HTTP/1.1 413"), "chunked={chunked}: {answer}");
            assert!(answer.ends_with(&error_body(ErrorCode::InvalidRequest)), "{answer}");
            let answer = oversized(&srv, "cgi-bin/token", &token, chunked).await;
            assert!(answer.starts_with("HTTP/1.1 413"), "chunked={chunked}: {answer}");
        }
        // The server is still fine afterwards.
        let (status, body) = srv.call(&token, "openapi/bizmail/ping", &[]).await;
        assert_eq!((status, body.as_str()), (200, ""));
    }
}

backend_test! {
    async fn thousands_of_parameters_are_invalid_request(srv) {
        let token = srv.token().await;
        let body: String = (0..5000).map(|i| format!("p{i}=v&")).collect();
        let r = srv.http.post(srv.url("openapi/bizmail/ping"))
            .bearer_auth(&token).body(body).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.text().await.unwrap(), error_body(ErrorCode::InvalidRequest));
    }
}

backend_test! {
    async fn broken_bodies_and_unknown_endpoints(srv) {
        let token = srv.token().await;
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("application/json", b"{\"a\": ".to_vec()),
            ("multipart/form-data; boundary=zz", b"--zz\r\nbroken".to_vec()),
            ("multipart/form-data", b"no boundary at all".to_vec()),
            ("application/x-www-form-urlencoded", vec![0u8; 1000]),
            ("text/plain", b"%%%%&&&===".to_vec()),
        ];
        for (ct, body) in cases {
            let r = srv.http.post(srv.url("openapi/bizmail/ping"))
                .bearer_auth(&token).header("Content-Type", ct).body(body).send().await.unwrap();
            let status = r.status();
            let text = r.text().await.unwrap();
            assert_eq!(status, 200, "{ct}");
            assert!(text.is_empty() || text.contains("\"errcode\""), "{ct}: {text}");
        }
        let (status, body) = srv.call(&token, "openapi/no/such/thing", &[]).await;
        assert_eq!(status, 404);
        assert_eq!(body, error_body(ErrorCode::InvalidRequest));
        let r = srv.http.delete(srv.url("cgi-bin/token")).send().await.unwrap();
        assert_eq!(r.status(), 405);
    }
}
