//! Redirects in the opening handshake, followed by the native client: a
//! loopback server (ws-tokio's own accept, refusing with 30x and a
//! `Location`) sends the client through relative and absolute hops, a
//! loop, a chain past the limit, a cross-host hop that drops the URL's
//! credentials, and (with TLS) a downgrade to `ws://` refused.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use common::{bounded, listener};
use futures_util::StreamExt;
use ws_tokio::ws_proto::HandshakeError;
use ws_tokio::{CloseCode, Connector, Error, Message, Request, Response};

/// Where the server sends each path: `Some((status, location))`, or
/// `None` to accept the connection and echo.
type Routes = fn(&str, u16) -> Option<(u16, String)>;

/// What the server saw: the connections it accepted, and each request's
/// path and whether it carried `Authorization`.
#[derive(Clone, Default)]
struct Seen {
    connections: Arc<AtomicUsize>,
    requests: Arc<Mutex<Vec<(String, bool)>>>,
}

impl Seen {
    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    fn requests(&self) -> Vec<(String, bool)> {
        self.requests.lock().unwrap().clone()
    }
}

/// Serves connections until the test ends; records what it sees.
async fn server(routes: Routes) -> (u16, Seen) {
    let (listener, addr) = listener().await;
    let port = addr.port();
    let seen = Seen::default();
    let record = seen.clone();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            record.connections.fetch_add(1, Ordering::SeqCst);
            let requests = record.requests.clone();
            tokio::spawn(async move {
                let answer = |req: &Request| {
                    let auth = req.header_str("Authorization").is_some();
                    requests.lock().unwrap().push((req.path.clone(), auth));
                    match routes(&req.path, port) {
                        Some((status, location)) => {
                            let mut res = Response::new(status);
                            res.headers.push(("Location".into(), location.into_bytes()));
                            Err(res)
                        }
                        None => Ok(Default::default()),
                    }
                };
                if let Ok(mut ws) = ws_tokio::accept_with(tcp, Default::default(), answer).await {
                    while let Some(Ok(msg)) = ws.next().await {
                        if msg.is_data() {
                            let _ = ws.send(msg).await;
                        }
                    }
                }
            });
        }
    });
    (port, seen)
}

fn refused(e: Error) -> String {
    match e {
        Error::Handshake(e @ HandshakeError::RedirectRefused { .. }) => e.to_string(),
        other => panic!("not a refused redirect: {other:?}"),
    }
}

#[tokio::test]
async fn a_chain_of_relative_and_absolute_hops_is_followed() {
    bounded(async {
        let (port, seen) = server(|path, port| match path {
            "/start" => Some((301, "next".into())),
            "/next" => Some((302, format!("ws://127.0.0.1:{port}/absolute"))),
            "/absolute" => Some((303, "/temporary?q=1".into())),
            "/temporary?q=1" => Some((307, format!("http://127.0.0.1:{port}/permanent"))),
            "/permanent" => Some((308, "/echo".into())),
            _ => None,
        })
        .await;
        let mut ws = Connector::new()
            .direct()
            .connect(&format!("ws://127.0.0.1:{port}/start"))
            .await
            .unwrap();
        let last = format!("ws://127.0.0.1:{port}/echo");
        assert_eq!(ws.url().map(url::Url::as_str), Some(last.as_str()));
        ws.send("after five hops").await.unwrap();
        assert_eq!(
            ws.next().await.unwrap().unwrap(),
            Message::text("after five hops")
        );
        ws.close(CloseCode::NORMAL, "").await.unwrap();
        assert_eq!(seen.connections(), 6);
    })
    .await;
}

#[tokio::test]
async fn a_loop_is_stopped() {
    bounded(async {
        let (port, seen) = server(|path, _| match path {
            "/a" => Some((302, "/b".into())),
            _ => Some((302, "/a".into())),
        })
        .await;
        let e = Connector::new()
            .direct()
            .connect(&format!("ws://127.0.0.1:{port}/a"))
            .await
            .unwrap_err();
        let text = refused(e);
        assert!(text.contains("loop"), "{text}");
        assert_eq!(seen.connections(), 2);
    })
    .await;
}

#[tokio::test]
async fn the_limit_is_kept() {
    bounded(async {
        let (port, seen) = server(|path, _| {
            let n: u32 = path.trim_start_matches("/n").parse().unwrap_or(0);
            Some((307, format!("/n{}", n + 1)))
        })
        .await;
        let e = Connector::new()
            .direct()
            .max_redirects(3)
            .connect(&format!("ws://127.0.0.1:{port}/n0"))
            .await
            .unwrap_err();
        let text = refused(e);
        assert!(text.contains("limit") && text.contains("/n4"), "{text}");
        // The first request and three redirects followed.
        assert_eq!(seen.connections(), 4);
        // 0: not followed at all, as browsers do.
        let e = Connector::new()
            .direct()
            .max_redirects(0)
            .connect(&format!("ws://127.0.0.1:{port}/n0"))
            .await
            .unwrap_err();
        refused(e);
    })
    .await;
}

#[tokio::test]
async fn a_redirect_without_location_is_a_status_error() {
    bounded(async {
        let (listener, addr) = listener().await;
        tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let _ = ws_tokio::accept_with(tcp, Default::default(), |_: &Request| {
                Err(Response::new(302))
            })
            .await;
        });
        let e = Connector::new()
            .direct()
            .connect(&format!("ws://{addr}/"))
            .await
            .unwrap_err();
        assert!(
            matches!(e, Error::Handshake(HandshakeError::Status(302))),
            "{e:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn credentials_are_dropped_when_the_host_changes() {
    bounded(async {
        let (port, seen) = server(|path, port| match path {
            "/start" => Some((302, "/same-host".into())),
            "/same-host" => Some((302, format!("ws://localhost:{port}/echo"))),
            _ => None,
        })
        .await;
        let ws = Connector::new()
            .direct()
            .connect(&format!("ws://user:secret@127.0.0.1:{port}/start"))
            .await
            .unwrap();
        let last = format!("ws://localhost:{port}/echo");
        assert_eq!(ws.url().map(url::Url::as_str), Some(last.as_str()));
        let expected = [("/start", true), ("/same-host", true), ("/echo", false)];
        let expected: Vec<(String, bool)> = expected
            .iter()
            .map(|(p, a)| ((*p).to_owned(), *a))
            .collect();
        assert_eq!(seen.requests(), expected);
    })
    .await;
}

#[cfg(feature = "rustls")]
#[path = "../../tests/support/localhost_tls.rs"]
mod localhost_tls;
#[cfg(feature = "rustls")]
use ws_tokio::rustls;

#[cfg(feature = "rustls")]
#[tokio::test]
async fn a_downgrade_to_plain_ws_is_refused() {
    bounded(async {
        let (server_tls, client_tls) =
            localhost_tls::localhost_tls(ws_tokio::tls::crypto_provider());
        let (listener, addr) = listener().await;
        let port = addr.port();
        let seen = Arc::new(AtomicUsize::new(0));
        let counter = seen.clone();
        tokio::spawn(async move {
            loop {
                let (tcp, _) = listener.accept().await.unwrap();
                counter.fetch_add(1, Ordering::SeqCst);
                let server_tls = server_tls.clone();
                tokio::spawn(async move {
                    let answer = |req: &Request| {
                        let location = match req.path.as_str() {
                            "/start" => "/echo".to_owned(),
                            "/down" => format!("ws://localhost:{port}/echo"),
                            _ => return Ok(Default::default()),
                        };
                        let mut res = Response::new(301);
                        res.headers.push(("Location".into(), location.into_bytes()));
                        Err(res)
                    };
                    let _ = ws_tokio::accept_tls_with(tcp, Default::default(), server_tls, answer)
                        .await;
                });
            }
        });
        let connector = Connector::new().direct().tls(client_tls);
        // A relative hop stays on wss://, with a TLS session of its own.
        let ws = connector
            .clone()
            .connect(&format!("wss://localhost:{port}/start"))
            .await
            .unwrap();
        let last = format!("wss://localhost:{port}/echo");
        assert_eq!(ws.url().map(url::Url::as_str), Some(last.as_str()));
        drop(ws);
        assert_eq!(seen.load(Ordering::SeqCst), 2);
        let e = connector
            .connect(&format!("wss://localhost:{port}/down"))
            .await
            .unwrap_err();
        let text = refused(e);
        assert!(text.contains("downgrade"), "{text}");
        // Refused before anything was dialled.
        assert_eq!(seen.load(Ordering::SeqCst), 3);
    })
    .await;
}
