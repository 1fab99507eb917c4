//! A connection's byte transport: the TCP stream itself, or (feature
//! `rustls`) rustls's sans-IO TLS connection over it.
//!
//! The loop reads and writes plaintext through [`Transport`]; with TLS,
//! socket bytes go through `read_tls` / `process_new_packets` and come out
//! of the `reader`, and plaintext goes into the `writer` and out through
//! `write_tls`. Every call is non-blocking: `WouldBlock` means "wait for
//! readiness", exactly as for the bare socket. No frame is looked at.

use std::io::{self, Read, Write};
use std::net::Shutdown;

use mio::net::TcpStream;

pub(crate) struct Transport {
    pub(crate) stream: TcpStream,
    #[cfg(feature = "rustls")]
    tls: Option<Box<rustls::Connection>>,
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
            notified: false,
        }
    }

    /// Runs TLS over the stream from now on.
    #[cfg(feature = "rustls")]
    pub(crate) fn set_tls(&mut self, tls: rustls::Connection) {
        self.tls = Some(Box::new(tls));
    }

    /// Whether a short read means the socket is drained: only for the bare
    /// socket (with TLS, a short plaintext read says nothing about it).
    pub(crate) fn short_read_drains(&self) -> bool {
        #[cfg(feature = "rustls")]
        if self.tls.is_some() {
            return false;
        }
        true
    }

    /// Reads plaintext; `Ok(0)` is the end of stream.
    pub(crate) fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        #[cfg(feature = "rustls")]
        if let Some(tls) = self.tls.as_deref_mut() {
            return read_tls(tls, &mut self.stream, buf);
        }
        self.stream.read(buf)
    }

    /// Writes plaintext. With TLS, the bytes are taken into rustls's buffer
    /// (bounded by its limit) and written out as far as the socket allows;
    /// [`Self::pending`] says whether some are still waiting.
    pub(crate) fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        #[cfg(feature = "rustls")]
        if let Some(tls) = self.tls.as_deref_mut() {
            for _ in 0..2 {
                flush_tls(tls, &mut self.stream)?;
                let n = tls.writer().write(buf)?;
                flush_tls(tls, &mut self.stream)?;
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
            return Err(io::ErrorKind::WouldBlock.into());
        }
        self.stream.write(buf)
    }

    /// Writes plaintext from several buffers, in order, with one system
    /// call for plain TCP. With TLS, only the first buffer (rustls copies
    /// into its own records anyway).
    pub(crate) fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        #[cfg(feature = "rustls")]
        if self.tls.is_some() {
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
            return flush_tls(tls, &mut self.stream);
        }
        Ok(())
    }

    /// Whether TLS output is still waiting for the socket.
    pub(crate) fn pending(&self) -> bool {
        #[cfg(feature = "rustls")]
        if let Some(tls) = self.tls.as_deref() {
            return tls.wants_write();
        }
        false
    }

    /// Shuts down our sending side: with TLS, sends close_notify first.
    /// Returns false while that alert still waits for the socket (call
    /// again when writable).
    pub(crate) fn shutdown_write(&mut self) -> bool {
        #[cfg(feature = "rustls")]
        if let Some(tls) = self.tls.as_deref_mut() {
            if !self.notified {
                self.notified = true;
                tls.send_close_notify();
            }
            let _ = flush_tls(tls, &mut self.stream);
            if tls.wants_write() {
                return false;
            }
        }
        let _ = self.stream.shutdown(Shutdown::Write);
        true
    }
}

/// Plaintext out of rustls, feeding it socket bytes as needed.
#[cfg(feature = "rustls")]
fn read_tls(
    tls: &mut rustls::Connection,
    stream: &mut TcpStream,
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
            }
            Err(e) => return Err(e),
        }
    }
}

/// Writes rustls's queued TLS bytes until done or the socket would block.
#[cfg(feature = "rustls")]
fn flush_tls(tls: &mut rustls::Connection, stream: &mut TcpStream) -> io::Result<()> {
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
