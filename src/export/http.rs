//! A small, bounded HTTP/1.1 server for `GET /metrics`: every request head is capped in size
//! and time, bodies are refused unread, connections are capped in number and closed when idle,
//! and keep-alive answers go out in one write with Nagle off (no 40 ms delayed-ACK stall).
//!
//! Written on `std::net` rather than taken from a crate: the exporter needs only GET and HEAD
//! of a few paths, and the bounds are the point (the HTTP library used before aborted the
//! process allocating a body of the size a `Content-Length` announced, and kept a thread per
//! closed connection).

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Largest request head (request line and headers) read: 8 KiB, as most servers allow.
pub const MAX_HEAD_BYTES: usize = 8 * 1024;

/// Most header lines in a request head.
pub const MAX_HEADERS: usize = 64;

/// Longest a client may take to send one request head once it started it.
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);

/// Longest a write of a response may block on a client that does not read.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// How the server bounds its clients.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Connections served at once; more are answered 503 and closed.
    pub max_connections: usize,
    /// How long a keep-alive connection may wait for its next request before it is closed.
    pub idle_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 64,
            idle_timeout: Duration::from_secs(5),
        }
    }
}

/// A parsed request: what the handler sees.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// `GET` or `HEAD` (others are answered 405 before the handler).
    pub method: String,
    /// The path, without the query string.
    pub path: String,
}

/// What the handler answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// HTTP status code.
    pub status: u16,
    /// `Content-Type` header value.
    pub content_type: &'static str,
    /// The body (left out for HEAD).
    pub body: String,
}

impl Response {
    /// A plain-text response.
    pub fn text(status: u16, body: impl Into<String>) -> Response {
        Response {
            status,
            content_type: "text/plain; charset=utf-8",
            body: body.into(),
        }
    }
}

/// Answers requests; shared by every connection thread.
pub type Handler = dyn Fn(&Request) -> Response + Send + Sync;

/// A listening server.
pub struct Server {
    listener: TcpListener,
    limits: Limits,
    active: Arc<AtomicUsize>,
}

impl Server {
    /// Listen on `address` (`127.0.0.1:0` picks a free port).
    pub fn bind(address: &str, limits: Limits) -> std::io::Result<Server> {
        Ok(Server {
            listener: TcpListener::bind(address)?,
            limits,
            active: Arc::new(AtomicUsize::new(0)),
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Accept connections forever, one thread per connection up to `max_connections`.
    pub fn run(&self, handler: &Arc<Handler>) {
        for stream in self.listener.incoming() {
            let stream = match stream {
                Ok(stream) => stream,
                Err(_) => {
                    // Out of file descriptors or a reset before accept: wait, do not spin.
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                }
            };
            if self.active.load(Ordering::Acquire) >= self.limits.max_connections {
                refuse_busy(stream);
                continue;
            }
            let guard = Slot::take(&self.active);
            let handler = Arc::clone(handler);
            let limits = self.limits;
            let spawned = std::thread::Builder::new()
                .name("http".to_string())
                .spawn(move || {
                    let _slot = guard;
                    serve_connection(stream, &handler, limits);
                });
            if spawned.is_err() {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
}

/// One counted connection; releases its count when dropped (the thread ended, or never ran).
struct Slot(Arc<AtomicUsize>);

impl Slot {
    fn take(active: &Arc<AtomicUsize>) -> Slot {
        active.fetch_add(1, Ordering::AcqRel);
        Slot(Arc::clone(active))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Tell a client over the connection cap to come back later.
fn refuse_busy(mut stream: TcpStream) {
    let _ = stream.set_write_timeout(Some(Duration::from_millis(100)));
    let response = Response::text(503, "too many connections: try again shortly\n");
    let _ = stream.write_all(&encode(&response, false, false));
    let _ = stream.shutdown(std::net::Shutdown::Write);
}

/// Why a connection stops reading requests.
#[derive(Debug, PartialEq, Eq)]
enum HeadError {
    /// The client closed, or was idle past the timeout between requests.
    Gone,
    /// The client stopped in the middle of a head.
    Timeout,
    /// The head is larger than [`MAX_HEAD_BYTES`].
    TooLarge,
}

/// Answer requests on one connection until it closes, idles out or breaks a rule.
fn serve_connection(mut stream: TcpStream, handler: &Arc<Handler>, limits: Limits) {
    let _ = stream.set_nodelay(true);
    let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
    let mut buffer: Vec<u8> = Vec::with_capacity(1024);
    loop {
        let head_len = match read_head(&mut stream, &mut buffer, limits.idle_timeout) {
            Ok(len) => len,
            Err(HeadError::Gone) => return,
            Err(HeadError::Timeout) => {
                let response = Response::text(408, "request head not finished in time\n");
                return refuse(stream, &response);
            }
            Err(HeadError::TooLarge) => {
                let response = Response::text(
                    431,
                    format!("request head larger than {MAX_HEAD_BYTES} bytes\n"),
                );
                return refuse(stream, &response);
            }
        };
        let parsed = parse_head(&buffer[..head_len]);
        buffer.drain(..head_len);
        let (response, head_only, keep_alive) = match parsed {
            Err(refusal) => return refuse(stream, &refusal),
            Ok(head) => {
                let request = Request {
                    method: head.method.clone(),
                    path: head.path.clone(),
                };
                (handler(&request), head.method == "HEAD", head.keep_alive)
            }
        };
        if stream
            .write_all(&encode(&response, head_only, keep_alive))
            .is_err()
            || !keep_alive
        {
            return;
        }
    }
}

/// Send `response` and close without reading the request's rest: stop sending, then discard
/// what the client still sends for a moment (at most 64 KiB), so that closing with unread data
/// does not reset the connection before the client has read the answer.
fn refuse(mut stream: TcpStream, response: &Response) {
    if stream.write_all(&encode(response, false, false)).is_err() {
        return;
    }
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
    let mut sink = [0u8; 4096];
    let mut discarded = 0;
    while discarded < 64 * 1024 {
        match stream.read(&mut sink) {
            Ok(0) | Err(_) => break,
            Ok(n) => discarded += n,
        }
    }
}

/// Read until `buffer` holds a whole head; returns its length, terminator included. Waits
/// `idle` for a request to start and [`HEAD_TIMEOUT`] for it to finish.
fn read_head(
    stream: &mut TcpStream,
    buffer: &mut Vec<u8>,
    idle: Duration,
) -> Result<usize, HeadError> {
    let mut deadline: Option<Instant> = None;
    let mut chunk = [0u8; 2048];
    loop {
        if let Some(end) = find_head_end(buffer) {
            return Ok(end);
        }
        if buffer.len() > MAX_HEAD_BYTES {
            return Err(HeadError::TooLarge);
        }
        let started = !buffer.is_empty();
        if started && deadline.is_none() {
            deadline = Some(Instant::now() + HEAD_TIMEOUT);
        }
        let wait = match deadline {
            Some(d) => d.saturating_duration_since(Instant::now()),
            None => idle,
        };
        if wait.is_zero() {
            return Err(HeadError::Timeout);
        }
        let _ = stream.set_read_timeout(Some(wait));
        match stream.read(&mut chunk) {
            Ok(0) => return Err(HeadError::Gone),
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Err(if started {
                    HeadError::Timeout
                } else {
                    HeadError::Gone
                });
            }
            Err(_) => return Err(HeadError::Gone),
        }
    }
}

/// End of the head (`\r\n\r\n`) within the first [`MAX_HEAD_BYTES`], terminator included.
fn find_head_end(buffer: &[u8]) -> Option<usize> {
    let window = &buffer[..buffer.len().min(MAX_HEAD_BYTES + 4)];
    window
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|at| at + 4)
}

/// A head that can be answered.
#[derive(Debug, PartialEq, Eq)]
struct Head {
    method: String,
    path: String,
    keep_alive: bool,
}

/// Parse a request head; a refusal is the response to send before closing.
fn parse_head(head: &[u8]) -> Result<Head, Response> {
    let bad = |why: &str| Response::text(400, format!("bad request: {why}\n"));
    let text = std::str::from_utf8(head).map_err(|_| bad("the head is not text"))?;
    let mut lines = text.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad("the request line is not `METHOD TARGET HTTP/1.1`"));
    };
    let http_11 = match version {
        "HTTP/1.1" => true,
        "HTTP/1.0" => false,
        _ => {
            return Err(Response::text(
                505,
                "HTTP version not supported: use HTTP/1.1 or HTTP/1.0\n",
            ));
        }
    };
    let mut keep_alive = http_11;
    let mut count = 0;
    for line in lines.filter(|l| !l.is_empty()) {
        count += 1;
        if count > MAX_HEADERS {
            return Err(Response::text(
                431,
                format!("more than {MAX_HEADERS} header lines\n"),
            ));
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(bad("a header line has no `:`"));
        };
        if name.is_empty() || name.contains([' ', '\t']) {
            return Err(bad("a header name is empty or has spaces"));
        }
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad("Content-Length is not a number"));
            }
            if value.bytes().any(|b| b != b'0') {
                return Err(no_body());
            }
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            return Err(no_body());
        } else if name.eq_ignore_ascii_case("connection") {
            for option in value.split(',').map(str::trim) {
                if option.eq_ignore_ascii_case("close") {
                    keep_alive = false;
                } else if option.eq_ignore_ascii_case("keep-alive") {
                    keep_alive = true;
                }
            }
        }
    }
    if method != "GET" && method != "HEAD" {
        return Err(Response::text(405, "method not allowed: use GET\n"));
    }
    let path = target.split('?').next().unwrap_or_default().to_string();
    Ok(Head {
        method: method.to_string(),
        path,
        keep_alive,
    })
}

/// The refusal of a request that carries a body: it is never read (and never allocated).
fn no_body() -> Response {
    Response::text(
        413,
        "a request to this server carries no body: send GET without Content-Length or \
         Transfer-Encoding\n",
    )
}

/// The response as bytes: status line, headers and (unless `head_only`) the body.
fn encode(response: &Response, head_only: bool, keep_alive: bool) -> Vec<u8> {
    let mut bytes = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: {}\r\n\r\n",
        response.status,
        reason(response.status),
        response.content_type,
        response.body.len(),
        if keep_alive { "keep-alive" } else { "close" }
    )
    .into_bytes();
    if !head_only {
        bytes.extend_from_slice(response.body.as_bytes());
    }
    bytes
}

/// The reason phrase of the statuses this server sends.
fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Content Too Large",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(text: &str) -> Result<Head, u16> {
        parse_head(text.as_bytes()).map_err(|r| r.status)
    }

    #[test]
    fn keep_alive_is_the_http_11_default_and_close_ends_it() {
        let get = |extra: &str, version: &str| {
            head(&format!(
                "GET /metrics?x=1 {version}\r\nHost: a\r\n{extra}\r\n"
            ))
        };
        let h = get("", "HTTP/1.1").expect("valid");
        assert_eq!(
            (h.method.as_str(), h.path.as_str(), h.keep_alive),
            ("GET", "/metrics", true)
        );
        assert!(
            !get("Connection: close\r\n", "HTTP/1.1")
                .expect("valid")
                .keep_alive
        );
        assert!(!get("", "HTTP/1.0").expect("valid").keep_alive);
        assert!(
            get("Connection: keep-alive\r\n", "HTTP/1.0")
                .expect("valid")
                .keep_alive
        );
    }

    #[test]
    fn bodies_bad_heads_and_other_methods_are_refused() {
        let req = |extra: &str| head(&format!("GET / HTTP/1.1\r\n{extra}\r\n"));
        assert_eq!(req("Content-Length: 99999999999\r\n"), Err(413));
        assert_eq!(req("Transfer-Encoding: chunked\r\n"), Err(413));
        assert_eq!(
            req("Content-Length: 0\r\n").map(|h| h.path),
            Ok("/".to_string())
        );
        assert_eq!(req("Content-Length: -1\r\n"), Err(400));
        assert_eq!(req("no colon\r\n"), Err(400));
        assert_eq!(req(&"X: y\r\n".repeat(MAX_HEADERS + 1)), Err(431));
        assert_eq!(head("POST / HTTP/1.1\r\n\r\n"), Err(405));
        assert_eq!(head("GET / HTTP/2\r\n\r\n"), Err(505));
        assert_eq!(head("GET /\r\n\r\n"), Err(400));
    }

    #[test]
    fn responses_carry_their_length_and_head_drops_the_body() {
        let response = Response::text(200, "hello");
        let full = String::from_utf8(encode(&response, false, true)).expect("text");
        assert!(full.starts_with("HTTP/1.1 200 OK\r\n"), "{full}");
        assert!(full.contains("Content-Length: 5\r\nConnection: keep-alive\r\n\r\nhello"));
        let head_only = String::from_utf8(encode(&response, true, false)).expect("text");
        assert!(
            head_only.ends_with("Connection: close\r\n\r\n"),
            "{head_only}"
        );
    }

    #[test]
    fn the_head_ends_at_the_first_blank_line() {
        assert_eq!(find_head_end(b"GET / HTTP/1.1\r\n\r\nGET"), Some(18));
        assert_eq!(find_head_end(b"GET / HTTP/1.1\r\n"), None);
    }
}
