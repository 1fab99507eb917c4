//! The facade's behaviour, end to end over loopback sockets. Every test is a
//! function of the runtime; `runtimes!` at the bottom runs each on every
//! runtime this build includes.

#[macro_use]
mod support;

use std::cell::Cell;
use std::rc::Rc;
use std::thread;
use std::time::Duration;

use support::{Log, RawClient, Server, run_client, within};
use ws::util::{Timeout, Token};
use ws::{
    CloseCode, Error, ErrorKind, Factory, Frame, Handler, Handshake, Message, OpCode, Request,
    Response, Result, Runtime, Sender, Settings,
};

const LIMIT: Duration = Duration::from_secs(60);

/// A server whose handlers echo every message.
fn echo_server(rt: Runtime, settings: Settings) -> Server {
    Server::start(rt, settings, || |out: Sender| move |msg| out.send(msg))
}

// ------------------------------------------------------------------ echo

struct EchoClient {
    out: Sender,
    log: Log,
    got: usize,
}

impl Handler for EchoClient {
    fn on_open(&mut self, _: Handshake) -> Result<()> {
        self.log.push("open");
        self.out.send("hello")?;
        self.out.send(vec![1u8, 2, 3])
    }

    fn on_message(&mut self, msg: Message) -> Result<()> {
        self.log.push(format!("message {msg:?}"));
        self.got += 1;
        if self.got == 2 {
            self.out.close(CloseCode::Normal)?;
        }
        Ok(())
    }

    fn on_close(&mut self, code: CloseCode, _: &str) {
        self.log.push(format!("close {}", u16::from(code)));
    }

    fn on_error(&mut self, err: Error) {
        self.log.push(format!("error {err}"));
    }
}

fn echo_text_and_binary(rt: Runtime) {
    let server = echo_server(rt, Settings::default());
    let log = Log::default();
    let client_log = log.clone();
    run_client(rt, Settings::default(), &server.url(), move |out| {
        EchoClient {
            out,
            log: client_log.clone(),
            got: 0,
        }
    })
    .unwrap();
    assert_eq!(
        log.entries(),
        [
            "open",
            "message Text(\"hello\")",
            "message Binary([1, 2, 3])",
            "close 1000"
        ]
    );
    server.stop().unwrap();
}

// ------------------------------------------------------------- lifecycle

struct Recorder {
    out: Sender,
    log: Log,
}

impl Handler for Recorder {
    fn on_request(&mut self, req: &Request) -> Result<Response> {
        self.log.push(format!("request {}", req.resource()));
        let offered = req.protocols()?;
        let mut res = Response::from_request(req)?;
        if offered.contains(&"chat") {
            res.set_protocol("chat");
        }
        res.headers_mut()
            .push(("X-Server".into(), b"recorder".to_vec()));
        Ok(res)
    }

    fn on_open(&mut self, shake: Handshake) -> Result<()> {
        let header = shake.request.header("X-Test").cloned().unwrap_or_default();
        self.log.push(format!(
            "open {} peer={} header={}",
            shake.request.resource(),
            shake.peer_addr.is_some(),
            String::from_utf8_lossy(&header)
        ));
        Ok(())
    }

    fn on_message(&mut self, msg: Message) -> Result<()> {
        self.log.push(format!("message {msg}"));
        if msg.as_text()? == "close please" {
            self.out.close_with_reason(CloseCode::Away, "done")
        } else {
            self.out.send(msg)
        }
    }

    fn on_close(&mut self, code: CloseCode, reason: &str) {
        self.log.push(format!("close {} {reason}", u16::from(code)));
    }

    fn on_error(&mut self, err: Error) {
        self.log.push(format!("error {err}"));
    }
}

struct RecordingFactory {
    log: Log,
}

impl Factory for RecordingFactory {
    type Handler = Recorder;

    fn connection_made(&mut self, out: Sender) -> Recorder {
        self.log.push("made");
        Recorder {
            out,
            log: self.log.clone(),
        }
    }

    fn server_connected(&mut self, out: Sender) -> Recorder {
        self.log.push("server_connected");
        self.connection_made(out)
    }

    fn connection_lost(&mut self, _: Recorder) {
        self.log.push("lost");
    }

    fn on_shutdown(&mut self) {
        self.log.push("factory shutdown");
    }
}

struct LifecycleClient {
    out: Sender,
    log: Log,
}

impl Handler for LifecycleClient {
    fn build_request(&mut self, url: &url::Url) -> Result<Request> {
        let mut req = Request::from_url(url)?;
        req.add_protocol("chat");
        req.headers_mut().push(("X-Test".into(), b"yes".to_vec()));
        Ok(req)
    }

    fn on_response(&mut self, res: &Response) -> Result<()> {
        let extra = res.header("X-Server").cloned().unwrap_or_default();
        self.log.push(format!(
            "response {} protocol={:?} x-server={}",
            res.status(),
            res.protocol()?,
            String::from_utf8_lossy(&extra)
        ));
        Ok(())
    }

    fn on_open(&mut self, _: Handshake) -> Result<()> {
        self.out.send("one")?;
        self.out.send("close please")
    }

    fn on_message(&mut self, msg: Message) -> Result<()> {
        self.log.push(format!("client got {msg}"));
        Ok(())
    }

    fn on_close(&mut self, code: CloseCode, reason: &str) {
        self.log
            .push(format!("client close {} {reason}", u16::from(code)));
    }
}

fn lifecycle_callbacks(rt: Runtime) {
    let server_log = Log::default();
    let factory_log = server_log.clone();
    let server = Server::start(rt, Settings::default(), move || RecordingFactory {
        log: factory_log,
    });
    let client_log = Log::default();
    let log = client_log.clone();
    let url = format!("{}/room?x=1", server.url());
    run_client(rt, Settings::default(), &url, move |out| LifecycleClient {
        out,
        log: log.clone(),
    })
    .unwrap();
    assert_eq!(
        client_log.entries(),
        [
            "response 101 protocol=Some(\"chat\") x-server=recorder",
            "client got one",
            "client close 1001 done",
        ]
    );
    server_log.wait_for("lost", |e| e.iter().any(|e| e == "lost"));
    assert_eq!(
        server_log.entries(),
        [
            "server_connected",
            "made",
            "request /room?x=1",
            "open /room?x=1 peer=true header=yes",
            "message one",
            "message close please",
            "close 1001 ",
            "lost",
        ]
    );
    server.stop().unwrap();
    assert_eq!(server_log.count("factory shutdown"), 1);
}

// ---------------------------------------------------------------- timers

struct Timers {
    out: Sender,
    log: Log,
}

impl Handler for Timers {
    fn on_open(&mut self, _: Handshake) -> Result<()> {
        self.out.timeout(30, Token(1))?;
        self.out.timeout(60, Token(2))
    }

    fn on_new_timeout(&mut self, event: Token, timeout: Timeout) -> Result<()> {
        self.log.push(format!("new {}", event.0));
        if event == Token(2) {
            self.out.cancel(timeout)?;
        }
        Ok(())
    }

    fn on_timeout(&mut self, event: Token) -> Result<()> {
        self.log.push(format!("fired {}", event.0));
        match event.0 {
            1 => self.out.timeout(100, Token(3)),
            _ => self.out.close(CloseCode::Normal),
        }
    }
}

fn timers_fire_and_cancel(rt: Runtime) {
    let log = Log::default();
    let server_log = log.clone();
    let server = Server::start(rt, Settings::default(), move || {
        move |out| Timers {
            out,
            log: server_log.clone(),
        }
    });
    let mut client = RawClient::open(server.addr);
    assert_eq!(client.expect_close(), Some(1000));
    drop(client);
    assert_eq!(
        log.entries(),
        ["new 1", "new 2", "fired 1", "new 3", "fired 3"]
    );
    server.stop().unwrap();
}

// ------------------------------------------------------------- broadcast

fn broadcast_reaches_everyone(rt: Runtime) {
    let server = Server::start(rt, Settings::default(), || {
        |out: Sender| {
            move |msg: Message| {
                if msg.as_text()? == "relay" {
                    out.broadcast(msg)
                } else {
                    out.send(msg)
                }
            }
        }
    });
    let mut clients: Vec<RawClient> = (0..3).map(|_| RawClient::open(server.addr)).collect();
    // The connections are open once each has echoed something.
    for c in &mut clients {
        c.send_frame(0x81, b"ping?", true);
        assert_eq!(c.read_frame().unwrap().payload, b"ping?");
    }
    server.broadcaster.broadcast("from outside").unwrap();
    for c in &mut clients {
        assert_eq!(c.read_frame().unwrap().payload, b"from outside");
    }
    clients[1].send_frame(0x81, b"relay", true);
    for c in &mut clients {
        assert_eq!(c.read_frame().unwrap().payload, b"relay");
    }
    drop(clients);
    server.stop().unwrap();
}

// -------------------------------------------------------------- shutdown

fn shutdown_closes_with_1001(rt: Runtime) {
    let log = Log::default();
    let server_log = log.clone();
    let server = Server::start(rt, Settings::default(), move || {
        move |out: Sender| {
            struct H(Sender, Log);
            impl Handler for H {
                fn on_message(&mut self, msg: Message) -> Result<()> {
                    self.0.send(msg)
                }
                fn on_shutdown(&mut self) {
                    self.1.push("handler shutdown");
                }
                fn on_close(&mut self, code: CloseCode, _: &str) {
                    self.1.push(format!("close {}", u16::from(code)));
                }
            }
            H(out, server_log.clone())
        }
    });
    let mut clients: Vec<RawClient> = (0..2).map(|_| RawClient::open(server.addr)).collect();
    for c in &mut clients {
        c.send_frame(0x81, b"x", true);
        assert_eq!(c.read_frame().unwrap().payload, b"x");
    }
    server.broadcaster.shutdown().unwrap();
    for c in &mut clients {
        let frame = c.read_frame().unwrap();
        assert_eq!(frame.close_code(), Some(1001));
        // Answer the close, as a client does.
        c.send_frame(0x88, &1001u16.to_be_bytes(), true);
        assert!(c.read_frame().is_none());
    }
    drop(clients);
    server.stop().unwrap();
    assert_eq!(log.count("handler shutdown"), 2);
    assert_eq!(log.count("close 1001"), 2);
}

// --------------------------------------------------------------- panics

fn a_panic_takes_down_one_connection(rt: Runtime) {
    let server = Server::start(rt, Settings::default(), || {
        |out: Sender| {
            move |msg: Message| {
                if msg.as_text()? == "boom" {
                    panic!("the handler panics on purpose");
                }
                out.send(msg)
            }
        }
    });
    let mut victim = RawClient::open(server.addr);
    let mut bystander = RawClient::open(server.addr);
    victim.send_frame(0x81, b"boom", true);
    assert_eq!(victim.expect_close(), Some(1011));
    bystander.send_frame(0x81, b"still here", true);
    assert_eq!(bystander.read_frame().unwrap().payload, b"still here");
    drop((victim, bystander));
    server.stop().unwrap();
}

fn a_handler_error_closes_with_its_code(rt: Runtime) {
    let log = Log::default();
    let server_log = log.clone();
    let server = Server::start(rt, Settings::default(), move || {
        move |_out: Sender| {
            struct H(Log);
            impl Handler for H {
                fn on_message(&mut self, _: Message) -> Result<()> {
                    Err(Error::new(ErrorKind::Capacity, "too much"))
                }
                fn on_error(&mut self, err: Error) {
                    self.0.push(format!("error {err}"));
                }
            }
            H(server_log.clone())
        }
    });
    let mut c = RawClient::open(server.addr);
    c.send_frame(0x81, b"anything", true);
    assert_eq!(c.expect_close(), Some(1009));
    drop(c);
    assert_eq!(log.count("error"), 1);
    server.stop().unwrap();
}

// -------------------------------------------------------- hostile input
//
// Hostile handshakes (with the heap measured and a healthy connection
// alongside) and a hostile server against the client are in hostile.rs.

fn hostile_input_gets_its_close_code(rt: Runtime) {
    let settings = Settings {
        max_message_size: 4096,
        ..Settings::default()
    };
    let server = echo_server(rt, settings);
    let cases: &[(&str, &[u8], u8, bool, u16)] = &[
        ("unmasked client frame", b"hi", 0x81, false, 1002),
        ("reserved opcode", b"", 0x83, true, 1002),
        ("RSV1 without extension", b"x", 0xC1, true, 1002),
        ("continuation without start", b"x", 0x80, true, 1002),
        ("invalid UTF-8", &[0xce, 0xba, 0xff], 0x81, true, 1007),
        ("fragmented ping", b"x", 0x09, true, 1002),
        ("1-byte close payload", &[3], 0x88, true, 1002),
        ("close code 999", &[3, 231], 0x88, true, 1002),
        ("close code 1005", &[3, 237], 0x88, true, 1002),
        ("close reason not UTF-8", &[3, 232, 0xff], 0x88, true, 1007),
        ("message too big", &[b'a'; 5000], 0x82, true, 1009),
    ];
    for &(what, payload, first, masked, code) in cases {
        let mut c = RawClient::open(server.addr);
        c.send_frame(first, payload, masked);
        assert_eq!(c.expect_close(), Some(code), "{what}");
    }
    // A declared length of 2^63 is refused at once.
    let mut c = RawClient::open(server.addr);
    let mut huge = vec![0x82, 0xff];
    huge.extend_from_slice(&(1u64 << 63).to_be_bytes());
    huge.extend_from_slice(&[1, 2, 3, 4]);
    c.send_raw(&huge);
    assert_eq!(c.expect_close(), Some(1002));
    drop(c);
    // And the server still serves.
    let mut c = RawClient::open(server.addr);
    c.send_frame(0x81, b"fine", true);
    assert_eq!(c.read_frame().unwrap().payload, b"fine");
    drop(c);
    server.stop().unwrap();
}

fn plain_http_from_on_request(rt: Runtime) {
    struct Page(Sender);
    impl Handler for Page {
        fn on_request(&mut self, req: &Request) -> Result<Response> {
            match req.resource() {
                "/ws" => Response::from_request(req),
                "/" => Ok(Response::new(200, "OK", b"<h1>hello</h1>".to_vec())),
                _ => Ok(Response::new(404, "Not Found", b"no such page".to_vec())),
            }
        }
        fn on_message(&mut self, msg: Message) -> Result<()> {
            self.0.send(msg)
        }
    }
    let server = Server::start(rt, Settings::default(), || Page);
    for (path, status, body) in [
        ("/", "200", "<h1>hello</h1>"),
        ("/x", "404", "no such page"),
    ] {
        let mut c = RawClient::connect(server.addr);
        c.send_raw(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
        let answer = String::from_utf8_lossy(&c.read_to_end()).into_owned();
        assert!(
            answer.starts_with(&format!("HTTP/1.1 {status}")),
            "{answer}"
        );
        assert!(answer.ends_with(body), "{answer}");
    }
    let done = Log::default();
    let log = done.clone();
    run_client(
        rt,
        Settings::default(),
        &format!("{}/ws", server.url()),
        move |out: Sender| {
            out.send("upgrade works").unwrap();
            let log = log.clone();
            move |msg: Message| {
                log.push(msg.to_string());
                out.close(CloseCode::Normal)
            }
        },
    )
    .unwrap();
    assert_eq!(done.entries(), ["upgrade works"]);
    server.stop().unwrap();
}

// ------------------------------------------------------------ frame hooks

fn frame_hooks_see_and_change_frames(rt: Runtime) {
    struct Hooks(Sender, Log);
    impl Handler for Hooks {
        fn on_frame(&mut self, mut frame: Frame) -> Result<Option<Frame>> {
            self.1.push(format!("in {:?}", frame.opcode()));
            if frame.opcode() == OpCode::Text {
                frame.payload_mut().make_ascii_uppercase();
            }
            if frame.payload() == b"DROP" {
                return Ok(None);
            }
            Ok(Some(frame))
        }
        fn on_send_frame(&mut self, mut frame: Frame) -> Result<Option<Frame>> {
            self.1.push(format!("out {:?}", frame.opcode()));
            frame.payload_mut().push(b'!');
            Ok(Some(frame))
        }
        fn on_message(&mut self, msg: Message) -> Result<()> {
            self.0.send(msg)
        }
    }
    let log = Log::default();
    let server_log = log.clone();
    let server = Server::start(rt, Settings::default(), move || {
        move |out| Hooks(out, server_log.clone())
    });
    let mut c = RawClient::open(server.addr);
    c.send_frame(0x81, b"drop", true);
    c.send_frame(0x89, b"p", true);
    assert_eq!(
        c.read_frame().unwrap(),
        support::RawFrame {
            fin: true,
            opcode: 0xA,
            payload: b"p".to_vec()
        }
    );
    c.send_frame(0x81, b"abc", true);
    assert_eq!(c.read_frame().unwrap().payload, b"ABC!");
    assert_eq!(log.entries(), ["in Text", "in Ping", "in Text", "out Text"]);
    drop(c);
    server.stop().unwrap();
}

// ---------------------------------------------------------------- senders

fn a_sender_works_from_another_thread(rt: Runtime) {
    let server = Server::start(rt, Settings::default(), || {
        |out: Sender| {
            let worker = out.clone();
            thread::spawn(move || {
                for i in 0..5 {
                    worker.send(format!("tick {i}")).unwrap();
                }
                worker.close(CloseCode::Normal).unwrap();
            });
            move |_msg: Message| Ok(())
        }
    });
    let mut c = RawClient::open(server.addr);
    for i in 0..5 {
        let frame = c.read_frame().unwrap();
        assert_eq!(frame.payload, format!("tick {i}").as_bytes());
    }
    assert_eq!(c.expect_close(), Some(1000));
    drop(c);
    server.stop().unwrap();
}

fn handlers_need_not_be_send(rt: Runtime) {
    // The guide's counter: an Rc<Cell<u32>> shared by the handlers.
    let server = Server::start(rt, Settings::default(), || {
        let count = Rc::new(Cell::new(0u32));
        move |out: Sender| {
            let count = count.clone();
            count.set(count.get() + 1);
            move |msg: Message| {
                let reply = format!("{msg} from connection #{}", count.get());
                out.send(reply)
            }
        }
    });
    let mut a = RawClient::open(server.addr);
    a.send_frame(0x81, b"hi", true);
    assert_eq!(a.read_frame().unwrap().payload, b"hi from connection #1");
    let mut b = RawClient::open(server.addr);
    b.send_frame(0x81, b"hi", true);
    assert_eq!(b.read_frame().unwrap().payload, b"hi from connection #2");
    drop((a, b));
    server.stop().unwrap();
}

fn connection_ids_are_unique(rt: Runtime) {
    let log = Log::default();
    let server_log = log.clone();
    let server = Server::start(rt, Settings::default(), move || {
        move |out: Sender| {
            server_log.push(format!("{} {}", out.connection_id(), out.token().0));
            move |_msg: Message| Ok(())
        }
    });
    let clients: Vec<RawClient> = (0..5).map(|_| RawClient::open(server.addr)).collect();
    log.wait_for("five connections", |e| e.len() == 5);
    let mut ids: Vec<String> = log
        .entries()
        .iter()
        .map(|e| e.split(' ').next().unwrap().to_owned())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 5);
    drop(clients);
    server.stop().unwrap();
}

fn a_refused_connection_reports_an_error(rt: Runtime) {
    // A port that was free a moment ago.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log = Log::default();
    let client_log = log.clone();
    run_client(
        rt,
        Settings::default(),
        &format!("ws://127.0.0.1:{port}"),
        move |_out: Sender| {
            struct H(Log);
            impl Handler for H {
                fn on_open(&mut self, _: Handshake) -> Result<()> {
                    self.0.push("open");
                    Ok(())
                }
                fn on_error(&mut self, err: Error) {
                    self.0.push(format!("error {:?}", err.kind));
                }
            }
            H(client_log.clone())
        },
    )
    .unwrap();
    let entries = log.entries();
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert!(entries[0].starts_with("error Io"), "{entries:?}");
}

// ------------------------------------------------------------------ scale

fn a_thousand_connections(rt: Runtime) {
    let settings = Settings {
        max_connections: 1100,
        ..Settings::default()
    };
    let server = echo_server(rt, settings);
    let mut clients: Vec<RawClient> = (0..1000).map(|_| RawClient::open(server.addr)).collect();
    for (i, c) in clients.iter_mut().enumerate() {
        c.send_frame(0x81, format!("client {i}").as_bytes(), true);
    }
    for (i, c) in clients.iter_mut().enumerate() {
        assert_eq!(
            c.read_frame().unwrap().payload,
            format!("client {i}").as_bytes()
        );
    }
    drop(clients);
    server.stop().unwrap();
}

// -------------------------------------------------------------- deadlines

fn a_stalled_handshake_gets_408(rt: Runtime) {
    let settings = Settings {
        handshake_timeout: Duration::from_millis(200),
        ..Settings::default()
    };
    let server = echo_server(rt, settings);
    let started = std::time::Instant::now();
    let mut c = RawClient::connect(server.addr);
    c.send_raw(b"GET / HTTP/1.1\r\nHost: x\r\nUpgr");
    let answer = String::from_utf8_lossy(&c.read_to_end()).into_owned();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(5));
    drop(c);
    server.stop().unwrap();
}

/// A handler that closes on the first message and records how it ended.
struct Closer(Sender, Log);

impl Handler for Closer {
    fn on_message(&mut self, _: Message) -> Result<()> {
        self.0.close(CloseCode::Normal)
    }
    fn on_error(&mut self, err: Error) {
        self.1.push(format!("error {:?}", err.kind));
    }
    fn on_close(&mut self, code: CloseCode, _: &str) {
        self.1.push(format!("close {}", u16::from(code)));
    }
}

fn an_unanswered_close_ends_at_the_deadline(rt: Runtime) {
    let settings = Settings {
        close_timeout: Duration::from_millis(200),
        ..Settings::default()
    };
    let log = Log::default();
    let server_log = log.clone();
    let server = Server::start(rt, settings, move || {
        move |out| Closer(out, server_log.clone())
    });
    let mut c = RawClient::open(server.addr);
    c.send_frame(0x81, b"close now", true);
    // Read the close frame but never answer it.
    let frame = c.read_frame().unwrap();
    assert_eq!(frame.close_code(), Some(1000));
    assert!(c.read_frame().is_none(), "the server drops the connection");
    log.wait_for("on_close", |e| e.iter().any(|e| e.starts_with("close")));
    assert_eq!(log.entries(), ["error Timeout", "close 1006"]);
    drop(c);
    server.stop().unwrap();
}

fn keepalive_closes_a_silent_peer(rt: Runtime) {
    let settings = Settings {
        keepalive_interval: Some(Duration::from_millis(100)),
        keepalive_timeout: Duration::from_millis(200),
        ..Settings::default()
    };
    let server = echo_server(rt, settings);
    let mut answering = RawClient::open(server.addr);
    let mut silent = RawClient::open(server.addr);
    // The answering peer gets pings and answers them; it stays open.
    for _ in 0..3 {
        let ping = answering.read_frame().unwrap();
        assert_eq!(ping.opcode, 9);
        answering.send_frame(0x8A, &ping.payload, true);
    }
    // The silent one is pinged once, then closed with 1011.
    assert_eq!(silent.read_frame().unwrap().opcode, 9);
    assert_eq!(silent.read_frame().unwrap().close_code(), Some(1011));
    answering.send_frame(0x81, b"still open", true);
    loop {
        let frame = answering.read_frame().unwrap();
        if frame.opcode == 1 {
            assert_eq!(frame.payload, b"still open");
            break;
        }
        answering.send_frame(0x8A, &frame.payload, true);
    }
    drop((answering, silent));
    server.stop().unwrap();
}

fn an_idle_connection_is_closed(rt: Runtime) {
    let settings = Settings {
        idle_timeout: Some(Duration::from_millis(200)),
        ..Settings::default()
    };
    let server = echo_server(rt, settings);
    let mut c = RawClient::open(server.addr);
    assert_eq!(c.expect_close(), Some(1001));
    drop(c);
    server.stop().unwrap();
}

fn shutdown_writes_every_accepted_message_first(rt: Runtime) {
    const N: usize = 2000;
    let server = Server::start(rt, Settings::default(), || {
        |out: Sender| {
            move |msg: Message| {
                if msg.as_text()? == "go" {
                    for i in 0..N {
                        out.send(format!("message {i}"))?;
                    }
                    out.shutdown()?;
                }
                Ok(())
            }
        }
    });
    let mut c = RawClient::open(server.addr);
    c.send_frame(0x81, b"go", true);
    for i in 0..N {
        let frame = c.read_frame().unwrap();
        assert_eq!(frame.payload, format!("message {i}").as_bytes());
    }
    assert_eq!(c.expect_close(), Some(1001));
    drop(c);
    server.stop().unwrap();
}

// ------------------------------------------------------- large messages

/// 1 MiB each way, ten times, and the close handshake after each is prompt.
fn large_messages_and_a_prompt_close_reply(rt: Runtime) {
    const BIG: usize = 1 << 20;
    struct BigSender {
        out: Sender,
        log: Log,
        closing: Option<std::time::Instant>,
    }
    impl Handler for BigSender {
        fn on_open(&mut self, _: Handshake) -> Result<()> {
            self.out.send(vec![0xa5u8; BIG])
        }
        fn on_message(&mut self, msg: Message) -> Result<()> {
            assert_eq!(msg.into_data(), vec![0xa5u8; BIG]);
            self.closing = Some(std::time::Instant::now());
            self.out.close(CloseCode::Normal)
        }
        fn on_close(&mut self, code: CloseCode, _: &str) {
            let ms = self.closing.map_or(u128::MAX, |t| t.elapsed().as_millis());
            self.log.push(format!("close {} {ms}", u16::from(code)));
        }
    }
    let log = Log::default();
    let server_log = log.clone();
    let server = Server::start(rt, Settings::default(), move || {
        move |out| BigSender {
            out,
            log: server_log.clone(),
            closing: None,
        }
    });
    for _ in 0..10 {
        run_client(rt, Settings::default(), &server.url(), |out: Sender| {
            move |msg| out.send(msg)
        })
        .unwrap();
    }
    log.wait_for("ten closes", |e| e.len() == 10);
    for entry in log.entries() {
        let ms: u128 = entry.strip_prefix("close 1000 ").unwrap().parse().unwrap();
        // Over loopback: milliseconds, even on a busy machine.
        assert!(ms < 2000, "{:?}", log.entries());
    }
    server.stop().unwrap();
}

/// A connect queued through a broadcaster before `run`, with no listener
/// and no other connection, is still made.
fn a_connect_queued_before_run_is_made(rt: Runtime) {
    let server = echo_server(rt, Settings::default());
    let log = Log::default();
    let client_log = log.clone();
    let ws = ws::Builder::new()
        .with_runtime(rt)
        .build(move |out: Sender| {
            out.send("queued").unwrap();
            let log = client_log.clone();
            move |msg: Message| {
                log.push(msg.into_text()?);
                out.close(CloseCode::Normal)
            }
        })
        .unwrap();
    ws.broadcaster()
        .connect(url::Url::parse(&server.url()).unwrap())
        .unwrap();
    ws.run().unwrap();
    assert_eq!(log.entries(), ["queued"]);
    server.stop().unwrap();
}

// ---------------------------------------------------------- back-pressure

fn a_peer_that_stops_reading_hits_the_write_cap(rt: Runtime) {
    const CHUNK: usize = 256 * 1024;
    struct Flood {
        out: Sender,
        log: Log,
        sent: usize,
        stopped: bool,
    }
    impl Handler for Flood {
        fn on_open(&mut self, _: Handshake) -> Result<()> {
            self.out.timeout(1, Token(0))
        }
        fn on_timeout(&mut self, _: Token) -> Result<()> {
            if self.stopped {
                return Ok(());
            }
            self.out.send(vec![7u8; CHUNK])?;
            self.sent += 1;
            assert!(self.sent < 400, "100 MiB accepted without complaint");
            self.out.timeout(2, Token(0))
        }
        fn on_error(&mut self, err: Error) {
            if !self.stopped {
                self.stopped = true;
                self.log
                    .push(format!("error {:?} after {} chunks", err.kind, self.sent));
            }
        }
    }
    let settings = Settings {
        out_buffer_grow: false,
        out_buffer_capacity: 1 << 20,
        ..Settings::default()
    };
    let log = Log::default();
    let server_log = log.clone();
    let server = Server::start(rt, settings, move || {
        move |out| Flood {
            out,
            log: server_log.clone(),
            sent: 0,
            stopped: false,
        }
    });
    let c = RawClient::open(server.addr);
    log.wait_for("the write cap", |e| !e.is_empty());
    let entry = &log.entries()[0];
    assert!(entry.starts_with("error Capacity"), "{entry}");
    drop(c);
    server.stop().unwrap();
}

// ------------------------------------------- ping, pong and Sender::connect

fn sender_ping_and_pong(rt: Runtime) {
    let server = Server::start(rt, Settings::default(), || {
        |out: Sender| {
            struct H(Sender);
            impl Handler for H {
                fn on_open(&mut self, _: Handshake) -> Result<()> {
                    self.0.ping(b"are you there".to_vec())?;
                    self.0.pong(b"heartbeat".to_vec())
                }
            }
            H(out)
        }
    });
    let mut c = RawClient::open(server.addr);
    let ping = c.read_frame().unwrap();
    assert_eq!(
        (ping.opcode, ping.payload.as_slice()),
        (9, &b"are you there"[..])
    );
    let pong = c.read_frame().unwrap();
    assert_eq!(
        (pong.opcode, pong.payload.as_slice()),
        (10, &b"heartbeat"[..])
    );
    drop(c);
    server.stop().unwrap();
}

/// A client factory whose first connection opens a second one through
/// `Sender::connect`; both close once the second is open.
struct Dialer {
    log: Log,
    url: url::Url,
    made: usize,
}

struct Dialed {
    out: Sender,
    log: Log,
    url: Option<url::Url>,
}

impl Factory for Dialer {
    type Handler = Dialed;

    fn connection_made(&mut self, _: Sender) -> Dialed {
        unreachable!("client_connected is overridden")
    }

    fn client_connected(&mut self, out: Sender) -> Dialed {
        self.made += 1;
        self.log.push(format!("client_connected {}", self.made));
        Dialed {
            out,
            log: self.log.clone(),
            url: (self.made == 1).then(|| self.url.clone()),
        }
    }
}

impl Handler for Dialed {
    fn on_open(&mut self, _: Handshake) -> Result<()> {
        match self.url.take() {
            Some(url) => self.out.connect(url),
            None => {
                self.log.push("second open");
                self.out.broadcast("bye")?;
                self.out.shutdown()
            }
        }
    }

    fn on_close(&mut self, code: CloseCode, _: &str) {
        self.log.push(format!("close {}", u16::from(code)));
    }
}

fn sender_connect_opens_another_connection(rt: Runtime) {
    let server = echo_server(rt, Settings::default());
    let log = Log::default();
    let url = url::Url::parse(&server.url()).unwrap();
    let mut ws = ws::Builder::new()
        .with_runtime(rt)
        .build(Dialer {
            log: log.clone(),
            url: url.clone(),
            made: 0,
        })
        .unwrap();
    ws.connect(url).unwrap();
    ws.run().unwrap();
    let entries = log.entries();
    assert_eq!(
        entries[..3],
        ["client_connected 1", "client_connected 2", "second open"]
    );
    assert_eq!(log.count("close 1001"), 2, "{entries:?}");
    server.stop().unwrap();
}

// --------------------------------------------------------- permessage-deflate

fn deflate_settings() -> Settings {
    Settings {
        permessage_deflate: true,
        ..Settings::default()
    }
}

struct DeflateClient {
    out: Sender,
    log: Log,
    sent: String,
}

impl Handler for DeflateClient {
    fn on_response(&mut self, res: &Response) -> Result<()> {
        self.log.push(format!("extensions {:?}", res.extensions()?));
        Ok(())
    }

    fn on_open(&mut self, _: Handshake) -> Result<()> {
        self.out.send(self.sent.as_str())
    }

    fn on_message(&mut self, msg: Message) -> Result<()> {
        self.log
            .push(format!("echo matches {}", msg.as_text()? == self.sent));
        self.out.close(CloseCode::Normal)
    }

    fn on_close(&mut self, code: CloseCode, _: &str) {
        self.log.push(format!("close {}", u16::from(code)));
    }
}

fn permessage_deflate_end_to_end(rt: Runtime) {
    let server = echo_server(rt, deflate_settings());
    let log = Log::default();
    let client_log = log.clone();
    let sent = "{\"id\": 1, \"text\": \"κόσμε\"} ".repeat(5000);
    run_client(rt, deflate_settings(), &server.url(), move |out| {
        DeflateClient {
            out,
            log: client_log.clone(),
            sent: sent.clone(),
        }
    })
    .unwrap();
    assert_eq!(
        log.entries(),
        [
            "extensions [\"permessage-deflate\"]",
            "echo matches true",
            "close 1000"
        ]
    );
    // A client without it talks to the same server uncompressed.
    let log = Log::default();
    let client_log = log.clone();
    run_client(rt, Settings::default(), &server.url(), move |out| {
        DeflateClient {
            out,
            log: client_log.clone(),
            sent: "plain".repeat(100),
        }
    })
    .unwrap();
    assert_eq!(
        log.entries(),
        ["extensions []", "echo matches true", "close 1000"]
    );

    // A hand-compressed message (RFC 7692 section 7.2.3.1, "Hello") from a raw client.
    let mut c = RawClient::connect(server.addr);
    c.send_raw(
        format!(
            "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: {}\r\nSec-WebSocket-Version: 13\r\n\
             Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n",
            support::KEY
        )
        .as_bytes(),
    );
    let head = c.read_head();
    assert!(
        head.contains("Sec-WebSocket-Extensions: permessage-deflate\r\n"),
        "{head}"
    );
    c.send_frame(0xc1, &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00], true);
    let echo = c.read_frame().unwrap();
    assert_eq!((echo.opcode, echo.payload.as_slice()), (1, &b"Hello"[..]));
    // RSV1 on a ping: 1002.
    c.send_frame(0xc9, b"", true);
    assert_eq!(c.expect_close(), Some(1002));
    drop(c);
    server.stop().unwrap();
}

struct Bomber {
    out: Sender,
    log: Log,
}

impl Handler for Bomber {
    fn on_open(&mut self, _: Handshake) -> Result<()> {
        self.out.send(vec![0u8; 16 << 20])
    }

    fn on_close(&mut self, code: CloseCode, _: &str) {
        self.log.push(format!("close {}", u16::from(code)));
    }
}

/// 16 MiB of zeros is a few KiB compressed; a server with a 1 MiB limit
/// refuses it with 1009 once it has inflated 1 MiB.
fn a_deflate_bomb_closes_with_1009(rt: Runtime) {
    let server_log = Log::default();
    let log = server_log.clone();
    let settings = Settings {
        max_message_size: 1 << 20,
        ..deflate_settings()
    };
    let server = Server::start(rt, settings, move || {
        move |_out: Sender| {
            let log = log.clone();
            move |msg: Message| {
                log.push(format!("message of {} bytes", msg.len()));
                Ok(())
            }
        }
    });
    let log = Log::default();
    let client_log = log.clone();
    run_client(rt, deflate_settings(), &server.url(), move |out| Bomber {
        out,
        log: client_log.clone(),
    })
    .unwrap();
    assert_eq!(log.entries(), ["close 1009"]);
    assert!(
        server_log.entries().is_empty(),
        "{:?}",
        server_log.entries()
    );
    server.stop().unwrap();
}

fn echo_without_frame_hooks(rt: Runtime) {
    let settings = Settings {
        frame_hooks: false,
        ..Settings::default()
    };
    let server = echo_server(rt, settings);
    let mut c = RawClient::open(server.addr);
    c.send_frame(0x81, "héllo".as_bytes(), true);
    assert_eq!(c.read_frame().unwrap().payload, "héllo".as_bytes());
    c.send_frame(0x82, &[0, 255, 1], true);
    let frame = c.read_frame().unwrap();
    assert_eq!((frame.opcode, frame.payload), (2, vec![0, 255, 1]));
    drop(c);
    server.stop().unwrap();
}

runtimes!(
    echo_text_and_binary,
    echo_without_frame_hooks,
    sender_ping_and_pong,
    sender_connect_opens_another_connection,
    lifecycle_callbacks,
    timers_fire_and_cancel,
    broadcast_reaches_everyone,
    shutdown_closes_with_1001,
    a_panic_takes_down_one_connection,
    a_handler_error_closes_with_its_code,
    hostile_input_gets_its_close_code,
    plain_http_from_on_request,
    frame_hooks_see_and_change_frames,
    a_sender_works_from_another_thread,
    handlers_need_not_be_send,
    connection_ids_are_unique,
    a_refused_connection_reports_an_error,
    a_thousand_connections,
    a_stalled_handshake_gets_408,
    an_unanswered_close_ends_at_the_deadline,
    keepalive_closes_a_silent_peer,
    an_idle_connection_is_closed,
    shutdown_writes_every_accepted_message_first,
    a_peer_that_stops_reading_hits_the_write_cap,
    large_messages_and_a_prompt_close_reply,
    a_connect_queued_before_run_is_made,
    permessage_deflate_end_to_end,
    a_deflate_bomb_closes_with_1009,
);
