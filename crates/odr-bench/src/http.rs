//! A minimal HTTP/1.1 client over one keep-alive connection: enough for
//! JSON requests to `odr serve`, without pulling hyper into the workspace.

use std::io;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Response {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

pub struct Client {
    addr: String,
    stream: Option<TcpStream>,
    buf: Vec<u8>,
}

fn bad(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

impl Client {
    pub fn new(addr: &str) -> Client {
        Client {
            addr: addr.to_owned(),
            stream: None,
            buf: Vec::with_capacity(16 * 1024),
        }
    }

    pub async fn get(&mut self, path: &str, token: Option<&str>) -> io::Result<Response> {
        self.request("GET", path, token, None).await
    }

    pub async fn post(
        &mut self,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) -> io::Result<Response> {
        self.request("POST", path, token, Some(body)).await
    }

    /// Sends one request; a broken connection is dropped (the next request
    /// opens a new one) and reported as the error.
    pub async fn request(
        &mut self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> io::Result<Response> {
        let reused = self.stream.is_some();
        let mut result = self.exchange(method, path, token, body).await;
        if result.is_err() {
            self.stream = None;
            // The server closes idle keep-alive connections; a GET may be
            // sent again on a new one.
            if reused && method == "GET" {
                result = self.exchange(method, path, token, body).await;
                if result.is_err() {
                    self.stream = None;
                }
            }
        }
        result
    }

    async fn exchange(
        &mut self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> io::Result<Response> {
        if self.stream.is_none() {
            let s = TcpStream::connect(&self.addr).await?;
            s.set_nodelay(true)?;
            self.stream = Some(s);
        }
        let body = body.map(|b| b.to_string());
        let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", self.addr);
        if let Some(t) = token {
            req.push_str("Authorization: Bearer ");
            req.push_str(t);
            req.push_str("\r\n");
        }
        match &body {
            Some(b) => {
                req.push_str("Content-Type: application/json\r\n");
                req.push_str(&format!("Content-Length: {}\r\n\r\n", b.len()));
                req.push_str(b);
            }
            None => req.push_str("\r\n"),
        }
        let stream = self.stream.as_mut().ok_or_else(|| bad("no connection"))?;
        stream.write_all(req.as_bytes()).await?;
        self.buf.clear();
        // Headers.
        let (status, header_len, length, chunked, close) = loop {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut parsed = httparse::Response::new(&mut headers);
            match parsed
                .parse(&self.buf)
                .map_err(|e| bad(format!("bad response: {e}")))?
            {
                httparse::Status::Complete(n) => {
                    let mut length = None;
                    let mut chunked = false;
                    let mut close = false;
                    for h in parsed.headers.iter() {
                        let v = String::from_utf8_lossy(h.value);
                        if h.name.eq_ignore_ascii_case("content-length") {
                            length = v.trim().parse::<usize>().ok();
                        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
                            chunked = v.to_ascii_lowercase().contains("chunked");
                        } else if h.name.eq_ignore_ascii_case("connection") {
                            close = v.eq_ignore_ascii_case("close");
                        }
                    }
                    break (parsed.code.unwrap_or(0), n, length, chunked, close);
                }
                httparse::Status::Partial => {
                    if read_more(stream, &mut self.buf).await? == 0 {
                        return Err(bad("connection closed in the headers"));
                    }
                }
            }
        };
        let body = if chunked {
            let mut out = Vec::new();
            let mut pos = header_len;
            loop {
                let line_end = loop {
                    if let Some(i) = find(&self.buf[pos..], b"\r\n") {
                        break pos + i;
                    }
                    if read_more(stream, &mut self.buf).await? == 0 {
                        return Err(bad("connection closed in a chunk"));
                    }
                };
                let size_text = String::from_utf8_lossy(&self.buf[pos..line_end]);
                let size_text = size_text.split(';').next().unwrap_or("").trim().to_owned();
                let size = usize::from_str_radix(&size_text, 16)
                    .map_err(|_| bad(format!("bad chunk size {size_text:?}")))?;
                let start = line_end + 2;
                while self.buf.len() < start + size + 2 {
                    if read_more(stream, &mut self.buf).await? == 0 {
                        return Err(bad("connection closed in a chunk"));
                    }
                }
                out.extend_from_slice(&self.buf[start..start + size]);
                pos = start + size + 2;
                if size == 0 {
                    break;
                }
            }
            out
        } else {
            let length = length.unwrap_or(0);
            while self.buf.len() < header_len + length {
                if read_more(stream, &mut self.buf).await? == 0 {
                    return Err(bad("connection closed in the body"));
                }
            }
            self.buf[header_len..header_len + length].to_vec()
        };
        if close {
            self.stream = None;
        }
        Ok(Response { status, body })
    }
}

async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<usize> {
    let mut chunk = [0u8; 16 * 1024];
    let n = stream.read(&mut chunk).await?;
    buf.extend_from_slice(&chunk[..n]);
    Ok(n)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
