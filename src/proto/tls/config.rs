//! rustls configurations for tls_attach_client and tls_attach_server.
//!
//! Client: the 2.6 API takes no host name and the original does not check
//! the server's certificate (programs rely on self-signed ones), so by
//! default only the handshake signatures are checked against the key in the
//! certificate. Verification is turned on from the environment, without
//! changing programs:
//! - `DILL_TLS_CA_FILE`: a PEM file of CA certificates; the server's chain
//!   must lead to one of them (dates, key usage, signatures).
//! - `DILL_TLS_SERVER_NAME`: the name (DNS name or IP address) sent as SNI
//!   and, when a CA file is set, the name the certificate must be valid
//!   for. Unset, the chain alone is verified.
//! `SSL_CERT_FILE` is left alone on purpose: it is often set system-wide,
//! and honouring it would break programs that worked with the original.
//!
//! Server: certificate chain and private key from PEM files. The last
//! configuration built is kept per thread and reused while both files are
//! unchanged, so accepting many connections parses them once.
//!
//! Neither side resumes sessions (no tickets, no cache): the original made
//! a fresh context per connection, and the server name is often unknown.

use core::ffi::CStr;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, Error, RootCertStore, ServerConfig, SignatureScheme};
use std::cell::RefCell;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::sync::Arc;

pub const CA_ENV: &str = "DILL_TLS_CA_FILE";
pub const NAME_ENV: &str = "DILL_TLS_SERVER_NAME";

/// The provider's suites, AES-128-GCM first: it is as safe in practice and about a
/// quarter cheaper than AES-256 per byte (the order BoringSSL and Go use).
/// A server picks in the client's order, so this holds on both sides.
static SUITES: &[rustls::SupportedCipherSuite] = {
    use rustls::crypto::ring::cipher_suite as cs;
    &[
        cs::TLS13_AES_128_GCM_SHA256,
        cs::TLS13_AES_256_GCM_SHA384,
        cs::TLS13_CHACHA20_POLY1305_SHA256,
        cs::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        cs::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        cs::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        cs::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        cs::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        cs::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ]
};

fn provider() -> Arc<CryptoProvider> {
    thread_local! {
        static P: Arc<CryptoProvider> = Arc::new(CryptoProvider {
            cipher_suites: SUITES.to_vec(),
            ..rustls::crypto::ring::default_provider()
        });
    }
    P.with(Arc::clone)
}

/// Checks handshake signatures only: the 2.6 default.
#[derive(Debug)]
struct SignaturesOnly(WebPkiSupportedAlgorithms);

/// Checks the chain against `roots`, and the name if one was configured.
#[derive(Debug)]
struct CaVerifier {
    roots: RootCertStore,
    algs: WebPkiSupportedAlgorithms,
    check_name: bool,
}

macro_rules! signatures {
    () => {
        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, Error> {
            rustls::crypto::verify_tls12_signature(message, cert, dss, self.algs())
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, Error> {
            rustls::crypto::verify_tls13_signature(message, cert, dss, self.algs())
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.algs().supported_schemes()
        }
    };
}

impl SignaturesOnly {
    fn algs(&self) -> &WebPkiSupportedAlgorithms {
        &self.0
    }
}

impl CaVerifier {
    fn algs(&self) -> &WebPkiSupportedAlgorithms {
        &self.algs
    }
}

impl ServerCertVerifier for SignaturesOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        Ok(ServerCertVerified::assertion())
    }
    signatures!();
}

impl ServerCertVerifier for CaVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let cert = rustls::server::ParsedCertificate::try_from(end_entity)?;
        rustls::client::verify_server_cert_signed_by_trust_anchor(&cert, &self.roots, intermediates, now, self.algs.all)?;
        if self.check_name {
            rustls::client::verify_server_name(&cert, server_name)?;
        }
        Ok(ServerCertVerified::assertion())
    }
    signatures!();
}

/// What a client connection is made with.
#[derive(Clone)]
pub struct Client {
    pub config: Arc<ClientConfig>,
    pub name: ServerName<'static>,
}

type ClientKey = (Option<OsString>, Option<OsString>);

fn build_client(ca: Option<&OsStr>, name: Option<&OsStr>) -> Result<Client, i32> {
    let prov = provider();
    let algs = prov.signature_verification_algorithms;
    let verifier: Arc<dyn ServerCertVerifier> = match ca {
        None => Arc::new(SignaturesOnly(algs)),
        Some(path) => {
            let mut roots = RootCertStore::empty();
            for c in CertificateDer::pem_file_iter(path).map_err(|_| libc::EINVAL)? {
                roots.add(c.map_err(|_| libc::EINVAL)?).map_err(|_| libc::EINVAL)?;
            }
            if roots.is_empty() {
                return Err(libc::EINVAL);
            }
            Arc::new(CaVerifier { roots, algs, check_name: name.is_some() })
        }
    };
    let server_name = match name {
        // An address that is never sent: rustls sends SNI for DNS names only.
        None => ServerName::IpAddress(rustls::pki_types::IpAddr::V4(rustls::pki_types::Ipv4Addr::from([0, 0, 0, 0]))),
        Some(n) => {
            let s = n.to_str().ok_or(libc::EINVAL)?;
            ServerName::try_from(s.to_owned()).map_err(|_| libc::EINVAL)?
        }
    };
    let mut config = ClientConfig::builder_with_provider(prov)
        .with_safe_default_protocol_versions()
        .map_err(|_| libc::EINVAL)?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    config.resumption = rustls::client::Resumption::disabled();
    Ok(Client { config: Arc::new(config), name: server_name })
}

/// The client configuration for the current environment (cached per thread
/// while the two variables keep their values). Err(EINVAL) when a CA file
/// is named but holds no usable certificate, or the name is malformed:
/// asking for verification and silently not getting it would be worse.
pub fn client() -> Result<Client, i32> {
    thread_local! {
        static C: RefCell<Option<(ClientKey, Client)>> = const { RefCell::new(None) };
    }
    let key: ClientKey = (
        std::env::var_os(CA_ENV).filter(|v| !v.is_empty()),
        std::env::var_os(NAME_ENV).filter(|v| !v.is_empty()),
    );
    C.with(|c| {
        let mut c = c.borrow_mut();
        if let Some((k, cl)) = c.as_ref() {
            if *k == key {
                return Ok(cl.clone());
            }
        }
        let cl = build_client(key.0.as_deref(), key.1.as_deref())?;
        *c = Some((key, cl.clone()));
        Ok(cl)
    })
}

/// Identity of a file's current contents, as far as stat tells.
fn stamp(path: &OsStr) -> Option<[i64; 5]> {
    let md = std::fs::metadata(path).ok()?;
    use std::os::unix::fs::MetadataExt;
    Some([md.dev() as i64, md.ino() as i64, md.size() as i64, md.mtime(), md.mtime_nsec()])
}

struct ServerKey {
    cert: OsString,
    key: OsString,
    stamps: [[i64; 5]; 2],
}

fn build_server(cert: &OsStr, key: &OsStr) -> Result<Arc<ServerConfig>, i32> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|_| libc::EINVAL)?
        .collect::<Result<_, _>>()
        .map_err(|_| libc::EINVAL)?;
    if chain.is_empty() {
        return Err(libc::EINVAL);
    }
    let pkey = PrivateKeyDer::from_pem_file(key).map_err(|_| libc::EINVAL)?;
    // with_single_cert checks that the key is usable and matches the certificate.
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|_| libc::EINVAL)?
        .with_no_client_auth()
        .with_single_cert(chain, pkey)
        .map_err(|_| libc::EINVAL)?;
    config.send_tls13_tickets = 0;
    config.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
    Ok(Arc::new(config))
}

/// The server configuration for certificate file `cert` and key file `key`
/// (paths). Err(EINVAL) when either cannot be read or used.
pub fn server(cert: &CStr, key: &CStr) -> Result<Arc<ServerConfig>, i32> {
    thread_local! {
        static S: RefCell<Option<(ServerKey, Arc<ServerConfig>)>> = const { RefCell::new(None) };
    }
    let cert = OsStr::from_bytes(cert.to_bytes());
    let key = OsStr::from_bytes(key.to_bytes());
    let stamps = [stamp(cert).ok_or(libc::EINVAL)?, stamp(key).ok_or(libc::EINVAL)?];
    S.with(|s| {
        let mut s = s.borrow_mut();
        if let Some((k, cfg)) = s.as_ref() {
            if k.cert == cert && k.key == key && k.stamps == stamps {
                return Ok(cfg.clone());
            }
        }
        let cfg = build_server(cert, key)?;
        *s = Some((ServerKey { cert: cert.to_owned(), key: key.to_owned(), stamps }, cfg.clone()));
        Ok(cfg)
    })
}
