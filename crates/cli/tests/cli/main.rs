//! The `einvoice` binary as a user runs it: GSTIN checks, serving with embedded defaults, the
//! secret-canary scan of database files and trace logs, key rotation, wrong and missing master
//! keys, and the admin commands.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod crash;
mod exposure;
mod external_irp;
mod process;
mod webhook_crash;

use std::path::Path;
use std::process::Stdio;

use process::{einvoice, Server};
use serde_json::json;

#[test]
fn gstin_check_prints_one_line_per_gstin_and_fails_on_any_invalid() {
    let out = einvoice()
        .args([
            "gstin",
            "check",
            "24AACCT6304M1ZB",
            "27AAPFU0939F1ZA",
            "41AAPFU0939F1ZV",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "24AACCT6304M1ZB: valid",
            "27AAPFU0939F1ZA: check character should be 'V', found 'A'",
            "41AAPFU0939F1ZV: unknown state code 41",
        ]
    );
    let ok = einvoice()
        .args([
            "gstin",
            "check",
            "--sandbox",
            "29AAFCD5862R000",
            "02AMBPG7773M002",
        ])
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    let strict = einvoice()
        .args(["gstin", "check", "29AAFCD5862R000"])
        .output()
        .unwrap();
    assert!(!strict.status.success());
}

#[test]
fn irn_and_validate_work_offline() {
    let out = einvoice()
        .args([
            "irn",
            "--gstin",
            "24AACCT6304M1ZB",
            "--type",
            "INV",
            "--no",
            "SAJ/2023/0627",
            "--date",
            "09/05/2023",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "ee72a3fd6a501a6f53948e89a4989a1ee4abfd0b2ed52bf54793ececd527e620"
    );
    let bad_date = einvoice()
        .args([
            "irn",
            "--gstin",
            "24AACCT6304M1ZB",
            "--type",
            "INV",
            "--no",
            "1",
            "--date",
            "2023-05-09",
        ])
        .output()
        .unwrap();
    assert!(!bad_date.status.success());

    // Every real IRN recomputes from the CLI, given the day NIC generated it: its AckDt, or for
    // the cases without one, the document date (all were generated before June 2025).
    let cases: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/reference/vectors/irn.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let cases = cases["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 23);
    for case in cases {
        let generated_on = match case["ack_dt"].as_str() {
            Some(ack_dt) => format!("{}/{}/{}", &ack_dt[8..10], &ack_dt[5..7], &ack_dt[..4]),
            None => case["doc_date"].as_str().unwrap().to_string(),
        };
        let out = einvoice()
            .args([
                "irn",
                "--gstin",
                case["seller_gstin"].as_str().unwrap(),
                "--type",
                case["doc_type"].as_str().unwrap(),
                "--no",
                case["doc_no"].as_str().unwrap(),
                "--date",
                case["doc_date"].as_str().unwrap(),
                "--generated-on",
                &generated_on,
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "{case}");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            case["irn"].as_str().unwrap(),
            "{case}"
        );
    }

    let vectors = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/reference/vectors/invoices"
    );
    let ok = einvoice()
        .arg("validate")
        .arg(format!(
            "{vectors}/odoo-production-2023-b2b-services-igst.json"
        ))
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    assert_eq!(String::from_utf8_lossy(&ok.stdout).trim(), "valid");
    let dir = tempfile::tempdir().unwrap();
    let broken: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{vectors}/broken.json")).unwrap())
            .unwrap();
    let file = dir.path().join("broken.json");
    std::fs::write(&file, broken["variants"][0]["invoice"].to_string()).unwrap();
    let bad = einvoice().arg("validate").arg(&file).output().unwrap();
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stdout).starts_with("2189 ValDtls.TotInvVal: "),
        "{}",
        String::from_utf8_lossy(&bad.stdout)
    );
    // Multibyte text where a GSTIN goes is a violation, not a panic (exit 101).
    let demo = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fuzz/seeds/inv01/buyer-gstin-multibyte.json"
    );
    let multibyte = einvoice().arg("validate").arg(demo).output().unwrap();
    assert_eq!(
        multibyte.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&multibyte.stderr)
    );
    assert!(String::from_utf8_lossy(&multibyte.stdout).contains("BuyerDtls.Gstin"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_command_serves_the_irp_and_stops_on_sigterm() {
    let data = tempfile::tempdir().unwrap();
    let start = |data_dir: &std::path::Path| {
        let mut child = einvoice()
            .args(["sandbox", "--port", "0", "--taxpayers", "3", "--data-dir"])
            .arg(data_dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        (child, stdout)
    };
    let base_of = |stdout: std::process::ChildStdout| async move {
        let line = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).unwrap();
            line
        })
        .await
        .unwrap();
        let base = line.trim().rsplit(' ').next().unwrap().to_string();
        assert!(base.starts_with("http://127.0.0.1:"), "{line}");
        base
    };
    let keys = |base: String| async move {
        let pem = reqwest::get(format!("{base}/keys/encryption-public-key.pem"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let certificate = reqwest::get(format!("{base}/keys/signing-certificate.pem"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        (pem, certificate)
    };
    // The keys clients cache survive a restart: the state lives in the data directory.
    let (mut first, stdout) = start(data.path());
    let first_keys = keys(base_of(stdout).await).await;
    process::terminate(&first);
    assert!(first.wait().unwrap().success());
    assert!(data.path().join("irp-sandbox.db").exists());
    let (mut child, stdout) = start(data.path());
    let base = base_of(stdout).await;
    let (pem, _) = keys(base.clone()).await;
    assert_eq!(
        keys(base.clone()).await,
        first_keys,
        "new keys after a restart"
    );
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"));
    let gsps = reqwest::get(format!("{base}/portal/gsps")).await.unwrap();
    assert_eq!(gsps.status(), 200);
    let controls = reqwest::get(format!("{base}/sandbox/counters"))
        .await
        .unwrap();
    assert_eq!(controls.status(), 404, "test controls are off by default");
    process::terminate(&child);
    assert!(child.wait().unwrap().success());
}

#[test]
fn credentials_import_reads_a_csv_and_writes_a_report() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("creds.csv");
    std::fs::write(
        &csv,
        "gstin,username,password,owner_id\n29AAFCD5862R000,demouser01,\"Demo@1234,with comma\",\n24AAFCD5862R005,guj01,,\n07AAFCD5862R007,delhiuser1,Delhi@123,not-a-uuid\n02AMBPG7773M002,hpuser01,Hp@12345,6f1c2a7e-9d8b-4c3a-8e2f-1a2b3c4d5e6f\n",
    )
    .unwrap();
    let out = einvoice()
        .args(["credentials", "import", "--data-dir"])
        .arg(dir.path())
        .arg(&csv)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("4 rows: 2 stored, 2 refused"), "{stdout}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("4/4 rows"),
        "no progress bar"
    );
    let report = std::fs::read_to_string(dir.path().join("creds.report.csv")).unwrap();
    let lines: Vec<&str> = report.lines().collect();
    assert_eq!(
        lines[0],
        "row,gstin,owner_id,status,version,verification,message"
    );
    assert!(lines[1].contains(",STORED,1,"), "{report}");
    assert!(
        lines[2].contains(",ERROR,") && lines[2].contains("invalid_password"),
        "{report}"
    );
    assert!(lines[3].contains("not a UUID"), "{report}");
    assert!(
        lines[4].contains("6f1c2a7e-9d8b-4c3a-8e2f-1a2b3c4d5e6f,STORED"),
        "{report}"
    );
    assert!(!report.contains("Demo@1234"), "a password in the report");
}

fn scan(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

fn files_in(dir: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canary_secrets_never_reach_the_database_files_or_trace_logs() {
    let dir = tempfile::tempdir().unwrap();
    let nic_password = format!("Canary@{}", uuid_like());
    let user_password = format!("user-canary-{}", uuid_like());

    // A user (its password must only exist as an Argon2 hash).
    let mut add = einvoice()
        .args([
            "users",
            "add",
            "--email",
            "canary@example.com",
            "--data-dir",
        ])
        .arg(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    use std::io::Write;
    writeln!(add.stdin.take().unwrap(), "{user_password}").unwrap();
    assert!(add.wait().unwrap().success());

    let server = Server::start(dir.path(), &[("RUST_LOG", "trace")], &[]).await;
    let client = reqwest::Client::new();
    let token = client
        .post(server.url("/v2/auth/tokens"))
        .json(&json!({"email": "canary@example.com", "password": user_password, "label": "canary"}))
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), 201);
    let token = token.json::<serde_json::Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let owner = "6f1c2a7e-9d8b-4c3a-8e2f-1a2b3c4d5e6f";
    let stored = client
        .post(server.url("/v2/nic_credentials/store_nic_credentials"))
        .header("X-Cleartax-Auth-Token", &token)
        .header("owner_id", owner)
        .json(
            &json!({"gstin": "29AAFCD5862R000", "username": "canary01", "password": nic_password}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        stored.status(),
        404,
        "a token's account does not get sandbox owners created"
    );
    let owner = client
        .post(server.url("/v2/owners"))
        .header("X-Cleartax-Auth-Token", &token)
        .json(&json!({"kind": "GSTIN", "gstin": "29AAFCD5862R000"}))
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let stored = client
        .post(server.url("/v2/nic_credentials/store_nic_credentials"))
        .header("X-Cleartax-Auth-Token", &token)
        .header("owner_id", &owner)
        .json(
            &json!({"gstin": "29AAFCD5862R000", "username": "canary01", "password": nic_password}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(stored.status(), 200);
    let shown = client
        .get(server.url(&format!(
            "/v2/nic_credentials?owner_id={owner}&gstin=29AAFCD5862R000"
        )))
        .header("X-Cleartax-Auth-Token", &token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!shown.contains(&nic_password));

    // A verified demo user gives the gateway a live IRP session (AuthToken and Sek).
    let demo_owner = client
        .post(server.url("/v2/owners"))
        .header("X-Cleartax-Auth-Token", &token)
        .json(&json!({"kind": "GSTIN", "gstin": "29AAFCD5862R000"}))
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let verified: serde_json::Value = client
        .post(server.url("/v2/nic_credentials/store_nic_credentials?verify=true"))
        .header("X-Cleartax-Auth-Token", &token)
        .header("owner_id", &demo_owner)
        .json(
            &json!({"gstin": "29AAFCD5862R000", "username": "demouser01", "password": "Demo@1234"}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(verified["verification"]["status"], "VERIFIED", "{verified}");

    // Crash it (no graceful close): WAL and SHM stay on disk for the scan.
    let pid = server.pid();
    let logs = server.kill();
    // The embedded IRP sandbox's own state (left behind by the crash) names the session.
    let (irp_token, sek) = process::irp_session_of(pid).await;
    let files = files_in(dir.path());
    let names: Vec<String> = files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().any(|n| n.ends_with("-wal")), "{names:?}");
    assert!(names.iter().any(|n| n.ends_with("-shm")), "{names:?}");
    assert!(
        logs.contains("TRACE"),
        "logs were not captured at trace level"
    );
    let sek_b64 = base64_standard(&sek);
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        assert!(
            !bytes.windows(sek.len()).any(|w| w == sek.as_slice()),
            "raw session key in {}",
            file.display()
        );
    }
    for secret in [
        &nic_password,
        &user_password,
        &token,
        &token[5..].to_string(),
        &irp_token,
        &sek_b64,
    ] {
        assert!(!scan(logs.as_bytes(), secret), "secret in logs");
        for file in &files {
            if file.file_name().unwrap() == "master.key" {
                continue;
            }
            assert!(
                !scan(&std::fs::read(file).unwrap(), secret),
                "secret in {}",
                file.display()
            );
        }
    }

    // Restart: the acknowledged write survived the crash and still decrypts.
    let server = Server::start(dir.path(), &[], &[]).await;
    let again = client
        .get(server.url(&format!(
            "/v2/nic_credentials?owner_id={owner}&gstin=29AAFCD5862R000"
        )))
        .header("X-Cleartax-Auth-Token", &token)
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(again["version"], 1);
    server.stop();
    assert_eq!(
        process::reveal(dir.path(), &owner, "29AAFCD5862R000").await,
        nic_password
    );
}

/// The gateway asks the kernel for no transparent huge pages (its heap would otherwise be
/// resident in whole 2 MiB pages); the kernel reports the flag for the process.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_runs_without_transparent_huge_pages() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[], &[]).await;
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.pid())).unwrap();
    server.stop();
    assert!(
        status.lines().any(|line| line == "THP_enabled:\t0"),
        "{status}"
    );
}

fn base64_standard(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn uuid_like() -> String {
    format!(
        "{:032x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_rotate_re_encrypts_everything_and_the_old_master_key_stops_working() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[], &[]).await;
    let client = reqwest::Client::new();
    let mut owners = Vec::new();
    for i in 0..5 {
        let owner = format!("00000000-0000-4000-8000-00000000000{i}");
        let r = client
            .post(server.url("/v2/nic_credentials/store_nic_credentials"))
            .header("owner_id", &owner)
            .json(&json!({"gstin": "29AAFCD5862R000", "username": format!("apiuser0{i}"), "password": format!("Pass@{i}")}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        owners.push(owner);
    }
    server.stop();

    let out = einvoice()
        .args(["keys", "rotate", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains("vault key version 2 is current; 5 credentials re-encrypted"),
        "{stdout}"
    );

    let new_key = dir.path().join("new-master.key");
    let out = einvoice()
        .args(["keys", "rotate", "--data-dir"])
        .arg(dir.path())
        .arg("--new-master-key-file")
        .arg(&new_key)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The old master key (the generated sandbox one) no longer opens the vault.
    let refused = einvoice()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("does not open vault key version"));
    std::fs::rename(&new_key, dir.path().join("master.key")).unwrap();
    for (i, owner) in owners.iter().enumerate() {
        assert_eq!(
            process::reveal(dir.path(), owner, "29AAFCD5862R000").await,
            format!("Pass@{i}")
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_refuses_to_start_without_a_key_or_with_a_wrong_one() {
    let dir = tempfile::tempdir().unwrap();
    let out = einvoice()
        .args([
            "serve",
            "--mode",
            "production",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
        ])
        .arg(dir.path())
        .env_remove("EINVOICE_MASTER_KEY")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("production mode needs a master key"));
    assert!(
        !dir.path().join("master.key").exists(),
        "production generated a key"
    );

    let key_file = dir.path().join("prod.key");
    std::fs::write(&key_file, process::random_key()).unwrap();
    let key_arg = key_file.to_string_lossy().to_string();
    let server = Server::start(
        dir.path(),
        &[
            ("EINVOICE_MODE", "production"),
            ("EINVOICE_MASTER_KEY_FILE", &key_arg),
        ],
        &[],
    )
    .await;
    server.stop();
    let db_before = std::fs::read(dir.path().join("einvoice.db")).unwrap();
    let wrong = einvoice()
        .args([
            "serve",
            "--mode",
            "production",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
        ])
        .arg(dir.path())
        .env("EINVOICE_MASTER_KEY", process::random_key())
        .output()
        .unwrap();
    assert!(!wrong.status.success());
    let stderr = String::from_utf8_lossy(&wrong.stderr);
    assert!(
        stderr.contains("does not open vault key version 1")
            && stderr.contains("nothing was changed"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read(dir.path().join("einvoice.db")).unwrap(),
        db_before,
        "the database changed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_commands_create_users_tokens_and_owners_for_a_production_gateway() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("prod.key");
    std::fs::write(&key_file, process::random_key()).unwrap();
    let key_arg = key_file.to_string_lossy().to_string();
    let env = [
        ("EINVOICE_MODE", "production"),
        ("EINVOICE_MASTER_KEY_FILE", key_arg.as_str()),
    ];
    let run = |args: &[&str]| {
        let out = einvoice()
            .args(args)
            .arg("--data-dir")
            .arg(dir.path())
            .envs(env)
            .env("EINVOICE_USER_PASSWORD", "a long password 1")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    assert!(run(&["users", "add", "--email", "erp@example.com"]).starts_with("user "));
    let created = run(&[
        "tokens",
        "create",
        "--email",
        "erp@example.com",
        "--label",
        "ERP",
    ]);
    let token = created
        .lines()
        .find_map(|l| l.strip_prefix("token (shown once): "))
        .unwrap()
        .to_string();
    let token_id = created
        .lines()
        .find_map(|l| l.strip_prefix("token id: "))
        .unwrap()
        .to_string();
    let owner_line = run(&[
        "owners",
        "add",
        "--email",
        "erp@example.com",
        "--kind",
        "GSTIN",
        "--gstin",
        "29AAFCD5862R1ZR",
    ]);
    let owner = owner_line.split_whitespace().nth(1).unwrap().to_string();
    assert!(run(&["owners", "list", "--email", "erp@example.com"]).contains("29AAFCD5862R1ZR"));

    let server = Server::start(dir.path(), &env, &[]).await;
    let client = reqwest::Client::new();
    let store = |token: String| {
        client
            .post(server.url("/v2/nic_credentials/store_nic_credentials"))
            .header("X-Cleartax-Auth-Token", token)
            .header("owner_id", &owner)
            .json(&json!({"gstin": "29AAFCD5862R1ZR", "username": "apiuser01", "password": "Secret@123"}))
            .send()
    };
    assert_eq!(store(token.clone()).await.unwrap().status(), 200);
    assert!(run(&["tokens", "list", "--email", "erp@example.com"]).contains("live"));
    assert!(
        run(&["tokens", "revoke", "--email", "erp@example.com", &token_id]).contains("revoked")
    );
    assert_eq!(store(token).await.unwrap().status(), 401);
    server.stop();
    let migrate = einvoice()
        .args(["migrate", "--data-dir"])
        .arg(dir.path())
        .envs(env)
        .output()
        .unwrap();
    assert!(migrate.status.success());
    assert_eq!(
        String::from_utf8_lossy(&migrate.stdout).trim(),
        "migrations applied"
    );
}

/// The README's quick start: serve with the embedded defaults, `einvoice sandbox-user create`
/// against it, then one generate with `docs/demo-invoice-one-click.json`.
#[tokio::test]
async fn quick_start_one_click_sandbox_user_then_generate() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[], &[]).await;
    let created = tokio::task::spawn_blocking({
        let gateway = server.url("");
        move || {
            einvoice()
                .args(["sandbox-user", "create", "--gateway", &gateway])
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    let printed = String::from_utf8_lossy(&created.stdout).to_string();
    assert!(
        created.status.success(),
        "{printed} {}",
        String::from_utf8_lossy(&created.stderr)
    );
    assert!(printed.contains("gstin: 29AAGCE4321K001"), "{printed}");
    assert!(printed.contains("status: VERIFIED"), "{printed}");
    assert!(!printed.contains("Sb1@"), "the password was printed");
    let body = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/demo-invoice-one-click.json"
    ))
    .unwrap();
    let generated: serde_json::Value = reqwest::Client::new()
        .put(server.url("/v2/eInvoice/generate"))
        .header("gstin", "29AAGCE4321K001")
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        generated[0]["document_status"], "IRN_GENERATED",
        "{generated}"
    );
    server.stop();
}

/// `einvoice sandbox --irps 2`: NIC1 and NIC2 on two ports over one registry (the same keys),
/// each with its own faults.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_serves_two_irps_over_one_registry() {
    let mut child = einvoice()
        .args([
            "sandbox",
            "--port",
            "0",
            "--irps",
            "2",
            "--ephemeral",
            "--test-controls",
            "--taxpayers",
            "0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let lines = tokio::task::spawn_blocking(move || {
        let mut reader = std::io::BufReader::new(stdout);
        let mut lines = Vec::new();
        for _ in 0..2 {
            let mut line = String::new();
            std::io::BufRead::read_line(&mut reader, &mut line).unwrap();
            lines.push(line.trim().to_string());
        }
        lines
    })
    .await
    .unwrap();
    assert!(lines[0].contains(" NIC1 listening on http://"), "{lines:?}");
    assert!(lines[1].contains(" NIC2 listening on http://"), "{lines:?}");
    let bases: Vec<String> = lines
        .iter()
        .map(|l| l.rsplit(' ').next().unwrap().to_string())
        .collect();
    assert_ne!(bases[0], bases[1]);
    let key = |base: String| async move {
        reqwest::get(format!("{base}/keys/encryption-public-key.pem"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    assert_eq!(key(bases[0].clone()).await, key(bases[1].clone()).await);
    // A fault injected at NIC2 stays at NIC2.
    let client = reqwest::Client::new();
    let injected = client
        .post(format!("{}/sandbox/faults", bases[1]))
        .json(&json!({"kind": "http_status", "status": 503, "operation": "auth", "count": 5}))
        .send()
        .await
        .unwrap();
    assert!(injected.status().is_success());
    let auth_at = |base: &str| {
        client
            .post(format!("{base}/eivital/v1.04/auth"))
            .json(&json!({"Data": "x"}))
            .send()
    };
    assert_eq!(auth_at(&bases[1]).await.unwrap().status(), 503);
    assert_ne!(auth_at(&bases[0]).await.unwrap().status(), 503);
    process::terminate(&child);
    assert!(child.wait().unwrap().success());
}
