//! WebSockets over HTTP/2 (RFC 8441): one TLS listener serving a page and
//! an echo WebSocket, over HTTP/2 or HTTP/1.1, whichever the client picks.
//!
//!     cargo run -p ws-examples --example http2_echo --features http2 [ADDR]
//!
//! (ADDR defaults to 127.0.0.1:9005; port 0 picks a free one.) It makes a
//! self-signed certificate for `localhost` and `127.0.0.1` at start, and
//! prints `open https://ADDR/ in your browser`: the browser warns about the
//! certificate (or run Chromium with `--ignore-certificate-errors`). The
//! page loads over HTTP/2, opens `wss://ADDR/echo` and shows over which
//! HTTP the server saw that WebSocket arrive: a browser that speaks RFC
//! 8441 (Chrome, Firefox) opens it as a stream of the page's HTTP/2
//! connection. The server prints a line per WebSocket with the same.
//!
//! `ws_tokio::http2::serve_tls` does the TLS (ALPN `h2`, `http/1.1`) and
//! serves each connection with hyper; `ws_tokio::http2::upgrade` answers
//! both kinds of opening, with permessage-deflate.

use std::sync::Arc;

use ws_tokio::http2::{self, Body, http};
use ws_tokio::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use ws_tokio::{Config, DeflateConfig, Message};

const PAGE: &str = r#"<!doctype html>
<meta charset="utf-8">
<title>ws-tokio over HTTP/2</title>
<p>page loaded over <b id="page">?</b>
<p>WebSocket seen by the server over <b id="version">?</b>
<p>echo: <b id="echo">?</b>
<script>
  const nav = performance.getEntriesByType("navigation")[0];
  document.getElementById("page").textContent = nav ? nav.nextHopProtocol : "unknown";
  const ws = new WebSocket(`wss://${location.host}/echo`);
  let first = true;
  ws.onopen = () => ws.send("ping over the WebSocket");
  ws.onmessage = (event) => {
    if (first) {
      first = false;
      document.getElementById("version").textContent = event.data;
    } else {
      document.getElementById("echo").textContent = event.data;
    }
  };
  ws.onerror = () => { document.getElementById("echo").textContent = "error"; };
</script>
"#;

async fn handle(mut request: http::Request<http2::hyper::body::Incoming>) -> http::Response<Body> {
    if !http2::is_websocket(&request) {
        let mut page = http::Response::new(Body::from(PAGE));
        page.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("text/html; charset=utf-8"),
        );
        return page;
    }
    let config = Arc::new(Config {
        deflate: Some(DeflateConfig::default()),
        ..Config::default()
    });
    match http2::upgrade(&mut request, config, &[]) {
        Ok((response, pending)) => {
            let version = match pending.version() {
                http2::HttpVersion::Http2 => "HTTP/2",
                _ => "HTTP/1.1",
            };
            let path = request.uri().path().to_owned();
            tokio::spawn(async move {
                let mut ws = match pending.await {
                    Ok(ws) => ws,
                    Err(e) => return eprintln!("http2_echo: {e}"),
                };
                let deflate = ws.connection().deflate().is_some();
                println!("WebSocket over {version} at {path} (permessage-deflate: {deflate})");
                // The first message says how the WebSocket came in.
                if ws.send(Message::text(version)).await.is_err() {
                    return;
                }
                while let Some(Ok(message)) = ws.recv().await {
                    if ws.send(message).await.is_err() {
                        break;
                    }
                }
            });
            response
        }
        Err(refusal) => {
            eprintln!("http2_echo: {refusal}");
            refusal.response()
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9005".into());
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.signing_key.serialize_der()));
    let tls =
        ws_tokio::rustls::ServerConfig::builder_with_provider(ws_tokio::tls::crypto_provider())
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(vec![cert.cert.der().clone()], key)?;
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("open https://{}/ in your browser", listener.local_addr()?);
    http2::serve_tls(listener, Arc::new(tls), handle).await?;
    Ok(())
}
