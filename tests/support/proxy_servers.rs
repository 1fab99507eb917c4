//! Real proxy servers for the client's proxy tests: `tinyproxy` (HTTP
//! CONNECT, optionally with Basic authentication), `microsocks` (SOCKS5,
//! optionally with a username and password) and `stunnel4` in front of a
//! tinyproxy (an `https://` proxy), each started on a free loopback port
//! and stopped by its pid when dropped.
//!
//! Included with `#[path]` by the proxy tests of ws-tokio and ws. Without
//! the programs (`apt-get install tinyproxy microsocks stunnel4`) a test prints why
//! and passes, unless `WS_REQUIRE_PROXIES=1`, as `.ci/run` sets it, which
//! makes that a failure.
#![allow(dead_code, unreachable_pub)]

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a proxy may take to listen after it was started.
const START_LIMIT: Duration = Duration::from_secs(10);

/// A running proxy server, killed by its pid on drop.
pub struct ProxyServer {
    child: Child,
    /// Where it listens (on 127.0.0.1).
    pub addr: SocketAddr,
    dir: Option<PathBuf>,
    /// The proxy this one forwards to (stunnel's tinyproxy), kept running.
    inner: Option<Box<ProxyServer>>,
}

impl ProxyServer {
    /// `scheme://[user:pass@]127.0.0.1:port`.
    pub fn url(&self, scheme: &str, auth: Option<(&str, &str)>) -> String {
        match auth {
            Some((user, pass)) => format!("{scheme}://{user}:{pass}@{}", self.addr),
            None => format!("{scheme}://{}", self.addr),
        }
    }
}

impl Drop for ProxyServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// A free loopback port (free when this returns; the proxy binds it next).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn required() -> bool {
    std::env::var("WS_REQUIRE_PROXIES").is_ok_and(|v| v == "1")
}

fn missing(program: &str) -> Option<ProxyServer> {
    let why = format!("{program} is not installed (apt-get install tinyproxy microsocks stunnel4)");
    assert!(!required(), "WS_REQUIRE_PROXIES=1 but {why}");
    eprintln!("proxy test skipped: {why}");
    None
}

fn installed(program: &str) -> bool {
    ["/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin"]
        .iter()
        .any(|dir| std::path::Path::new(dir).join(program).exists())
}

/// Starts `command` (its output discarded) and waits until it accepts
/// connections on `127.0.0.1:port`, or fails the test.
fn started(command: &mut Command, port: u16, dir: Option<PathBuf>, what: &str) -> ProxyServer {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut child: Child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + START_LIMIT;
    loop {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return ProxyServer {
                child,
                addr,
                dir,
                inner: None,
            };
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited at start: {status}");
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} did not listen on {addr} within {START_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// tinyproxy on a free port, allowing CONNECT to any port from loopback,
/// requiring `auth` as Basic credentials when given.
pub fn tinyproxy(auth: Option<(&str, &str)>) -> Option<ProxyServer> {
    if !installed("tinyproxy") {
        return missing("tinyproxy");
    }
    let port = free_port();
    let dir = std::env::temp_dir().join(format!("ws-tinyproxy-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // No ConnectPort line: CONNECT is allowed to every port.
    let mut conf = format!(
        "Port {port}\nListen 127.0.0.1\nTimeout 20\nMaxClients 50\nAllow 127.0.0.1\n\
         LogLevel Critical\n"
    );
    if let Some((user, pass)) = auth {
        conf.push_str(&format!("BasicAuth {user} {pass}\n"));
    }
    let path = dir.join("tinyproxy.conf");
    std::fs::write(&path, conf).unwrap();
    let mut command = Command::new("tinyproxy");
    command.arg("-d").arg("-c").arg(&path);
    Some(started(&mut command, port, Some(dir), "tinyproxy"))
}

/// microsocks on a free port, requiring `auth` (RFC 1929) when given.
pub fn microsocks(auth: Option<(&str, &str)>) -> Option<ProxyServer> {
    if !installed("microsocks") {
        return missing("microsocks");
    }
    let port = free_port();
    let mut command = Command::new("microsocks");
    command.args(["-i", "127.0.0.1", "-p", &port.to_string()]);
    if let Some((user, pass)) = auth {
        command.args(["-u", user, "-P", pass]);
    }
    Some(started(&mut command, port, None, "microsocks"))
}

/// An `https://` proxy: stunnel on a free port, presenting the certificate
/// `cert_pem` (with its key `key_pem`) and forwarding what it decrypts to
/// `inner` (a tinyproxy), which it keeps running.
pub fn stunnel(inner: ProxyServer, cert_pem: &str, key_pem: &str) -> Option<ProxyServer> {
    if !installed("stunnel4") {
        return missing("stunnel4");
    }
    let port = free_port();
    let dir = std::env::temp_dir().join(format!("ws-stunnel-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    std::fs::write(&cert, cert_pem).unwrap();
    std::fs::write(&key, key_pem).unwrap();
    let conf = format!(
        "foreground = yes\npid =\ndebug = 0\n[https-proxy]\naccept = 127.0.0.1:{port}\n\
         connect = {}\ncert = {}\nkey = {}\n",
        inner.addr,
        cert.display(),
        key.display()
    );
    let path = dir.join("stunnel.conf");
    std::fs::write(&path, conf).unwrap();
    let mut command = Command::new("stunnel4");
    command.arg(&path);
    let mut server = started(&mut command, port, Some(dir), "stunnel4");
    server.inner = Some(Box::new(inner));
    Some(server)
}
