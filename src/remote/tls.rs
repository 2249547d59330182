//! FTPS client configuration: one rustls `ClientConfig` per run. Each session takes it with a
//! TLS session store of its own, so its data connections resume its control connection's TLS
//! session (vsftpd's `require_ssl_reuse=YES` demands it, per FTP session).
//!
//! Certificates are checked against the system roots plus `--ca-file`, with the host name,
//! unless `--pin-sha256` pins the server's certificate (the answer to self-signed hosting
//! certificates) or `--insecure` turns checking off.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// AUTH TLS on the plain control connection (RFC 4217), port 21 by default.
    Explicit,
    /// TLS from the first byte, port 990 by default.
    Implicit,
}

/// TLS for one endpoint: the mode and the run's shared client configuration.
#[derive(Debug, Clone)]
pub struct TlsSetup {
    pub mode: TlsMode,
    pub config: Arc<ClientConfig>,
    /// `--insecure`: every run says so.
    pub insecure: bool,
}

/// What the user asked for; turned into a `ClientConfig` once per run.
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    pub ca_files: Vec<PathBuf>,
    /// SHA-256 fingerprints of accepted server certificates.
    pub pins: Vec<[u8; 32]>,
    pub insecure: bool,
}

/// Parses a SHA-256 certificate fingerprint: 64 hex digits, colons allowed, as
/// `openssl x509 -fingerprint -sha256` prints it.
pub fn parse_pin(s: &str) -> Result<[u8; 32], String> {
    let hex: String = s.trim().chars().filter(|c| *c != ':').collect();
    let hex = hex.strip_prefix("sha256:").unwrap_or(&hex).to_string();
    if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!(
            "'{s}' is not a SHA-256 fingerprint (64 hex digits, colons allowed)"
        ));
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|e| e.to_string())?;
    }
    Ok(out)
}

/// "AB:CD:...", as `openssl x509 -fingerprint -sha256` prints it.
pub fn fingerprint(cert: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, cert);
    digest
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The system's trusted roots plus the `ca_files`.
fn roots(ca_files: &[PathBuf]) -> Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for cert in native.certs {
        // A broken certificate in the system store is not the user's problem here.
        let _ = roots.add(cert);
    }
    for file in ca_files {
        let certs = load_certs(file)?;
        for cert in certs {
            roots
                .add(cert)
                .with_context(|| format!("unusable CA certificate in {}", file.display()))?;
        }
    }
    Ok(roots)
}

fn load_certs(file: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(file)
        .with_context(|| format!("cannot read CA file {}", file.display()))?
        .collect::<Result<_, _>>()
        .with_context(|| format!("cannot parse CA file {}", file.display()))?;
    if certs.is_empty() {
        bail!("no PEM certificate in CA file {}", file.display());
    }
    Ok(certs)
}

/// Builds the run's shared client configuration.
pub fn client_config(opts: &TlsOptions) -> Result<Arc<ClientConfig>> {
    let provider = provider();
    let webpki = if opts.insecure || !opts.pins.is_empty() {
        None
    } else {
        let roots = Arc::new(roots(&opts.ca_files)?);
        if roots.is_empty() {
            bail!(
                "no trusted CA certificates: the system has none; give one with --ca-file or pin the server with --pin-sha256"
            );
        }
        Some(
            WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
                .build()
                .context("cannot build the certificate verifier")?,
        )
    };
    let verifier = Arc::new(Verifier {
        webpki,
        pins: opts.pins.clone(),
        insecure: opts.insecure,
        algorithms: provider.signature_verification_algorithms,
    });
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Checks the server certificate by pin, or by chain and name; failures name the certificate's
/// fingerprint, so a user with a self-signed certificate knows what to pin.
struct Verifier {
    webpki: Option<Arc<WebPkiServerVerifier>>,
    pins: Vec<[u8; 32]>,
    insecure: bool,
    algorithms: WebPkiSupportedAlgorithms,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("pins", &self.pins.len())
            .field("insecure", &self.insecure)
            .finish()
    }
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if self.insecure {
            return Ok(ServerCertVerified::assertion());
        }
        let fp = fingerprint(end_entity);
        if !self.pins.is_empty() {
            let digest = ring::digest::digest(&ring::digest::SHA256, end_entity);
            return if self.pins.iter().any(|p| p[..] == *digest.as_ref()) {
                Ok(ServerCertVerified::assertion())
            } else {
                Err(rustls::Error::General(format!(
                    "the server certificate matches no --pin-sha256 (its SHA-256 is {fp})"
                )))
            };
        }
        let webpki = self.webpki.as_ref().expect("a chain verifier without pins");
        webpki
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
            .map_err(|e| {
                rustls::Error::General(format!(
                    "certificate verification failed: {e} (the server's certificate SHA-256 is {fp}; \
                     trust its CA with --ca-file or pin it with --pin-sha256)"
                ))
            })
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_parse_with_or_without_colons() {
        let hex = "AB".repeat(32);
        let colons = vec!["ab"; 32].join(":");
        assert_eq!(parse_pin(&hex).unwrap(), [0xAB; 32]);
        assert_eq!(parse_pin(&colons).unwrap(), [0xAB; 32]);
        assert!(parse_pin("abc").is_err());
        assert!(parse_pin(&"zz".repeat(32)).is_err());
    }

    #[test]
    fn fingerprint_is_openssl_style() {
        let fp = fingerprint(b"");
        assert!(fp.starts_with("E3:B0:C4:42"), "{fp}");
        assert_eq!(fp.len(), 32 * 3 - 1);
    }
}
