//! The certificate login (`rpc/auth_ssl`): keys, challenges and signatures, as SysAdm does
//! them (feature `ssl-auth`). No IO.
//!
//! # The exchange (the real server's `AuthorizationManager.cpp`, the reference client's
//! `sysadm-client.cpp`)
//!
//! 1. The client sends `auth_ssl` with `args` `""`. The server answers
//!    `{"test_string":"<20 characters A-Za-z0-9>"}`; the string is good for 30 s.
//! 2. The client signs the bare bytes of the test string with its RSA private key, with
//!    PKCS#1 v1.5 type-1 padding and **no hash and no DigestInfo** (OpenSSL's
//!    `RSA_private_encrypt(…, RSA_PKCS1_PADDING)`), and sends the base64 of the block as
//!    `{"encrypted_string":"…"}`.
//! 3. The server "decrypts" it with each registered public key (`RSA_public_decrypt`) until
//!    one gives back an outstanding test string, and answers `["<token>",0]` as for a
//!    password login, or the 401 error.
//!
//! Keys are registered with `rpc/settings` `{"action":"register_ssl_cert","pub_key":…}`,
//! where `pub_key` is the base64 of the PEM public key (`-----BEGIN PUBLIC KEY-----`), by a
//! user who is logged in; a key logs in as the user who registered it.
//!
//! Signing and checking use the [`rsa`] crate (`Pkcs1v15Sign::new_unprefixed`: exactly the
//! unhashed type-1 block); signing uses blinding with the system's random number generator.
//!
//! # Example
//!
//! ```
//! use monwire_sysadm::ssl::{PublicKey, SigningKey, new_challenge};
//!
//! # let pem = SigningKey::generate(1024)?.to_pkcs8_pem();
//! // A PEM private key (PKCS#1 `RSA PRIVATE KEY`, PKCS#8 `PRIVATE KEY`, or encrypted PKCS#8
//! // `ENCRYPTED PRIVATE KEY` with a passphrase).
//! let key = SigningKey::from_pem(&pem, None)?;
//! // What the client registers, and what the server keeps.
//! let registration = key.public_key().registration();
//! let registered = PublicKey::from_registration(&registration)?;
//!
//! // Server: stage 1. Client: stage 2. Server: the check.
//! let challenge = new_challenge()?;
//! assert_eq!(challenge.len(), 20);
//! let encrypted_string = key.sign_challenge(&challenge)?;
//! assert!(registered.verify_challenge(&challenge, &encrypted_string));
//! assert!(!registered.verify_challenge("another challenge!!!", &encrypted_string));
//! # Ok::<(), monwire_sysadm::error::KeyError>(())
//! ```

use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::{DecodePaddingMode, general_purpose};
use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
use rsa::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding,
};
use rsa::rand_core::{OsRng, RngCore};
use rsa::traits::PublicKeyParts;
use rsa::{Pkcs1v15Sign, RsaPrivateKey, RsaPublicKey};

use crate::error::KeyError;

/// Length of the server's test string (`TOKENLENGTH` in the real server).
pub const CHALLENGE_LEN: usize = 20;

/// How long a test string may be answered (the real server keeps it 30 s).
pub const CHALLENGE_LIFETIME: Duration = Duration::from_secs(30);

const CHALLENGE_CHARS: &[u8; 62] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// A fresh test string: [`CHALLENGE_LEN`] characters `[A-Za-z0-9]`, drawn uniformly from the
/// operating system's cryptographic random number generator.
pub fn new_challenge() -> Result<String, KeyError> {
    let mut out = String::with_capacity(CHALLENGE_LEN);
    let mut buf = [0u8; 32];
    while out.len() < CHALLENGE_LEN {
        OsRng
            .try_fill_bytes(&mut buf)
            .map_err(|e| KeyError::Random(e.to_string()))?;
        // 248 = 4 × 62: rejecting larger bytes keeps every character equally likely.
        for b in buf.iter().filter(|&&b| b < 248) {
            if out.len() == CHALLENGE_LEN {
                break;
            }
            let c = CHALLENGE_CHARS.get(usize::from(b % 62)).copied();
            out.push(char::from(c.unwrap_or(b'A')));
        }
    }
    Ok(out)
}

/// Base64 as the real programs read it (Qt's `QByteArray::fromBase64`): the standard alphabet,
/// padding optional, line breaks and spaces ignored.
fn decode_base64(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    let compact: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    LENIENT.decode(compact)
}

/// The first PEM block of `text` with its label (`PRIVATE KEY`, …), from its BEGIN line on.
fn pem_block(text: &str) -> Option<(&str, &str)> {
    let start = text.find("-----BEGIN ")?;
    let block = text.get(start..)?;
    let label_start = "-----BEGIN ".len();
    let label_end = block.get(label_start..)?.find("-----")? + label_start;
    Some((block.get(label_start..label_end)?, block))
}

fn invalid(label: &str, reason: impl fmt::Display) -> KeyError {
    KeyError::Invalid {
        label: label.to_owned(),
        reason: reason.to_string(),
    }
}

/// An RSA private key that answers the server's challenge. `Debug` shows only its size.
#[derive(Clone)]
pub struct SigningKey(RsaPrivateKey);

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("bits", &self.bits())
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Reads a PEM private key: PKCS#1 (`-----BEGIN RSA PRIVATE KEY-----`, what
    /// `openssl genrsa` wrote before 3.0), PKCS#8 (`PRIVATE KEY`), or encrypted PKCS#8
    /// (`ENCRYPTED PRIVATE KEY`, `openssl genpkey -aes256`, which needs `passphrase`). Text
    /// before the PEM block is skipped.
    pub fn from_pem(text: &str, passphrase: Option<&[u8]>) -> Result<SigningKey, KeyError> {
        let Some((label, block)) = pem_block(text) else {
            return Err(KeyError::NoPem("private key"));
        };
        let key = match label {
            "RSA PRIVATE KEY" => {
                if block.contains("Proc-Type: 4,ENCRYPTED") {
                    return Err(KeyError::LegacyEncryption);
                }
                RsaPrivateKey::from_pkcs1_pem(block).map_err(|e| invalid(label, e))?
            }
            "PRIVATE KEY" => RsaPrivateKey::from_pkcs8_pem(block).map_err(|e| invalid(label, e))?,
            "ENCRYPTED PRIVATE KEY" => {
                let Some(pass) = passphrase else {
                    return Err(KeyError::NeedsPassphrase);
                };
                RsaPrivateKey::from_pkcs8_encrypted_pem(block, pass).map_err(|e| match e {
                    rsa::pkcs8::Error::EncryptedPrivateKey(_) | rsa::pkcs8::Error::Asn1(_) => {
                        KeyError::WrongPassphrase
                    }
                    other => invalid(label, other),
                })?
            }
            other => return Err(invalid(other, "not an RSA private key")),
        };
        Ok(SigningKey(key))
    }

    /// A new random key of `bits` bits (for tests and examples; real keys come from a file).
    pub fn generate(bits: usize) -> Result<SigningKey, KeyError> {
        RsaPrivateKey::new(&mut OsRng, bits)
            .map(SigningKey)
            .map_err(|e| KeyError::Rsa(e.to_string()))
    }

    /// The key as unencrypted PKCS#8 PEM (for tests and examples).
    pub fn to_pkcs8_pem(&self) -> String {
        self.0
            .to_pkcs8_pem(LineEnding::LF)
            .map(|pem| pem.as_str().to_owned())
            .unwrap_or_default()
    }

    /// The key size in bits.
    pub fn bits(&self) -> usize {
        self.0.size() * 8
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.0.to_public_key())
    }

    /// Signs `test_string` the SysAdm way (PKCS#1 v1.5 type 1 over its bare bytes, no hash)
    /// and returns the base64 that goes into `encrypted_string`.
    pub fn sign_challenge(&self, test_string: &str) -> Result<String, KeyError> {
        Ok(STANDARD.encode(self.sign_raw(test_string.as_bytes())?))
    }

    /// The raw signature block (what OpenSSL's `RSA_private_encrypt` with
    /// `RSA_PKCS1_PADDING` makes of `data`), as long as the key.
    pub fn sign_raw(&self, data: &[u8]) -> Result<Vec<u8>, KeyError> {
        if data.len() + 11 > self.0.size() {
            return Err(KeyError::TooLong {
                len: data.len(),
                bits: self.bits(),
            });
        }
        self.0
            .sign_with_rng(&mut OsRng, Pkcs1v15Sign::new_unprefixed(), data)
            .map_err(|e| KeyError::Rsa(e.to_string()))
    }
}

/// An RSA public key a server accepts logins from. `Debug` shows its size.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey(RsaPublicKey);

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey")
            .field("bits", &self.bits())
            .finish()
    }
}

impl PublicKey {
    /// Reads a PEM public key: `-----BEGIN PUBLIC KEY-----` (SubjectPublicKeyInfo, what
    /// SysAdm stores and what `openssl rsa -pubout` writes) or `-----BEGIN RSA PUBLIC KEY-----`
    /// (PKCS#1). Text before the block is skipped. At most 4096-bit keys.
    pub fn from_pem(text: &str) -> Result<PublicKey, KeyError> {
        let Some((label, block)) = pem_block(text) else {
            return Err(KeyError::NoPem("public key"));
        };
        let key = match label {
            "PUBLIC KEY" => RsaPublicKey::from_public_key_pem(block).map_err(|e| invalid(label, e)),
            "RSA PUBLIC KEY" => RsaPublicKey::from_pkcs1_pem(block).map_err(|e| invalid(label, e)),
            other => return Err(invalid(other, "not an RSA public key")),
        };
        key.map(PublicKey)
    }

    /// Reads `register_ssl_cert`'s `pub_key`: base64 of a PEM public key.
    pub fn from_registration(pub_key: &str) -> Result<PublicKey, KeyError> {
        let bytes = decode_base64(pub_key).map_err(|e| KeyError::BadRegistration(e.to_string()))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| KeyError::BadRegistration("the PEM is not UTF-8".into()))?;
        PublicKey::from_pem(&text).map_err(|e| KeyError::BadRegistration(e.to_string()))
    }

    /// The key as PEM SubjectPublicKeyInfo (`-----BEGIN PUBLIC KEY-----`, 64-column lines, LF),
    /// as OpenSSL's `PEM_write_bio_RSA_PUBKEY` and Qt's `QSslKey::toPem` write it.
    pub fn to_pem(&self) -> String {
        self.0.to_public_key_pem(LineEnding::LF).unwrap_or_default()
    }

    /// `register_ssl_cert`'s `pub_key` for this key: the base64 (standard, padded, one line)
    /// of [`to_pem`](PublicKey::to_pem), as the reference client sends it.
    pub fn registration(&self) -> String {
        general_purpose::STANDARD.encode(self.to_pem())
    }

    /// The key size in bits.
    pub fn bits(&self) -> usize {
        self.0.size() * 8
    }

    /// Whether `encrypted_string` (base64; padding optional, whitespace ignored) is
    /// `test_string` signed by the matching private key: OpenSSL's `RSA_public_decrypt` with
    /// `RSA_PKCS1_PADDING` of it gives back exactly the bytes of `test_string`.
    pub fn verify_challenge(&self, test_string: &str, encrypted_string: &str) -> bool {
        decode_base64(encrypted_string)
            .is_ok_and(|sig| self.verify_raw(test_string.as_bytes(), &sig))
    }

    /// Whether `signature` is the raw type-1 block of `data` under this key.
    pub fn verify_raw(&self, data: &[u8], signature: &[u8]) -> bool {
        self.0
            .verify(Pkcs1v15Sign::new_unprefixed(), data, signature)
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SigningKey {
        SigningKey::generate(1024).unwrap()
    }

    #[test]
    fn challenge_is_twenty_alphanumerics_and_fresh() {
        let a = new_challenge().unwrap();
        let b = new_challenge().unwrap();
        assert_eq!(a.len(), CHALLENGE_LEN);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric()), "{a}");
        assert_ne!(a, b);
    }

    #[test]
    fn signature_is_the_unhashed_type_1_block() {
        let k = key();
        let sig = k.sign_raw(b"kT3vX9qLm2Zp7RbW4nYc").unwrap();
        assert_eq!(sig.len(), 128);
        // Undo the RSA operation by hand (s^e mod n) and look at the block itself:
        // 00 01 FF… 00 <the bare bytes>, no DigestInfo.
        let pk = &k.public_key().0;
        let m = rsa::BigUint::from_bytes_be(&sig).modpow(pk.e(), pk.n());
        let mut em = m.to_bytes_be();
        while em.len() < 127 {
            em.insert(0, 0);
        }
        assert_eq!(em.first(), Some(&1));
        let sep = em.iter().position(|&b| b == 0).unwrap();
        assert!(em[1..sep].iter().all(|&b| b == 0xff) && sep >= 9);
        assert_eq!(&em[sep + 1..], b"kT3vX9qLm2Zp7RbW4nYc");
    }

    #[test]
    fn registration_round_trips_and_matches_the_pem() {
        let k = key();
        let reg = k.public_key().registration();
        let pem = String::from_utf8(STANDARD.decode(&reg).unwrap()).unwrap();
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"), "{pem}");
        assert!(pem.ends_with("-----END PUBLIC KEY-----\n"));
        assert_eq!(PublicKey::from_registration(&reg).unwrap(), k.public_key());
        // Qt's lenient base64: line breaks and missing padding are fine.
        let wrapped: String = reg
            .trim_end_matches('=')
            .as_bytes()
            .chunks(64)
            .map(|c| format!("{}\n", std::str::from_utf8(c).unwrap()))
            .collect();
        assert_eq!(
            PublicKey::from_registration(&wrapped).unwrap(),
            k.public_key()
        );
        assert!(matches!(
            PublicKey::from_registration("bm90IGEga2V5"),
            Err(KeyError::BadRegistration(_))
        ));
    }

    #[test]
    fn verification_takes_only_the_right_key_and_string() {
        let (a, b) = (key(), key());
        let sig = a.sign_challenge("abcdefghijABCDEFGHIJ").unwrap();
        assert!(
            a.public_key()
                .verify_challenge("abcdefghijABCDEFGHIJ", &sig)
        );
        assert!(
            !b.public_key()
                .verify_challenge("abcdefghijABCDEFGHIJ", &sig)
        );
        assert!(
            !a.public_key()
                .verify_challenge("abcdefghijABCDEFGHIK", &sig)
        );
        assert!(
            !a.public_key()
                .verify_challenge("abcdefghijABCDEFGHIJ", "not base64!")
        );
        assert!(!a.public_key().verify_challenge("abcdefghijABCDEFGHIJ", ""));
    }

    #[test]
    fn pem_forms_and_their_errors() {
        let k = key();
        let pkcs8 = k.to_pkcs8_pem();
        let pkcs1 = k.0.to_pkcs1_pem(LineEnding::LF).unwrap().to_string();
        use rsa::pkcs1::EncodeRsaPrivateKey;
        for pem in [&pkcs8, &pkcs1] {
            let back = SigningKey::from_pem(&format!("comment line\n{pem}"), None).unwrap();
            assert_eq!(back.public_key(), k.public_key());
        }
        // What `openssl genpkey -aes256` writes: PBES2, PBKDF2-HMAC-SHA256 (2048 rounds),
        // AES-256-CBC. (The crate's own default, scrypt, takes a minute unoptimized.)
        let der = k.0.to_pkcs8_der().unwrap();
        let info = rsa::pkcs8::PrivateKeyInfo::try_from(der.as_bytes()).unwrap();
        let params = rsa::pkcs8::pkcs5::pbes2::Parameters::pbkdf2_sha256_aes256cbc(
            2048,
            b"saltsalt",
            &[7; 16],
        )
        .unwrap();
        let encrypted = info
            .encrypt_with_params(params, b"open sesame")
            .unwrap()
            .to_pem("ENCRYPTED PRIVATE KEY", LineEnding::LF)
            .unwrap()
            .to_string();
        assert_eq!(
            SigningKey::from_pem(&encrypted, None).unwrap_err(),
            KeyError::NeedsPassphrase
        );
        assert_eq!(
            SigningKey::from_pem(&encrypted, Some(b"wrong")).unwrap_err(),
            KeyError::WrongPassphrase
        );
        let back = SigningKey::from_pem(&encrypted, Some(b"open sesame")).unwrap();
        assert_eq!(back.public_key(), k.public_key());
        let legacy = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n";
        assert_eq!(
            SigningKey::from_pem(legacy, None).unwrap_err(),
            KeyError::LegacyEncryption
        );
        assert_eq!(
            SigningKey::from_pem("hello", None).unwrap_err(),
            KeyError::NoPem("private key")
        );
        assert!(matches!(
            SigningKey::from_pem(&k.public_key().to_pem(), None),
            Err(KeyError::Invalid { .. })
        ));
        let pkcs1_pub =
            rsa::pkcs1::EncodeRsaPublicKey::to_pkcs1_pem(&k.public_key().0, LineEnding::LF)
                .unwrap();
        assert_eq!(PublicKey::from_pem(&pkcs1_pub).unwrap(), k.public_key());
    }

    #[test]
    fn debug_shows_no_key_material() {
        let k = key();
        assert_eq!(format!("{k:?}"), "SigningKey { bits: 1024, .. }");
        assert_eq!(format!("{:?}", k.public_key()), "PublicKey { bits: 1024 }");
    }

    #[test]
    fn too_long_text_is_refused() {
        let k = key();
        assert!(matches!(
            k.sign_raw(&[b'a'; 118]),
            Err(KeyError::TooLong {
                len: 118,
                bits: 1024
            })
        ));
        assert!(k.sign_raw(&[b'a'; 117]).is_ok());
    }
}
