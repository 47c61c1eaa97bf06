//! For tests of the S3 store and of what uses it: moto_server (PyPI `moto[server]`, which
//! enforces Object Lock) on 127.0.0.1, started here and stopped when dropped.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::S3Settings;

/// A running moto_server.
pub struct Moto {
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Moto {
    /// Starts one on a free port.
    ///
    /// # Panics
    /// When moto_server is not installed or does not start (a test can go no further).
    pub fn start() -> Moto {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or_else(|e| panic!("no free port: {e}"));
        Moto::start_on(port)
    }

    /// Starts one on `port` (in memory: a restart starts empty).
    ///
    /// # Panics
    /// When moto_server is not installed or does not start.
    pub fn start_on(port: u16) -> Moto {
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "moto_server is not installed (scripts/test: pip install 'moto[server]'): {e}"
                )
            });
        let up = (0..200).any(|_| {
            std::thread::sleep(Duration::from_millis(50));
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        assert!(up, "moto_server did not start on {port}");
        Moto { child, port }
    }

    /// Settings for `bucket` on this server.
    pub fn settings(&self, bucket: &str) -> S3Settings {
        S3Settings {
            endpoint: format!("http://127.0.0.1:{}", self.port),
            bucket: bucket.into(),
            region: "us-east-1".into(),
            access_key_id: "kordon-test".into(),
            secret_access_key: "kordon-test-secret".into(),
        }
    }
}

/// The `KORDON_S3_*` variables that make `kordon serve` keep its segments in the bucket of
/// `s3`, each object locked for `lock_s` seconds.
pub fn server_env(s3: &S3Settings, lock_s: u64) -> Vec<(&'static str, String)> {
    vec![
        ("KORDON_S3_ENDPOINT", s3.endpoint.clone()),
        ("KORDON_S3_BUCKET", s3.bucket.clone()),
        ("KORDON_S3_ACCESS_KEY_ID", s3.access_key_id.clone()),
        ("KORDON_S3_SECRET_ACCESS_KEY", s3.secret_access_key.clone()),
        ("KORDON_S3_LOCK_S", lock_s.to_string()),
    ]
}
