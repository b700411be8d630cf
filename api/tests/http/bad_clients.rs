//! Bad clients over real sockets, against `api::serve` on a loopback port: headers trickled a
//! byte at a time, oversized headers, a Content-Length that lies, multipart uploads with
//! thousands of parts or a huge option part. Each gets a clear answer or a closed connection
//! within its deadline, and a well-behaved client is served meanwhile. Also: uploads racing on one
//! Idempotency-Key, and live-feed clients that never read.

use std::time::{Duration, Instant};

use api::{ApiConfig, Role};
use futures::StreamExt;
use scheduler::StoreConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::on_both;
use crate::support::{Backend, start_with};

/// Serves `app` on a free loopback port; returns its address.
async fn listen(app: &crate::support::TestApp) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = app.state.clone();
    tokio::spawn(api::serve(listener, state, std::future::pending()));
    addr
}

/// Sends `head` (and `body`), returns the status line's code, or `None` when the server closed
/// the connection without an answer.
async fn exchange(addr: std::net::SocketAddr, head: &str, body: &[u8]) -> Option<u16> {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(head.as_bytes()).await.ok()?;
    // The server may answer (and stop reading) before the whole body is sent.
    let _ = s.write_all(body).await;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match s.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let text = String::from_utf8_lossy(&buf);
    text.split(' ').nth(1).and_then(|c| c.parse().ok())
}

fn config() -> ApiConfig {
    ApiConfig {
        header_read_timeout: Duration::from_secs(1),
        upload_idle_timeout: Duration::from_secs(1),
        ..ApiConfig::default()
    }
}

async fn slow_headers_are_cut_off_and_others_are_served(b: Backend) {
    let app = start_with(b, config(), StoreConfig::default()).await;
    let addr = listen(&app).await;
    // Fifty clients that never finish their headers.
    let mut slow = Vec::new();
    for _ in 0..50 {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .await
            .unwrap();
        slow.push(s);
    }
    let t0 = Instant::now();
    let ok = exchange(
        addr,
        "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"",
    )
    .await;
    assert_eq!(ok, Some(200), "a well-behaved client is served meanwhile");
    assert!(
        t0.elapsed() < Duration::from_millis(500),
        "{:?}",
        t0.elapsed()
    );
    // Each slow one is closed once the header timeout passes, whatever it still trickles.
    for s in &mut slow {
        let _ = s.write_all(b"a").await;
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    for mut s in slow {
        let mut buf = [0u8; 512];
        let left = deadline.saturating_duration_since(Instant::now());
        let read = tokio::time::timeout(left, async {
            loop {
                match s.read(&mut buf).await {
                    Ok(0) | Err(_) => return true,
                    Ok(_) => {}
                }
            }
        })
        .await;
        assert_eq!(read, Ok(true), "a slow client's connection is closed");
    }
}
on_both!(
    slow_headers_are_cut_off_and_others_are_served_,
    slow_headers_are_cut_off_and_others_are_served
);

async fn oversized_headers_get_431(b: Backend) {
    let app = start_with(b, config(), StoreConfig::default()).await;
    let addr = listen(&app).await;
    let huge = "a".repeat(1 << 20);
    let head = format!("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Huge: {huge}\r\n\r\n");
    let code = exchange(addr, &head, b"").await;
    assert_eq!(code, Some(431));
}
on_both!(oversized_headers_get_431_, oversized_headers_get_431);

async fn a_content_length_that_lies_times_out_with_an_answer(b: Backend) {
    let app = start_with(b, config(), StoreConfig::default()).await;
    let key = app.key(Role::Partner, Some("acme")).await;
    let addr = listen(&app).await;
    // Promises 100 kB, sends 10 bytes, then waits.
    let head = format!(
        "POST /v1/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\nContent-Length: 100000\r\n\r\n"
    );
    let t0 = Instant::now();
    let code = tokio::time::timeout(
        Duration::from_secs(10),
        exchange(addr, &head, b"0123456789"),
    )
    .await
    .expect("the upload deadline answers");
    assert_eq!(code, Some(408), "after {:?}", t0.elapsed());
    // Nothing was accepted.
    assert_eq!(
        app.get("/v1/jobs", &app.key(Role::Operator, None).await)
            .await
            .json()["jobs"],
        serde_json::json!([])
    );
}
on_both!(
    a_content_length_that_lies_times_out_with_an_answer_,
    a_content_length_that_lies_times_out_with_an_answer
);

fn multipart(parts: &[(&str, Vec<u8>)]) -> (String, Vec<u8>) {
    let boundary = "XbOuNdArYx";
    let mut body = Vec::new();
    for (name, value) in parts {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(value);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn multipart_with_thousands_of_parts_or_a_huge_option_is_refused(b: Backend) {
    let app = start_with(b, config(), StoreConfig::default()).await;
    let key = app.key(Role::Partner, Some("acme")).await;
    let addr = listen(&app).await;
    let many: Vec<(&str, Vec<u8>)> = (0..5000).map(|_| ("partner_ref", b"x".to_vec())).collect();
    let huge = vec![("partner_ref", vec![b'x'; 8 << 20])];
    for (parts, code) in [(many, "too_many_parts"), (huge, "field_too_large")] {
        let (content_type, body) = multipart(&parts);
        let head = format!(
            "POST /v1/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        assert_eq!(exchange(addr, &head, &body).await, Some(400), "{code}");
        let (content_type, body) = multipart(&parts);
        let r = app
            .send(crate::support::request(
                axum::http::Method::POST,
                "/v1/jobs",
                Some(&key),
                body,
                &[("content-type", &content_type)],
            ))
            .await;
        assert_eq!(r.code(), code);
    }
}
on_both!(
    multipart_with_thousands_of_parts_or_a_huge_option_is_refused_,
    multipart_with_thousands_of_parts_or_a_huge_option_is_refused
);

/// Twelve clients, each on its own connection, upload one model under one Idempotency-Key at the
/// same moment: one job, one `created`, eleven replays of it.
async fn uploads_racing_on_one_idempotency_key_over_sockets_make_one_job(b: Backend) {
    let app = start_with(b, config(), StoreConfig::default()).await;
    let key = app.key(Role::Partner, Some("acme")).await;
    let addr = listen(&app).await;
    let model = crate::support::fixture("hex_prism.stl");
    let replies = futures::future::join_all((0..12).map(|_| {
        // A client per request: no connection is shared, so the races are the server's.
        let client = reqwest::Client::new();
        client
            .post(format!("http://{addr}/v1/jobs"))
            .bearer_auth(&key)
            .header("idempotency-key", "race-1")
            .body(model.clone())
            .send()
    }))
    .await;
    let mut ids = std::collections::BTreeSet::new();
    let mut created = 0;
    for r in replies {
        let r = r.unwrap();
        assert_eq!(r.status().as_u16(), 202);
        let v: serde_json::Value = r.json().await.unwrap();
        ids.insert(v["id"].as_str().unwrap().to_owned());
        created += usize::from(v["created"] == true);
    }
    assert_eq!((ids.len(), created), (1, 1));
    assert_eq!(app.job_count().await, 1);
}
on_both!(
    uploads_racing_on_one_idempotency_key_over_sockets_make_one_job_,
    uploads_racing_on_one_idempotency_key_over_sockets_make_one_job
);

/// Opens the live feed on a socket with a tiny receive buffer and never reads from it.
async fn silent_feed_client(addr: std::net::SocketAddr, key: &str) -> TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(1024).unwrap();
    let mut s = socket.connect(addr).await.unwrap();
    let head =
        format!("GET /v1/changes HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n\r\n");
    s.write_all(head.as_bytes()).await.unwrap();
    s
}

/// Reads `s` until the server closes it; false if it is still open after `within`.
async fn closed_within(s: &mut TcpStream, within: Duration) -> bool {
    let mut buf = vec![0u8; 64 * 1024];
    tokio::time::timeout(within, async {
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .is_ok()
}

/// Live-feed clients that never read do not hold up a client that does, and once their socket
/// buffers are full the server closes them after `write_stall_timeout` instead of keeping
/// their connections (and tasks) for ever.
async fn live_feed_clients_that_never_read_are_closed_and_others_served(b: Backend) {
    let cfg = ApiConfig {
        write_stall_timeout: Duration::from_secs(2),
        send_buffer_bytes: 16 * 1024,
        events_poll: Duration::from_millis(20),
        ..config()
    };
    let app = start_with(b, cfg, StoreConfig::default()).await;
    let op = app.key(Role::Operator, None).await;
    let partner = app.key(Role::Partner, Some("acme")).await;
    let addr = listen(&app).await;
    let mut silent = Vec::new();
    for _ in 0..20 {
        silent.push(silent_feed_client(addr, &op).await);
    }
    // Enough changes (about 2 KB each) to fill the kernel's buffers and hyper's (400 KB) twice.
    let reference = "R".repeat(180);
    let model = crate::support::fixture("hex_prism.stl");
    let client = reqwest::Client::new();
    for i in 0..400 {
        let r = client
            .post(format!("http://{addr}/v1/jobs?partner_ref={reference}{i}"))
            .bearer_auth(&partner)
            .header("idempotency-key", format!("silent-{i}"))
            .body(model.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 202);
    }

    // A client that reads sees a new job at once, while the silent ones are still connected.
    let mut feed = client
        .get(format!("http://{addr}/v1/changes"))
        .bearer_auth(&op)
        .send()
        .await
        .unwrap()
        .bytes_stream();
    let started = Instant::now();
    let r = client
        .post(format!("http://{addr}/v1/jobs?partner_ref=LIVE"))
        .bearer_auth(&partner)
        .body(crate::support::fixture("box.stl"))
        .send()
        .await
        .unwrap();
    let id = r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut text = String::new();
    while !text.contains(&id) {
        let chunk = tokio::time::timeout(Duration::from_secs(5), feed.next())
            .await
            .expect("the reading client got the new job within 5 s")
            .unwrap()
            .unwrap();
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(started.elapsed() < Duration::from_secs(5));

    // The silent clients' connections end: the server gave up on them. (Reading earlier would
    // unblock the server's writes and restart its timer.)
    tokio::time::sleep(Duration::from_secs(4)).await;
    for s in &mut silent {
        assert!(
            closed_within(s, Duration::from_secs(10)).await,
            "a client that never read still holds its connection"
        );
    }
}
on_both!(
    live_feed_clients_that_never_read_are_closed_and_others_served_,
    live_feed_clients_that_never_read_are_closed_and_others_served
);

/// Odd content types over a socket: bytes of no known format under an unknown type get 415
/// `unsupported_format`; a multipart type without its boundary, or with a body that is not
/// multipart, gets 400 `invalid_request`. Nothing is accepted.
async fn unknown_content_types_and_broken_multipart_get_clear_answers(b: Backend) {
    let app = start_with(b, config(), StoreConfig::default()).await;
    let key = app.key(Role::Partner, Some("acme")).await;
    let addr = listen(&app).await;
    let junk = vec![0x5au8; 4096];
    let cases = [
        ("application/x-unknown-cad", 415),
        ("multipart/form-data", 400),
        ("multipart/form-data; boundary=zzz", 400),
    ];
    for (content_type, status) in cases {
        let head = format!(
            "POST /v1/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            junk.len()
        );
        assert_eq!(
            exchange(addr, &head, &junk).await,
            Some(status),
            "{content_type}"
        );
    }
    assert_eq!(app.job_count().await, 0);
}
on_both!(
    unknown_content_types_and_broken_multipart_get_clear_answers_,
    unknown_content_types_and_broken_multipart_get_clear_answers
);
