//! WebSockets over HTTP/2: see the next commit.
