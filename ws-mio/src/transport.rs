//! A connection's byte transport: the TCP stream itself, or (feature
//! `rustls`) rustls's sans-IO TLS connection over it.
//!
//! The loop reads and writes plaintext through [`Transport`]; with TLS,
//! socket bytes go through `read_tls` / `process_new_packets` and come out
//! of the `reader`, and plaintext goes into the `writer` and out through
//! `write_tls`. Every call is non-blocking: `WouldBlock` means "wait for
//! readiness", exactly as for the bare socket. No frame is looked at.
//!
//! Through an `https://` proxy there are two TLS layers: the one with the
//! proxy right over the socket (the [`Wire`]), and the one with the server
//! (for `wss://`) over the tunnel inside it.

use std::io::{self, Read, Write};
use std::net::Shutdown;

use mio::net::TcpStream;

pub(crate) struct Transport {
    pub(crate) stream: TcpStream,
    #[cfg(feature = "rustls")]
    tls: Option<Box<rustls::Connection>>,
    /// TLS with an `https://` proxy, under everything else.
    #[cfg(feature = "rustls")]
    proxy_tls: Option<Box<rustls::Connection>>,
    /// TLS: our close_notify has been queued.
    #[cfg(feature = "rustls")]
    notified: bool,
}

impl Transport {
    pub(crate) fn new(stream: TcpStream) -> Self {
        Self {
            stream,
            #[cfg(feature = "rustls")]
            tls: None,
            #[cfg(feature = "rustls")]
            proxy_tls: None,
            #[cfg(feature = "rustls")]
            notified: false,
        }
    }

    /// Runs TLS with an `https://` proxy over the socket from now on,
    /// under the tunnel (and the server's TLS, if any).
    #[cfg(feature = "rustls")]
    pub(crate) fn set_proxy_tls(&mut self, tls: Box<rustls::Connection>) {
        self.proxy_tls = Some(tls);
    }

    /// The bytes to the peer at the other end of the socket: the socket,
    /// or the plaintext of TLS with an `https://` proxy.
    pub(crate) fn wire(&mut self) -> Wire<'_> {
        Wire {
            stream: &mut self.stream,
            #[cfg(feature = "rustls")]
            tls: self.proxy_tls.as_deref_mut(),
        }
    }

    /// Runs TLS over the stream from now on.
    #[cfg(feature = "rustls")]
    pub(crate) fn set_tls(&mut self, tls: Box<rustls::Connection>) {
        self.tls = Some(tls);
    }

    /// Whether a short read means the socket is drained: only for the bare
    /// socket (with TLS, a short plaintext read says nothing about it).
    pub(crate) fn short_read_drains(&self) -> bool {
        #[cfg(feature = "rustls")]
        if self.tls.is_some() || self.proxy_tls.is_some() {
            return false;
        }
        true
    }

    /// Reads plaintext; `Ok(0)` is the end of stream.
    pub(crate) fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        #[cfg(feature = "rustls")]
        if let Some(tls) = self.tls.as_deref_mut() {
            let mut wire = Wire {
                stream: &mut self.stream,
                tls: self.proxy_tls.as_deref_mut(),
            };
            return read_tls(tls, &mut wire, buf);
        }
        self.wire().read(buf)
    }

    /// Writes plaintext. With TLS, the bytes are taken into rustls's buffer
    /// (bounded by its limit) and written out as far as the socket allows;
    /// [`Self::pending`] says whether some are still waiting.
    pub(crate) fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        #[cfg(feature = "rustls")]
        if let Some(tls) = self.tls.as_deref_mut() {
            let mut wire = Wire {
                stream: &mut self.stream,
                tls: self.proxy_tls.as_deref_mut(),
            };
            return write_tls(tls, &mut wire, buf);
        }
        self.wire().write(buf)
    }

    /// Writes plaintext from several buffers, in order, with one system
    /// call for plain TCP. With TLS, only the first buffer (rustls copies
    /// into its own records anyway).
    pub(crate) fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        #[cfg(feature = "rustls")]
        if self.tls.is_some() || self.proxy_tls.is_some() {
            let first = bufs
                .iter()
                .find(|b| !b.is_empty())
                .map_or(&[][..], |b| &b[..]);
            return self.write(first);
        }
        self.stream.write_vectored(bufs)
    }

    /// Writes what TLS has queued (handshake messages, alerts, records) as
    /// far as the socket allows. `WouldBlock` is not an error here.
    pub(crate) fn flush(&mut self) -> io::Result<()> {
        #[cfg(feature = "rustls")]
        if let Some(tls) = self.tls.as_deref_mut() {
            let mut wire = Wire {
                stream: &mut self.stream,
                tls: self.proxy_tls.as_deref_mut(),
            };
            flush_tls(tls, &mut wire)?;
        }
        #[cfg(feature = "rustls")]
        if let Some(tls) = self.proxy_tls.as_deref_mut() {
            flush_tls(tls, &mut self.stream)?;
        }
        Ok(())
    }

    /// Whether a TLS handshake is still under way (false for plain TCP).
    #[cfg(feature = "rustls")]
    pub(crate) fn handshaking(&self) -> bool {
        [self.tls.as_deref(), self.proxy_tls.as_deref()]
            .into_iter()
            .flatten()
            .any(|tls| tls.is_handshaking())
    }

    /// Whether TLS output is still waiting for the socket.
    pub(crate) fn pending(&self) -> bool {
        #[cfg(feature = "rustls")]
        return [self.tls.as_deref(), self.proxy_tls.as_deref()]
            .into_iter()
            .flatten()
            .any(|tls| tls.wants_write());
        #[cfg(not(feature = "rustls"))]
        false
    }

    /// Shuts down our sending side: with TLS, sends close_notify first.
    /// Returns false while that alert still waits for the socket (call
    /// again when writable).
    pub(crate) fn shutdown_write(&mut self) -> bool {
        #[cfg(feature = "rustls")]
        {
            let first = !self.notified;
            self.notified = true;
            if let Some(tls) = self.tls.as_deref_mut() {
                if first {
                    tls.send_close_notify();
                }
                let mut wire = Wire {
                    stream: &mut self.stream,
                    tls: self.proxy_tls.as_deref_mut(),
                };
                let _ = flush_tls(tls, &mut wire);
                if tls.wants_write() {
                    return false;
                }
            }
            if let Some(tls) = self.proxy_tls.as_deref_mut() {
                if first {
                    tls.send_close_notify();
                }
                let _ = flush_tls(tls, &mut self.stream);
                if tls.wants_write() {
                    return false;
                }
            }
        }
        let _ = self.stream.shutdown(Shutdown::Write);
        true
    }
}

/// The bytes between us and the other end of the socket: the socket
/// itself, or the plaintext of TLS with an `https://` proxy over it.
/// Non-blocking as the socket is.
pub(crate) struct Wire<'a> {
    stream: &'a mut TcpStream,
    #[cfg(feature = "rustls")]
    tls: Option<&'a mut rustls::Connection>,
}

impl Read for Wire<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        #[cfg(feature = "rustls")]
        if let Some(tls) = self.tls.as_deref_mut() {
            return read_tls(tls, self.stream, buf);
        }
        self.stream.read(buf)
    }
}

impl Write for Wire<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        #[cfg(feature = "rustls")]
        if let Some(tls) = self.tls.as_deref_mut() {
            return write_tls(tls, self.stream, buf);
        }
        self.stream.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        #[cfg(feature = "rustls")]
        if let Some(tls) = self.tls.as_deref_mut() {
            return flush_tls(tls, self.stream);
        }
        Ok(())
    }
}

/// Plaintext into rustls, and out as records as far as `stream` takes
/// them; `WouldBlock` when rustls's buffer is full.
#[cfg(feature = "rustls")]
fn write_tls<S: Write>(
    tls: &mut rustls::Connection,
    stream: &mut S,
    buf: &[u8],
) -> io::Result<usize> {
    for _ in 0..2 {
        flush_tls(tls, stream)?;
        let n = tls.writer().write(buf)?;
        flush_tls(tls, stream)?;
        if n > 0 {
            return Ok(n);
        }
        // rustls's buffer is full. Wait for the socket if records
        // are waiting for it, or for the handshake to move on (the
        // peer's messages arrive as readable events); otherwise
        // the socket took everything just now: go again.
        if tls.wants_write() || tls.is_handshaking() {
            break;
        }
    }
    Err(io::ErrorKind::WouldBlock.into())
}

/// Plaintext out of rustls, feeding it socket bytes as needed.
#[cfg(feature = "rustls")]
fn read_tls<S: Read + Write>(
    tls: &mut rustls::Connection,
    stream: &mut S,
    buf: &mut [u8],
) -> io::Result<usize> {
    loop {
        match tls.reader().read(buf) {
            // Plaintext, or a clean end (the peer's close_notify).
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            // The peer closed TCP without close_notify: an end of stream
            // all the same for the core (which knows whether the
            // WebSocket closing handshake happened).
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(0),
            Err(e) => return Err(e),
        }
        // No plaintext buffered: read TLS records from the socket.
        match tls.read_tls(stream) {
            Ok(0) => return Ok(0),
            Ok(_) => {
                if let Err(e) = tls.process_new_packets() {
                    // rustls queued an alert for the peer: try to send it.
                    let _ = flush_tls(tls, stream);
                    return Err(io::Error::new(io::ErrorKind::InvalidData, e));
                }
                if tls.is_handshaking() || tls.wants_write() {
                    // Handshake messages (and, once it is done, what was
                    // written before) go out now: the socket may never
                    // become writable again to prompt them. A failure
                    // shows in the next write.
                    let _ = flush_tls(tls, stream);
                }
            }
            Err(e) => return Err(e),
        }
    }
}

/// Writes rustls's queued TLS bytes until done or the socket would block.
#[cfg(feature = "rustls")]
fn flush_tls<S: Write>(tls: &mut rustls::Connection, stream: &mut S) -> io::Result<()> {
    while tls.wants_write() {
        match tls.write_tls(stream) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
