//! A TCP proxy the fault-injection runner controls: the roles reach a service (RabbitMQ,
//! PostgreSQL) through it, and the runner cuts every connection, refuses new ones for a while,
//! or slows every byte through it — a network fault without touching the service itself.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

#[derive(Debug, Default)]
struct Control {
    refusing: AtomicBool,
    /// Added before forwarding each chunk, in milliseconds.
    delay_ms: AtomicU64,
    connections: Mutex<Vec<AbortHandle>>,
}

/// Forwards `127.0.0.1:<port>` to a target; stops when dropped.
#[derive(Debug)]
pub struct Proxy {
    addr: SocketAddr,
    control: Arc<Control>,
    accept: AbortHandle,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}

async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    control: Arc<Control>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let delay = control.delay_ms.load(Ordering::Relaxed);
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

impl Proxy {
    /// Listens on a free loopback port and forwards every connection to `target`.
    pub async fn start(target: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the proxy");
        let addr = listener.local_addr().expect("proxy address");
        let control = Arc::new(Control::default());
        let c = control.clone();
        let accept = tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                if c.refusing.load(Ordering::Relaxed) {
                    drop(inbound);
                    continue;
                }
                let c2 = c.clone();
                let task = tokio::spawn(async move {
                    let Ok(outbound) = TcpStream::connect(target).await else {
                        return;
                    };
                    let (ri, wi) = inbound.into_split();
                    let (ro, wo) = outbound.into_split();
                    tokio::join!(pipe(ri, wo, c2.clone()), pipe(ro, wi, c2));
                });
                if let Ok(mut all) = c.connections.lock() {
                    all.retain(|h| !h.is_finished());
                    all.push(task.abort_handle());
                }
            }
        })
        .abort_handle();
        Proxy {
            addr,
            control,
            accept,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Drops every open connection (both ends see it closed).
    pub fn cut(&self) {
        if let Ok(mut all) = self.control.connections.lock() {
            for h in all.drain(..) {
                h.abort();
            }
        }
    }

    /// While `true`, new connections are accepted and closed at once.
    pub fn refuse(&self, refusing: bool) {
        self.control.refusing.store(refusing, Ordering::Relaxed);
    }

    /// Delays every forwarded chunk by `delay` (zero: none).
    pub fn slow(&self, delay: Duration) {
        let ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self.control.delay_ms.store(ms, Ordering::Relaxed);
    }

    /// An outage: every connection cut and new ones refused for `window`, then allowed again.
    pub async fn outage(&self, window: Duration) {
        self.refuse(true);
        self.cut();
        tokio::time::sleep(window).await;
        self.refuse(false);
    }

    /// A stall: every chunk read in the next second is held for `hold` (connections stay open,
    /// nothing moves), and this returns once they have been let through.
    pub async fn stall(&self, hold: Duration) {
        self.slow(hold);
        tokio::time::sleep(Duration::from_secs(1)).await;
        self.slow(Duration::ZERO);
        tokio::time::sleep(hold).await;
    }

    /// Every chunk delayed by `delay` for `window`.
    pub async fn slow_for(&self, delay: Duration, window: Duration) {
        self.slow(delay);
        tokio::time::sleep(window).await;
        self.slow(Duration::ZERO);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn forwards_cuts_and_refuses() {
        let echo = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let target = echo.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = echo.accept().await {
                tokio::spawn(async move {
                    let mut b = [0u8; 64];
                    while let Ok(n) = s.read(&mut b).await {
                        if n == 0 || s.write_all(&b[..n]).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        let proxy = Proxy::start(target).await;
        let mut c = TcpStream::connect(proxy.addr()).await.unwrap();
        c.write_all(b"ping").await.unwrap();
        let mut b = [0u8; 4];
        c.read_exact(&mut b).await.unwrap();
        assert_eq!(&b, b"ping");
        proxy.cut();
        let mut rest = Vec::new();
        let n = tokio::time::timeout(Duration::from_secs(2), c.read_to_end(&mut rest)).await;
        assert!(matches!(n, Ok(Ok(0)) | Ok(Err(_))), "{n:?}");
        proxy.refuse(true);
        let mut d = TcpStream::connect(proxy.addr()).await.unwrap();
        let n = tokio::time::timeout(Duration::from_secs(2), d.read(&mut b)).await;
        assert!(matches!(n, Ok(Ok(0)) | Ok(Err(_))), "{n:?}");
    }
}
