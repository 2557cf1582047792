//! A fault-injecting TCP proxy for cluster tests: brokers advertise the
//! proxy's address, so clients and other brokers reach them through it,
//! and a test can drop, delay or cut one direction of that traffic.
//!
//! Plain threads and blocking sockets: it is test infrastructure, and the
//! broker under test never sees anything but TCP behaviour.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// What the proxy does to traffic right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Forward everything.
    Pass,
    /// Close every connection and refuse new ones (a dead link).
    Drop,
    /// Forward each chunk after this delay.
    Delay(Duration),
    /// Requests (towards the target) are swallowed; answers still flow.
    CutToTarget,
    /// Answers (from the target) are swallowed; requests still flow.
    CutFromTarget,
}

struct Shared {
    fault: Mutex<Fault>,
    conns: Mutex<Vec<TcpStream>>,
    stop: AtomicBool,
}

pub struct Proxy {
    pub addr: SocketAddr,
    target: Arc<Mutex<SocketAddr>>,
    shared: Arc<Shared>,
}

impl Proxy {
    /// Listens on a free loopback port and forwards to `target`.
    pub fn start(target: SocketAddr) -> std::io::Result<Proxy> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            fault: Mutex::new(Fault::Pass),
            conns: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
        });
        let target = Arc::new(Mutex::new(target));
        let (s, t) = (shared.clone(), target.clone());
        thread::spawn(move || accept_loop(listener, t, s));
        Ok(Proxy {
            addr,
            target,
            shared,
        })
    }

    pub fn set(&self, fault: Fault) {
        let before = std::mem::replace(&mut *self.shared.fault.lock().unwrap(), fault);
        // A cut swallowed parts of frames: the streams cannot be trusted
        // after it, as after a real partition the peers see resets.
        let was_cut = matches!(before, Fault::CutToTarget | Fault::CutFromTarget);
        if fault == Fault::Drop || (was_cut && fault != before) {
            self.close_all();
        }
    }

    pub fn fault(&self) -> Fault {
        *self.shared.fault.lock().unwrap()
    }

    /// Points the proxy at a new target (a restarted broker on a new port).
    pub fn retarget(&self, target: SocketAddr) {
        *self.target.lock().unwrap() = target;
        self.close_all();
    }

    fn close_all(&self) {
        for c in self.shared.conns.lock().unwrap().drain(..) {
            let _ = c.shutdown(Shutdown::Both);
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.close_all();
        // Unblock accept().
        let _ = TcpStream::connect(self.addr);
    }
}

fn accept_loop(listener: TcpListener, target: Arc<Mutex<SocketAddr>>, shared: Arc<Shared>) {
    for client in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(client) = client else { continue };
        if *shared.fault.lock().unwrap() == Fault::Drop {
            let _ = client.shutdown(Shutdown::Both);
            continue;
        }
        let to = *target.lock().unwrap();
        let Ok(server) = TcpStream::connect_timeout(&to, Duration::from_secs(2)) else {
            let _ = client.shutdown(Shutdown::Both);
            continue;
        };
        let _ = client.set_nodelay(true);
        let _ = server.set_nodelay(true);
        let (Ok(c2), Ok(s2)) = (client.try_clone(), server.try_clone()) else {
            continue;
        };
        {
            let mut conns = shared.conns.lock().unwrap();
            if let (Ok(a), Ok(b)) = (client.try_clone(), server.try_clone()) {
                conns.push(a);
                conns.push(b);
            }
        }
        let s_up = shared.clone();
        thread::spawn(move || pump(client, server, s_up, true));
        let s_down = shared.clone();
        thread::spawn(move || pump(s2, c2, s_down, false));
    }
}

/// Copies `from` → `to`, applying the current fault to each chunk.
fn pump(mut from: TcpStream, mut to: TcpStream, shared: Arc<Shared>, to_target: bool) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let fault = *shared.fault.lock().unwrap();
        match fault {
            Fault::Pass => {}
            Fault::Drop => break,
            Fault::Delay(d) => thread::sleep(d),
            Fault::CutToTarget if to_target => continue,
            Fault::CutFromTarget if !to_target => continue,
            Fault::CutToTarget | Fault::CutFromTarget => {}
        }
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Both);
    let _ = from.shutdown(Shutdown::Both);
}
