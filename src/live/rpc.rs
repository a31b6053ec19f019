//! The CometBFT JSON-RPC endpoints the watch reads (`/status`, `/block`, `/commit`,
//! `/validators`, `/net_info`), in the shapes CometBFT sends them: 64-bit integers as strings,
//! times as RFC 3339 with nanoseconds, and a JSON-RPC envelope with `result` or `error`.
//!
//! Only the fields the watch needs are read; unknown fields are ignored, since nodes of
//! different versions add their own.

use super::http::{FetchError, Fetcher};
use chrono::{DateTime, Utc};
use serde::de::{self, DeserializeOwned, IgnoredAny};
use serde::{Deserialize, Deserializer};
use std::fmt;

/// Signatures in a commit whose `block_id_flag` is this did not arrive (CometBFT's
/// `BlockIDFlagAbsent`).
pub const BLOCK_ID_FLAG_ABSENT: u8 = 1;
/// A precommit for the committed block (`BlockIDFlagCommit`).
pub const BLOCK_ID_FLAG_COMMIT: u8 = 2;
/// A precommit for nil (`BlockIDFlagNil`).
pub const BLOCK_ID_FLAG_NIL: u8 = 3;

/// Validators read per `/validators` page (CometBFT's maximum), and pages at most.
const VALIDATORS_PER_PAGE: usize = 100;
const MAX_VALIDATOR_PAGES: usize = 20;

/// A client of one node's RPC.
#[derive(Clone, Debug)]
pub struct RpcClient {
    base: String,
    fetcher: Fetcher,
}

/// What `/status` says about the node and its chain.
#[derive(Clone, Debug, PartialEq)]
pub struct Status {
    /// The chain id (`node_info.network`).
    pub chain_id: String,
    /// The node's name.
    pub moniker: String,
    /// The CometBFT version.
    pub version: String,
    /// The latest height the node has committed.
    pub latest_height: u64,
    /// That block's time.
    pub latest_time: DateTime<Utc>,
    /// The node is syncing blocks from peers rather than following consensus.
    pub catching_up: bool,
}

/// One block, as far as the watch reads it.
#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    /// Its height.
    pub height: u64,
    /// Its header time (BFT time: the median of the previous commit's precommit times).
    pub time: DateTime<Utc>,
    /// Address (hex) of the validator that proposed it.
    pub proposer: String,
    /// Transactions in it.
    pub txs: u64,
    /// Hash of the validator set that signs it.
    pub validators_hash: String,
    /// The commit of the previous height carried in this block (none at the first height).
    pub last_commit: Option<Commit>,
}

/// A commit: the precommits that decided a height, in validator-set order.
#[derive(Clone, Debug, PartialEq)]
pub struct Commit {
    /// The height it commits.
    pub height: u64,
    /// The round in which that height was decided (0-based).
    pub round: u32,
    /// One entry per validator of the set.
    pub signatures: Vec<CommitSig>,
}

/// One validator's entry in a commit.
#[derive(Clone, Debug, PartialEq)]
pub struct CommitSig {
    /// `1` absent, `2` precommit for the block, `3` precommit for nil.
    pub block_id_flag: u8,
    /// The validator's address (hex; empty when absent).
    pub validator_address: String,
    /// When it signed, if it did.
    pub timestamp: Option<DateTime<Utc>>,
}

impl Commit {
    /// Entries with no signature (`block_id_flag` 1).
    pub fn absent(&self) -> usize {
        self.count(BLOCK_ID_FLAG_ABSENT)
    }

    /// Precommits for nil (`block_id_flag` 3).
    pub fn nil(&self) -> usize {
        self.count(BLOCK_ID_FLAG_NIL)
    }

    fn count(&self, flag: u8) -> usize {
        self.signatures
            .iter()
            .filter(|s| s.block_id_flag == flag)
            .count()
    }

    /// Latest minus earliest precommit time of those for the block: how far apart in time
    /// the validators precommitted, a bound on their message delays (plus clock skew).
    pub fn precommit_spread(&self) -> Option<std::time::Duration> {
        let times = self
            .signatures
            .iter()
            .filter(|s| s.block_id_flag == BLOCK_ID_FLAG_COMMIT)
            .filter_map(|s| s.timestamp);
        let (mut first, mut last) = (None::<DateTime<Utc>>, None::<DateTime<Utc>>);
        for t in times {
            first = Some(first.map_or(t, |f| f.min(t)));
            last = Some(last.map_or(t, |l| l.max(t)));
        }
        (last? - first?).to_std().ok()
    }
}

/// One member of a validator set.
#[derive(Clone, Debug, PartialEq)]
pub struct Validator {
    /// Its address (hex).
    pub address: String,
    /// Its voting power.
    pub voting_power: u64,
}

/// What `/net_info` says about the node's peers.
#[derive(Clone, Debug, PartialEq)]
pub struct NetInfo {
    /// Connected peers.
    pub peers: u64,
}

impl RpcClient {
    /// A client of the RPC at `base` (`http://host:port`, no trailing `/`).
    pub fn new(base: String, fetcher: Fetcher) -> Self {
        RpcClient { base, fetcher }
    }

    /// The RPC's base URL.
    pub fn url(&self) -> &str {
        &self.base
    }

    /// `/status`.
    pub fn status(&self) -> Result<Status, FetchError> {
        let raw: RawStatus = self.call("/status")?;
        Ok(Status {
            chain_id: raw.node_info.network,
            moniker: raw.node_info.moniker,
            version: raw.node_info.version,
            latest_height: raw.sync_info.latest_block_height,
            latest_time: raw.sync_info.latest_block_time,
            catching_up: raw.sync_info.catching_up,
        })
    }

    /// `/block?height=H`.
    pub fn block(&self, height: u64) -> Result<Block, FetchError> {
        let raw: RawBlockResult = self.call(&format!("/block?height={height}"))?;
        let block = raw.block;
        Ok(Block {
            height: block.header.height,
            time: block.header.time,
            proposer: block.header.proposer_address,
            txs: block.data.txs.map_or(0, |txs| txs.len() as u64),
            validators_hash: block.header.validators_hash,
            last_commit: block.last_commit.map(RawCommit::into_commit),
        })
    }

    /// `/commit?height=H`: the commit that decided H (its round is H's deciding round).
    pub fn commit(&self, height: u64) -> Result<Commit, FetchError> {
        let raw: RawCommitResult = self.call(&format!("/commit?height={height}"))?;
        Ok(raw.signed_header.commit.into_commit())
    }

    /// `/validators?height=H`, every page.
    pub fn validators(&self, height: u64) -> Result<Vec<Validator>, FetchError> {
        let mut validators = Vec::new();
        for page in 1..=MAX_VALIDATOR_PAGES {
            let raw: RawValidators = self.call(&format!(
                "/validators?height={height}&page={page}&per_page={VALIDATORS_PER_PAGE}"
            ))?;
            let got = raw.validators.len();
            validators.extend(raw.validators.into_iter().map(|v| Validator {
                address: v.address,
                voting_power: v.voting_power,
            }));
            let total = raw.total.unwrap_or(validators.len() as u64);
            if got == 0 || validators.len() as u64 >= total {
                break;
            }
        }
        Ok(validators)
    }

    /// `/net_info`.
    pub fn net_info(&self) -> Result<NetInfo, FetchError> {
        let raw: RawNetInfo = self.call("/net_info")?;
        Ok(NetInfo {
            peers: raw
                .n_peers
                .unwrap_or(raw.peers.map_or(0, |p| p.len() as u64)),
        })
    }

    /// GET `path` and unwrap the JSON-RPC envelope.
    fn call<T: DeserializeOwned>(&self, path: &str) -> Result<T, FetchError> {
        let url = format!("{}{path}", self.base);
        let (status, body) = self.fetcher.get(&url)?;
        unwrap_envelope(&url, status, &body)
    }
}

/// The `result` of a JSON-RPC response, or its `error` as a [`FetchError`].
pub fn unwrap_envelope<T: DeserializeOwned>(
    url: &str,
    status: u16,
    body: &str,
) -> Result<T, FetchError> {
    let envelope: Envelope<T> = match serde_json::from_str(body) {
        Ok(envelope) => envelope,
        Err(_) if status != 200 => {
            return Err(FetchError::Status {
                url: url.to_string(),
                status,
            });
        }
        Err(e) => {
            return Err(FetchError::Malformed {
                url: url.to_string(),
                detail: format!("{e}{}", excerpt(body)),
            });
        }
    };
    match (envelope.result, envelope.error) {
        (_, Some(error)) => Err(FetchError::Rpc {
            url: url.to_string(),
            code: error.code,
            message: error.message,
            data: error.data.unwrap_or_default(),
        }),
        (Some(result), None) => Ok(result),
        (None, None) if status != 200 => Err(FetchError::Status {
            url: url.to_string(),
            status,
        }),
        (None, None) => Err(FetchError::Malformed {
            url: url.to_string(),
            detail: "a JSON-RPC response with neither `result` nor `error`".to_string(),
        }),
    }
}

/// The start of a body, for an error message: `(body starts "…")`.
fn excerpt(body: &str) -> String {
    let start: String = body.chars().take(60).collect();
    if start.trim().is_empty() {
        " (empty body)".to_string()
    } else {
        format!(" (body starts {start:?})")
    }
}

// ---- the JSON shapes --------------------------------------------------------------------

#[derive(Debug, Deserialize)]
struct Envelope<T> {
    result: Option<T>,
    error: Option<RpcErrorBody>,
}

#[derive(Debug, Deserialize)]
struct RpcErrorBody {
    #[serde(deserialize_with = "integer")]
    code: i64,
    #[serde(default)]
    message: String,
    #[serde(default)]
    data: Option<String>,
}

#[derive(Debug, Deserialize)]
struct RawStatus {
    node_info: RawNodeInfo,
    sync_info: RawSyncInfo,
}

#[derive(Debug, Deserialize)]
struct RawNodeInfo {
    #[serde(default)]
    network: String,
    #[serde(default)]
    moniker: String,
    #[serde(default)]
    version: String,
}

#[derive(Debug, Deserialize)]
struct RawSyncInfo {
    #[serde(deserialize_with = "integer")]
    latest_block_height: u64,
    #[serde(deserialize_with = "rfc3339")]
    latest_block_time: DateTime<Utc>,
    catching_up: bool,
}

#[derive(Debug, Deserialize)]
struct RawBlockResult {
    block: RawBlock,
}

#[derive(Debug, Deserialize)]
struct RawBlock {
    header: RawHeader,
    data: RawData,
    #[serde(default)]
    last_commit: Option<RawCommit>,
}

#[derive(Debug, Deserialize)]
struct RawHeader {
    #[serde(deserialize_with = "integer")]
    height: u64,
    #[serde(deserialize_with = "rfc3339")]
    time: DateTime<Utc>,
    #[serde(default)]
    proposer_address: String,
    #[serde(default)]
    validators_hash: String,
}

#[derive(Debug, Deserialize)]
struct RawData {
    /// Base64 transactions; `null` in an empty block.
    #[serde(default)]
    txs: Option<Vec<IgnoredAny>>,
}

#[derive(Debug, Deserialize)]
struct RawCommitResult {
    signed_header: RawSignedHeader,
}

#[derive(Debug, Deserialize)]
struct RawSignedHeader {
    commit: RawCommit,
}

#[derive(Debug, Deserialize)]
struct RawCommit {
    #[serde(deserialize_with = "integer")]
    height: u64,
    #[serde(deserialize_with = "integer")]
    round: u32,
    #[serde(default)]
    signatures: Option<Vec<RawCommitSig>>,
}

impl RawCommit {
    fn into_commit(self) -> Commit {
        Commit {
            height: self.height,
            round: self.round,
            signatures: self
                .signatures
                .unwrap_or_default()
                .into_iter()
                .map(|s| CommitSig {
                    block_id_flag: s.block_id_flag,
                    validator_address: s.validator_address.unwrap_or_default(),
                    timestamp: s.timestamp.and_then(|t| parse_rfc3339(&t).ok()),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Deserialize)]
struct RawCommitSig {
    #[serde(deserialize_with = "block_id_flag")]
    block_id_flag: u8,
    #[serde(default)]
    validator_address: Option<String>,
    #[serde(default)]
    timestamp: Option<String>,
}

#[derive(Debug, Deserialize)]
struct RawValidators {
    validators: Vec<RawValidator>,
    #[serde(default, deserialize_with = "optional_integer")]
    total: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct RawValidator {
    address: String,
    #[serde(deserialize_with = "integer")]
    voting_power: u64,
}

#[derive(Debug, Deserialize)]
struct RawNetInfo {
    #[serde(default, deserialize_with = "optional_integer")]
    n_peers: Option<u64>,
    #[serde(default)]
    peers: Option<Vec<IgnoredAny>>,
}

// ---- CometBFT's encodings ---------------------------------------------------------------

/// An RFC 3339 time with up to nanosecond precision, as CometBFT writes block times.
pub fn parse_rfc3339(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("{text:?} is not an RFC 3339 time: {e}"))
}

fn rfc3339<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    let text = String::deserialize(d)?;
    parse_rfc3339(&text).map_err(de::Error::custom)
}

/// An integer sent as a JSON string (`"123"`, CometBFT's 64-bit integers) or a number.
fn integer<'de, D: Deserializer<'de>, T: TryFrom<i128>>(d: D) -> Result<T, D::Error> {
    let n = d.deserialize_any(IntegerVisitor)?;
    T::try_from(n).map_err(|_| de::Error::custom(format!("integer {n} out of range")))
}

fn optional_integer<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    integer(d).map(Some)
}

/// A `block_id_flag`: a number, a numeric string, or a protobuf enum name.
fn block_id_flag<'de, D: Deserializer<'de>>(d: D) -> Result<u8, D::Error> {
    struct Flag;
    impl de::Visitor<'_> for Flag {
        type Value = u8;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a block_id_flag (1 absent, 2 commit, 3 nil)")
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<u8, E> {
            u8::try_from(v).map_err(|_| E::custom(format!("block_id_flag {v} out of range")))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<u8, E> {
            u8::try_from(v).map_err(|_| E::custom(format!("block_id_flag {v} out of range")))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<u8, E> {
            match v {
                "BLOCK_ID_FLAG_UNKNOWN" => Ok(0),
                "BLOCK_ID_FLAG_ABSENT" => Ok(BLOCK_ID_FLAG_ABSENT),
                "BLOCK_ID_FLAG_COMMIT" => Ok(BLOCK_ID_FLAG_COMMIT),
                "BLOCK_ID_FLAG_NIL" => Ok(BLOCK_ID_FLAG_NIL),
                _ => v
                    .parse()
                    .map_err(|_| E::custom(format!("unknown block_id_flag {v:?}"))),
            }
        }
    }
    d.deserialize_any(Flag)
}

struct IntegerVisitor;

impl de::Visitor<'_> for IntegerVisitor {
    type Value = i128;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an integer, as a number or a decimal string")
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<i128, E> {
        Ok(i128::from(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<i128, E> {
        Ok(i128::from(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<i128, E> {
        v.trim()
            .parse()
            .map_err(|_| E::custom(format!("{v:?} is not an integer")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BLOCK: &str = r#"{"jsonrpc":"2.0","id":-1,"result":{
        "block_id":{"hash":"AB","parts":{"total":1,"hash":"CD"}},
        "block":{"header":{"version":{"block":"11","app":"0"},"chain_id":"test-chain",
          "height":"12","time":"2024-06-11T14:07:57.125195170Z","proposer_address":"3A4F",
          "validators_hash":"VH"},
          "data":{"txs":["dHgx","dHgy","dHgz"]},"evidence":{"evidence":[]},
          "last_commit":{"height":"11","round":1,"block_id":{"hash":"EF"},"signatures":[
            {"block_id_flag":2,"validator_address":"01","timestamp":"2024-06-11T14:07:56.000000001Z","signature":"c2ln"},
            {"block_id_flag":1,"validator_address":"","timestamp":"0001-01-01T00:00:00Z","signature":null},
            {"block_id_flag":3,"validator_address":"03","timestamp":"2024-06-11T14:07:56.2Z","signature":"c2ln"},
            {"block_id_flag":2,"validator_address":"04","timestamp":"2024-06-11T14:07:56.250000001Z","signature":"c2ln"}]}}}}"#;

    #[test]
    fn reads_a_block_in_cometbft_shape() {
        let raw: RawBlockResult = unwrap_envelope("u", 200, BLOCK).unwrap();
        let block = raw.block;
        assert_eq!(block.header.height, 12);
        assert_eq!(block.header.time.timestamp_subsec_nanos(), 125_195_170);
        assert_eq!(block.data.txs.map(|t| t.len()), Some(3));
        let commit = block.last_commit.unwrap().into_commit();
        assert_eq!((commit.height, commit.round), (11, 1));
        assert_eq!((commit.absent(), commit.nil()), (1, 1));
        assert_eq!(
            commit.precommit_spread(),
            Some(std::time::Duration::from_millis(250))
        );
    }

    #[test]
    fn empty_blocks_send_null_txs() {
        let body = BLOCK.replace(r#"["dHgx","dHgy","dHgz"]"#, "null");
        let raw: RawBlockResult = unwrap_envelope("u", 200, &body).unwrap();
        assert_eq!(raw.block.data.txs.map(|t| t.len()), None);
    }

    #[test]
    fn rpc_errors_and_bad_bodies_are_named() {
        let error = r#"{"jsonrpc":"2.0","id":-1,"error":{"code":-32603,"message":"Internal error","data":"height 20 must be less than or equal to the current blockchain height 12"}}"#;
        let e = unwrap_envelope::<RawStatus>("http://n/block?height=20", 500, error).unwrap_err();
        assert!(
            e.to_string()
                .contains("RPC error -32603: Internal error (height 20 must"),
            "{e}"
        );
        let e = unwrap_envelope::<RawStatus>("http://n/status", 200, "{\"result\": {").unwrap_err();
        assert_eq!(e.kind(), "malformed");
        assert!(
            e.to_string()
                .starts_with("http://n/status: malformed response: EOF"),
            "{e}"
        );
        let e = unwrap_envelope::<RawStatus>("http://n/status", 502, "<html>").unwrap_err();
        assert_eq!(
            e,
            FetchError::Status {
                url: "http://n/status".into(),
                status: 502
            }
        );
    }

    #[test]
    fn integers_come_as_strings_or_numbers() {
        #[derive(Deserialize)]
        struct N {
            #[serde(deserialize_with = "integer")]
            n: u64,
        }
        let a: N = serde_json::from_str(r#"{"n":"18446744073709551615"}"#).unwrap();
        let b: N = serde_json::from_str(r#"{"n":7}"#).unwrap();
        assert_eq!((a.n, b.n), (u64::MAX, 7));
        assert!(serde_json::from_str::<N>(r#"{"n":"-1"}"#).is_err());
        assert!(serde_json::from_str::<N>(r#"{"n":"x"}"#).is_err());
    }
}
