//! Handing work to another thread over a `std::sync::mpsc` channel.
//!
//!     cargo run --example channel [-- ADDR]      (ADDR: 127.0.0.1:3012)
//!     cargo run --example channel -- --self-test
//!
//! Handlers run on the event loop's thread, so they must not block. Here
//! they pass each text message, with a clone of their `Sender`, to a worker
//! thread through a channel; the worker does the (pretend) slow work and
//! answers the client through that `Sender`. When the `WebSocket` and its
//! handlers are gone, the channel closes and the worker ends.

use std::sync::mpsc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use ws::{CloseCode, Error, ErrorKind, Factory, Handler, Message, Result, Sender, WebSocket};

/// A piece of work, and where its answer goes.
struct Job {
    text: String,
    reply: Sender,
}

fn worker(jobs: mpsc::Receiver<Job>) {
    // Ends when every `mpsc::Sender<Job>` has been dropped.
    for job in jobs {
        thread::sleep(Duration::from_millis(20)); // a slow computation
        let words = job.text.split_whitespace().count();
        // The client may be gone by now; that is not the worker's problem.
        let _ = job
            .reply
            .send(format!("{:?} has {words} word(s)", job.text));
    }
    println!("worker: no more jobs");
}

struct Client {
    out: Sender,
    jobs: mpsc::Sender<Job>,
}

impl Handler for Client {
    fn on_message(&mut self, msg: Message) -> Result<()> {
        let job = Job {
            text: msg.into_text()?,
            reply: self.out.clone(),
        };
        // Never blocks: an mpsc channel has no bound.
        self.jobs
            .send(job)
            .map_err(|_| Error::new(ErrorKind::Internal, "the worker has stopped"))
    }
}

/// A server bound to `addr`, and its worker thread.
fn server(
    addr: &str,
) -> Result<(
    WebSocket<impl Factory<Handler = Client> + Send>,
    JoinHandle<()>,
)> {
    let (jobs, queue) = mpsc::channel();
    let worker = thread::spawn(move || worker(queue));
    let ws = WebSocket::new(move |out: Sender| Client {
        out,
        jobs: jobs.clone(),
    })?
    .bind(addr)?;
    Ok((ws, worker))
}

fn main() -> Result<()> {
    let arg = std::env::args().nth(1);
    if arg.as_deref() == Some("--self-test") {
        self_test();
        return Ok(());
    }
    let (ws, worker) = server(arg.as_deref().unwrap_or("127.0.0.1:3012"))?;
    println!("listening on ws://{}", ws.local_addr()?);
    // `run` hands back a fresh WebSocket that still owns the factory (and its
    // end of the channel): drop it so that the worker can finish.
    drop(ws.run()?);
    worker.join().expect("the worker panicked");
    Ok(())
}

// ---------------------------------------------------------------- self-test

fn self_test() {
    let (ws, worker) = server("127.0.0.1:0").unwrap();
    let url = format!("ws://{}", ws.local_addr().unwrap());
    let stop = ws.broadcaster();
    let server = thread::spawn(move || ws.run().map(drop));

    let (tx, answers) = mpsc::channel();
    ws::connect(url, |out: Sender| {
        out.send("the quick brown fox").unwrap();
        out.send("jumps").unwrap();
        let (tx, mut count) = (tx.clone(), 0);
        move |msg: Message| {
            println!("client got {msg}");
            tx.send(msg.into_text()?).unwrap();
            count += 1;
            if count == 2 {
                out.close(CloseCode::Normal)?;
            }
            Ok(())
        }
    })
    .unwrap();
    let answers: Vec<String> = answers.try_iter().collect();
    assert_eq!(
        answers,
        [
            r#""the quick brown fox" has 4 word(s)"#,
            r#""jumps" has 1 word(s)"#
        ]
    );

    stop.shutdown().unwrap();
    server.join().unwrap().unwrap();
    worker.join().unwrap(); // the channel closed with the server
    println!("self-test passed");
}
