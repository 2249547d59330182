//! A throwaway CA and a server certificate for 127.0.0.1 and localhost, made for each test.

use std::path::{Path, PathBuf};

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, SanType};

pub struct Pki {
    pub ca_pem: PathBuf,
    pub cert_pem: PathBuf,
    pub key_pem: PathBuf,
    /// SHA-256 of the server certificate, "AB:CD:..." as ftpmirror and openssl print it.
    pub fingerprint: String,
}

pub fn make(dir: &Path) -> Pki {
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "ftpmirror test CA");
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();

    let mut server = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    server
        .subject_alt_names
        .push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
    server
        .distinguished_name
        .push(DnType::CommonName, "ftpmirror test server");
    let key = KeyPair::generate().unwrap();
    let cert = server.signed_by(&key, &ca).unwrap();

    let pki = Pki {
        ca_pem: dir.join("ca.pem"),
        cert_pem: dir.join("server.pem"),
        key_pem: dir.join("server.key"),
        fingerprint: ftpmirror::certificate_fingerprint(cert.der()),
    };
    std::fs::write(&pki.ca_pem, ca.pem()).unwrap();
    std::fs::write(&pki.cert_pem, cert.pem()).unwrap();
    std::fs::write(&pki.key_pem, key.serialize_pem()).unwrap();
    pki
}
