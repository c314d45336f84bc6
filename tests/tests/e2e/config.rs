//! A bad configuration exits non-zero with one clear line, not a backtrace.

use std::process::Stdio;

const BINARY: &str = env!("CARGO_BIN_EXE_incubator-e2e");

/// Runs `incubator serve` with `args`; returns (exit success, lines on standard error).
async fn serve(args: &[&str], db_url: &str) -> (bool, Vec<String>) {
    let out = tokio::process::Command::new(BINARY)
        .arg("serve")
        .args(args)
        .env("DATABASE_URL", db_url)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .await
        .expect("run the binary");
    let stderr = String::from_utf8_lossy(&out.stderr);
    (
        out.status.success(),
        stderr.lines().map(str::to_owned).collect(),
    )
}

fn temp_sqlite() -> (tempdir::Dir, String) {
    let dir = tempdir::Dir::new();
    let url = format!("sqlite://{}", dir.0.join("c.db").display());
    (dir, url)
}

mod tempdir {
    /// A directory removed on drop.
    pub struct Dir(pub std::path::PathBuf);
    impl Dir {
        pub fn new() -> Self {
            let p = std::env::temp_dir().join(format!("incubator_cfg_{}", uuid::Uuid::now_v7()));
            std::fs::create_dir_all(&p).unwrap();
            Self(p)
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

#[tokio::test]
async fn an_unknown_database_scheme_is_one_line() {
    let (ok, lines) = serve(&["--listen", "127.0.0.1:0"], "mysql://root@localhost/x").await;
    assert!(!ok);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with("incubator: unsupported database URL"),
        "{lines:?}"
    );
}

#[tokio::test]
async fn an_unreachable_database_is_one_line() {
    let (ok, lines) = serve(
        &["--listen", "127.0.0.1:0"],
        "postgres://app:secret@127.0.0.1:1/incubator",
    )
    .await;
    assert!(!ok);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with("incubator: cannot open the database"),
        "{lines:?}"
    );
    assert!(!lines[0].contains("secret"), "the password is not printed");
}

#[tokio::test]
async fn a_port_in_use_is_one_line() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let (_dir, url) = temp_sqlite();
    let (ok, lines) = serve(&["--listen", &addr], &url).await;
    assert!(!ok);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with(&format!("incubator: cannot listen on {addr}")),
        "{lines:?}"
    );
}

#[tokio::test]
async fn bad_limits_are_refused_before_starting() {
    let (_dir, url) = temp_sqlite();
    for (flag, value) in [
        ("--idempotency-retention", "5s"),
        ("--idempotency-retention", "forever"),
        ("--request-timeout", "soon"),
        ("--body-limit", "10"),
        ("--max-concurrent-requests", "0"),
    ] {
        let (ok, lines) = serve(&["--listen", "127.0.0.1:0", flag, value], &url).await;
        assert!(!ok, "{flag} {value}");
        assert!(
            lines.iter().any(|l| l.contains(flag)),
            "{flag} {value}: {lines:?}"
        );
    }
}
