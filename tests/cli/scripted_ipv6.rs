use super::*;
use std::time::{Duration, SystemTime};
use support::scripted::{Behaviour, Scripted};

/// Over IPv6, passive mode is EPSV and active mode is EPRT (PORT cannot name an IPv6 host).
#[test]
fn ipv6_passive_uses_epsv_and_active_uses_eprt() {
    let srv = Scripted::start(Behaviour {
        epsv: true,
        ipv6: true,
        ..Behaviour::default()
    });
    srv.put_file(
        "d/f.txt",
        b"over ipv6",
        SystemTime::now() - Duration::from_secs(600),
    );
    let home = tempfile::tempdir().unwrap();
    for (dir, extra) in [("passive", None), ("active", Some("--active"))] {
        let local = home.path().join(dir);
        let mut args = vec!["pull", "-j", "1"];
        args.extend(extra);
        let url = srv.url();
        args.extend([url.as_str(), local.to_str().unwrap()]);
        let out = run_in(home.path(), &args, &[]);
        assert_eq!(out.code, 0, "{dir}: {}", out.all());
        assert_eq!(fs::read(local.join("d/f.txt")).unwrap(), b"over ipv6");
    }
    let log = srv.log();
    assert!(log.iter().any(|c| c == "EPSV"), "{log:?}");
    assert!(
        !log.iter().any(|c| c == "PASV" || c.starts_with("PORT")),
        "{log:?}"
    );
    assert!(log.iter().any(|c| c.starts_with("EPRT |2|::1|")), "{log:?}");
}
