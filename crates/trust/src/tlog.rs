//! Offline proof that a transparency log holds an entry: the RFC 6962 Merkle inclusion proof
//! from the entry's leaf to a root hash, and the log's checkpoint (a signed note, C2SP
//! `signed-note` / `tlog-checkpoint`) that commits to that root hash and tree size with the key
//! the trusted root names for the log.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest as _, Sha256};

use crate::keys::Hash;
use crate::root::TransparencyLog;

/// Most hashes an inclusion proof may hold (a tree of 2^64 leaves needs 64).
const MAX_PROOF_HASHES: usize = 64;
/// Largest checkpoint read.
const MAX_CHECKPOINT_BYTES: usize = 16 << 10;

/// An inclusion proof as a sigstore bundle carries it.
#[derive(Debug, Clone)]
pub(crate) struct InclusionProof {
    /// The entry's index in the (shard's) tree.
    pub(crate) index: u64,
    /// The tree's size the proof is for.
    pub(crate) tree_size: u64,
    /// The root hash the proof leads to.
    pub(crate) root_hash: Vec<u8>,
    /// The sibling hashes, leaf to root.
    pub(crate) hashes: Vec<Vec<u8>>,
    /// The log's signed checkpoint for `tree_size` and `root_hash`.
    pub(crate) checkpoint: String,
}

/// RFC 6962 hash of a leaf.
fn leaf_hash(leaf: &[u8]) -> [u8; 32] {
    Sha256::new().chain_update([0u8]).chain_update(leaf).finalize().into()
}

/// RFC 6962 hash of an inner node.
fn node_hash(left: &[u8], right: &[u8]) -> [u8; 32] {
    Sha256::new().chain_update([1u8]).chain_update(left).chain_update(right).finalize().into()
}

impl InclusionProof {
    /// Checks that `leaf` (the canonical entry body) is at `index` of the tree the proof names,
    /// and that the log (`log`) signed a checkpoint for exactly that tree.
    pub(crate) fn check(&self, leaf: &[u8], log: &TransparencyLog) -> Result<(), String> {
        if self.index >= self.tree_size {
            return Err(format!(
                "the inclusion proof's index {} is outside its tree of {}",
                self.index, self.tree_size
            ));
        }
        if self.hashes.len() > MAX_PROOF_HASHES || self.hashes.iter().any(|hash| hash.len() != 32) {
            return Err("the inclusion proof's hashes are malformed".into());
        }
        // The proof's shape (transparency-dev's decomposition): `inner` hashes on the path below
        // the point where the index and the last leaf part, then `border` hashes to the right.
        let inner = (u64::BITS - (self.index ^ (self.tree_size - 1)).leading_zeros()) as usize;
        let border = (self.index >> inner).count_ones() as usize;
        if self.hashes.len() != inner + border {
            return Err(format!(
                "the inclusion proof holds {} hashes where a tree of {} needs {}",
                self.hashes.len(),
                self.tree_size,
                inner + border
            ));
        }
        let mut hash = leaf_hash(leaf);
        for (level, sibling) in self.hashes[..inner].iter().enumerate() {
            hash = if (self.index >> level) & 1 == 0 { node_hash(&hash, sibling) } else { node_hash(sibling, &hash) };
        }
        for sibling in &self.hashes[inner..] {
            hash = node_hash(sibling, &hash);
        }
        if hash.as_slice() != self.root_hash.as_slice() {
            return Err("the inclusion proof does not lead to its root hash (the entry is not in that tree)".into());
        }
        let checkpoint = Checkpoint::parse(&self.checkpoint)?;
        if checkpoint.size != self.tree_size || checkpoint.root_hash != self.root_hash {
            return Err("the log's checkpoint is for another tree than the inclusion proof".into());
        }
        checkpoint.signed_by(log)
    }
}

/// A checkpoint: the log's origin, tree size and root hash, and the signatures under them.
struct Checkpoint<'a> {
    /// The signed text: every line up to the blank line, each with its newline.
    signed: &'a str,
    size: u64,
    root_hash: Vec<u8>,
    /// `(key name, base64 of key hint and signature)` per signature line.
    signatures: Vec<(&'a str, &'a str)>,
}

impl<'a> Checkpoint<'a> {
    fn parse(text: &'a str) -> Result<Checkpoint<'a>, String> {
        if text.len() > MAX_CHECKPOINT_BYTES {
            return Err("the log's checkpoint is too large".into());
        }
        let Some(split) = text.find("\n\n") else {
            return Err("the log's checkpoint is not a signed note".into());
        };
        let signed = &text[..=split];
        let mut lines = signed.lines();
        let origin = lines.next().unwrap_or_default();
        if origin.trim().is_empty() {
            return Err("the log's checkpoint names no origin".into());
        }
        let size = lines
            .next()
            .and_then(|line| line.parse::<u64>().ok())
            .ok_or_else(|| "the log's checkpoint has no tree size".to_owned())?;
        let root_hash = lines
            .next()
            .and_then(|line| STANDARD.decode(line).ok())
            .filter(|hash| hash.len() == 32)
            .ok_or_else(|| "the log's checkpoint has no root hash".to_owned())?;
        let signatures = text[split + 2..]
            .lines()
            .filter_map(|line| line.strip_prefix("\u{2014} "))
            .filter_map(|line| line.rsplit_once(' '))
            .collect();
        Ok(Checkpoint { signed, size, root_hash, signatures })
    }

    /// Whether one of the note's signatures is the log's: its key hint is the first four bytes
    /// of the log's id and the log's key made it over the signed text.
    fn signed_by(&self, log: &TransparencyLog) -> Result<(), String> {
        let hint = log.log_id.get(..4).unwrap_or_default();
        let origin = self.signed.lines().next().unwrap_or_default();
        let verified = self.signatures.iter().any(|(name, signature)| {
            let Ok(bytes) = STANDARD.decode(signature) else { return false };
            let from_origin = origin == *name || origin.starts_with(&format!("{name} - "));
            from_origin
                && bytes.len() > 4
                && &bytes[..4] == hint
                && log.key.verifies_with(Hash::Sha256, self.signed.as_bytes(), &bytes[4..])
        });
        if verified { Ok(()) } else { Err("the log did not sign the checkpoint of its inclusion proof".into()) }
    }
}
