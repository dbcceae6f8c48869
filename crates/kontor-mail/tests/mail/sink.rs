//! A minimal SMTP server that accepts mail and keeps it in memory (RFC 5321 subset: EHLO/HELO,
//! MAIL, RCPT, DATA, RSET, NOOP, QUIT). It can refuse recipients for good (550) or for a while
//! (450 at RCPT, 451 after the final dot), and stop listening and drop every connection (a
//! server that goes down). A message counts only when its final dot arrived.
// Shared by the mail tests and the kontor binary's crash test; each uses a part of it.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

#[derive(Clone, Debug)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
}

#[derive(Default)]
struct Shared {
    messages: Vec<Received>,
    connections: usize,
    refused: Vec<String>,
    /// Recipient → how many more times RCPT answers 450.
    busy_rcpt: HashMap<String, usize>,
    /// Recipient → how many more times the final dot is answered with 451 (message dropped).
    busy_data: HashMap<String, usize>,
}

pub struct Sink {
    pub port: u16,
    shared: Arc<Mutex<Shared>>,
    tasks: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Sink {
    pub async fn start(port: u16) -> Sink {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Mutex::new(Shared::default()));
        let tasks = Arc::new(Mutex::new(Vec::new()));
        let (s, t) = (shared.clone(), tasks.clone());
        let accept = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                s.lock().unwrap().connections += 1;
                let session = tokio::spawn(session(stream, s.clone()));
                t.lock().unwrap().push(session);
            }
        });
        tasks.lock().unwrap().push(accept);
        Sink {
            port,
            shared,
            tasks,
        }
    }
    /// Stops listening and drops every open connection; messages received so far stay readable.
    pub fn stop(&self) {
        for t in self.tasks.lock().unwrap().drain(..) {
            t.abort();
        }
    }
    /// Answers RCPT for `address` with 450 the next `times` times.
    pub fn busy_recipient(&self, address: &str, times: usize) {
        self.shared
            .lock()
            .unwrap()
            .busy_rcpt
            .insert(address.to_string(), times);
    }
    /// Answers the final dot of a message to `address` with 451 (and drops it) `times` times.
    pub fn busy_after_data(&self, address: &str, times: usize) {
        self.shared
            .lock()
            .unwrap()
            .busy_data
            .insert(address.to_string(), times);
    }
    /// How many messages each recipient received.
    pub fn counts(&self) -> HashMap<String, usize> {
        let mut out = HashMap::new();
        for m in &self.shared.lock().unwrap().messages {
            for to in &m.to {
                *out.entry(to.clone()).or_insert(0) += 1;
            }
        }
        out
    }
    /// How many messages arrived completely (final dot and 250).
    pub fn messages_received(&self) -> usize {
        self.shared.lock().unwrap().messages.len()
    }
    pub fn messages(&self) -> Vec<Received> {
        self.shared.lock().unwrap().messages.clone()
    }
    pub fn connections(&self) -> usize {
        self.shared.lock().unwrap().connections
    }
    pub fn refuse_recipient(&self, address: &str) {
        self.shared
            .lock()
            .unwrap()
            .refused
            .push(address.to_string());
    }
}

async fn session(stream: tokio::net::TcpStream, shared: Arc<Mutex<Shared>>) {
    // Like a real server: replies to pipelined commands leave together (below), and nothing
    // waits for delayed ACKs.
    let _ = stream.set_nodelay(true);
    let (read, mut write) = stream.into_split();
    let mut pending: Vec<u8> = Vec::new();
    let mut lines = BufReader::new(read);
    let _ = write.write_all(b"220 sink ESMTP\r\n").await;
    let (mut from, mut to) = (String::new(), Vec::new());
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
            return;
        }
        let upper = line.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") {
            b"250-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n"
        } else if upper.starts_with("HELO") || upper.starts_with("NOOP") {
            b"250 ok\r\n"
        } else if upper.starts_with("RSET") {
            from.clear();
            to.clear();
            b"250 ok\r\n"
        } else if upper.starts_with("MAIL FROM:") {
            from = address(&line);
            b"250 ok\r\n"
        } else if upper.starts_with("RCPT TO:") {
            let rcpt = address(&line);
            let mut sh = shared.lock().unwrap();
            let busy = sh.busy_rcpt.get_mut(&rcpt).filter(|n| **n > 0);
            if let Some(n) = busy {
                *n -= 1;
                b"450 4.2.1 try again later\r\n"
            } else if sh.refused.contains(&rcpt) {
                b"550 5.1.1 no such user\r\n"
            } else {
                to.push(rcpt);
                b"250 ok\r\n"
            }
        } else if upper.starts_with("DATA") && to.is_empty() {
            b"554 5.5.1 no valid recipients\r\n"
        } else if upper.starts_with("DATA") {
            pending.extend_from_slice(b"354 go ahead\r\n");
            let _ = write.write_all(&pending).await;
            pending.clear();
            let mut data = String::new();
            loop {
                let mut l = String::new();
                if lines.read_line(&mut l).await.unwrap_or(0) == 0 {
                    return;
                }
                if l == ".\r\n" {
                    break;
                }
                data.push_str(l.strip_prefix('.').unwrap_or(&l));
            }
            let mut sh = shared.lock().unwrap();
            let busy = to
                .iter()
                .find(|r| sh.busy_data.get(*r).is_some_and(|n| *n > 0))
                .cloned();
            if let Some(r) = busy {
                *sh.busy_data.get_mut(&r).unwrap() -= 1;
                to.clear();
                b"451 4.3.0 temporary failure, message dropped\r\n"
            } else {
                sh.messages.push(Received {
                    from: from.clone(),
                    to: std::mem::take(&mut to),
                    data,
                });
                b"250 queued\r\n"
            }
        } else if upper.starts_with("QUIT") {
            let _ = write.write_all(b"221 bye\r\n").await;
            return;
        } else {
            b"502 not implemented\r\n"
        };
        pending.extend_from_slice(reply);
        // More pipelined commands already here: answer them together.
        if !lines.buffer().is_empty() {
            continue;
        }
        if write.write_all(&pending).await.is_err() {
            return;
        }
        pending.clear();
    }
}

fn address(line: &str) -> String {
    let start = line.find('<').map_or(0, |i| i + 1);
    let end = line[start..].find('>').map_or(line.len(), |i| start + i);
    line[start..end].trim().to_string()
}
