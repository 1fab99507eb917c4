//! A hyper 1.x server that upgrades requests for `/ws` to WebSocket
//! connections and echoes their messages; every other path is plain HTTP.
//!
//!     cargo run -p ws-examples --example hyper_upgrade [ADDR]  (ADDR defaults to 127.0.0.1:9003)
//!
//! hyper does the HTTP: it parses the request and sends the 101.
//! [`ws_tokio::upgrade::negotiate`] checks the request and decides what the
//! 101 says: `Sec-WebSocket-Accept` and, when the client offers it,
//! permessage-deflate (with the same [`Config`] as `ws_tokio::accept_with_config`
//! would use). Once hyper hands over the upgraded connection,
//! [`WebSocketStream::from_upgrade`] runs it as agreed, compressed or not,
//! without a second handshake.

use std::convert::Infallible;
use std::sync::{Arc, LazyLock};

use futures_util::StreamExt;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use ws_tokio::{Config, DeflateConfig, WebSocketStream};

/// One config for every connection: permessage-deflate for the clients
/// that offer it.
static CONFIG: LazyLock<Arc<Config>> = LazyLock::new(|| {
    Arc::new(Config {
        deflate: Some(DeflateConfig::default()),
        ..Config::default()
    })
});

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9003".into());
    let listener = TcpListener::bind(&addr).await?;
    println!("WebSocket echo on ws://{}/ws", listener.local_addr()?);
    serve(listener).await
}

/// Serves HTTP/1.1 on every connection `listener` accepts.
pub(crate) async fn serve(listener: TcpListener) -> std::io::Result<()> {
    loop {
        let (tcp, _) = listener.accept().await?;
        tokio::spawn(async move {
            let http = http1::Builder::new()
                .serve_connection(TokioIo::new(tcp), service_fn(handle))
                // Keeps the connection alive past the 101 for the upgrade.
                .with_upgrades();
            if let Err(e) = http.await {
                eprintln!("http: {e}");
            }
        });
    }
}

async fn handle(mut req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    if req.uri().path() != "/ws" {
        return Ok(plain(StatusCode::NOT_FOUND, "try /ws\n"));
    }
    // The core's view of the head, for its checks of the upgrade request.
    let head = ws_tokio::Request {
        method: req.method().to_string(),
        path: req.uri().to_string(),
        headers: req
            .headers()
            .iter()
            .map(|(name, value)| (name.to_string(), value.as_bytes().to_vec()))
            .collect(),
    };
    let negotiated = match ws_tokio::upgrade::negotiate(&head, &CONFIG, &[]) {
        Ok(negotiated) => negotiated,
        Err(e) => {
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
            let mut res = plain(status, &format!("{e}\n"));
            // `Sec-WebSocket-Version: 13` with a 426.
            for (name, value) in e.headers() {
                if let Ok(name) = HeaderName::from_bytes(name.as_bytes()) {
                    res.headers_mut()
                        .insert(name, HeaderValue::from_static(value));
                }
            }
            return Ok(res);
        }
    };
    let mut res = Response::new(Full::default());
    *res.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    // Upgrade, Connection, Sec-WebSocket-Accept and, when agreed,
    // Sec-WebSocket-Extensions: names and values the core made, all valid.
    for (name, value) in negotiated.headers() {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            res.headers_mut().append(name, value);
        }
    }
    // Resolves once hyper has sent the 101.
    let upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        match upgrade.await {
            Ok(upgraded) => {
                let io = TokioIo::new(upgraded);
                let ws = WebSocketStream::from_upgrade(io, negotiated, CONFIG.clone());
                if let Err(e) = echo(ws).await {
                    eprintln!("websocket: {e}");
                }
            }
            Err(e) => eprintln!("upgrade: {e}"),
        }
    });
    Ok(res)
}

/// Echoes text and binary messages until the connection ends.
async fn echo<S>(mut ws: WebSocketStream<S>) -> Result<(), ws_tokio::Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    while let Some(msg) = ws.next().await {
        let msg = msg?;
        if msg.is_data() {
            ws.send(msg).await?;
        }
    }
    Ok(())
}

fn plain(status: StatusCode, body: &str) -> Response<Full<Bytes>> {
    let mut res = Response::new(Full::new(Bytes::from(body.to_owned())));
    *res.status_mut() = status;
    res.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    res
}
