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

backend_test! {
    async fn oversized_body_is_413(srv) {
        let token = srv.token().await;
        let big = vec![b'a'; 10 * 1024 * 1024];
        let r = srv.http.post(srv.url("openapi/bizmail/ping"))
            .bearer_auth(&token).body(big.clone()).send().await;
        // The server may answer 413 before the whole body is sent and close the connection; either
        // way it must not be a server error.
        if let Ok(r) = r {
            assert_eq!(r.status(), 413);
            assert_eq!(r.text().await.unwrap(), error_body(ErrorCode::InvalidRequest));
        }
        let r = srv.http.post(srv.url("cgi-bin/token")).body(big).send().await;
        if let Ok(r) = r {
            assert_eq!(r.status(), 413);
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
