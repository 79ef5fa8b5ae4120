//! Mutual TLS for every connection of a project: a server that requires a client certificate
//! from the project CA and hands the verified peer [`Identity`] to the handlers, and a client
//! that trusts the project CA only and presents its own certificate.
//!
//! Both sides use rustls with the `ring` provider passed explicitly (never the process-wide
//! default) and TLS 1.2 or 1.3. The only trust anchor is the CA certificate pinned in the
//! party's credentials directory: no system or webpki roots.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, anyhow};
use axum::{Extension, Router};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use hyper_util::service::TowerToHyperService;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::server::WebPkiClientVerifier;
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, OtherError, RootCertStore, ServerConfig, SignatureScheme,
};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use crate::pki::{Credentials, Role, peer_identity};

/// Longest time a client may take to complete the TLS handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest time a client may take to send the headers of a request.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// How long [`serve`] waits for open connections to finish after shutdown is requested.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);
/// Most connections [`serve`] handles at once (handshaking or open); beyond, it stops accepting
/// until one ends.
pub const MAX_CONNECTIONS: usize = 1024;
/// Client connect timeout.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default client request timeout (callers may override it per request).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

const VERSIONS: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS13, &rustls::version::TLS12];

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn pinned_roots(creds: &Credentials) -> anyhow::Result<Arc<RootCertStore>> {
    let mut roots = RootCertStore::empty();
    roots.add(creds.ca().clone()).map_err(|e| {
        anyhow!(
            "{}: CA certificate is not a usable trust anchor: {e}",
            creds.dir().display()
        )
    })?;
    Ok(Arc::new(roots))
}

/// The rustls server configuration for `creds`: TLS 1.2/1.3 on the ring provider, presenting
/// `creds`' certificate and requiring a client certificate that chains to the pinned project CA.
pub fn server_config(creds: &Credentials) -> anyhow::Result<Arc<ServerConfig>> {
    let provider = provider();
    let verifier = WebPkiClientVerifier::builder_with_provider(pinned_roots(creds)?, provider.clone())
        .build()
        .context("building the client certificate verifier")?;
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(VERSIONS)
        .context("selecting TLS versions")?
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![creds.cert().clone()], creds.key())
        .map_err(|e| anyhow!("{}: certificate and key are not usable: {e}", creds.dir().display()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Serves `router` on `listener` with mutual TLS until `shutdown` resolves.
///
/// Each connection is handled in its own task: a TLS handshake bounded by
/// [`HANDSHAKE_TIMEOUT`], then HTTP/1.1 where every request carries the peer's verified
/// [`Identity`](crate::pki::Identity) as an `axum::Extension<Identity>`. A failed handshake, an unusable peer
/// certificate or a failed accept is logged as one line on stderr and never ends the server.
/// On shutdown the listener is closed, handshakes in progress are dropped, open connections
/// finish their current request (at most [`SHUTDOWN_GRACE`]), and the function returns.
pub async fn serve(
    listener: TcpListener,
    config: Arc<ServerConfig>,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let acceptor = TlsAcceptor::from(config);
    let graceful = GracefulShutdown::new();
    // Tells connections still in their handshake to give up at shutdown.
    let (stopping, stop) = watch::channel(());
    let mut connections = JoinSet::new();
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        while connections.try_join_next().is_some() {}
        // At the limit, stop accepting: new clients wait in the kernel's backlog.
        let slot = tokio::select! {
            () = &mut shutdown => break,
            slot = slots.clone().acquire_owned() => slot.context("the connection limiter was closed")?,
        };
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Typically out of file descriptors: back off instead of spinning.
                    eprintln!("tls: accepting a connection failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        // Protocol messages are small request/response exchanges: without TCP_NODELAY, Nagle's
        // algorithm and delayed ACKs add tens of milliseconds to each one.
        if let Err(e) = stream.set_nodelay(true) {
            eprintln!("tls: cannot set TCP_NODELAY for {peer}: {e}");
        }
        let serve = connection(
            acceptor.clone(),
            stream,
            peer,
            router.clone(),
            stop.clone(),
            graceful.watcher(),
        );
        connections.spawn(async move {
            serve.await;
            drop(slot);
        });
    }
    drop(listener);
    stopping.send_replace(());
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await.is_err() {
        eprintln!(
            "tls: {} connection(s) still open after {} s, closing them",
            connections.len(),
            SHUTDOWN_GRACE.as_secs()
        );
    }
    connections.shutdown().await;
    Ok(())
}

/// One connection: handshake, identity, HTTP/1.1 until the peer or the shutdown ends it.
async fn connection(
    acceptor: TlsAcceptor,
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    mut stop: watch::Receiver<()>,
    watcher: Watcher,
) {
    let handshake = tokio::select! {
        done = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)) => done,
        _ = stop.changed() => return,
    };
    let tls = match handshake {
        Ok(Ok(tls)) => tls,
        Ok(Err(e)) => {
            eprintln!("tls: handshake with {peer} failed: {e}");
            return;
        }
        Err(_) => {
            eprintln!(
                "tls: handshake with {peer} failed: not completed within {} s",
                HANDSHAKE_TIMEOUT.as_secs()
            );
            return;
        }
    };
    let identity = match tls.get_ref().1.peer_certificates().and_then(|certs| certs.first()) {
        Some(cert) => match peer_identity(cert) {
            Ok(identity) => identity,
            Err(e) => {
                eprintln!("tls: refusing {peer}: its certificate carries no usable identity: {e:#}");
                return;
            }
        },
        None => {
            eprintln!("tls: refusing {peer}: no client certificate");
            return;
        }
    };
    let service = TowerToHyperService::new(router.layer(Extension(identity.clone())));
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    let conn = builder.serve_connection(TokioIo::new(tls), service);
    if let Err(e) = watcher.watch(conn).await
        && !e.is_incomplete_message()
    {
        eprintln!("tls: connection with {peer} ({identity}) ended with an error: {e}");
    }
}

/// The rustls client configuration for `creds`: TLS 1.2/1.3 on the ring provider, trusting the
/// pinned project CA only, presenting `creds`' certificate. With `servers` non-empty, the
/// server's certificate must also carry one of these roles (see [`client_for`]).
pub fn client_config(creds: &Credentials, servers: &[Role]) -> anyhow::Result<ClientConfig> {
    let provider = provider();
    let roots = pinned_roots(creds)?;
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(VERSIONS)
        .context("selecting TLS versions")?;
    let builder = if servers.is_empty() {
        builder.with_root_certificates(roots)
    } else {
        let webpki = WebPkiServerVerifier::builder_with_provider(roots, provider)
            .build()
            .context("building the server certificate verifier")?;
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(RoleVerifier {
                webpki,
                servers: servers.to_vec(),
            }))
    };
    builder
        .with_client_auth_cert(vec![creds.cert().clone()], creds.key())
        .map_err(|e| anyhow!("{}: certificate and key are not usable: {e}", creds.dir().display()))
}

/// An HTTPS client for `creds` that accepts any server certified by the project CA for the
/// host it connects to (see [`client_for`] to also require a role): HTTPS only, connect timeout
/// [`CONNECT_TIMEOUT`], request timeout [`REQUEST_TIMEOUT`] (callers may override it per
/// request). The server's host name must be in its certificate (default `localhost` and
/// `127.0.0.1`).
pub fn client(creds: &Credentials) -> anyhow::Result<reqwest::Client> {
    client_for(creds, &[])
}

/// Like [`client`], and the server's certificate must carry one of the roles in `servers`
/// (e.g. a site talking to the hub passes `&[Role::Hub]`, so that an aggregator, whose
/// certificate may name the same host, cannot stand in for the hub). Empty: any role.
pub fn client_for(creds: &Credentials, servers: &[Role]) -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .tls_backend_preconfigured(client_config(creds, servers)?)
        .https_only(true)
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .build()
        .context("building the HTTPS client")
}

/// The standard WebPKI server verification (pinned CA, host name, validity, `serverAuth`),
/// then a check of the role in the server's synthema identity.
#[derive(Debug)]
struct RoleVerifier {
    webpki: Arc<WebPkiServerVerifier>,
    servers: Vec<Role>,
}

impl ServerCertVerifier for RoleVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verified = self
            .webpki
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)?;
        let refuse = |reason: String| {
            rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(std::io::Error::other(
                reason,
            )))))
        };
        let identity = peer_identity(end_entity).map_err(|e| refuse(format!("server identity: {e:#}")))?;
        if !self.servers.contains(&identity.role) {
            let expected: Vec<&str> = self.servers.iter().map(|role| role.as_str()).collect();
            return Err(refuse(format!(
                "server is {identity}, expected a {}",
                expected.join(" or ")
            )));
        }
        Ok(verified)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}
