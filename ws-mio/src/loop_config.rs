//! [`LoopConfig`]: the settings of the event loop itself.

/// Settings of the loop itself (the protocol's are in [`Config`](ws_proto::Config)).
#[derive(Clone, Debug)]
pub struct LoopConfig {
    /// Size of the read buffer shared by all connections. Default 64 KiB.
    pub read_buffer: usize,
    /// Stop reading from a peer while this many bytes wait to be written
    /// to it (the loop's and the core's), and read again once at most half
    /// as many do. Default [`READ_PAUSE`](ws_proto::backpressure::READ_PAUSE),
    /// 128 KiB, as on ws-tokio.
    pub write_high_water: usize,
    /// Most commands waiting in the queue. Default 65,536.
    pub queue_capacity: usize,
    /// Most connections at once; further clients are answered `503 Service
    /// Unavailable` and closed, further `connect`s fail. Default 10,000.
    pub max_connections: usize,
    /// Set `TCP_NODELAY` on every connection. Default true.
    pub nodelay: bool,
    /// Capacity of the `mio::Events` buffer. Default 1,024.
    pub events_capacity: usize,
}

impl Default for LoopConfig {
    fn default() -> Self {
        Self {
            read_buffer: 64 * 1024,
            write_high_water: ws_proto::backpressure::READ_PAUSE,
            queue_capacity: 65_536,
            max_connections: 10_000,
            nodelay: true,
            events_capacity: 1024,
        }
    }
}
