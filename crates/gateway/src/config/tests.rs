//! Settings: defaults, layering, validation, and the README's table.
use super::*;

#[test]
fn defaults_are_a_local_sandbox() {
    let s = Settings::resolve(SettingsLayer::default()).unwrap();
    assert_eq!(s.mode, Mode::Sandbox);
    assert_eq!(s.database_url, "sqlite://./data/einvoice.db");
    assert!(matches!(
        s.master_key,
        MasterKeySource::GeneratedInDataDir(_)
    ));
}

#[test]
fn reads_a_toml_file_and_rejects_unknown_keys() {
    let dir = std::env::temp_dir().join(format!("einvoice-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("good.toml");
    std::fs::write(
        &good,
        "mode = \"production\"\nlisten = \"0.0.0.0:9000\"\nmaster_key_file = \"/k\"\n",
    )
    .unwrap();
    let s =
        Settings::resolve(SettingsLayer::layered(Some(&good), SettingsLayer::default()).unwrap())
            .unwrap();
    assert_eq!(s.mode, Mode::Production);
    assert_eq!(s.listen.port(), 9000);
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "mdoe = \"sandbox\"\n").unwrap();
    let err = SettingsLayer::layered(Some(&bad), SettingsLayer::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("mdoe"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_readme_documents_every_setting() {
    let readme = include_str!("../../../../README.md");
    let documented: std::collections::BTreeSet<String> = readme
        .lines()
        .skip_while(|l| !l.starts_with("| Setting (TOML key)"))
        .take_while(|l| l.starts_with('|'))
        .filter(|l| l.starts_with("| `"))
        .flat_map(|l| {
            let first = l.split('|').nth(1).unwrap_or("");
            first
                .split('`')
                .skip(1)
                .step_by(2)
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect();
    let declared: std::collections::BTreeSet<String> =
        figment::value::Value::serialize(SettingsLayer::default())
            .unwrap()
            .into_dict()
            .unwrap()
            .into_keys()
            .collect();
    assert!(declared.len() > 20);
    let missing: Vec<_> = declared.difference(&documented).collect();
    let unknown: Vec<_> = documented.difference(&declared).collect();
    assert!(
        missing.is_empty(),
        "settings missing from the README: {missing:?}"
    );
    assert!(
        unknown.is_empty(),
        "README rows that are no setting: {unknown:?}"
    );
}

#[test]
fn trusted_proxies_take_addresses_and_ranges_and_refuse_names() {
    let s = Settings::resolve(SettingsLayer {
        trusted_proxies: Some(vec![
            "10.0.0.0/8".into(),
            "::1".into(),
            " 192.0.2.7 ".into(),
        ]),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(s.trusted_proxies.len(), 3);
    assert!(s.trusted_proxies[0].contains(&"10.1.2.3".parse::<std::net::IpAddr>().unwrap()));
    let bad = Settings::resolve(SettingsLayer {
        trusted_proxies: Some(vec!["proxy.local".into()]),
        ..Default::default()
    });
    assert!(bad.unwrap_err().to_string().contains("trusted_proxies"));
}

#[test]
fn irp_timeouts_default_to_5_and_30_seconds_and_refuse_zero() {
    let s = Settings::resolve(SettingsLayer::default()).unwrap();
    assert_eq!(s.irp_connect_timeout, Duration::from_secs(5));
    assert_eq!(s.irp_request_timeout, Duration::from_secs(30));
    let set = Settings::resolve(SettingsLayer {
        irp_connect_timeout_secs: Some(2),
        irp_request_timeout_secs: Some(9),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(set.irp_connect_timeout, Duration::from_secs(2));
    assert_eq!(set.irp_request_timeout, Duration::from_secs(9));
    let zero = Settings::resolve(SettingsLayer {
        irp_request_timeout_secs: Some(0),
        ..Default::default()
    });
    assert!(zero
        .unwrap_err()
        .to_string()
        .contains("irp_request_timeout_secs"));
}

#[test]
fn production_refuses_to_start_without_a_key_and_flags_beat_the_file() {
    let prod = SettingsLayer {
        mode: Some("production".into()),
        ..Default::default()
    };
    assert!(Settings::resolve(prod.clone()).is_err());
    let dir = std::env::temp_dir().join(format!("einvoice-layers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("settings.toml");
    std::fs::write(&file, "mode = \"sandbox\"\nbody_limit_bytes = 2048\n").unwrap();
    let top = SettingsLayer {
        master_key_file: Some("k".into()),
        ..prod
    };
    let merged = SettingsLayer::layered(Some(&file), top).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let s = Settings::resolve(merged).unwrap();
    assert_eq!(s.mode, Mode::Production);
    assert_eq!(s.body_limit_bytes, 2048);
    let both = SettingsLayer {
        master_key: Some(SecretString::from("x".to_string())),
        master_key_file: Some("k".into()),
        ..Default::default()
    };
    assert!(Settings::resolve(both).is_err());
}

#[test]
fn irp_base_url_names_one_irp_or_several_in_order() {
    assert_eq!(
        IrpEndpoint::parse_list("https://irp.example").unwrap(),
        IrpEndpoint::only("https://irp.example")
    );
    let both = IrpEndpoint::parse_list("nic1=https://a.example, NIC2=https://b.example").unwrap();
    assert_eq!(
        both.iter()
            .map(|e| (e.name.as_str(), e.base_url.as_str()))
            .collect::<Vec<_>>(),
        [("NIC1", "https://a.example"), ("NIC2", "https://b.example")]
    );
    for bad in [
        "NIC1=https://a,NIC1=https://b",
        "NIC1=https://a,https://b",
        "N-1=https://a",
    ] {
        assert!(IrpEndpoint::parse_list(bad).is_err(), "{bad}");
    }
}
