//! One bounded HTTP GET: a timeout on the whole call and a cap on the body, each way it can
//! fail named, so the watch can say what went wrong and carry on.

use std::io::ErrorKind;
use std::time::Duration;

/// Why a request to the node gave nothing usable; every variant names the URL.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum FetchError {
    /// Nothing answered: connection refused or reset, host unknown.
    #[error("{url}: cannot connect: {detail}")]
    Unreachable {
        /// The URL asked.
        url: String,
        /// What the operating system said.
        detail: String,
    },
    /// The node did not answer in full within the timeout (`--timeout`).
    #[error("{url}: no complete answer within {timeout:?} (--timeout)")]
    Timeout {
        /// The URL asked.
        url: String,
        /// The timeout in force.
        timeout: Duration,
    },
    /// The body was larger than the limit (`--max-response-bytes`); it was not read past it.
    #[error("{url}: the response is larger than the {limit}-byte limit (--max-response-bytes)")]
    TooLarge {
        /// The URL asked.
        url: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// An HTTP error status without a JSON-RPC error in the body.
    #[error("{url}: HTTP status {status}")]
    Status {
        /// The URL asked.
        url: String,
        /// The status code.
        status: u16,
    },
    /// The body is not what the endpoint sends (bad JSON, missing fields, not Prometheus text).
    #[error("{url}: malformed response: {detail}")]
    Malformed {
        /// The URL asked.
        url: String,
        /// What was wrong, with the parser's position where it knows it.
        detail: String,
    },
    /// The node answered with a JSON-RPC error.
    #[error("{url}: RPC error {code}: {message}{}", if data.is_empty() { String::new() } else { format!(" ({data})") })]
    Rpc {
        /// The URL asked.
        url: String,
        /// The JSON-RPC error code.
        code: i64,
        /// The error message.
        message: String,
        /// The error's detail, often the useful part.
        data: String,
    },
}

impl FetchError {
    /// A short name of the failure, as the `kind` label of `ccperf_watch_errors_total`.
    pub fn kind(&self) -> &'static str {
        match self {
            FetchError::Unreachable { .. } => "unreachable",
            FetchError::Timeout { .. } => "timeout",
            FetchError::TooLarge { .. } => "too_large",
            FetchError::Status { .. } => "http_status",
            FetchError::Malformed { .. } => "malformed",
            FetchError::Rpc { .. } => "rpc_error",
        }
    }

    /// Every kind, in the order the errors counter lists them.
    pub const KINDS: [&'static str; 6] = [
        "unreachable",
        "timeout",
        "too_large",
        "http_status",
        "malformed",
        "rpc_error",
    ];
}

/// Makes bounded GET requests: one timeout for the whole call, a cap on the body.
#[derive(Clone, Debug)]
pub struct Fetcher {
    agent: ureq::Agent,
    timeout: Duration,
    limit: u64,
}

impl Fetcher {
    /// A fetcher whose calls end after `timeout` and read at most `limit` bytes of body.
    pub fn new(timeout: Duration, limit: u64) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .new_agent();
        Fetcher {
            agent,
            timeout,
            limit,
        }
    }

    /// GET `url`: its status code and body.
    pub fn get(&self, url: &str) -> Result<(u16, String), FetchError> {
        let mut response = self
            .agent
            .get(url)
            .call()
            .map_err(|e| self.classify(url, e))?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(self.limit)
            .lossy_utf8(true)
            .read_to_string()
            .map_err(|e| self.classify(url, e))?;
        Ok((status, body))
    }

    /// Sorts a client error into the failures the watch reports.
    fn classify(&self, url: &str, error: ureq::Error) -> FetchError {
        let url = url.to_string();
        match error {
            ureq::Error::Timeout(_) => FetchError::Timeout {
                url,
                timeout: self.timeout,
            },
            ureq::Error::BodyExceedsLimit(_) => FetchError::TooLarge {
                url,
                limit: self.limit,
            },
            ureq::Error::Io(e)
                if matches!(e.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock) =>
            {
                FetchError::Timeout {
                    url,
                    timeout: self.timeout,
                }
            }
            ureq::Error::Io(e) => FetchError::Unreachable {
                url,
                detail: e.to_string(),
            },
            ureq::Error::ConnectionFailed | ureq::Error::HostNotFound => FetchError::Unreachable {
                url,
                detail: error.to_string(),
            },
            other => FetchError::Malformed {
                url,
                detail: other.to_string(),
            },
        }
    }
}

/// Checks that `url` is a plain `http://host[:port]…` URL and drops a trailing `/`.
pub fn check_url(flag: &str, url: &str) -> Result<String, String> {
    let trimmed = url.trim().trim_end_matches('/');
    if trimmed.starts_with("https://") {
        return Err(format!(
            "{flag} {url}: https is not supported; point it at the node's plain-HTTP listener \
             (CometBFT's default is http://127.0.0.1:26657) or an SSH tunnel to it"
        ));
    }
    match trimmed.strip_prefix("http://") {
        Some(rest) if !rest.is_empty() && !rest.starts_with('/') => Ok(trimmed.to_string()),
        _ => Err(format!(
            "{flag} {url}: expected a URL like http://127.0.0.1:26657"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_must_be_plain_http() {
        assert_eq!(
            check_url("--rpc", "http://127.0.0.1:26657/"),
            Ok("http://127.0.0.1:26657".to_string())
        );
        assert!(check_url("--rpc", "https://node:443").is_err());
        assert!(check_url("--rpc", "127.0.0.1:26657").is_err());
        assert!(check_url("--rpc", "http://").is_err());
    }
}
