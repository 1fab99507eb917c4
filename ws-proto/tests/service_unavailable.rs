//! The refusal of a full server: `Response::service_unavailable`.

use std::time::Duration;

use ws_proto::Response;

fn bytes(retry_after: Duration) -> String {
    let mut out = Vec::new();
    Response::service_unavailable(retry_after).write_to(&mut out);
    String::from_utf8(out).unwrap()
}

#[test]
fn a_503_with_retry_after_in_whole_seconds() {
    let text = bytes(Duration::from_secs(2));
    assert!(
        text.starts_with("HTTP/1.1 503 Service Unavailable\r\n"),
        "{text}"
    );
    assert!(text.contains("\r\nRetry-After: 2\r\n"), "{text}");
    assert!(text.contains("\r\nConnection: close\r\n"), "{text}");
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(
        head.contains(&format!("Content-Length: {}", body.len())),
        "{text}"
    );
    // It parses as a response, the way a client reads it.
    let (res, len) = Response::parse(text.as_bytes(), 16).unwrap().unwrap();
    assert_eq!(res.status, 503);
    assert_eq!(len, head.len() + 4);
}

#[test]
fn retry_after_rounds_up_and_is_never_zero() {
    assert!(bytes(Duration::ZERO).contains("Retry-After: 1\r\n"));
    assert!(bytes(Duration::from_millis(100)).contains("Retry-After: 1\r\n"));
    assert!(bytes(Duration::from_millis(1500)).contains("Retry-After: 2\r\n"));
}
