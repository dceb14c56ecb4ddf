//! PLACEHOLDER — being written (unified auth). Signatures are the contract.
use crate::config::Config;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("{0}")]
    Other(String),
}

pub enum Credentials {
    Pat(secrecy::SecretString),
}

impl Credentials {
    pub fn from_config(config: &Config, _http: reqwest::Client) -> Result<Credentials, AuthError> {
        match &config.token {
            Some(t) => Ok(Credentials::Pat(t.clone())),
            None => Err(AuthError::Other("no credentials".into())),
        }
    }
    pub fn auth_type(&self) -> &'static str {
        "pat"
    }
    pub async fn authorization(&self) -> Result<reqwest::header::HeaderValue, AuthError> {
        use secrecy::ExposeSecret;
        match self {
            Credentials::Pat(t) => {
                let mut v = reqwest::header::HeaderValue::from_str(&format!("Bearer {}", t.expose_secret()))
                    .map_err(|_| AuthError::Other("token contains invalid characters".into()))?;
                v.set_sensitive(true);
                Ok(v)
            }
        }
    }
    pub fn invalidate(&self) {}
}
