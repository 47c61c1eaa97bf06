//! A throw-away certificate authority in a folder, made with the `openssl` command, for
//! demos and tests: a root and one leaf — a time-stamping authority's signing certificate
//! (`kordon tsa serve`) or a crossing point's C2PA signing certificate (`kordon demo`).
//! Never the trust of a real deployment (`docs/deploy.md`).

use std::path::Path;
use std::process::Command;

use anyhow::{Context as _, Result, bail};

/// The OpenSSL configuration in the folder.
pub(crate) const CONFIG_FILE: &str = "openssl.cnf";

/// The OpenSSL configuration of the CA, the leaves and the `ts` responder; paths are
/// relative to the folder.
const CONFIG: &str = "\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[root_ext]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[tsa_ext]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature
extendedKeyUsage = critical,timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[c2pa_ext]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature
extendedKeyUsage = emailProtection
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ca]
default_ca = ca1
[ca1]
database = ./index.txt
new_certs_dir = .
certificate = ./root.crt
private_key = ./root.key
serial = ./ca.serial
default_md = sha256
policy = pol
unique_subject = no
[pol]
commonName = supplied
[tsa]
default_tsa = tsa1
[tsa1]
serial = ./tsa.serial
crypto_device = builtin
signer_cert = ./leaf.crt
certs = ./root.crt
signer_key = ./leaf.key
signer_digest = sha256
default_policy = 1.2.3.4.1
other_policies = 1.2.3.4.2
digests = sha256
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
";

/// Runs `openssl` in `dir`.
pub(crate) fn openssl(dir: &Path, args: &[&str]) -> Result<()> {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .context("running openssl (apt-get install openssl)")?;
    if !out.status.success() {
        bail!(
            "openssl {}: {}",
            args.first().copied().unwrap_or(""),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// What the leaf certificate is for.
pub(crate) enum Leaf {
    /// A TSA's signing certificate (P-256), valid 825 days, or one that expired in 2021.
    Tsa {
        /// Expired.
        expired: bool,
    },
    /// A C2PA claim signing certificate (Ed25519), valid 825 days.
    C2pa,
}

/// Makes a root named `<name> root` and a leaf named `name` in `dir` unless there:
/// `root.crt`, `leaf.key`, `leaf.crt`, and `chain.pem` (leaf first, root last).
pub(crate) fn issue(dir: &Path, name: &str, leaf: Leaf) -> Result<()> {
    if dir.join("chain.pem").exists() {
        return Ok(());
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    std::fs::write(dir.join(CONFIG_FILE), CONFIG)?;
    std::fs::write(dir.join("index.txt"), "")?;
    std::fs::write(dir.join("ca.serial"), "01\n")?;
    std::fs::write(dir.join("tsa.serial"), "01\n")?;
    let root = format!("/CN={name} root");
    let subject = format!("/CN={name}");
    let p256 = |out: &str| {
        openssl(
            dir,
            &[
                "ecparam",
                "-name",
                "prime256v1",
                "-genkey",
                "-noout",
                "-out",
                out,
            ],
        )
    };
    p256("root.key")?;
    match leaf {
        Leaf::Tsa { .. } => p256("leaf.key")?,
        Leaf::C2pa => openssl(
            dir,
            &["genpkey", "-algorithm", "ed25519", "-out", "leaf.key"],
        )?,
    }
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-x509",
            "-key",
            "root.key",
            "-subj",
            &root,
            "-days",
            "3650",
            "-config",
            CONFIG_FILE,
            "-extensions",
            "root_ext",
            "-out",
            "root.crt",
        ],
    )?;
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-key",
            "leaf.key",
            "-subj",
            &subject,
            "-config",
            CONFIG_FILE,
            "-out",
            "leaf.csr",
        ],
    )?;
    let (ext, validity): (&str, &[&str]) = match leaf {
        Leaf::Tsa { expired: true } => (
            "tsa_ext",
            &[
                "-startdate",
                "20200101000000Z",
                "-enddate",
                "20210101000000Z",
            ],
        ),
        Leaf::Tsa { expired: false } => ("tsa_ext", &["-days", "825"]),
        Leaf::C2pa => ("c2pa_ext", &["-days", "825"]),
    };
    let mut args = vec![
        "ca",
        "-batch",
        "-notext",
        "-config",
        CONFIG_FILE,
        "-extensions",
        ext,
        "-in",
        "leaf.csr",
        "-out",
        "leaf.crt",
    ];
    args.extend_from_slice(validity);
    openssl(dir, &args)?;
    let chain = [
        std::fs::read(dir.join("leaf.crt"))?,
        std::fs::read(dir.join("root.crt"))?,
    ]
    .concat();
    std::fs::write(dir.join("chain.pem"), chain)?;
    Ok(())
}
