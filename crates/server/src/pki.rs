//! The project PKI: one certificate authority per project, and one certificate per party.
//!
//! A party's identity is carried in its certificate: the subject CN is its name and a SAN URI
//! `urn:synthema:<role>:<name>` states role and name. The URI is authoritative; the CN is only a
//! convenience for humans reading the certificate.
//!
//! Files (PEM): the CA directory holds `ca.pem` and `ca-key.pem`; a party's directory, written
//! by [`issue`], holds `cert.pem`, `key.pem` and `ca.pem` (a copy of the CA certificate, which
//! the party pins: it trusts nothing else). Key files are created with mode 0600 and nothing is
//! ever overwritten. Keys are never printed or logged.

use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, SystemTime};

use anyhow::{Context, anyhow, bail};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use time::OffsetDateTime;
use x509_parser::extensions::GeneralName;
use zeroize::Zeroize;

/// File name of the CA certificate (in the CA directory and in every party directory).
pub const CA_CERT_FILE: &str = "ca.pem";
/// File name of the CA private key (CA directory only).
pub const CA_KEY_FILE: &str = "ca-key.pem";
/// File name of a party's certificate.
pub const CERT_FILE: &str = "cert.pem";
/// File name of a party's private key.
pub const KEY_FILE: &str = "key.pem";

/// Prefix of the SAN URI that carries a party's identity.
const URN_PREFIX: &str = "urn:synthema:";
/// Validity of the project CA certificate.
const CA_VALIDITY_DAYS: u32 = 3650;
/// Longest validity accepted for a party certificate.
const MAX_VALIDITY_DAYS: u32 = 3650;
/// How far back a new certificate's `notBefore` is set, to tolerate clock skew between parties.
const CLOCK_SKEW: Duration = Duration::from_secs(300);
const DAY: Duration = Duration::from_secs(86_400);

/// The role a party plays in a project.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The coordinating hub (a server).
    Hub,
    /// A secure-aggregation server.
    Aggregator,
    /// A data-holding site (a client).
    Site,
    /// A human user or tool talking to the hub (a client).
    User,
}

impl Role {
    /// All roles, in a fixed order.
    pub const ALL: [Role; 4] = [Role::Hub, Role::Aggregator, Role::Site, Role::User];

    /// The lowercase name used in files, URIs and configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Hub => "hub",
            Role::Aggregator => "aggregator",
            Role::Site => "site",
            Role::User => "user",
        }
    }

    /// Whether parties of this role run a TLS server (and get `serverAuth` and host names).
    pub fn is_server(self) -> bool {
        matches!(self, Role::Hub | Role::Aggregator)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> anyhow::Result<Role> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == s)
            .ok_or_else(|| anyhow!("unknown role {s:?}: expected one of hub, aggregator, site, user"))
    }
}

/// Who a party is: its role and its name, as certified by the project CA.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Identity {
    /// The party's role.
    pub role: Role,
    /// The party's name (see [`validate_name`]).
    pub name: String,
}

impl Identity {
    /// The SAN URI that carries this identity: `urn:synthema:<role>:<name>`.
    pub fn urn(&self) -> String {
        format!("{URN_PREFIX}{}:{}", self.role, self.name)
    }

    /// Parses `urn:synthema:<role>:<name>`.
    pub fn from_urn(urn: &str) -> anyhow::Result<Identity> {
        let rest = urn
            .strip_prefix(URN_PREFIX)
            .ok_or_else(|| anyhow!("identity URI {urn:?} does not start with {URN_PREFIX:?}"))?;
        let (role, name) = rest
            .split_once(':')
            .ok_or_else(|| anyhow!("identity URI {urn:?} is not of the form urn:synthema:<role>:<name>"))?;
        let role = role.parse::<Role>().with_context(|| format!("identity URI {urn:?}"))?;
        validate_name(name).with_context(|| format!("identity URI {urn:?}"))?;
        Ok(Identity {
            role,
            name: name.to_owned(),
        })
    }
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.role, self.name)
    }
}

/// Checks a party or project name: 1 to 64 characters from `[A-Za-z0-9._-]`, and not made of
/// dots only (so that a name is always safe as a file or directory name).
pub fn validate_name(name: &str) -> anyhow::Result<()> {
    if name.is_empty() || name.len() > 64 {
        bail!("invalid name {name:?}: must be 1 to 64 characters long");
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        bail!("invalid name {name:?}: character {c:?} is not allowed (only A-Z a-z 0-9 . _ -)");
    }
    if name.chars().all(|c| c == '.') {
        bail!("invalid name {name:?}: must not consist of dots only");
    }
    Ok(())
}

/// Creates the project CA in `dir` (created if missing): `dir/ca.pem` (the certificate) and
/// `dir/ca-key.pem` (the private key, mode 0600). Refuses to overwrite either file.
pub fn init(dir: &Path, project: &str) -> anyhow::Result<()> {
    validate_name(project).context("project name")?;
    let cert_path = dir.join(CA_CERT_FILE);
    let key_path = dir.join(CA_KEY_FILE);
    refuse_existing(&[&cert_path, &key_path])?;
    fs::create_dir_all(dir).with_context(|| format!("creating CA directory {}", dir.display()))?;

    let key = KeyPair::generate().context("generating the CA key")?;
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, format!("synthema project {project}"));
    dn.push(DnType::CommonName, format!("{project} CA"));
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let now = SystemTime::now();
    params.not_before = to_offset(now.checked_sub(CLOCK_SKEW).unwrap_or(now));
    params.not_after = to_offset(now + DAY * CA_VALIDITY_DAYS);
    let cert = params.self_signed(&key).context("self-signing the CA certificate")?;

    write_new(&key_path, key.serialize_pem().as_bytes(), true)?;
    write_new(&cert_path, cert.pem().as_bytes(), false)?;
    Ok(())
}

/// What to put in a party certificate.
#[derive(Clone, Debug)]
pub struct IssueOptions {
    /// The party's role.
    pub role: Role,
    /// The party's name (see [`validate_name`]).
    pub name: String,
    /// DNS names or IP addresses the party serves on (SAN entries). Only for servers (hub,
    /// aggregator); empty means `localhost` and `127.0.0.1`. Must be empty for sites and users.
    pub hosts: Vec<String>,
    /// Validity in days from now, 1 to 3650.
    pub validity_days: u32,
    /// Overrides `notAfter` (tests: an already-expired certificate). `validity_days` is still
    /// checked but not used then.
    pub not_after_override: Option<SystemTime>,
}

/// Issues a certificate for `options` signed by the CA in `ca_dir` into `out` (created if
/// missing): `out/cert.pem`, `out/key.pem` (mode 0600) and `out/ca.pem` (a copy of the CA
/// certificate, to pin). Refuses to overwrite any of them.
///
/// The certificate has subject CN = name, SAN URI `urn:synthema:<role>:<name>`, extended key
/// usage `clientAuth` (and `serverAuth` plus DNS/IP SANs from `hosts` for hub and aggregator).
pub fn issue(ca_dir: &Path, options: &IssueOptions, out: &Path) -> anyhow::Result<()> {
    validate_name(&options.name).context("certificate name")?;
    if options.validity_days == 0 || options.validity_days > MAX_VALIDITY_DAYS {
        bail!(
            "validity of {} days is out of range: must be 1 to {MAX_VALIDITY_DAYS}",
            options.validity_days
        );
    }
    let identity = Identity {
        role: options.role,
        name: options.name.clone(),
    };
    let mut sans = vec![SanType::URI(
        identity
            .urn()
            .try_into()
            .with_context(|| format!("identity URI for {identity}"))?,
    )];
    if options.role.is_server() {
        let defaults = ["localhost".to_owned(), "127.0.0.1".to_owned()];
        let hosts = if options.hosts.is_empty() {
            &defaults[..]
        } else {
            &options.hosts[..]
        };
        for host in hosts {
            sans.push(host_san(host)?);
        }
    } else if !options.hosts.is_empty() {
        bail!(
            "hosts {:?} given for {identity}: only hub and aggregator certificates carry host names",
            options.hosts
        );
    }

    let cert_path = out.join(CERT_FILE);
    let key_path = out.join(KEY_FILE);
    let pin_path = out.join(CA_CERT_FILE);
    refuse_existing(&[&cert_path, &key_path, &pin_path])?;

    let ca_cert_path = ca_dir.join(CA_CERT_FILE);
    let ca_key_path = ca_dir.join(CA_KEY_FILE);
    let ca_pem = read_text(&ca_cert_path)?;
    check_private_mode(&ca_key_path)?;
    let ca_key = KeyPair::from_pem(&read_text(&ca_key_path)?)
        .map_err(|e| anyhow!("{}: not a usable PEM private key: {e}", ca_key_path.display()))?;
    let issuer = Issuer::from_ca_cert_pem(&ca_pem, ca_key)
        .map_err(|e| anyhow!("{}: not a usable CA certificate: {e}", ca_cert_path.display()))?;

    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, options.name.clone());
    params.distinguished_name = dn;
    params.subject_alt_names = sans;
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    if options.role.is_server() {
        params.extended_key_usages.push(ExtendedKeyUsagePurpose::ServerAuth);
    }
    params.use_authority_key_identifier_extension = true;
    let now = SystemTime::now();
    let not_after = match options.not_after_override {
        Some(at) => at,
        None => now + DAY * options.validity_days,
    };
    let not_before = now.checked_sub(CLOCK_SKEW).unwrap_or(now);
    let not_before = match not_after.checked_sub(DAY) {
        Some(day_before) if day_before < not_before => day_before,
        _ => not_before,
    };
    params.not_before = to_offset(not_before);
    params.not_after = to_offset(not_after);

    let key = KeyPair::generate().with_context(|| format!("generating the key of {identity}"))?;
    let cert = params
        .signed_by(&key, &issuer)
        .with_context(|| format!("signing the certificate of {identity}"))?;

    fs::create_dir_all(out).with_context(|| format!("creating directory {}", out.display()))?;
    write_new(&key_path, key.serialize_pem().as_bytes(), true)?;
    write_new(&cert_path, cert.pem().as_bytes(), false)?;
    write_new(&pin_path, ca_pem.as_bytes(), false)?;
    Ok(())
}

/// The private key bytes, wiped on drop.
struct SecretKey(PrivateKeyDer<'static>);

impl Drop for SecretKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// A party's credentials, loaded from a directory written by [`issue`]. `Debug` shows the
/// identity only; the key bytes held here are zeroized on drop (copies made by rustls or ring
/// when a TLS configuration is built are outside our control).
pub struct Credentials {
    identity: Identity,
    cert: CertificateDer<'static>,
    key: SecretKey,
    ca: CertificateDer<'static>,
    dir: PathBuf,
}

impl Credentials {
    /// Loads `dir/cert.pem`, `dir/key.pem` and `dir/ca.pem`. Refuses a key file readable by
    /// group or others (Unix), a certificate without a valid synthema identity, and one not
    /// signed by `ca.pem`. An expired certificate loads (peers will refuse it). Errors name
    /// the file.
    pub fn load(dir: &Path) -> anyhow::Result<Credentials> {
        let cert_path = dir.join(CERT_FILE);
        let key_path = dir.join(KEY_FILE);
        let ca_path = dir.join(CA_CERT_FILE);
        let cert = load_single_cert(&cert_path)?;
        let ca = load_single_cert(&ca_path)?;
        check_private_mode(&key_path)?;
        let key = PrivateKeyDer::from_pem_file(&key_path)
            .map_err(|e| anyhow!("{}: no usable PEM private key: {e}", key_path.display()))?;
        let identity = peer_identity(&cert).with_context(|| format!("{}", cert_path.display()))?;
        check_signed_by(&cert, &ca).map_err(|e| {
            anyhow!(
                "{} is not a certificate of the CA in {}: {e}",
                cert_path.display(),
                ca_path.display()
            )
        })?;
        Ok(Credentials {
            identity,
            cert,
            key: SecretKey(key),
            ca,
            dir: dir.to_owned(),
        })
    }

    /// This party's identity, parsed from its own certificate.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// The directory the credentials were loaded from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// This party's certificate.
    pub fn cert(&self) -> &CertificateDer<'static> {
        &self.cert
    }

    /// The pinned project CA certificate (the only trust anchor).
    pub fn ca(&self) -> &CertificateDer<'static> {
        &self.ca
    }

    /// A copy of the private key, for building a TLS configuration.
    pub(crate) fn key(&self) -> PrivateKeyDer<'static> {
        self.key.0.clone_key()
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("identity", &self.identity.to_string())
            .field("dir", &self.dir)
            .field("key", &"<redacted>")
            .finish()
    }
}

/// The identity certified by `cert`: its single `urn:synthema:<role>:<name>` SAN URI. The
/// subject CN, when present, must equal the name. Does not check the signature or validity:
/// call it on certificates rustls has already verified.
pub fn peer_identity(cert: &CertificateDer<'_>) -> anyhow::Result<Identity> {
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref())
        .map_err(|e| anyhow!("certificate is not valid X.509 DER: {e}"))?;
    let san = parsed
        .subject_alternative_name()
        .map_err(|e| anyhow!("certificate has a malformed subjectAltName: {e}"))?
        .ok_or_else(|| anyhow!("certificate has no subjectAltName, hence no synthema identity"))?;
    let mut urns = san.value.general_names.iter().filter_map(|name| match name {
        GeneralName::URI(uri) if uri.starts_with(URN_PREFIX) => Some(*uri),
        _ => None,
    });
    let urn = urns
        .next()
        .ok_or_else(|| anyhow!("certificate has no {URN_PREFIX}<role>:<name> URI in its subjectAltName"))?;
    if urns.next().is_some() {
        bail!("certificate has more than one {URN_PREFIX} URI in its subjectAltName");
    }
    let identity = Identity::from_urn(urn)?;
    if let Some(cn) = parsed.subject().iter_common_name().next() {
        let cn = cn
            .as_str()
            .map_err(|e| anyhow!("certificate subject CN is not a string: {e}"))?;
        if cn != identity.name {
            bail!("certificate subject CN {cn:?} differs from the name in {urn:?}");
        }
    }
    Ok(identity)
}

/// Checks that `cert` carries a signature by `ca`'s key.
fn check_signed_by(cert: &CertificateDer<'_>, ca: &CertificateDer<'_>) -> anyhow::Result<()> {
    let (_, cert) = x509_parser::parse_x509_certificate(cert.as_ref())
        .map_err(|e| anyhow!("certificate is not valid X.509 DER: {e}"))?;
    let (_, ca) = x509_parser::parse_x509_certificate(ca.as_ref())
        .map_err(|e| anyhow!("CA certificate is not valid X.509 DER: {e}"))?;
    cert.verify_signature(Some(ca.public_key()))
        .map_err(|e| anyhow!("signature check failed: {e}"))
}

fn host_san(host: &str) -> anyhow::Result<SanType> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(SanType::IpAddress(ip));
    }
    let valid = !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if !valid {
        bail!("invalid host {host:?}: neither an IP address nor a DNS name");
    }
    Ok(SanType::DnsName(
        host.try_into().with_context(|| format!("host {host:?}"))?,
    ))
}

fn to_offset(at: SystemTime) -> OffsetDateTime {
    OffsetDateTime::from(at)
}

fn refuse_existing(paths: &[&Path]) -> anyhow::Result<()> {
    for path in paths {
        if path.exists() {
            bail!("{} already exists: refusing to overwrite it", path.display());
        }
    }
    Ok(())
}

/// Creates `path` (which must not exist) with `contents`, mode 0600 for secrets, and syncs it.
fn write_new(path: &Path, contents: &[u8], secret: bool) -> anyhow::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if secret { 0o600 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = secret;
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {} (it must not exist yet)", path.display()))?;
    file.write_all(contents)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", path.display()))
}

fn read_text(path: &Path) -> anyhow::Result<String> {
    fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

fn load_single_cert(path: &Path) -> anyhow::Result<CertificateDer<'static>> {
    let mut certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| anyhow!("{}: cannot read PEM certificates: {e}", path.display()))?;
    let cert = certs
        .next()
        .ok_or_else(|| anyhow!("{}: contains no PEM certificate", path.display()))?
        .map_err(|e| anyhow!("{}: malformed PEM certificate: {e}", path.display()))?;
    if certs.next().is_some() {
        bail!(
            "{}: contains more than one certificate, expected exactly one",
            path.display()
        );
    }
    Ok(cert)
}

#[cfg(unix)]
fn check_private_mode(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = fs::metadata(path)
        .with_context(|| format!("reading {}", path.display()))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        bail!(
            "{}: private key is accessible by group or others (mode {:o}); run chmod 600",
            path.display(),
            mode & 0o777
        );
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private_mode(_path: &Path) -> anyhow::Result<()> {
    Ok(())
}
