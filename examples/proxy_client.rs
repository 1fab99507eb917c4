//! A client that reaches its server through a proxy given on the command
//! line, sends one message and prints the reply:
//!
//! ```text
//! cargo run -p ws-examples --example proxy_client -- ws://127.0.0.1:3012 socks5h://127.0.0.1:1080
//! cargo run -p ws-examples --example proxy_client -- ws://127.0.0.1:3012 http://user:pass@127.0.0.1:8888
//! cargo run -p ws-examples --example proxy_client -- ws://127.0.0.1:3012 env     # HTTP_PROXY, NO_PROXY ...
//! ```
//!
//! Run `cargo run -p ws-examples --example echo_server` first for a server.

use ws::{CloseCode, Handler, Handshake, Message, Proxy, ProxySetting, Sender};

struct Client {
    out: Sender,
}

impl Handler for Client {
    fn on_open(&mut self, _: Handshake) -> ws::Result<()> {
        self.out.send("Hello through the proxy")
    }

    fn on_message(&mut self, msg: Message) -> ws::Result<()> {
        println!("Got: {msg}");
        self.out.close(CloseCode::Normal)
    }

    fn on_error(&mut self, err: ws::Error) {
        eprintln!("Error: {err}");
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(url), Some(proxy)) = (args.next(), args.next()) else {
        eprintln!("usage: proxy_client WS_URL PROXY_URL|env|direct");
        std::process::exit(2);
    };
    let setting = match proxy.as_str() {
        "env" => ProxySetting::Environment,
        "direct" => ProxySetting::Direct,
        other => ProxySetting::Proxy(Proxy::parse(other)?),
    };
    let mut ws = ws::WebSocket::new(|out| Client { out })?.with_proxy(setting);
    ws.connect(url::Url::parse(&url)?)?;
    ws.run()?;
    Ok(())
}
