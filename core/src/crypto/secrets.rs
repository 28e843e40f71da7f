//! The instance's secrets: the JWT signing key, the HMAC pepper for lookups, and the
//! field-encryption key. Embedded mode generates missing ones under the data folder with
//! owner-only permissions; production mode only accepts given, strong ones.

use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::random_bytes;

/// Secret bytes that never print.
#[derive(Clone)]
pub struct SecretKey(Vec<u8>);

impl SecretKey {
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey([redacted])")
    }
}

#[derive(Clone, Debug)]
pub struct Secrets {
    pub jwt_key: SecretKey,
    pub hmac_pepper: SecretKey,
    pub field_key: SecretKey,
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("secret {name} is missing: set {env} (base64, at least 32 random bytes) or put it in {file}")]
    Missing {
        name: &'static str,
        env: &'static str,
        file: String,
    },
    #[error("secret {name} is weak: {why}. Generate one with `openssl rand -base64 48`")]
    Weak { name: &'static str, why: &'static str },
    #[error("cannot read or write secret {name} at {path}: {source}")]
    Io {
        name: &'static str,
        path: String,
        source: std::io::Error,
    },
}

/// Where each secret comes from: an environment value (already read) or a file.
pub struct SecretSources<'a> {
    pub data_dir: &'a Path,
    pub jwt_key: Option<&'a str>,
    pub hmac_pepper: Option<&'a str>,
    pub field_key: Option<&'a str>,
}

struct Spec {
    name: &'static str,
    env: &'static str,
    file: &'static str,
}

const JWT: Spec = Spec {
    name: "jwt_key",
    env: "RELAIS_JWT_KEY",
    file: "jwt.key",
};
const PEPPER: Spec = Spec {
    name: "hmac_pepper",
    env: "RELAIS_HMAC_PEPPER",
    file: "hmac_pepper.key",
};
const FIELD: Spec = Spec {
    name: "field_key",
    env: "RELAIS_FIELD_KEY",
    file: "field.key",
};

impl Secrets {
    /// `generate`: embedded mode, create what is missing; otherwise refuse.
    pub fn load(sources: &SecretSources<'_>, generate: bool) -> Result<Self, SecretError> {
        let dir = sources.data_dir.join("secrets");
        Ok(Self {
            jwt_key: load_one(&JWT, sources.jwt_key, &dir, generate)?,
            hmac_pepper: load_one(&PEPPER, sources.hmac_pepper, &dir, generate)?,
            field_key: load_one(&FIELD, sources.field_key, &dir, generate)?,
        })
    }
}

/// The header of a secrets file written by `relais backup`: it says what the file is.
pub const SECRETS_FILE_HEADER: &str = "\
# RELAIS SECRETS - keep this file apart from the database copy (another medium, another
# custodian). With it, the copy's sealed fields (messages, notes, addresses, locations) open
# and its tokens verify; without it they cannot be read. Never send it with the backup.
";

impl Secrets {
    /// The keys as the text of a secrets file (`name = base64` lines under the header).
    pub fn to_file_text(&self) -> String {
        let mut text = String::from(SECRETS_FILE_HEADER);
        for (spec, key) in self.named() {
            text.push_str(&format!("{} = {}\n", spec.name, STANDARD.encode(key.expose())));
        }
        text
    }

    /// Reads a secrets file written by [`to_file_text`](Self::to_file_text).
    pub fn from_file_text(text: &str) -> Result<Self, SecretError> {
        let value = |spec: &Spec| -> Result<SecretKey, SecretError> {
            let line = text
                .lines()
                .filter(|l| !l.trim_start().starts_with('#'))
                .filter_map(|l| l.split_once('='))
                .find(|(name, _)| name.trim() == spec.name)
                .map(|(_, v)| v.trim().to_owned());
            match line {
                Some(v) => decode_and_check(spec.name, &v),
                None => Err(SecretError::Missing {
                    name: spec.name,
                    env: spec.env,
                    file: "the secrets file".into(),
                }),
            }
        };
        Ok(Self {
            jwt_key: value(&JWT)?,
            hmac_pepper: value(&PEPPER)?,
            field_key: value(&FIELD)?,
        })
    }

    /// Short public identifiers of the three keys (a keyed digest: reveals nothing of them).
    pub fn key_ids(&self) -> std::collections::BTreeMap<String, String> {
        self.named()
            .into_iter()
            .map(|(spec, key)| (spec.name.to_owned(), super::key_id(key)))
            .collect()
    }

    /// Writes the three key files under `data_dir/secrets/`, refusing to replace any.
    pub fn write_files(&self, data_dir: &Path) -> Result<(), SecretError> {
        let dir = data_dir.join("secrets");
        for (spec, key) in self.named() {
            let path = dir.join(spec.file);
            write_private(&path, &STANDARD.encode(key.expose())).map_err(|source| SecretError::Io {
                name: spec.name,
                path: path.display().to_string(),
                source,
            })?;
        }
        Ok(())
    }

    /// Replaces the key files under `data_dir/secrets/` (key rotation), each through a
    /// temporary file renamed over the old one.
    pub fn replace_files(&self, data_dir: &Path) -> Result<(), SecretError> {
        let dir = data_dir.join("secrets");
        for (spec, key) in self.named() {
            let path = dir.join(spec.file);
            let temporary = dir.join(format!("{}.new", spec.file));
            let io = |source| SecretError::Io {
                name: spec.name,
                path: path.display().to_string(),
                source,
            };
            let _ = std::fs::remove_file(&temporary);
            write_private(&temporary, &STANDARD.encode(key.expose())).map_err(io)?;
            std::fs::rename(&temporary, &path).map_err(io)?;
        }
        Ok(())
    }

    /// Whether any key file exists under `data_dir/secrets/`.
    pub fn files_present(data_dir: &Path) -> bool {
        let dir = data_dir.join("secrets");
        [&JWT, &PEPPER, &FIELD].iter().any(|spec| dir.join(spec.file).exists())
    }

    fn named(&self) -> [(&'static Spec, &SecretKey); 3] {
        [
            (&JWT, &self.jwt_key),
            (&PEPPER, &self.hmac_pepper),
            (&FIELD, &self.field_key),
        ]
    }
}

/// Writes a private file (0600; its folder 0700 when created), refusing to replace one.
pub fn write_private_file(path: &Path, content: &str) -> std::io::Result<()> {
    write_private(&path.to_path_buf(), content)
}

fn load_one(spec: &Spec, given: Option<&str>, dir: &Path, generate: bool) -> Result<SecretKey, SecretError> {
    if let Some(value) = given {
        return decode_and_check(spec.name, value);
    }
    let path = dir.join(spec.file);
    match std::fs::read_to_string(&path) {
        Ok(text) => decode_and_check(spec.name, &text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if !generate {
                return Err(SecretError::Missing {
                    name: spec.name,
                    env: spec.env,
                    file: path.display().to_string(),
                });
            }
            let bytes = random_bytes::<48>().to_vec();
            write_private(&path, &STANDARD.encode(&bytes)).map_err(|source| SecretError::Io {
                name: spec.name,
                path: path.display().to_string(),
                source,
            })?;
            Ok(SecretKey(bytes))
        }
        Err(source) => Err(SecretError::Io {
            name: spec.name,
            path: path.display().to_string(),
            source,
        }),
    }
}

fn decode_and_check(name: &'static str, value: &str) -> Result<SecretKey, SecretError> {
    let bytes = STANDARD.decode(value.trim()).map_err(|_| SecretError::Weak {
        name,
        why: "it is not valid base64",
    })?;
    check_strength(&bytes).map_err(|why| SecretError::Weak { name, why })?;
    Ok(SecretKey(bytes))
}

/// Rejects short keys and keys that are visibly not random (repeated or few distinct bytes).
pub fn check_strength(bytes: &[u8]) -> Result<(), &'static str> {
    if bytes.len() < 32 {
        return Err("it is shorter than 32 bytes");
    }
    let mut seen = [false; 256];
    for b in bytes {
        seen[usize::from(*b)] = true;
    }
    let distinct = seen.iter().filter(|s| **s).count();
    if distinct < 16 {
        return Err("it has too few distinct bytes to be random");
    }
    Ok(())
}

/// Creates the folder (0700) and the file (0600) before writing anything into it.
fn write_private(path: &PathBuf, content: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
        set_mode(parent, 0o700)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(content.as_bytes())?;
    file.sync_all()
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_secrets_are_refused() {
        assert!(check_strength(b"short").is_err());
        assert!(check_strength(&[b'a'; 64]).is_err());
        assert!(check_strength(b"changemechangemechangemechangeme").is_err());
        assert!(check_strength(&random_bytes::<32>()).is_ok());
    }

    #[test]
    fn production_refuses_missing_and_embedded_generates_private_files() {
        let dir = std::env::temp_dir().join(format!("relais-secrets-{}", uuid::Uuid::new_v4()));
        let sources = SecretSources {
            data_dir: &dir,
            jwt_key: None,
            hmac_pepper: None,
            field_key: None,
        };
        assert!(matches!(
            Secrets::load(&sources, false),
            Err(SecretError::Missing { .. })
        ));
        let first = Secrets::load(&sources, true).ok();
        let again = Secrets::load(&sources, false).ok();
        assert!(first.is_some());
        assert_eq!(
            first.map(|s| s.jwt_key.expose().to_vec()),
            again.map(|s| s.jwt_key.expose().to_vec())
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.join("secrets/jwt.key")).map(|m| m.permissions().mode());
            assert_eq!(mode.ok().map(|m| m & 0o777), Some(0o600));
            let mode = std::fs::metadata(dir.join("secrets")).map(|m| m.permissions().mode());
            assert_eq!(mode.ok().map(|m| m & 0o777), Some(0o700));
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
