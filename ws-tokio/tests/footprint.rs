//! What an open connection costs in memory: the future of a whole
//! connection (handshake, then an echo loop) is held for the connection's
//! life, so it must stay small. The handshake's state is boxed and freed
//! once the connection opens; the read buffer is shared per thread.

use futures_util::StreamExt;
use tokio::net::TcpStream;

async fn echo(tcp: TcpStream) -> Result<(), ws_tokio::Error> {
    let mut ws = ws_tokio::accept_with_config(tcp, Default::default()).await?;
    while let Some(msg) = ws.next().await {
        ws.send(msg?).await?;
    }
    Ok(())
}

fn size_of_val<T>(_: &T) -> usize {
    std::mem::size_of::<T>()
}

#[test]
#[cfg(target_pointer_width = "64")]
fn a_connection_future_is_small() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let _client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (tcp, _) = listener.accept().unwrap();
        tcp.set_nonblocking(true).unwrap();
        let future = echo(TcpStream::from_std(tcp).unwrap());
        let size = size_of_val(&future);
        assert!(size <= 1024, "the connection's future is {size} bytes");
        let stream = std::mem::size_of::<ws_tokio::WebSocketStream<TcpStream>>();
        // The `tracing` feature adds the connection's span handle.
        let limit = if cfg!(feature = "tracing") { 648 } else { 640 };
        assert!(stream <= limit, "WebSocketStream is {stream} bytes");
    });
}
