//! Redirects in a client's opening handshake, on each runtime: a loopback
//! server of the facade answers some paths with a 30x and a `Location`,
//! and the client follows them with one handler, whose `Sender` keeps
//! working on the last hop. Covered: relative and absolute hops, a
//! cross-host hop dropping the URL's credentials, a loop, the limit, and
//! (with TLS) a downgrade from `wss://` to `ws://` refused.

#[macro_use]
mod support;
#[cfg(feature = "rustls")]
use ws::tls::rustls;
#[cfg(feature = "rustls")]
#[path = "../../tests/support/localhost_tls.rs"]
mod localhost_tls;

use std::time::Duration;

use support::*;
use ws::{CloseCode, Handler, Handshake, Message, Request, Response, Runtime, Sender, Settings};

const LIMIT: Duration = Duration::from_secs(30);

/// Where the server sends a path: `Some((status, location))` (`{port}` in
/// the location is replaced by the server's port), or `None` to accept.
type Routes = fn(&str) -> Option<(u16, &'static str)>;

/// The server's handler: redirects by `routes`, echoes what it accepts,
/// and logs each request as `"<path> auth"` or `"<path> no-auth"`.
struct Router {
    out: Sender,
    routes: Routes,
    log: Log,
}

impl Handler for Router {
    fn on_request(&mut self, req: &Request) -> ws::Result<Response> {
        let auth = if req.header("Authorization").is_some() {
            "auth"
        } else {
            "no-auth"
        };
        self.log.push(format!("{} {auth}", req.resource()));
        let Some((status, location)) = (self.routes)(req.resource()) else {
            return Response::from_request(req);
        };
        let host = req
            .header("Host")
            .map(|h| String::from_utf8_lossy(h).into_owned());
        let port = host
            .as_deref()
            .and_then(|h| h.rsplit(':').next())
            .unwrap_or("");
        let mut res = Response::new(status, "Redirect", Vec::new());
        res.headers_mut().push((
            "Location".into(),
            location.replace("{port}", port).into_bytes(),
        ));
        Ok(res)
    }

    fn on_message(&mut self, msg: Message) -> ws::Result<()> {
        self.out.send(msg)
    }
}

fn router(runtime: Runtime, routes: Routes, log: &Log) -> Server {
    let log = log.clone();
    Server::start(runtime, Settings::default(), move || {
        move |out: Sender| Router {
            out,
            routes,
            log: log.clone(),
        }
    })
}

/// The client's handler: sends a message once open, records the echo,
/// the URL it opened at and any error, then closes.
struct Client {
    out: Sender,
    log: Log,
}

impl Handler for Client {
    fn on_open(&mut self, shake: Handshake) -> ws::Result<()> {
        let url = shake
            .request
            .url()
            .map(|u| u.to_string())
            .unwrap_or_default();
        self.log.push(format!("open {url}"));
        self.out.send("hello")
    }

    fn on_message(&mut self, msg: Message) -> ws::Result<()> {
        self.log.push(format!("echo: {msg}"));
        self.out.close(CloseCode::Normal)
    }

    fn on_error(&mut self, err: ws::Error) {
        self.log.push(format!("error: {err}"));
    }
}

/// Runs one client to `url`; returns its log, which starts with one
/// `"made"` per handler the factory made.
fn client<P>(runtime: Runtime, settings: Settings, url: &str, prepare: P) -> Vec<String>
where
    P: FnOnce(
        ws::WebSocket<Box<dyn FnMut(Sender) -> Client>>,
    ) -> ws::WebSocket<Box<dyn FnMut(Sender) -> Client>>,
{
    let log = Log::default();
    let record = log.clone();
    let factory: Box<dyn FnMut(Sender) -> Client> = Box::new(move |out: Sender| {
        record.push("made");
        Client {
            out,
            log: record.clone(),
        }
    });
    let ws = ws::Builder::new()
        .with_runtime(runtime)
        .with_settings(settings)
        .build(factory)
        .unwrap();
    let mut ws = prepare(ws).with_proxy(ws::ProxySetting::Direct);
    ws.connect(url::Url::parse(url).unwrap()).unwrap();
    ws.run().unwrap();
    log.entries()
}

fn a_chain_of_relative_and_absolute_hops_is_followed(runtime: Runtime) {
    let seen = Log::default();
    let server = router(
        runtime,
        |path| match path {
            "/start" => Some((301, "next")),
            "/next" => Some((302, "ws://127.0.0.1:{port}/absolute")),
            "/absolute" => Some((303, "/temporary?q=1")),
            "/temporary?q=1" => Some((307, "http://127.0.0.1:{port}/permanent")),
            "/permanent" => Some((308, "/echo")),
            _ => None,
        },
        &seen,
    );
    let port = server.addr.port();
    let log = client(
        runtime,
        Settings::default(),
        &format!("ws://127.0.0.1:{port}/start"),
        |ws| ws,
    );
    // One handler for the five hops; its Sender reaches the last one.
    assert_eq!(
        log,
        [
            "made".to_owned(),
            format!("open ws://127.0.0.1:{port}/echo"),
            "echo: hello".to_owned(),
        ],
    );
    assert_eq!(seen.count("/"), 6, "{:?}", seen.entries());
}

fn credentials_are_dropped_when_the_host_changes(runtime: Runtime) {
    let seen = Log::default();
    let server = router(
        runtime,
        |path| match path {
            "/start" => Some((302, "/same-host")),
            "/same-host" => Some((302, "ws://localhost:{port}/echo")),
            _ => None,
        },
        &seen,
    );
    let port = server.addr.port();
    let log = client(
        runtime,
        Settings::default(),
        &format!("ws://user:secret@127.0.0.1:{port}/start"),
        |ws| ws,
    );
    assert_eq!(
        log.last().map(String::as_str),
        Some("echo: hello"),
        "{log:?}"
    );
    assert_eq!(
        seen.entries(),
        ["/start auth", "/same-host auth", "/echo no-auth"]
    );
    assert!(!log.iter().any(|l| l.contains("secret")), "{log:?}");
}

fn a_loop_is_stopped(runtime: Runtime) {
    let seen = Log::default();
    let server = router(
        runtime,
        |path| match path {
            "/a" => Some((302, "/b")),
            "/b" => Some((302, "/a")),
            _ => None,
        },
        &seen,
    );
    let url = format!("ws://127.0.0.1:{}/a", server.addr.port());
    let log = client(runtime, Settings::default(), &url, |ws| ws);
    assert_eq!(log.len(), 2, "{log:?}");
    assert!(
        log[1].starts_with("error: ") && log[1].contains("loop"),
        "{log:?}"
    );
    assert_eq!(seen.entries(), ["/a no-auth", "/b no-auth"]);
}

fn the_limit_is_kept(runtime: Runtime) {
    let seen = Log::default();
    let server = router(
        runtime,
        |path| match path {
            "/1" => Some((307, "/2")),
            "/2" => Some((307, "/3")),
            "/3" => Some((307, "/echo")),
            _ => None,
        },
        &seen,
    );
    let url = format!("ws://127.0.0.1:{}/1", server.addr.port());
    let two = Settings {
        max_redirects: 2,
        ..Settings::default()
    };
    let log = client(runtime, two, &url, |ws| ws);
    assert!(log[1].contains("limit"), "{log:?}");
    assert_eq!(seen.count("/"), 3, "{:?}", seen.entries());
    // As browsers: no redirect followed at all.
    let none = Settings {
        max_redirects: 0,
        ..Settings::default()
    };
    let log = client(runtime, none, &url, |ws| ws);
    assert!(log[1].contains("limit"), "{log:?}");
    // The default follows all three.
    let log = client(runtime, Settings::default(), &url, |ws| ws);
    assert_eq!(
        log.last().map(String::as_str),
        Some("echo: hello"),
        "{log:?}"
    );
}

runtimes!(
    a_chain_of_relative_and_absolute_hops_is_followed,
    credentials_are_dropped_when_the_host_changes,
    a_loop_is_stopped,
    the_limit_is_kept,
);

#[cfg(feature = "rustls")]
mod wss {
    use super::*;

    /// Over TLS a relative hop is followed (a new TLS session for the new
    /// connection), and a redirect to `ws://` is refused before anything
    /// is dialled.
    fn a_downgrade_to_plain_ws_is_refused(runtime: Runtime) {
        let (server_tls, client_tls) = localhost_tls::localhost_tls(ws::tls::crypto_provider());
        let seen = Log::default();
        let record = seen.clone();
        let secure = Server::start_with(
            runtime,
            Settings::default(),
            move |ws| ws.with_tls_server(server_tls),
            move || {
                move |out: Sender| Router {
                    out,
                    routes: |path| match path {
                        "/start" => Some((301, "/echo")),
                        "/down" => Some((301, "ws://localhost:{port}/echo")),
                        _ => None,
                    },
                    log: record.clone(),
                }
            },
        );
        let port = secure.addr.port();
        let tls = client_tls.clone();
        let log = client(
            runtime,
            Settings::default(),
            &format!("wss://localhost:{port}/start"),
            |ws| ws.with_tls_client(tls),
        );
        assert_eq!(
            log,
            [
                "made".to_owned(),
                format!("open wss://localhost:{port}/echo"),
                "echo: hello".to_owned(),
            ],
        );
        let log = client(
            runtime,
            Settings::default(),
            &format!("wss://localhost:{port}/down"),
            |ws| ws.with_tls_client(client_tls),
        );
        assert_eq!(log.len(), 2, "{log:?}");
        assert!(log[1].contains("downgrade"), "{log:?}");
        // Nothing was dialled after the refusal.
        assert_eq!(
            seen.entries(),
            ["/start no-auth", "/echo no-auth", "/down no-auth"]
        );
    }

    runtimes!(a_downgrade_to_plain_ws_is_refused);
}
