//! The project PKI and mutual TLS over real loopback connections.

use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::routing::get;
use axum::{Extension, Router};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use server::pki::{self, Credentials, Identity, IssueOptions, Role};
use server::tls;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

fn options(role: Role, name: &str) -> IssueOptions {
    IssueOptions {
        role,
        name: name.to_owned(),
        hosts: Vec::new(),
        validity_days: 30,
        not_after_override: None,
    }
}

/// A project CA with a hub and a site certificate.
struct Project {
    ca: PathBuf,
    hub: PathBuf,
    site: PathBuf,
}

fn project(root: &Path, name: &str) -> Project {
    let ca = root.join(format!("{name}-ca"));
    pki::init(&ca, name).unwrap();
    let hub = root.join(format!("{name}-hub"));
    pki::issue(&ca, &options(Role::Hub, "hub"), &hub).unwrap();
    let site = root.join(format!("{name}-site"));
    pki::issue(&ca, &options(Role::Site, "hospital-a"), &site).unwrap();
    Project { ca, hub, site }
}

struct Server {
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl Server {
    async fn start(creds_dir: &Path) -> Server {
        let creds = Credentials::load(creds_dir).unwrap();
        Server::start_with(tls::server_config(&creds).unwrap()).await
    }

    async fn start_with(config: Arc<rustls::ServerConfig>) -> Server {
        let router = Router::new()
            .route(
                "/whoami",
                get(|Extension(peer): Extension<Identity>| async move { peer.to_string() }),
            )
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    "done"
                }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(tls::serve(listener, config, router, async move {
            let _ = stopped.await;
        }));
        Server { addr, stop, task }
    }

    fn url(&self) -> String {
        format!("https://127.0.0.1:{}/whoami", self.addr.port())
    }

    async fn stop(self) {
        self.stop.send(()).unwrap();
        let result = tokio::time::timeout(Duration::from_secs(10), self.task).await;
        result.expect("serve returns soon after shutdown").unwrap().unwrap();
    }
}

async fn whoami(client_dir: &Path, server: &Server) -> Result<String, reqwest::Error> {
    let creds = Credentials::load(client_dir).unwrap();
    let client = tls::client(&creds).unwrap();
    whoami_with(&client, server).await
}

async fn whoami_with(client: &reqwest::Client, server: &Server) -> Result<String, reqwest::Error> {
    client.get(server.url()).send().await?.error_for_status()?.text().await
}

fn ring() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn roots(ca_pem: &Path) -> Arc<rustls::RootCertStore> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from_pem_file(ca_pem).unwrap()).unwrap();
    Arc::new(roots)
}

fn cert_and_key(dir: &Path) -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
    (
        vec![CertificateDer::from_pem_file(dir.join("cert.pem")).unwrap()],
        PrivateKeyDer::from_pem_file(dir.join("key.pem")).unwrap(),
    )
}

/// A client presenting the certificate in `dir` and trusting the CA in `ca_pem`.
fn tls_client_by_hand(dir: &Path, ca_pem: &Path) -> reqwest::Client {
    let (certs, key) = cert_and_key(dir);
    let config = rustls::ClientConfig::builder_with_provider(ring())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots(ca_pem))
        .with_client_auth_cert(certs, key)
        .unwrap();
    reqwest::Client::builder()
        .tls_backend_preconfigured(config)
        .build()
        .unwrap()
}

/// A server presenting the certificate in `dir` and requiring clients of the CA in `ca_pem`.
fn server_config_by_hand(dir: &Path, ca_pem: &Path) -> Arc<rustls::ServerConfig> {
    let (certs, key) = cert_and_key(dir);
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(roots(ca_pem), ring())
        .build()
        .unwrap();
    let config = rustls::ServerConfig::builder_with_provider(ring())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(certs, key)
        .unwrap();
    Arc::new(config)
}

#[tokio::test]
async fn a_site_of_the_project_is_accepted_and_identified() {
    let dir = tempfile::tempdir().unwrap();
    let p = project(dir.path(), "demo");
    let server = Server::start(&p.hub).await;
    assert_eq!(whoami(&p.site, &server).await.unwrap(), "site:hospital-a");
    // A user and an aggregator are told apart by the role in their certificate.
    let user = dir.path().join("user");
    pki::issue(&p.ca, &options(Role::User, "alice"), &user).unwrap();
    assert_eq!(whoami(&user, &server).await.unwrap(), "user:alice");
    let aggregator = dir.path().join("agg");
    pki::issue(&p.ca, &options(Role::Aggregator, "agg-1"), &aggregator).unwrap();
    assert_eq!(whoami(&aggregator, &server).await.unwrap(), "aggregator:agg-1");
    server.stop().await;
}

#[tokio::test]
async fn foreign_expired_and_anonymous_clients_are_refused_and_the_server_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let p = project(dir.path(), "demo");
    let other = project(dir.path(), "other");
    let server = Server::start(&p.hub).await;

    // A site certificate from another CA, trusting our CA so that only the server can refuse
    // it (Credentials::load would refuse such a mix, so the client is built by hand).
    let foreign = tls_client_by_hand(&other.site, &p.ca.join("ca.pem"));
    assert!(
        whoami_with(&foreign, &server).await.is_err(),
        "a client from another CA is refused"
    );
    assert_eq!(whoami(&p.site, &server).await.unwrap(), "site:hospital-a");

    // An expired client certificate from the project CA.
    let expired = dir.path().join("expired");
    let mut opts = options(Role::Site, "hospital-b");
    opts.not_after_override = Some(SystemTime::now() - Duration::from_secs(86_400));
    pki::issue(&p.ca, &opts, &expired).unwrap();
    assert!(whoami(&expired, &server).await.is_err(), "an expired client is refused");
    assert_eq!(whoami(&p.site, &server).await.unwrap(), "site:hospital-a");

    // No client certificate at all, trusting the right CA.
    let anonymous = rustls::ClientConfig::builder_with_provider(ring())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots(&p.ca.join("ca.pem")))
        .with_no_client_auth();
    let anonymous = reqwest::Client::builder()
        .tls_backend_preconfigured(anonymous)
        .build()
        .unwrap();
    assert!(
        whoami_with(&anonymous, &server).await.is_err(),
        "a client without certificate is refused"
    );
    assert_eq!(whoami(&p.site, &server).await.unwrap(), "site:hospital-a");

    // A TCP client that never starts the handshake does not block other clients.
    let _idle = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    assert_eq!(whoami(&p.site, &server).await.unwrap(), "site:hospital-a");
    server.stop().await;
}

#[tokio::test]
async fn a_client_does_not_trust_a_server_from_another_ca() {
    let dir = tempfile::tempdir().unwrap();
    let p = project(dir.path(), "demo");
    let other = project(dir.path(), "other");
    // The other project's hub trusts our site's CA, so only the client side can refuse
    // (Credentials::load would refuse such a mix, so the server is configured by hand).
    let server = Server::start_with(server_config_by_hand(&other.hub, &p.ca.join("ca.pem"))).await;
    let refused = whoami(&p.site, &server).await.unwrap_err();
    assert!(refused.is_connect() || refused.is_request(), "{refused:?}");
    server.stop().await;
}

#[test]
fn key_files_are_private_and_nothing_is_overwritten() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let p = project(dir.path(), "demo");
    let mode = |path: PathBuf| fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(p.ca.join("ca-key.pem")), 0o600);
    assert_eq!(mode(p.site.join("key.pem")), 0o600);
    assert_eq!(
        mode(p.site.join("cert.pem")) & 0o077,
        0o044,
        "certificates stay readable"
    );

    let before = fs::read(p.site.join("key.pem")).unwrap();
    let err = pki::issue(&p.ca, &options(Role::Site, "hospital-a"), &p.site).unwrap_err();
    assert!(format!("{err:#}").contains("already exists"), "{err:#}");
    assert_eq!(fs::read(p.site.join("key.pem")).unwrap(), before);
    let err = pki::init(&p.ca, "demo").unwrap_err();
    assert!(format!("{err:#}").contains("ca.pem already exists"), "{err:#}");
}

#[test]
fn loading_refuses_a_readable_key_and_names_missing_files() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let p = project(dir.path(), "demo");
    let key = p.site.join("key.pem");
    fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).unwrap();
    let err = Credentials::load(&p.site).unwrap_err();
    assert!(
        format!("{err:#}").contains("key.pem") && format!("{err:#}").contains("chmod 600"),
        "{err:#}"
    );

    let err = Credentials::load(&dir.path().join("nowhere")).unwrap_err();
    assert!(format!("{err:#}").contains("cert.pem"), "{err:#}");

    // A certificate from another CA next to our CA's certificate.
    let other = project(&dir.path().join("o"), "other");
    fs::remove_file(other.site.join("ca.pem")).unwrap();
    fs::copy(p.ca.join("ca.pem"), other.site.join("ca.pem")).unwrap();
    let err = format!("{:#}", Credentials::load(&other.site).unwrap_err());
    assert!(err.contains("is not a certificate of the CA in"), "{err}");

    // A CA key readable by others is refused when issuing.
    fs::set_permissions(p.ca.join("ca-key.pem"), fs::Permissions::from_mode(0o640)).unwrap();
    let err = pki::issue(&p.ca, &options(Role::Site, "s2"), &dir.path().join("s2")).unwrap_err();
    assert!(format!("{err:#}").contains("ca-key.pem"), "{err:#}");

    // A CA directory is not a party directory.
    let err = Credentials::load(&p.ca).unwrap_err();
    assert!(format!("{err:#}").contains("cert.pem"), "{err:#}");
}

#[test]
fn debug_output_of_credentials_contains_no_key_material() {
    let dir = tempfile::tempdir().unwrap();
    let p = project(dir.path(), "demo");
    let creds = Credentials::load(&p.site).unwrap();
    let shown = format!("{creds:?} {creds:#?}");
    assert!(shown.contains("site:hospital-a"), "{shown}");
    let pem = fs::read_to_string(p.site.join("key.pem")).unwrap();
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    // No 16-character run of the base64 key, nor its raw bytes, appears.
    for start in (0..body.len().saturating_sub(16)).step_by(8) {
        assert!(
            !shown.contains(&body[start..start + 16]),
            "key material leaked: {shown}"
        );
    }
    assert!(!shown.to_lowercase().contains("private"), "{shown}");
    assert!(!shown.contains("Pkcs8"), "{shown}");
}

#[test]
fn identities_come_from_the_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let p = project(dir.path(), "demo");
    let site = Credentials::load(&p.site).unwrap();
    assert_eq!(
        site.identity(),
        &Identity {
            role: Role::Site,
            name: "hospital-a".into()
        }
    );
    assert_eq!(pki::peer_identity(site.cert()).unwrap().to_string(), "site:hospital-a");
    let hub = Credentials::load(&p.hub).unwrap();
    assert_eq!(hub.identity().to_string(), "hub:hub");
    // The CA certificate carries no party identity.
    let err = pki::peer_identity(site.ca()).unwrap_err();
    assert!(format!("{err:#}").contains("subjectAltName"), "{err:#}");
    let err = pki::peer_identity(&CertificateDer::from(vec![0x30, 0x03, 1, 2, 3])).unwrap_err();
    assert!(format!("{err:#}").contains("X.509"), "{err:#}");
}

#[test]
fn invalid_names_roles_and_hosts_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let too_long = "a".repeat(65);
    for bad in ["", "a/b", "..", ".", "x y", "hôpital", "a:b", too_long.as_str()] {
        assert!(pki::validate_name(bad).is_err(), "{bad:?} accepted");
        let err = pki::init(&dir.path().join("ca-bad"), bad).unwrap_err();
        assert!(format!("{err:#}").contains("invalid name"), "{err:#}");
    }
    for good in ["a", "hospital-a", "site_1.eu", &"z".repeat(64)] {
        pki::validate_name(good).unwrap();
    }
    let ca = dir.path().join("ca");
    pki::init(&ca, "demo").unwrap();
    assert!(pki::issue(&ca, &options(Role::Site, "a/b"), &dir.path().join("x")).is_err());
    assert!(!dir.path().join("x").exists(), "nothing written for a refused name");

    let mut site_with_host = options(Role::Site, "s");
    site_with_host.hosts = vec!["example.org".into()];
    assert!(pki::issue(&ca, &site_with_host, &dir.path().join("s")).is_err());
    let mut bad_host = options(Role::Hub, "hub");
    bad_host.hosts = vec!["bad host".into()];
    assert!(pki::issue(&ca, &bad_host, &dir.path().join("h")).is_err());
    let mut zero_days = options(Role::Site, "s");
    zero_days.validity_days = 0;
    assert!(pki::issue(&ca, &zero_days, &dir.path().join("z")).is_err());

    for role in Role::ALL {
        assert_eq!(role.to_string().parse::<Role>().unwrap(), role);
        assert_eq!(serde_json::to_string(&role).unwrap(), format!("\"{role}\""));
    }
    assert!("admin".parse::<Role>().is_err());
    assert!(Identity::from_urn("urn:synthema:site:a/b").is_err());
    assert_eq!(Identity::from_urn("urn:synthema:hub:h1").unwrap().to_string(), "hub:h1");
}

#[tokio::test]
async fn a_hub_serves_on_the_hosts_it_was_issued_for() {
    let dir = tempfile::tempdir().unwrap();
    let p = project(dir.path(), "demo");
    let hub = dir.path().join("hub-named");
    let mut opts = options(Role::Hub, "hub-2");
    opts.hosts = vec!["hub.example.org".into()];
    pki::issue(&p.ca, &opts, &hub).unwrap();
    let server = Server::start(&hub).await;
    // 127.0.0.1 is not among its names: the client refuses the server.
    assert!(whoami(&p.site, &server).await.is_err());
    server.stop().await;
}

#[tokio::test]
async fn shutdown_lets_a_request_in_flight_finish_then_refuses_new_connections() {
    let dir = tempfile::tempdir().unwrap();
    let p = project(dir.path(), "demo");
    let server = Server::start(&p.hub).await;
    let client = tls::client(&Credentials::load(&p.site).unwrap()).unwrap();
    let slow = tokio::spawn({
        let client = client.clone();
        let url = format!("https://127.0.0.1:{}/slow", server.addr.port());
        async move { client.get(url).send().await?.text().await }
    });
    // A connection stuck before its handshake must not hold the shutdown up.
    let _idle = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    let addr = server.addr;
    let started = std::time::Instant::now();
    server.stop().await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "shutdown took {:?}",
        started.elapsed()
    );
    assert_eq!(slow.await.unwrap().unwrap(), "done");
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "the listener is closed"
    );
}

#[tokio::test]
async fn a_client_can_require_the_role_of_its_server() {
    let dir = tempfile::tempdir().unwrap();
    let p = project(dir.path(), "demo");
    let aggregator = dir.path().join("agg");
    pki::issue(&p.ca, &options(Role::Aggregator, "agg-1"), &aggregator).unwrap();
    let hub = Server::start(&p.hub).await;
    let impostor = Server::start(&aggregator).await;
    let site = Credentials::load(&p.site).unwrap();
    let to_hub = tls::client_for(&site, &[Role::Hub]).unwrap();
    assert_eq!(whoami_with(&to_hub, &hub).await.unwrap(), "site:hospital-a");
    // Same CA, same host name, valid serverAuth certificate: refused for its role only.
    assert!(whoami_with(&to_hub, &impostor).await.is_err());
    let to_either = tls::client_for(&site, &[Role::Hub, Role::Aggregator]).unwrap();
    assert_eq!(whoami_with(&to_either, &impostor).await.unwrap(), "site:hospital-a");
    hub.stop().await;
    impostor.stop().await;
}
