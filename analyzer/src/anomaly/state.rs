//! The learned state: [`AnomalyState`] (serde), snapshot and restore, and the state file.
//!
//! # File format
//!
//! `SENANOM\0` (8 bytes), the format version (u32 little-endian, [`STATE_VERSION`]), the
//! payload length (u64 LE), the CRC-32C of the payload (u32 LE), then the payload: the state
//! in postcard. [`AnomalyDetector::save`] writes a temporary file beside the target, syncs it,
//! renames it over the target and syncs the directory, so a crash leaves the old file or the
//! new one, never a mix. [`AnomalyDetector::load`] refuses a file with another magic, version,
//! length or checksum with a [`StateFileError`] naming the file and the reason, moves it aside
//! (`<name>.corrupt`) for inspection and starts fresh; the caller logs the error and goes on.

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{AnomalyDetector, AnomalyError, IdMap, first_seen, rare, volume};

/// Version of [`AnomalyState`] and of the state file.
pub const STATE_VERSION: u32 = 1;

const MAGIC: &[u8; 8] = b"SENANOM\0";
const HEADER_LEN: usize = 8 + 4 + 8 + 4;
/// Largest state file read (a sanity bound; real states are far smaller).
const MAX_FILE_BYTES: u64 = 4 << 30;

/// The learned baselines of an [`AnomalyDetector`], to persist across restarts.
///
/// Opaque but serde-serializable; [`AnomalyDetector::save`] / [`AnomalyDetector::load`] handle
/// a file for you.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnomalyState {
    /// Format version ([`STATE_VERSION`]).
    pub version: u32,
    first_seen: Vec<RuleState<first_seen::EntityState>>,
    rare: Vec<RuleState<rare::ScopeState>>,
    volume: Vec<RuleState<volume::Series>>,
}

impl AnomalyState {
    /// Entities, scopes and series held, over all rules.
    pub fn entries(&self) -> usize {
        self.first_seen.iter().map(|r| r.entries.len()).sum::<usize>()
            + self.rare.iter().map(|r| r.entries.len()).sum::<usize>()
            + self.volume.iter().map(|r| r.entries.len()).sum::<usize>()
    }

    /// Names of the rules with state, as `detector:name`.
    pub fn rules(&self) -> Vec<String> {
        let mut out: Vec<String> =
            self.first_seen.iter().map(|r| format!("first_seen:{}", r.name)).collect();
        out.extend(self.rare.iter().map(|r| format!("rare:{}", r.name)));
        out.extend(self.volume.iter().map(|r| format!("volume:{}", r.name)));
        out
    }
}

/// One rule's entries, sorted by key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct RuleState<T> {
    name: String,
    signature: u64,
    entries: Vec<(u64, T)>,
}

/// What [`AnomalyDetector::restore`] loaded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RestoreSummary {
    /// Rules whose state was loaded.
    pub rules_restored: usize,
    /// Rule states dropped (`detector:name`): no active rule of that name, or its key fields
    /// (or bucket length) changed.
    pub rules_dropped: Vec<String>,
    /// Entries loaded.
    pub entries: u64,
    /// Entries dropped to fit smaller caps.
    pub entries_evicted: u64,
}

/// What [`AnomalyDetector::load`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadOutcome {
    /// No state file: the detector starts fresh.
    NoFile,
    /// The state was restored.
    Restored(RestoreSummary),
}

/// A state file that cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StateFileError {
    /// An I/O error.
    #[error("anomaly state file {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// Not a valid state file (it was moved to `moved_to` when that worked).
    #[error("anomaly state file {} is corrupt ({reason}){}; starting with empty baselines",
        path.display(), moved_to.as_ref().map(|p| format!(", moved to {}", p.display())).unwrap_or_default())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
        /// Where the file was moved.
        moved_to: Option<PathBuf>,
    },
    /// A state file of another version.
    #[error("anomaly state file {} has version {found}, this sen reads version {expected}{}; \
             starting with empty baselines",
        path.display(), moved_to.as_ref().map(|p| format!(" (moved to {})", p.display())).unwrap_or_default())]
    UnsupportedVersion {
        /// The file.
        path: PathBuf,
        /// Its version.
        found: u32,
        /// The version read.
        expected: u32,
        /// Where the file was moved.
        moved_to: Option<PathBuf>,
    },
}

fn sorted<V, T>(map: &IdMap<V>, f: impl Fn(&V) -> T) -> Vec<(u64, T)> {
    let mut v: Vec<(u64, T)> = map.iter().map(|(k, e)| (*k, f(e))).collect();
    v.sort_unstable_by_key(|(k, _)| *k);
    v
}

impl AnomalyDetector {
    /// The learned state (a copy; the detector goes on).
    pub fn snapshot(&self) -> AnomalyState {
        AnomalyState {
            version: STATE_VERSION,
            first_seen: self
                .first_seen
                .iter()
                .map(|r| RuleState {
                    name: r.common.name.clone(),
                    signature: r.common.signature,
                    entries: sorted(r.entities(), first_seen::Entity::to_state),
                })
                .collect(),
            rare: self
                .rare
                .iter()
                .map(|r| RuleState {
                    name: r.common.name.clone(),
                    signature: r.common.signature,
                    entries: sorted(&r.scopes, rare::Scope::to_state),
                })
                .collect(),
            volume: self
                .volume
                .rules
                .iter()
                .map(|r| RuleState {
                    name: r.common.name.clone(),
                    signature: r.common.signature,
                    entries: sorted(&r.series, |s| *s),
                })
                .collect(),
        }
    }

    /// Replace the learned state with `state`. Each rule's state goes to the active rule of
    /// the same detector, name and key fields; the others are dropped and listed. Entries
    /// beyond the current caps are evicted, stalest first. Counters are not touched, except
    /// `restored_entries` and `restore_dropped_rules`.
    pub fn restore(&mut self, state: AnomalyState) -> Result<RestoreSummary, AnomalyError> {
        if state.version != STATE_VERSION {
            return Err(AnomalyError::StateVersion {
                found: state.version,
                expected: STATE_VERSION,
            });
        }
        self.clear();
        let mut sum = RestoreSummary::default();

        for rs in state.first_seen {
            let Some(r) = self
                .first_seen
                .iter_mut()
                .find(|r| r.common.name == rs.name && r.common.signature == rs.signature)
            else {
                sum.rules_dropped.push(format!("first_seen:{}", rs.name));
                continue;
            };
            sum.rules_restored += 1;
            sum.entries += rs.entries.len() as u64;
            sum.entries_evicted += r.restore(rs.entries);
        }
        for rs in state.rare {
            let Some(r) = self
                .rare
                .iter_mut()
                .find(|r| r.common.name == rs.name && r.common.signature == rs.signature)
            else {
                sum.rules_dropped.push(format!("rare:{}", rs.name));
                continue;
            };
            sum.rules_restored += 1;
            sum.entries += rs.entries.len() as u64;
            let max_values = r.max_values();
            r.scopes = rs
                .entries
                .into_iter()
                .map(|(k, s)| (k, rare::Scope::from_state(s, max_values)))
                .collect();
            let cap = r.max_scopes();
            sum.entries_evicted += fit(&mut r.scopes, cap, rare::Scope::last);
        }
        for rs in state.volume {
            let Some(i) = self
                .volume
                .rules
                .iter()
                .position(|r| r.common.name == rs.name && r.common.signature == rs.signature)
            else {
                sum.rules_dropped.push(format!("volume:{}", rs.name));
                continue;
            };
            sum.rules_restored += 1;
            sum.entries += rs.entries.len() as u64;
            let mut series: IdMap<volume::Series> = IdMap::default();
            for (k, mut s) in rs.entries {
                self.volume.prepare(i, &mut s);
                series.insert(k, s);
            }
            let cap = self.volume.params.max_series();
            sum.entries_evicted += fit(&mut series, cap, volume::Series::last);
            self.volume.rules[i].series = series;
        }
        sum.entries -= sum.entries_evicted.min(sum.entries);
        self.stats.restored_entries += sum.entries;
        self.stats.restore_dropped_rules += sum.rules_dropped.len() as u64;
        Ok(sum)
    }

    /// Forget every baseline (counters stay).
    pub fn clear(&mut self) {
        for r in &mut self.first_seen {
            r.clear();
        }
        for r in &mut self.rare {
            r.scopes.clear();
        }
        for r in &mut self.volume.rules {
            r.series.clear();
        }
    }

    /// Write [`AnomalyDetector::snapshot`] to `path` atomically (see the
    /// [state file](crate::anomaly#state)). Returns the bytes written.
    pub fn save(&self, path: &Path) -> Result<u64, StateFileError> {
        write_state_file(path, &self.snapshot())
    }

    /// Replace the learned state with the one saved at `path` (with empty baselines when
    /// there is none: [`LoadOutcome::NoFile`]). An
    /// unreadable, corrupt or other-version file is an error (counted in
    /// `state_file_errors`; a corrupt or other-version file is moved aside), and the detector
    /// is left with empty baselines: log it and go on.
    pub fn load(&mut self, path: &Path) -> Result<LoadOutcome, StateFileError> {
        self.clear();
        match read_state_file(path) {
            Ok(None) => Ok(LoadOutcome::NoFile),
            Ok(Some(state)) => match self.restore(state) {
                Ok(sum) => Ok(LoadOutcome::Restored(sum)),
                Err(AnomalyError::StateVersion { found, expected }) => {
                    self.stats.state_file_errors += 1;
                    Err(StateFileError::UnsupportedVersion {
                        path: path.to_owned(),
                        found,
                        expected,
                        moved_to: move_aside(path),
                    })
                }
                Err(e) => {
                    self.stats.state_file_errors += 1;
                    Err(StateFileError::Corrupt {
                        path: path.to_owned(),
                        reason: e.to_string(),
                        moved_to: move_aside(path),
                    })
                }
            },
            Err(e) => {
                self.stats.state_file_errors += 1;
                Err(match e {
                    StateFileError::Corrupt { path, reason, .. } => {
                        let moved_to = move_aside(&path);
                        StateFileError::Corrupt { path, reason, moved_to }
                    }
                    StateFileError::UnsupportedVersion { path, found, expected, .. } => {
                        let moved_to = move_aside(&path);
                        StateFileError::UnsupportedVersion { path, found, expected, moved_to }
                    }
                    io @ StateFileError::Io { .. } => io,
                })
            }
        }
    }
}

/// Evict the stalest entries beyond `cap`; returns how many.
pub(crate) fn fit<V>(map: &mut IdMap<V>, cap: usize, last: impl Fn(&V) -> i64) -> u64 {
    let mut n = 0;
    while map.len() > cap {
        let before = map.len();
        let excess = map.len() - cap;
        let mut order: Vec<(i64, u64)> = map.iter().map(|(k, v)| (last(v), *k)).collect();
        order.select_nth_unstable(excess - 1);
        for (_, k) in &order[..excess] {
            map.remove(k);
        }
        n += (before - map.len()) as u64;
    }
    n
}

/// Move a bad state file to `<name>.corrupt` (best effort).
fn move_aside(path: &Path) -> Option<PathBuf> {
    let mut name = path.file_name()?.to_os_string();
    name.push(".corrupt");
    let to = path.with_file_name(name);
    fs::rename(path, &to).ok().map(|_| to)
}

/// Write `state` to `path` atomically: temporary file, fsync, rename, directory fsync.
pub fn write_state_file(path: &Path, state: &AnomalyState) -> Result<u64, StateFileError> {
    let io_err = |source| StateFileError::Io { path: path.to_owned(), source };
    let payload = postcard::to_allocvec(state)
        .map_err(|e| io_err(io::Error::other(format!("cannot encode the state: {e}"))))?;
    let mut bytes = Vec::with_capacity(HEADER_LEN + payload.len());
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&state.version.to_le_bytes());
    bytes.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&crc32c::crc32c(&payload).to_le_bytes());
    bytes.extend_from_slice(&payload);

    sen_core::fsutil::write_atomic(path, &bytes).map_err(io_err)?;
    Ok(bytes.len() as u64)
}

/// Read a state file; `Ok(None)` when there is none.
pub fn read_state_file(path: &Path) -> Result<Option<AnomalyState>, StateFileError> {
    let corrupt =
        |reason: String| StateFileError::Corrupt { path: path.to_owned(), reason, moved_to: None };
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(StateFileError::Io { path: path.to_owned(), source }),
    };
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| StateFileError::Io { path: path.to_owned(), source })?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(corrupt(format!("larger than {MAX_FILE_BYTES} bytes")));
    }
    if bytes.len() < HEADER_LEN || &bytes[..8] != MAGIC {
        return Err(corrupt("not a Sen anomaly state file (bad header)".into()));
    }
    let word =
        |at: usize| u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    let version = word(8);
    if version != STATE_VERSION {
        return Err(StateFileError::UnsupportedVersion {
            path: path.to_owned(),
            found: version,
            expected: STATE_VERSION,
            moved_to: None,
        });
    }
    let mut len = [0u8; 8];
    len.copy_from_slice(&bytes[12..20]);
    let len = u64::from_le_bytes(len);
    let crc = word(20);
    let payload = &bytes[HEADER_LEN..];
    if payload.len() as u64 != len {
        return Err(corrupt(format!(
            "truncated or padded: header says {len} payload bytes, found {}",
            payload.len()
        )));
    }
    if crc32c::crc32c(payload) != crc {
        return Err(corrupt("checksum mismatch".into()));
    }
    let state: AnomalyState =
        postcard::from_bytes(payload).map_err(|e| corrupt(format!("cannot decode: {e}")))?;
    if state.version != version {
        return Err(corrupt(format!(
            "payload version {} differs from header version {version}",
            state.version
        )));
    }
    Ok(Some(state))
}
