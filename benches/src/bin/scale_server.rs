//! The server of `benches/scale.sh`: echoes, and broadcasts a message to
//! every connection at a fixed interval, with a small outgoing cap so that
//! peers that stop reading are refused more data instead of costing memory.
//!
//! Usage: `scale_server ADDR [INTERVAL_MS] [MESSAGE_BYTES]`

use std::thread;
use std::time::Duration;

fn main() -> ws::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:9300".into());
    let interval: u64 = args
        .next()
        .map_or(50, |a| a.parse().expect("interval in ms"));
    let size: usize = args
        .next()
        .map_or(1024, |a| a.parse().expect("message size"));
    let settings = ws::Settings {
        max_connections: 12_000,
        // Per connection: at most 64 KiB queued in the core and 64 KiB in
        // the loop's write buffer while the peer does not read.
        out_buffer_grow: false,
        out_buffer_capacity: 64 * 1024,
        frame_hooks: false,
        ..ws::Settings::default()
    };
    let ws = ws::Builder::new()
        .with_settings(settings)
        .build(|out: ws::Sender| move |msg| out.send(msg))?
        .bind(addr.as_str())?;
    let everyone = ws.broadcaster();
    thread::spawn(move || {
        let payload = vec![b'x'; size];
        loop {
            thread::sleep(Duration::from_millis(interval));
            match everyone.broadcast(payload.clone()) {
                Ok(()) => {}
                // The loop is behind: skip this round rather than stop.
                Err(e) if matches!(e.kind, ws::ErrorKind::Queue(ws::QueueError::Full)) => {
                    eprintln!("scale_server: command queue full, broadcast skipped");
                }
                Err(_) => break,
            }
        }
    });
    eprintln!("scale_server: listening on {addr}");
    ws.run()?;
    Ok(())
}
