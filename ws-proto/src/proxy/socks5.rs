//! A tunnel through a SOCKS5 proxy (RFC 1928), without authentication or
//! with a username and password (RFC 1929).

use std::fmt;
use std::net::IpAddr;

use super::{Proxy, ProxyError, Status, Target};

const VERSION: u8 = 0x05;
const NO_AUTH: u8 = 0x00;
const USER_PASS: u8 = 0x02;
const NO_ACCEPTABLE: u8 = 0xFF;
/// RFC 1929's sub-negotiation version.
const AUTH_VERSION: u8 = 0x01;
const CMD_CONNECT: u8 = 0x01;
const ATYP_IPV4: u8 = 0x01;
const ATYP_DOMAIN: u8 = 0x03;
const ATYP_IPV6: u8 = 0x04;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Waiting for the method selection (2 bytes).
    Method,
    /// Waiting for the username/password status (2 bytes).
    Auth,
    /// Waiting for the reply to CONNECT (4 bytes, then the bound address).
    Reply,
    Done,
}

/// The SOCKS5 negotiation: greeting, method selection, optional
/// username/password, `CONNECT`, reply.
///
/// Every reply has a known length, so at most 262 bytes are buffered. Its
/// `Debug` shows the proxy and the state, never the credentials.
pub struct Socks5 {
    proxy: String,
    state: State,
    output: Vec<u8>,
    /// The RFC 1929 request, sent if the proxy selects username/password.
    auth: Option<Vec<u8>>,
    connect: Vec<u8>,
    input: Vec<u8>,
}

impl Socks5 {
    /// Builds the greeting for a tunnel to `target`: it offers "no
    /// authentication", and username/password too when the proxy URL has
    /// credentials.
    pub fn new(proxy: &Proxy, target: &Target) -> Result<Self, ProxyError> {
        let auth = match proxy.credentials() {
            Some(c) => {
                let (user, pass) = (c.username.as_bytes(), c.password.as_bytes());
                let user_len =
                    u8::try_from(user.len()).map_err(|_| ProxyError::TooLong("the username"))?;
                let pass_len =
                    u8::try_from(pass.len()).map_err(|_| ProxyError::TooLong("the password"))?;
                let mut a = vec![AUTH_VERSION, user_len];
                a.extend_from_slice(user);
                a.push(pass_len);
                a.extend_from_slice(pass);
                Some(a)
            }
            None => None,
        };
        let mut connect = vec![VERSION, CMD_CONNECT, 0x00];
        let port = match target {
            Target::Domain(host, port) => {
                match host.parse::<IpAddr>() {
                    Ok(ip) => push_ip(&mut connect, ip),
                    Err(_) => {
                        let len = u8::try_from(host.len())
                            .map_err(|_| ProxyError::TooLong("the host name"))?;
                        connect.push(ATYP_DOMAIN);
                        connect.push(len);
                        connect.extend_from_slice(host.as_bytes());
                    }
                }
                *port
            }
            Target::Addr(addr) => {
                push_ip(&mut connect, addr.ip());
                addr.port()
            }
        };
        connect.extend_from_slice(&port.to_be_bytes());
        let greeting = if auth.is_some() {
            vec![VERSION, 2, NO_AUTH, USER_PASS]
        } else {
            vec![VERSION, 1, NO_AUTH]
        };
        Ok(Self {
            proxy: proxy.to_string(),
            state: State::Method,
            output: greeting,
            auth,
            connect,
            input: Vec::new(),
        })
    }

    /// The next message to write, if any.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        if self.output.is_empty() {
            None
        } else {
            Some(std::mem::take(&mut self.output))
        }
    }

    /// Takes bytes of the proxy's replies.
    pub fn handle_input(&mut self, data: &[u8]) -> Result<Status, ProxyError> {
        self.input.extend_from_slice(data);
        loop {
            let need = match self.state {
                State::Method | State::Auth => 2,
                State::Reply => match self.input.get(3) {
                    None => 4,
                    Some(&ATYP_IPV4) => 4 + 4 + 2,
                    Some(&ATYP_IPV6) => 4 + 16 + 2,
                    Some(&ATYP_DOMAIN) => match self.input.get(4) {
                        Some(&len) => 5 + usize::from(len) + 2,
                        None => 5,
                    },
                    Some(_) => {
                        // A failure reply may carry any address; say what
                        // the proxy refused rather than "bad address".
                        self.check_reply(&self.input)?;
                        return Err(self.malformed("unknown address type in the reply"));
                    }
                },
                State::Done => {
                    return if self.input.is_empty() {
                        Ok(Status::Done)
                    } else {
                        Err(self.malformed("bytes after the reply to CONNECT"))
                    };
                }
            };
            if self.input.len() < need {
                if self.state == State::Reply && self.input.len() >= 2 {
                    self.check_reply(&self.input)?;
                }
                return Ok(Status::Pending);
            }
            let message: Vec<u8> = self.input.drain(..need).collect();
            self.step(&message)?;
        }
    }

    /// The proxy closed the connection.
    pub fn handle_eof(&self) -> ProxyError {
        ProxyError::Closed {
            proxy: self.proxy.clone(),
        }
    }

    /// Acts on one whole reply.
    fn step(&mut self, message: &[u8]) -> Result<(), ProxyError> {
        match self.state {
            State::Method => {
                if message[0] != VERSION {
                    return Err(self.malformed("not a SOCKS5 method selection"));
                }
                match message[1] {
                    NO_AUTH => self.send_connect(),
                    USER_PASS => match self.auth.take() {
                        Some(auth) => {
                            self.output.extend_from_slice(&auth);
                            self.state = State::Auth;
                        }
                        None => {
                            return Err(self.malformed("selected a method that was not offered"));
                        }
                    },
                    NO_ACCEPTABLE => {
                        return Err(ProxyError::NoAcceptableMethod {
                            proxy: self.proxy.clone(),
                        });
                    }
                    _ => return Err(self.malformed("selected a method that was not offered")),
                }
            }
            State::Auth => {
                if message[0] != AUTH_VERSION {
                    return Err(self.malformed("not a username/password status"));
                }
                if message[1] != 0 {
                    return Err(ProxyError::AuthenticationFailed {
                        proxy: self.proxy.clone(),
                    });
                }
                self.send_connect();
            }
            State::Reply => {
                self.check_reply(message)?;
                self.state = State::Done;
            }
            State::Done => {}
        }
        Ok(())
    }

    fn send_connect(&mut self) {
        let connect = std::mem::take(&mut self.connect);
        self.output.extend_from_slice(&connect);
        self.state = State::Reply;
    }

    /// Checks the version and `REP` bytes of a reply (at least 2 bytes).
    fn check_reply(&self, reply: &[u8]) -> Result<(), ProxyError> {
        if reply[0] != VERSION {
            return Err(self.malformed("not a SOCKS5 reply"));
        }
        match super::Socks5Reply::from_code(reply[1]) {
            None => Ok(()),
            Some(reply) => Err(ProxyError::Socks5 {
                proxy: self.proxy.clone(),
                reply,
            }),
        }
    }

    fn malformed(&self, what: &'static str) -> ProxyError {
        ProxyError::Malformed {
            proxy: self.proxy.clone(),
            what,
        }
    }
}

fn push_ip(out: &mut Vec<u8>, ip: IpAddr) {
    match ip {
        IpAddr::V4(v4) => {
            out.push(ATYP_IPV4);
            out.extend_from_slice(&v4.octets());
        }
        IpAddr::V6(v6) => {
            out.push(ATYP_IPV6);
            out.extend_from_slice(&v6.octets());
        }
    }
}

impl fmt::Debug for Socks5 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Socks5")
            .field("proxy", &self.proxy)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::super::Socks5Reply;
    use super::*;

    fn socks(url: &str, target: Target) -> Socks5 {
        Socks5::new(&Proxy::parse(url).unwrap(), &target).unwrap()
    }

    /// Runs a whole exchange: `replies` are the proxy's messages, `sent`
    /// what the client must write before each. Every reply is also fed
    /// split at every position.
    fn exchange(
        url: &str,
        target: Target,
        sent: &[&[u8]],
        replies: &[&[u8]],
    ) -> Result<Status, ProxyError> {
        let all: Vec<u8> = replies.concat();
        let mut last = None;
        for cut in 0..=all.len() {
            let mut s = socks(url, target.clone());
            let mut written = Vec::new();
            let mut result = Ok(Status::Pending);
            for chunk in [&all[..cut], &all[cut..]] {
                written.extend(s.poll_transmit().unwrap_or_default());
                result = s.handle_input(chunk);
                if result.is_err() {
                    break;
                }
            }
            written.extend(s.poll_transmit().unwrap_or_default());
            if result.is_ok() {
                assert_eq!(written, sent.concat(), "split at {cut}");
            }
            if let Some(prev) = &last {
                assert_eq!(&result, prev, "split at {cut}");
            }
            last = Some(result);
        }
        last.unwrap()
    }

    #[test]
    fn no_auth_to_a_domain() {
        let result = exchange(
            "socks5h://p:1080",
            Target::domain("localhost", 9001),
            &[
                &[5, 1, 0],
                &[
                    5, 1, 0, 3, 9, b'l', b'o', b'c', b'a', b'l', b'h', b'o', b's', b't', 0x23, 0x29,
                ],
            ],
            &[&[5, 0], &[5, 0, 0, 1, 127, 0, 0, 1, 0x12, 0x34]],
        );
        assert_eq!(result, Ok(Status::Done));
    }

    #[test]
    fn user_pass_to_ipv4_and_ipv6() {
        let result = exchange(
            "socks5://bob:pw@p:1080",
            Target::Addr("127.0.0.1:80".parse().unwrap()),
            &[
                &[5, 2, 0, 2],
                &[1, 3, b'b', b'o', b'b', 2, b'p', b'w'],
                &[5, 1, 0, 1, 127, 0, 0, 1, 0, 80],
            ],
            &[
                &[5, 2],
                &[1, 0],
                &[
                    5, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1,
                ],
            ],
        );
        assert_eq!(result, Ok(Status::Done));
        let mut s = socks("socks5://p:1", Target::Addr("[::1]:443".parse().unwrap()));
        let _ = s.poll_transmit();
        assert_eq!(s.handle_input(&[5, 0]), Ok(Status::Pending));
        let connect = s.poll_transmit().unwrap();
        assert_eq!(&connect[..4], &[5, 1, 0, 4]);
        assert_eq!(&connect[4..20], &std::net::Ipv6Addr::LOCALHOST.octets());
        assert_eq!(&connect[20..], &443u16.to_be_bytes());
    }

    #[test]
    fn a_domain_reply_address_is_skipped() {
        let result = exchange(
            "socks5h://p:1",
            Target::domain("h", 1),
            &[&[5, 1, 0], &[5, 1, 0, 3, 1, b'h', 0, 1]],
            &[&[5, 0], &[5, 0, 0, 3, 3, b'a', b'b', b'c', 0, 1]],
        );
        assert_eq!(result, Ok(Status::Done));
    }

    #[test]
    fn refused_credentials_and_methods() {
        let result = exchange(
            "socks5://bob:wrong@p:1",
            Target::domain("h", 1),
            &[],
            &[&[5, 2], &[1, 1]],
        );
        assert_eq!(
            result,
            Err(ProxyError::AuthenticationFailed {
                proxy: "socks5://p:1".into()
            })
        );
        let text = result.unwrap_err().to_string();
        assert!(!text.contains("wrong") && !text.contains("bob"), "{text}");
        let result = exchange("socks5://p:1", Target::domain("h", 1), &[], &[&[5, 0xFF]]);
        assert_eq!(
            result,
            Err(ProxyError::NoAcceptableMethod {
                proxy: "socks5://p:1".into()
            })
        );
        // Username/password selected although not offered.
        let result = exchange("socks5://p:1", Target::domain("h", 1), &[], &[&[5, 2]]);
        assert!(
            matches!(result, Err(ProxyError::Malformed { .. })),
            "{result:?}"
        );
    }

    #[test]
    fn every_failure_reply_is_named() {
        for code in 1..=0xFFu8 {
            let result = exchange(
                "socks5h://p:1",
                Target::domain("h", 1),
                &[],
                &[&[5, 0], &[5, code, 0, 1, 0, 0, 0, 0, 0, 0]],
            );
            let reply = Socks5Reply::from_code(code).unwrap();
            assert_eq!(reply.code(), code);
            assert_eq!(
                result,
                Err(ProxyError::Socks5 {
                    proxy: "socks5h://p:1".into(),
                    reply
                })
            );
        }
        assert_eq!(
            Socks5Reply::from_code(5),
            Some(Socks5Reply::ConnectionRefused)
        );
        assert_eq!(
            Socks5Reply::ConnectionRefused.to_string(),
            "connection refused (0x05)"
        );
    }

    #[test]
    fn garbage_is_malformed() {
        let mut s = socks("socks5://p:1", Target::domain("h", 1));
        assert!(matches!(
            s.handle_input(b"HTTP/1.1 400"),
            Err(ProxyError::Malformed { .. })
        ));
        let mut s = socks("socks5://p:1", Target::domain("h", 1));
        assert_eq!(s.handle_input(&[5, 0]), Ok(Status::Pending));
        assert!(matches!(
            s.handle_input(&[5, 0, 0, 9, 0, 0]),
            Err(ProxyError::Malformed { .. })
        ));
        let mut s = socks("socks5://p:1", Target::domain("h", 1));
        assert_eq!(
            s.handle_input(&[5, 0, 5, 0, 0, 1, 0, 0, 0, 0, 0, 0]),
            Ok(Status::Done)
        );
        assert!(s.handle_input(&[1]).is_err());
    }

    #[test]
    fn overlong_fields_are_refused_before_sending() {
        let long = "a".repeat(256);
        let proxy = Proxy::parse(&format!("socks5://{long}:x@p:1")).unwrap();
        assert_eq!(
            Socks5::new(&proxy, &Target::domain("h", 1)).unwrap_err(),
            ProxyError::TooLong("the username")
        );
        let proxy = Proxy::parse("socks5h://p:1").unwrap();
        assert_eq!(
            Socks5::new(&proxy, &Target::domain(long, 1)).unwrap_err(),
            ProxyError::TooLong("the host name")
        );
    }

    #[test]
    fn debug_hides_the_credentials() {
        let s = socks("socks5://bob:hunter2@p:1", Target::domain("h", 1));
        let text = format!("{s:?}");
        assert!(!text.contains("hunter2") && !text.contains("bob"), "{text}");
    }
}
